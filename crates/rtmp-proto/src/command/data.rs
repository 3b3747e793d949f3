//! Data messages (RTMP spec 7.1.2, type 18; type 15 with a 0 format byte):
//! a handler name followed by AMF0 values.

use bytes::Bytes;

use super::codec::{amf0_body, split_name};
use super::CommandError;
use crate::amf0::{self, Amf0Value};
use crate::message::{MessageType, RawMessage};

/// The handler a publisher uses to store metadata on the server ("set data
/// frame"); the server strips it and sends players the inner `onMetaData`.
pub const SET_DATA_FRAME: &str = "@setDataFrame";
/// The metadata handler players receive.
pub const ON_META_DATA: &str = "onMetaData";
/// The handler granting a Flash player raw access to audio and video samples.
pub const SAMPLE_ACCESS: &str = "|RtmpSampleAccess";

/// One decoded data message.
#[derive(Debug, Clone, PartialEq)]
pub enum DataMessage {
    /// `@setDataFrame`, handler (usually `onMetaData`), then its arguments:
    /// what FMLE, OBS and ffmpeg send to publish metadata.
    SetDataFrame {
        /// The inner handler name, usually `onMetaData`.
        handler: String,
        /// Its arguments: for `onMetaData`, the metadata object (ECMA array
        /// or object).
        args: Vec<Amf0Value>,
    },
    /// `onMetaData` with its metadata object (null when absent).
    OnMetaData(Amf0Value),
    /// `|RtmpSampleAccess` (audio, video): lets a Flash player read samples.
    SampleAccess {
        /// Audio sample access.
        audio: bool,
        /// Video sample access.
        video: bool,
    },
    /// Any other handler (e.g. `onStatus` carrying `NetStream.Data.Start`,
    /// `onTextData`, `onCuePoint`), kept whole.
    Unknown {
        /// The handler name.
        name: String,
        /// The values after the name.
        args: Vec<Amf0Value>,
    },
}

impl DataMessage {
    /// Decodes a data message (type 18, or type 15 with a 0 format byte).
    pub fn decode(msg: &RawMessage) -> Result<Self, CommandError> {
        match msg.type_id {
            MessageType::DataAmf0 | MessageType::DataAmf3 => {}
            other => return Err(CommandError::NotCommand(other)),
        }
        Self::from_values(amf0::decode(amf0_body(msg)?)?)
    }

    /// Builds a data message from its decoded AMF0 values.
    pub fn from_values(values: Vec<Amf0Value>) -> Result<Self, CommandError> {
        let (name, args) = split_name(values)?;
        Ok(match name.as_str() {
            SET_DATA_FRAME if args.first().and_then(Amf0Value::as_str).is_some() => {
                let (handler, args) = split_name(args)?;
                Self::SetDataFrame { handler, args }
            }
            ON_META_DATA => Self::OnMetaData(args.into_iter().next().unwrap_or(Amf0Value::Null)),
            SAMPLE_ACCESS => {
                let flag = |v: Option<&Amf0Value>| v.and_then(Amf0Value::as_bool).unwrap_or(false);
                Self::SampleAccess {
                    audio: flag(args.first()),
                    video: flag(args.get(1)),
                }
            }
            _ => Self::Unknown { name, args },
        })
    }

    /// The metadata object of an `onMetaData`, or of an `@setDataFrame`
    /// whose handler is `onMetaData`.
    pub fn metadata(&self) -> Option<&Amf0Value> {
        match self {
            Self::OnMetaData(v) => Some(v),
            Self::SetDataFrame { handler, args } if handler == ON_META_DATA => args.first(),
            _ => None,
        }
    }

    /// The AMF0 values of the body, in wire order.
    pub fn to_values(&self) -> Vec<Amf0Value> {
        let s = |v: &str| Amf0Value::String(v.to_owned());
        match self {
            Self::SetDataFrame { handler, args } => {
                let mut out = vec![s(SET_DATA_FRAME), s(handler)];
                out.extend(args.iter().cloned());
                out
            }
            Self::OnMetaData(v) => vec![s(ON_META_DATA), v.clone()],
            Self::SampleAccess { audio, video } => vec![
                s(SAMPLE_ACCESS),
                Amf0Value::Boolean(*audio),
                Amf0Value::Boolean(*video),
            ],
            Self::Unknown { name, args } => {
                let mut out = vec![s(name)];
                out.extend(args.iter().cloned());
                out
            }
        }
    }

    /// The AMF0 body (a type 18 payload).
    pub fn encode(&self) -> Bytes {
        let mut out = Vec::new();
        amf0::encode(&self.to_values(), &mut out);
        Bytes::from(out)
    }

    /// A type 18 message on chunk stream `csid`, message stream `stream_id`,
    /// at `timestamp`.
    pub fn to_message(&self, csid: u32, stream_id: u32, timestamp: u64) -> RawMessage {
        RawMessage {
            csid,
            timestamp,
            type_id: MessageType::DataAmf0,
            stream_id,
            payload: self.encode(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Amf0Value {
        Amf0Value::String(v.to_owned())
    }

    #[test]
    fn set_data_frame_exposes_the_metadata_and_roundtrips() {
        let meta = Amf0Value::EcmaArray(vec![("width".into(), Amf0Value::Number(1280.0))]);
        let all = [
            DataMessage::SetDataFrame {
                handler: ON_META_DATA.into(),
                args: vec![meta.clone()],
            },
            DataMessage::OnMetaData(meta.clone()),
            DataMessage::SampleAccess {
                audio: true,
                video: false,
            },
            DataMessage::Unknown {
                name: "onTextData".into(),
                args: vec![s("hi")],
            },
        ];
        for d in all {
            let m = d.to_message(4, 1, 0);
            let back = DataMessage::decode(&m).unwrap();
            assert_eq!(back, d);
            if !matches!(
                d,
                DataMessage::SampleAccess { .. } | DataMessage::Unknown { .. }
            ) {
                assert_eq!(back.metadata(), Some(&meta));
            } else {
                assert_eq!(back.metadata(), None);
            }
        }
    }

    #[test]
    fn srs_sample_access_vector_bytes() {
        // Body of SRS's SrsSampleAccessPacket utest vector (true, true).
        let body = b"\x02\x00\x11|RtmpSampleAccess\x01\x01\x01\x01";
        let d = DataMessage::from_values(amf0::decode(body).unwrap()).unwrap();
        assert_eq!(
            d,
            DataMessage::SampleAccess {
                audio: true,
                video: true
            }
        );
        assert_eq!(&d.encode()[..], &body[..]);
    }

    #[test]
    fn malformed_bodies_are_errors() {
        let m = |payload: &'static [u8], type_id| RawMessage {
            csid: 4,
            timestamp: 0,
            type_id,
            stream_id: 1,
            payload: Bytes::from_static(payload),
        };
        assert!(DataMessage::decode(&m(b"\x00\x00\x00", MessageType::DataAmf0)).is_err());
        assert!(DataMessage::decode(&m(b"", MessageType::DataAmf0)).is_err());
        assert!(DataMessage::decode(&m(b"\x05", MessageType::DataAmf3)).is_err());
        assert!(DataMessage::decode(&m(b"\x02\x00\x01x", MessageType::Audio)).is_err());
        let d = DataMessage::decode(&m(b"\x00\x02\x00\x01x", MessageType::DataAmf3)).unwrap();
        assert_eq!(
            d,
            DataMessage::Unknown {
                name: "x".into(),
                args: vec![]
            }
        );
    }
}
