//! Where a forward goes: the configured destinations and the backend's
//! answer, turned into one RTMP URL per destination for one stream.

use serde_json::Value;

use super::{Destination, HOPS_PARAM};
use crate::config::DEFAULT_VHOST;
use crate::hooks::{HookRequest, ServerIds};
use crate::hub::{query_param, StreamKey, TcUrl};
use crate::upstream::{RtmpUrl, RtmpUrlError};

/// Most URLs taken from one backend answer.
pub const MAX_BACKEND_URLS: usize = 16;

/// The hop count a publish arrived with (`forward_hops=N` in its query, set
/// by the forward that pushed it here; 0 for an encoder).
pub fn arrived_hops(param: &str) -> u32 {
    let query = param.strip_prefix('?').unwrap_or(param);
    query_param(query, HOPS_PARAM)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The URL stream `key`, published as `publisher` describes (its query and
/// tcUrl), is forwarded to at `dest`, marked with `hops`.
///
/// As SRS (`srs_generate_rtmp_url`, `srs_generate_stream_with_query`): a
/// `HOST:PORT` destination gets the same app and stream and the
/// publisher's query; unless that query names a vhost, `vhost=VHOST` is
/// added for a vhost other than the default one, or, on the default vhost,
/// `vhost=HOST` when the publisher's tcUrl named a host rather than an IPv4
/// address. A full URL is taken as written, with `[vhost]`, `[app]` and
/// `[stream]` replaced.
pub fn destination_url(
    dest: &Destination,
    key: &StreamKey,
    publisher: &HookRequest,
    hops: u32,
) -> Result<RtmpUrl, RtmpUrlError> {
    match dest {
        Destination::HostPort { host, port } => {
            let mut query: Vec<String> = kept_params(&publisher.param).collect();
            let param = publisher
                .param
                .strip_prefix('?')
                .unwrap_or(&publisher.param);
            if query_param(param, "vhost").is_none() {
                let tc_host = TcUrl::parse(&publisher.tc_url).host;
                if key.vhost != DEFAULT_VHOST {
                    query.push(format!("vhost={}", key.vhost));
                } else if !tc_host.is_empty() && tc_host.parse::<std::net::Ipv4Addr>().is_err() {
                    query.push(format!("vhost={tc_host}"));
                }
            }
            query.push(format!("{HOPS_PARAM}={hops}"));
            Ok(RtmpUrl {
                tls: false,
                host: host.clone(),
                port: *port,
                app: key.app.clone(),
                stream: key.stream.clone(),
                query: query.join("&"),
            })
        }
        Destination::Url(template) => {
            let text = template
                .replace("[vhost]", &key.vhost)
                .replace("[app]", &key.app)
                .replace("[stream]", &key.stream);
            mark(RtmpUrl::parse(&text)?, hops)
        }
    }
}

/// A URL from the backend, marked with `hops`.
pub fn backend_url(text: &str, hops: u32) -> Result<RtmpUrl, RtmpUrlError> {
    mark(RtmpUrl::parse(text)?, hops)
}

fn mark(mut url: RtmpUrl, hops: u32) -> Result<RtmpUrl, RtmpUrlError> {
    let mut query: Vec<String> = kept_params(&url.query).collect();
    query.push(format!("{HOPS_PARAM}={hops}"));
    url.query = query.join("&");
    Ok(url)
}

/// The parameters of `query` a forward passes on: all but our hop mark
/// (counted anew).
fn kept_params(query: &str) -> impl Iterator<Item = String> + '_ {
    query
        .strip_prefix('?')
        .unwrap_or(query)
        .split('&')
        .filter(|kv| !kv.is_empty())
        .filter(|kv| {
            let k = kv.split_once('=').map_or(*kv, |(k, _)| k);
            !k.eq_ignore_ascii_case(HOPS_PARAM)
        })
        .map(str::to_owned)
}

/// The body SRS's dynamic forward POSTs to `backend`
/// (`SrsHttpHooks::on_forward_backend`), field for field.
pub fn backend_body(req: &HookRequest, ids: &ServerIds) -> String {
    let fields: [(&str, &str); 10] = [
        ("action", "on_forward"),
        ("server_id", &ids.server_id),
        ("service_id", &ids.service_id),
        ("client_id", &req.client_id),
        ("ip", &req.ip),
        ("vhost", &req.vhost),
        ("app", &req.app),
        ("tcUrl", &req.tc_url),
        ("stream", &req.stream),
        ("param", &req.param),
    ];
    let map: serde_json::Map<String, Value> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    Value::Object(map).to_string()
}

/// The URLs of a backend answer `{"code":0,"data":{"urls":[...]}}` (the
/// code is already judged). Not a list, or no `data`: no URL (SRS forwards
/// nothing then). At most [`MAX_BACKEND_URLS`]; non-strings skipped.
pub fn backend_urls(body: &[u8]) -> Result<Vec<String>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let Some(urls) = value.pointer("/data/urls") else {
        return Ok(Vec::new());
    };
    let urls = urls.as_array().ok_or("data.urls is not a list")?;
    Ok(urls
        .iter()
        .filter_map(Value::as_str)
        .take(MAX_BACKEND_URLS)
        .map(str::to_owned)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(vhost: &str) -> StreamKey {
        StreamKey {
            vhost: vhost.into(),
            app: "live".into(),
            stream: "cam".into(),
        }
    }

    fn hp(host: &str) -> Destination {
        Destination::HostPort {
            host: host.into(),
            port: 19350,
        }
    }

    fn publisher(tc_url: &str, param: &str) -> HookRequest {
        HookRequest {
            tc_url: tc_url.into(),
            param: param.into(),
            ..HookRequest::default()
        }
    }

    #[test]
    fn host_port_destinations_keep_app_stream_query_and_pass_the_vhost() {
        let ip = "rtmp://192.0.2.1/live";
        let p = publisher(ip, "?token=x");
        let u = destination_url(&hp("127.0.0.1"), &key(DEFAULT_VHOST), &p, 1).unwrap();
        assert_eq!(
            u.to_string(),
            "rtmp://127.0.0.1:19350/live/cam?token=x&forward_hops=1"
        );
        // A configured vhost is passed on, after the query.
        let p = publisher(ip, "?token=x&forward_hops=3");
        let u = destination_url(&hp("10.0.0.2"), &key("v.example"), &p, 4).unwrap();
        assert_eq!(
            u.stream_with_query(),
            "cam?token=x&vhost=v.example&forward_hops=4"
        );
        // One the publisher named is kept as it named it.
        let p = publisher(ip, "?vhost=other.example");
        let u = destination_url(&hp("10.0.0.2"), &key(DEFAULT_VHOST), &p, 1).unwrap();
        assert_eq!(
            u.stream_with_query(),
            "cam?vhost=other.example&forward_hops=1"
        );
        // On the default vhost, the host name the publisher connected to.
        let p = publisher("rtmp://live.example.com/live", "");
        let u = destination_url(&hp("10.0.0.2"), &key(DEFAULT_VHOST), &p, 1).unwrap();
        assert_eq!(
            u.stream_with_query(),
            "cam?vhost=live.example.com&forward_hops=1"
        );
    }

    #[test]
    fn url_destinations_are_templates() {
        let d = Destination::Url("rtmp://h:1936/[app]_bak/[vhost]-[stream]?k=v".into());
        let p = publisher("rtmp://h/live", "?ignored=1");
        let u = destination_url(&d, &key("v"), &p, 2).unwrap();
        assert_eq!(
            u.to_string(),
            "rtmp://h:1936/live_bak/v-cam?k=v&forward_hops=2"
        );
        let u = backend_url("rtmp://h/a/b?forward_hops=9", 1).unwrap();
        assert_eq!(u.query, "forward_hops=1");
        assert!(backend_url("http://h/a/b", 1).is_err());
    }

    #[test]
    fn hops_are_read_from_the_publish_query() {
        assert_eq!(arrived_hops(""), 0);
        assert_eq!(arrived_hops("?token=1&forward_hops=3"), 3);
        assert_eq!(arrived_hops("forward_hops=x"), 0);
    }

    #[test]
    fn backend_answers() {
        let urls = backend_urls(br#"{"code":0,"data":{"urls":["rtmp://a/l/s",7,"rtmp://b/l/s"]}}"#)
            .unwrap();
        assert_eq!(urls, ["rtmp://a/l/s", "rtmp://b/l/s"]);
        assert_eq!(
            backend_urls(br#"{"code":0}"#).unwrap(),
            Vec::<String>::new()
        );
        assert!(backend_urls(br#"{"code":0,"data":{"urls":"x"}}"#).is_err());
        assert!(backend_urls(b"0x").is_err());
        let many = format!(
            r#"{{"code":0,"data":{{"urls":[{}]}}}}"#,
            vec!["\"rtmp://a/l/s\""; 100].join(",")
        );
        assert_eq!(
            backend_urls(many.as_bytes()).unwrap().len(),
            MAX_BACKEND_URLS
        );
    }

    #[test]
    fn backend_body_has_srs_fields() {
        let req = HookRequest {
            client_id: "7".into(),
            ip: "192.0.2.1".into(),
            vhost: DEFAULT_VHOST.into(),
            app: "live".into(),
            stream: "cam".into(),
            param: "?t=1".into(),
            tc_url: "rtmp://h/live".into(),
            ..HookRequest::default()
        };
        let ids = ServerIds {
            server_id: "s".into(),
            service_id: "v".into(),
        };
        let v: Value = serde_json::from_str(&backend_body(&req, &ids)).unwrap();
        assert_eq!(v["action"], "on_forward");
        assert_eq!(v["stream"], "cam");
        assert_eq!(v["param"], "?t=1");
        assert_eq!(v["tcUrl"], "rtmp://h/live");
        assert_eq!(v.as_object().map(|o| o.len()), Some(10));
    }
}
