//! The smol binary's command line. The end-to-end suite in `server-tokio`
//! runs every behaviour test against this binary too; this test also makes
//! `cargo test --workspace` build it.

use std::process::Command;

#[test]
fn help_and_config_test_mode_work() {
    let bin = env!("CARGO_BIN_EXE_rtmp-server-smol");
    let out = Command::new(bin).arg("--help").output().expect("run");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--config") && help.contains("--test"),
        "{help}"
    );

    // The embedded default config passes `-t`.
    let out = Command::new(bin).arg("-t").output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("test is successful"));
}
