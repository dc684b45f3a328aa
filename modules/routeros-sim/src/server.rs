//! The TCP side: accepts API connections, enforces login, applies faults (delay, drop, trap)
//! and writes replies through a per-connection writer task so delayed replies and `/cancel`
//! behave like on a router.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinHandle, JoinSet};

use crate::codec::{Reply, ReplyKind, Request, SentenceReader, parse_request};
use crate::state::{Faults, NewHost, SimState, SimStats, fatal};

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// `127.0.0.1:0` for tests (the bound address is in [`SimHandle::addr`]).
    pub listen: SocketAddr,
    pub user: String,
    pub password: String,
    /// Pseudo-random hosts to create at start (demos, benches).
    pub hosts: usize,
}

impl SimConfig {
    /// A loopback simulator on an ephemeral port with `admin` / `secret`.
    pub fn local() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            user: "admin".into(),
            password: "secret".into(),
            hosts: 0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("waiting for the shutdown signal failed: {0}")]
    Signal(std::io::Error),
}

struct Shared {
    state: Mutex<SimState>,
    user: String,
    password: String,
    accepted: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Entry point: `Simulator::start(SimConfig::local())`.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| SimError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: config.listen,
            source,
        })?;
        let mut state = SimState::default();
        state.populate(config.hosts);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            user: config.user,
            password: config.password,
            accepted: AtomicU64::new(0),
        });
        let (kill_tx, kill_rx) = watch::channel(0u64);
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&shared), kill_rx));
        Ok(SimHandle {
            addr,
            shared,
            accept,
            kill: kill_tx,
        })
    }
}

/// A running simulator. Tests can read and change its state in-process; dropping it (or
/// [`SimHandle::stop`]) closes the listener and every connection.
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
    kill: watch::Sender<u64>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Runs `f` on the router state under its lock.
    pub fn with_state<R>(&self, f: impl FnOnce(&mut SimState) -> R) -> R {
        f(&mut self.shared.lock())
    }

    pub fn stats(&self) -> SimStats {
        self.with_state(|s| s.stats.clone())
    }

    pub fn reset_stats(&self) {
        self.with_state(|s| s.stats = SimStats::default());
    }

    pub fn set_fault(&self, faults: Faults) {
        self.with_state(|s| s.faults = faults);
    }

    pub fn add_host(&self, host: &NewHost) -> Result<String, String> {
        self.with_state(|s| s.add_host(host))
    }

    /// Creates the hotspot user profiles an operator would have set up (missing ones only).
    pub fn ensure_profiles<'a>(&self, names: impl IntoIterator<Item = &'a str>) {
        self.with_state(|s| {
            for name in names {
                let exists = s
                    .rows(crate::state::Menu::UserProfile)
                    .iter()
                    .any(|r| r.get("name") == Some(name));
                if !exists {
                    let _ = s.execute(&request("/ip/hotspot/user/profile/add", &[("name", name)]));
                }
            }
        });
    }

    /// Closes every open API connection abruptly (the listener keeps accepting).
    pub fn drop_connections(&self) {
        self.kill.send_modify(|generation| *generation += 1);
    }

    /// Connections accepted so far (a reconnecting client raises it).
    pub fn accepted_connections(&self) -> u64 {
        self.shared.accepted.load(Ordering::Relaxed)
    }

    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection task.
        self.accept.abort();
    }
}

/// Runs a simulator until Ctrl-C: `lpsaring sim --listen … --user … --password … [--hosts N]`.
pub async fn run_standalone(
    listen: SocketAddr,
    user: String,
    password: String,
    hosts: usize,
) -> Result<(), SimError> {
    let handle = Simulator::start(SimConfig {
        listen,
        user,
        password,
        hosts,
    })
    .await?;
    tracing::info!(addr = %handle.addr(), hosts, "RouterOS API simulator listening");
    tokio::signal::ctrl_c().await.map_err(SimError::Signal)?;
    tracing::info!("RouterOS API simulator stopping");
    handle.stop();
    Ok(())
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, kill: watch::Receiver<u64>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    shared.accepted.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(%peer, "sim: connection accepted");
                    connections.spawn(serve(stream, Arc::clone(&shared), kill.clone()));
                }
                Err(error) => {
                    tracing::warn!(%error, "sim: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// What a sentence asks the connection to do next.
enum Next {
    Continue,
    /// Send what is queued, then close.
    Close,
    /// Close at once without answering (fault injection).
    Drop,
}

struct Connection {
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<Vec<u8>>,
    logged_in: bool,
    delayed: HashMap<String, AbortHandle>,
}

async fn serve(stream: TcpStream, shared: Arc<Shared>, mut kill: watch::Receiver<u64>) {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if wr.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = wr.shutdown().await;
    });
    let mut conn = Connection {
        shared,
        tx,
        logged_in: false,
        delayed: HashMap::new(),
    };
    let mut reader = SentenceReader::new();
    let mut buf = vec![0u8; 64 * 1024];
    kill.mark_unchanged();
    let graceful = 'outer: loop {
        tokio::select! {
            _ = kill.changed() => break false,
            read = rd.read(&mut buf) => {
                let n = match read {
                    Ok(0) | Err(_) => break false,
                    Ok(n) => n,
                };
                reader.push(&buf[..n]);
                loop {
                    match reader.next_sentence() {
                        Ok(Some(words)) => match conn.handle(&words) {
                            Next::Continue => {}
                            Next::Close => break 'outer true,
                            Next::Drop => break 'outer false,
                        },
                        Ok(None) => break,
                        Err(error) => {
                            let _ = conn.tx.send(fatal(&format!("protocol error: {error}")));
                            break 'outer true;
                        }
                    }
                }
            }
        }
    };
    for (_, pending) in conn.delayed.drain() {
        pending.abort();
    }
    drop(conn);
    if graceful {
        let _ = writer.await;
    } else {
        writer.abort();
    }
}

impl Connection {
    fn send(&self, bytes: Vec<u8>) {
        let _ = self.tx.send(bytes);
    }

    fn handle(&mut self, words: &[Vec<u8>]) -> Next {
        let request = match parse_request(words) {
            Ok(r) => r,
            Err(error) => {
                self.send(fatal(&format!("malformed sentence: {error}")));
                return Next::Close;
            }
        };
        let is_sim = request.command.starts_with("/sim/");
        let mut state = self.shared.lock();
        state.record(&request.command);
        let delay = if is_sim { 0 } else { state.faults.delay_ms };
        if !is_sim && let Some(left) = state.faults.drop_after {
            if left == 0 {
                state.faults.drop_after = None;
                return Next::Drop;
            }
            state.faults.drop_after = Some(left - 1);
        }
        if !is_sim && state.faults.silent {
            return Next::Continue;
        }
        let tag = request.tag.as_deref();
        match request.command.as_str() {
            "/login" => {
                let name = request.attribute("name").unwrap_or("");
                let password = request.attribute("password").unwrap_or("");
                let ok = (name == self.shared.user && password == self.shared.password)
                    || state.api_login(name, password);
                drop(state);
                let mut out = Vec::new();
                if ok {
                    self.logged_in = true;
                } else {
                    Reply::new(ReplyKind::Trap, tag)
                        .with("message", "invalid user name or password (6)")
                        .encode(&mut out);
                }
                Reply::new(ReplyKind::Done, tag).encode(&mut out);
                self.reply(tag, out, delay);
                Next::Continue
            }
            _ if !self.logged_in => {
                self.send(fatal("not logged in"));
                Next::Close
            }
            "/quit" => {
                self.send(fatal("session terminated on request"));
                Next::Close
            }
            "/cancel" => {
                drop(state);
                let mut out = Vec::new();
                if let Some(target) = request.attribute("tag")
                    && let Some(pending) = self.delayed.remove(target)
                    && !pending.is_finished()
                {
                    pending.abort();
                    Reply::new(ReplyKind::Trap, Some(target))
                        .with("category", "2")
                        .with("message", "interrupted")
                        .encode(&mut out);
                    Reply::new(ReplyKind::Done, Some(target)).encode(&mut out);
                }
                Reply::new(ReplyKind::Done, tag).encode(&mut out);
                self.send(out);
                Next::Continue
            }
            _ => {
                let outcome = state.execute(&request);
                drop(state);
                self.reply(tag, outcome.bytes, delay);
                if outcome.close {
                    Next::Close
                } else {
                    Next::Continue
                }
            }
        }
    }

    /// Sends now, or after `delay_ms` from a task that `/cancel` can abort.
    fn reply(&mut self, tag: Option<&str>, bytes: Vec<u8>, delay_ms: u64) {
        if delay_ms == 0 {
            self.send(bytes);
            return;
        }
        self.delayed.retain(|_, pending| !pending.is_finished());
        let tx = self.tx.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            let _ = tx.send(bytes);
        });
        if let Some(tag) = tag {
            self.delayed.insert(tag.to_owned(), task.abort_handle());
        }
    }
}

/// Builds a request in code (for in-process tests and the bench).
pub fn request(command: &str, attributes: &[(&str, &str)]) -> Request {
    Request {
        command: command.to_owned(),
        tag: None,
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        queries: Vec::new(),
    }
}
