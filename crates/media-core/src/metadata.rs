//! `onMetaData`: what an encoder says about its stream (FLV spec v10.1 E.5,
//! "onMetaData"; E-RTMP "Enhancing onMetaData" for FourCC codec ids).
//!
//! Publishers send it as an AMF0 data message `@setDataFrame, onMetaData,
//! {...}`; files and players see `onMetaData, {...}`. Both parse here, and
//! [`strip_set_data_frame`] / [`add_set_data_frame`] turn one into the other. Every
//! typed field is optional because encoders send what they like; the raw
//! properties are kept for everything else.

use bytes::{BufMut, Bytes, BytesMut};
use rtmp_proto::amf0::{self, Amf0Error, Amf0Value};

/// The command a publisher puts before a data message it wants the server
/// to keep and hand to every player (FMLE, ffmpeg, OBS).
pub const SET_DATA_FRAME: &str = "@setDataFrame";

/// `@setDataFrame` as an AMF0 string: marker 2, 16-bit length, the name.
const SET_DATA_FRAME_AMF0: &[u8] = b"\x02\x00\x0d@setDataFrame";

/// Turns a publisher's `@setDataFrame("onMetaData", {...})` into the
/// `onMetaData({...})` players expect (what SRS and FMS do). Other data
/// messages, and bodies that are not AMF0, pass unchanged. Returns `None` for
/// an empty body, which carries nothing to keep.
pub fn strip_set_data_frame(payload: &Bytes) -> Option<Bytes> {
    if payload.is_empty() {
        return None;
    }
    let Ok(values) = amf0::decode(payload) else {
        return Some(payload.clone());
    };
    match values.split_first() {
        Some((Amf0Value::String(name), rest)) if name == SET_DATA_FRAME => {
            let mut out = Vec::with_capacity(payload.len());
            amf0::encode(rest, &mut out);
            Some(Bytes::from(out))
        }
        _ => Some(payload.clone()),
    }
}

/// The other way: a data message as a publisher sends it, prefixed with
/// `@setDataFrame`; one that already is passes unchanged.
pub fn add_set_data_frame(payload: &Bytes) -> Bytes {
    if payload.starts_with(SET_DATA_FRAME_AMF0) {
        return payload.clone();
    }
    let mut b = BytesMut::with_capacity(SET_DATA_FRAME_AMF0.len() + payload.len());
    b.put_slice(SET_DATA_FRAME_AMF0);
    b.put_slice(payload);
    b.freeze()
}

/// Why a data message is not usable metadata.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetadataError {
    /// The AMF0 body does not decode.
    #[error("metadata: {0}")]
    Amf0(#[from] Amf0Error),
    /// The data message is not `onMetaData` (or `@setDataFrame` of it).
    #[error("not an onMetaData message")]
    NotMetadata,
    /// `onMetaData` is followed by something other than an object or ECMA array.
    #[error("onMetaData properties are not an object")]
    NotAnObject,
}

/// A codec id as `onMetaData` states it.
#[derive(Debug, Clone, PartialEq)]
pub enum CodecId {
    /// A legacy FLV id: video `CodecID` (7 = AVC, 12 = HEVC) or audio
    /// `SoundFormat` (10 = AAC, 2 = MP3).
    Id(u8),
    /// A FourCC (`avc1`, `hvc1`, `mp4a`, `Opus`), sent either as a 4-character
    /// string (FMLE style) or, as E-RTMP specifies, as the number whose
    /// big-endian bytes spell it.
    FourCc([u8; 4]),
    /// Anything else, as sent.
    Other(Amf0Value),
}

impl CodecId {
    fn from_value(v: &Amf0Value) -> Self {
        if let Some(n) = v.as_f64() {
            if n.fract() == 0.0 && (0.0..=255.0).contains(&n) {
                return Self::Id(n as u8);
            }
            if n.fract() == 0.0 && (256.0..=f64::from(u32::MAX)).contains(&n) {
                return Self::FourCc((n as u32).to_be_bytes());
            }
        }
        if let Some(s) = v.as_str() {
            if let Ok(b) = <[u8; 4]>::try_from(s.as_bytes()) {
                return Self::FourCc(b);
            }
        }
        Self::Other(v.clone())
    }
}

/// The typed fields of `onMetaData` plus every property as sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    /// Width in pixels.
    pub width: Option<f64>,
    /// Height in pixels.
    pub height: Option<f64>,
    /// Frames per second.
    pub framerate: Option<f64>,
    /// Video bitrate in kbit/s.
    pub videodatarate: Option<f64>,
    /// Audio bitrate in kbit/s.
    pub audiodatarate: Option<f64>,
    /// Video codec.
    pub videocodecid: Option<CodecId>,
    /// Audio codec.
    pub audiocodecid: Option<CodecId>,
    /// Sampling rate in Hz.
    pub audiosamplerate: Option<f64>,
    /// Stereo flag.
    pub stereo: Option<bool>,
    /// Duration in seconds (0 or absent for live).
    pub duration: Option<f64>,
    /// The encoder's name (e.g. `Lavf59.27.100`, `obs-output module`).
    pub encoder: Option<String>,
    /// Every property, in wire order.
    pub properties: Vec<(String, Amf0Value)>,
}

impl Metadata {
    /// Parses a data message body: `onMetaData, {...}` or
    /// `@setDataFrame, onMetaData, {...}`. A message with no properties value
    /// yields empty metadata.
    pub fn parse(body: &[u8]) -> Result<Self, MetadataError> {
        let values = amf0::decode(body)?;
        let mut rest = values.as_slice();
        if let Some((Amf0Value::String(s), tail)) = rest.split_first() {
            if s == SET_DATA_FRAME {
                rest = tail;
            }
        }
        match rest.split_first() {
            Some((Amf0Value::String(s), tail)) if s == "onMetaData" => match tail.first() {
                None => Ok(Self::default()),
                Some(v) => v
                    .properties()
                    .map(|p| Self::from_properties(p.to_vec()))
                    .ok_or(MetadataError::NotAnObject),
            },
            _ => Err(MetadataError::NotMetadata),
        }
    }

    /// Types the well-known properties. The first property of a name wins.
    pub fn from_properties(properties: Vec<(String, Amf0Value)>) -> Self {
        let mut m = Self {
            properties,
            ..Self::default()
        };
        m.width = m.number("width");
        m.height = m.number("height");
        m.framerate = m.number("framerate");
        m.videodatarate = m.number("videodatarate");
        m.audiodatarate = m.number("audiodatarate");
        m.videocodecid = m.get("videocodecid").map(CodecId::from_value);
        m.audiocodecid = m.get("audiocodecid").map(CodecId::from_value);
        m.audiosamplerate = m.number("audiosamplerate");
        m.stereo = m.get("stereo").and_then(Amf0Value::as_bool);
        m.duration = m.number("duration");
        m.encoder = m
            .get("encoder")
            .and_then(Amf0Value::as_str)
            .map(str::to_owned);
        m
    }

    fn number(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(Amf0Value::as_f64)
    }

    /// The first property named `key`.
    pub fn get(&self, key: &str) -> Option<&Amf0Value> {
        self.properties
            .iter()
            .find(|(n, _)| n == key)
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(values: &[Amf0Value]) -> Vec<u8> {
        let mut b = Vec::new();
        amf0::encode(values, &mut b);
        b
    }

    fn s(v: &str) -> Amf0Value {
        Amf0Value::String(v.into())
    }

    #[test]
    fn set_data_frame_and_plain_forms() {
        let props = Amf0Value::EcmaArray(vec![
            ("width".into(), Amf0Value::Number(640.0)),
            ("height".into(), Amf0Value::Number(360.0)),
            ("videocodecid".into(), s("hvc1")),
            ("audiocodecid".into(), Amf0Value::Number(10.0)),
            ("stereo".into(), Amf0Value::Boolean(true)),
            ("encoder".into(), s("Lavf")),
            ("custom".into(), Amf0Value::Null),
        ]);
        let m =
            Metadata::parse(&body(&[s("@setDataFrame"), s("onMetaData"), props.clone()])).unwrap();
        assert_eq!(
            (m.width, m.height, m.framerate),
            (Some(640.0), Some(360.0), None)
        );
        assert_eq!(m.videocodecid, Some(CodecId::FourCc(*b"hvc1")));
        assert_eq!(m.audiocodecid, Some(CodecId::Id(10)));
        assert_eq!((m.stereo, m.encoder.as_deref()), (Some(true), Some("Lavf")));
        assert_eq!(m.get("custom"), Some(&Amf0Value::Null));
        assert_eq!(m.properties.len(), 7);
        let plain = Metadata::parse(&body(&[s("onMetaData"), props])).unwrap();
        assert_eq!(plain, m);
    }

    #[test]
    fn set_data_frame_is_unwrapped_and_other_data_passes() {
        let props = Amf0Value::EcmaArray(vec![("width".into(), Amf0Value::Number(640.0))]);
        let wrapped = Bytes::from(body(&[s(SET_DATA_FRAME), s("onMetaData"), props.clone()]));
        let out = strip_set_data_frame(&wrapped).unwrap();
        let values = amf0::decode(&out).unwrap();
        assert_eq!(values[0], s("onMetaData"));
        assert_eq!(values.len(), 2);
        assert_eq!(Metadata::parse(&out), Metadata::parse(&wrapped));

        let plain = Bytes::from(body(&[s("onMetaData"), props]));
        assert_eq!(strip_set_data_frame(&plain).unwrap(), plain);
        let garbage = Bytes::from_static(&[0xff, 0x00]);
        assert_eq!(strip_set_data_frame(&garbage).unwrap(), garbage);
        assert!(strip_set_data_frame(&Bytes::new()).is_none());
    }

    #[test]
    fn set_data_frame_is_added_once() {
        let plain = Bytes::from(body(&[s("onMetaData")]));
        let wrapped = add_set_data_frame(&plain);
        assert_eq!(
            amf0::decode(&wrapped).unwrap(),
            [s(SET_DATA_FRAME), s("onMetaData")]
        );
        assert_eq!(add_set_data_frame(&wrapped), wrapped);
        assert_eq!(strip_set_data_frame(&wrapped).unwrap(), plain);
        // Not AMF0 at all: wrapped regardless, as a publisher would send it.
        assert!(add_set_data_frame(&Bytes::new()).starts_with(SET_DATA_FRAME_AMF0));
    }

    #[test]
    fn codec_ids_in_every_spelling() {
        let id = |v: Amf0Value| CodecId::from_value(&v);
        assert_eq!(id(Amf0Value::Number(7.0)), CodecId::Id(7));
        // E-RTMP: the FourCC as a number.
        let hvc1 = f64::from(u32::from_be_bytes(*b"hvc1"));
        assert_eq!(id(Amf0Value::Number(hvc1)), CodecId::FourCc(*b"hvc1"));
        assert_eq!(id(s("avc1")), CodecId::FourCc(*b"avc1"));
        assert_eq!(id(s("H264")), CodecId::FourCc(*b"H264"));
        assert_eq!(id(s("H.264")), CodecId::Other(s("H.264")));
        assert_eq!(
            id(Amf0Value::Number(7.5)),
            CodecId::Other(Amf0Value::Number(7.5))
        );
        assert_eq!(
            id(Amf0Value::Number(-1.0)),
            CodecId::Other(Amf0Value::Number(-1.0))
        );
        assert_eq!(
            id(Amf0Value::Number(1e12)),
            CodecId::Other(Amf0Value::Number(1e12))
        );
    }

    #[test]
    fn not_metadata() {
        assert_eq!(
            Metadata::parse(&body(&[s("onCuePoint"), Amf0Value::Object(vec![])])),
            Err(MetadataError::NotMetadata)
        );
        assert_eq!(
            Metadata::parse(&body(&[s("@setDataFrame")])),
            Err(MetadataError::NotMetadata)
        );
        assert_eq!(
            Metadata::parse(&body(&[s("onMetaData"), Amf0Value::Number(1.0)])),
            Err(MetadataError::NotAnObject)
        );
        assert_eq!(
            Metadata::parse(&body(&[s("onMetaData")])),
            Ok(Metadata::default())
        );
        assert!(matches!(
            Metadata::parse(&[0x02, 0x00]),
            Err(MetadataError::Amf0(_))
        ));
    }
}
