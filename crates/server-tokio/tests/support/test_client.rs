//! A blocking RTMP client for tests that need to see the server's exact
//! answers (status codes, descriptions), which ffmpeg and rtmpdump hide.

use std::time::Duration;

/// A blocking RTMP client over std TCP, driven by rtmp-proto's ClientSession.
pub struct TestClient {
    pub socket: std::net::TcpStream,
    pub session: rtmp_proto::session::ClientSession,
    /// Why the last `pump_until` gave up, for failure messages.
    pub gave_up: String,
}

impl TestClient {
    pub fn connect(addr: std::net::SocketAddr, app: &str) -> Self {
        use rtmp_proto::session::{ClientConfig, ClientEvent, ClientSession};
        let socket = std::net::TcpStream::connect(addr).expect("connect");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut client = Self {
            socket,
            session: ClientSession::new(ClientConfig::default(), 0, [7; 32]),
            gave_up: String::new(),
        };
        client
            .session
            .connect(app, &format!("rtmp://{addr}/{app}"), Vec::new());
        let connected = client.pump_until(Duration::from_secs(10), |e| {
            matches!(e, ClientEvent::Connected { .. })
        });
        assert!(
            connected,
            "RTMP connect did not succeed: {}",
            client.gave_up
        );
        client
    }

    /// Opens a connection and sends `connect` with the tcUrl `tc_url` and
    /// extra command-object `properties` (`pageUrl`...), without waiting for
    /// the answer: for tests of refused connects.
    pub fn connect_with(
        addr: std::net::SocketAddr,
        app: &str,
        tc_url: &str,
        properties: Vec<(String, rtmp_proto::amf0::Amf0Value)>,
    ) -> Self {
        use rtmp_proto::session::{ClientConfig, ClientSession};
        let socket = std::net::TcpStream::connect(addr).expect("connect");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut client = Self {
            socket,
            session: ClientSession::new(ClientConfig::default(), 0, [7; 32]),
            gave_up: String::new(),
        };
        client.session.connect(app, tc_url, properties);
        client
    }

    /// The connect's answer: `Ok(())` when accepted, else the `_error`'s
    /// (code, description).
    pub fn connect_answer(&mut self) -> Result<(), (String, String)> {
        use rtmp_proto::session::ClientEvent;
        let mut answer = None;
        self.pump_until(Duration::from_secs(15), |e| match e {
            ClientEvent::Connected { .. } => {
                answer = Some(Ok(()));
                true
            }
            ClientEvent::ConnectFailed { status } => {
                answer = Some(Err((status.code.clone(), status.description.clone())));
                true
            }
            _ => false,
        });
        answer.unwrap_or_else(|| Err(("none".into(), self.gave_up.clone())))
    }

    /// Creates a stream and asks to publish (`publish`) or play `name` on
    /// it; returns the first status's (code, description).
    pub fn request(&mut self, publish: bool, name: &str) -> (String, String) {
        use rtmp_proto::session::ClientEvent;
        self.session.create_stream();
        let mut sid = None;
        self.pump_until(Duration::from_secs(10), |e| match e {
            ClientEvent::StreamCreated { stream_id, .. } => {
                sid = Some(*stream_id);
                true
            }
            _ => false,
        });
        let Some(sid) = sid else {
            return ("none".into(), format!("no stream: {}", self.gave_up));
        };
        if publish {
            self.session
                .publish(sid, name, rtmp_proto::command::PublishType::Live);
        } else {
            self.session.play(sid, name);
        }
        let mut status = None;
        self.pump_until(Duration::from_secs(15), |e| match e {
            ClientEvent::Status {
                code, description, ..
            } if code != "NetStream.Play.Reset" => {
                status = Some((code.clone(), description.clone()));
                true
            }
            _ => false,
        });
        status.unwrap_or_else(|| ("none".into(), self.gave_up.clone()))
    }

    /// Writes what the session queued, reads what arrives; stops when `done`
    /// matches an event, the peer closes (returns false) or time runs out.
    pub fn pump_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&rtmp_proto::session::ClientEvent) -> bool,
    ) -> bool {
        use std::io::{Read, Write};
        let deadline = std::time::Instant::now() + limit;
        let mut buf = vec![0u8; 65536];
        while std::time::Instant::now() < deadline {
            let mut out = Vec::new();
            self.session.poll_transmit(&mut out);
            for piece in out {
                if let Err(e) = self.socket.write_all(&piece) {
                    self.gave_up = format!("write failed: {e}");
                    return false;
                }
            }
            match self.socket.read(&mut buf) {
                Ok(0) => {
                    self.gave_up = "the server closed the connection".into();
                    return false;
                }
                Ok(n) => {
                    if let Err(e) = self.session.handle_input(0, &buf[..n]) {
                        self.gave_up = format!("client session error: {e}");
                        return false;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => {
                    self.gave_up = format!("read failed: {e}");
                    return false;
                }
            }
            while let Some(event) = self.session.poll_event() {
                if done(&event) {
                    return true;
                }
            }
        }
        self.gave_up = format!("no such event within {limit:?}");
        false
    }

    /// True when the server closes the socket within `limit`.
    pub fn closed_by_server(&mut self, limit: Duration) -> bool {
        use std::io::Read;
        let deadline = std::time::Instant::now() + limit;
        let mut buf = [0u8; 4096];
        while std::time::Instant::now() < deadline {
            match self.socket.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return true,
            }
        }
        false
    }
}
