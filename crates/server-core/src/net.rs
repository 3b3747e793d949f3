//! Listening sockets, built the same way for every runtime.
//!
//! Bound with `socket2` so that `[::]:1935` and `0.0.0.0:1935` can both be
//! listed (IPv6 listeners are v6-only, as SRS's are) and the address can be
//! reused right after a restart. Runtimes wrap the resulting std listener.

use std::io;
use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

/// Listen backlog.
pub const BACKLOG: i32 = 1024;

/// Binds a non-blocking TCP listener on `addr`.
pub fn bind_tcp(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}
