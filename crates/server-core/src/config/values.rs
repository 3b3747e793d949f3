//! Value parsers: on/off, bounded numbers, durations, listen addresses.
//!
//! Stricter than SRS, which reads numbers with `atoi` (so `10s` is 10 and
//! `abc` is 0) and treats anything but `on` as off: here a value is exactly
//! what the directive documents, or an error naming file, line and directive.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::error::{ConfigError, ConfigErrorKind};
use super::parser::Directive;

/// A simple directive's single value.
pub(crate) fn one(d: &Directive) -> Result<&str, ConfigError> {
    no_block(d)?;
    match d.args.as_slice() {
        [v] => Ok(v),
        other => Err(d.error(ConfigErrorKind::ArgCount {
            directive: d.name.clone(),
            expected: "exactly one value",
            got: other.len(),
        })),
    }
}

/// A simple directive's values, at least one.
pub(crate) fn some(d: &Directive) -> Result<&[String], ConfigError> {
    no_block(d)?;
    if d.args.is_empty() {
        return Err(d.error(ConfigErrorKind::ArgCount {
            directive: d.name.clone(),
            expected: "one or more values",
            got: 0,
        }));
    }
    Ok(&d.args)
}

/// Refuses `name { ... }` for a simple directive.
pub(crate) fn no_block(d: &Directive) -> Result<(), ConfigError> {
    if d.block.is_some() {
        return Err(d.error(ConfigErrorKind::NoBlock(d.name.clone())));
    }
    Ok(())
}

/// A block directive's children, refusing values before the block unless `args` allows.
pub(crate) fn block(d: &Directive, args: usize) -> Result<&[Directive], ConfigError> {
    let Some(children) = &d.block else {
        return Err(d.error(ConfigErrorKind::NeedsBlock(d.name.clone())));
    };
    if d.args.len() != args {
        return Err(d.error(ConfigErrorKind::ArgCount {
            directive: d.name.clone(),
            expected: if args == 0 {
                "no value before its block"
            } else {
                "exactly one value before its block"
            },
            got: d.args.len(),
        }));
    }
    Ok(children)
}

pub(crate) fn bad(d: &Directive, value: &str, expected: impl Into<String>) -> ConfigError {
    d.error(ConfigErrorKind::BadValue {
        directive: d.name.clone(),
        value: value.to_owned(),
        expected: expected.into(),
    })
}

/// `on` or `off`.
pub(crate) fn on_off(d: &Directive) -> Result<bool, ConfigError> {
    match one(d)? {
        "on" => Ok(true),
        "off" => Ok(false),
        v => Err(bad(d, v, "on or off")),
    }
}

/// A decimal integer in `min..=max`.
pub(crate) fn integer(d: &Directive, min: u64, max: u64) -> Result<u64, ConfigError> {
    let v = one(d)?;
    let expected = || format!("an integer from {min} to {max}");
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(d, v, expected()));
    }
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(bad(d, v, expected())),
    }
}

/// [`integer`] as `u32` (`max` must fit).
pub(crate) fn integer_u32(d: &Directive, min: u32, max: u32) -> Result<u32, ConfigError> {
    let n = integer(d, u64::from(min), u64::from(max))?;
    u32::try_from(n).map_err(|_| bad(d, &n.to_string(), "a smaller number"))
}

/// A decimal number (`10`, `1.5`) in `min..=max`.
pub(crate) fn number(d: &Directive, min: f64, max: f64) -> Result<f64, ConfigError> {
    let v = one(d)?;
    let plain = !v.is_empty()
        && v.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && v.bytes().filter(|&b| b == b'.').count() <= 1
        && v.bytes().any(|b| b.is_ascii_digit());
    match v.parse::<f64>() {
        Ok(n) if plain && n.is_finite() && n >= min && n <= max => Ok(n),
        _ => Err(bad(d, v, format!("a number from {min} to {max}"))),
    }
}

/// Seconds, fractions allowed, in `min..=max`.
pub(crate) fn seconds(d: &Directive, min: f64, max: f64) -> Result<Duration, ConfigError> {
    let n = number(d, min, max)?;
    Duration::try_from_secs_f64(n).map_err(|_| bad(d, &n.to_string(), "a duration in seconds"))
}

/// Whole milliseconds in `min..=max`.
pub(crate) fn millis(d: &Directive, min: u64, max: u64) -> Result<Duration, ConfigError> {
    integer(d, min, max).map(Duration::from_millis)
}

/// A non-empty value.
pub(crate) fn text(d: &Directive) -> Result<String, ConfigError> {
    let v = one(d)?;
    if v.is_empty() {
        return Err(bad(d, v, "a non-empty value"));
    }
    Ok(v.to_owned())
}

/// Listen addresses: `PORT` (all IPv4 interfaces, as SRS), `IPv4:PORT` or
/// `[IPv6]:PORT`. Host names are refused: the config does no DNS.
pub(crate) fn endpoints(d: &Directive) -> Result<Vec<SocketAddr>, ConfigError> {
    some(d)?
        .iter()
        .map(|v| endpoint(v).ok_or_else(|| bad(d, v, "PORT, IPv4:PORT or [IPv6]:PORT")))
        .collect()
}

/// One listen address; see [`endpoints`].
pub(crate) fn endpoint(v: &str) -> Option<SocketAddr> {
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        let port = v.parse::<u16>().ok()?;
        return Some(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)));
    }
    v.parse::<SocketAddr>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;
    use std::sync::Arc;

    fn d(name: &str, args: &[&str]) -> Directive {
        Directive {
            name: name.to_owned(),
            args: args.iter().map(|s| s.to_string()).collect(),
            block: None,
            file: Arc::from("x.conf"),
            line: 7,
        }
    }

    #[test]
    fn endpoints_v4_v6_and_ports() {
        assert_eq!(
            endpoint("1935"),
            Some(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 1935)))
        );
        assert_eq!(
            endpoint("127.0.0.1:19350"),
            Some(SocketAddr::from(([127, 0, 0, 1], 19350)))
        );
        assert_eq!(
            endpoint("[::]:1935"),
            Some(SocketAddr::from((Ipv6Addr::UNSPECIFIED, 1935)))
        );
        assert_eq!(
            endpoint("[::1]:80"),
            Some(SocketAddr::from((Ipv6Addr::LOCALHOST, 80)))
        );
        for bad in [
            "",
            "65536",
            "-1",
            "+1935",
            "localhost:1935",
            "::1:1935",
            "1.2.3.4",
            "[::1]",
            "1935 ",
        ] {
            assert_eq!(endpoint(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_are_strict_and_bounded() {
        assert_eq!(integer(&d("n", &["10"]), 1, 10).unwrap(), 10);
        let e = integer(&d("n", &["11"]), 1, 10).unwrap_err().to_string();
        assert_eq!(
            e,
            "x.conf:7: invalid value '11' for 'n': expected an integer from 1 to 10"
        );
        assert!(integer(&d("n", &["10s"]), 0, 100).is_err());
        assert!(integer(&d("n", &["99999999999999999999999"]), 0, u64::MAX).is_err());
        assert_eq!(number(&d("r", &["1.5"]), 1.0, 2.0).unwrap(), 1.5);
        for v in ["nan", "inf", "-1", "1e3", ".", "1.2.3", ""] {
            assert!(number(&d("r", &[v]), -10.0, 1e9).is_err(), "{v}");
        }
        assert_eq!(
            seconds(&d("s", &["0.5"]), 0.0, 10.0).unwrap(),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn arg_counts_and_blocks() {
        let e = one(&d("a", &[])).unwrap_err().to_string();
        assert_eq!(e, "x.conf:7: directive 'a' takes exactly one value, got 0");
        assert!(one(&d("a", &["1", "2"])).is_err());
        let mut with_block = d("a", &["1"]);
        with_block.block = Some(vec![]);
        assert!(one(&with_block)
            .unwrap_err()
            .to_string()
            .contains("does not take a block"));
        assert!(block(&d("a", &[]), 0)
            .unwrap_err()
            .to_string()
            .contains("needs a block"));
        assert!(on_off(&d("x", &["on"])).unwrap());
        assert!(!on_off(&d("x", &["off"])).unwrap());
        assert!(on_off(&d("x", &["yes"])).is_err());
    }
}
