//! Opus: the identification header (`OpusHead`, RFC 7845 5.1) an E-RTMP
//! `Opus` SequenceStart carries, its `dOps` form for ISO BMFF ("Encapsulation
//! of Opus in ISO Base Media File Format" 4.3.2), and packet durations from
//! the TOC byte (RFC 6716 3.1).

/// Opus always decodes at 48 kHz: timestamps, pre-skip and durations are
/// in 48 kHz samples (RFC 7845 4), and the ISO BMFF binding's timescale is it.
pub const OPUS_RATE: u32 = 48_000;
/// Longest packet (RFC 6716 3.2.5: 120 ms).
const MAX_PACKET_SAMPLES: u32 = 5760;

/// Why an Opus header could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpusError {
    /// Not starting with the `OpusHead` magic.
    #[error("no OpusHead magic")]
    NoMagic,
    /// Shorter than its fields.
    #[error("OpusHead truncated")]
    Truncated,
    /// A major version other than 0 (RFC 7845 5.1: incompatible).
    #[error("OpusHead version {0}")]
    BadVersion(u8),
    /// Zero channels, more than two in mapping family 0, or a channel
    /// mapping table that contradicts its stream counts.
    #[error("OpusHead channel layout")]
    BadChannels,
}

/// An `OpusHead` (RFC 7845 5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusHead {
    /// Output channel count.
    pub channels: u8,
    /// Samples (48 kHz) to drop at the start.
    pub pre_skip: u16,
    /// The input's sample rate (informational).
    pub input_sample_rate: u32,
    /// Output gain, Q7.8 dB.
    pub output_gain: i16,
    /// Channel mapping family.
    pub mapping_family: u8,
    /// For a family other than 0: stream count, coupled count and one
    /// mapping byte per channel.
    pub mapping: Option<(u8, u8, Vec<u8>)>,
}

impl OpusHead {
    /// Parses an `OpusHead`. An empty body (the E-RTMP spec allows one,
    /// the channel layout then comes from MultichannelConfig or defaults to
    /// mono/stereo) is stereo without pre-skip.
    pub fn parse(body: &[u8]) -> Result<Self, OpusError> {
        if body.is_empty() {
            return Ok(Self {
                channels: 2,
                pre_skip: 0,
                input_sample_rate: OPUS_RATE,
                output_gain: 0,
                mapping_family: 0,
                mapping: None,
            });
        }
        let rest = body.strip_prefix(b"OpusHead").ok_or(OpusError::NoMagic)?;
        let [version, channels, s0, s1, r0, r1, r2, r3, g0, g1, family, ref tail @ ..] = *rest
        else {
            return Err(OpusError::Truncated);
        };
        if version >> 4 != 0 {
            return Err(OpusError::BadVersion(version));
        }
        if channels == 0 {
            return Err(OpusError::BadChannels);
        }
        let mapping = if family == 0 {
            if channels > 2 {
                return Err(OpusError::BadChannels);
            }
            None
        } else {
            let [streams, coupled, ref table @ ..] = *tail else {
                return Err(OpusError::Truncated);
            };
            let table = table
                .get(..usize::from(channels))
                .ok_or(OpusError::Truncated)?;
            let decoded = u16::from(streams) + u16::from(coupled);
            if streams == 0
                || coupled > streams
                || table.iter().any(|&m| m != 255 && u16::from(m) >= decoded)
            {
                return Err(OpusError::BadChannels);
            }
            Some((streams, coupled, table.to_vec()))
        };
        Ok(Self {
            channels,
            pre_skip: u16::from_le_bytes([s0, s1]),
            input_sample_rate: u32::from_le_bytes([r0, r1, r2, r3]),
            output_gain: i16::from_le_bytes([g0, g1]),
            mapping_family: family,
            mapping,
        })
    }

    /// The `dOps` box body (Opus-in-ISOBMFF 4.3.2): the same fields,
    /// big-endian where `OpusHead` is little-endian, `Version` 0, no magic.
    pub fn dops(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(11 + usize::from(self.channels) + 2);
        out.push(0);
        out.push(self.channels);
        out.extend_from_slice(&self.pre_skip.to_be_bytes());
        out.extend_from_slice(&self.input_sample_rate.to_be_bytes());
        out.extend_from_slice(&self.output_gain.to_be_bytes());
        out.push(self.mapping_family);
        if let Some((streams, coupled, table)) = &self.mapping {
            out.push(*streams);
            out.push(*coupled);
            out.extend_from_slice(table);
        }
        out
    }
}

/// The duration of an Opus packet in 48 kHz samples, from its TOC byte
/// (RFC 6716 3.1: the configuration's frame size times the frame count of
/// code 0..=3). With several streams (E-RTMP multichannel) the first
/// packet speaks for all, since they must last as long. `None` for an empty
/// packet, a code 3 packet without its count byte or with 0 frames, or more
/// than 120 ms.
pub fn packet_samples(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config % 4)],
        12..=15 => [480, 960][usize::from(config % 2)],
        _ => [120, 240, 480, 960][usize::from(config % 4)],
    };
    let frames = match toc & 0x03 {
        0 => 1,
        1 | 2 => 2,
        _ => u32::from(packet.get(1)? & 0x3F),
    };
    let samples = frame * frames;
    (frames > 0 && samples <= MAX_PACKET_SAMPLES).then_some(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libopus_mono_header_becomes_dops() {
        // What ffmpeg 9 sends: mono, pre-skip 312, 48 kHz, no gain, family 0.
        let head = b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00";
        let h = OpusHead::parse(head).unwrap();
        assert_eq!(
            (h.channels, h.pre_skip, h.input_sample_rate),
            (1, 312, 48_000)
        );
        assert_eq!(
            h.dops(),
            [0, 1, 0x01, 0x38, 0x00, 0x00, 0xbb, 0x80, 0x00, 0x00, 0]
        );
    }

    #[test]
    fn surround_header_keeps_its_mapping() {
        // 5.1, family 1: 4 streams, 2 coupled, Vorbis order; gain -1 dB (-256).
        let mut head = b"OpusHead\x01\x06\x00\x01\x44\xac\x00\x00\x00\xff\x01\x04\x02".to_vec();
        head.extend_from_slice(&[0, 4, 1, 2, 3, 5]);
        let h = OpusHead::parse(&head).unwrap();
        assert_eq!(h.output_gain, -256);
        let dops = h.dops();
        assert_eq!(
            &dops[..11],
            &[0, 6, 0x01, 0x00, 0, 0, 0xac, 0x44, 0xff, 0x00, 1]
        );
        assert_eq!(&dops[11..], &[4, 2, 0, 4, 1, 2, 3, 5]);
    }

    #[test]
    fn empty_header_is_stereo() {
        let h = OpusHead::parse(&[]).unwrap();
        assert_eq!((h.channels, h.mapping_family), (2, 0));
        assert_eq!(h.dops().len(), 11);
    }

    #[test]
    fn hostile_headers() {
        assert_eq!(OpusHead::parse(b"OpusTags"), Err(OpusError::NoMagic));
        assert_eq!(
            OpusHead::parse(b"OpusHead\x01\x02"),
            Err(OpusError::Truncated)
        );
        let base = b"OpusHead\x01\x02\x00\x00\x80\xbb\x00\x00\x00\x00\x00";
        let mut v = base.to_vec();
        v[8] = 0x10;
        assert_eq!(OpusHead::parse(&v), Err(OpusError::BadVersion(0x10)));
        let mut v = base.to_vec();
        v[9] = 0;
        assert_eq!(OpusHead::parse(&v), Err(OpusError::BadChannels));
        let mut v = base.to_vec();
        v[9] = 3;
        assert_eq!(OpusHead::parse(&v), Err(OpusError::BadChannels));
        // Family 1 without its table, and with a mapping past the streams.
        let mut v = base.to_vec();
        v[18] = 1;
        assert_eq!(OpusHead::parse(&v), Err(OpusError::Truncated));
        v.extend_from_slice(&[1, 1, 0]);
        assert_eq!(OpusHead::parse(&v), Err(OpusError::Truncated));
        v.push(2);
        assert_eq!(OpusHead::parse(&v), Err(OpusError::BadChannels));
        v.pop();
        v.push(1);
        assert!(OpusHead::parse(&v).is_ok());
    }

    #[test]
    fn durations_from_the_toc() {
        // CELT 20 ms (config 31), one frame: 960.
        assert_eq!(packet_samples(&[0xf8, 0]), Some(960));
        // SILK 60 ms (config 3), two frames (code 1): 5760.
        assert_eq!(packet_samples(&[0x19]), Some(5760));
        // Hybrid 10 ms (config 12), code 3 with 3 frames: 1440.
        assert_eq!(packet_samples(&[0x63, 0x03]), Some(1440));
        // CELT 2.5 ms (config 16), code 2: 240.
        assert_eq!(packet_samples(&[0x82]), Some(240));
        // Code 3 without its count, with 0 frames, past 120 ms.
        assert_eq!(packet_samples(&[0x03]), None);
        assert_eq!(packet_samples(&[0xfb, 0x00]), None);
        assert_eq!(packet_samples(&[0x1b, 0x03]), None);
        assert_eq!(packet_samples(&[]), None);
    }
}
