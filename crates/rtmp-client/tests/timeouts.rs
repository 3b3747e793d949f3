//! Every wait is bounded: a server that accepts the TCP connection and then
//! says nothing fails the call after the read timeout, naming the step.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use rtmp_client::{Client, ClientError, ClientOptions, Timeouts};

fn silent_server() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("rtmp://{}/live/s", listener.local_addr().unwrap());
    (listener, url)
}

fn quick() -> ClientOptions {
    ClientOptions {
        timeouts: Timeouts {
            connect: Duration::from_millis(500),
            read: Duration::from_millis(300),
            write: Duration::from_millis(300),
        },
        ..ClientOptions::default()
    }
}

#[test]
fn a_silent_server_times_the_handshake_out() {
    // The listener's backlog takes the connection; nobody ever answers.
    let (_listener, url) = silent_server();
    let mut client = Client::with_options(&url, quick()).unwrap();
    let start = Instant::now();
    let err = client.publish().unwrap_err();
    assert!(matches!(err, ClientError::Timeout("handshake")), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn the_async_client_times_out_too() {
    let (_listener, url) = silent_server();
    let mut client = rtmp_client::AsyncClient::with_options(&url, quick()).unwrap();
    let start = Instant::now();
    let err = client.play().await.unwrap_err();
    assert!(matches!(err, ClientError::Timeout("handshake")), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}
