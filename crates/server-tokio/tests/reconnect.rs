//! Enhanced RTMP reconnect requests on both builds (README "Operations"):
//! on a graceful quit and when a reload disables a client's vhost, an RTMP
//! client whose connect announced `capsEx` Reconnect gets `onStatus`
//! `NetConnection.Connect.ReconnectRequest` (naming `reconnect_tcurl`), and a
//! client without the bit gets only the usual close.

mod support;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use rtmp_proto::amf0::Amf0Value;
use rtmp_proto::command::status::CONNECT_RECONNECT_REQUEST;
use rtmp_proto::session::ClientEvent;
use support::{each_server, test_config, wait_for, ServerProcess, TestClient};

/// An RTMP player of `live/{stream}`, announcing `capsEx` Reconnect or not.
fn player(addr: SocketAddr, stream: &str, reconnect: bool) -> TestClient {
    let props = if reconnect {
        vec![("capsEx".to_owned(), Amf0Value::Number(1.0))]
    } else {
        Vec::new()
    };
    let mut client = TestClient::connect_with(addr, "live", &format!("rtmp://{addr}/live"), props);
    assert_eq!(client.connect_answer(), Ok(()));
    let (code, description) = client.request(false, stream);
    assert_eq!(code, "NetStream.Play.Start", "{description}");
    client
}

/// Reads until the reconnect request arrives (true) or the server closes
/// the connection or `limit` passes (false).
fn gets_request(client: &mut TestClient, limit: Duration) -> bool {
    client.pump_until(limit, |e| {
        matches!(e, ClientEvent::Status { stream_id: 0, code, level, .. }
            if code == CONNECT_RECONNECT_REQUEST && level == "status")
    })
}

fn request_tc_url(client: &TestClient) -> Option<String> {
    let status = client.session.reconnect_request()?;
    status
        .extra
        .iter()
        .find(|(k, _)| k == "tcUrl")
        .and_then(|(_, v)| v.as_str())
        .map(str::to_owned)
}

fn kill(server: &ServerProcess, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(server.child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal}");
}

#[test]
fn sigquit_asks_clients_with_the_bit_to_reconnect_and_serves_them_on() {
    let global = "grace_start_wait 0;\ngrace_drain_timeout 2500;\ngrace_final_wait 0;\n\
                  reconnect_tcurl rtmp://127.0.0.1:19350/[app];";
    each_server(|bin| {
        let mut server = ServerProcess::start_configured(bin, global, "");
        let mut modern = player(server.rtmp, "q", true);
        let mut legacy = player(server.rtmp, "q", false);
        kill(&server, "QUIT");

        assert!(
            gets_request(&mut modern, Duration::from_secs(10)),
            "no reconnect request: {}; log:\n{}",
            modern.gave_up,
            server.log_text()
        );
        assert_eq!(
            request_tc_url(&modern).as_deref(),
            Some("rtmp://127.0.0.1:19350/live"),
            "[app] is the client's"
        );
        let status = modern.session.reconnect_request().expect("recorded");
        assert!(status.description.contains("shutting down"), "{status:?}");
        // The spec's old server serves on until the client leaves (here,
        // until grace_drain_timeout).
        assert!(
            !modern.closed_by_server(Duration::from_millis(800)),
            "closed at once after the request"
        );

        // The legacy client gets the usual close at the drain's end, and no
        // request before it.
        assert!(!gets_request(&mut legacy, Duration::from_secs(10)));
        assert_eq!(legacy.gave_up, "the server closed the connection");
        assert!(legacy.session.reconnect_request().is_none());

        let exited = wait_for(Duration::from_secs(10), || {
            server.child.try_wait().expect("wait")
        });
        assert!(exited.is_some_and(|s| s.success()), "no clean exit");
        assert!(
            server
                .log_text()
                .contains("reconnect requested of 1 of the 2 clients"),
            "{}",
            server.log_text()
        );
    });
}

#[test]
fn a_reload_disabling_the_vhost_asks_then_closes() {
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let mut modern = player(server.rtmp, "v", true);
        let mut legacy = player(server.rtmp, "v", false);

        // No reconnect_tcurl: the request names none (the client's own URL).
        let disabled = test_config(server.dir.path(), "", "").replacen(
            "vhost __defaultVhost__ {",
            "vhost __defaultVhost__ {\n    enabled off;",
            1,
        );
        std::fs::write(server.dir.path().join("test.conf"), disabled).unwrap();
        kill(&server, "HUP");

        assert!(
            gets_request(&mut modern, Duration::from_secs(10)),
            "no reconnect request: {}; log:\n{}",
            modern.gave_up,
            server.log_text()
        );
        assert_eq!(request_tc_url(&modern), None);
        assert!(
            modern.closed_by_server(Duration::from_secs(5)),
            "not closed after the request"
        );

        assert!(!gets_request(&mut legacy, Duration::from_secs(5)));
        assert_eq!(legacy.gave_up, "the server closed the connection");
        assert!(legacy.session.reconnect_request().is_none());
        let logged = wait_for(Duration::from_secs(5), || {
            server
                .log_text()
                .contains("reload: reconnect requested before closing")
                .then_some(())
        });
        assert!(logged.is_some(), "{}", server.log_text());
    });
}
