//! A real HTTP hook server for tests, as an operator would write one for
//! SRS's `http_hooks`: it records every call's path and JSON body and answers
//! as the test's policy says.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One call the server received.
#[derive(Debug, Clone)]
pub struct HookCall {
    /// The request path (`/hooks/on_publish`).
    pub path: String,
    /// The `Content-Type` header.
    pub content_type: String,
    /// The JSON body (`Null` if it was not JSON).
    pub body: serde_json::Value,
}

impl HookCall {
    /// The body's `action` field.
    pub fn action(&self) -> &str {
        self.body["action"].as_str().unwrap_or_default()
    }
}

/// How to answer a call.
#[derive(Debug, Clone)]
pub enum Answer {
    /// `200` with body `0` (allow, SRS's short form).
    Zero,
    /// `200` with `{"code":0}` (allow).
    Allow,
    /// `200` with `{"code":403,"msg":reason}` (refuse).
    Deny(&'static str),
    /// That status with an empty body.
    Status(u16),
    /// `200` with a body that is not JSON.
    Garbage,
    /// Say nothing for this long, then allow.
    Slow(Duration),
    /// `200` with this JSON body (answers that carry data: `on_forward`).
    Json(String),
}

type Policy = dyn Fn(&HookCall) -> Answer + Send + Sync;

/// A hook server on 127.0.0.1, stopped on drop.
pub struct HookServer {
    pub addr: SocketAddr,
    calls: Arc<Mutex<Vec<HookCall>>>,
    stop: Arc<AtomicBool>,
}

impl HookServer {
    /// Starts a server answering every call with `policy`.
    pub fn start(policy: impl Fn(&HookCall) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind hook server");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let calls = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let policy: Arc<Policy> = Arc::new(policy);
        {
            let (calls, stop) = (calls.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((socket, _)) => {
                            let (calls, policy, stop) =
                                (calls.clone(), policy.clone(), stop.clone());
                            std::thread::spawn(move || serve(socket, &calls, &*policy, &stop));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            });
        }
        Self { addr, calls, stop }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<HookCall> {
        self.calls.lock().unwrap().clone()
    }

    /// The `action` of every call so far.
    pub fn actions(&self) -> Vec<String> {
        self.calls().iter().map(|c| c.action().to_owned()).collect()
    }

    /// Waits until a call with `action` (and, if given, `stream`) arrives.
    pub fn wait_action(
        &self,
        action: &str,
        stream: Option<&str>,
        limit: Duration,
    ) -> Option<HookCall> {
        let deadline = Instant::now() + limit;
        loop {
            let found = self.calls().into_iter().find(|c| {
                c.action() == action
                    && match stream {
                        None => true,
                        Some(s) => c.body["stream"] == s,
                    }
            });
            if found.is_some() || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for HookServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(mut socket: TcpStream, calls: &Mutex<Vec<HookCall>>, policy: &Policy, stop: &AtomicBool) {
    let _ = socket.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match socket.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let header = |name: &str| {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let length: usize = header("content-length").parse().unwrap_or(0);
    while buf.len() < head_end + length {
        match socket.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let body = buf.get(head_end..head_end + length).unwrap_or_default();
    let call = HookCall {
        path,
        content_type: header("content-type"),
        body: serde_json::from_slice(body).unwrap_or(serde_json::Value::Null),
    };
    calls.lock().unwrap().push(call.clone());
    let (status, text) = match policy(&call) {
        Answer::Zero => (200, "0".to_owned()),
        Answer::Allow => (200, r#"{"code":0}"#.to_owned()),
        Answer::Deny(reason) => (200, format!(r#"{{"code":403,"msg":"{reason}"}}"#)),
        Answer::Status(status) => (status, String::new()),
        Answer::Garbage => (200, "<html>not json</html>".to_owned()),
        Answer::Json(body) => (200, body),
        Answer::Slow(delay) => {
            let deadline = Instant::now() + delay;
            while Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
            (200, r#"{"code":0}"#.to_owned())
        }
    };
    let _ = write!(
        socket,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}
