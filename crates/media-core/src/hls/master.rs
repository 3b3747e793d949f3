//! The multivariant ("master") playlist of a stream with several renditions
//! (RFC 8216 4.3.4): one `EXT-X-STREAM-INF` per video rendition and its
//! audio tracks as one `EXT-X-MEDIA` group.
//!
//! A pure function of what the runtime learned about each rendition
//! ([`master_playlist`]); the URIs are whatever the caller gives (the media
//! playlists relative to the master, as media playlists list segments).
//!
//! Every variant names the same audio group, and every audio rendition has
//! a `URI`: the variants' media playlists are then video only (RFC 8216
//! 4.3.4.2.1: a rendition without `URI` would say its audio is inside every
//! variant's playlist, which only one of them could be).

use std::fmt::Write as _;

/// The `GROUP-ID` of the audio renditions, named by every variant's `AUDIO`.
pub const AUDIO_GROUP: &str = "audio";

/// One video rendition: a variant stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantStream {
    /// Its media playlist, relative to the master (or absolute).
    pub uri: String,
    /// Peak segment bit rate of its own segments (bits/s). The variant's
    /// `BANDWIDTH` adds the audio group's highest (RFC 8216 4.3.4.2: the
    /// largest sum over any playable combination of renditions).
    pub peak_bps: u64,
    /// Average bit rate of its segments (bits/s), if known; the variant's
    /// `AVERAGE-BANDWIDTH` adds the audio group's highest average.
    pub average_bps: Option<u64>,
    /// Width and height, when the sequence header told them.
    pub resolution: Option<(u32, u32)>,
    /// The RFC 6381 codec string (`avc1.64001f`), if known.
    pub codec: Option<String>,
}

/// One audio track: an `EXT-X-MEDIA:TYPE=AUDIO` rendition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioRendition {
    /// Its media playlist, relative to the master (or absolute).
    pub uri: String,
    /// `NAME`: unique within the group (RFC 8216 4.3.4.1.1).
    pub name: String,
    /// `DEFAULT=YES` (at most one in the group: the caller's track 0).
    pub default: bool,
    /// Peak segment bit rate (bits/s).
    pub peak_bps: u64,
    /// Average bit rate (bits/s), if known.
    pub average_bps: Option<u64>,
    /// The RFC 6381 codec string (`mp4a.40.2`), if known.
    pub codec: Option<String>,
    /// `CHANNELS`, when the configuration told them.
    pub channels: Option<u8>,
}

/// Characters a quoted-string attribute cannot hold (RFC 8216 4.2: no
/// double quote, CR or LF): replaced, so a name or path from the publisher
/// never breaks the playlist's syntax.
fn quoted(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '"' | '\r' | '\n') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// A URI line: the same rule (a line break would end it early).
fn uri_line(s: &str) -> String {
    s.chars()
        .map(|c| if matches!(c, '\r' | '\n') { '_' } else { c })
        .collect()
}

/// The multivariant playlist text. Variants are listed in the order given
/// (clients start with the first, RFC 8216 6.3.1, so the caller puts its
/// default rendition first). `CODECS` lists the variant's video codec and
/// every codec of the audio group (4.3.4.2: every format present in any
/// rendition the variant can play); it is left out when one of them is not
/// known, since a wrong `CODECS` makes players refuse the variant.
pub fn master_playlist(variants: &[VariantStream], audio: &[AudioRendition]) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:3\n");
    let audio_peak = audio.iter().map(|a| a.peak_bps).max().unwrap_or(0);
    let audio_average = audio
        .iter()
        .map(|a| a.average_bps)
        .try_fold(0u64, |max, a| a.map(|a| max.max(a)));
    let mut audio_codecs: Vec<&str> = Vec::new();
    let mut audio_codecs_known = true;
    for a in audio {
        match a.codec.as_deref() {
            Some(c) if !audio_codecs.contains(&c) => audio_codecs.push(c),
            Some(_) => {}
            None => audio_codecs_known = false,
        }
    }
    // `write!` into a String cannot fail.
    for a in audio {
        let _ = write!(
            out,
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"{AUDIO_GROUP}\",NAME=\"{}\",DEFAULT={},AUTOSELECT={}",
            quoted(&a.name),
            if a.default { "YES" } else { "NO" },
            // 4.3.4.1: AUTOSELECT must be YES where DEFAULT is. The other
            // tracks carry no language to select them by: the user picks.
            if a.default { "YES" } else { "NO" },
        );
        if let Some(ch) = a.channels.filter(|&c| c > 0) {
            let _ = write!(out, ",CHANNELS=\"{ch}\"");
        }
        let _ = writeln!(out, ",URI=\"{}\"", quoted(&a.uri));
    }
    for v in variants {
        // BANDWIDTH is required and a decimal-integer; never 0.
        let bandwidth = v.peak_bps.saturating_add(audio_peak).max(1);
        let _ = write!(out, "#EXT-X-STREAM-INF:BANDWIDTH={bandwidth}");
        if let (Some(video), Some(audio)) = (v.average_bps, audio_average) {
            let _ = write!(
                out,
                ",AVERAGE-BANDWIDTH={}",
                video.saturating_add(audio).max(1)
            );
        }
        if let Some((w, h)) = v.resolution.filter(|&(w, h)| w > 0 && h > 0) {
            let _ = write!(out, ",RESOLUTION={w}x{h}");
        }
        if let Some(video) = v.codec.as_deref().filter(|_| audio_codecs_known) {
            let mut codecs = vec![video];
            codecs.extend(audio_codecs.iter().copied());
            let _ = write!(out, ",CODECS=\"{}\"", quoted(&codecs.join(",")));
        }
        if !audio.is_empty() {
            let _ = write!(out, ",AUDIO=\"{AUDIO_GROUP}\"");
        }
        let _ = writeln!(out, "\n{}", uri_line(&v.uri));
    }
    out
}

/// The multivariant playlist's path for a stream whose media playlist is at
/// `m3u8` (both relative to the HLS root): `_master` before the `.m3u8`
/// extension (`live/cam.m3u8` → `live/cam_master.m3u8`), or appended with
/// `.m3u8` when the name has no such extension.
pub fn master_path(m3u8: &str) -> String {
    match m3u8.strip_suffix(".m3u8") {
        Some(stem) => format!("{stem}_master.m3u8"),
        None => format!("{m3u8}_master.m3u8"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use m3u8_rs::{AlternativeMediaType, Playlist};

    fn variant(uri: &str, peak: u64, resolution: (u32, u32), codec: &str) -> VariantStream {
        VariantStream {
            uri: uri.into(),
            peak_bps: peak,
            average_bps: Some(peak / 2),
            resolution: Some(resolution),
            codec: Some(codec.into()),
        }
    }

    fn audio(uri: &str, name: &str, default: bool, peak: u64) -> AudioRendition {
        AudioRendition {
            uri: uri.into(),
            name: name.into(),
            default,
            peak_bps: peak,
            average_bps: Some(peak.saturating_sub(1000)),
            codec: Some("mp4a.40.2".into()),
            channels: Some(2),
        }
    }

    fn parse(text: &str) -> m3u8_rs::MasterPlaylist {
        match m3u8_rs::parse_playlist_res(text.as_bytes()) {
            Ok(Playlist::MasterPlaylist(m)) => m,
            other => panic!("not a master playlist: {other:?}\n{text}"),
        }
    }

    #[test]
    fn two_renditions_and_two_audio_tracks() {
        let text = master_playlist(
            &[
                variant("cam_v0.m3u8", 1_000_000, (640, 360), "avc1.64001e"),
                variant("cam_v1.m3u8", 300_000, (320, 180), "avc1.64000d"),
            ],
            &[
                audio("cam_a0.m3u8", "audio 0", true, 70_000),
                audio("cam_a1.m3u8", "audio 1", false, 90_000),
            ],
        );
        let m = parse(&text);
        assert_eq!(m.variants.len(), 2, "{text}");
        let v0 = &m.variants[0];
        assert_eq!(v0.uri, "cam_v0.m3u8");
        // Video peak plus the audio group's highest peak.
        assert_eq!(v0.bandwidth, 1_090_000);
        assert_eq!(v0.average_bandwidth, Some(500_000 + 89_000));
        let res = v0.resolution.expect("resolution");
        assert_eq!((res.width, res.height), (640, 360));
        assert_eq!(v0.codecs.as_deref(), Some("avc1.64001e,mp4a.40.2"));
        assert_eq!(v0.audio.as_deref(), Some(AUDIO_GROUP));
        assert_eq!(m.variants[1].uri, "cam_v1.m3u8");
        assert_eq!(m.variants[1].bandwidth, 390_000);

        let media: Vec<_> = m.alternatives.iter().collect();
        assert_eq!(media.len(), 2);
        for (i, a) in media.iter().enumerate() {
            assert_eq!(a.media_type, AlternativeMediaType::Audio);
            assert_eq!(a.group_id, AUDIO_GROUP);
            assert_eq!(a.uri.as_deref(), Some(format!("cam_a{i}.m3u8").as_str()));
            assert_eq!(a.default, i == 0, "track 0 is the default");
            assert_eq!(a.autoselect, i == 0);
            assert_eq!(a.channels.as_deref(), Some("2"));
        }
        assert_ne!(media[0].name, media[1].name, "names unique in the group");
    }

    #[test]
    fn unknown_codecs_leave_codecs_out_and_no_audio_names_no_group() {
        let mut v = variant("v.m3u8", 0, (0, 0), "avc1.42c00d");
        v.average_bps = None;
        let mut a = audio("a.m3u8", "x", true, 1000);
        a.codec = None;
        let text = master_playlist(std::slice::from_ref(&v), &[a]);
        let m = parse(&text);
        let got = &m.variants[0];
        assert_eq!(got.codecs, None, "an audio codec is unknown: {text}");
        assert_eq!(got.resolution, None);
        assert_eq!(got.average_bandwidth, None);
        assert_eq!(got.bandwidth, 1000);

        let text = master_playlist(&[v], &[]);
        let m = parse(&text);
        assert!(m.alternatives.is_empty());
        assert_eq!(m.variants[0].audio, None);
        assert_eq!(m.variants[0].bandwidth, 1, "BANDWIDTH is never 0");
        assert_eq!(m.variants[0].codecs.as_deref(), Some("avc1.42c00d"));
    }

    #[test]
    fn hostile_names_cannot_break_the_syntax() {
        let text = master_playlist(
            &[variant("a\nb.m3u8", 1, (1, 1), "avc1\"x")],
            &[audio("q\".m3u8", "n\"\r\n#EXT-X-ENDLIST", true, 1)],
        );
        let m = parse(&text);
        assert_eq!(m.variants.len(), 1);
        assert_eq!(m.alternatives.len(), 1);
        assert_eq!(text.lines().count(), 5, "{text}");
    }

    #[test]
    fn master_path_goes_beside_the_media_playlist() {
        assert_eq!(master_path("live/cam.m3u8"), "live/cam_master.m3u8");
        assert_eq!(master_path("a/b/x"), "a/b/x_master.m3u8");
    }
}
