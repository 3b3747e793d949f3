//! The C ABI's guarantees, called from Rust as C would call them: null
//! pointers and bad URLs are errors with a message, not crashes; codes are
//! the header's.

use std::ffi::{CStr, CString};
use std::ptr;

use rtmp_client::ffi::*;

fn last_error() -> String {
    // SAFETY: the library returns a valid NUL-terminated string.
    unsafe { CStr::from_ptr(rtmp_client_last_error()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn nulls_and_bad_urls_are_errors_with_messages() {
    unsafe {
        assert!(rtmp_client_create(ptr::null()).is_null());
        assert_eq!(last_error(), "null url");
        let bad = CString::new("http://host/app/stream").unwrap();
        assert!(rtmp_client_create(bad.as_ptr()).is_null());
        assert!(last_error().contains("rtmp://"), "{}", last_error());
        assert_eq!(rtmp_client_handshake(ptr::null_mut()), RTMP_CLIENT_EINVAL);
        assert_eq!(
            rtmp_client_set_timeout(ptr::null_mut(), 1, 1),
            RTMP_CLIENT_EINVAL
        );
        rtmp_client_destroy(ptr::null_mut());

        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = CString::new(format!("rtmp://127.0.0.1:{port}/live/s?token=x")).unwrap();
        let client = rtmp_client_create(url.as_ptr());
        assert!(!client.is_null());
        let (mut t, mut ts, mut data, mut size) = (0u8, 0u32, ptr::null(), 0u32);
        assert_eq!(
            rtmp_client_read_packet(client, ptr::null_mut(), &mut ts, &mut data, &mut size),
            RTMP_CLIENT_EINVAL
        );
        assert_eq!(
            rtmp_client_read_packet(client, &mut t, &mut ts, &mut data, &mut size),
            RTMP_CLIENT_ESTATE,
            "reading before playing: {}",
            last_error()
        );
        assert_eq!(
            rtmp_client_play_loop(client, None, ptr::null_mut()),
            RTMP_CLIENT_EINVAL
        );
        assert_eq!(
            rtmp_client_play_loop(client, Some(never_called), ptr::null_mut()),
            RTMP_CLIENT_ESTATE,
            "play loop before playing: {}",
            last_error()
        );
        assert_eq!(
            rtmp_client_write_packet(client, RTMP_CLIENT_TYPE_VIDEO, 0, ptr::null(), 5),
            RTMP_CLIENT_EINVAL
        );
        assert_eq!(
            rtmp_client_write_packet(client, RTMP_CLIENT_TYPE_VIDEO, 0, [0u8; 2].as_ptr(), 2),
            RTMP_CLIENT_ESTATE
        );
        assert_eq!(rtmp_client_set_simple_handshake(client, 1), RTMP_CLIENT_OK);
        assert_eq!(rtmp_client_enable_enhanced_rtmp(client), RTMP_CLIENT_OK);
        assert_eq!(rtmp_client_set_timeout(client, 2000, 2000), RTMP_CLIENT_OK);
        assert_eq!(rtmp_client_handshake(client), RTMP_CLIENT_ECONNECT);
        assert!(
            last_error().contains(&format!("127.0.0.1:{port}")),
            "{}",
            last_error()
        );
        assert_eq!(rtmp_client_close(client), RTMP_CLIENT_OK);
        rtmp_client_destroy(client);
    }
}

unsafe extern "C" fn never_called(
    _user_data: *mut std::ffi::c_void,
    _packet_type: u8,
    _timestamp: u32,
    _data: *const u8,
    _size: u32,
) -> std::ffi::c_int {
    panic!("a packet before playing")
}
