//! The edge cluster across hosts: Linux network namespaces with their own
//! addresses on one bridge (two origins, two edges, the encoders and the
//! players), `tc netem` delay and loss on an edge's link when the kernel
//! has netem, and the first origin's link cut (`ip link set down`, no
//! reset: its TCP connections just go silent) for failover. Root only
//! (CI runs as root); skipped with a NOTICE otherwise. The namespaces are
//! created by the test and removed by a guard, even when it fails; the only
//! traffic is between them and this process (a veth on the same bridge).

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::*;

/// Runs `ip ARGS`; its stderr on failure.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The namespaces and the host's veth of one test; all removed on drop.
struct Cluster {
    prefix: String,
    subnet: [u8; 3],
    namespaces: Vec<String>,
    host_link: Option<String>,
}

impl Cluster {
    fn new() -> Result<Self, String> {
        let pid = std::process::id();
        let mut c = Self {
            prefix: format!("n{}", pid % 100_000),
            subnet: [10, 200 + (pid % 50) as u8, ((pid / 50) % 250) as u8],
            namespaces: Vec::new(),
            host_link: None,
        };
        let sw = c.ns("sw")?;
        ip(&["-n", &sw, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &sw, "link", "set", "br0", "up"])?;
        // This process's own door onto the bridge (address .1).
        let host = format!("{}h", c.prefix);
        let peer = format!("{}rh", c.prefix);
        ip(&[
            "link", "add", &host, "type", "veth", "peer", "name", &peer, "netns", &sw,
        ])?;
        c.host_link = Some(host.clone());
        ip(&["-n", &sw, "link", "set", &peer, "master", "br0", "up"])?;
        ip(&["addr", "add", &format!("{}/24", c.addr(1)), "dev", &host])?;
        ip(&["link", "set", &host, "up"])?;
        Ok(c)
    }

    /// Creates namespace `role`, empty.
    fn ns(&mut self, role: &str) -> Result<String, String> {
        let name = format!("{}{role}", self.prefix);
        ip(&["netns", "add", &name])?;
        self.namespaces.push(name.clone());
        ip(&["-n", &name, "link", "set", "lo", "up"])?;
        Ok(name)
    }

    fn addr(&self, host: u8) -> Ipv4Addr {
        Ipv4Addr::new(self.subnet[0], self.subnet[1], self.subnet[2], host)
    }

    /// Adds host `role` (a namespace with `eth0` on the bridge at `.n`).
    fn host(&mut self, role: &str, n: u8) -> Result<Host, String> {
        let ns = self.ns(role)?;
        let sw = format!("{}sw", self.prefix);
        let port = format!("{}{role}", self.prefix);
        ip(&[
            "link", "add", "eth0", "netns", &ns, "type", "veth", "peer", "name", &port, "netns",
            &sw,
        ])?;
        ip(&["-n", &sw, "link", "set", &port, "master", "br0", "up"])?;
        ip(&[
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{}/24", self.addr(n)),
            "dev",
            "eth0",
        ])?;
        ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
        Ok(Host {
            ns,
            addr: self.addr(n),
        })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(host) = &self.host_link {
            let _ = ip(&["link", "del", host]);
        }
        // Deleting a namespace deletes its veths (and their peers).
        for ns in self.namespaces.iter().rev() {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

/// One simulated host.
struct Host {
    ns: String,
    addr: Ipv4Addr,
}

impl Host {
    /// A script that runs `bin` inside this host's namespace, so the
    /// support code can start it as it starts any server binary.
    fn wrapper(&self, dir: &Path, bin: &Path) -> PathBuf {
        let path = dir.join(format!("in-{}.sh", self.ns));
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\nexec ip netns exec {} {} \"$@\"\n",
                self.ns,
                bin.display()
            ),
        )
        .expect("write wrapper");
        let _ = Command::new("chmod").arg("+x").arg(&path).status();
        path
    }

    /// Starts the server `bin` here with `extra_vhost`, every listener on
    /// this host's address.
    fn server(&self, dir: &Path, bin: &Path, extra_vhost: &str) -> ServerProcess {
        let wrapper = self.wrapper(dir, bin);
        let addr = self.addr;
        ServerProcess::start_from(&wrapper, |d| {
            test_config(d, "", extra_vhost).replace("127.0.0.1:0", &format!("{addr}:0"))
        })
    }

    /// `ffmpeg ARGS` in this host's namespace, killed by the caller.
    fn ffmpeg(&self, args: &[&str]) -> Child {
        Command::new("ip")
            .args(["netns", "exec", &self.ns, "ffmpeg"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ffmpeg")
    }
}

/// Kills a child we started (by its PID, through `Child`).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn edge_status(server: &ServerProcess, stream: &str) -> Option<serde_json::Value> {
    let (status, _, body) = http("GET", server.api, "/api/v1/streams");
    let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
    if status != 200 {
        return None;
    }
    v["streams"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == stream)
        .map(|s| s["edge"].clone())
}

/// Bytes the edge has read from its origin for `stream`.
fn pulled_bytes(server: &ServerProcess, stream: &str) -> u64 {
    edge_status(server, stream)
        .and_then(|e| e["bytes"].as_u64())
        .unwrap_or(0)
}

/// Whether netem works here (the kernel may lack `sch_netem`).
fn netem_works(ns: &str) -> bool {
    let out = Command::new("ip")
        .args([
            "netns", "exec", ns, "tc", "qdisc", "add", "dev", "eth0", "root",
        ])
        .args(["netem", "delay", "40ms", "10ms", "loss", "1%"])
        .output();
    matches!(out, Ok(o) if o.status.success())
}

#[test]
fn an_edge_cluster_across_namespaces_survives_delay_loss_and_a_cut_origin_link() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !root {
        eprintln!("NOTICE: not root; skipping the network namespace test");
        return;
    }
    if !have("ffmpeg") {
        return;
    }
    let mut cluster = match Cluster::new() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("NOTICE: no network namespaces here ({e}); skipping");
            return;
        }
    };
    let bins = server_binaries();
    let bin = bins.first().expect("a server binary");
    let media = media(Media::AvcAac);
    let dir = TempDir::new("netns");
    let o1 = cluster.host("o1", 2).expect("o1");
    let o2 = cluster.host("o2", 3).expect("o2");
    let e1 = cluster.host("e1", 4).expect("e1");
    let e2 = cluster.host("e2", 5).expect("e2");
    let clients = cluster.host("cl", 6).expect("clients");

    let origin1 = o1.server(dir.path(), bin, "");
    let origin2 = o2.server(dir.path(), bin, "");
    let origins = format!(
        "cluster {{ mode remote; origin {} {}; idle_timeout 5; }}",
        origin1.rtmp, origin2.rtmp
    );
    let edge1 = e1.server(dir.path(), bin, &origins);
    let edge2 = e2.server(dir.path(), bin, &origins);
    // Delay and loss on the first edge's link (to everyone, the origins
    // included), when the kernel has netem.
    if !netem_works(&e1.ns) {
        eprintln!(
            "NOTICE: tc netem unavailable (no sch_netem); the cluster runs without delay and loss"
        );
    }

    // A redundant encoder: the same stream to both origins.
    let media_arg = media.display().to_string();
    let publish = |to: SocketAddr| {
        Killed(clients.ffmpeg(&[
            "-v",
            "error",
            "-re",
            "-stream_loop",
            "-1",
            "-i",
            &media_arg,
            "-c",
            "copy",
            "-f",
            "flv",
            &format!("rtmp://{to}/live/ns"),
        ]))
    };
    let _p1 = publish(origin1.rtmp);
    let _p2 = publish(origin2.rtmp);
    let play = |from: SocketAddr| {
        Killed(clients.ffmpeg(&[
            "-v",
            "error",
            "-i",
            &format!("rtmp://{from}/live/ns"),
            "-c",
            "copy",
            "-f",
            "null",
            "-",
        ]))
    };
    let _v1 = play(edge1.rtmp);
    let _v2 = play(edge2.rtmp);
    let _v3 = play(edge2.rtmp);

    // Both edges pull from the first origin.
    let origin1_name = origin1.rtmp.to_string();
    let origin2_name = origin2.rtmp.to_string();
    for edge in [&edge1, &edge2] {
        wait_for(Duration::from_secs(15), || {
            let e = edge_status(edge, "ns")?;
            (e["state"] == "pulling"
                && e["origin"] == origin1_name.as_str()
                && e["bytes"].as_u64()? > 100_000)
                .then_some(())
        })
        .unwrap_or_else(|| {
            panic!(
                "no pull from the first origin: {:?}\n{}",
                edge_status(edge, "ns"),
                edge.log_text()
            )
        });
    }
    assert_eq!(
        edge_status(&edge2, "ns").and_then(|e| e["players"].as_u64()),
        Some(2),
        "two players, one upstream"
    );

    // The first origin's link goes down: no reset, its connections go
    // silent. Each edge moves to the second origin and its players stay.
    ip(&["-n", &o1.ns, "link", "set", "eth0", "down"]).expect("cut o1");
    for edge in [&edge1, &edge2] {
        wait_for(Duration::from_secs(15), || {
            let e = edge_status(edge, "ns")?;
            (e["state"] == "pulling" && e["origin"] == origin2_name.as_str()).then_some(())
        })
        .unwrap_or_else(|| {
            panic!(
                "no failover: {:?}\n{}",
                edge_status(edge, "ns"),
                edge.log_text()
            )
        });
    }
    let before = [pulled_bytes(&edge1, "ns"), pulled_bytes(&edge2, "ns")];
    std::thread::sleep(Duration::from_secs(2));
    for (edge, before) in [&edge1, &edge2].into_iter().zip(before) {
        let after = pulled_bytes(edge, "ns");
        assert!(
            after > before + 50_000,
            "no media after the failover: {before} -> {after}"
        );
        let e = edge_status(edge, "ns").expect("still pulling");
        assert!(e["retries"].as_u64().unwrap_or(0) >= 1, "{e}");
        assert!(
            e["last_error"]
                .as_str()
                .is_some_and(|s| s.contains("no media")),
            "left for the silence: {e}"
        );
    }
    assert_eq!(
        edge_status(&edge2, "ns").and_then(|e| e["players"].as_u64()),
        Some(2),
        "the players stayed across the failover"
    );
    // `cluster` drops last (declared first): the servers and ffmpegs are
    // gone before their namespaces are deleted.
}
