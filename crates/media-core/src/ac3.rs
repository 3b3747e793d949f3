//! AC-3 and E-AC-3 (ETSI TS 102 366): what the syncframe headers say, for
//! the ISO BMFF `ac-3`/`dac3` and `ec-3`/`dec3` sample entries (Annex F).
//! E-RTMP `ac-3` and `ec-3` have no sequence header worth the name (ffmpeg
//! sends an empty SequenceStart), so the configuration is read from the
//! first coded frame, as a demuxer of raw AC-3 would.

use crate::bits::{BitReader, BitsExhausted};

/// Syncframes of one E-AC-3 access unit looked at (an independent
/// substream and its dependent ones; 8 program substreams at most).
const MAX_SUBSTREAMS: usize = 16;

/// AC-3 data rates by `frmsizecod >> 1` (Table 4.13), kbit/s.
const AC3_BIT_RATES: [u32; 19] = [
    32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640,
];

/// Why an AC-3 or E-AC-3 frame header could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Ac3Error {
    /// No 0x0B77 syncword at the start.
    #[error("no AC-3 syncword")]
    NoSync,
    /// The header ends early.
    #[error("AC-3 header: {0}")]
    Bits(#[from] BitsExhausted),
    /// A reserved sample rate code, frame size code, or a `bsid` of the
    /// other syntax (AC-3 is `bsid` ≤ 10, E-AC-3 11..=16).
    #[error("AC-3 header field {0} out of range")]
    Reserved(&'static str),
}

/// Channels of `acmod` (Table 4.3), without the LFE.
fn full_channels(acmod: u8) -> u8 {
    [2, 1, 2, 3, 3, 4, 4, 5][usize::from(acmod & 7)]
}

/// An AC-3 syncframe's `syncinfo` and the start of its `bsi` (5.3.1, 5.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ac3Header {
    /// `fscod` (0 48 kHz, 1 44.1 kHz, 2 32 kHz).
    pub fscod: u8,
    /// `frmsizecod`.
    pub frmsizecod: u8,
    /// `bsid`.
    pub bsid: u8,
    /// `bsmod`.
    pub bsmod: u8,
    /// `acmod`.
    pub acmod: u8,
    /// `lfeon`.
    pub lfeon: bool,
}

impl Ac3Header {
    /// Reads the header of the syncframe `frame` starts with.
    pub fn parse(frame: &[u8]) -> Result<Self, Ac3Error> {
        let mut b = BitReader::new(frame);
        if b.bits(16)? != 0x0B77 {
            return Err(Ac3Error::NoSync);
        }
        b.skip(16)?; // crc1
        let fscod = b.bits(2)? as u8;
        let frmsizecod = b.bits(6)? as u8;
        let bsid = b.bits(5)? as u8;
        let bsmod = b.bits(3)? as u8;
        let acmod = b.bits(3)? as u8;
        if fscod == 3 {
            return Err(Ac3Error::Reserved("fscod"));
        }
        if usize::from(frmsizecod >> 1) >= AC3_BIT_RATES.len() {
            return Err(Ac3Error::Reserved("frmsizecod"));
        }
        if bsid > 10 {
            return Err(Ac3Error::Reserved("bsid"));
        }
        if acmod & 1 != 0 && acmod != 1 {
            b.skip(2)?; // cmixlev
        }
        if acmod & 4 != 0 {
            b.skip(2)?; // surmixlev
        }
        if acmod == 2 {
            b.skip(2)?; // dsurmod
        }
        let lfeon = b.bit()?;
        Ok(Self {
            fscod,
            frmsizecod,
            bsid,
            bsmod,
            acmod,
            lfeon,
        })
    }

    /// Sample rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        [48_000, 44_100, 32_000][usize::from(self.fscod.min(2))]
    }

    /// Channels, the LFE included.
    pub fn channels(&self) -> u8 {
        full_channels(self.acmod) + u8::from(self.lfeon)
    }

    /// The `dac3` box body (F.4): `fscod`, `bsid`, `bsmod`, `acmod`,
    /// `lfeon`, `bit_rate_code` and 5 reserved bits.
    pub fn dac3(&self) -> [u8; 3] {
        let v = (u32::from(self.fscod) << 22)
            | (u32::from(self.bsid) << 17)
            | (u32::from(self.bsmod) << 14)
            | (u32::from(self.acmod) << 11)
            | (u32::from(self.lfeon) << 10)
            | (u32::from(self.frmsizecod >> 1) << 5);
        let b = v.to_be_bytes();
        [b[1], b[2], b[3]]
    }
}

/// Every AC-3 syncframe holds 6 blocks of 256 samples.
pub const AC3_FRAME_SAMPLES: u32 = 1536;

/// One E-AC-3 syncframe's `bsi` start (E.1.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Eac3Frame {
    /// `strmtyp` (0 independent, 1 dependent, 2 AC-3 converted).
    strmtyp: u8,
    /// Bytes of the syncframe ((`frmsiz` + 1) × 2).
    bytes: usize,
    fscod: u8,
    /// Sample rate in Hz (half rates through `fscod2`).
    sample_rate: u32,
    /// Audio blocks (1, 2, 3 or 6) of 256 samples.
    blocks: u8,
    acmod: u8,
    lfeon: bool,
    bsid: u8,
}

fn eac3_frame(frame: &[u8]) -> Result<Eac3Frame, Ac3Error> {
    let mut b = BitReader::new(frame);
    if b.bits(16)? != 0x0B77 {
        return Err(Ac3Error::NoSync);
    }
    let strmtyp = b.bits(2)? as u8;
    b.skip(3)?; // substreamid
    let frmsiz = b.bits(11)? as usize;
    let fscod = b.bits(2)? as u8;
    let (sample_rate, blocks) = if fscod == 3 {
        let fscod2 = b.bits(2)? as usize;
        let rate = *[24_000, 22_050, 16_000]
            .get(fscod2)
            .ok_or(Ac3Error::Reserved("fscod2"))?;
        (rate, 6)
    } else {
        let numblkscod = b.bits(2)? as usize;
        (
            [48_000, 44_100, 32_000][usize::from(fscod)],
            [1, 2, 3, 6][numblkscod],
        )
    };
    let acmod = b.bits(3)? as u8;
    let lfeon = b.bit()?;
    let bsid = b.bits(5)? as u8;
    if !(11..=16).contains(&bsid) {
        return Err(Ac3Error::Reserved("bsid"));
    }
    if strmtyp == 3 {
        return Err(Ac3Error::Reserved("strmtyp"));
    }
    Ok(Eac3Frame {
        strmtyp,
        bytes: (frmsiz + 1) * 2,
        fscod,
        sample_rate,
        blocks,
        acmod,
        lfeon,
        bsid,
    })
}

/// What an E-AC-3 access unit (one independent substream's syncframe and
/// any dependent ones after it) says, for `dec3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eac3Header {
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Samples of the access unit (256 per audio block).
    pub samples: u32,
    /// Channels of the independent substream, the LFE included.
    pub channels: u8,
    /// Data rate of the whole access unit, kbit/s.
    pub data_rate_kbps: u32,
    fscod: u8,
    bsid: u8,
    acmod: u8,
    lfeon: bool,
}

impl Eac3Header {
    /// Reads the first syncframe of `unit` and walks the frames after it
    /// (bounded) for the data rate.
    pub fn parse(unit: &[u8]) -> Result<Self, Ac3Error> {
        let first = eac3_frame(unit)?;
        let mut bytes = first.bytes;
        let mut at = first.bytes;
        for _ in 1..MAX_SUBSTREAMS {
            let Some(Ok(next)) = unit.get(at..).filter(|r| r.len() >= 6).map(eac3_frame) else {
                break;
            };
            if next.strmtyp != 1 {
                break;
            }
            bytes += next.bytes;
            at += next.bytes;
        }
        let samples = u32::from(first.blocks) * 256;
        let bits = (bytes as u64) * 8 * u64::from(first.sample_rate);
        let data_rate_kbps = u32::try_from(bits / u64::from(samples) / 1000).unwrap_or(u32::MAX);
        Ok(Self {
            sample_rate: first.sample_rate,
            samples,
            channels: full_channels(first.acmod) + u8::from(first.lfeon),
            data_rate_kbps,
            fscod: first.fscod,
            bsid: first.bsid,
            acmod: first.acmod,
            lfeon: first.lfeon,
        })
    }

    /// The `dec3` box body (F.6): `data_rate` (13 bits), `num_ind_sub` 0
    /// (one independent substream), then that substream's `fscod`, `bsid`,
    /// `asvc` 0, `bsmod` 0, `acmod`, `lfeon`, `num_dep_sub` 0.
    ///
    /// `bsmod` sits deep in E-AC-3's `bsi` (after the mixing metadata) and
    /// only labels the service (0 is "complete main", what encoders send);
    /// dependent substreams (the extra channels of 7.1) are still decoded
    /// from the samples, but not declared here.
    pub fn dec3(&self) -> [u8; 5] {
        let head = (self.data_rate_kbps.min(0x1FFF) << 3) as u16;
        let sub = (u32::from(self.fscod) << 22)
            | (u32::from(self.bsid) << 17)
            | (u32::from(self.acmod) << 9)
            | (u32::from(self.lfeon) << 8);
        let h = head.to_be_bytes();
        let s = sub.to_be_bytes();
        [h[0], h[1], s[1], s[2], s[3]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ffmpeg_ac3_mono_frame() {
        // ffmpeg 9's ac3 encoder, 48 kHz mono at 96 kbit/s.
        let h = Ac3Header::parse(&[0x0b, 0x77, 0x48, 0x0d, 0x0c, 0x40, 0x2f, 0x84]).unwrap();
        assert_eq!((h.fscod, h.frmsizecod, h.bsid, h.bsmod), (0, 12, 8, 0));
        assert_eq!((h.acmod, h.lfeon, h.channels()), (1, false, 1));
        assert_eq!(h.sample_rate(), 48_000);
        // fscod 0, bsid 8, bsmod 0, acmod 1, lfeon 0, bit_rate_code 6.
        assert_eq!(h.dac3(), [0x10, 0x08, 0xc0]);
    }

    #[test]
    fn ac3_five_one() {
        // 44.1 kHz, 448 kbit/s (frmsizecod 30), bsid 8, bsmod 0, acmod 7
        // (cmixlev and surmixlev follow), lfeon 1.
        // acmod 111, cmixlev 00, surmixlev 00, lfeon 1.
        let b = [0x0b, 0x77, 0, 0, 0x5e, 0x40, 0b1110_0001, 0x00];
        let h = Ac3Header::parse(&b).unwrap();
        assert_eq!((h.fscod, h.acmod, h.lfeon), (1, 7, true));
        assert_eq!((h.channels(), h.sample_rate()), (6, 44_100));
        let d = h.dac3();
        assert_eq!(d[0] >> 6, 1, "fscod");
        assert_eq!(
            (u32::from(d[1]) << 8 | u32::from(d[2])) >> 5 & 0x1f,
            15,
            "bit_rate_code"
        );
    }

    #[test]
    fn hostile_ac3_headers() {
        assert_eq!(
            Ac3Header::parse(&[0x0b, 0x78, 0, 0, 0, 0, 0]),
            Err(Ac3Error::NoSync)
        );
        assert!(matches!(
            Ac3Header::parse(&[0x0b, 0x77, 0]),
            Err(Ac3Error::Bits(_))
        ));
        assert_eq!(
            Ac3Header::parse(&[0x0b, 0x77, 0, 0, 0xcc, 0x40, 0x2f, 0]),
            Err(Ac3Error::Reserved("fscod"))
        );
        assert_eq!(
            Ac3Header::parse(&[0x0b, 0x77, 0, 0, 0x26, 0x40, 0x2f, 0]),
            Err(Ac3Error::Reserved("frmsizecod"))
        );
        // E-AC-3's bsid 16 in an ac-3 stream.
        assert_eq!(
            Ac3Header::parse(&[0x0b, 0x77, 0, 0, 0x0c, 0x80, 0x2f, 0]),
            Err(Ac3Error::Reserved("bsid"))
        );
        assert_eq!(Ac3Header::parse(&[]), Err(Ac3Error::Bits(BitsExhausted)));
    }

    /// An E-AC-3 syncframe header: strmtyp, frmsiz, fscod 0, numblkscod 3,
    /// acmod, lfeon, bsid 16, padded to `bytes` bytes.
    fn eac3(strmtyp: u8, bytes: usize, acmod: u8, lfeon: bool) -> Vec<u8> {
        let frmsiz = (bytes / 2 - 1) as u16;
        let mut v = vec![0x0b, 0x77];
        let w = (u16::from(strmtyp) << 14) | frmsiz;
        v.extend_from_slice(&w.to_be_bytes());
        // fscod 0, numblkscod 3.
        v.push((0b11 << 4) | (acmod << 1) | u8::from(lfeon));
        v.push(16 << 3);
        v.resize(bytes, 0);
        v
    }

    #[test]
    fn eac3_access_units() {
        // ffmpeg 9's eac3 encoder: 384-byte mono frames of 6 blocks, 48 kHz.
        let h = Eac3Header::parse(&[0x0b, 0x77, 0x00, 0xbf, 0x32, 0x87, 0xc0, 0, 0, 0]).unwrap();
        assert_eq!((h.sample_rate, h.samples, h.channels), (48_000, 1536, 1));
        assert_eq!(h.data_rate_kbps, 96);
        // data_rate 96, num_ind_sub 0; fscod 0, bsid 16, acmod 1, lfeon 0.
        assert_eq!(h.dec3(), [0x03, 0x00, 0x20, 0x02, 0x00]);
        // 5.1 with a dependent substream: both frames count in the rate.
        let mut unit = eac3(0, 768, 7, true);
        unit.extend_from_slice(&eac3(1, 256, 2, false));
        let h = Eac3Header::parse(&unit).unwrap();
        assert_eq!(h.channels, 6);
        assert_eq!(h.data_rate_kbps, 1024 * 8 * 48_000 / 1536 / 1000);
        let d = h.dec3();
        assert_eq!(u16::from_be_bytes([d[0], d[1]]) >> 3, 256);
        assert_eq!(d[3] >> 1 & 7, 7, "acmod");
        assert_eq!(d[3] & 1, 1, "lfeon");
        // A following independent frame (another program) is not counted.
        let mut two = eac3(0, 256, 2, false);
        two.extend_from_slice(&eac3(0, 256, 2, false));
        assert_eq!(Eac3Header::parse(&two).unwrap().data_rate_kbps, 64);
    }

    #[test]
    fn hostile_eac3_headers() {
        // AC-3's bsid, a reserved fscod2, strmtyp 3, truncated.
        assert_eq!(
            Eac3Header::parse(&[0x0b, 0x77, 0x00, 0xbf, 0x32, 0x40, 0]),
            Err(Ac3Error::Reserved("bsid"))
        );
        assert_eq!(
            Eac3Header::parse(&[0x0b, 0x77, 0x00, 0xbf, 0xf2, 0x80, 0]),
            Err(Ac3Error::Reserved("fscod2"))
        );
        assert_eq!(
            Eac3Header::parse(&[0x0b, 0x77, 0xc0, 0xbf, 0x32, 0x80, 0]),
            Err(Ac3Error::Reserved("strmtyp"))
        );
        assert!(Eac3Header::parse(&[0x0b, 0x77, 0x00]).is_err());
        assert_eq!(
            Eac3Header::parse(&[0x0b, 0x70, 0, 0, 0, 0]),
            Err(Ac3Error::NoSync)
        );
    }
}
