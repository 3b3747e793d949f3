//! A keep-alive HTTP/1.1 client connection (hyper's low-level
//! `client::conn::http1`, no pool): HTTP-FLV, HLS and get-mode clients each
//! own one, as a browser tab would.

use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::task::Poll;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::body::{Body, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Sleep;

use crate::rtmp_conn::ConnError;
use crate::url::Target;

/// What the next poll of a response body gave.
#[derive(Debug)]
pub enum BodyEvent {
    /// Body bytes.
    Data(Bytes),
    /// The body ended.
    End,
    /// The timer fired first.
    Timer,
}

/// One HTTP/1.1 connection. Dropping it closes the connection.
#[derive(Debug)]
pub struct HttpConn {
    sender: SendRequest<Empty<Bytes>>,
    driver: JoinHandle<()>,
}

impl Drop for HttpConn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl HttpConn {
    /// Connects to `addr`.
    pub async fn open(addr: SocketAddr) -> Result<Self, ConnError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(http_error)?;
        // The connection future moves the bytes; it ends with the connection.
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Self { sender, driver })
    }

    /// Whether the connection can take another request.
    pub fn is_open(&self) -> bool {
        !self.sender.is_closed()
    }

    /// Sends `GET target` and waits for the response head. A status other
    /// than 2xx is an error.
    pub async fn get(&mut self, target: &Target) -> Result<Response<Incoming>, ConnError> {
        let response = self.send(target).await?;
        if !response.status().is_success() {
            return Err(ConnError::Refused(format!(
                "HTTP {} for {}",
                response.status(),
                target.path
            )));
        }
        Ok(response)
    }

    /// Sends `GET target` and waits for the response head, whatever its
    /// status: get mode counts the other answers instead of failing on them.
    pub async fn send(&mut self, target: &Target) -> Result<Response<Incoming>, ConnError> {
        let request = Request::get(target.path.as_str())
            .header(hyper::header::HOST, target.authority())
            .header(hyper::header::USER_AGENT, "rtmp-load")
            .body(Empty::new())
            .map_err(|e| ConnError::Http(e.to_string()))?;
        self.sender.ready().await.map_err(http_error)?;
        self.sender.send_request(request).await.map_err(http_error)
    }
}

/// Hyper's errors: a closed connection is [`ConnError::Closed`] (a
/// disconnect once established), anything else an HTTP error.
fn http_error(e: hyper::Error) -> ConnError {
    if e.is_closed() || e.is_incomplete_message() || e.is_canceled() {
        ConnError::Closed
    } else {
        ConnError::Http(e.to_string())
    }
}

/// Waits for the next body frame or the timer.
pub async fn next_body_event(
    body: &mut Incoming,
    mut timer: Pin<&mut Sleep>,
) -> Result<BodyEvent, ConnError> {
    poll_fn(|cx| {
        // Trailers and other non-data frames are skipped.
        loop {
            match Pin::new(&mut *body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        return Poll::Ready(Ok(BodyEvent::Data(data)));
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(http_error(e))),
                Poll::Ready(None) => return Poll::Ready(Ok(BodyEvent::End)),
                Poll::Pending => break,
            }
        }
        timer.as_mut().poll(cx).map(|()| Ok(BodyEvent::Timer))
    })
    .await
}

/// Runs `work` until it completes or `timer` fires; `None` on the timer.
/// Polls the session's one long-lived timer beside the work instead of
/// arming a fresh timeout per request, which get mode would pay thousands
/// of times a second.
pub async fn until<F: Future>(work: F, mut timer: Pin<&mut Sleep>) -> Option<F::Output> {
    let mut work = pin!(work);
    poll_fn(|cx| {
        if let Poll::Ready(out) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// Reads a response body to its end without keeping it, calling `on_data`
/// with each frame's length; returns the body's length, or `None` when the
/// timer fired first. A body longer than `limit` is
/// [`ConnError::BodyTooLarge`], refused from its declared length when it
/// has one, before any of it is read.
pub async fn read_body(
    body: &mut Incoming,
    mut timer: Pin<&mut Sleep>,
    limit: u64,
    mut on_data: impl FnMut(usize),
) -> Result<Option<u64>, ConnError> {
    if body.size_hint().lower() > limit {
        return Err(ConnError::BodyTooLarge { limit });
    }
    let mut len = 0u64;
    loop {
        match next_body_event(body, timer.as_mut()).await? {
            BodyEvent::Data(d) => {
                on_data(d.len());
                len = len.saturating_add(d.len() as u64);
                if len > limit {
                    return Err(ConnError::BodyTooLarge { limit });
                }
            }
            BodyEvent::End => return Ok(Some(len)),
            BodyEvent::Timer => return Ok(None),
        }
    }
}
