//! systemd service notifications (`Type=notify`): `READY=1` once every `/readyz` part is up
//! (what would make `/readyz` answer 200), `WATCHDOG=1` every half `WatchdogSec` while the runtime
//! is alive, `STOPPING=1` on shutdown. The protocol is one datagram per message to the unix
//! socket named by `NOTIFY_SOCKET` (a path, or an abstract name after `@`). Started any other
//! way (no `NOTIFY_SOCKET`) every call is a no-op.

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::Arc;
use std::time::Duration;

use lpsaring_kernel::health::{self, Health, Status};

/// How long readiness waits for one check, and between two tries while a part is down.
const CHECK_LIMIT: Duration = Duration::from_secs(3);
const RETRY: Duration = Duration::from_secs(1);

/// The service manager's notification socket.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    addr: SocketAddr,
}

impl Notifier {
    /// From `NOTIFY_SOCKET`; `None` when the process was not started by systemd (or the socket
    /// cannot be used, which is logged).
    pub fn from_env() -> Option<Self> {
        let name = std::env::var_os("NOTIFY_SOCKET")?;
        let name = name.to_string_lossy();
        let addr = match name.strip_prefix('@') {
            #[cfg(target_os = "linux")]
            Some(abstract_name) => {
                use std::os::linux::net::SocketAddrExt;
                SocketAddr::from_abstract_name(abstract_name.as_bytes())
            }
            #[cfg(not(target_os = "linux"))]
            Some(_) => return None,
            None => SocketAddr::from_pathname(std::path::Path::new(&*name)),
        };
        match (addr, UnixDatagram::unbound()) {
            (Ok(addr), Ok(socket)) => Some(Self { socket, addr }),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(socket = %name, error = %e, "cannot use NOTIFY_SOCKET");
                None
            }
        }
    }

    /// Sends one state line set (`READY=1`, `WATCHDOG=1`, ...); a failure is logged, never fatal.
    pub fn notify(&self, state: &str) {
        if let Err(e) = self.socket.send_to_addr(state.as_bytes(), &self.addr) {
            tracing::warn!(error = %e, state, "sd_notify failed");
        }
    }
}

/// Half of `WATCHDOG_USEC` when the watchdog is on for this process (`WATCHDOG_PID` unset or ours).
fn watchdog_interval() -> Option<Duration> {
    if let Some(pid) = std::env::var_os("WATCHDOG_PID")
        && pid.to_string_lossy().parse::<u32>().ok() != Some(std::process::id())
    {
        return None;
    }
    match std::env::var("WATCHDOG_USEC").ok()?.parse::<u64>().ok()? {
        0 => None,
        usec => Some(Duration::from_micros(usec / 2)),
    }
}

/// Spawns the readiness announcement and the watchdog pings; returns the notifier for the
/// `STOPPING=1` at shutdown. Nothing happens outside systemd.
pub fn start(checks: Arc<[Arc<dyn Health>]>) -> Option<Arc<Notifier>> {
    let notifier = Arc::new(Notifier::from_env()?);
    let ready = notifier.clone();
    tokio::spawn(async move {
        loop {
            let outcomes = health::check_all(&checks, CHECK_LIMIT).await;
            let down: Vec<&str> = outcomes
                .iter()
                .filter(|(_, c)| c.status == Status::Down)
                .map(|(name, _)| *name)
                .collect();
            if down.is_empty() {
                ready.notify("READY=1\nSTATUS=serving");
                tracing::info!("told systemd the portal is ready");
                return;
            }
            ready.notify(&format!("STATUS=waiting for: {}", down.join(", ")));
            tokio::time::sleep(RETRY).await;
        }
    });
    if let Some(every) = watchdog_interval() {
        let watchdog = notifier.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                watchdog.notify("WATCHDOG=1");
            }
        });
    }
    Some(notifier)
}
