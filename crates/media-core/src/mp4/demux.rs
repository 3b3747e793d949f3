//! Reading an MP4 file's index (ISO/IEC 14496-12): where each frame lies,
//! its times, whether it is a sync sample, and the tracks' decoder
//! configurations. Frame bytes are never read here.
//!
//! Two layouts are understood: a `moov` with sample tables (`stts`, `ctts`,
//! `stss`, `stsz`, `stsc`, `stco`/`co64`, 8.6 and 8.7), as ffmpeg and every
//! camera write, and fragments (`moof` with `tfhd`/`tfdt`/`trun`, 8.8), as
//! this server's DVR writes while recording. H.264 (`avc1`/`avc3` with
//! `avcC`), H.265 (`hvc1`/`hev1` with `hvcC`) and AAC (`mp4a` with an `esds`
//! of object type 0x40 or 0x66..0x68) tracks are kept, the first of each
//! kind; other tracks are ignored.
//!
//! Hostile input: every read goes through a bounded cursor, box sizes are
//! checked against their parent and the file, the boxes read whole
//! (`moov`, `moof`) have size limits, and the frame count is capped
//! ([`MAX_SAMPLES`]).

use rtmp_proto::reader::{Reader, Truncated};

use crate::message::MediaKind;
use crate::vod::{
    sequence_header, IndexError, IndexedSample, MediaIndex, ReadRequest, SampleForm, MAX_SAMPLES,
};

/// Largest `moov` read (a three-hour file's tables are a few tens of MiB).
pub const MAX_MOOV_BYTES: u64 = 64 * 1024 * 1024;
/// Largest `moof` read (ours hold one GOP's table, a few KiB).
pub const MAX_MOOF_BYTES: u64 = 16 * 1024 * 1024;
/// Top-level boxes walked at most (each costs a read).
pub const MAX_TOP_LEVEL_BOXES: usize = 500_000;
/// Box nesting followed at most.
const MAX_DEPTH: usize = 8;
/// Bytes read for a top-level box header (size, type, 64-bit size).
const BOX_HEADER_READ: usize = 16;

/// Why an MP4 file's index could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mp4DemuxError {
    /// A box or table ended early.
    #[error("truncated: {0}")]
    Truncated(#[from] Truncated),
    /// A box size below its header or past its parent.
    #[error("bad size {size} of box {kind}")]
    BadBoxSize {
        /// The box type.
        kind: String,
        /// Its declared size.
        size: u64,
    },
    /// A `moov` or `moof` larger than the limit.
    #[error("box {kind} of {size} bytes is over the limit")]
    BoxTooLarge {
        /// The box type.
        kind: String,
        /// Its declared size.
        size: u64,
    },
    /// More top-level boxes than [`MAX_TOP_LEVEL_BOXES`].
    #[error("too many boxes")]
    TooManyBoxes,
    /// Not an MP4 file: no `moov`.
    #[error("no moov box")]
    NoMoov,
    /// A table that contradicts another (more chunks than offsets, a zero
    /// timescale, ...).
    #[error("inconsistent {0}")]
    Inconsistent(&'static str),
}

impl From<Truncated> for IndexError {
    fn from(e: Truncated) -> Self {
        Self::Mp4(e.into())
    }
}

fn kind_name(kind: [u8; 4]) -> String {
    String::from_utf8_lossy(&kind).into_owned()
}

/// A box's type and body.
pub(super) type Child<'a> = ([u8; 4], &'a [u8]);

/// Splits `data` into its child boxes (also what this module's tests and
/// the muxer's read written files back with).
pub(super) fn children(data: &[u8]) -> Result<Vec<Child<'_>>, Mp4DemuxError> {
    let mut out = Vec::new();
    let mut r = Reader::new(data);
    while r.remaining() >= 8 {
        let size = u64::from(r.u32()?);
        let mut kind = [0u8; 4];
        kind.copy_from_slice(r.take(4)?);
        let (header, size) = match size {
            0 => (8, 8 + r.remaining() as u64),
            1 => (16, r.u64()?),
            s => (8, s),
        };
        if size < header || size - header > r.remaining() as u64 {
            return Err(Mp4DemuxError::BadBoxSize {
                kind: kind_name(kind),
                size,
            });
        }
        out.push((kind, r.take((size - header) as usize)?));
    }
    Ok(out)
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Result<Option<&'a [u8]>, Mp4DemuxError> {
    Ok(children(data)?
        .into_iter()
        .find(|(k, _)| k == kind)
        .map(|(_, b)| b))
}

/// A box nested along `path`, if present.
fn nested<'a>(data: &'a [u8], path: &[&[u8; 4]]) -> Result<Option<&'a [u8]>, Mp4DemuxError> {
    let mut at = data;
    for kind in path.iter().take(MAX_DEPTH) {
        match child(at, kind)? {
            Some(b) => at = b,
            None => return Ok(None),
        }
    }
    Ok(Some(at))
}

/// A full box's (version, flags) and its fields' reader.
fn full_box(body: &[u8]) -> Result<(u8, u32, Reader<'_>), Mp4DemuxError> {
    let mut r = Reader::new(body);
    let vf = r.u32()?;
    Ok(((vf >> 24) as u8, vf & 0x00FF_FFFF, r))
}

/// `trex` defaults (8.8.3) of one track.
#[derive(Debug, Clone, Copy, Default)]
struct TrackDefaults {
    duration: u32,
    size: u32,
    flags: u32,
}

/// `sample_is_non_sync_sample` in sample flags (8.8.3.1).
const NON_SYNC: u32 = 0x0001_0000;

#[derive(Debug)]
struct Track {
    id: u32,
    timescale: u32,
    form: SampleForm,
    kind: MediaKind,
    defaults: TrackDefaults,
    /// Frames in the track's timescale: (offset, size, dts, cts, sync, duration).
    samples: Vec<(u64, u32, u64, i64, bool, u32)>,
    /// Where the next fragment's samples start without a `tfdt`.
    next_dts: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    BoxHeader,
    /// A box read whole: its type, where it starts, where its body starts
    /// and the body's length.
    Body {
        kind: [u8; 4],
        box_start: u64,
        start: u64,
        len: u64,
    },
    Done,
}

/// Reads an MP4 file's boxes; see [`FileIndexer`](crate::vod::FileIndexer).
#[derive(Debug)]
pub struct Mp4Indexer {
    file_len: u64,
    pos: u64,
    phase: Phase,
    boxes: usize,
    tracks: Vec<Track>,
    headers: Vec<crate::MediaMessage>,
    saw_moov: bool,
    total_samples: usize,
}

impl Mp4Indexer {
    /// An indexer for a file of `file_len` bytes.
    pub fn new(file_len: u64) -> Self {
        Self {
            file_len,
            pos: 0,
            phase: Phase::BoxHeader,
            boxes: 0,
            tracks: Vec::new(),
            headers: Vec::new(),
            saw_moov: false,
            total_samples: 0,
        }
    }

    /// See [`FileIndexer::want`](crate::vod::FileIndexer::want).
    pub fn want(&self) -> Option<ReadRequest> {
        match self.phase {
            Phase::Done => None,
            Phase::BoxHeader if self.pos.saturating_add(8) > self.file_len => None,
            Phase::BoxHeader => Some(ReadRequest {
                offset: self.pos,
                len: BOX_HEADER_READ,
            }),
            Phase::Body { start, len, .. } => Some(ReadRequest {
                offset: start,
                len: usize::try_from(len).unwrap_or(usize::MAX),
            }),
        }
    }

    /// See [`FileIndexer::feed`](crate::vod::FileIndexer::feed).
    pub fn feed(&mut self, data: &[u8]) -> Result<(), IndexError> {
        match self.phase {
            Phase::Done => Err(IndexError::NotWaiting),
            Phase::BoxHeader => self.header(data),
            Phase::Body {
                kind,
                box_start,
                len,
                ..
            } => {
                if (data.len() as u64) < len {
                    // The file ended inside the box (a recording cut short).
                    self.phase = Phase::Done;
                    return Ok(());
                }
                match &kind {
                    b"moov" => self.moov(data)?,
                    _ => self.moof(data, box_start)?,
                }
                self.phase = Phase::BoxHeader;
                Ok(())
            }
        }
    }

    fn header(&mut self, data: &[u8]) -> Result<(), IndexError> {
        self.boxes += 1;
        if self.boxes > MAX_TOP_LEVEL_BOXES {
            return Err(Mp4DemuxError::TooManyBoxes.into());
        }
        let mut r = Reader::new(data);
        let (Ok(size), Ok(kind)) = (r.u32(), r.take(4)) else {
            self.phase = Phase::Done;
            return Ok(());
        };
        let mut name = [0u8; 4];
        name.copy_from_slice(kind);
        let left = self.file_len - self.pos;
        let (header, size) = match size {
            0 => (8, left),
            1 => match r.u64() {
                Ok(s) => (16, s),
                Err(_) => {
                    self.phase = Phase::Done;
                    return Ok(());
                }
            },
            s => (8, u64::from(s)),
        };
        if size < header {
            return Err(Mp4DemuxError::BadBoxSize {
                kind: kind_name(name),
                size,
            }
            .into());
        }
        if size > left {
            // Cut short: what came before is the file.
            self.phase = Phase::Done;
            return Ok(());
        }
        let limit = match &name {
            b"moov" => Some(MAX_MOOV_BYTES),
            b"moof" if self.saw_moov => Some(MAX_MOOF_BYTES),
            _ => None,
        };
        let box_start = self.pos;
        let start = self.pos + header;
        self.pos += size;
        if let Some(limit) = limit {
            if size > limit {
                return Err(Mp4DemuxError::BoxTooLarge {
                    kind: kind_name(name),
                    size,
                }
                .into());
            }
            self.phase = Phase::Body {
                kind: name,
                box_start,
                start,
                len: size - header,
            };
        }
        Ok(())
    }

    fn moov(&mut self, body: &[u8]) -> Result<(), IndexError> {
        if self.saw_moov {
            return Ok(());
        }
        self.saw_moov = true;
        let mut trex = Vec::new();
        if let Some(mvex) = child(body, b"mvex")? {
            for (k, b) in children(mvex)? {
                if &k == b"trex" {
                    let (_, _, mut r) = full_box(b)?;
                    let id = r.u32()?;
                    r.skip(4)?; // default_sample_description_index
                    let defaults = TrackDefaults {
                        duration: r.u32()?,
                        size: r.u32()?,
                        flags: r.u32()?,
                    };
                    trex.push((id, defaults));
                }
            }
        }
        for (k, trak) in children(body)? {
            if &k != b"trak" {
                continue;
            }
            if let Some(mut track) = self.trak(trak)? {
                if self.tracks.iter().any(|t| t.kind == track.kind) {
                    continue;
                }
                if let Some((_, d)) = trex.iter().find(|(id, _)| *id == track.id) {
                    track.defaults = *d;
                }
                self.tracks.push(track);
            }
        }
        Ok(())
    }

    /// One `trak`: its kind, timescale, configuration and sample tables;
    /// `None` for a track of another kind or codec.
    fn trak(&mut self, trak: &[u8]) -> Result<Option<Track>, IndexError> {
        let Some(tkhd) = child(trak, b"tkhd")? else {
            return Ok(None);
        };
        let (version, _, mut r) = full_box(tkhd)?;
        r.skip(if version == 1 { 16 } else { 8 })?;
        let id = r.u32()?;
        let Some(mdia) = child(trak, b"mdia")? else {
            return Ok(None);
        };
        let Some(mdhd) = child(mdia, b"mdhd")? else {
            return Ok(None);
        };
        let (version, _, mut r) = full_box(mdhd)?;
        r.skip(if version == 1 { 16 } else { 8 })?;
        let timescale = r.u32()?;
        if timescale == 0 {
            return Err(Mp4DemuxError::Inconsistent("zero timescale").into());
        }
        let Some(stbl) = nested(mdia, &[b"minf", b"stbl"])? else {
            return Ok(None);
        };
        let Some(stsd) = child(stbl, b"stsd")? else {
            return Ok(None);
        };
        let Some((form, config)) = sample_entry(stsd)? else {
            return Ok(None);
        };
        let kind = match form {
            SampleForm::Aac => MediaKind::Audio,
            _ => MediaKind::Video,
        };
        if self.tracks.iter().any(|t| t.kind == kind) {
            return Ok(None);
        }
        self.headers.push(sequence_header(form, &config));
        let mut track = Track {
            id,
            timescale,
            form,
            kind,
            defaults: TrackDefaults::default(),
            samples: Vec::new(),
            next_dts: 0,
        };
        self.tables(stbl, &mut track)?;
        Ok(Some(track))
    }

    /// Expands the sample tables (8.6.1.2 stts, 8.6.1.3 ctts, 8.6.2 stss,
    /// 8.7.3 stsz, 8.7.4 stsc, 8.7.5 stco/co64) into frames.
    fn tables(&mut self, stbl: &[u8], track: &mut Track) -> Result<(), IndexError> {
        let Some(stsz) = child(stbl, b"stsz")? else {
            return Ok(());
        };
        let (_, _, mut sizes) = full_box(stsz)?;
        let fixed = sizes.u32()?;
        let count = sizes.u32()? as usize;
        if count == 0 {
            return Ok(());
        }
        if self.total_samples.saturating_add(count) > MAX_SAMPLES {
            return Err(IndexError::TooManySamples);
        }
        if fixed == 0 && sizes.remaining() / 4 < count {
            return Err(Mp4DemuxError::Inconsistent("stsz shorter than its count").into());
        }
        // Chunk offsets.
        let mut chunks = Vec::new();
        if let Some(stco) = child(stbl, b"stco")? {
            let (_, _, mut r) = full_box(stco)?;
            let n = r.u32()? as usize;
            for _ in 0..n.min(r.remaining() / 4) {
                chunks.push(u64::from(r.u32()?));
            }
        } else if let Some(co64) = child(stbl, b"co64")? {
            let (_, _, mut r) = full_box(co64)?;
            let n = r.u32()? as usize;
            for _ in 0..n.min(r.remaining() / 8) {
                chunks.push(r.u64()?);
            }
        }
        let mut stsc = Vec::new();
        if let Some(b) = child(stbl, b"stsc")? {
            let (_, _, mut r) = full_box(b)?;
            let n = r.u32()? as usize;
            for _ in 0..n.min(r.remaining() / 12) {
                let first = r.u32()?;
                let per = r.u32()?;
                r.skip(4)?;
                stsc.push((first, per));
            }
        }
        let mut stts = Vec::new();
        if let Some(b) = child(stbl, b"stts")? {
            let (_, _, mut r) = full_box(b)?;
            let n = r.u32()? as usize;
            for _ in 0..n.min(r.remaining() / 8) {
                stts.push((r.u32()?, r.u32()?));
            }
        }
        let mut ctts = Vec::new();
        if let Some(b) = child(stbl, b"ctts")? {
            let (_, _, mut r) = full_box(b)?;
            let n = r.u32()? as usize;
            for _ in 0..n.min(r.remaining() / 8) {
                // Version 0 is unsigned, version 1 signed; offsets past
                // 2^31 do not occur in version 0 files in practice.
                ctts.push((r.u32()?, r.u32()? as i32));
            }
        }
        let sync: Option<Vec<u32>> = match child(stbl, b"stss")? {
            Some(b) => {
                let (_, _, mut r) = full_box(b)?;
                let n = r.u32()? as usize;
                let mut v = Vec::with_capacity(n.min(r.remaining() / 4));
                for _ in 0..n.min(r.remaining() / 4) {
                    v.push(r.u32()?);
                }
                Some(v)
            }
            None => None,
        };
        // Walk the chunks: stsc says how many samples each holds.
        let mut stts_at = (0usize, 0u32);
        let mut ctts_at = (0usize, 0u32);
        let mut sync_at = 0usize;
        let mut dts = 0u64;
        let mut n = 0usize;
        'chunks: for (c, &chunk_offset) in chunks.iter().enumerate() {
            let chunk_no = (c + 1) as u32;
            let per = stsc
                .iter()
                .rev()
                .find(|(first, _)| *first <= chunk_no)
                .map_or(0, |(_, per)| *per);
            let mut offset = chunk_offset;
            for _ in 0..per {
                if n >= count {
                    break 'chunks;
                }
                let size = if fixed != 0 { fixed } else { sizes.u32()? };
                let delta = next_run(&stts, &mut stts_at).unwrap_or(0);
                let cts = next_run(&ctts, &mut ctts_at).unwrap_or(0);
                let is_sync = match &sync {
                    None => true,
                    Some(list) => {
                        while list.get(sync_at).is_some_and(|&s| (s as usize) < n + 1) {
                            sync_at += 1;
                        }
                        list.get(sync_at) == Some(&((n + 1) as u32))
                    }
                };
                track
                    .samples
                    .push((offset, size, dts, i64::from(cts), is_sync, delta));
                offset = offset.saturating_add(u64::from(size));
                dts = dts.saturating_add(u64::from(delta));
                n += 1;
            }
        }
        self.total_samples += track.samples.len();
        track.next_dts = dts;
        Ok(())
    }

    /// One `moof` (8.8.4) at `moof_start`: its `traf`s' runs.
    fn moof(&mut self, body: &[u8], moof_start: u64) -> Result<(), IndexError> {
        let mut previous_end = moof_start;
        for (k, traf) in children(body)? {
            if &k != b"traf" {
                continue;
            }
            let Some(tfhd) = child(traf, b"tfhd")? else {
                continue;
            };
            let (_, flags, mut r) = full_box(tfhd)?;
            let id = r.u32()?;
            let Some(ti) = self.tracks.iter().position(|t| t.id == id) else {
                continue;
            };
            let mut defaults = self.tracks[ti].defaults;
            let base_offset = if flags & 0x01 != 0 {
                Some(r.u64()?)
            } else {
                None
            };
            if flags & 0x02 != 0 {
                r.skip(4)?;
            }
            if flags & 0x08 != 0 {
                defaults.duration = r.u32()?;
            }
            if flags & 0x10 != 0 {
                defaults.size = r.u32()?;
            }
            if flags & 0x20 != 0 {
                defaults.flags = r.u32()?;
            }
            // 8.8.7.1: the base is the given offset, else the moof with
            // default-base-is-moof (or for the first traf), else where the
            // previous traf's data ended.
            let base = match base_offset {
                Some(b) => b,
                None if flags & 0x02_0000 != 0 => moof_start,
                None => previous_end,
            };
            if let Some(tfdt) = child(traf, b"tfdt")? {
                let (version, _, mut r) = full_box(tfdt)?;
                self.tracks[ti].next_dts = if version == 1 {
                    r.u64()?
                } else {
                    u64::from(r.u32()?)
                };
            }
            let mut data_at = base;
            for (k, trun) in children(traf)? {
                if &k != b"trun" {
                    continue;
                }
                let (version, flags, mut r) = full_box(trun)?;
                let count = r.u32()? as usize;
                if self.total_samples.saturating_add(count) > MAX_SAMPLES {
                    return Err(IndexError::TooManySamples);
                }
                if flags & 0x01 != 0 {
                    data_at = base.saturating_add_signed(i64::from(r.u32()? as i32));
                }
                let first_flags = if flags & 0x04 != 0 {
                    Some(r.u32()?)
                } else {
                    None
                };
                let per_sample = [0x100, 0x200, 0x400, 0x800]
                    .iter()
                    .filter(|f| flags & **f != 0)
                    .count();
                if per_sample > 0 && r.remaining() / (4 * per_sample) < count {
                    return Err(Mp4DemuxError::Inconsistent("trun shorter than its count").into());
                }
                let track = &mut self.tracks[ti];
                for i in 0..count {
                    let duration = if flags & 0x100 != 0 {
                        r.u32()?
                    } else {
                        defaults.duration
                    };
                    let size = if flags & 0x200 != 0 {
                        r.u32()?
                    } else {
                        defaults.size
                    };
                    let sample_flags = if flags & 0x400 != 0 {
                        r.u32()?
                    } else if i == 0 {
                        first_flags.unwrap_or(defaults.flags)
                    } else {
                        defaults.flags
                    };
                    let cts = if flags & 0x800 != 0 {
                        let v = r.u32()?;
                        if version == 0 {
                            i64::from(v)
                        } else {
                            i64::from(v as i32)
                        }
                    } else {
                        0
                    };
                    let sync = track.kind == MediaKind::Audio || sample_flags & NON_SYNC == 0;
                    track
                        .samples
                        .push((data_at, size, track.next_dts, cts, sync, duration));
                    data_at = data_at.saturating_add(u64::from(size));
                    track.next_dts = track.next_dts.saturating_add(u64::from(duration));
                }
                self.total_samples += count;
            }
            previous_end = data_at;
        }
        Ok(())
    }

    /// See [`FileIndexer::finish`](crate::vod::FileIndexer::finish).
    pub fn finish(self) -> Result<MediaIndex, IndexError> {
        if !self.saw_moov {
            return Err(Mp4DemuxError::NoMoov.into());
        }
        let mut index = MediaIndex {
            headers: self.headers,
            ..MediaIndex::default()
        };
        let ms = |t: u64, scale: u32| -> u64 {
            u64::try_from(u128::from(t) * 1000 / u128::from(scale)).unwrap_or(u64::MAX)
        };
        for track in &self.tracks {
            let scale = track.timescale;
            for &(offset, size, dts, cts, sync, duration) in &track.samples {
                // Frames the file does not hold (a table pointing past the
                // end, a recording cut short) are left out.
                if size == 0 || offset.saturating_add(u64::from(size)) > self.file_len {
                    continue;
                }
                let cts_ms = cts.saturating_mul(1000) / i64::from(scale);
                index.samples.push(IndexedSample {
                    offset,
                    size,
                    dts: ms(dts, scale),
                    cts: i32::try_from(cts_ms).unwrap_or(0),
                    kind: track.kind,
                    keyframe: track.kind == MediaKind::Video && sync,
                    form: track.form,
                });
                index.end_ms = index
                    .end_ms
                    .max(ms(dts.saturating_add(u64::from(duration)), scale));
            }
        }
        // Interleaved by time; at equal times video first (stable sort on
        // the tracks' order is not enough: audio may come first in moov).
        index
            .samples
            .sort_by_key(|s| (s.dts, s.kind != MediaKind::Video));
        Ok(index)
    }
}

/// The value for the next sample of a run-length table (stts, ctts).
fn next_run<T: Copy>(table: &[(u32, T)], at: &mut (usize, u32)) -> Option<T> {
    loop {
        let (count, value) = *table.get(at.0)?;
        if at.1 < count {
            at.1 += 1;
            return Some(value);
        }
        *at = (at.0 + 1, 0);
    }
}

/// The first sample entry of an `stsd` (8.5.2) if it is one we play: its
/// form and decoder configuration (avcC/hvcC record, AAC
/// AudioSpecificConfig).
fn sample_entry(stsd: &[u8]) -> Result<Option<(SampleForm, Vec<u8>)>, Mp4DemuxError> {
    let (_, _, mut r) = full_box(stsd)?;
    r.skip(4)?; // entry_count
    let Some((kind, entry)) = children(r.rest())?.into_iter().next() else {
        return Ok(None);
    };
    match &kind {
        b"avc1" | b"avc3" | b"hvc1" | b"hev1" => {
            // VisualSampleEntry: 78 bytes of fields, then boxes (12.1.3).
            let boxes = Reader::new(entry).skip(78).map(|()| &entry[78..])?;
            let (config, form) = if kind.starts_with(b"avc") {
                (b"avcC", SampleForm::Avc)
            } else {
                (b"hvcC", SampleForm::Hevc)
            };
            Ok(child(boxes, config)?.map(|c| (form, c.to_vec())))
        }
        b"mp4a" => {
            // AudioSampleEntry (12.2.3): 28 bytes; QuickTime's sound
            // description versions 1 and 2 add 16 and 36.
            let mut r = Reader::new(entry);
            r.skip(8)?;
            let version = r.u16()?;
            let extra = match version {
                1 => 16,
                2 => 36,
                _ => 0,
            };
            let boxes = Reader::new(entry)
                .skip(28 + extra)
                .map(|()| &entry[28 + extra..])?;
            let Some(esds) = child(boxes, b"esds")? else {
                return Ok(None);
            };
            Ok(aac_config(esds)?.map(|asc| (SampleForm::Aac, asc)))
        }
        _ => Ok(None),
    }
}

/// Reads an MPEG-4 descriptor's tag and size (ISO/IEC 14496-1 8.3.3).
fn descriptor<'a>(r: &mut Reader<'a>) -> Result<(u8, &'a [u8]), Mp4DemuxError> {
    let tag = r.u8()?;
    let mut size = 0usize;
    for _ in 0..4 {
        let b = r.u8()?;
        size = (size << 7) | usize::from(b & 0x7F);
        if b & 0x80 == 0 {
            break;
        }
    }
    Ok((tag, r.take(size)?))
}

/// The AudioSpecificConfig in an `esds` (ISO/IEC 14496-14 5.6) when the
/// object type is AAC (0x40 MPEG-4 audio, 0x66..=0x68 MPEG-2 AAC).
fn aac_config(esds: &[u8]) -> Result<Option<Vec<u8>>, Mp4DemuxError> {
    let (_, _, mut r) = full_box(esds)?;
    let (tag, es) = descriptor(&mut r)?;
    if tag != 0x03 {
        return Ok(None);
    }
    let mut r = Reader::new(es);
    r.skip(2)?; // ES_ID
    let flags = r.u8()?;
    if flags & 0x80 != 0 {
        r.skip(2)?;
    }
    if flags & 0x40 != 0 {
        let len = usize::from(r.u8()?);
        r.skip(len)?;
    }
    if flags & 0x20 != 0 {
        r.skip(2)?;
    }
    let (tag, dcd) = descriptor(&mut r)?;
    if tag != 0x04 {
        return Ok(None);
    }
    let mut r = Reader::new(dcd);
    let object_type = r.u8()?;
    if !matches!(object_type, 0x40 | 0x66..=0x68) {
        return Ok(None);
    }
    r.skip(12)?;
    let (tag, asc) = descriptor(&mut r)?;
    Ok((tag == 0x05 && !asc.is_empty()).then(|| asc.to_vec()))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::mp4::Fmp4Muxer;
    use crate::vod::FileIndexer;
    use crate::MediaMessage;

    /// libx264's SPS for 640x360 and a PPS (as in the muxer's tests).
    const SPS: &[u8] = &[
        0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03,
        0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96,
    ];
    const PPS: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];

    /// Our DVR's fragmented MP4 of 3 s: 25 fps video, a key frame a second,
    /// each frame's NAL unit holding its index; AAC every ~23 ms.
    fn recording() -> (Vec<u8>, Vec<Bytes>) {
        let mut m = Fmp4Muxer::new();
        let mut sh = vec![0x17, 0, 0, 0, 0, 1, 0x64, 0x00, 0x1e, 0xff, 0xe1];
        sh.extend_from_slice(&(SPS.len() as u16).to_be_bytes());
        sh.extend_from_slice(SPS);
        sh.push(1);
        sh.extend_from_slice(&(PPS.len() as u16).to_be_bytes());
        sh.extend_from_slice(PPS);
        m.push(&MediaMessage::new(MediaKind::Video, 0, Bytes::from(sh)))
            .unwrap();
        m.push(&MediaMessage::new(
            MediaKind::Audio,
            0,
            Bytes::from_static(&[0xaf, 0, 0x12, 0x10]),
        ))
        .unwrap();
        let mut file = Vec::new();
        let mut frames = Vec::new();
        let mut a = 0u64;
        for i in 0..75u64 {
            let ts = i * 40;
            while a * 1024 * 1000 / 44100 <= ts {
                let body = vec![0xaf, 1, 0x21, a as u8];
                m.push(&MediaMessage::new(
                    MediaKind::Audio,
                    a * 1024 * 1000 / 44100,
                    Bytes::from(body),
                ))
                .unwrap();
                a += 1;
            }
            let key = i % 25 == 0;
            let body = vec![
                if key { 0x17 } else { 0x27 },
                1,
                0,
                0,
                80,
                0,
                0,
                0,
                2,
                if key { 0x65 } else { 0x41 },
                i as u8,
            ];
            frames.push(Bytes::from(body.clone()));
            m.push(&MediaMessage::new(MediaKind::Video, ts, Bytes::from(body)))
                .unwrap();
            file.extend_from_slice(&m.take());
        }
        file.extend_from_slice(&m.finish());
        (file, frames)
    }

    #[test]
    fn our_fragments_index_frame_for_frame() {
        let (file, frames) = recording();
        let index = FileIndexer::index_bytes("mp4", &file).unwrap();
        let video: Vec<_> = index
            .samples
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == MediaKind::Video)
            .collect();
        assert_eq!(video.len(), 75);
        for (n, (i, s)) in video.iter().enumerate() {
            assert_eq!(s.dts, n as u64 * 40);
            assert_eq!(s.keyframe, n % 25 == 0);
            let data = Bytes::copy_from_slice(
                &file[s.offset as usize..s.offset as usize + s.size as usize],
            );
            // The message rebuilt from the file is the one published.
            assert_eq!(index.message(*i, data).unwrap().payload, frames[n]);
        }
        assert_eq!(index.end_ms, 3000);
        assert_eq!(index.headers.len(), 2);
        assert!(index.headers.iter().all(|h| h.is_sequence_header()));
        // Audio: the AAC frames, in time order among the video.
        assert!(index.samples.windows(2).all(|w| w[0].dts <= w[1].dts));
    }

    #[test]
    fn a_file_cut_anywhere_indexes_what_it_holds_or_says_why() {
        let (file, _) = recording();
        for cut in (0..file.len()).step_by(97) {
            match FileIndexer::index_bytes("mp4", &file[..cut]) {
                Ok(index) => {
                    for s in &index.samples {
                        assert!(s.offset + u64::from(s.size) <= cut as u64);
                    }
                }
                Err(e) => assert!(matches!(e, IndexError::NoMedia | IndexError::Mp4(_)), "{e}"),
            }
        }
    }

    #[test]
    fn hostile_boxes_are_refused() {
        // A moov claiming more than the limit.
        let mut indexer = Mp4Indexer::new(u64::from(u32::MAX));
        let mut head = (MAX_MOOV_BYTES as u32 + 1).to_be_bytes().to_vec();
        head.extend_from_slice(b"moov");
        assert!(matches!(
            indexer.feed(&head),
            Err(IndexError::Mp4(Mp4DemuxError::BoxTooLarge { .. }))
        ));
        // A box smaller than its header.
        let mut indexer = Mp4Indexer::new(100);
        assert!(indexer.feed(&[0, 0, 0, 4, b'f', b'r', b'e', b'e']).is_err());
        // No moov at all.
        assert_eq!(
            FileIndexer::index_bytes("mp4", &[0, 0, 0, 8, b'f', b'r', b'e', b'e']).unwrap_err(),
            IndexError::Mp4(Mp4DemuxError::NoMoov)
        );
        // Children that overrun their parent.
        assert!(children(&[0, 0, 0, 64, b't', b'r', b'a', b'k', 0]).is_err());
    }
}
