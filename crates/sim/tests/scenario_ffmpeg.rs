//! ffmpeg supervision in virtual time, with scripted fake processes
//! (`sim::process`): a crash loop is parked after five deaths, a process
//! that runs long between deaths is restarted for ever with the backoff
//! reset, a transcode's ffmpeg is stopped (SIGTERM, then SIGKILL when it
//! ignores it) when its publisher leaves, and a reload stops, restarts and
//! starts ingests.

mod scenario_support;

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use scenario_support::{ms, secs, Synthetic, SERVER};
use server_core::ffmpeg::supervisor::{RESTART_FIRST, STOP_GRACE};
use server_core::ffmpeg::ProcessState;
use server_core::process::StopSignal;
use server_core::{ListenerKind, Server};
use sim::client::{PublishEnd, PublisherOptions, SimPublisher};
use sim::process::{FakeLife, FakeProcesses};
use sim::runtime::SimRuntime;
use sim::Sim;

fn config(vhost_body: &str) -> server_core::Config {
    server_core::config::parse_str(
        "scenario.conf",
        &format!(
            "listen 1935;\nff_log_dir /dev/null;\nvhost __defaultVhost__ {{\n{vhost_body}\n}}\n"
        ),
    )
    .expect("scenario config parses")
}

fn start(sim: &Sim, procs: &Arc<FakeProcesses>, vhost_body: &str) -> Arc<Server> {
    let rt = SimRuntime::with_processes(sim.host(SERVER), procs.clone());
    Arc::new(Server::start(rt, config(vhost_body)).expect("server starts"))
}

fn ingest(program: &str, id: &str) -> String {
    format!(
        "ingest {id} {{ enabled on; input {{ type stream; url rtmp://origin/live/{id}; }} ffmpeg {program}; \
         engine {{ output rtmp://127.0.0.1:[port]/live/{id}; }} }}"
    )
}

fn states(server: &Server, now: Duration) -> Vec<ProcessState> {
    server
        .ctx()
        .processes
        .list(now)
        .iter()
        .map(|p| p.state)
        .collect()
}

#[test]
fn a_crash_loop_is_parked_after_five_deaths() {
    let mut sim = Sim::from_env(71);
    let procs = FakeProcesses::new(&sim.handle());
    procs.script(
        "crasher",
        vec![FakeLife::ExitsAfter {
            after: ms(100),
            code: 1,
        }],
    );
    let server = start(&sim, &procs, &ingest("crasher", "cam"));
    sim.run_for(secs(120)).unwrap();
    let spawns = procs.spawns();
    assert_eq!(spawns.len(), 5, "{spawns:?}");
    // Each restart waits the backoff after a 100 ms life: 250, 500, 1000, 2000 ms.
    let gaps: Vec<Duration> = spawns.windows(2).map(|w| w[1].at - w[0].at).collect();
    let expected: Vec<Duration> = (0..4).map(|i| ms(100) + RESTART_FIRST * (1 << i)).collect();
    assert_eq!(gaps, expected);
    assert_eq!(
        spawns[0].args.first().map(String::as_str),
        Some("-loglevel")
    );
    assert!(spawns[0]
        .args
        .contains(&"rtmp://origin/live/cam".to_owned()));
    let listed = server.ctx().processes.list(sim.now());
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, ProcessState::Parked);
    assert_eq!(listed[0].restarts, 4);
    assert_eq!(listed[0].last_exit.as_deref(), Some("exit code 1"));
    assert_eq!(server.ctx().processes.parked_total(), 1);
    assert!(procs.running().is_empty());
}

#[test]
fn a_missing_program_is_parked_too() {
    let mut sim = Sim::from_env(72);
    let procs = FakeProcesses::new(&sim.handle());
    procs.script("nowhere", vec![FakeLife::FailsToStart]);
    let server = start(&sim, &procs, &ingest("nowhere", "cam"));
    sim.run_for(secs(30)).unwrap();
    assert_eq!(procs.spawns().len(), 5);
    let listed = server.ctx().processes.list(sim.now());
    assert_eq!(listed[0].state, ProcessState::Parked);
    assert!(listed[0]
        .last_exit
        .as_deref()
        .unwrap()
        .starts_with("cannot start"));
}

#[test]
fn a_slow_process_is_restarted_for_ever_with_the_backoff_reset() {
    let mut sim = Sim::from_env(73);
    let procs = FakeProcesses::new(&sim.handle());
    // Starts slowly and runs 40 s each time: never five deaths in a minute.
    procs.script(
        "slow",
        vec![FakeLife::ExitsAfter {
            after: secs(40),
            code: 0,
        }],
    );
    let server = start(&sim, &procs, &ingest("slow", "cam"));
    sim.run_for(ms(500)).unwrap();
    assert_eq!(states(&server, sim.now()), [ProcessState::Running]);
    let uptime = server.ctx().processes.list(sim.now())[0].uptime_ms;
    assert_eq!(uptime, 500);
    sim.run_for(secs(400)).unwrap();
    let spawns = procs.spawns();
    assert_eq!(spawns.len(), 10, "{spawns:?}");
    for w in spawns.windows(2) {
        assert_eq!(w[1].at - w[0].at, secs(40) + RESTART_FIRST);
    }
    assert_ne!(states(&server, sim.now()), [ProcessState::Parked]);
    assert_eq!(server.ctx().processes.list(sim.now())[0].restarts, 9);
}

#[test]
fn a_transcode_is_stopped_when_its_publisher_leaves() {
    let mut sim = Sim::from_env(74);
    let procs = FakeProcesses::new(&sim.handle());
    // The first ffmpeg ignores SIGTERM: it gets SIGKILL after the grace.
    procs.script(
        "ff",
        vec![
            FakeLife::UntilKilled { ignores_term: true },
            FakeLife::UntilKilled {
                ignores_term: false,
            },
        ],
    );
    let server = start(
        &sim,
        &procs,
        "transcode live { enabled on; ffmpeg ff; engine sd { enabled on; vcodec copy; acodec aac; \
         output rtmp://127.0.0.1:[port]/[app]/[stream]_[engine]; } }",
    );
    let rtmp = server.addrs(ListenerKind::Rtmp)[0];
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "s").ending(PublishEnd::Unpublish),
        Synthetic::default().messages(secs(5)),
    );
    sim.run_for(secs(2)).unwrap();
    let spawns = procs.spawns();
    assert_eq!(spawns.len(), 1, "{spawns:?}");
    let args = &spawns[0].args;
    assert!(
        args.contains(&"rtmp://10.0.0.1:1935/live/s?vhost=__defaultVhost__".to_owned()),
        "{args:?}"
    );
    assert_eq!(args.last().unwrap(), "rtmp://127.0.0.1:1935/live/s_sd");
    let pid = spawns[0].pid;
    sim.run_for(secs(5)).unwrap();
    assert!(publisher.is_finished());
    // SIGTERM at the unpublish, ignored; SIGKILL STOP_GRACE later.
    assert_eq!(procs.signals(pid), [StopSignal::Terminate]);
    sim.run_for(STOP_GRACE).unwrap();
    assert_eq!(
        procs.signals(pid),
        [StopSignal::Terminate, StopSignal::Kill]
    );
    assert!(procs.running().is_empty());
    sim.run_for(secs(1)).unwrap();
    assert!(server.ctx().processes.list(sim.now()).is_empty());
    assert_eq!(procs.spawns().len(), 1, "restarted after the stop");
}

#[test]
fn reloads_start_stop_and_restart_ingests() {
    let mut sim = Sim::from_env(75);
    let procs = FakeProcesses::new(&sim.handle());
    let server = start(&sim, &procs, &ingest("ff", "a"));
    sim.run_for(secs(1)).unwrap();
    assert_eq!(procs.running().len(), 1);
    let first = procs.spawns()[0].pid;
    let ctx = server.ctx().clone();
    let reload = |sim: &mut Sim, body: String| {
        let ctx = ctx.clone();
        sim.block_on(async move { server_core::reload::apply(&ctx, config(&body)).await })
            .expect("reload runs");
    };

    // Unchanged ingest, one added: only the new one starts.
    reload(
        &mut sim,
        format!("{}\n{}", ingest("ff", "a"), ingest("ff", "b")),
    );
    sim.run_for(secs(1)).unwrap();
    assert_eq!(procs.spawns().len(), 2);
    assert_eq!(procs.running().len(), 2);
    assert!(procs.signals(first).is_empty());

    // `a` removed, `b` changed: `a` stops, `b` restarts with its new input.
    let changed = ingest("ff", "b").replace("origin/live/b", "origin2/live/b");
    reload(&mut sim, changed);
    sim.run_for(secs(1)).unwrap();
    assert_eq!(procs.signals(first), [StopSignal::Terminate]);
    let spawns = procs.spawns();
    assert_eq!(spawns.len(), 3);
    assert!(spawns[2].args.contains(&"rtmp://origin2/live/b".to_owned()));
    assert_eq!(procs.running(), [spawns[2].pid]);

    // Every ingest gone.
    reload(&mut sim, String::new());
    sim.run_for(secs(1)).unwrap();
    assert!(procs.running().is_empty());
    assert!(server.ctx().processes.list(sim.now()).is_empty());
}

#[test]
fn a_reload_restarts_or_stops_a_running_streams_transcode() {
    let mut sim = Sim::from_env(76);
    let procs = FakeProcesses::new(&sim.handle());
    let block = |engine: &str| {
        format!(
            "transcode live {{ enabled on; ffmpeg ff; engine {engine} {{ enabled on; vcodec copy; \
             acodec aac; output rtmp://127.0.0.1:[port]/[app]/[stream]_[engine]; }} }}"
        )
    };
    let server = start(&sim, &procs, &block("sd"));
    let rtmp = server.addrs(ListenerKind::Rtmp)[0];
    let _publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "s").ending(PublishEnd::Hold),
        Synthetic::default().messages(secs(30)),
    );
    sim.run_for(secs(2)).unwrap();
    assert_eq!(procs.spawns().len(), 1);
    let first = procs.spawns()[0].pid;
    let ctx = server.ctx().clone();
    let reload = |sim: &mut Sim, body: String| {
        let ctx = ctx.clone();
        sim.block_on(async move { server_core::reload::apply(&ctx, config(&body)).await })
            .expect("reload runs");
    };

    // Unrelated change: the transcode goes on.
    reload(&mut sim, format!("{}\nchunk_size 4096;", block("sd")));
    sim.run_for(secs(1)).unwrap();
    assert_eq!(procs.spawns().len(), 1);
    assert!(procs.signals(first).is_empty());

    // Engine changed: restarted with the new one, without a republish.
    reload(&mut sim, block("hd"));
    sim.run_for(secs(1)).unwrap();
    let spawns = procs.spawns();
    assert_eq!(spawns.len(), 2, "{spawns:?}");
    assert_eq!(procs.signals(first), [StopSignal::Terminate]);
    assert_eq!(
        spawns[1].args.last().unwrap(),
        "rtmp://127.0.0.1:1935/live/s_hd"
    );
    assert_eq!(procs.running(), [spawns[1].pid]);

    // Transcode removed: stopped.
    reload(&mut sim, String::new());
    sim.run_for(secs(1)).unwrap();
    assert!(procs.running().is_empty());
    assert!(server.ctx().processes.list(sim.now()).is_empty());
}

#[test]
fn a_transcodes_output_is_not_transcoded_again() {
    let mut sim = Sim::from_env(77);
    let procs = FakeProcesses::new(&sim.handle());
    let server = start(
        &sim,
        &procs,
        "transcode { enabled on; ffmpeg ff; engine sd { enabled on; vcodec copy; acodec aac; \
         output rtmp://localhost:[port]/[app]/[stream]_[engine]?vhost=[vhost]; } }",
    );
    let rtmp = server.addrs(ListenerKind::Rtmp)[0];
    let publish = |sim: &Sim, host: u8, stream: &str| {
        SimPublisher::spawn(
            &sim.host(Ipv4Addr::new(10, 0, 1, host)),
            rtmp,
            PublisherOptions::new("live", stream).ending(PublishEnd::Hold),
            Synthetic::default().messages(secs(10)),
        )
    };
    let _s = publish(&sim, 1, "s");
    sim.run_for(secs(1)).unwrap();
    assert_eq!(procs.spawns().len(), 1);
    // What the transcode's ffmpeg would publish: not transcoded (no s_sd_sd).
    let _sd = publish(&sim, 2, "s_sd");
    sim.run_for(secs(1)).unwrap();
    assert_eq!(procs.spawns().len(), 1, "{:?}", procs.spawns());
    // Any other stream is.
    let _t = publish(&sim, 3, "t");
    sim.run_for(secs(1)).unwrap();
    assert_eq!(procs.spawns().len(), 2);
}
