//! The `http_hooks { }` block (SRS's names), plus `timeout`, our extension.
//!
//! Every URL is checked here ([`HookUrl::parse`]), and every `on_hls_notify`
//! template with its variables rendered, so a bad one is a `file:line`
//! error when the config loads, not a refused publish later.

use super::directives::Seen;
use super::error::{ConfigError, ConfigErrorKind};
use super::parser::Directive;
use super::values::{bad, millis, on_off, some};
use crate::hooks::{
    check_notify_template, HookUrl, HttpHooksConfig, MAX_TIMEOUT_MS, MIN_TIMEOUT_MS,
};

/// What a hook URL looks like, for error messages.
const URL_SHAPE: &str = "http(s)://HOST[:PORT][/PATH][?QUERY]";

/// `http_hooks { enabled; on_connect URL...; ... }`.
pub(super) fn http_hooks(dirs: &[Directive]) -> Result<HttpHooksConfig, ConfigError> {
    let mut h = HttpHooksConfig::default();
    let mut seen = Seen::default();
    for d in dirs {
        seen.name(d)?;
        match d.name.as_str() {
            "enabled" => h.enabled = on_off(d)?,
            "on_connect" => h.on_connect = urls(d)?,
            "on_close" => h.on_close = urls(d)?,
            "on_publish" => h.on_publish = urls(d)?,
            "on_unpublish" => h.on_unpublish = urls(d)?,
            "on_play" => h.on_play = urls(d)?,
            "on_stop" => h.on_stop = urls(d)?,
            "on_dvr" => h.on_dvr = urls(d)?,
            "on_hls" => h.on_hls = urls(d)?,
            "on_hls_notify" => h.on_hls_notify = templates(d)?,
            "timeout" => h.timeout = millis(d, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS)?,
            _ => return Err(d.error(ConfigErrorKind::UnknownDirective(d.name.clone()))),
        }
    }
    Ok(h)
}

/// One or more hook URLs, called in order.
fn urls(d: &Directive) -> Result<Vec<String>, ConfigError> {
    some(d)?
        .iter()
        .map(|v| match HookUrl::parse(v) {
            Ok(_) => Ok(v.clone()),
            Err(e) => Err(bad(d, v, format!("{URL_SHAPE} ({e})"))),
        })
        .collect()
}

/// One or more `on_hls_notify` templates.
fn templates(d: &Directive) -> Result<Vec<String>, ConfigError> {
    some(d)?
        .iter()
        .map(|v| match check_notify_template(v) {
            Ok(()) => Ok(v.clone()),
            Err(e) => Err(bad(d, v, format!("{URL_SHAPE} with [variables] ({e})"))),
        })
        .collect()
}
