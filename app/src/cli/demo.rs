//! `lpsaring demo`: a complete portal on this machine in one command. A fresh temporary data dir
//! with SQLite, the RouterOS simulator with a few phones on the hotspot, the console messenger
//! (codes land in an outbox file and are printed here) and a ready demo user.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::users::Role;
use lpsaring_routeros_sim::{NewHost, SimConfig, Simulator};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::CliError;
use crate::settings::Settings;

/// Simulated phones on the hotspot: (MAC, IP).
const PHONES: [(&str, &str); 3] = [
    ("02:1A:2B:3C:4D:01", "10.5.50.11"),
    ("02:1A:2B:3C:4D:02", "10.5.50.12"),
    ("02:1A:2B:3C:4D:03", "10.5.50.13"),
];
const DEMO_PHONE: &str = "081234567890";
const CONSOLE_PLUGIN: &str = "liblpsaring_plugin_console.so";
const SANDBOX_PLUGIN: &str = "liblpsaring_plugin_payment_sandbox.so";

fn failed(what: &str, e: impl std::fmt::Display) -> CliError {
    CliError::Failed(format!("{what}: {e}"))
}

/// The plugin file built next to this binary (cargo puts dependency cdylibs in `deps/`).
fn built_plugin(file_name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [
        dir.join(file_name),
        dir.join("deps").join(file_name),
        PathBuf::from("/usr/lib/lpsaring/plugins").join(file_name),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// Copies the development plugins into the demo's own plugin folder.
fn install_plugins(dir: &Path) -> Result<Vec<String>, CliError> {
    std::fs::create_dir_all(dir).map_err(|e| failed("cannot create the demo plugin folder", e))?;
    let mut installed = Vec::new();
    for file in [CONSOLE_PLUGIN, SANDBOX_PLUGIN] {
        match built_plugin(file) {
            Some(source) => {
                std::fs::copy(&source, dir.join(file))
                    .map_err(|e| failed("cannot copy a plugin", e))?;
                installed.push(file.to_owned());
            }
            None => tracing::warn!(
                file,
                "plugin not found next to the binary; build the workspace"
            ),
        }
    }
    if !installed.iter().any(|f| f == CONSOLE_PLUGIN) {
        return Err(CliError::Failed(format!(
            "the console messenger plugin ({CONSOLE_PLUGIN}) was not built next to this binary; run `cargo build --release --workspace`"
        )));
    }
    Ok(installed)
}

/// Prints every message the console messenger writes, so the code shows up in this terminal.
async fn follow_outbox(path: PathBuf) {
    let mut offset = 0u64;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let Ok(file) = tokio::fs::File::open(&path).await else {
            continue;
        };
        let mut lines = BufReader::new(file).lines();
        let mut index = 0u64;
        while let Ok(Some(line)) = lines.next_line().await {
            index += 1;
            if index <= offset {
                continue;
            }
            offset = index;
            if let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) {
                println!(
                    "\n  WhatsApp (console) to {}: {}\n",
                    message["to"].as_str().unwrap_or("?"),
                    message["text"].as_str().unwrap_or("?")
                );
            }
        }
    }
}

pub async fn run(mut settings: Settings) -> Result<(), CliError> {
    let dir = tempfile::Builder::new()
        .prefix("lpsaring-demo-")
        .tempdir()
        .map_err(|e| failed("cannot create a temporary data dir", e))?;
    let data_dir = dir.path().to_path_buf();
    settings.data_dir = data_dir.clone();
    settings.database.url = None;

    let sim_password = format!("demo-{}", uuid::Uuid::new_v4().simple());
    let sim = Simulator::start(SimConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        user: "admin".to_owned(),
        password: sim_password.clone(),
        hosts: 0,
    })
    .await
    .map_err(|e| failed("cannot start the RouterOS simulator", e))?;
    for (mac, ip) in PHONES {
        sim.add_host(&NewHost {
            mac: mac.to_owned(),
            address: ip.to_owned(),
            bytes_in: 0,
            bytes_out: 0,
            uptime_secs: 60,
            server: Some("hotspot1".to_owned()),
            with_lease: true,
        })
        .map_err(|e| failed("cannot add a simulated phone", e))?;
    }
    sim.ensure_profiles(settings.quota.profiles.distinct());
    settings.router.address = sim.addr().to_string();
    settings.router.username = "admin".to_owned();
    settings.router.password = lpsaring_routeros::Secret::new(sim_password);

    let plugin_dir = data_dir.join("plugins");
    install_plugins(&plugin_dir)?;
    settings.plugins.dir = plugin_dir;
    settings.messaging.plugin = Some("console".to_owned());
    let outbox = data_dir.join("outbox.jsonl");

    let listener = crate::bind(&settings).await?;
    let addr = listener.local_addr().map_err(|e| failed("listener", e))?;
    settings.http.public_url = Some(format!("http://{addr}"));
    let app = crate::build(settings).await?;
    let phone = Phone::parse(DEMO_PHONE).map_err(|e| failed("demo phone", e))?;
    app.users
        .create(&phone, "Pengguna Demo", true, Role::User)
        .await
        .map_err(|e| failed("cannot create the demo user", e))?;

    let (mac, ip) = PHONES[0];
    println!();
    println!("  lpsaring demo is running (SQLite, RouterOS simulator, console messenger).");
    println!();
    println!("  1. Open the captive page of a simulated phone:");
    println!(
        "       http://{addr}/captive?ip={ip}&mac={mac}&link-orig=http%3A%2F%2F{}%2F",
        addr.to_string().replace(':', "%3A")
    );
    println!("  2. Enter the demo number {DEMO_PHONE} and press \"Kirim kode\".");
    println!(
        "  3. The one-time code is printed here (and written to {}).",
        outbox.display()
    );
    println!();
    println!(
        "  Also: http://{addr}/login (no hotspot), http://{addr}/readyz, http://{addr}/api/openapi.json"
    );
    println!("  RouterOS simulator: {} (user admin)", sim.addr());
    println!(
        "  Data dir: {} (deleted on exit). Stop with Ctrl+C.",
        data_dir.display()
    );
    println!();
    let follower = tokio::spawn(follow_outbox(outbox));
    let result = crate::serve(app, listener, crate::shutdown_signal()).await;
    follower.abort();
    sim.stop();
    drop(dir);
    result.map_err(|e| failed("server failed", e))
}
