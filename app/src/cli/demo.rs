//! `lpsaring demo`: a complete portal on this machine in one command. A fresh temporary data dir
//! with SQLite, the RouterOS simulator with a few phones on the hotspot, the console messenger
//! (codes land in an outbox file and are printed here), the sandbox payment provider with three
//! packages on sale, and a demo user without quota: a newcomer buys a package on the simulated
//! phone and watches the router rows change here.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::users::Role;
use lpsaring_routeros_sim::{Menu, NewHost, SimConfig, SimHandle, Simulator};
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
const GIB: i64 = 1 << 30;

/// The demo's packages: (name, price in rupiah, quota bytes, validity hours, sort order).
const PACKAGES: [(&str, i64, i64, i32, i32); 3] = [
    ("3 jam", 3_000, GIB, 3, 0),
    ("1 hari", 5_000, 3 * GIB, 24, 1),
    ("30 hari", 50_000, 30 * GIB, 720, 2),
];

async fn seed_packages(app: &crate::App) -> Result<(), CliError> {
    for (name, price, quota_bytes, validity_hours, sort_order) in PACKAGES {
        app.payments
            .create_package(&lpsaring_payments::api::PackageInput {
                name: name.to_owned(),
                description: None,
                price,
                quota_bytes,
                unlimited: false,
                validity_hours,
                hotspot_profile: None,
                sort_order,
                is_active: true,
            })
            .await
            .map_err(|e| failed("cannot create a demo package", e))?;
    }
    Ok(())
}

/// The router rows a purchase changes (ip-bindings and the status address-lists), one line each.
fn router_lines(sim: &SimHandle) -> Vec<String> {
    let line = |menu: Menu, keys: &[&str]| {
        let rows = sim.with_state(|s| s.rows(menu));
        rows.into_iter()
            .map(|row| {
                let fields: Vec<String> = keys
                    .iter()
                    .filter_map(|k| row.get(k).map(|v| format!("{k}={v}")))
                    .collect();
                format!("{menu:?} {}", fields.join(" "))
            })
            .collect::<Vec<_>>()
    };
    let mut lines = line(Menu::IpBinding, &["mac-address", "type"]);
    lines.extend(line(Menu::AddressList, &["list", "address"]));
    lines
}

/// Prints the router rows whenever they change, so a purchase is seen reaching the router.
async fn follow_router(sim: Arc<SimHandle>) {
    let mut last: Vec<String> = Vec::new();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = router_lines(&sim);
        if now != last {
            println!("\n  Router (simulator) now:");
            for l in &now {
                println!("    {l}");
            }
            last = now;
        }
    }
}

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
    let installed = install_plugins(&plugin_dir)?;
    settings.plugins.dir = plugin_dir;
    settings.messaging.plugin = Some("console".to_owned());
    let sandbox = installed.iter().any(|f| f == SANDBOX_PLUGIN);
    if sandbox {
        settings.payments.plugin = Some("payment-sandbox".to_owned());
    }
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
    seed_packages(&app).await?;

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
    println!(
        "  4. The demo user has no quota yet (\"Kuota habis\"): tap \"Beli paket\", choose a package,"
    );
    if sandbox {
        println!(
            "     pay on the sandbox checkout (no money moves); the quota is added and the router rows"
        );
        println!(
            "     printed below change: the binding turns bypassed, the phone joins the active list."
        );
    } else {
        println!("     (the sandbox payment plugin was not built, so online payment is off).");
    }
    println!();
    println!(
        "  Also: http://{addr}/paket (packages), http://{addr}/login (no hotspot), http://{addr}/readyz, http://{addr}/api/openapi.json"
    );
    println!("  RouterOS simulator: {} (user admin)", sim.addr());
    println!(
        "  Data dir: {} (deleted on exit). Stop with Ctrl+C.",
        data_dir.display()
    );
    println!();
    let follower = tokio::spawn(follow_outbox(outbox));
    let sim = Arc::new(sim);
    let watcher = tokio::spawn(follow_router(sim.clone()));
    let result = crate::serve(app, listener, crate::shutdown_signal()).await;
    follower.abort();
    watcher.abort();
    let _ = watcher.await;
    if let Ok(sim) = Arc::try_unwrap(sim) {
        sim.stop();
    }
    drop(dir);
    result.map_err(|e| failed("server failed", e))
}
