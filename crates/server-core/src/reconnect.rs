//! Enhanced RTMP reconnect requests: before the server lets clients go on
//! purpose (a graceful quit, a binary upgrade, a reload that removes their
//! vhost), each RTMP client whose `connect` announced `capsEx` Reconnect is
//! sent `onStatus` `NetConnection.Connect.ReconnectRequest` (Enhanced RTMP
//! v2, "Reconnect Request"), naming `reconnect_tcurl` when set. The others
//! get what they always got: the usual close.
//!
//! The protocol side is `rtmp_proto::session::ServerSession::request_reconnect`;
//! each connection sends the request itself (`rtmp_conn`), told through its
//! [`ClientInfo`].

use std::sync::Arc;

use crate::hub::{ClientInfo, ReconnectAsk};
use crate::ServerCtx;

/// Why clients are asked to reconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// A graceful quit: clients are asked, then served until they leave or
    /// the drain ends (the spec's old server keeps processing).
    Quit,
    /// A reload removed or disabled the client's vhost: the request, then
    /// the close.
    VhostGone,
}

impl Why {
    fn description(self) -> &'static str {
        match self {
            Self::Quit => "The server is shutting down; reconnect to continue.",
            Self::VhostGone => "This vhost was removed from the server; reconnect to continue.",
        }
    }
}

/// What [`ask`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Asked {
    /// Clients sent a reconnect request.
    pub asked: usize,
    /// Clients without support, closed at once (only for [`Why::VhostGone`]).
    pub kicked: usize,
}

/// Asks each of `clients` that supports it to reconnect. For
/// [`Why::VhostGone`], the others are kicked; for [`Why::Quit`] they are
/// left to the drain.
pub fn ask(ctx: &ServerCtx, clients: &[Arc<ClientInfo>], why: Why) -> Asked {
    let template = ctx.config().reconnect_tcurl.clone();
    let mut done = Asked::default();
    for client in clients {
        if client.supports_reconnect() {
            client.ask_reconnect(ReconnectAsk {
                tc_url: tc_url_for(&template, client),
                description: why.description().to_owned(),
                then_close: why == Why::VhostGone,
            });
            done.asked += 1;
        } else if why == Why::VhostGone {
            client.kick();
            done.kicked += 1;
        }
    }
    done
}

/// `reconnect_tcurl` for `client`: `[vhost]` and `[app]` replaced by its
/// own (SRS's variables). `None` when unset, or when it names a variable
/// the client has not given yet (connected, neither publishing nor
/// playing): then the client reconnects to the URL it used.
fn tc_url_for(template: &str, client: &ClientInfo) -> Option<String> {
    if template.is_empty() {
        return None;
    }
    if !template.contains("[vhost]") && !template.contains("[app]") {
        return Some(template.to_owned());
    }
    let key = client.with_details(|d| d.stream.clone())?;
    Some(
        template
            .replace("[vhost]", &key.vhost)
            .replace("[app]", &key.app),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::StreamKey;

    #[test]
    fn variables_are_the_clients() {
        let c = ClientInfo::new(1, "127.0.0.1:1".into(), 0);
        assert_eq!(tc_url_for("", &c), None);
        assert_eq!(
            tc_url_for("rtmp://b:1935/live", &c).as_deref(),
            Some("rtmp://b:1935/live")
        );
        // Not yet known: the client's own URL.
        assert_eq!(tc_url_for("rtmp://b/[app]", &c), None);
        c.update(|d| {
            d.stream = Some(StreamKey {
                vhost: "v.example".into(),
                app: "live/x".into(),
                stream: "s".into(),
            })
        });
        assert_eq!(
            tc_url_for("rtmp://b/[app]?vhost=[vhost]", &c).as_deref(),
            Some("rtmp://b/live/x?vhost=v.example")
        );
    }
}
