//! Byte ranges (`Range: bytes=...`, RFC 9110 section 14), so a browser or
//! player can seek in a recorded file and a download can resume.
//!
//! One range per request: a request for several is answered with the whole
//! file, which RFC 9110 allows and which spares a multipart body. So is any
//! header this module does not understand, a range in another unit, or a
//! conditional range (`If-Range`), whose validators this server never sends.

use std::ops::Range;

/// What part of a file of a given length a request gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ranged {
    /// The whole file (`200`).
    Full,
    /// These bytes (`206`); never empty, always inside the file.
    Partial(Range<u64>),
    /// No byte of the file is in the range (`416`).
    Unsatisfiable,
}

/// Resolves a `Range` header value against a file of `len` bytes.
pub fn resolve(header: Option<&str>, len: u64) -> Ranged {
    let Some(value) = header else {
        return Ranged::Full;
    };
    let value = value.trim();
    let Some((unit, spec)) = value.split_once('=') else {
        return Ranged::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return Ranged::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ranged::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // A suffix: the last N bytes.
        let Some(n) = number(last) else {
            return Ranged::Full;
        };
        if n == 0 || len == 0 {
            return Ranged::Unsatisfiable;
        }
        return Ranged::Partial(len - n.min(len)..len);
    }
    let Some(start) = number(first) else {
        return Ranged::Full;
    };
    let end = if last.is_empty() {
        len
    } else {
        match number(last) {
            Some(last) if last >= start => last.saturating_add(1).min(len),
            _ => return Ranged::Full,
        }
    };
    if start >= len {
        return Ranged::Unsatisfiable;
    }
    Ranged::Partial(start..end)
}

/// A run of ASCII digits (no sign, no spaces), or `None`; overflow is `None`.
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn single_ranges() {
        let r = |h: &str| resolve(Some(h), 1000);
        assert_eq!(resolve(None, 1000), Ranged::Full);
        assert_eq!(r("bytes=0-499"), Ranged::Partial(0..500));
        assert_eq!(r("bytes=500-"), Ranged::Partial(500..1000));
        assert_eq!(r("bytes=-200"), Ranged::Partial(800..1000));
        assert_eq!(r("bytes=-5000"), Ranged::Partial(0..1000));
        assert_eq!(r("bytes=900-5000"), Ranged::Partial(900..1000));
        assert_eq!(r(" Bytes = 10 - 19 "), Ranged::Partial(10..20));
        assert_eq!(r("bytes=999-999"), Ranged::Partial(999..1000));
    }

    #[test]
    fn unsatisfiable_ranges() {
        let r = |h: &str| resolve(Some(h), 1000);
        assert_eq!(r("bytes=1000-"), Ranged::Unsatisfiable);
        assert_eq!(r("bytes=1000-2000"), Ranged::Unsatisfiable);
        assert_eq!(r("bytes=-0"), Ranged::Unsatisfiable);
        assert_eq!(resolve(Some("bytes=0-"), 0), Ranged::Unsatisfiable);
        assert_eq!(resolve(Some("bytes=-10"), 0), Ranged::Unsatisfiable);
    }

    #[test]
    fn what_is_ignored_gets_the_whole_file() {
        for h in [
            "bytes=0-1,5-9",
            "items=0-1",
            "bytes=5-1",
            "bytes=a-b",
            "bytes=-",
            "bytes=+1-2",
            "bytes=0x10-",
            "bytes",
            "bytes=99999999999999999999999-",
            "",
        ] {
            assert_eq!(resolve(Some(h), 1000), Ranged::Full, "{h:?}");
        }
    }

    proptest! {
        #[test]
        fn a_partial_range_is_never_empty_and_never_outside(
            header in "[ a-zA-Z=,0-9-]{0,40}",
            len in 0u64..10_000,
        ) {
            if let Ranged::Partial(r) = resolve(Some(&header), len) {
                prop_assert!(r.start < r.end, "{header:?}: {r:?}");
                prop_assert!(r.end <= len, "{header:?}: {r:?}");
            }
        }

        #[test]
        fn well_formed_ranges_resolve_exactly(a in 0u64..2000, b in 0u64..2000, len in 0u64..2000) {
            let (a, b) = (a.min(b), a.max(b));
            let got = resolve(Some(&format!("bytes={a}-{b}")), len);
            if a >= len {
                prop_assert_eq!(got, Ranged::Unsatisfiable);
            } else {
                prop_assert_eq!(got, Ranged::Partial(a..(b + 1).min(len)));
            }
        }
    }
}
