//! The built-in index page for `GET /` when the document root has no
//! `index.html`: the live streams with their HLS and HTTP-FLV links, and how to
//! publish. Stream names come from publishers, so everything shown is
//! HTML-escaped and every link percent-encoded.

use std::fmt::Write as _;

use hyper::StatusCode;

use super::path::encode_path;
use super::reply::{self, Reply};
use crate::context::ServerCtx;

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Fills SRS path variables `[vhost]`, `[app]`, `[stream]`.
fn fill(template: &str, vhost: &str, app: &str, stream: &str) -> String {
    template
        .replace("[vhost]", vhost)
        .replace("[app]", app)
        .replace("[stream]", stream)
}

/// The page, for a request that named `host` (its `Host` header, port included).
pub(crate) fn page(ctx: &ServerCtx, host: Option<&str>) -> Reply {
    let http_host = host.unwrap_or("SERVER");
    let hostname = super::router::hostname(http_host);
    let rtmp_port = ctx.config().listen.first().map_or(1935, |a| a.port());
    let rtmp_base = if rtmp_port == 1935 {
        format!("rtmp://{hostname}")
    } else {
        format!("rtmp://{hostname}:{rtmp_port}")
    };

    let mut rows = String::new();
    for source in ctx.hub.sources() {
        if source.publisher().is_none() {
            continue;
        }
        let key = &source.key;
        let vhost = ctx.vhost(&key.vhost);
        let mut links = Vec::new();
        if let Some(hls) = &vhost.hls {
            let file = fill(&hls.config.m3u8_file, &key.vhost, &key.app, &key.stream);
            links.push(format!("/{}", encode_path(file.trim_start_matches('/'))));
        }
        if let Some(mount) = &vhost.flv_mount {
            links.push(encode_path(&mount.render(
                &key.vhost,
                &key.app,
                &key.stream,
            )));
        }
        let links: Vec<String> = links
            .iter()
            .map(|l| format!("<a href=\"{0}\">{0}</a>", escape_html(l)))
            .collect();
        let rtmp = if key.vhost == crate::config::DEFAULT_VHOST {
            format!("{rtmp_base}/{}/{}", key.app, key.stream)
        } else {
            format!("{rtmp_base}/{}/{}?vhost={}", key.app, key.stream, key.vhost)
        };
        let _ = writeln!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape_html(&key.vhost),
            escape_html(&format!("{}/{}", key.app, key.stream)),
            links.join("<br>"),
            escape_html(&rtmp),
        );
    }
    let streams = if rows.is_empty() {
        "<p>No live streams yet.</p>".to_owned()
    } else {
        format!(
            "<table>\n<tr><th>vhost</th><th>stream</th><th>play (HLS, HTTP-FLV)</th><th>RTMP</th></tr>\n{rows}</table>"
        )
    };
    let body = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{name}</title>\n\
         <style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:.3em 1em;text-align:left}}\
         code{{background:#eee;padding:0 .2em}}</style></head>\n<body>\n\
         <h1>{name} {version}</h1>\n<h2>Live streams</h2>\n{streams}\n\
         <h2>Publish</h2>\n<p>Publish with RTMP to <code>{rtmp}/live/NAME</code>, for example:</p>\n\
         <pre>ffmpeg -re -i input.mp4 -c copy -f flv {rtmp}/live/NAME</pre>\n\
         <p>then play <code>http://{http}/live/NAME.m3u8</code> (HLS) or \
         <code>http://{http}/live/NAME.flv</code> (HTTP-FLV).</p>\n</body></html>\n",
        name = crate::SERVER_NAME,
        version = crate::VERSION,
        rtmp = escape_html(&rtmp_base),
        http = escape_html(http_host),
    );
    reply::full(StatusCode::OK, "text/html; charset=utf-8", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
        assert_eq!(fill("[app]/[stream].m3u8", "v", "live", "s"), "live/s.m3u8");
    }
}
