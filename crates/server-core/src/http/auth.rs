//! HTTP Basic authentication for the API (`http_api { auth { } }`, RFC 7617),
//! as SRS 5 does it: every API request carries `Authorization: Basic
//! base64(username:password)` or gets `401` with a `WWW-Authenticate`
//! challenge, so browsers ask for the credentials.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::StatusCode;

use super::reply::{self, Reply};
use crate::config::ApiAuth;

/// The challenge sent with `401`.
const CHALLENGE: &str = "Basic realm=\"rtmp-server API\", charset=\"UTF-8\"";

/// True when `headers` carry `auth`'s credentials.
pub fn allows(auth: &ApiAuth, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = STANDARD.decode(token.trim()) else {
        return false;
    };
    // The user-id ends at the first colon (RFC 7617 section 2); the password may hold more.
    let Some(colon) = decoded.iter().position(|&b| b == b':') else {
        return false;
    };
    let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
    // Both compared whatever the first gives, each in time independent of
    // where it differs, so timing tells nothing about either.
    let user_ok = same(user, auth.username.as_bytes());
    let password_ok = same(password, auth.password.as_bytes());
    user_ok & password_ok
}

/// Equality that reads every byte of the shorter input, whatever differs.
fn same(a: &[u8], b: &[u8]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    diff == 0 && a.len() == b.len()
}

/// The answer to a request without valid credentials.
pub(crate) fn challenge() -> Reply {
    let mut resp = reply::status(StatusCode::UNAUTHORIZED);
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(CHALLENGE),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> ApiAuth {
        ApiAuth {
            username: "admin".into(),
            password: "s3cret:with colon".into(),
        }
    }

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    fn basic(credentials: &str) -> HeaderMap {
        with(&format!("Basic {}", STANDARD.encode(credentials)))
    }

    #[test]
    fn only_the_configured_credentials_pass() {
        assert!(allows(&auth(), &basic("admin:s3cret:with colon")));
        assert!(allows(
            &auth(),
            &with(&format!(
                "basic  {}",
                STANDARD.encode("admin:s3cret:with colon")
            ))
        ));
        for wrong in [
            "admin:s3cret",
            "admin:s3cret:with colonX",
            "Admin:s3cret:with colon",
            "admin",
            ":",
            "",
        ] {
            assert!(!allows(&auth(), &basic(wrong)), "{wrong:?}");
        }
        assert!(!allows(&auth(), &HeaderMap::new()));
        assert!(!allows(&auth(), &with("Bearer abc")));
        assert!(!allows(&auth(), &with("Basic !!!notbase64")));
        assert!(!allows(&auth(), &with("Basic")));
    }
}
