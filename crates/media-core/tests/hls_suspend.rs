//! A stopped stream's segmenter suspended to its compact form and resumed
//! (issue 23 §4): the resumed one goes on exactly as one never suspended,
//! fed the same, would (every action, bytes included), `hls_dispose` of the
//! suspended form removes the same files, and the form holds a few heap
//! blocks where the segmenter held dozens.

mod hls_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use hls_support::{drain, media, synthetic, Synth};
use media_core::hls::{HlsAction, HlsConfig, HlsSegmenter, PlaylistShelf, SuspendedPlaylist};
use media_core::{MediaKind, MediaMessage};

thread_local! {
    /// Heap blocks this thread freed (tests run on threads of their own).
    static FREED: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, counting each thread's frees.
struct Counting;

// SAFETY: every call goes to the system allocator unchanged; the counter
// is bookkeeping in a const-initialised thread-local (no allocation).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = FREED.try_with(|n| n.set(n.get() + 1));
        System.dealloc(ptr, layout);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Heap blocks `value` holds: those its drop frees.
fn blocks<T>(value: T) -> usize {
    let before = FREED.with(Cell::get);
    drop(value);
    FREED.with(Cell::get) - before
}

const NOW: u64 = 1_700_000_000_000;

fn av(ms: u64) -> Vec<MediaMessage> {
    synthetic(Synth {
        video: true,
        audio: true,
        gop: 25,
        ms,
        start_ms: 0,
    })
}

/// H.264 with Opus (which MPEG-TS cannot carry): `hls_fmp4_fallback`.
fn h264_opus(ms: u64) -> Vec<MediaMessage> {
    let mut msgs = synthetic(Synth {
        video: true,
        audio: false,
        gop: 25,
        ms,
        start_ms: 0,
    });
    let head = b"\x90OpusOpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00".to_vec();
    msgs.push(media(MediaKind::Audio, 0, false, true, head));
    for i in 0..ms / 20 {
        let mut b = b"\x91Opus\xfc".to_vec();
        b.extend((0..40).map(|k| (k + i) as u8));
        msgs.push(media(MediaKind::Audio, i * 20, false, false, b));
    }
    msgs.sort_by_key(|m| (!m.flags.sequence_header, m.timestamp));
    msgs
}

/// The paths `hls_dispose` removes, as the runtime gathers them: the
/// deletes, then the playlist.
fn disposed(seg: &mut HlsSegmenter) -> Vec<String> {
    seg.dispose();
    let mut paths: Vec<String> = drain(seg)
        .into_iter()
        .filter_map(|a| match a {
            HlsAction::DeleteSegment { path, .. } => Some(path),
            _ => None,
        })
        .collect();
    paths.extend(seg.playlist_path().map(str::to_owned));
    paths
}

/// Fails at the first action the two disagree on, showing it briefly (a
/// whole segment's bytes would drown the message).
fn same(plain: &[HlsAction], resumed: &[HlsAction], at: &str) {
    let brief = |a: Option<&HlsAction>| format!("{a:?}").chars().take(400).collect::<String>();
    if let Some(i) = (0..plain.len().max(resumed.len())).find(|&i| plain.get(i) != resumed.get(i)) {
        panic!(
            "{at}: action {i} differs:\n never suspended: {}\n resumed:         {}",
            brief(plain.get(i)),
            brief(resumed.get(i))
        );
    }
}

/// Feeds `publishes` to a segmenter and to one suspended and resumed at
/// every unpublish, comparing every action; after the last, compares
/// `hls_dispose` of the suspended form, of the resumed segmenter and of
/// the plain one, then the first publish once more after the dispose.
fn suspended_and_resumed_go_on_alike(config: &HlsConfig, publishes: &[Vec<MediaMessage>]) {
    let mut plain = HlsSegmenter::new(config.clone(), "live", "cam");
    let mut parked: Option<SuspendedPlaylist> = None;
    for (n, msgs) in publishes.iter().enumerate() {
        let mut resumed = match parked.take() {
            Some(p) => HlsSegmenter::resume(config.clone(), "live", "cam", p)
                .expect("the same options resume it"),
            None => HlsSegmenter::new(config.clone(), "live", "cam"),
        };
        plain.on_republish();
        resumed.on_republish();
        for m in msgs {
            let now = NOW + m.timestamp;
            assert_eq!(plain.push(m, now).is_ok(), resumed.push(m, now).is_ok());
            same(
                &drain(&mut plain),
                &drain(&mut resumed),
                &format!("publish {n}, message at {} ms", m.timestamp),
            );
        }
        plain.on_unpublish();
        resumed.on_unpublish();
        same(
            &drain(&mut plain),
            &drain(&mut resumed),
            &format!("unpublish {n}"),
        );
        assert_eq!(plain.skipped_frames(), resumed.skipped_frames());
        assert_eq!(plain.fmp4_fallback(), resumed.fmp4_fallback());
        parked = Some(resumed.suspend());
    }
    let suspended = parked.expect("published at least once");
    let from_suspended: Vec<String> = suspended.disposed_paths().map(str::to_owned).collect();
    let mut resumed = HlsSegmenter::resume(config.clone(), "live", "cam", suspended)
        .expect("the same options resume it");
    let from_plain = disposed(&mut plain);
    assert!(from_plain.len() > 1, "nothing to dispose: {from_plain:?}");
    assert_eq!(
        from_suspended, from_plain,
        "hls_dispose of the suspended form"
    );
    assert_eq!(
        disposed(&mut resumed),
        from_plain,
        "hls_dispose once resumed"
    );
    // After a dispose, numbering goes on, without a discontinuity.
    plain.on_republish();
    resumed.on_republish();
    for m in publishes.first().into_iter().flatten() {
        let now = NOW + m.timestamp;
        let _ = (plain.push(m, now), resumed.push(m, now));
        same(&drain(&mut plain), &drain(&mut resumed), "after dispose");
    }
}

/// A segmenter fed `publishes`, stopped, its actions carried out.
fn fed(config: &HlsConfig, publishes: &[Vec<MediaMessage>]) -> HlsSegmenter {
    let mut seg = HlsSegmenter::new(config.clone(), "live", "cam");
    for msgs in publishes {
        seg.on_republish();
        for m in msgs {
            let _ = seg.push(m, NOW + m.timestamp);
            drain(&mut seg);
        }
        seg.on_unpublish();
        drain(&mut seg);
    }
    seg
}

fn ts() -> HlsConfig {
    HlsConfig {
        fragment: Duration::from_secs(2),
        window: Duration::from_secs(5),
        ..HlsConfig::default()
    }
}

#[test]
fn a_resumed_ts_playlist_goes_on_as_if_never_suspended() {
    suspended_and_resumed_go_on_alike(&ts(), &[av(5_000), av(7_000), av(3_000)]);
    // Absolute URIs (not the end of the path), names known at close only.
    let config = HlsConfig {
        entry_prefix: Some("http://cdn.example".into()),
        ts_file: "[app]/[stream]-[seq]-[duration].ts".into(),
        ..ts()
    };
    suspended_and_resumed_go_on_alike(&config, &[av(5_000), av(5_000), av(5_000)]);
}

fn fmp4() -> HlsConfig {
    HlsConfig {
        use_fmp4: true,
        // A new init file for each publish, retired with its segments.
        init_file: "[app]/[stream]-init-[seq].mp4".into(),
        ..ts()
    }
}

fn low_latency() -> HlsConfig {
    HlsConfig {
        low_latency: true,
        fragment: Duration::from_secs(1),
        ..fmp4()
    }
}

#[test]
fn a_resumed_fmp4_playlist_goes_on_as_if_never_suspended() {
    suspended_and_resumed_go_on_alike(&fmp4(), &[av(5_000), av(7_000), av(3_000)]);
    // The same init name each time (replaced, never retired early).
    let config = HlsConfig {
        init_file: HlsConfig::default().init_file,
        ..fmp4()
    };
    suspended_and_resumed_go_on_alike(&config, &[av(5_000), av(5_000)]);
}

#[test]
fn a_resumed_low_latency_playlist_goes_on_as_if_never_suspended() {
    suspended_and_resumed_go_on_alike(&low_latency(), &[av(4_000), av(3_000), av(2_000)]);
}

/// A TS playlist turned fMP4 by a codec TS cannot carry stays fMP4.
#[test]
fn a_resumed_fallback_playlist_goes_on_as_if_never_suspended() {
    suspended_and_resumed_go_on_alike(
        &ts(),
        &[av(5_000), h264_opus(5_000), h264_opus(3_000), av(3_000)],
    );
}

/// Options that rename the playlist or its entries, or change the segment
/// format, give the suspended playlist back; others take effect.
#[test]
fn resume_takes_the_options_reconfigure_takes() {
    let suspend = || fed(&ts(), &[av(5_000)]).suspend();
    let longer = HlsConfig {
        fragment: Duration::from_secs(6),
        ..ts()
    };
    assert!(suspend().accepts(&longer));
    let seg = HlsSegmenter::resume(longer.clone(), "live", "cam", suspend()).expect("resumes");
    assert_eq!(*seg.config(), longer);
    for refused in [
        HlsConfig {
            m3u8_file: "[app]/other.m3u8".into(),
            ..ts()
        },
        HlsConfig {
            entry_prefix: Some("http://cdn".into()),
            ..ts()
        },
        HlsConfig {
            use_fmp4: true,
            ..ts()
        },
        HlsConfig {
            low_latency: true,
            ..ts()
        },
    ] {
        let suspended = suspend();
        assert!(!suspended.accepts(&refused), "{refused:?}");
        let resumed = HlsSegmenter::resume(refused.clone(), "live", "cam", suspended);
        assert!(resumed.is_none(), "{refused:?}");
    }
}

/// What a stopped stream keeps is a few heap blocks, not the dozens of a
/// whole segmenter (issue 23 §4: they pinned allocator pages).
#[test]
fn a_suspended_playlist_holds_a_few_heap_blocks() {
    let window = |c: HlsConfig| HlsConfig {
        window: Duration::from_secs(60),
        ..c
    };
    let publishes = [av(9_000), av(9_000), av(9_000)];
    // TS: the text and the segments; fMP4 adds the inits; LL-HLS the parts.
    for (config, most) in [(ts(), 2), (fmp4(), 3), (low_latency(), 4)] {
        let config = window(config);
        let whole = blocks(fed(&config, &publishes));
        let suspended = blocks(fed(&config, &publishes).suspend());
        eprintln!("{config:?}: a segmenter holds {whole} heap blocks, suspended {suspended}");
        assert!(suspended <= most, "{suspended} blocks suspended");
        assert!(whole > 5 * suspended, "{whole} blocks in a whole segmenter");
    }
}

/// Playlists put on a shelf come off as they went on, whatever the order
/// and however often the shelf rebuilt its buffers; a thousand of them are
/// a few heap blocks, and none once all are taken off.
#[test]
fn a_shelf_gives_back_each_playlist_as_it_was_put() {
    let kinds = [
        (ts(), vec![av(5_000), av(3_000)]),
        (fmp4(), vec![av(5_000), av(7_000)]),
        (low_latency(), vec![av(4_000), av(2_000)]),
        (ts(), vec![av(5_000), h264_opus(3_000)]),
    ];
    let label = |i: usize| format!("__defaultVhost__/live/cam{i}");
    // The same state twice: one for the shelf, one to compare with.
    let mut references = Vec::new();
    let mut shelf = PlaylistShelf::new();
    let mut ids = Vec::new();
    for i in 0..12 {
        let (config, publishes) = &kinds[i % kinds.len()];
        references.push((config.clone(), fed(config, publishes).suspend()));
        ids.push(Some(shelf.put(&label(i), fed(config, publishes).suspend())));
    }
    let check = |i: usize, taken: SuspendedPlaylist, reference: &SuspendedPlaylist| {
        let config = &kinds[i % kinds.len()].0;
        assert!(
            taken.disposed_paths().eq(reference.disposed_paths()),
            "playlist {i}"
        );
        let mut a = HlsSegmenter::resume(config.clone(), "live", "cam", taken).expect("resumes");
        let mut b = fed(config, &kinds[i % kinds.len()].1);
        for m in av(3_000) {
            let now = NOW + m.timestamp;
            let _ = (a.push(&m, now), b.push(&m, now));
            same(&drain(&mut b), &drain(&mut a), &format!("playlist {i}"));
        }
    };
    // Off in a scattered order, with more put on meanwhile.
    for i in [3, 0, 7, 11, 5] {
        let id = ids[i].take().expect("on the shelf");
        assert_eq!(shelf.label(&id), label(i));
        let taken = shelf.take(id).expect("on the shelf");
        check(i, taken, &references[i].1);
    }
    assert_eq!(shelf.len(), 7);
    let (config, publishes) = &kinds[0];
    references.push((config.clone(), fed(config, publishes).suspend()));
    ids.push(Some(
        shelf.put(&label(12), fed(config, publishes).suspend()),
    ));
    for i in [12, 1, 2, 4, 6, 8, 9, 10] {
        let id = ids[i].take().expect("on the shelf");
        assert_eq!(shelf.label(&id), label(i));
        let taken = shelf.take(id).expect("on the shelf");
        check(i, taken, &references[i].1);
    }
    assert!(shelf.is_empty());
    assert_eq!(blocks(shelf), 0, "an empty shelf holds nothing");

    let mut shelf = PlaylistShelf::new();
    for i in 0..1000 {
        let (config, publishes) = &kinds[i % kinds.len()];
        shelf.put(&label(i), fed(config, &publishes[..1]).suspend());
    }
    let held = blocks(shelf);
    assert!(
        held <= 6,
        "a thousand playlists on a shelf hold {held} heap blocks"
    );
}
