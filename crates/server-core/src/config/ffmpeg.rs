//! The ffmpeg blocks of a vhost (SRS's names and defaults): `transcode
//! [SCOPE] { }`, `ingest ID { }` and the `engine [NAME] { }` both hold.
//!
//! Stricter than SRS, which reads numbers with `atoi` and finds a bad
//! engine only when it starts ffmpeg: here an enabled engine that cannot
//! run (no output, `vn` with `an`, an encoder without `vprofile` and
//! `vpreset`) is a `file:line` error when the config loads.

use super::directives::Seen;
use super::error::{ConfigError, ConfigErrorKind};
use super::parser::Directive;
use super::values::{bad, block, integer_u32, no_block, number, on_off, one, text};
use crate::ffmpeg::args::option;
use crate::ffmpeg::{EngineConfig, IngestConfig, IngestInput, TranscodeConfig};

/// Most engines in one `transcode` or `ingest` block.
pub const MAX_ENGINES: usize = 16;
/// Most options in one `vfilter`/`vparams`/`aparams`/`perfile` block.
const MAX_OPTIONS: usize = 64;

/// `transcode [SCOPE] { enabled; ffmpeg; engine [NAME] { } ... }`.
pub(super) fn transcode(d: &Directive) -> Result<TranscodeConfig, ConfigError> {
    let Some(children) = &d.block else {
        return Err(d.error(ConfigErrorKind::NeedsBlock(d.name.clone())));
    };
    let scope = match d.args.as_slice() {
        [] => String::new(),
        [s] => s.trim_matches('/').to_owned(),
        _ => return Err(bad(d, &d.args.join(" "), "no value, APP or APP/STREAM")),
    };
    let mut t = TranscodeConfig {
        scope,
        enabled: false,
        ffmpeg: String::new(),
        engines: Vec::new(),
    };
    let mut seen = Seen::default();
    for c in children {
        if c.name != "engine" {
            seen.name(c)?;
        }
        match c.name.as_str() {
            "enabled" => t.enabled = on_off(c)?,
            "ffmpeg" => t.ffmpeg = text(c)?,
            "engine" => push_engine(&mut t.engines, c, true)?,
            _ => return Err(c.error(ConfigErrorKind::UnknownDirective(c.name.clone()))),
        }
    }
    Ok(t)
}

/// `ingest ID { enabled; input { type; url; } ffmpeg; engine { } ... }`.
pub(super) fn ingest(d: &Directive) -> Result<IngestConfig, ConfigError> {
    let children = block(d, 1)?;
    let id = d.args.first().cloned().unwrap_or_default();
    let mut i = IngestConfig {
        id,
        enabled: false,
        input: IngestInput::File,
        url: String::new(),
        ffmpeg: String::new(),
        engines: Vec::new(),
    };
    let mut seen = Seen::default();
    for c in children {
        if c.name != "engine" {
            seen.name(c)?;
        }
        match c.name.as_str() {
            "enabled" => i.enabled = on_off(c)?,
            "ffmpeg" => i.ffmpeg = text(c)?,
            "input" => {
                let mut seen = Seen::default();
                for x in block(c, 0)? {
                    seen.name(x)?;
                    match x.name.as_str() {
                        "type" => {
                            i.input = match one(x)? {
                                "file" => IngestInput::File,
                                "stream" => IngestInput::Stream,
                                v => return Err(bad(x, v, "file or stream")),
                            }
                        }
                        "url" => i.url = text(x)?,
                        _ => return Err(x.error(ConfigErrorKind::UnknownDirective(x.name.clone()))),
                    }
                }
            }
            // An ingest's engine only transcodes when enabled and given both
            // codecs; otherwise it copies (SRS), so it is checked for its output only.
            "engine" => push_engine(&mut i.engines, c, false)?,
            _ => return Err(c.error(ConfigErrorKind::UnknownDirective(c.name.clone()))),
        }
    }
    if i.enabled {
        if i.url.is_empty() {
            return Err(bad(d, &i.id, "an enabled ingest with input { url URL; }"));
        }
        if i.ffmpeg.is_empty() {
            return Err(bad(d, &i.id, "an enabled ingest with ffmpeg PATH"));
        }
        if i.engines.is_empty() {
            return Err(bad(
                d,
                &i.id,
                "an enabled ingest with an engine { output URL; }",
            ));
        }
        for e in &i.engines {
            if e.output.is_empty() {
                return Err(bad(d, &i.id, "every engine of an ingest with an output"));
            }
            if i.transcodes(e) {
                e.check().map_err(|why| bad(d, &e.name, why))?;
            }
        }
    }
    Ok(i)
}

fn push_engine(
    engines: &mut Vec<EngineConfig>,
    d: &Directive,
    check: bool,
) -> Result<(), ConfigError> {
    if engines.len() >= MAX_ENGINES {
        return Err(bad(d, "engine", format!("at most {MAX_ENGINES} engines")));
    }
    let Some(children) = &d.block else {
        return Err(d.error(ConfigErrorKind::NeedsBlock(d.name.clone())));
    };
    let name = match d.args.as_slice() {
        [] => String::new(),
        [n] if !n.contains(['/', '\\']) && n != ".." => n.clone(),
        _ => {
            return Err(bad(
                d,
                &d.args.join(" "),
                "no value or one name without '/'",
            ))
        }
    };
    let e = engine(&name, children)?;
    if check && e.enabled {
        e.check().map_err(|why| bad(d, &name, why))?;
    }
    engines.push(e);
    Ok(())
}

/// `engine [NAME] { ... }`.
fn engine(name: &str, dirs: &[Directive]) -> Result<EngineConfig, ConfigError> {
    let mut e = EngineConfig::srs_default(name);
    let mut seen = Seen::default();
    for d in dirs {
        seen.name(d)?;
        match d.name.as_str() {
            "enabled" => e.enabled = on_off(d)?,
            "perfile" => e.perfile = options(d)?,
            "iformat" => e.iformat = one(d)?.to_owned(),
            "vfilter" => e.vfilter = options(d)?,
            "vcodec" => e.vcodec = one(d)?.to_owned(),
            "vbitrate" => e.vbitrate = integer_u32(d, 0, 1_000_000)?,
            "vfps" => e.vfps = number(d, 0.0, 1000.0)?,
            "vwidth" => e.vwidth = integer_u32(d, 0, 16384)?,
            "vheight" => e.vheight = integer_u32(d, 0, 16384)?,
            "vthreads" => e.vthreads = integer_u32(d, 0, 256)?,
            "vprofile" => e.vprofile = one(d)?.to_owned(),
            "vpreset" => e.vpreset = one(d)?.to_owned(),
            "vparams" => e.vparams = options(d)?,
            "acodec" => e.acodec = one(d)?.to_owned(),
            "abitrate" => e.abitrate = integer_u32(d, 0, 100_000)?,
            "asample_rate" => e.asample_rate = integer_u32(d, 0, 384_000)?,
            "achannels" => e.achannels = integer_u32(d, 0, 2)?,
            "aparams" => e.aparams = options(d)?,
            "oformat" => e.oformat = one(d)?.to_owned(),
            "output" => e.output = text(d)?,
            _ => return Err(d.error(ConfigErrorKind::UnknownDirective(d.name.clone()))),
        }
    }
    Ok(e)
}

/// A block of ffmpeg options: each `NAME [VALUE];` becomes `-NAME [VALUE]`.
fn options(d: &Directive) -> Result<Vec<String>, ConfigError> {
    let children = block(d, 0)?;
    if children.len() > MAX_OPTIONS {
        return Err(bad(
            d,
            &children.len().to_string(),
            format!("at most {MAX_OPTIONS} options"),
        ));
    }
    let mut out = Vec::new();
    for c in children {
        no_block(c)?;
        match c.args.as_slice() {
            [] => out.extend(option(&c.name, None)),
            [v] => out.extend(option(&c.name, Some(v))),
            _ => return Err(bad(c, &c.args.join(" "), "one value at most")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::config::parse_str;
    use crate::ffmpeg::IngestInput;

    fn vhost(body: &str) -> Result<crate::config::VhostConfig, String> {
        parse_str("t.conf", &format!("vhost v {{ {body} }}"))
            .map(|c| c.vhosts[0].clone())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn full_conf_ingest_and_transcode() {
        let v = vhost(
            "ingest livestream { enabled on; input { type file; url ./doc/source.flv; }
                 ffmpeg ./objs/ffmpeg/bin/ffmpeg;
                 engine { enabled off; output rtmp://127.0.0.1:[port]/live/livestream?vhost=[vhost]; } }
             ingest other { enabled off; }
             transcode live { enabled on; ffmpeg ./objs/ffmpeg/bin/ffmpeg;
                 engine ld { enabled on; vfilter { i ./doc/ffmpeg-logo.png; filter_complex 'overlay=10:10'; }
                     vcodec libx264; vbitrate 300; vfps 20; vwidth 768; vheight 320; vthreads 2;
                     vprofile baseline; vpreset superfast; vparams { } acodec libfdk_aac; abitrate 45;
                     asample_rate 44100; achannels 2; aparams { profile:a aac_low; }
                     output rtmp://127.0.0.1:[port]/[app]/[stream]_[engine]?vhost=[vhost]; }
                 engine off { enabled off; } }
             transcode live/s { enabled off; }",
        )
        .unwrap();
        assert_eq!(v.ingests.len(), 2);
        let i = &v.ingests[0];
        assert!(i.enabled && i.input == IngestInput::File && i.url == "./doc/source.flv");
        assert!(!i.transcodes(&i.engines[0]));
        assert_eq!(v.transcodes.len(), 2);
        let t = &v.transcodes[0];
        assert_eq!(t.scope, "live");
        assert_eq!(t.engines.len(), 2);
        let e = &t.engines[0];
        assert_eq!(e.name, "ld");
        assert_eq!(
            e.vfilter,
            [
                "-i",
                "./doc/ffmpeg-logo.png",
                "-filter_complex",
                "overlay=10:10"
            ]
        );
        assert_eq!(e.aparams, ["-profile:a", "aac_low"]);
        assert_eq!(
            (e.vwidth, e.vheight, e.vthreads, e.abitrate),
            (768, 320, 2, 45)
        );
        assert_eq!(v.transcodes[1].scope, "live/s");
    }

    #[test]
    fn bad_blocks_are_refused_with_their_line() {
        for (body, why) in [
            (
                "ingest a { enabled on; ffmpeg f; engine { output o; } }",
                "url",
            ),
            (
                "ingest a { enabled on; input { url u; } engine { output o; } }",
                "ffmpeg",
            ),
            (
                "ingest a { enabled on; input { url u; } ffmpeg f; }",
                "engine",
            ),
            ("ingest a { input { type device; } }", "file or stream"),
            (
                "transcode { engine e { enabled on; vcodec libx264; output o; } }",
                "vprofile",
            ),
            (
                "transcode { engine e { enabled on; vcodec vn; acodec an; output o; } }",
                "nothing",
            ),
            (
                "transcode { engine e { enabled on; vcodec copy; acodec copy; } }",
                "output",
            ),
            ("transcode { engine e { achannels 6; } }", "achannels"),
            ("transcode a { } transcode a { }", "transcode a"),
            ("ingest a { } ingest a { }", "ingest a"),
            ("transcode { engine ../x { } }", "name"),
        ] {
            let err = vhost(body).expect_err(body);
            assert!(err.contains(why), "{body}: {err}");
            assert!(err.starts_with("t.conf:1"), "{err}");
        }
    }

    #[test]
    fn ff_log_directives() {
        let c = parse_str("t.conf", "ff_log_dir /dev/null; ff_log_level warning;").unwrap();
        assert_eq!(c.ff_log_dir, std::path::Path::new("/dev/null"));
        assert_eq!(c.ff_log_level, "warning");
        let d = parse_str("t.conf", "").unwrap();
        assert_eq!(d.ff_log_dir, std::path::Path::new("./objs"));
        assert_eq!(d.ff_log_level, "info");
        assert!(parse_str("t.conf", "ff_log_level loud;").is_err());
    }
}
