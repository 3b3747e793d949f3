//! A hook server's answer: the HTTP response head, a chunked body and SRS's
//! answer contract. Nothing may panic, a parsed head never claims more bytes
//! than it was given, and an answer allows only as SRS would: status 200 or
//! 201 and a body of exactly `0` or a JSON object whose `code` is 0.
#![no_main]
use libfuzzer_sys::fuzz_target;
use server_core::hooks::{judge_answer, parse_response_head, ChunkedDecoder, MAX_HEAD_BYTES};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };

    if let Ok(Some(head)) = parse_response_head(rest) {
        assert!(head.len <= rest.len() && head.len <= MAX_HEAD_BYTES);
        assert!((100..=999).contains(&head.status));
    }

    // The same bytes as a chunked body, fed in pieces of a size the first
    // byte picks: the output never exceeds the input, and splitting does
    // not change what decodes.
    let piece = usize::from(selector % 16) + 1;
    let mut whole = ChunkedDecoder::new();
    let mut whole_body = Vec::new();
    let whole_result = whole.feed(rest, &mut whole_body);
    let mut split = ChunkedDecoder::new();
    let mut split_body = Vec::new();
    let mut split_result = Ok(0);
    let mut used = 0;
    for part in rest.chunks(piece) {
        match split.feed(part, &mut split_body) {
            Ok(n) => {
                used += n;
                split_result = Ok(used);
                if n < part.len() {
                    break;
                }
            }
            Err(e) => {
                split_result = Err(e);
                break;
            }
        }
    }
    assert!(whole_body.len() <= rest.len());
    assert_eq!(whole_result.is_ok(), split_result.is_ok());
    if whole_result.is_ok() {
        assert_eq!(whole_result, split_result);
        assert_eq!(whole_body, split_body);
        assert_eq!(whole.is_done(), split.is_done());
    }

    // SRS's contract over any status and body.
    let status = [200, 201, 204, 500][usize::from(selector >> 6)];
    if judge_answer(status, rest).is_ok() {
        assert!(status == 200 || status == 201);
        if rest != b"0" {
            let value: serde_json::Value = serde_json::from_slice(rest).expect("allowed only JSON");
            let code = &value["code"];
            assert!(
                code.as_i64() == Some(0) || code.as_u64() == Some(0),
                "{value}"
            );
        }
    }
});
