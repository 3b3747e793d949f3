//! The `forward { }` block of a vhost (SRS's names): push every stream
//! published on the vhost to other servers.
//!
//! Every destination and the backend URL are checked here, so a bad one
//! is a `file:line` error when the config loads, not a failing forward
//! later.

use super::directives::Seen;
use super::error::{ConfigError, ConfigErrorKind};
use super::parser::Directive;
use super::values::{bad, on_off, one, some};
use crate::forward::{Destination, ForwardConfig, MAX_DESTINATIONS};
use crate::hooks::HookUrl;

/// What a destination looks like, for error messages.
const DESTINATION_SHAPE: &str = "HOST[:PORT] or rtmp://HOST[:PORT]/APP/STREAM[?QUERY]";

/// `forward { enabled; destination ...; backend URL; }`.
pub(super) fn forward(dirs: &[Directive]) -> Result<ForwardConfig, ConfigError> {
    let mut f = ForwardConfig::default();
    let mut seen = Seen::default();
    for d in dirs {
        seen.name(d)?;
        match d.name.as_str() {
            "enabled" => f.enabled = on_off(d)?,
            "destination" => {
                let values = some(d)?;
                if values.len() > MAX_DESTINATIONS {
                    return Err(bad(
                        d,
                        &values.len().to_string(),
                        format!("at most {MAX_DESTINATIONS} destinations"),
                    ));
                }
                f.destinations = values
                    .iter()
                    .map(|v| {
                        Destination::parse(v)
                            .map_err(|e| bad(d, v, format!("{DESTINATION_SHAPE} ({e})")))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "backend" => {
                let v = one(d)?;
                HookUrl::parse(v)
                    .map_err(|e| bad(d, v, format!("http(s)://HOST[:PORT][/PATH] ({e})")))?;
                f.backend = Some(v.to_owned());
            }
            _ => return Err(d.error(ConfigErrorKind::UnknownDirective(d.name.clone()))),
        }
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::forward::Destination;

    fn parse(block: &str) -> Result<Config, String> {
        crate::config::parse_str(
            "t.conf",
            &format!("listen 1935; vhost __defaultVhost__ {{ forward {{ {block} }} }}"),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn destinations_and_backend() {
        let c = parse(
            "enabled on; destination 127.0.0.1:19350 h.example rtmp://[::1]:1936/a/[stream]?k=v; \
             backend http://127.0.0.1:8085/api/v1/forward;",
        )
        .unwrap();
        let f = &c.vhosts[0].forward;
        assert!(f.enabled);
        assert_eq!(
            f.destinations[0],
            Destination::HostPort {
                host: "127.0.0.1".into(),
                port: 19350
            }
        );
        assert_eq!(
            f.destinations[1],
            Destination::HostPort {
                host: "h.example".into(),
                port: 1935
            }
        );
        assert!(matches!(&f.destinations[2], Destination::Url(u) if u.starts_with("rtmp://[::1]")));
        assert_eq!(
            f.backend.as_deref(),
            Some("http://127.0.0.1:8085/api/v1/forward")
        );
        let c = parse("").unwrap();
        assert!(!c.vhosts[0].forward.enabled);
    }

    #[test]
    fn bad_values_are_refused_with_their_place() {
        for block in [
            "destination;",
            "destination h:0;",
            "destination http://h/a/b;",
            "destination rtmp://h/onlyapp;",
            "backend rtmp://h/a/b;",
            "backend;",
            "enabled maybe;",
            "enabled on; enabled off;",
            "vhost x;",
        ] {
            let e = parse(block).expect_err(block);
            assert!(e.contains(":1"), "{block}: {e}");
        }
        let many = vec!["h"; crate::forward::MAX_DESTINATIONS + 1].join(" ");
        assert!(parse(&format!("destination {many};")).is_err());
    }
}
