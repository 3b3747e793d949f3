//! The `cluster { }` block of a vhost (SRS's names): an edge
//! (`mode remote`) pulls the streams its players ask for from an origin.
//!
//! Every origin is checked here, so a bad one is a `file:line` error when
//! the config loads, not a failing pull later.

use super::directives::Seen;
use super::error::{ConfigError, ConfigErrorKind};
use super::parser::Directive;
use super::values::{bad, on_off, one, seconds, some};
use crate::edge::{ClusterConfig, Origin, MAX_IDLE_TIMEOUT_SECS, MAX_ORIGINS};

/// SRS `cluster` directives not implemented yet.
const NOT_SUPPORTED: &[&str] = &["protocol", "follow_client", "origin_cluster", "coworkers"];

/// `cluster { mode local|remote; origin HOST[:PORT]...; idle_timeout SECS; }`.
pub(super) fn cluster(dirs: &[Directive]) -> Result<ClusterConfig, ConfigError> {
    let mut c = ClusterConfig::default();
    let mut seen = Seen::default();
    let mut mode_at = None;
    for d in dirs {
        seen.name(d)?;
        match d.name.as_str() {
            "mode" => {
                mode_at = Some(d);
                c.remote = match one(d)? {
                    "local" => false,
                    "remote" => true,
                    v => return Err(bad(d, v, "local or remote")),
                }
            }
            "origin" => {
                let values = some(d)?;
                if values.len() > MAX_ORIGINS {
                    return Err(bad(
                        d,
                        &values.len().to_string(),
                        format!("at most {MAX_ORIGINS} origins"),
                    ));
                }
                c.origins = values
                    .iter()
                    .map(|v| {
                        Origin::parse(v).map_err(|e| {
                            bad(d, v, format!("HOST[:PORT] or rtmps://HOST[:PORT] ({e})"))
                        })
                    })
                    .collect::<Result<_, _>>()?;
            }
            "idle_timeout" => c.idle_timeout = seconds(d, 0.0, MAX_IDLE_TIMEOUT_SECS)?,
            "token_traverse" => c.token_traverse = on_off(d)?,
            "debug_srs_upnode" => c.debug_srs_upnode = on_off(d)?,
            "vhost" => {
                let v = one(d)?;
                if v.is_empty() || v.contains(['/', '?', '&', '=', ' ']) {
                    return Err(bad(d, v, "a vhost name, [vhost] standing for the client's"));
                }
                c.upstream_vhost = v.to_owned();
            }
            name if NOT_SUPPORTED.contains(&name) => {
                return Err(d.error(ConfigErrorKind::NotSupported(d.name.clone())))
            }
            _ => return Err(d.error(ConfigErrorKind::UnknownDirective(d.name.clone()))),
        }
    }
    // `mode remote` without `origin`: reported at the `mode` line.
    if let (true, Some(at)) = (c.remote && c.origins.is_empty(), mode_at) {
        return Err(bad(
            at,
            "remote",
            "an origin directive too (an edge pulls from it)",
        ));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::Config;
    use crate::edge::Origin;

    fn parse(block: &str) -> Result<Config, String> {
        crate::config::parse_str(
            "t.conf",
            &format!("listen 1935; vhost __defaultVhost__ {{ cluster {{ {block} }} }}"),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn an_edge_with_its_origins() {
        let c = parse("mode remote; origin 127.0.0.1:19350 o.example; idle_timeout 2.5;").unwrap();
        let cl = &c.vhosts[0].cluster;
        assert!(cl.remote);
        assert_eq!(
            cl.origins,
            [
                Origin {
                    tls: false,
                    host: "127.0.0.1".into(),
                    port: 19350
                },
                Origin {
                    tls: false,
                    host: "o.example".into(),
                    port: 1935
                }
            ]
        );
        assert_eq!(cl.idle_timeout, Duration::from_millis(2500));
        let c = parse("mode local;").unwrap();
        assert!(!c.vhosts[0].cluster.remote);
        let c = parse("").unwrap();
        assert!(!c.vhosts[0].cluster.remote);
        assert_eq!(
            c.vhosts[0].cluster.idle_timeout,
            crate::edge::DEFAULT_IDLE_TIMEOUT
        );
    }

    #[test]
    fn bad_values_are_refused_with_their_place() {
        for block in [
            "mode remote;",
            "mode edge; origin h;",
            "origin;",
            "origin h:0;",
            "origin rtmp://h/a/b;",
            "idle_timeout -1;",
            "idle_timeout 100000;",
            "mode remote; mode local; origin h;",
            "nonsense on;",
            "token_traverse maybe;",
            "vhost a/b;",
            "debug_srs_upnode 2;",
        ] {
            let e = parse(block).expect_err(block);
            assert!(e.contains(":1"), "{block}: {e}");
        }
        let e = parse("mode remote; origin h; coworkers 127.0.0.1:9090;").unwrap_err();
        assert!(e.contains("not supported"), "{e}");
    }

    #[test]
    fn token_traverse_vhost_and_debug_srs_upnode() {
        let c = parse("mode remote; origin h;").unwrap();
        let cl = &c.vhosts[0].cluster;
        assert!(!cl.token_traverse);
        assert_eq!(cl.upstream_vhost, "[vhost]");
        assert!(cl.debug_srs_upnode);
        let c = parse(
            "mode remote; origin h; token_traverse on; vhost origin.example; debug_srs_upnode off;",
        )
        .unwrap();
        let cl = &c.vhosts[0].cluster;
        assert!(cl.token_traverse);
        assert_eq!(cl.upstream_vhost, "origin.example");
        assert!(!cl.debug_srs_upnode);
    }
}
