//! A replay's [`Report`] as text: what snapshots store and the CLI prints.

use std::fmt::Write as _;

use crate::replay::{FlowReport, Report};
use crate::transcript::transcript;

impl Report {
    /// The whole report.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "replay of {}", self.name);
        let config = if self.custom_config {
            "custom config"
        } else {
            "default config"
        };
        let _ = writeln!(
            s,
            "server: {} {} ({config}); seed {}; {} flow(s)",
            server_core::SERVER_NAME,
            server_core::VERSION,
            self.seed,
            self.flows.len()
        );
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        for (i, f) in self.flows.iter().enumerate() {
            let _ = writeln!(s, "\n== flow {}: {}", i + 1, f.label);
            s.push_str(&f.render());
        }
        let _ = writeln!(s, "\n== HLS output");
        s.push_str(&self.hls.render());
        s
    }

    /// Only the call lines of every flow: what must not depend on the seed.
    pub fn calls(&self) -> String {
        self.flows
            .iter()
            .map(|f| transcript(&f.entries).calls)
            .collect::<Vec<_>>()
            .join("--\n")
    }
}

impl FlowReport {
    /// This flow's part of the report.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "timing: {}", self.timing);
        let c = &self.client_handshake;
        let v = |v: Option<u32>| v.map_or("-".to_owned(), |v| format!("{v:08x}"));
        let _ = writeln!(
            s,
            "handshake: client C0 {:?}, C1 {} (version {}); server S1 {} (version {}); S2 {}",
            c.version.unwrap_or(0),
            c.kind(),
            v(c.peer_version),
            self.server_handshake.kind(),
            v(self.server_handshake.peer_version),
            if self.s2_echoes_c1 {
                "echoes C1"
            } else {
                "signed (does not echo C1)"
            }
        );
        let _ = writeln!(
            s,
            "C2: replayed as captured; {}",
            if self.c2_echoes_s1 {
                "it echoes our S1"
            } else {
                "it answered the captured server's S1, not ours (accepted: C2 is not enforced)"
            }
        );
        let t = transcript(&self.entries);
        let _ = writeln!(s, "calls:");
        s.push_str(if t.calls.is_empty() {
            "  (none)\n"
        } else {
            &t.calls
        });
        let _ = writeln!(s, "timeline:");
        s.push_str(&t.timeline);
        let _ = writeln!(s, "counts:");
        s.push_str(&t.counts);
        if !t.received_media.is_empty() {
            let _ = writeln!(s, "media received by the client:");
            s.push_str(&t.received_media);
        }
        let _ = writeln!(
            s,
            "bytes: client sent {}, server sent {}",
            self.bytes_sent, self.bytes_received
        );
        let _ = writeln!(s, "connection:");
        for e in &self.events {
            let _ = writeln!(s, "  {e}");
        }
        if let Some(e) = &self.client_decode_error {
            let _ = writeln!(s, "client stream undecodable: {e}");
        }
        if let Some(e) = &self.server_decode_error {
            let _ = writeln!(s, "server stream undecodable: {e}");
        }
        if let Some(captured) = &self.captured_server {
            let t = transcript(captured);
            let _ = writeln!(
                s,
                "the captured server said (for comparison; not replayed):"
            );
            s.push_str(if t.timeline.is_empty() {
                "  (nothing decodable)\n"
            } else {
                &t.timeline
            });
        }
        s
    }
}
