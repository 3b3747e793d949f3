//! What a hook server's answer means: SRS's contract (`SrsHttpHooks::do_post`).
//!
//! An answer allows only when its status is 200 or 201 and its body is
//! exactly `0`, or a JSON object whose `code` is the integer 0 (`{"code": 0,
//! "data": ...}`). Anything else refuses: another status, an empty body, a
//! body that is not JSON, JSON that is neither `0` nor an object, an object
//! without an integer `code` (`"0"` and `0.0` are not integers), or another
//! code. `0` means those bytes and nothing else, as in SRS (`0\n` refuses).

use std::fmt;

/// Longest piece of an answer quoted in a refusal reason, in characters.
pub const MAX_QUOTED_CHARS: usize = 120;

/// Why an answer refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerError {
    /// A status other than 200 and 201.
    Status {
        /// The status.
        status: u16,
        /// The start of the body, quoted.
        body: String,
    },
    /// 200 or 201 with no body.
    Empty,
    /// A body that is not JSON.
    NotJson {
        /// The start of the body, quoted.
        body: String,
    },
    /// JSON that is neither the number `0` written as `0` nor an object.
    NotZero {
        /// The start of the body, quoted.
        body: String,
    },
    /// An object without an integer `code`.
    NoCode {
        /// The start of the body, quoted.
        body: String,
    },
    /// An object whose `code` is not 0.
    Code {
        /// The code as the answer wrote it.
        code: String,
        /// Its `msg`, if a string, quoted.
        msg: Option<String>,
    },
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status { status, body } if body.is_empty() => write!(f, "status {status}"),
            Self::Status { status, body } => write!(f, "status {status}: {body}"),
            Self::Empty => write!(f, "empty answer (expected 0 or {{\"code\":0}})"),
            Self::NotJson { body } => write!(f, "answer is not JSON: {body}"),
            Self::NotZero { body } => write!(f, "answer is neither 0 nor a JSON object: {body}"),
            Self::NoCode { body } => write!(f, "answer has no integer code: {body}"),
            Self::Code { code, msg: None } => write!(f, "code {code}"),
            Self::Code {
                code,
                msg: Some(msg),
            } => write!(f, "code {code}: {msg}"),
        }
    }
}

impl std::error::Error for AnswerError {}

/// Judges an answer by SRS's rules: `Ok` allows.
pub fn judge_answer(status: u16, body: &[u8]) -> Result<(), AnswerError> {
    if status != 200 && status != 201 {
        return Err(AnswerError::Status {
            status,
            body: quote(body),
        });
    }
    if body.is_empty() {
        return Err(AnswerError::Empty);
    }
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return Err(AnswerError::NotJson { body: quote(body) }),
    };
    let serde_json::Value::Object(object) = value else {
        return if body == b"0" {
            Ok(())
        } else {
            Err(AnswerError::NotZero { body: quote(body) })
        };
    };
    let code = match object.get("code") {
        Some(serde_json::Value::Number(n)) if n.is_i64() || n.is_u64() => n,
        _ => return Err(AnswerError::NoCode { body: quote(body) }),
    };
    if code.as_u64() == Some(0) || code.as_i64() == Some(0) {
        return Ok(());
    }
    let msg = match object.get("msg") {
        Some(serde_json::Value::String(s)) => Some(quote(s.as_bytes())),
        _ => None,
    };
    Err(AnswerError::Code {
        code: code.to_string(),
        msg,
    })
}

/// The start of untrusted bytes, printable: at most [`MAX_QUOTED_CHARS`]
/// characters, controls escaped, so an answer cannot forge log lines.
pub fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == MAX_QUOTED_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_200_and_201_with_zero_or_code_zero() {
        for status in [200, 201] {
            assert_eq!(judge_answer(status, b"0"), Ok(()));
            assert_eq!(judge_answer(status, br#"{"code":0}"#), Ok(()));
            assert_eq!(
                judge_answer(status, br#" { "code" : 0, "data": {"x": [1]} } "#),
                Ok(())
            );
        }
    }

    #[test]
    fn refuses_other_statuses_whatever_the_body() {
        for status in [100, 202, 204, 301, 400, 403, 404, 500, 503] {
            assert_eq!(
                judge_answer(status, b"0"),
                Err(AnswerError::Status {
                    status,
                    body: "0".into()
                })
            );
        }
        assert_eq!(
            judge_answer(500, b"").unwrap_err().to_string(),
            "status 500"
        );
        assert_eq!(
            judge_answer(403, b"go away").unwrap_err().to_string(),
            "status 403: go away"
        );
    }

    #[test]
    fn refuses_empty_garbage_and_non_objects() {
        assert_eq!(judge_answer(200, b""), Err(AnswerError::Empty));
        assert_eq!(
            judge_answer(200, b"ok"),
            Err(AnswerError::NotJson { body: "ok".into() })
        );
        assert_eq!(
            judge_answer(200, b"\xff\xfe"),
            Err(AnswerError::NotJson {
                body: "\u{fffd}\u{fffd}".into()
            })
        );
        assert_eq!(
            judge_answer(200, br#"{"code":0"#),
            Err(AnswerError::NotJson {
                body: r#"{"code":0"#.into()
            })
        );
        // SRS compares the text with "0": other spellings of zero refuse.
        for body in [
            &b"0\n"[..],
            b" 0",
            b"0.0",
            b"-0",
            b"1",
            b"[0]",
            b"\"0\"",
            b"null",
            b"true",
        ] {
            assert!(
                matches!(judge_answer(200, body), Err(AnswerError::NotZero { .. })),
                "{body:?}"
            );
        }
    }

    #[test]
    fn refuses_objects_without_an_integer_zero_code() {
        for body in [
            &br#"{}"#[..],
            br#"{"code":"0"}"#,
            br#"{"code":0.0}"#,
            br#"{"code":-0}"#,
            br#"{"code":null}"#,
            br#"{"code":[0]}"#,
            br#"{"Code":0}"#,
            br#"{"data":{"code":0}}"#,
        ] {
            assert!(
                matches!(judge_answer(200, body), Err(AnswerError::NoCode { .. })),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(
            judge_answer(200, br#"{"code":1}"#),
            Err(AnswerError::Code {
                code: "1".into(),
                msg: None
            })
        );
        assert_eq!(
            judge_answer(201, br#"{"code":403,"msg":"bad token\nX"}"#)
                .unwrap_err()
                .to_string(),
            "code 403: bad token\\nX"
        );
        assert_eq!(
            judge_answer(200, br#"{"code":-1,"msg":5}"#)
                .unwrap_err()
                .to_string(),
            "code -1"
        );
        assert_eq!(
            judge_answer(200, br#"{"code":18446744073709551615}"#)
                .unwrap_err()
                .to_string(),
            "code 18446744073709551615"
        );
    }

    #[test]
    fn quotes_are_clipped_and_printable() {
        let huge = vec![b'x'; 100_000];
        let quoted = quote(&huge);
        assert_eq!(quoted.chars().count(), MAX_QUOTED_CHARS + 1);
        assert!(quoted.ends_with('…'));
        assert_eq!(quote(b"a\r\nb\x1b"), "a\\r\\nb\\u{1b}");
        match judge_answer(200, &huge) {
            Err(AnswerError::NotJson { body }) => assert!(body.len() < 400),
            other => panic!("{other:?}"),
        }
    }
}
