//! `onMetaData`: what an encoder says about its stream (FLV spec E.5).

use rtmp_proto::amf0::{self, Amf0Error, Amf0Value};

/// Why a data message is not usable metadata.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetadataError {
    /// The AMF0 body does not decode.
    #[error("metadata: {0}")]
    Amf0(#[from] Amf0Error),
    /// The data message is not `onMetaData` (or `@setDataFrame` of it).
    #[error("not an onMetaData message")]
    NotMetadata,
}

/// The typed fields of `onMetaData`; every field is optional because encoders
/// send what they like.
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
    /// Video codec: an FLV codec id number, or a FourCC string (E-RTMP).
    pub videocodecid: Option<Amf0Value>,
    /// Audio codec: an FLV sound format number, or a FourCC string.
    pub audiocodecid: Option<Amf0Value>,
    /// Sampling rate in Hz.
    pub audiosamplerate: Option<f64>,
    /// Stereo flag.
    pub stereo: Option<bool>,
    /// Duration in seconds (0 for live).
    pub duration: Option<f64>,
    /// The encoder's name.
    pub encoder: Option<String>,
    /// Every property as sent, in order.
    pub properties: Vec<(String, Amf0Value)>,
}

impl Metadata {
    /// Parses a data message body: `onMetaData, {...}` or
    /// `@setDataFrame, onMetaData, {...}`.
    pub fn parse(body: &[u8]) -> Result<Self, MetadataError> {
        let values = amf0::decode(body)?;
        let mut rest = values.as_slice();
        if let Some(Amf0Value::String(s)) = rest.first() {
            if s == "@setDataFrame" {
                rest = &rest[1..];
            }
        }
        match rest.first() {
            Some(Amf0Value::String(s)) if s == "onMetaData" => {}
            _ => return Err(MetadataError::NotMetadata),
        }
        let properties = rest
            .get(1)
            .and_then(|v| v.properties())
            .map(<[_]>::to_vec)
            .unwrap_or_default();
        let num = |k: &str| properties.iter().find(|(n, _)| n == k).and_then(|(_, v)| v.as_f64());
        let val = |k: &str| properties.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        Ok(Self {
            width: num("width"),
            height: num("height"),
            framerate: num("framerate"),
            videodatarate: num("videodatarate"),
            audiodatarate: num("audiodatarate"),
            videocodecid: val("videocodecid"),
            audiocodecid: val("audiocodecid"),
            audiosamplerate: num("audiosamplerate"),
            stereo: properties.iter().find(|(n, _)| n == "stereo").and_then(|(_, v)| v.as_bool()),
            duration: num("duration"),
            encoder: properties
                .iter()
                .find(|(n, _)| n == "encoder")
                .and_then(|(_, v)| v.as_str())
                .map(str::to_owned),
            properties,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_data_frame_and_plain_forms() {
        let obj = Amf0Value::EcmaArray(vec![
            ("width".into(), Amf0Value::Number(640.0)),
            ("videocodecid".into(), Amf0Value::String("hvc1".into())),
            ("stereo".into(), Amf0Value::Boolean(true)),
            ("encoder".into(), Amf0Value::String("Lavf".into())),
        ]);
        let mut body = Vec::new();
        amf0::encode(&[Amf0Value::String("@setDataFrame".into()), Amf0Value::String("onMetaData".into()), obj.clone()], &mut body);
        let m = Metadata::parse(&body).unwrap();
        assert_eq!(m.width, Some(640.0));
        assert_eq!(m.videocodecid, Some(Amf0Value::String("hvc1".into())));
        assert_eq!((m.stereo, m.encoder.as_deref()), (Some(true), Some("Lavf")));
        let mut body = Vec::new();
        amf0::encode(&[Amf0Value::String("onCuePoint".into()), obj], &mut body);
        assert_eq!(Metadata::parse(&body), Err(MetadataError::NotMetadata));
    }
}
