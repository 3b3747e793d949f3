//! Typed reading of a command's positional AMF0 arguments.
//!
//! A command body is a list of values (spec 7.1.1): name, transaction id,
//! command object, then command-specific arguments. [`Args`] walks that list
//! by position and turns "absent" and "wrong type" into the two
//! [`CommandError`] variants, so each command's decoder reads like its
//! layout in spec 7.2.

use std::vec::IntoIter;

use super::CommandError;
use crate::amf0::Amf0Value;

/// Positional cursor over a command's values, past its name.
pub(super) struct Args {
    command: &'static str,
    values: IntoIter<Amf0Value>,
    /// Index in the body of the next value (0 is the name).
    index: usize,
}

impl Args {
    /// Reads `values` (name already removed) for the command `command`.
    pub(super) fn new(command: &'static str, values: Vec<Amf0Value>) -> Self {
        Self {
            command,
            values: values.into_iter(),
            index: 1,
        }
    }

    fn next(&mut self) -> (usize, Option<Amf0Value>) {
        let index = self.index;
        self.index = self.index.saturating_add(1);
        (index, self.values.next())
    }

    fn invalid(&self, index: usize, what: &'static str) -> CommandError {
        CommandError::InvalidArgument {
            command: self.command,
            index,
            what,
        }
    }

    fn missing(&self, index: usize, what: &'static str) -> CommandError {
        CommandError::MissingArgument {
            command: self.command,
            index,
            what,
        }
    }

    /// The transaction id. Lenient: absent or not a number reads as 0, which
    /// is what spec 7.2 uses for calls that expect no answer.
    pub(super) fn transaction_id(&mut self) -> f64 {
        match self.next().1 {
            Some(Amf0Value::Number(n)) if n.is_finite() => n,
            _ => 0.0,
        }
    }

    /// Any value (the command object, usually null), or `None` when absent.
    pub(super) fn any(&mut self) -> Option<Amf0Value> {
        self.next().1
    }

    /// A required object-like value (object, ECMA array or typed object).
    pub(super) fn object(&mut self, what: &'static str) -> Result<Amf0Value, CommandError> {
        match self.next() {
            (_, Some(v)) if v.properties().is_some() => Ok(v),
            (i, Some(_)) => Err(self.invalid(i, what)),
            (i, None) => Err(self.missing(i, what)),
        }
    }

    /// A required string.
    pub(super) fn string(&mut self, what: &'static str) -> Result<String, CommandError> {
        match self.opt_string(what)? {
            Some(s) => Ok(s),
            None => Err(self.missing(self.index.saturating_sub(1), what)),
        }
    }

    /// An optional string: absent, null or undefined give `None`.
    pub(super) fn opt_string(
        &mut self,
        what: &'static str,
    ) -> Result<Option<String>, CommandError> {
        match self.next() {
            (_, None | Some(Amf0Value::Null | Amf0Value::Undefined)) => Ok(None),
            (_, Some(Amf0Value::String(s) | Amf0Value::LongString(s))) => Ok(Some(s)),
            (i, Some(_)) => Err(self.invalid(i, what)),
        }
    }

    /// A required number.
    pub(super) fn number(&mut self, what: &'static str) -> Result<f64, CommandError> {
        match self.opt_number(what)? {
            Some(n) => Ok(n),
            None => Err(self.missing(self.index.saturating_sub(1), what)),
        }
    }

    /// An optional finite number: absent, null or undefined give `None`.
    pub(super) fn opt_number(&mut self, what: &'static str) -> Result<Option<f64>, CommandError> {
        match self.next() {
            (_, None | Some(Amf0Value::Null | Amf0Value::Undefined)) => Ok(None),
            (_, Some(Amf0Value::Number(n))) if n.is_finite() => Ok(Some(n)),
            (i, Some(_)) => Err(self.invalid(i, what)),
        }
    }

    /// A required message stream id: a whole number in `0..=u32::MAX`.
    pub(super) fn stream_id(&mut self, what: &'static str) -> Result<u32, CommandError> {
        let n = self.number(what)?;
        let index = self.index.saturating_sub(1);
        f64_to_u32(n).ok_or_else(|| self.invalid(index, what))
    }

    /// An optional boolean. Some encoders send 0/1 numbers for flags, so a
    /// number reads as "not zero".
    pub(super) fn opt_bool(&mut self, what: &'static str) -> Result<Option<bool>, CommandError> {
        match self.next() {
            (_, None | Some(Amf0Value::Null | Amf0Value::Undefined)) => Ok(None),
            (_, Some(Amf0Value::Boolean(b))) => Ok(Some(b)),
            (_, Some(Amf0Value::Number(n))) => Ok(Some(n != 0.0)),
            (i, Some(_)) => Err(self.invalid(i, what)),
        }
    }

    /// Every value not read yet.
    pub(super) fn rest(self) -> Vec<Amf0Value> {
        self.values.collect()
    }
}

/// `n` as a u32 if it is a whole number in range.
pub(crate) fn f64_to_u32(n: f64) -> Option<u32> {
    if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) {
        // In range and whole, so the conversion is exact.
        Some(n as u32)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_must_be_whole_and_in_range() {
        assert_eq!(f64_to_u32(1.0), Some(1));
        assert_eq!(f64_to_u32(4_294_967_295.0), Some(u32::MAX));
        assert_eq!(f64_to_u32(4_294_967_296.0), None);
        assert_eq!(f64_to_u32(-1.0), None);
        assert_eq!(f64_to_u32(1.5), None);
        assert_eq!(f64_to_u32(f64::NAN), None);
        assert_eq!(f64_to_u32(f64::INFINITY), None);
    }

    #[test]
    fn absent_and_wrong_types_are_told_apart() {
        let mut a = Args::new("play", vec![Amf0Value::Number(1.0), Amf0Value::Null]);
        assert_eq!(a.transaction_id(), 1.0);
        assert_eq!(
            a.string("name"),
            Err(CommandError::MissingArgument {
                command: "play",
                index: 2,
                what: "name"
            })
        );
        let mut a = Args::new("play", vec![Amf0Value::Boolean(true)]);
        assert_eq!(
            a.number("start"),
            Err(CommandError::InvalidArgument {
                command: "play",
                index: 1,
                what: "start"
            })
        );
        let mut a = Args::new("x", vec![Amf0Value::String("t".into())]);
        assert_eq!(a.transaction_id(), 0.0);
        assert_eq!(a.opt_bool("flag"), Ok(None));
    }
}
