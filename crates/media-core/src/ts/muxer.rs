//! The transport stream muxer: one program, at most one video and one audio
//! elementary stream (ISO/IEC 13818-1 2.4).

use bytes::BytesMut;

use super::frame::{EsFrame, Track};
use super::packet::{write_pes, write_section, PesStart};
use super::pes::{PesHeader, STREAM_ID_AUDIO, STREAM_ID_VIDEO, TIMESTAMP_MASK};
use super::psi::{pat, pmt, PmtStream};

/// PID of the program association table (fixed by 2.4.4.4).
pub const PID_PAT: u16 = 0x0000;
/// PID of the program map table (the value ffmpeg uses).
pub const PID_PMT: u16 = 0x1000;
/// PID of the video elementary stream.
pub const PID_VIDEO: u16 = 0x0100;
/// PID of the audio elementary stream.
pub const PID_AUDIO: u16 = 0x0101;
/// PCR_PID meaning "no PCR in this program" (2.4.4.9).
const PID_NONE: u16 = 0x1FFF;

/// Video codecs a transport stream can carry here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    /// H.264 / AVC, stream_type 0x1B.
    H264,
    /// H.265 / HEVC, stream_type 0x24.
    Hevc,
}

impl VideoCodec {
    /// Table 2-34 stream_type.
    pub fn stream_type(self) -> u8 {
        match self {
            VideoCodec::H264 => 0x1B,
            VideoCodec::Hevc => 0x24,
        }
    }
}

/// Audio codecs a transport stream can carry here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    /// AAC in ADTS frames (ISO/IEC 13818-7), stream_type 0x0F.
    Aac,
    /// MPEG-1 audio (MP3 at 32/44.1/48 kHz), stream_type 0x03.
    Mp3,
    /// MPEG-2 low sampling frequency audio (MP3 at 16/22.05/24 kHz and the
    /// MPEG-2.5 extension), stream_type 0x04.
    Mp3Lsf,
}

impl AudioCodec {
    /// Table 2-34 stream_type.
    pub fn stream_type(self) -> u8 {
        match self {
            AudioCodec::Aac => 0x0F,
            AudioCodec::Mp3 => 0x03,
            AudioCodec::Mp3Lsf => 0x04,
        }
    }
}

/// The elementary streams of the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TsStreams {
    /// The video stream, if any.
    pub video: Option<VideoCodec>,
    /// The audio stream, if any.
    pub audio: Option<AudioCodec>,
}

/// A frame the muxer cannot place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TsError {
    /// The frame's track is not in the program (see [`TsMuxer::set_streams`]).
    #[error("no {0:?} stream in this program")]
    NoSuchTrack(Track),
}

/// Writes PAT/PMT and frames as 188-byte packets.
///
/// The muxer is meant to live as long as the stream: its continuity counters
/// carry on from one HLS segment to the next, so a player that concatenates
/// segments sees no counter jumps.
#[derive(Debug, Clone)]
pub struct TsMuxer {
    streams: TsStreams,
    pmt_version: u8,
    cc_pat: u8,
    cc_pmt: u8,
    cc_video: u8,
    cc_audio: u8,
}

impl TsMuxer {
    /// A muxer for this set of streams.
    pub fn new(streams: TsStreams) -> Self {
        Self {
            streams,
            pmt_version: 0,
            cc_pat: 0,
            cc_pmt: 0,
            cc_video: 0,
            cc_audio: 0,
        }
    }

    /// The current program.
    pub fn streams(&self) -> TsStreams {
        self.streams
    }

    /// Changes the program (a codec appeared or changed). The PMT version
    /// number advances (2.4.4.9: version_number changes with the PMT) and the
    /// continuity counters carry on. Call [`write_psi`](Self::write_psi) next.
    pub fn set_streams(&mut self, streams: TsStreams) {
        if streams != self.streams {
            self.streams = streams;
            self.pmt_version = (self.pmt_version + 1) & 0x1F;
        }
    }

    /// The PID with the PCR: video if present, else audio (2.4.4.9 PCR_PID).
    pub fn pcr_pid(&self) -> Option<u16> {
        if self.streams.video.is_some() {
            Some(PID_VIDEO)
        } else if self.streams.audio.is_some() {
            Some(PID_AUDIO)
        } else {
            None
        }
    }

    /// Appends one PAT and one PMT packet. HLS writes these at the start of
    /// every segment so that each segment decodes on its own (RFC 8216 3.2).
    pub fn write_psi(&mut self, out: &mut BytesMut) {
        write_section(out, PID_PAT, &mut self.cc_pat, pat(PID_PMT).bytes());
        let mut list = [PmtStream {
            stream_type: 0,
            pid: 0,
        }; 2];
        let mut n = 0;
        if let Some(v) = self.streams.video {
            list[n] = PmtStream {
                stream_type: v.stream_type(),
                pid: PID_VIDEO,
            };
            n += 1;
        }
        if let Some(a) = self.streams.audio {
            list[n] = PmtStream {
                stream_type: a.stream_type(),
                pid: PID_AUDIO,
            };
            n += 1;
        }
        let pcr_pid = self.pcr_pid().unwrap_or(PID_NONE);
        let section = pmt(self.pmt_version, pcr_pid, &list[..n]);
        write_section(out, PID_PMT, &mut self.cc_pmt, section.bytes());
    }

    /// Appends one frame as a PES packet cut into transport packets. The
    /// payload is copied once, straight into the packets.
    ///
    /// A PTS below the DTS (a negative composition offset) is raised to the
    /// DTS, since a frame cannot be shown before it is decoded. Timestamps are
    /// wrapped to 33 bits. The first packet carries a PCR equal to the DTS when
    /// this stream holds the PCR, and the random_access_indicator on a key
    /// frame.
    pub fn write_frame(&mut self, frame: &EsFrame, out: &mut BytesMut) -> Result<(), TsError> {
        let (pid, stream_id) = match frame.track {
            Track::Video if self.streams.video.is_some() => (PID_VIDEO, STREAM_ID_VIDEO),
            Track::Audio if self.streams.audio.is_some() => (PID_AUDIO, STREAM_ID_AUDIO),
            t => return Err(TsError::NoSuchTrack(t)),
        };
        let pts = frame.pts.max(frame.dts);
        let header = PesHeader::new(stream_id, pts, frame.dts, frame.data.len());
        let start = PesStart {
            pcr: (self.pcr_pid() == Some(pid)).then_some(frame.dts & TIMESTAMP_MASK),
            random_access: frame.keyframe,
        };
        let cc = match frame.track {
            Track::Video => &mut self.cc_video,
            Track::Audio => &mut self.cc_audio,
        };
        write_pes(out, pid, cc, start, header.bytes(), &frame.data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::frame::EsPayload;
    use super::*;

    fn frame(track: Track, n: usize) -> EsFrame {
        EsFrame {
            track,
            pts: 3600,
            dts: 0,
            keyframe: true,
            data: EsPayload::from(vec![7u8; n]),
        }
    }

    #[test]
    fn rejects_tracks_outside_the_program() {
        let mut m = TsMuxer::new(TsStreams {
            video: None,
            audio: Some(AudioCodec::Aac),
        });
        let mut out = BytesMut::new();
        assert_eq!(
            m.write_frame(&frame(Track::Video, 10), &mut out),
            Err(TsError::NoSuchTrack(Track::Video))
        );
        assert!(out.is_empty());
        assert_eq!(m.pcr_pid(), Some(PID_AUDIO));
        m.write_frame(&frame(Track::Audio, 10), &mut out).unwrap();
        assert_eq!(out.len(), 188);
    }

    #[test]
    fn pmt_version_advances_and_counters_continue() {
        let mut m = TsMuxer::new(TsStreams {
            video: Some(VideoCodec::H264),
            audio: None,
        });
        let mut out = BytesMut::new();
        m.write_psi(&mut out);
        m.set_streams(TsStreams {
            video: Some(VideoCodec::H264),
            audio: Some(AudioCodec::Aac),
        });
        m.write_psi(&mut out);
        let second_pmt = &out[188 * 3..188 * 4];
        assert_eq!(second_pmt[3] & 0x0F, 1, "PMT continuity counter continues");
        assert_eq!((second_pmt[10] >> 1) & 0x1F, 1, "PMT version advanced");
    }
}
