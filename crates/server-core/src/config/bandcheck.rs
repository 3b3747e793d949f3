//! The `bandcheck { }` block of a vhost (SRS 2's names and defaults).

use super::directives::Seen;
use super::error::{ConfigError, ConfigErrorKind};
use super::parser::Directive;
use super::values::{bad, integer_u32, on_off, seconds, text};
use crate::bandcheck::{BandcheckConfig, MAX_INTERVAL_SECS, MAX_KEY_BYTES, MAX_LIMIT_KBPS};

/// `bandcheck { enabled; key; interval; limit_kbps; }`. Unlike SRS, `enabled
/// on` needs a `key`: without one SRS took any tcUrl with `key=` in it.
pub(super) fn bandcheck(d: &Directive, dirs: &[Directive]) -> Result<BandcheckConfig, ConfigError> {
    let mut b = BandcheckConfig::default();
    let mut seen = Seen::default();
    for d in dirs {
        seen.name(d)?;
        match d.name.as_str() {
            "enabled" => b.enabled = on_off(d)?,
            "key" => {
                let key = text(d)?;
                if key.len() > MAX_KEY_BYTES || key.contains(['&', ',', '?', '=']) {
                    return Err(bad(
                        d,
                        &key,
                        format!("at most {MAX_KEY_BYTES} bytes without & , ? or ="),
                    ));
                }
                b.key = key;
            }
            "interval" => b.interval = seconds(d, 0.0, MAX_INTERVAL_SECS)?,
            "limit_kbps" => b.limit_kbps = integer_u32(d, 1, MAX_LIMIT_KBPS)?,
            _ => return Err(d.error(ConfigErrorKind::UnknownDirective(d.name.clone()))),
        }
    }
    if b.enabled && b.key.is_empty() {
        return Err(bad(d, "enabled on", "a key with bandcheck enabled"));
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::Config;

    fn parse(block: &str) -> Result<Config, String> {
        crate::config::parse_str(
            "t.conf",
            &format!("listen 1935; vhost bandcheck.srs.com {{ bandcheck {{ {block} }} }}"),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn srs_directives_and_defaults() {
        let c = parse(
            "enabled on; key \"35c9b402c12a7246868752e2878f7e0e\"; interval 30; limit_kbps 4000;",
        )
        .unwrap();
        let b = &c.vhost("bandcheck.srs.com").bandcheck;
        assert!(b.enabled);
        assert_eq!(b.key, "35c9b402c12a7246868752e2878f7e0e");
        assert_eq!(b.interval, Duration::from_secs(30));
        assert_eq!(b.limit_kbps, 4000);
        // The key never shows in debug output.
        assert!(!format!("{b:?}").contains("35c9b402"));
        let c = parse("").unwrap();
        let b = &c.vhost("bandcheck.srs.com").bandcheck;
        assert!(!b.enabled);
        assert_eq!(b.interval, Duration::from_secs(30));
        assert_eq!(b.limit_kbps, 1000);
        let c = parse("enabled on; key k; interval 0.5;").unwrap();
        assert_eq!(
            c.vhost("bandcheck.srs.com").bandcheck.interval,
            Duration::from_millis(500)
        );
    }

    #[test]
    fn bad_values_are_refused_with_their_place() {
        for block in [
            "enabled on;",
            "enabled on; key \"\";",
            "key a&b;",
            "key a,b;",
            "limit_kbps 0;",
            "limit_kbps 99999999999;",
            "interval -1;",
            "interval 1d;",
            "enabled maybe;",
            "key k; key k;",
            "duration 3;",
        ] {
            let e = parse(block).expect_err(block);
            assert!(e.contains(":1"), "{block}: {e}");
        }
        let long = "k".repeat(crate::bandcheck::MAX_KEY_BYTES + 1);
        assert!(parse(&format!("key {long};")).is_err());
    }
}
