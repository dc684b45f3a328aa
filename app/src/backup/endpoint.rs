//! The running service's side of a backup: only it may read the state store (redb allows one
//! process per file), so `lpsaring backup` asks it, over `POST /system/state-snapshot`, to
//! write a consistent copy into its data dir.
//!
//! The request must come straight from this machine (a loopback peer, no proxy's forwarding
//! headers: nginx on the same host is loopback too) and carry a bearer token derived from the
//! server secret, which the CLI derives the same way (it reads the same secret). Anything else
//! is a 404, so the route does not advertise itself.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lpsaring_kernel::web::csrf::constant_time_eq;
use lpsaring_store::Store;
use salvo::http::StatusCode;
use salvo::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The purpose the token is derived for from the server secret.
pub const TOKEN_PURPOSE: &str = "local-backup";
/// Where the service writes the snapshot, inside its data dir.
pub const SNAPSHOT_FILE: &str = "backup-state.redb";
// Outside `/api`: not part of the public API (like `/metrics`), never in its OpenAPI document.
const PATH: &str = "system/state-snapshot";
/// Headers a proxy adds: a request carrying one did not come straight from this machine.
const FORWARDING: [&str; 4] = [
    "x-forwarded-for",
    "forwarded",
    "x-real-ip",
    "cf-connecting-ip",
];

/// The token as sent: hex of the derived key.
pub fn token(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

pub struct Snapshotter {
    pub store: Arc<Store>,
    pub token: String,
    pub data_dir: PathBuf,
}

impl Snapshotter {
    fn allowed(&self, req: &Request) -> bool {
        let loopback = match req.remote_addr() {
            salvo::conn::SocketAddr::IPv4(a) => a.ip().is_loopback(),
            salvo::conn::SocketAddr::IPv6(a) => {
                a.ip().is_loopback() || a.ip().to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
            _ => false,
        };
        let direct = FORWARDING.iter().all(|h| req.headers().get(*h).is_none());
        let token = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| constant_time_eq(given.trim(), &self.token));
        loopback && direct && token
    }

    pub fn router(self) -> Router {
        Router::with_path(PATH).post(self)
    }
}

#[async_trait]
impl Handler for Snapshotter {
    async fn handle(
        &self,
        req: &mut Request,
        _depot: &mut Depot,
        res: &mut Response,
        _ctrl: &mut FlowCtrl,
    ) {
        if !self.allowed(req) {
            res.status_code(StatusCode::NOT_FOUND);
            return;
        }
        let to = self.data_dir.join(SNAPSHOT_FILE);
        match self.store.snapshot(&to).await {
            Ok(entries) => {
                tracing::info!(entries, file = %to.display(), "state store snapshot written for a backup");
                res.render(Json(serde_json::json!({ "entries": entries })));
            }
            Err(error) => {
                tracing::warn!(%error, "state store snapshot failed");
                res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
            }
        }
    }
}

/// The loopback address to reach a service listening on `listen` (`0.0.0.0:8080` → 127.0.0.1).
fn local_addr(listen: &str) -> Option<SocketAddr> {
    let mut addr: SocketAddr = listen.parse().ok()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::from([127, 0, 0, 1]),
            IpAddr::V6(_) => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        });
    }
    Some(addr)
}

/// Asks the service on `listen` for a snapshot. `Ok(None)`: nothing listens there (the service
/// is stopped), `Ok(Some(entries))`: written to its data dir's [`SNAPSHOT_FILE`].
pub async fn ask(listen: &str, token: &str) -> Result<Option<u64>, String> {
    let addr =
        local_addr(listen).ok_or_else(|| format!("http.listen {listen:?} is not ip:port"))?;
    let mut stream = match tokio::net::TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Ok(None),
        Err(e) => return Err(format!("cannot reach the service at {addr}: {e}")),
    };
    let request = format!(
        "POST /{PATH} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let exchange = async {
        stream.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(Duration::from_secs(120), exchange)
        .await
        .map_err(|_| format!("the service at {addr} did not answer in time"))?
        .map_err(|e| format!("talking to the service at {addr}: {e}"))?;
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(format!(
            "the service at {addr} refused the snapshot (HTTP {status}); is this the same data_dir and secret?"
        ));
    }
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    let entries = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["entries"].as_u64())
        .unwrap_or(0);
    Ok(Some(entries))
}
