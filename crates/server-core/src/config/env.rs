//! Environment overrides for containers, as SRS 5+ has them: `SRS_LISTEN=1936`,
//! `SRS_HTTP_API_LISTEN=1986`, `SRS_VHOST_HLS_ENABLED=on`...
//!
//! SRS's naming rule (`srs_app_config.cpp`, its `SRS_OVERWRITE_BY_ENV_*`
//! getters): the directive's path from the root, `srs.` included, with `.`
//! turned into `_` and upper-cased, so `http_api { listen }` is
//! `SRS_HTTP_API_LISTEN` and `srs_log_level` is `SRS_SRS_LOG_LEVEL`. A
//! `vhost` path applies to every vhost of the file (SRS: "for all vhosts"):
//! `SRS_VHOST_HLS_HLS_FRAGMENT=2` sets `hls_fragment` in each vhost's `hls`.
//! An empty value is no override, as in SRS.
//!
//! The value is split on whitespace into the directive's arguments and put
//! into the parsed tree before it is checked, so it is validated exactly as
//! the same directive in the file would be; an error names the variable
//! (`env SRS_LISTEN: ...`). Only the directives in [`OVERRIDABLE`] can be
//! set this way: other `SRS_*` variables (a container's `SRS_VERSION`...)
//! are left alone. They win over the file at start and at every reload (the
//! process's environment does not change, the file may).

use std::sync::Arc;

use super::error::ConfigError;
use super::parser::Directive;

/// The directives an environment variable may set, by path from the root.
/// Blocks of lists (`security`, `refer`, `include`) are left to the file.
pub const OVERRIDABLE: &[&str] = &[
    "listen",
    "max_connections",
    "max_connections_per_ip",
    "chunk_size",
    "workers",
    "pid",
    "srs_log_tank",
    "srs_log_level",
    "srs_log_file",
    "grace_start_wait",
    "grace_drain_timeout",
    "grace_final_wait",
    "force_grace_quit",
    "reconnect_tcurl",
    "ff_log_dir",
    "ff_log_level",
    "http_api.enabled",
    "http_api.listen",
    "http_api.crossdomain",
    "http_api.allow_origins",
    "http_api.auth.enabled",
    "http_api.auth.username",
    "http_api.auth.password",
    "http_api.raw_api.enabled",
    "http_api.raw_api.allow_reload",
    "http_server.enabled",
    "http_server.listen",
    "http_server.dir",
    "http_server.crossdomain",
    "rtmps.enabled",
    "rtmps.listen",
    "rtmps.key",
    "rtmps.cert",
    "vhost.enabled",
    "vhost.chunk_size",
    "vhost.tcp_nodelay",
    "vhost.min_latency",
    "vhost.play.gop_cache",
    "vhost.play.gop_cache_max_frames",
    "vhost.play.queue_length",
    "vhost.play.time_jitter",
    "vhost.play.atc",
    "vhost.play.mw_latency",
    "vhost.play.mw_msgs",
    "vhost.publish.firstpkt_timeout",
    "vhost.publish.normal_timeout",
    "vhost.publish.mr",
    "vhost.publish.mr_latency",
    "vhost.hls.enabled",
    "vhost.hls.hls_path",
    "vhost.hls.hls_fragment",
    "vhost.hls.hls_td_ratio",
    "vhost.hls.hls_aof_ratio",
    "vhost.hls.hls_window",
    "vhost.hls.hls_wait_keyframe",
    "vhost.hls.hls_cleanup",
    "vhost.hls.hls_dispose",
    "vhost.hls.hls_m3u8_file",
    "vhost.hls.hls_ts_file",
    "vhost.hls.hls_entry_prefix",
    "vhost.hls.hls_use_fmp4",
    "vhost.hls.hls_fmp4_file",
    "vhost.hls.hls_init_file",
    "vhost.hls.hls_nb_notify",
    "vhost.http_remux.enabled",
    "vhost.http_remux.mount",
    "vhost.http_hooks.enabled",
    "vhost.http_hooks.on_connect",
    "vhost.http_hooks.on_close",
    "vhost.http_hooks.on_publish",
    "vhost.http_hooks.on_unpublish",
    "vhost.http_hooks.on_play",
    "vhost.http_hooks.on_stop",
    "vhost.http_hooks.on_hls",
    "vhost.http_hooks.on_hls_notify",
    "vhost.http_hooks.timeout",
];

/// Longest value taken from one variable (a `listen` list, a URL).
const MAX_VALUE_BYTES: usize = 4096;

/// The variable SRS reads for the directive at `path` (`http_api.listen`:
/// `SRS_HTTP_API_LISTEN`).
pub fn var_name(path: &str) -> String {
    format!("SRS_{}", path.replace('.', "_").to_ascii_uppercase())
}

/// Puts the overrides found in `vars` into `tree`; returns the variables
/// used, in [`OVERRIDABLE`] order. The tree is checked afterwards, as the
/// file would be.
pub(crate) fn apply(
    tree: &mut Vec<Directive>,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<String>, ConfigError> {
    let vars: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(k, v)| k.starts_with("SRS_") && !v.trim().is_empty())
        .collect();
    let mut used = Vec::new();
    for path in OVERRIDABLE {
        let name = var_name(path);
        let Some((_, value)) = vars.iter().find(|(k, _)| *k == name) else {
            continue;
        };
        let file: Arc<str> = Arc::from(format!("env {name}"));
        if value.len() > MAX_VALUE_BYTES {
            return Err(ConfigError::new(
                &*file,
                0,
                super::ConfigErrorKind::TooLarge {
                    limit: MAX_VALUE_BYTES,
                },
            ));
        }
        let args: Vec<String> = value.split_whitespace().map(str::to_owned).collect();
        let segments: Vec<&str> = path.split('.').collect();
        let set = Directive {
            name: segments[segments.len() - 1].to_owned(),
            args,
            block: None,
            file,
            line: 0,
        };
        match segments.split_first() {
            Some((&"vhost", rest)) => {
                for vhost in tree.iter_mut().filter(|d| d.name == "vhost") {
                    if let Some(block) = vhost.block.as_mut() {
                        put(block, &rest[..rest.len() - 1], set.clone());
                    }
                }
            }
            _ => put(tree, &segments[..segments.len() - 1], set),
        }
        used.push(name);
    }
    Ok(used)
}

/// Sets `directive` inside the blocks named `blocks` (made if missing),
/// replacing a directive of the same name there.
fn put(level: &mut Vec<Directive>, blocks: &[&str], directive: Directive) {
    let Some((first, rest)) = blocks.split_first() else {
        match level
            .iter_mut()
            .find(|d| d.name == directive.name && d.block.is_none())
        {
            Some(existing) => *existing = directive,
            None => level.push(directive),
        }
        return;
    };
    let i = match level
        .iter()
        .position(|d| d.name == *first && d.block.is_some())
    {
        Some(i) => i,
        None => {
            level.push(Directive {
                name: (*first).to_owned(),
                args: Vec::new(),
                block: Some(Vec::new()),
                file: directive.file.clone(),
                line: 0,
            });
            level.len() - 1
        }
    };
    if let Some(block) = level[i].block.as_mut() {
        put(block, rest, directive);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{directives, parser, Config};

    fn with_env(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut tree = parser::parse_text("t.conf", text)?;
        apply(
            &mut tree,
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )?;
        directives::build(&tree)
    }

    #[test]
    fn names_follow_srs() {
        assert_eq!(var_name("listen"), "SRS_LISTEN");
        assert_eq!(var_name("http_api.listen"), "SRS_HTTP_API_LISTEN");
        assert_eq!(var_name("srs_log_level"), "SRS_SRS_LOG_LEVEL");
        assert_eq!(var_name("vhost.hls.enabled"), "SRS_VHOST_HLS_ENABLED");
        assert_eq!(
            var_name("vhost.hls.hls_fragment"),
            "SRS_VHOST_HLS_HLS_FRAGMENT"
        );
    }

    #[test]
    fn variables_win_over_the_file_in_every_vhost() {
        let text = "listen 1935; http_api { enabled on; listen 1985; }\n\
                    vhost __defaultVhost__ { hls { enabled off; hls_fragment 10; } }\n\
                    vhost a.com { }";
        let c = with_env(
            text,
            &[
                ("SRS_LISTEN", "1936 1937"),
                ("SRS_HTTP_API_LISTEN", "127.0.0.1:1986"),
                ("SRS_VHOST_HLS_ENABLED", "on"),
                ("SRS_VHOST_HLS_HLS_FRAGMENT", "2"),
                ("SRS_HTTP_SERVER_ENABLED", ""),
                ("SRS_VERSION", "5.0"),
                ("HOME", "/root"),
            ],
        )
        .unwrap();
        assert_eq!(c.listen.len(), 2);
        assert_eq!(c.listen[1].port(), 1937);
        assert_eq!(c.http_api.listen[0].to_string(), "127.0.0.1:1986");
        assert!(!c.http_server.enabled, "an empty value is no override");
        for name in ["__defaultVhost__", "a.com"] {
            let v = c.vhost(name);
            assert!(v.hls.enabled, "{name}");
            assert_eq!(v.hls.segmenter.fragment.as_secs(), 2, "{name}");
        }
    }

    #[test]
    fn a_bad_value_is_refused_naming_the_variable() {
        let err = with_env("listen 1935;", &[("SRS_MAX_CONNECTIONS", "many")]).unwrap_err();
        assert!(
            err.to_string().starts_with("env SRS_MAX_CONNECTIONS: "),
            "{err}"
        );
    }

    #[test]
    fn every_overridable_directive_is_one_the_file_accepts() {
        // Each path, set by its variable to a value the directive takes,
        // parses: the table names no directive this server lacks.
        let value = |path: &str| match path.rsplit('.').next().unwrap() {
            "listen" => "1935",
            "pid" | "srs_log_file" | "dir" | "hls_path" => "/tmp/x",
            "srs_log_tank" => "console",
            "srs_log_level" => "warn",
            "workers" => "1",
            "allow_origins" => "https://a.example",
            "username" | "password" => "u",
            "time_jitter" => "full",
            "hls_m3u8_file" => "[app]/[stream].m3u8",
            "hls_ts_file" => "[app]/[stream]-[seq].ts",
            "hls_fmp4_file" => "[app]/[stream]-[seq].m4s",
            "hls_init_file" => "[app]/[stream]/init.mp4",
            "hls_entry_prefix" => "http://cdn",
            "mount" => "[vhost]/[app]/[stream].flv",
            p if p.starts_with("on_") => "http://127.0.0.1:8085/h",
            "hls_td_ratio" | "hls_aof_ratio" => "1.5",
            "timeout" => "1000",
            "ff_log_level" => "warning",
            p if p.contains("enabled")
                || matches!(
                    p,
                    "crossdomain"
                        | "allow_reload"
                        | "tcp_nodelay"
                        | "min_latency"
                        | "gop_cache"
                        | "atc"
                        | "mr"
                        | "hls_wait_keyframe"
                        | "hls_cleanup"
                        | "hls_use_fmp4"
                        | "force_grace_quit"
                ) =>
            {
                "on"
            }
            "chunk_size" => "4096",
            _ => "10",
        };
        for path in OVERRIDABLE {
            let name = var_name(path);
            let mut vars = vec![(name.clone(), value(path).to_owned())];
            if path.starts_with("http_api.auth.") {
                vars = ["enabled", "username", "password"]
                    .iter()
                    .map(|d| {
                        let p = format!("http_api.auth.{d}");
                        (var_name(&p), value(&p).to_owned())
                    })
                    .collect();
            }
            let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (&k[..], &v[..])).collect();
            if let Err(e) = with_env("vhost __defaultVhost__ { }", &vars) {
                panic!("{name}: {e}");
            }
        }
    }
}
