//! Runs `librouteros_check.py` (PyPI librouteros, an independent RouterOS client) against the
//! simulator. Needs `LPSARING_LIBROUTEROS_PYTHON` = a Python interpreter with librouteros
//! installed (`.ci/run` makes a virtualenv); without it the test prints `SKIP` on stderr and passes,
//! or fails under `LPSARING_REQUIRE_PEERS=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::path::Path;

use lpsaring_routeros_sim::{SimConfig, Simulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librouteros_drives_the_simulator() {
    let Some(python) = lpsaring_kernel::testing::peer_env(
        "LPSARING_LIBROUTEROS_PYTHON",
        "a python with librouteros installed",
    ) else {
        return;
    };
    let sim = Simulator::start(SimConfig::local()).await.unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/librouteros_check.py");
    let addr = sim.addr();
    let args = [
        addr.ip().to_string(),
        addr.port().to_string(),
        "admin".into(),
        "secret".into(),
    ];
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&python)
            .arg(&script)
            .args(args)
            .output()
    });
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), run)
        .await
        .expect("librouteros finished within a minute")
        .expect("the check task ran")
        .expect("python started");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "librouteros check failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
    assert!(sim.stats().count("/ip/hotspot/ip-binding/add") >= 4);
}
