//! A hook server that never answers one publisher's `on_publish`: that
//! publisher waits (its session paused on the decision) and is refused when
//! the hook's timeout runs out, while another stream is published and played
//! meanwhile without waiting on it. Virtual time, the real server code.

mod scenario_support;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use futures_util::{AsyncReadExt, AsyncWriteExt};
use scenario_support::{secs, start, Synthetic};
use sim::client::{PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher};
use sim::Sim;

const HOOKS: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 9);

/// Reads one HTTP request (head and Content-Length body) as text.
async fn read_request(conn: &mut sim::SimConn) -> Option<String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        let text = String::from_utf8_lossy(&data).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return Some(text);
            }
        }
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn a_hook_that_never_answers_holds_only_its_own_publisher() {
    let mut sim = Sim::from_env(41);
    let hooks = sim.host(HOOKS);
    let listener = hooks
        .bind(SocketAddr::from((HOOKS, 8085)))
        .expect("bind the hook server");
    let h = sim.handle();
    // The hook server: allows everything, except that it never answers
    // for the stream "slow" (holding the connection open).
    let h2 = h.clone();
    h.spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let h3 = h2.clone();
            h2.spawn(async move {
                let Some(request) = read_request(&mut conn).await else {
                    return;
                };
                if request.contains(r#""stream":"slow""#) {
                    h3.sleep(secs(3600)).await;
                    return;
                }
                let _ = conn
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n0")
                    .await;
                let _ = conn.close().await;
            });
        }
    });
    let (server, rtmp) = start(
        &sim,
        Some("http_hooks { enabled on; timeout 5000; on_publish http://10.0.0.9:8085/hooks; }"),
    );

    let slow = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "slow").ending(PublishEnd::Hold),
        Synthetic::default().messages(secs(20)),
    );
    sim.run_for(Duration::from_millis(500)).unwrap();
    let fast = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 2)),
        rtmp,
        PublisherOptions::new("live", "fast").ending(PublishEnd::Hold),
        Synthetic::default().messages(secs(20)),
    );
    sim.run_for(Duration::from_millis(500)).unwrap();
    let mut opts = PlayerOptions::new("live", "fast");
    opts.expect = Some(fast.shared_log());
    opts.keep_records = false;
    let player = SimPlayer::spawn(&sim.host(Ipv4Addr::new(10, 0, 2, 1)), rtmp, opts);

    // Within the hook's timeout: the fast stream is live and played; the
    // slow publisher has had no answer at all.
    sim.run_for(secs(3)).unwrap();
    let fast_log = fast.log();
    assert!(
        fast_log
            .statuses
            .iter()
            .any(|(_, c)| c == "NetStream.Publish.Start"),
        "{:?}",
        fast_log.statuses
    );
    assert!(
        player.log().frames > 25,
        "player got {} frames",
        player.log().frames
    );
    assert!(slow.log().statuses.is_empty(), "{:?}", slow.log().statuses);
    let live: Vec<String> = server
        .ctx()
        .hub
        .sources()
        .iter()
        .filter(|s| s.publisher().is_some())
        .map(|s| s.key.stream.clone())
        .collect();
    assert_eq!(live, vec!["fast".to_owned()]);

    // Past the timeout: refused with a reason, never published.
    sim.run_for(secs(4)).unwrap();
    let statuses = slow.log().statuses;
    assert!(
        statuses
            .iter()
            .any(|(at, c)| c == "NetStream.Publish.Rejected" && *at >= secs(5)),
        "{statuses:?}"
    );
    assert!(player.log().is_clean(), "{:?}", player.log().first_problem);
    assert!(server
        .ctx()
        .hub
        .sources()
        .iter()
        .all(|s| s.key.stream != "slow" || s.publisher().is_none()));
}
