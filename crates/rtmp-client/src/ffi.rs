//! The C ABI, in srs-librtmp's shape: create a client for a URL, set
//! timeouts, handshake, connect the app, publish or play the stream, read
//! and write packets (FLV tag type, timestamp, body), destroy. The header
//! `include/rtmp_client.h` is generated from this file by cbindgen (a test
//! checks it is up to date).
//!
//! Rules every function keeps, so a C caller can trust the boundary:
//! - errors are negative `RTMP_CLIENT_E*` codes; the message of the last
//!   failure on the calling thread is [`rtmp_client_last_error`];
//! - every pointer is checked for null ([`RTMP_CLIENT_EINVAL`]);
//! - no panic crosses the boundary: each call runs under `catch_unwind` and
//!   a panic becomes [`RTMP_CLIENT_EPANIC`] (the handle must then only be
//!   destroyed);
//! - the library never frees what the caller allocated, and what it lends
//!   (a read packet's body) stays valid until the next call on that client.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::time::Duration;

use media_core::flv::TagType;

use crate::blocking::Client;
use crate::error::ClientError;
use crate::frames::{AacFormat, NalFormat, VideoCodec};
use crate::options::{ClientOptions, Timeouts};
use crate::packet::Packet;
use rtmp_proto::handshake::ClientMode;

/// Success.
pub const RTMP_CLIENT_OK: c_int = 0;
/// A null pointer or an invalid argument.
pub const RTMP_CLIENT_EINVAL: c_int = -1;
/// The URL is not `rtmp://host[:port]/app/stream[?query]`.
pub const RTMP_CLIENT_EURL: c_int = -2;
/// The host did not resolve.
pub const RTMP_CLIENT_ERESOLVE: c_int = -3;
/// No address took the TCP connection.
pub const RTMP_CLIENT_ECONNECT: c_int = -4;
/// A wait outlasted its timeout.
pub const RTMP_CLIENT_ETIMEOUT: c_int = -5;
/// A socket error.
pub const RTMP_CLIENT_EIO: c_int = -6;
/// The server broke the RTMP protocol.
pub const RTMP_CLIENT_EPROTOCOL: c_int = -7;
/// The server closed the connection.
pub const RTMP_CLIENT_ECLOSED: c_int = -8;
/// The server refused `connect`, `publish` or `play`.
pub const RTMP_CLIENT_EREFUSED: c_int = -9;
/// A call out of order (write before publish...).
pub const RTMP_CLIENT_ESTATE: c_int = -10;
/// Media that cannot be packaged.
pub const RTMP_CLIENT_EMEDIA: c_int = -11;
/// A bug inside the library (a caught panic).
pub const RTMP_CLIENT_EPANIC: c_int = -12;

/// FLV tag / RTMP message type: audio.
pub const RTMP_CLIENT_TYPE_AUDIO: u8 = 8;
/// FLV tag / RTMP message type: video.
pub const RTMP_CLIENT_TYPE_VIDEO: u8 = 9;
/// FLV tag / RTMP message type: script data (`onMetaData`).
pub const RTMP_CLIENT_TYPE_SCRIPT: u8 = 18;

/// Video codec for rtmp_client_write_video_frame(): H.264 (FLV codec id 7).
pub const RTMP_CLIENT_CODEC_H264: u8 = 7;
/// Video codec for rtmp_client_write_video_frame(): HEVC (FLV codec id 12;
/// sent as Enhanced RTMP `hvc1`).
pub const RTMP_CLIENT_CODEC_HEVC: u8 = 12;

/// Largest body [`rtmp_client_write_packet`] takes: FLV's 24-bit size.
const MAX_PACKET_LEN: u32 = 0x00FF_FFFF;

/// An RTMP client connection (opaque).
pub struct RtmpClient {
    client: Client,
    /// The body [`rtmp_client_read_packet`] lent out last.
    lent: Option<bytes::Bytes>,
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    // An interior NUL cannot be represented; cut there.
    let message = message.split('\0').next().unwrap_or_default();
    let text = CString::new(message).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = text);
}

fn fail(error: &ClientError) -> c_int {
    set_last_error(&error.to_string());
    error.code()
}

fn invalid(what: &str) -> c_int {
    set_last_error(what);
    RTMP_CLIENT_EINVAL
}

/// Runs `f` with panics caught: a panic is reported, never unwound into C.
fn guard(f: impl FnOnce() -> c_int) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(code) => code,
        Err(_) => {
            set_last_error("internal error (panic) in rtmp-client");
            RTMP_CLIENT_EPANIC
        }
    }
}

/// Runs `f` on the client behind `client`, or fails on null.
fn with_client(client: *mut RtmpClient, f: impl FnOnce(&mut RtmpClient) -> c_int) -> c_int {
    guard(|| {
        // SAFETY: the caller passes a pointer from rtmp_client_create, not
        // yet destroyed, used by one thread at a time (documented).
        match unsafe { client.as_mut() } {
            Some(c) => f(c),
            None => invalid("null client"),
        }
    })
}

fn result(r: crate::Result<()>) -> c_int {
    match r {
        Ok(()) => RTMP_CLIENT_OK,
        Err(e) => fail(&e),
    }
}

/// Creates a client for `url` (`rtmp://host[:port]/app/stream[?query]`,
/// the query sent with the stream name). Connects nothing yet. Returns NULL
/// on a null or bad URL (see rtmp_client_last_error()). Free it with
/// rtmp_client_destroy().
///
/// # Safety
/// `url` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_create(url: *const c_char) -> *mut RtmpClient {
    let made = catch_unwind(|| {
        if url.is_null() {
            set_last_error("null url");
            return ptr::null_mut();
        }
        // SAFETY: non-null and, per the contract, a NUL-terminated string.
        let url = unsafe { CStr::from_ptr(url) };
        let Ok(url) = url.to_str() else {
            set_last_error("url is not UTF-8");
            return ptr::null_mut();
        };
        match Client::with_options(url, ClientOptions::default()) {
            Ok(client) => Box::into_raw(Box::new(RtmpClient { client, lent: None })),
            Err(e) => {
                fail(&e);
                ptr::null_mut()
            }
        }
    });
    made.unwrap_or_else(|_| {
        set_last_error("internal error (panic) in rtmp-client");
        ptr::null_mut()
    })
}

/// Sets the receive and send timeouts in milliseconds (0 keeps the
/// current one). The receive timeout bounds each setup step and each read;
/// defaults: 30000 each, and 10000 for the TCP connect.
///
/// # Safety
/// `client` is NULL or from rtmp_client_create() and not destroyed, used
/// by one thread at a time.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_set_timeout(
    client: *mut RtmpClient,
    recv_timeout_ms: u32,
    send_timeout_ms: u32,
) -> c_int {
    with_client(client, |c| {
        let mut t: Timeouts = c.client.timeouts();
        if recv_timeout_ms > 0 {
            t.read = Duration::from_millis(u64::from(recv_timeout_ms));
            t.connect = t.connect.min(t.read);
        }
        if send_timeout_ms > 0 {
            t.write = Duration::from_millis(u64::from(send_timeout_ms));
        }
        c.client.set_timeouts(t);
        RTMP_CLIENT_OK
    })
}

/// Chooses the handshake before rtmp_client_handshake(): non-zero for the
/// simple one (RTMP spec 5.2), zero for the complex one (the default).
///
/// # Safety
/// `client` is NULL or from rtmp_client_create() and not destroyed, used
/// by one thread at a time.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_set_simple_handshake(
    client: *mut RtmpClient,
    simple: c_int,
) -> c_int {
    with_client(client, |c| {
        let mode = if simple != 0 {
            ClientMode::Simple
        } else {
            ClientMode::Complex
        };
        result(c.client.set_handshake(mode))
    })
}

/// Announces Enhanced RTMP (`fourCcList`: hvc1, av01, vp09) in `connect`;
/// call before rtmp_client_connect_app().
///
/// # Safety
/// `client` is NULL or from rtmp_client_create() and not destroyed, used
/// by one thread at a time.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_enable_enhanced_rtmp(client: *mut RtmpClient) -> c_int {
    with_client(client, |c| result(c.client.enable_enhanced_rtmp()))
}

/// Non-zero: send the URL's query on the tcUrl too
/// (`rtmp://host:port/app?query`, SRS's tools' form), not only with the
/// stream name. Call before rtmp_client_handshake().
///
/// # Safety
/// `client` is NULL or from rtmp_client_create() and not destroyed, used
/// by one thread at a time.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_set_query_on_tc_url(
    client: *mut RtmpClient,
    on: c_int,
) -> c_int {
    with_client(client, |c| result(c.client.set_query_on_tc_url(on != 0)))
}

/// Opens the TCP connection and runs the handshake.
///
/// # Safety
/// `client` is NULL or from rtmp_client_create() and not destroyed, used
/// by one thread at a time.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_handshake(client: *mut RtmpClient) -> c_int {
    with_client(client, |c| result(c.client.handshake()))
}

/// Sends `connect` (tcUrl `rtmp://host:port/app`) and waits for the answer.
///
/// # Safety
/// `client` is NULL or from rtmp_client_create() and not destroyed, used
/// by one thread at a time.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_connect_app(client: *mut RtmpClient) -> c_int {
    with_client(client, |c| result(c.client.connect_app()))
}

/// Publishes the URL's stream and waits for `NetStream.Publish.Start`.
///
/// # Safety
/// `client` is NULL or from rtmp_client_create() and not destroyed, used
/// by one thread at a time.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_publish_stream(client: *mut RtmpClient) -> c_int {
    with_client(client, |c| result(c.client.publish()))
}

/// Plays the URL's stream and waits for `NetStream.Play.Start`.
///
/// # Safety
/// `client` is NULL or from rtmp_client_create() and not destroyed, used
/// by one thread at a time.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_play_stream(client: *mut RtmpClient) -> c_int {
    with_client(client, |c| result(c.client.play()))
}

/// Reads the next packet of the played stream: its type
/// (RTMP_CLIENT_TYPE_AUDIO, _VIDEO or _SCRIPT), timestamp in ms, and body.
/// The body is lent: valid until the next call on this client; do not free
/// it. RTMP_CLIENT_ECLOSED when the server ended the connection.
///
/// # Safety
/// `client` is NULL or from rtmp_client_create() and not destroyed, used
/// by one thread at a time; the output pointers are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_read_packet(
    client: *mut RtmpClient,
    packet_type: *mut u8,
    timestamp: *mut u32,
    data: *mut *const u8,
    size: *mut u32,
) -> c_int {
    if packet_type.is_null() || timestamp.is_null() || data.is_null() || size.is_null() {
        return guard(|| invalid("null output pointer"));
    }
    with_client(client, |c| {
        c.lent = None;
        match c.client.read_packet() {
            Ok(p) => {
                let len = u32::try_from(p.payload.len()).unwrap_or(u32::MAX);
                // SAFETY: all four checked non-null above; the caller
                // passes writable locations.
                unsafe {
                    *packet_type = p.tag_type.id();
                    *timestamp = p.timestamp;
                    *data = p.payload.as_ptr();
                    *size = len;
                }
                c.lent = Some(p.payload);
                RTMP_CLIENT_OK
            }
            Err(e) => fail(&e),
        }
    })
}

/// What rtmp_client_play_loop() calls with each packet of the played
/// stream: `user_data` as given, the packet's type (RTMP_CLIENT_TYPE_*),
/// timestamp in ms and body (lent for the call only: copy what you keep).
/// Return 0 for the next packet, non-zero to stop. It must not call
/// rtmp_client functions on the same client.
pub type RtmpClientPacketCallback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        packet_type: u8,
        timestamp: u32,
        data: *const u8,
        size: u32,
    ) -> c_int,
>;

/// Reads the played stream and calls `callback` with each packet (the
/// callback form of rtmp_client_read_packet(); call after
/// rtmp_client_play_stream()). Returns RTMP_CLIENT_OK when the callback
/// returned non-zero or the server closed the connection (the stream
/// ended); otherwise the error that stopped it, e.g. RTMP_CLIENT_ETIMEOUT
/// when no packet came within the receive timeout.
///
/// # Safety
/// `client` as for every call; `callback` is NULL or a function as
/// described by rtmp_client_packet_callback_t, given `user_data` unchanged.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_play_loop(
    client: *mut RtmpClient,
    callback: RtmpClientPacketCallback,
    user_data: *mut c_void,
) -> c_int {
    let Some(callback) = callback else {
        return guard(|| invalid("null callback"));
    };
    with_client(client, |c| {
        c.lent = None;
        let played = c.client.play_loop(|p| {
            let len = u32::try_from(p.payload.len()).unwrap_or(u32::MAX);
            // SAFETY: the caller's function, given its own user_data and a
            // body that lives until this call returns.
            let stop = unsafe {
                callback(
                    user_data,
                    p.tag_type.id(),
                    p.timestamp,
                    p.payload.as_ptr(),
                    len,
                )
            };
            if stop != 0 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        result(played)
    })
}

/// Writes one packet on the published stream: an FLV tag's type, timestamp
/// (ms) and body (`size` bytes at `data`, copied; the caller keeps it).
///
/// # Safety
/// `client` as for every call; `data` is NULL or points to `size`
/// readable bytes.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_write_packet(
    client: *mut RtmpClient,
    packet_type: u8,
    timestamp: u32,
    data: *const u8,
    size: u32,
) -> c_int {
    if data.is_null() && size > 0 {
        return guard(|| invalid("null data"));
    }
    if size > MAX_PACKET_LEN {
        return guard(|| invalid("packet larger than 16 MiB"));
    }
    with_client(client, |c| {
        let body = if size == 0 {
            Vec::new()
        } else {
            // SAFETY: non-null, and the caller promises `size` readable bytes.
            unsafe { std::slice::from_raw_parts(data, size as usize) }.to_vec()
        };
        let packet = Packet::new(TagType::from_id(packet_type), timestamp, body);
        result(c.client.write_packet(&packet))
    })
}

/// Borrows `size` bytes at `data` (empty when `size` is 0).
///
/// # Safety
/// `data` is non-null with `size` readable bytes, or `size` is 0.
unsafe fn borrowed<'a>(data: *const u8, size: u32) -> &'a [u8] {
    if size == 0 || data.is_null() {
        &[]
    } else {
        // SAFETY: the caller's contract.
        unsafe { std::slice::from_raw_parts(data, size as usize) }
    }
}

/// Writes one video access unit (srs-librtmp's `srs_h264_write_raw_frames`):
/// `codec` RTMP_CLIENT_CODEC_H264 or _HEVC; `annexb` non-zero for start
/// codes, zero for 4-byte lengths; decode and presentation times in ms.
/// In-band SPS/PPS (and VPS) become the sequence header, sent when new; a
/// picture before any is RTMP_CLIENT_EMEDIA.
///
/// # Safety
/// `client` as for every call; `data` is NULL or points to `size`
/// readable bytes.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_write_video_frame(
    client: *mut RtmpClient,
    codec: u8,
    annexb: c_int,
    data: *const u8,
    size: u32,
    dts_ms: u32,
    pts_ms: u32,
) -> c_int {
    if data.is_null() && size > 0 {
        return guard(|| invalid("null data"));
    }
    let codec = match codec {
        RTMP_CLIENT_CODEC_H264 => VideoCodec::H264,
        RTMP_CLIENT_CODEC_HEVC => VideoCodec::Hevc,
        _ => return guard(|| invalid("unknown video codec")),
    };
    let format = if annexb != 0 {
        NalFormat::AnnexB
    } else {
        NalFormat::Avcc
    };
    with_client(client, |c| {
        // SAFETY: checked above; the caller's contract.
        let data = unsafe { borrowed(data, size) };
        result(
            c.client
                .write_video_frame(codec, format, data, dts_ms, pts_ms),
        )
    })
}

/// Writes AAC audio at `timestamp_ms` (srs-librtmp's
/// `srs_audio_write_raw_frame`): `adts` non-zero for ADTS frames (several
/// in one buffer are split; the header gives the config), zero for one raw
/// frame after rtmp_client_set_aac_config().
///
/// # Safety
/// `client` as for every call; `data` is NULL or points to `size`
/// readable bytes.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_write_aac_frame(
    client: *mut RtmpClient,
    adts: c_int,
    data: *const u8,
    size: u32,
    timestamp_ms: u32,
) -> c_int {
    if data.is_null() && size > 0 {
        return guard(|| invalid("null data"));
    }
    let format = if adts != 0 {
        AacFormat::Adts
    } else {
        AacFormat::Raw
    };
    with_client(client, |c| {
        // SAFETY: checked above; the caller's contract.
        let data = unsafe { borrowed(data, size) };
        result(c.client.write_aac_frame(format, data, timestamp_ms))
    })
}

/// Sets the AudioSpecificConfig (`size` bytes at `asc`) of raw AAC frames.
///
/// # Safety
/// `client` as for every call; `asc` is NULL or points to `size`
/// readable bytes.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_set_aac_config(
    client: *mut RtmpClient,
    asc: *const u8,
    size: u32,
) -> c_int {
    if asc.is_null() {
        return guard(|| invalid("null config"));
    }
    with_client(client, |c| {
        // SAFETY: checked above; the caller's contract.
        let asc = unsafe { borrowed(asc, size) };
        result(c.client.set_aac_config(asc))
    })
}

/// Ends the stream cleanly (`FCUnpublish`/`deleteStream`) and closes the
/// connection. The client can only be destroyed afterwards.
///
/// # Safety
/// `client` is NULL or from rtmp_client_create() and not destroyed, used
/// by one thread at a time.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_close(client: *mut RtmpClient) -> c_int {
    with_client(client, |c| {
        c.lent = None;
        result(c.client.close())
    })
}

/// Closes (if still open) and frees the client. NULL is ignored.
///
/// # Safety
/// `client` is NULL or from rtmp_client_create(), destroyed once.
#[no_mangle]
pub unsafe extern "C" fn rtmp_client_destroy(client: *mut RtmpClient) {
    if client.is_null() {
        return;
    }
    let _ = catch_unwind(|| {
        // SAFETY: from rtmp_client_create and not destroyed before (the
        // caller's contract); ownership comes back here once.
        drop(unsafe { Box::from_raw(client) });
    });
}

/// The message of the last failure on this thread ("" if none). Valid
/// until the next failing call on this thread; do not free it.
#[no_mangle]
pub extern "C" fn rtmp_client_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}
