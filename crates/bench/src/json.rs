//! A minimal JSON writer (RFC 8259) for the `--json` report: a handful of
//! objects of numbers and strings do not need a serialisation framework.

use std::fmt::Write;

/// `s` as a JSON string literal, quotes included (RFC 8259 7).
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A number; JSON has no NaN or infinity, so those become `null`.
/// Three decimals are plenty for milliseconds, seconds and kbit/s.
pub fn number(x: f64) -> String {
    if !x.is_finite() {
        return "null".to_owned();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Builds one JSON object, members in insertion order.
#[derive(Debug, Clone)]
pub struct Object {
    buf: String,
}

impl Default for Object {
    fn default() -> Self {
        Self::new()
    }
}

impl Object {
    /// `{`.
    pub fn new() -> Self {
        Self {
            buf: String::from("{"),
        }
    }

    /// Adds a member whose value is already JSON.
    pub fn raw(mut self, key: &str, json: &str) -> Self {
        if self.buf.len() > 1 {
            self.buf.push(',');
        }
        self.buf.push_str(&string(key));
        self.buf.push(':');
        self.buf.push_str(json);
        self
    }

    /// Adds a string member.
    pub fn str(self, key: &str, value: &str) -> Self {
        self.raw(key, &string(value))
    }

    /// Adds a number member.
    pub fn num(self, key: &str, value: f64) -> Self {
        self.raw(key, &number(value))
    }

    /// Adds an integer member.
    pub fn int(self, key: &str, value: u64) -> Self {
        self.raw(key, &value.to_string())
    }

    /// Adds a number member, `null` when absent.
    pub fn opt_num(self, key: &str, value: Option<f64>) -> Self {
        match value {
            Some(v) => self.num(key, v),
            None => self.raw(key, "null"),
        }
    }

    /// Adds a string member, `null` when absent.
    pub fn opt_str(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.str(key, v),
            None => self.raw(key, "null"),
        }
    }

    /// `}`.
    pub fn finish(mut self) -> String {
        self.buf.push('}');
        self.buf
    }
}

/// `[a,b,...]` from already-JSON items.
pub fn array(items: impl IntoIterator<Item = String>) -> String {
    let mut out = String::from("[");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&item);
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_numbers() {
        assert_eq!(string("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\u0001é\"");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(1.23456), "1.235");
        assert_eq!(number(f64::NAN), "null");
        assert_eq!(number(-0.5), "-0.5");
    }

    #[test]
    fn object_and_array() {
        let o = Object::new()
            .str("s", "x")
            .int("i", 7)
            .opt_num("n", None)
            .raw("a", &array(["1".to_owned(), "2".to_owned()]))
            .finish();
        assert_eq!(o, r#"{"s":"x","i":7,"n":null,"a":[1,2]}"#);
        assert_eq!(Object::new().finish(), "{}");
    }
}
