//! The `dvr { }` block of a vhost (SRS's names and defaults): record
//! published streams to FLV or MP4 files.

use std::time::Duration;

use media_core::jitter::JitterMode;

use super::directives::Seen;
use super::error::{ConfigError, ConfigErrorKind};
use super::parser::Directive;
use super::values::{bad, on_off, one, seconds, some, text};
use crate::dvr::DvrPath;
use crate::hub::StreamKey;

/// Shortest `dvr_duration`, seconds.
pub const MIN_DVR_DURATION_SECS: f64 = 1.0;
/// Longest `dvr_duration`, seconds (a day).
pub const MAX_DVR_DURATION_SECS: f64 = 86_400.0;

/// When a recording starts a new file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DvrPlan {
    /// One file per publish (`session`, SRS's default).
    #[default]
    Session,
    /// A new file every `dvr_duration` (`segment`).
    Segment,
}

/// `dvr { }`.
#[derive(Debug, Clone, PartialEq)]
pub struct DvrConfig {
    /// `enabled` (default off).
    pub enabled: bool,
    /// `dvr_apply`: the `APP/STREAM`s recorded, or `None` for `all` (default).
    pub apply: Option<Vec<String>>,
    /// `dvr_plan` (default session).
    pub plan: DvrPlan,
    /// `dvr_path` (default `./objs/nginx/html/[app]/[stream].[timestamp].flv`).
    pub path: DvrPath,
    /// `dvr_duration`: the length of a file in the segment plan (seconds in
    /// the file, default 30).
    pub duration: Duration,
    /// `dvr_wait_keyframe`: a segment ends only at a video key frame
    /// (default on).
    pub wait_keyframe: bool,
    /// `time_jitter`: how a file's timestamps are corrected (full, zero, off;
    /// default full). Full and zero start every file at 0.
    pub time_jitter: JitterMode,
}

impl DvrConfig {
    /// SRS's defaults (recording off).
    pub fn srs_default() -> Self {
        Self {
            enabled: false,
            apply: None,
            plan: DvrPlan::Session,
            path: DvrPath::default(),
            duration: Duration::from_secs(30),
            wait_keyframe: true,
            time_jitter: JitterMode::Full,
        }
    }

    /// Whether `key` is recorded under `dvr_apply` (SRS matches `APP/STREAM`
    /// exactly).
    pub fn applies_to(&self, key: &StreamKey) -> bool {
        match &self.apply {
            None => true,
            Some(ids) => {
                let id = format!("{}/{}", key.app, key.stream);
                ids.contains(&id)
            }
        }
    }
}

/// `dvr { enabled; dvr_apply; dvr_plan; dvr_path; dvr_duration;
/// dvr_wait_keyframe; time_jitter; }`.
pub(super) fn dvr(dirs: &[Directive]) -> Result<DvrConfig, ConfigError> {
    let mut c = DvrConfig::srs_default();
    let mut seen = Seen::default();
    for d in dirs {
        seen.name(d)?;
        match d.name.as_str() {
            "enabled" => c.enabled = on_off(d)?,
            "dvr_apply" => {
                let ids = some(d)?;
                c.apply = if ids.len() == 1 && ids.first().is_some_and(|id| id == "all") {
                    None
                } else {
                    for id in ids {
                        if id == "all" || !id.contains('/') {
                            return Err(bad(d, id, "all, or APP/STREAM names"));
                        }
                    }
                    Some(ids.to_vec())
                };
            }
            "dvr_plan" => {
                c.plan = match one(d)? {
                    "session" => DvrPlan::Session,
                    "segment" => DvrPlan::Segment,
                    v => return Err(bad(d, v, "session or segment")),
                }
            }
            "dvr_path" => {
                let v = text(d)?;
                c.path = DvrPath::parse(&v).map_err(|expected| bad(d, &v, expected))?;
            }
            "dvr_duration" => {
                c.duration = seconds(d, MIN_DVR_DURATION_SECS, MAX_DVR_DURATION_SECS)?;
            }
            "dvr_wait_keyframe" => c.wait_keyframe = on_off(d)?,
            "time_jitter" => {
                let v = one(d)?;
                c.time_jitter = v
                    .parse::<JitterMode>()
                    .map_err(|_| bad(d, v, "full, zero or off"))?;
            }
            _ => return Err(d.error(ConfigErrorKind::UnknownDirective(d.name.clone()))),
        }
    }
    Ok(c)
}
