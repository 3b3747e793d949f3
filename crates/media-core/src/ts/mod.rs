//! MPEG-2 transport stream muxing (ISO/IEC 13818-1), as HLS segments carry it
//! (RFC 8216 3.2).
//!
//! [`TsMuxer`] turns [`EsFrame`]s (Annex-B video access units, ADTS or MPEG
//! audio frames, 90 kHz timestamps) into 188-byte packets: PAT/PMT with
//! CRC-32, PES with 33-bit PTS/DTS, PCR on the video PID (audio for
//! audio-only), per-PID continuity counters, adaptation-field stuffing and the
//! random access indicator on key frames.

mod crc32;
mod frame;
mod muxer;
mod packet;
mod pes;
mod psi;

pub use frame::{EsFrame, EsPayload, Track};
pub use muxer::{
    AudioCodec, TsError, TsMuxer, TsStreams, VideoCodec, PID_AUDIO, PID_PAT, PID_PMT, PID_VIDEO,
};
pub use packet::{SYNC_BYTE, TS_PACKET_SIZE};
pub use pes::TIMESTAMP_MASK;
