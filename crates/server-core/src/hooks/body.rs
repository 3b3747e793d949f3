//! The JSON a hook receives, field for field as SRS 6/7 send it
//! (`SrsHttpHooks::on_connect` ... `on_hls` in `srs_app_http_hooks.cpp`):
//! the same names, the same types (strings, except `send_bytes`,
//! `recv_bytes` and `seq_no`, which are integers, and `duration`, a number of
//! seconds), the same presence per event and the same order.

use serde_json::Value;

use super::{HookEvent, HookRequest};
use crate::config::DEFAULT_VHOST;

/// The ids every body starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerIds {
    /// `server_id`.
    pub server_id: String,
    /// `service_id`.
    pub service_id: String,
}

impl ServerIds {
    /// This process's ids ([`crate::server_id`], [`crate::service_id`]).
    pub fn current() -> Self {
        Self {
            server_id: crate::server_id(),
            service_id: crate::service_id(),
        }
    }
}

/// SRS's `SrsRequest::get_stream_url`: `/app/stream` on the default vhost,
/// `vhost/app/stream` elsewhere, the stream without what follows its last
/// `.` (SRS drops an extension such as `.flv`).
pub fn stream_url(req: &HookRequest) -> String {
    let stream = req
        .stream
        .rfind('.')
        .and_then(|dot| req.stream.get(..dot))
        .unwrap_or(&req.stream);
    let vhost = if req.vhost == DEFAULT_VHOST {
        ""
    } else {
        req.vhost.as_str()
    };
    format!("{vhost}/{}/{stream}", req.app)
}

/// The JSON body of `event`.
pub fn json(event: &HookEvent, ids: &ServerIds) -> String {
    let req = event.request();
    let mut fields: Vec<(&'static str, Value)> = vec![
        ("server_id", ids.server_id.as_str().into()),
        ("service_id", ids.service_id.as_str().into()),
        ("action", event.action().into()),
        ("client_id", req.client_id.as_str().into()),
        ("ip", req.ip.as_str().into()),
        ("vhost", req.vhost.as_str().into()),
        ("app", req.app.as_str().into()),
    ];
    let s = |v: &str| Value::from(v);
    match event {
        HookEvent::Connect(req) => fields.extend([
            ("stream", s(&req.stream)),
            ("param", s(&req.param)),
            ("tcUrl", s(&req.tc_url)),
            ("pageUrl", s(&req.page_url)),
        ]),
        HookEvent::Close {
            send_bytes,
            recv_bytes,
            ..
        } => fields.extend([
            ("send_bytes", Value::from(*send_bytes)),
            ("recv_bytes", Value::from(*recv_bytes)),
        ]),
        HookEvent::Publish(req) | HookEvent::Unpublish(req) | HookEvent::Stop(req) => {
            fields.extend([
                ("tcUrl", s(&req.tc_url)),
                ("stream", s(&req.stream)),
                ("param", s(&req.param)),
            ]);
        }
        HookEvent::Play(req) => fields.extend([
            ("stream", s(&req.stream)),
            ("tcUrl", s(&req.tc_url)),
            ("param", s(&req.param)),
            ("pageUrl", s(&req.page_url)),
        ]),
        HookEvent::Dvr { req, cwd, file } => fields.extend([
            ("tcUrl", s(&req.tc_url)),
            ("stream", s(&req.stream)),
            ("param", s(&req.param)),
            ("cwd", s(cwd)),
            ("file", s(file)),
        ]),
        HookEvent::Hls {
            req,
            duration,
            cwd,
            file,
            url,
            m3u8,
            m3u8_url,
            seq_no,
        } => fields.extend([
            ("tcUrl", s(&req.tc_url)),
            ("stream", s(&req.stream)),
            ("param", s(&req.param)),
            // A non-finite duration would not be JSON; SRS's is always finite.
            (
                "duration",
                Value::from(if duration.is_finite() { *duration } else { 0.0 }),
            ),
            ("cwd", s(cwd)),
            ("file", s(file)),
            ("url", s(url)),
            ("m3u8", s(m3u8)),
            ("m3u8_url", s(m3u8_url)),
            ("seq_no", Value::from(*seq_no)),
        ]),
    }
    if !matches!(event, HookEvent::Connect(_) | HookEvent::Close { .. }) {
        fields.push(("stream_url", stream_url(req).into()));
        // SRS sends the id only when its statistics know the stream.
        if let Some(id) = &req.stream_id {
            fields.push(("stream_id", id.as_str().into()));
        }
    }
    let mut out = String::with_capacity(512);
    out.push('{');
    for (n, (key, value)) in fields.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&Value::from(*key).to_string());
        out.push(':');
        out.push_str(&value.to_string());
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> ServerIds {
        ServerIds {
            server_id: "vid-7".into(),
            service_id: "7".into(),
        }
    }

    fn req() -> HookRequest {
        HookRequest {
            client_id: "42".into(),
            ip: "192.0.2.7".into(),
            vhost: DEFAULT_VHOST.into(),
            app: "live".into(),
            stream: "cam".into(),
            param: "?token=a\"b".into(),
            tc_url: "rtmp://127.0.0.1/live".into(),
            page_url: "http://page/".into(),
            stream_id: Some("9".into()),
        }
    }

    /// The keys in order, and the value of each.
    fn fields(event: &HookEvent) -> Vec<(String, Value)> {
        let text = json(event, &ids());
        // Parse twice: once for order (a stream of key/value pairs)...
        let keys: Vec<String> = text
            .trim_start_matches('{')
            .split(",\"")
            .map(|kv| {
                kv.trim_start_matches('"')
                    .split('"')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        // ...and once for values.
        let object: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(object.len(), keys.len(), "{text}");
        keys.into_iter()
            .map(|k| {
                let v = object[&k].clone();
                (k, v)
            })
            .collect()
    }

    fn keys(event: &HookEvent) -> Vec<String> {
        fields(event).into_iter().map(|(k, _)| k).collect()
    }

    const COMMON: [&str; 7] = [
        "server_id",
        "service_id",
        "action",
        "client_id",
        "ip",
        "vhost",
        "app",
    ];

    fn with_common(rest: &[&str]) -> Vec<String> {
        COMMON.iter().chain(rest).map(|s| s.to_string()).collect()
    }

    #[test]
    fn each_event_has_srs_fields_in_srs_order() {
        let r = req();
        assert_eq!(
            keys(&HookEvent::Connect(r.clone())),
            with_common(&["stream", "param", "tcUrl", "pageUrl"])
        );
        assert_eq!(
            keys(&HookEvent::Close {
                req: r.clone(),
                send_bytes: 1,
                recv_bytes: 2
            }),
            with_common(&["send_bytes", "recv_bytes"])
        );
        let publish = with_common(&["tcUrl", "stream", "param", "stream_url", "stream_id"]);
        assert_eq!(keys(&HookEvent::Publish(r.clone())), publish);
        assert_eq!(keys(&HookEvent::Unpublish(r.clone())), publish);
        assert_eq!(keys(&HookEvent::Stop(r.clone())), publish);
        assert_eq!(
            keys(&HookEvent::Play(r.clone())),
            with_common(&[
                "stream",
                "tcUrl",
                "param",
                "pageUrl",
                "stream_url",
                "stream_id"
            ])
        );
        assert_eq!(
            keys(&HookEvent::Dvr {
                req: r.clone(),
                cwd: "/srv".into(),
                file: "./objs/x.flv".into()
            }),
            with_common(&[
                "tcUrl",
                "stream",
                "param",
                "cwd",
                "file",
                "stream_url",
                "stream_id"
            ])
        );
        assert_eq!(
            keys(&hls(r.clone())),
            with_common(&[
                "tcUrl",
                "stream",
                "param",
                "duration",
                "cwd",
                "file",
                "url",
                "m3u8",
                "m3u8_url",
                "seq_no",
                "stream_url",
                "stream_id"
            ])
        );
        // SRS sets stream_id only when the stream is known to its statistics.
        let unknown = HookRequest {
            stream_id: None,
            ..r
        };
        assert_eq!(
            keys(&HookEvent::Publish(unknown)),
            with_common(&["tcUrl", "stream", "param", "stream_url"])
        );
    }

    fn hls(req: HookRequest) -> HookEvent {
        HookEvent::Hls {
            req,
            duration: 9.976,
            cwd: "/srv".into(),
            file: "./objs/nginx/html/live/cam-3.ts".into(),
            url: "live/cam-3.ts".into(),
            m3u8: "./objs/nginx/html/live/cam.m3u8".into(),
            m3u8_url: "live/cam.m3u8".into(),
            seq_no: 3,
        }
    }

    #[test]
    fn values_have_srs_types() {
        let f = fields(&hls(req()));
        let get = |k: &str| f.iter().find(|(key, _)| key == k).unwrap().1.clone();
        assert_eq!(get("server_id"), "vid-7");
        assert_eq!(get("service_id"), "7");
        assert_eq!(get("action"), "on_hls");
        assert_eq!(get("client_id"), "42");
        assert_eq!(get("param"), "?token=a\"b");
        assert_eq!(get("duration"), 9.976);
        assert_eq!(get("seq_no"), 3);
        assert!(get("seq_no").is_u64());
        assert_eq!(get("stream_url"), "/live/cam");
        assert_eq!(get("stream_id"), "9");

        let f = fields(&HookEvent::Close {
            req: req(),
            send_bytes: u64::MAX,
            recv_bytes: 0,
        });
        assert_eq!(f[2].1, "on_close");
        assert_eq!(f[7], ("send_bytes".into(), Value::from(u64::MAX)));
        assert_eq!(f[8], ("recv_bytes".into(), Value::from(0)));
        for (event, action) in [
            (HookEvent::Connect(req()), "on_connect"),
            (HookEvent::Publish(req()), "on_publish"),
            (HookEvent::Unpublish(req()), "on_unpublish"),
            (HookEvent::Play(req()), "on_play"),
            (HookEvent::Stop(req()), "on_stop"),
        ] {
            assert_eq!(fields(&event)[2].1, action);
        }
    }

    #[test]
    fn stream_urls_follow_srs() {
        let mut r = req();
        assert_eq!(stream_url(&r), "/live/cam");
        r.stream = "cam.flv".into();
        assert_eq!(stream_url(&r), "/live/cam");
        r.vhost = "v.example".into();
        assert_eq!(stream_url(&r), "v.example/live/cam");
    }

    #[test]
    fn a_non_finite_duration_stays_json() {
        let mut event = hls(req());
        if let HookEvent::Hls { duration, .. } = &mut event {
            *duration = f64::NAN;
        }
        let f = fields(&event);
        assert_eq!(f.iter().find(|(k, _)| k == "duration").unwrap().1, 0.0);
    }
}
