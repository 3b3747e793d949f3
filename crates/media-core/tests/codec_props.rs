//! Property tests for the codec headers: SPS and AudioSpecificConfig fields
//! written bit by bit (with emulation prevention) read back exactly, Annex-B
//! conversion keeps every NAL unit in order, and no input makes a parser
//! panic.

use media_core::aac::{adts_header, AacError, AudioSpecificConfig, SAMPLE_RATES};
use media_core::avc::{self, AvcConfig, AvcError};
use media_core::hevc::{self, HevcConfig};
use media_core::metadata::Metadata;
use proptest::prelude::*;

/// MSB-first bit writer with Exp-Golomb codes, the inverse of `bits::BitReader`.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    bits: usize,
}

impl BitWriter {
    fn put(&mut self, n: u32, v: u64) {
        for i in (0..n).rev() {
            if self.bits & 7 == 0 {
                self.out.push(0);
            }
            let bit = ((v >> i) & 1) as u8;
            *self.out.last_mut().unwrap() |= bit << (7 - (self.bits & 7));
            self.bits += 1;
        }
    }
    fn ue(&mut self, v: u64) {
        let x = v + 1;
        let len = 64 - x.leading_zeros();
        self.put(len - 1, 0);
        self.put(len, x);
    }
    /// RBSP trailing bits, then emulation prevention (H.264 7.4.1).
    fn finish_nal(mut self, header: &[u8]) -> Vec<u8> {
        self.put(1, 1);
        let mut nal = header.to_vec();
        let mut zeros = 0;
        for b in self.out {
            if zeros >= 2 && b <= 3 {
                nal.push(3);
                zeros = 0;
            }
            zeros = if b == 0 { zeros + 1 } else { 0 };
            nal.push(b);
        }
        nal
    }
}

#[derive(Debug, Clone)]
struct AvcGeometry {
    chroma: Option<u32>,
    w_mbs: u64,
    h_units: u64,
    frame_mbs_only: bool,
    crop: [u64; 4],
}

fn avc_geometry() -> impl Strategy<Value = AvcGeometry> {
    (
        prop::option::of(0u32..4),
        1u64..=200,
        1u64..=100,
        any::<bool>(),
        [0u64..1000, 0u64..1000, 0u64..1000, 0u64..1000],
    )
        .prop_map(
            |(chroma, w_mbs, h_units, frame_mbs_only, crop)| AvcGeometry {
                chroma,
                w_mbs,
                h_units,
                frame_mbs_only,
                crop,
            },
        )
}

#[derive(Debug, Clone)]
struct HevcGeometry {
    sub_layers_minus1: u8,
    sub_layer_flags: [(bool, bool); 6],
    level: u8,
    chroma: u32,
    width: u64,
    height: u64,
    window: Option<[u64; 4]>,
    depth: u64,
}

fn hevc_geometry() -> impl Strategy<Value = HevcGeometry> {
    (
        0u8..=6,
        any::<[(bool, bool); 6]>(),
        any::<u8>(),
        0u32..4,
        (1u64..=4096, 1u64..=4096),
        prop::option::of([0u64..600, 0u64..600, 0u64..600, 0u64..600]),
        0u64..=8,
    )
        .prop_map(
            |(
                sub_layers_minus1,
                sub_layer_flags,
                level,
                chroma,
                (width, height),
                window,
                depth,
            )| {
                HevcGeometry {
                    sub_layers_minus1,
                    sub_layer_flags,
                    level,
                    chroma,
                    width,
                    height,
                    window,
                    depth,
                }
            },
        )
}

fn hevc_sps(g: &HevcGeometry) -> Vec<u8> {
    let mut b = BitWriter::default();
    b.put(4, 0); // sps_video_parameter_set_id
    b.put(3, u64::from(g.sub_layers_minus1));
    b.put(1, 1);
    b.put(2, 0); // profile_space
    b.put(1, 1); // tier
    b.put(5, 2); // Main 10
    b.put(32, 0x2000_0000);
    b.put(4 + 43 + 1, 0);
    b.put(8, u64::from(g.level));
    let n = usize::from(g.sub_layers_minus1);
    for (p, l) in &g.sub_layer_flags[..n] {
        b.put(1, u64::from(*p));
        b.put(1, u64::from(*l));
    }
    if n > 0 {
        b.put(2 * (8 - n as u32), 0);
    }
    for (p, l) in &g.sub_layer_flags[..n] {
        if *p {
            b.put(32, 0xffff_ffff);
            b.put(32, 0xffff_ffff);
            b.put(24, 0xff_ffff);
        }
        if *l {
            b.put(8, 0xff);
        }
    }
    b.ue(3); // sps_seq_parameter_set_id
    b.ue(u64::from(g.chroma));
    if g.chroma == 3 {
        b.put(1, 0);
    }
    b.ue(g.width);
    b.ue(g.height);
    match g.window {
        Some(w) => {
            b.put(1, 1);
            for v in w {
                b.ue(v);
            }
        }
        None => b.put(1, 0),
    }
    b.ue(g.depth);
    b.ue(g.depth);
    b.put(8, 0xa5); // the rest of the SPS, unread
    b.finish_nal(&[0x42, 0x01])
}

fn avc_sps(g: &AvcGeometry) -> Vec<u8> {
    let mut b = BitWriter::default();
    b.put(8, if g.chroma.is_some() { 100 } else { 77 });
    b.put(8, 0);
    b.put(8, 0); // level_idc 0: more zero bytes to escape
    b.ue(0);
    if let Some(chroma) = g.chroma {
        b.ue(u64::from(chroma));
        if chroma == 3 {
            b.put(1, 0);
        }
        b.ue(0);
        b.ue(0);
        b.put(1, 0);
        b.put(1, 0);
    }
    b.ue(0);
    b.ue(0); // pic_order_cnt_type 0
    b.ue(0);
    b.ue(1);
    b.put(1, 0);
    b.ue(g.w_mbs - 1);
    b.ue(g.h_units - 1);
    b.put(1, u64::from(g.frame_mbs_only));
    if !g.frame_mbs_only {
        b.put(1, 0);
    }
    b.put(1, 1);
    b.put(1, 1); // frame_cropping_flag
    for v in g.crop {
        b.ue(v);
    }
    b.put(1, 0);
    b.finish_nal(&[0x67])
}

/// A random NAL unit of `kind` with no zero bytes (so start codes cannot
/// appear inside it).
fn nal(header: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(1u8..=255, 0..40).prop_map(move |body| [header.clone(), body].concat())
}

fn prefixed(nals: &[Vec<u8>], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for n in nals {
        out.extend_from_slice(&(n.len() as u32).to_be_bytes()[4 - size..]);
        out.extend_from_slice(n);
    }
    out
}

/// Splits Annex-B output on 4-byte start codes (our writer's only kind).
fn split(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(&[0, 0, 0, 1]) {
            out.push(Vec::new());
            i += 4;
        } else {
            out.last_mut()
                .expect("starts with a start code")
                .push(data[i]);
            i += 1;
        }
    }
    out
}

proptest! {
    #[test]
    fn avc_sps_geometry_round_trips(g in avc_geometry()) {
        let nal = avc_sps(&g);
        let field = if g.frame_mbs_only { 1 } else { 2 };
        let (unit_x, unit_y) = match g.chroma.unwrap_or(1) {
            1 => (2, 2 * field),
            2 => (2, field),
            _ => (1, field),
        };
        let (cw, ch) = (g.w_mbs * 16, g.h_units * 16 * field);
        let crop_x = unit_x * (g.crop[0] + g.crop[1]);
        let crop_y = unit_y * (g.crop[2] + g.crop[3]);
        match avc::Sps::parse(&nal) {
            Ok(s) => {
                prop_assert!(crop_x < cw && crop_y < ch);
                prop_assert_eq!((u64::from(s.width), u64::from(s.height)), (cw - crop_x, ch - crop_y));
                prop_assert_eq!(s.chroma_format_idc, g.chroma.unwrap_or(1));
                prop_assert_eq!(s.frame_mbs_only, g.frame_mbs_only);
            }
            Err(AvcError::Invalid { field: "frame cropping", .. }) => {
                prop_assert!(crop_x >= cw || crop_y >= ch);
            }
            Err(e) => prop_assert!(false, "{e}"),
        }
    }

    #[test]
    fn hevc_sps_geometry_round_trips(g in hevc_geometry()) {
        let nal = hevc_sps(&g);
        let (sub_w, sub_h) = match g.chroma {
            1 => (2, 2),
            2 => (2, 1),
            _ => (1, 1),
        };
        let [l, r, t, b] = g.window.unwrap_or_default();
        let (crop_x, crop_y) = (sub_w * (l + r), sub_h * (t + b));
        match hevc::Sps::parse(&nal) {
            Ok(s) => {
                prop_assert!(crop_x < g.width && crop_y < g.height);
                prop_assert_eq!(
                    (u64::from(s.width), u64::from(s.height)),
                    (g.width - crop_x, g.height - crop_y)
                );
                prop_assert_eq!((s.profile_idc, s.tier, s.level_idc), (2, true, g.level));
                prop_assert_eq!(s.max_sub_layers, g.sub_layers_minus1 + 1);
                prop_assert_eq!((s.id, s.chroma_format_idc), (3, g.chroma));
                prop_assert_eq!(u64::from(s.bit_depth_chroma), g.depth + 8);
            }
            Err(e) => {
                prop_assert!(crop_x >= g.width || crop_y >= g.height, "{}", e);
            }
        }
    }

    #[test]
    fn asc_fields_round_trip(
        object_type in prop_oneof![1u8..=30, 32u8..=95],
        index in prop_oneof![0u8..=12, Just(15u8)],
        explicit in 1u32..0x0100_0000,
        channels in 0u8..16,
        payload_len in 0usize..9000,
    ) {
        let mut b = BitWriter::default();
        if object_type >= 31 {
            b.put(5, 31);
            b.put(6, u64::from(object_type - 32));
        } else {
            b.put(5, u64::from(object_type));
        }
        b.put(4, u64::from(index));
        if index == 15 {
            b.put(24, u64::from(explicit));
        }
        b.put(4, u64::from(channels));
        let sbr = object_type == 5 || object_type == 29;
        if sbr {
            b.put(4, 3); // 48 kHz
            b.put(5, 2); // core LC
        }
        b.put(8, 0); // GASpecificConfig, unread
        let asc = AudioSpecificConfig::parse(&b.out).unwrap();
        prop_assert_eq!(asc.object_type, object_type);
        prop_assert_eq!(asc.channel_configuration, channels);
        let core_rate = if index == 15 { explicit } else { SAMPLE_RATES[usize::from(index)] };
        prop_assert_eq!(asc.core_sample_rate(), core_rate);
        prop_assert_eq!(asc.sample_rate(), if sbr { 48000 } else { core_rate });

        let core = if sbr { 2 } else { object_type };
        match adts_header(&asc, payload_len) {
            Ok(h) => {
                prop_assert_eq!((h[0], h[1]), (0xFF, 0xF1));
                prop_assert_eq!(h[2] >> 6, core - 1);
                let idx = usize::from((h[2] >> 2) & 0x0F);
                prop_assert_eq!(SAMPLE_RATES[idx], core_rate);
                prop_assert_eq!(((h[2] & 1) << 2) | (h[3] >> 6), channels);
                let len = (usize::from(h[3] & 3) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
                prop_assert_eq!(len, payload_len + 7);
            }
            Err(AacError::AdtsObjectType(t)) => prop_assert!(!(1..=4).contains(&t)),
            Err(AacError::AdtsFrequency(f)) => prop_assert!(!SAMPLE_RATES.contains(&f)),
            Err(AacError::AdtsChannels(c)) => prop_assert!(c > 7),
            Err(AacError::FrameTooLong(n)) => prop_assert!(n + 7 > 8191),
            Err(e) => prop_assert!(false, "{e}"),
        }
    }

    #[test]
    fn avc_annexb_keeps_every_nal_in_order(
        size in 1usize..=4,
        key: bool,
        nals in prop::collection::vec(
            prop_oneof![
                nal(vec![0x65]), nal(vec![0x41]), nal(vec![0x06]),
                nal(vec![0x09]), nal(vec![0x67]), nal(vec![0x68]), Just(Vec::new()),
            ],
            0..12,
        ),
    ) {
        let (sps, pps) = (vec![0x67, 0x42, 0xc0, 0x1e], vec![0x68, 0xce, 0x38, 0x80]);
        let mut rec = vec![1, 0x42, 0xc0, 0x1e, 0xfc | (size as u8 - 1), 0xe1, 0, 4];
        rec.extend_from_slice(&sps);
        rec.extend_from_slice(&[1, 0, 4]);
        rec.extend_from_slice(&pps);
        let config = AvcConfig::parse(&rec).unwrap();
        let mut out = Vec::new();
        avc::to_annexb(&config, &prefixed(&nals, size), key, &mut out).unwrap();
        let has = |t: u8| nals.iter().any(|n| n.first() == Some(&t));
        let mut want = vec![vec![0x09, 0xF0]];
        if (key || has(0x65)) && !(has(0x67) && has(0x68)) {
            want.push(sps);
            want.push(pps);
        }
        want.extend(nals.iter().filter(|n| !n.is_empty() && n[0] != 0x09).cloned());
        prop_assert_eq!(split(&out), want);
    }

    #[test]
    fn hevc_annexb_keeps_every_nal_in_order(
        key: bool,
        nals in prop::collection::vec(
            prop_oneof![
                nal(vec![0x26, 0x01]), nal(vec![0x2a, 0x01]), nal(vec![0x02, 0x01]),
                nal(vec![0x4e, 0x01]), nal(vec![0x46, 0x01]), nal(vec![0x40, 0x01]),
                nal(vec![0x42, 0x01]), nal(vec![0x44, 0x01]),
            ],
            0..12,
        ),
    ) {
        let sets = [vec![0x40, 0x01, 0x0c], vec![0x42, 0x01, 0x01], vec![0x44, 0x01, 0xc1]];
        let mut rec = vec![1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93, 0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 3];
        for s in &sets {
            rec.extend_from_slice(&[0x80 | ((s[0] >> 1) & 0x3f), 0, 1, 0, 3]);
            rec.extend_from_slice(s);
        }
        let config = HevcConfig::parse(&rec).unwrap();
        let mut out = Vec::new();
        hevc::to_annexb(&config, &prefixed(&nals, 4), key, &mut out).unwrap();
        let has = |t: u8| nals.iter().any(|n| (n[0] >> 1) & 0x3f == t);
        let mut want = vec![vec![0x46, 0x01, 0x50]];
        if (key || has(19) || has(21)) && !(has(32) && has(33) && has(34)) {
            want.extend(sets.iter().cloned());
        }
        want.extend(nals.iter().filter(|n| (n[0] >> 1) & 0x3f != 35).cloned());
        prop_assert_eq!(split(&out), want);
    }

    #[test]
    fn parsers_never_panic(data in prop::collection::vec(any::<u8>(), 0..200), size in 0u8..6, key: bool) {
        let _ = avc::Sps::parse(&data);
        let _ = hevc::Sps::parse(&data);
        let _ = Metadata::parse(&data);
        if let Ok(asc) = AudioSpecificConfig::parse(&data) {
            let _ = adts_header(&asc, data.len());
            let _ = asc.sample_rate();
        }
        let mut out = vec![0xAB];
        let mut config = AvcConfig::parse(&data).unwrap_or(AvcConfig {
            profile: 66,
            compatibility: 0,
            level: 30,
            nal_length_size: 4,
            sps: vec![],
            pps: vec![],
        });
        config.nal_length_size = size;
        match avc::to_annexb(&config, &data, key, &mut out) {
            Ok(()) => prop_assert_eq!(&out[1..7], &[0, 0, 0, 1, 9, 0xF0]),
            Err(_) => prop_assert_eq!(&out, &[0xAB]),
        }
        let mut out = Vec::new();
        if let Ok(c) = HevcConfig::parse(&data) {
            let _ = hevc::to_annexb(&c, &data, key, &mut out);
            for s in c.vps.iter().chain(&c.sps).chain(&c.pps) {
                prop_assert!(!s.is_empty());
            }
        }
    }
}
