//! AC-3 and E-AC-3 (ETSI TS 102 366): what the syncframe headers say, for
//! the ISO BMFF `ac-3`/`dac3` and `ec-3`/`dec3` sample entries (Annex F).
//! E-RTMP `ac-3` and `ec-3` have no sequence header worth the name (ffmpeg
//! sends an empty SequenceStart), so the configuration is read from the
//! first coded frame, as a demuxer of raw AC-3 would.

use crate::bits::{BitReader, BitsExhausted};

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

/// Dependent substreams an independent substream may have (`substreamid`
/// is 3 bits, E.1.3.1.2), and so the most one access unit's walk reads.
const MAX_DEPENDENT_SUBSTREAMS: usize = 8;

/// `chanmap` locations (E.1.3.1.8, Table E.1.4; location 0 is the field's
/// most significant bit) that `chan_loc` (F.6.2.13, Table F.6.1) declares,
/// by `chan_loc` bit from its least significant: Lc/Rc, Lrs/Rrs, Cs, Ts,
/// Lsd/Rsd, Lw/Rw, Lvh/Rvh, Cvh, LFE2. The 5.1 locations (0..=4, 15) are
/// the independent substream's `acmod`/`lfeon`; Lts/Rts (13) has no bit.
const CHAN_LOC_FROM_CHANMAP: [u16; 9] = [5, 6, 7, 8, 9, 10, 11, 12, 14];

/// `chan_loc`'s bits for the locations a dependent substream's `chanmap`
/// names.
fn chan_loc(chanmap: u16) -> u16 {
    CHAN_LOC_FROM_CHANMAP
        .iter()
        .enumerate()
        .fold(0, |loc, (bit, &at)| {
            loc | (((chanmap >> (15 - at)) & 1) << bit)
        })
}

/// One E-AC-3 syncframe's `bsi` (E.1.2.2), read as far as `bsmod`.
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
    /// A dependent substream's `chanmap`, when `chanmape` is set.
    chanmap: Option<u16>,
    /// `bsmod` from the informational metadata, 0 (complete main) when
    /// `infomdate` is clear.
    bsmod: u8,
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
    let (sample_rate, numblkscod) = if fscod == 3 {
        let fscod2 = b.bits(2)? as usize;
        let rate = *[24_000, 22_050, 16_000]
            .get(fscod2)
            .ok_or(Ac3Error::Reserved("fscod2"))?;
        (rate, 3)
    } else {
        (
            [48_000, 44_100, 32_000][usize::from(fscod)],
            b.bits(2)? as u8,
        )
    };
    let blocks = [1, 2, 3, 6][usize::from(numblkscod & 3)];
    let acmod = b.bits(3)? as u8;
    let lfeon = b.bit()?;
    let bsid = b.bits(5)? as u8;
    if !(11..=16).contains(&bsid) {
        return Err(Ac3Error::Reserved("bsid"));
    }
    if strmtyp == 3 {
        return Err(Ac3Error::Reserved("strmtyp"));
    }
    b.skip(5)?; // dialnorm
    if b.bit()? {
        b.skip(8)?; // compr
    }
    if acmod == 0 {
        // 1+1: the second mono channel's dialnorm2, compr2e, compr2.
        b.skip(5)?;
        if b.bit()? {
            b.skip(8)?;
        }
    }
    let chanmap = if strmtyp == 1 && b.bit()? {
        Some(b.bits(16)? as u16)
    } else {
        None
    };
    if b.bit()? {
        skip_mixing_metadata(&mut b, strmtyp, acmod, lfeon, numblkscod, blocks)?;
    }
    let bsmod = if b.bit()? { b.bits(3)? as u8 } else { 0 };
    Ok(Eac3Frame {
        strmtyp,
        bytes: (frmsiz + 1) * 2,
        fscod,
        sample_rate,
        blocks,
        acmod,
        lfeon,
        bsid,
        chanmap,
        bsmod,
    })
}

/// Skips `bsi`'s mixing metadata (E.1.2.2, after `mixmdate` = 1): every
/// length in it is fixed or a 5-bit count, so the walk is bounded.
fn skip_mixing_metadata(
    b: &mut BitReader<'_>,
    strmtyp: u8,
    acmod: u8,
    lfeon: bool,
    numblkscod: u8,
    blocks: u8,
) -> Result<(), Ac3Error> {
    if acmod > 2 {
        b.skip(2)?; // dmixmod
    }
    if acmod & 1 != 0 && acmod > 2 {
        b.skip(6)?; // ltrtcmixlev, lorocmixlev
    }
    if acmod & 4 != 0 {
        b.skip(6)?; // ltrtsurmixlev, lorosurmixlev
    }
    if lfeon && b.bit()? {
        b.skip(5)?; // lfemixlevcod
    }
    if strmtyp != 0 {
        return Ok(());
    }
    if b.bit()? {
        b.skip(6)?; // pgmscl
    }
    if acmod == 0 && b.bit()? {
        b.skip(6)?; // pgmscl2
    }
    if b.bit()? {
        b.skip(6)?; // extpgmscl
    }
    match b.bits(2)? {
        1 => b.skip(5)?, // premixcmpsel, drcsrc, premixcmpscl
        2 => b.skip(12)?,
        3 => {
            let mixdeflen = b.bits(5)? as usize;
            b.skip(8 * (mixdeflen + 2))?;
        }
        _ => {}
    }
    if acmod < 2 {
        if b.bit()? {
            b.skip(14)?; // panmean, paninfo
        }
        if acmod == 0 && b.bit()? {
            b.skip(14)?; // panmean2, paninfo2
        }
    }
    if b.bit()? {
        // frmmixcfginfoe
        if numblkscod == 0 {
            b.skip(5)?;
        } else {
            for _ in 0..blocks {
                if b.bit()? {
                    b.skip(5)?;
                }
            }
        }
    }
    Ok(())
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
    /// The independent substream's `bsmod` (service type, 0 complete main).
    pub bsmod: u8,
    /// Dependent substreams after the independent one (`num_dep_sub`).
    pub num_dep_sub: u8,
    /// Locations their `chanmap`s add beyond 5.1 (`chan_loc`, Table F.6.1).
    pub chan_loc: u16,
    fscod: u8,
    bsid: u8,
    acmod: u8,
    lfeon: bool,
}

impl Eac3Header {
    /// Reads the first syncframe of `unit` and walks the dependent
    /// substreams after it (bounded) for the data rate, `num_dep_sub` and
    /// `chan_loc`. One E-RTMP `ec-3` message carries one access unit; the
    /// walk stops at the next independent syncframe (another program, or
    /// the next access unit) or at anything that is not a syncframe.
    pub fn parse(unit: &[u8]) -> Result<Self, Ac3Error> {
        let first = eac3_frame(unit)?;
        let mut bytes = first.bytes;
        let mut at = first.bytes;
        let mut num_dep_sub = 0;
        let mut chan_locs = 0;
        for _ in 0..MAX_DEPENDENT_SUBSTREAMS {
            let Some(Ok(next)) = unit.get(at..).filter(|r| r.len() >= 6).map(eac3_frame) else {
                break;
            };
            if next.strmtyp != 1 {
                break;
            }
            num_dep_sub += 1;
            chan_locs |= next.chanmap.map_or(0, chan_loc);
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
            bsmod: first.bsmod,
            num_dep_sub,
            chan_loc: chan_locs,
            fscod: first.fscod,
            bsid: first.bsid,
            acmod: first.acmod,
            lfeon: first.lfeon,
        })
    }

    /// The `dec3` box body (F.6): `data_rate` (13 bits), `num_ind_sub` 0
    /// (one independent substream declared), then that substream's
    /// `fscod`, `bsid`, a reserved bit, `asvc` 0, `bsmod`, `acmod`,
    /// `lfeon`, 3 reserved bits, `num_dep_sub`, and `chan_loc` (9 bits)
    /// when it has dependent substreams, else one reserved bit: 5 bytes,
    /// or 6 with dependent substreams.
    pub fn dec3(&self) -> Vec<u8> {
        let head = (self.data_rate_kbps.min(0x1FFF) << 3) as u16;
        let mut sub = (u32::from(self.fscod & 3) << 22)
            | (u32::from(self.bsid & 0x1F) << 17)
            | (u32::from(self.bsmod & 7) << 12)
            | (u32::from(self.acmod & 7) << 9)
            | (u32::from(self.lfeon) << 8)
            | (u32::from(self.num_dep_sub & 0xF) << 1);
        let mut out = head.to_be_bytes().to_vec();
        if self.num_dep_sub == 0 {
            out.extend_from_slice(&sub.to_be_bytes()[1..]);
        } else {
            // Widen by the 8 more bits chan_loc takes over the reserved one.
            sub = (sub << 8) | u32::from(self.chan_loc & 0x1FF);
            out.extend_from_slice(&sub.to_be_bytes());
        }
        out
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

    /// MSB-first bit packer for hand-built syncframes.
    #[derive(Default)]
    struct Bits {
        out: Vec<u8>,
        len: usize,
    }

    impl Bits {
        fn put(&mut self, v: u32, n: u32) -> &mut Self {
            for i in (0..n).rev() {
                if self.len.is_multiple_of(8) {
                    self.out.push(0);
                }
                if (v >> i) & 1 == 1 {
                    let last = self.out.len() - 1;
                    self.out[last] |= 0x80 >> (self.len % 8);
                }
                self.len += 1;
            }
            self
        }
    }

    /// An E-AC-3 syncframe of `bytes` bytes: `bsi` up to `bsid` (48 kHz,
    /// 6 blocks, `bsid` 16), then `rest` writes the fields from `dialnorm`.
    fn syncframe(
        strmtyp: u32,
        bytes: usize,
        acmod: u32,
        lfeon: bool,
        rest: impl FnOnce(&mut Bits),
    ) -> Vec<u8> {
        let mut b = Bits::default();
        b.put(0x0B77, 16)
            .put(strmtyp, 2)
            .put(0, 3) // substreamid
            .put((bytes / 2 - 1) as u32, 11)
            .put(0, 2) // fscod
            .put(3, 2) // numblkscod
            .put(acmod, 3)
            .put(u32::from(lfeon), 1)
            .put(16, 5);
        rest(&mut b);
        let mut v = b.out;
        assert!(v.len() <= bytes);
        v.resize(bytes, 0);
        v
    }

    #[test]
    fn eac3_bsmod_after_mixing_metadata() {
        // 5.1 with every optional group of an independent substream's
        // mixing metadata present, then infomdate with bsmod 6.
        let frame = syncframe(0, 512, 7, true, |b| {
            b.put(27, 5) // dialnorm
                .put(1, 1) // compre
                .put(0x55, 8) // compr
                .put(1, 1) // mixmdate
                .put(2, 2) // dmixmod
                .put(0b101_010, 6) // ltrtcmixlev, lorocmixlev
                .put(0b011_100, 6) // ltrtsurmixlev, lorosurmixlev
                .put(1, 1) // lfemixlevcode
                .put(0b10101, 5) // lfemixlevcod
                .put(1, 1) // pgmscle
                .put(0x3F, 6) // pgmscl
                .put(0, 1) // extpgmscle
                .put(3, 2) // mixdef: mixdeflen + 8 × (mixdeflen + 2) bits
                .put(1, 5) // mixdeflen
                .put(0xFF_FFFF, 24) // mixdata
                .put(1, 1) // frmmixcfginfoe
                // Per block blkmixcfginfoe, then blkmixcfginfo if set:
                // blocks 0, 2 and 5 send one.
                .put(0b1_11111, 6)
                .put(0, 1)
                .put(0b1_11111, 6)
                .put(0b00, 2)
                .put(0b1_11111, 6)
                .put(1, 1) // infomdate
                .put(6, 3) // bsmod
                .put(0b11, 2); // copyrightb, origbs
        });
        let h = Eac3Header::parse(&frame).unwrap();
        assert_eq!((h.bsmod, h.num_dep_sub, h.channels), (6, 0, 6));
        // data_rate 512 × 8 × 48000 / 1536 / 1000 = 128, num_ind_sub 0;
        // fscod 0, bsid 16, reserved, asvc 0, bsmod 6 (110), acmod 7,
        // lfeon 1, reserved 000, num_dep_sub 0000, reserved 0.
        assert_eq!(h.dec3(), [0x04, 0x00, 0b0010_0000, 0b0110_1111, 0x00]);
        // A 1+1 (acmod 0) frame: dialnorm2/compr2 and pgmscl2/paninfo2.
        let dual = syncframe(0, 256, 0, false, |b| {
            b.put(0, 5) // dialnorm
                .put(0, 1) // compre
                .put(0, 5) // dialnorm2
                .put(1, 1) // compr2e
                .put(0, 8) // compr2
                .put(1, 1) // mixmdate
                .put(0, 1) // pgmscle
                .put(1, 1) // pgmscl2e
                .put(0, 6) // pgmscl2
                .put(0, 1) // extpgmscle
                .put(2, 2) // mixdef: 12 bits
                .put(0, 12)
                .put(1, 1) // paninfoe
                .put(0, 14)
                .put(1, 1) // paninfo2e
                .put(0, 14)
                .put(0, 1) // frmmixcfginfoe
                .put(1, 1) // infomdate
                .put(2, 3); // bsmod
        });
        assert_eq!(Eac3Header::parse(&dual).unwrap().bsmod, 2);
    }

    #[test]
    fn eac3_dependent_substream_declares_its_channels() {
        // 5.1 independent, then a dependent substream with a chanmap of
        // Lrs/Rrs (location 6) and Lvh/Rvh (location 11): 5.1.2 + 2.
        let mut unit = syncframe(0, 384, 7, true, |b| {
            b.put(0, 5).put(0, 1).put(0, 1).put(0, 1); // dialnorm, compre, mixmdate, infomdate
        });
        unit.extend(syncframe(1, 256, 6, false, |b| {
            b.put(0, 5) // dialnorm
                .put(0, 1) // compre
                .put(1, 1) // chanmape
                .put(0b0000_0010_0001_0000, 16) // chanmap
                .put(1, 1) // mixmdate: a dependent stops after the levels
                .put(1, 2) // dmixmod
                .put(0, 6) // ltrtsurmixlev, lorosurmixlev
                .put(1, 1) // infomdate
                .put(3, 3); // bsmod (the independent substream's is declared)
        }));
        let h = Eac3Header::parse(&unit).unwrap();
        assert_eq!((h.bsmod, h.num_dep_sub, h.chan_loc), (0, 1, 0x42));
        // data_rate 640 × 8 × 48000 / 1536 / 1000 = 160, num_ind_sub 0;
        // fscod 0, bsid 16, reserved, asvc, bsmod 0, acmod 7, lfeon 1,
        // reserved 000, num_dep_sub 0001, chan_loc 0_0100_0010 (bit 1
        // Lrs/Rrs, bit 6 Lvh/Rvh).
        assert_eq!(
            h.dec3(),
            [
                0x05,
                0x00,
                0b0010_0000,
                0b0000_1111,
                0b0000_0010,
                0b0100_0010
            ]
        );
        // A dependent without chanmape replaces channels of 5.1: counted,
        // but no location added.
        let mut plain = syncframe(0, 384, 7, true, |b| {
            b.put(0, 9);
        });
        plain.extend(syncframe(1, 128, 1, true, |b| {
            b.put(0, 5).put(0, 1).put(0, 1);
        }));
        let h = Eac3Header::parse(&plain).unwrap();
        assert_eq!((h.num_dep_sub, h.chan_loc), (1, 0));
        assert_eq!(&h.dec3()[4..], [0b0000_0010, 0]);
    }

    #[test]
    fn chanmap_locations_in_chan_loc() {
        // Table E.1.4 location → Table F.6.1 bit.
        assert_eq!(chan_loc(0x0400), 1, "Lc/Rc");
        assert_eq!(chan_loc(0x0008), 0x80, "Cvh");
        assert_eq!(chan_loc(0x0002), 0x100, "LFE2");
        // The 5.1 locations and Lts/Rts have no bit.
        assert_eq!(chan_loc(0b1111_1000_0000_0101), 0);
        assert_eq!(chan_loc(0xFFFF), 0x1FF);
    }

    #[test]
    fn eac3_dependent_walk_is_bounded() {
        let head = |b: &mut Bits| {
            b.put(0, 9);
        };
        let mut unit = syncframe(0, 64, 2, false, head);
        for _ in 0..12 {
            unit.extend(syncframe(1, 16, 2, false, |b| {
                b.put(0, 5).put(0, 1).put(1, 1).put(0x0400, 16).put(0, 2);
            }));
        }
        let h = Eac3Header::parse(&unit).unwrap();
        assert_eq!((h.num_dep_sub, h.chan_loc), (8, 1));
        // A cut dependent after a whole independent one is not counted.
        let mut cut = syncframe(0, 64, 2, false, head);
        cut.extend_from_slice(
            &syncframe(1, 16, 2, false, |b| {
                b.put(0, 5).put(0, 1).put(1, 1).put(0x0400, 16);
            })[..7],
        );
        assert_eq!(Eac3Header::parse(&cut).unwrap().num_dep_sub, 0);
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
        // The bsi ends inside the mixing metadata, or a mixdeflen runs past it.
        let mixing = syncframe(0, 16, 7, true, |b| {
            b.put(0, 5)
                .put(0, 1)
                .put(1, 1)
                .put(0, 2)
                .put(0, 6)
                .put(0, 6);
        });
        assert_eq!(
            Eac3Header::parse(&mixing[..9]),
            Err(Ac3Error::Bits(BitsExhausted))
        );
        let long = syncframe(0, 16, 2, false, |b| {
            b.put(0, 5)
                .put(0, 1)
                .put(1, 1)
                .put(0, 1)
                .put(0, 1)
                .put(3, 2)
                .put(31, 5);
        });
        assert_eq!(Eac3Header::parse(&long), Err(Ac3Error::Bits(BitsExhausted)));
    }
}
