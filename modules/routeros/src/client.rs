//! The connection layer mikrotik-rs lacks: connect/login and per-command timeouts, a supervisor
//! that re-dials with backoff and probes idle connections, a circuit breaker, and error
//! classification into the kernel's [`RouterError`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use lpsaring_kernel::ports::router::{RouterError, RouterHealth};
use mikrotik_rs::proto::command::Command;
use mikrotik_rs::proto::connection::Event;
use mikrotik_rs::proto::error::LoginError;
use mikrotik_rs::{CommandBuilder, MikrotikDevice, QueryOperator};
use tokio::sync::{Notify, mpsc};
use tokio::time::{Instant, timeout};

use crate::profiles::{PROFILE_MENU, Profiles};
use crate::settings::RouterSettings;

/// One reply row: property name → value (decoded lossily; RouterOS is not UTF-8 aware).
pub type Row = HashMap<String, String>;

/// A query word of a print.
#[derive(Debug, Clone)]
pub enum Query {
    Equal(String, String),
    /// `?#|…|`: ORs the top `n + 1` values of the query stack into one.
    Or(usize),
}

/// A command to send, in our terms; turned into a mikrotik-rs [`Command`] at send time.
#[derive(Debug, Clone)]
pub struct Cmd {
    pub path: String,
    pub attributes: Vec<(String, String)>,
    pub queries: Vec<Query>,
}

impl Cmd {
    pub fn new(path: &str) -> Self {
        Self {
            path: path.to_owned(),
            attributes: Vec::new(),
            queries: Vec::new(),
        }
    }

    pub fn attr(mut self, key: &str, value: impl Into<String>) -> Self {
        self.attributes.push((key.to_owned(), value.into()));
        self
    }

    pub fn proplist(self, props: &[&str]) -> Self {
        self.attr(".proplist", props.join(","))
    }

    pub fn eq(mut self, key: &str, value: impl Into<String>) -> Self {
        self.queries
            .push(Query::Equal(key.to_owned(), value.into()));
        self
    }

    /// Rows matching any of `terms` (key = value). With no terms the print would match every
    /// row, so callers skip it instead.
    pub fn any<'a>(mut self, terms: impl IntoIterator<Item = (&'a str, String)>) -> Self {
        let before = self.queries.len();
        for (key, value) in terms {
            self = self.eq(key, value);
        }
        let added = self.queries.len() - before;
        if added > 1 {
            self.queries.push(Query::Or(added - 1));
        }
        self
    }

    fn build(&self) -> Command {
        let mut builder = CommandBuilder::new().command(&self.path);
        for (k, v) in &self.attributes {
            // `Some("")` writes `=k=` (an empty value); `None` would write nothing.
            builder = builder.attribute(k, Some(v.as_str()));
        }
        for q in &self.queries {
            builder = match q {
                Query::Equal(k, v) => builder.query_equal(k, v),
                Query::Or(n) => builder.query_operations(&vec![QueryOperator::Or; *n]),
            };
        }
        builder.build()
    }
}

/// Circuit breaker: closed → open after N consecutive connectivity failures → after a pause one
/// probe is let through (half-open) → closed on success, open again on failure.
#[derive(Debug)]
enum Breaker {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// Shared state of one router connection.
pub(crate) struct Link {
    pub(crate) settings: RouterSettings,
    /// The live connection and its generation (so a stale failure cannot drop a newer one).
    device: tokio::sync::Mutex<(u64, Option<MikrotikDevice>)>,
    connected: AtomicBool,
    breaker: Mutex<Breaker>,
    /// Wakes the supervisor when the connection is found dead, or when it has new work (a
    /// profile requirement to check).
    pub(crate) lost: Notify,
    /// Why the router is known to be unreachable: set when a connection is found dead (a
    /// timeout, a closed socket) or a dial fails, cleared when a dial succeeds. While set,
    /// calls fail at once with it and only the supervisor dials, so against a router that
    /// stopped answering one user-facing operation waits at most the one timeout that found
    /// it dead, not that timeout plus a dial of its own.
    down: Mutex<Option<RouterError>>,
    /// The hotspot user profiles the portal assigns, and what their last check found.
    pub(crate) profiles: Mutex<Profiles>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Installs the aws-lc-rs rustls provider once; mikrotik-rs panics on TLS without one.
fn install_crypto_provider() {
    // An error only means a provider is already installed, which is what we need.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Locks a std mutex, taking the data of a poisoned one (no lock here guards an invariant a
/// panic could break half-way).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn classify_device_error(error: mikrotik_rs::DeviceError) -> RouterError {
    use mikrotik_rs::DeviceError as D;
    match error {
        D::Authentication { response } => RouterError::Authentication(response.message),
        D::Login(LoginError::Authentication(trap)) => RouterError::Authentication(trap.message),
        D::Login(LoginError::Fatal(reason)) => {
            RouterError::Authentication(format!("router closed the login: {reason}"))
        }
        D::Login(other) => RouterError::Protocol(other.to_string()),
        D::Protocol(e) => RouterError::Protocol(e.to_string()),
        D::ConnectionState(e) => RouterError::Protocol(e.to_string()),
        D::Connection(e) => RouterError::Unreachable(e.to_string()),
        D::Actor(e) => RouterError::Unreachable(e.to_string()),
        D::Tls(e) => RouterError::Unreachable(format!("tls: {e}")),
        D::ConnectionClosed => RouterError::Unreachable("connection closed by the router".into()),
    }
}

impl Link {
    pub(crate) fn new(settings: RouterSettings) -> Arc<Self> {
        if settings.tls {
            install_crypto_provider();
        }
        Arc::new(Self {
            settings,
            device: tokio::sync::Mutex::new((0, None)),
            connected: AtomicBool::new(false),
            breaker: Mutex::new(Breaker::Closed { failures: 0 }),
            lost: Notify::new(),
            down: Mutex::new(None),
            profiles: Mutex::new(Profiles::default()),
        })
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.settings.timeout_ms.max(1))
    }

    pub(crate) fn enabled(&self) -> bool {
        !self.settings.address.trim().is_empty()
    }

    pub(crate) fn health(&self) -> RouterHealth {
        if !self.enabled() {
            return RouterHealth::Disabled;
        }
        let breaker = self.breaker.lock().unwrap_or_else(|p| p.into_inner());
        match *breaker {
            Breaker::Open { .. } => RouterHealth::CircuitOpen,
            _ if self.connected.load(Ordering::Relaxed) => RouterHealth::Connected,
            _ => RouterHealth::Connecting,
        }
    }

    /// Asks the breaker whether a call may go out now.
    fn admit(&self) -> Result<(), RouterError> {
        let mut breaker = self.breaker.lock().unwrap_or_else(|p| p.into_inner());
        match *breaker {
            Breaker::Closed { .. } => Ok(()),
            Breaker::Open { until } if Instant::now() >= until => {
                *breaker = Breaker::HalfOpen { probing: true };
                Ok(())
            }
            Breaker::HalfOpen { probing: false } => {
                *breaker = Breaker::HalfOpen { probing: true };
                Ok(())
            }
            Breaker::Open { .. } | Breaker::HalfOpen { probing: true } => {
                Err(RouterError::CircuitOpen)
            }
        }
    }

    /// Feeds a call's outcome to the breaker. Traps and foreign rows are the router answering,
    /// so they count as success; only connectivity and protocol failures count against it.
    fn record(&self, outcome: Result<(), &RouterError>) {
        let failed = match outcome {
            Ok(()) => false,
            Err(e) => matches!(
                e,
                RouterError::Unreachable(_)
                    | RouterError::Timeout
                    | RouterError::Authentication(_)
                    | RouterError::Protocol(_)
            ),
        };
        let mut breaker = self.breaker.lock().unwrap_or_else(|p| p.into_inner());
        let cooldown = Duration::from_millis(self.settings.breaker_cooldown_ms);
        *breaker = match (&*breaker, failed) {
            (_, false) => Breaker::Closed { failures: 0 },
            (Breaker::Closed { failures }, true)
                if failures + 1 < self.settings.breaker_failures.max(1) =>
            {
                Breaker::Closed {
                    failures: failures + 1,
                }
            }
            (Breaker::Open { until }, true) => Breaker::Open { until: *until },
            (_, true) => {
                tracing::warn!(
                    cooldown_ms = cooldown.as_millis() as u64,
                    "router circuit breaker open"
                );
                Breaker::Open {
                    until: Instant::now() + cooldown,
                }
            }
        };
    }

    async fn dial(&self) -> Result<MikrotikDevice, RouterError> {
        let s = &self.settings;
        let builder = MikrotikDevice::builder(s.address.clone())
            .credentials(&s.username, Some(s.password.expose()));
        let connect = async {
            if s.tls {
                install_crypto_provider();
                builder.tls_insecure().connect().await
            } else {
                builder.connect().await
            }
        };
        match timeout(self.timeout(), connect).await {
            Ok(Ok(device)) => Ok(device),
            Ok(Err(e)) => Err(classify_device_error(e)),
            Err(_) => Err(RouterError::Timeout),
        }
    }

    /// Why the router is known to be down, when it is (see [`Link::down`]).
    fn known_down(&self) -> Option<RouterError> {
        if self.connected.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.down).clone()
    }

    /// The live connection, dialling one if there is none. A caller (`redial` false) that
    /// queued behind a dial which failed gets that dial's error rather than dialling again;
    /// only the supervisor re-dials a router known to be down.
    async fn device(&self, redial: bool) -> Result<(u64, MikrotikDevice), RouterError> {
        let mut slot = self.device.lock().await;
        if let Some(device) = slot.1.as_ref() {
            return Ok((slot.0, device.clone()));
        }
        if !redial && let Some(error) = lock(&self.down).clone() {
            return Err(error);
        }
        let device = match self.dial().await {
            Ok(device) => device,
            Err(error) => {
                *lock(&self.down) = Some(error.clone());
                return Err(error);
            }
        };
        tracing::info!(address = %self.settings.address, "connected to router");
        slot.0 += 1;
        slot.1 = Some(device.clone());
        *lock(&self.down) = None;
        self.connected.store(true, Ordering::Release);
        Ok((slot.0, device))
    }

    /// Forgets a connection found dead by `error` (only if it is still the current one): the
    /// router counts as down until the supervisor's next dial succeeds.
    async fn forget(&self, generation: u64, error: &RouterError) {
        let mut slot = self.device.lock().await;
        if slot.0 == generation && slot.1.is_some() {
            slot.1 = None;
            *lock(&self.down) = Some(error.clone());
            self.connected.store(false, Ordering::Release);
            self.lost.notify_one();
        }
    }

    /// The current connection's generation, when connected.
    pub(crate) async fn generation(&self) -> Option<u64> {
        let slot = self.device.lock().await;
        slot.1.as_ref().map(|_| slot.0)
    }

    /// Runs one command and collects its rows.
    pub(crate) async fn run(&self, cmd: &Cmd) -> Result<Vec<Row>, RouterError> {
        let mut results = self.run_many(std::slice::from_ref(cmd)).await?;
        results
            .pop()
            .unwrap_or_else(|| Err(RouterError::Protocol("no result".into())))
    }

    /// Sends every command before awaiting any reply (pipelining on the one connection) and
    /// returns one result per command, in order. The outer error is a connectivity failure that
    /// stopped the whole batch.
    pub(crate) async fn run_many(
        &self,
        cmds: &[Cmd],
    ) -> Result<Vec<Result<Vec<Row>, RouterError>>, RouterError> {
        if !self.enabled() {
            return Err(RouterError::Unreachable("no router configured".into()));
        }
        // Known down: fail at once. Not fed to the breaker (it is no new evidence); the
        // supervisor's dials are.
        if let Some(error) = self.known_down() {
            return Err(error);
        }
        self.admit()?;
        let started = Instant::now();
        let outcome = self.run_many_admitted(cmds).await;
        record_commands(cmds, &outcome, started);
        let connectivity = match &outcome {
            Ok(results) => results
                .iter()
                .find_map(|r| {
                    r.as_ref()
                        .err()
                        .filter(|e| e.is_connectivity() || matches!(e, RouterError::Protocol(_)))
                })
                .cloned(),
            Err(e) => Some(e.clone()),
        };
        self.record(match &connectivity {
            Some(e) => Err(e),
            None => Ok(()),
        });
        outcome
    }

    async fn run_many_admitted(
        &self,
        cmds: &[Cmd],
    ) -> Result<Vec<Result<Vec<Row>, RouterError>>, RouterError> {
        let (generation, device) = match self.device(false).await {
            Ok(d) => d,
            Err(e) => {
                self.lost.notify_one();
                return Err(e);
            }
        };
        // In windows: the router never holds more than a window of our commands, and the
        // timeout measures whether it keeps answering, not how long a first run's tens of
        // thousands of writes take in total.
        let mut results = Vec::with_capacity(cmds.len());
        for window in cmds.chunks(PIPELINE_WINDOW) {
            let mut receivers = Vec::with_capacity(window.len());
            for cmd in window {
                match device.send_command(cmd.build()).await {
                    Ok(rx) => receivers.push(rx),
                    Err(e) => {
                        let error = classify_device_error(e);
                        self.forget(generation, &error).await;
                        return Err(error);
                    }
                }
            }
            let deadline = Instant::now() + self.timeout();
            let mut lost = None;
            for rx in receivers {
                let result = collect(rx, deadline).await;
                if let Err(e @ (RouterError::Unreachable(_) | RouterError::Timeout)) = &result {
                    lost = Some(e.clone());
                }
                results.push(result);
            }
            if let Some(e) = lost {
                // A dead or hung connection: drop it so the supervisor dials a fresh one rather
                // than every later command waiting on a half-open socket; the rest of the batch
                // is not sent.
                self.forget(generation, &e).await;
                results.resize(cmds.len(), Err(e));
                break;
            }
        }
        Ok(results)
    }
}

/// Each command's outcome by operation, and the batch's latency under its first operation.
fn record_commands(
    cmds: &[Cmd],
    outcome: &Result<Vec<Result<Vec<Row>, RouterError>>, RouterError>,
    started: Instant,
) {
    use crate::metrics::{COMMAND_SECONDS, COMMANDS, outcome as label};
    let Some(first) = cmds.first() else { return };
    metrics::histogram!(COMMAND_SECONDS, "operation" => first.path.clone())
        .record(started.elapsed().as_secs_f64());
    match outcome {
        Ok(results) => {
            for (cmd, result) in cmds.iter().zip(results) {
                metrics::counter!(COMMANDS, "operation" => cmd.path.clone(), "outcome" => label(result))
                    .increment(1);
            }
        }
        Err(e) => {
            metrics::counter!(COMMANDS, "operation" => first.path.clone(), "outcome" => label::<()>(&Err(e.clone())))
                .increment(cmds.len() as u64);
        }
    }
}

/// Commands in flight at once during a pipelined batch.
const PIPELINE_WINDOW: usize = 256;

async fn collect(
    mut rx: mpsc::UnboundedReceiver<Event>,
    deadline: Instant,
) -> Result<Vec<Row>, RouterError> {
    let mut rows = Vec::new();
    loop {
        let event = match tokio::time::timeout_at(deadline, rx.recv()).await {
            Err(_) => return Err(RouterError::Timeout),
            Ok(None) => {
                return Err(RouterError::Unreachable(
                    "connection to the router was lost".into(),
                ));
            }
            Ok(Some(event)) => event,
        };
        match event {
            Event::Reply { response, .. } => rows.push(
                response
                    .attributes_raw
                    .into_iter()
                    .map(|(k, v)| {
                        (
                            k,
                            v.map(|b| String::from_utf8_lossy(&b).into_owned())
                                .unwrap_or_default(),
                        )
                    })
                    .collect(),
            ),
            Event::Done { .. } | Event::Empty { .. } => return Ok(rows),
            Event::Trap { response, .. } => {
                return Err(match response.category {
                    None if response.message.starts_with("Protocol error") => {
                        RouterError::Protocol(response.message)
                    }
                    category => RouterError::Trap {
                        category: category.map(|c| c as u8),
                        message: response.message,
                    },
                });
            }
            Event::Fatal { reason } => {
                return Err(RouterError::Unreachable(format!(
                    "router closed the session: {reason}"
                )));
            }
        }
    }
}

/// Keeps the connection up: dials at start, re-dials with exponential backoff after a loss,
/// and probes an idle connection so a half-open socket is noticed. Stops when the client is
/// dropped.
pub(crate) fn spawn_supervisor(link: &Arc<Link>) -> Option<tokio::task::JoinHandle<()>> {
    if !link.enabled() {
        return None;
    }
    let weak: Weak<Link> = Arc::downgrade(link);
    Some(tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        loop {
            let Some(link) = weak.upgrade() else { return };
            let max_backoff = Duration::from_millis(link.settings.max_backoff_ms.max(100));
            let keepalive = link.settings.keepalive_ms;
            let connected = link.connected.load(Ordering::Relaxed);
            if !connected {
                let dialled = if link.admit().is_ok() {
                    let r = link.device(true).await.map(|_| ());
                    link.record(r.as_ref().map(|_| ()));
                    r.is_ok()
                } else {
                    false
                };
                if dialled {
                    backoff = Duration::from_millis(100);
                    continue;
                }
                let wait = backoff;
                backoff = (backoff * 2).min(max_backoff);
                drop(link);
                tokio::time::sleep(wait).await;
                continue;
            }
            // Connected: make sure the status profiles exist on this connection (at start and
            // after every reconnect), then wait for a loss notice or probe after the keepalive
            // interval.
            if let Some(generation) = link.generation().await {
                link.check_profiles(generation).await;
            }
            let probe_after = if keepalive == 0 {
                Duration::from_secs(3600)
            } else {
                Duration::from_millis(keepalive)
            };
            let lost = timeout(probe_after, link.lost.notified()).await.is_ok();
            if !lost && keepalive > 0 {
                let probe = Cmd::new(&format!("{PROFILE_MENU}/print"))
                    .eq("name", "default")
                    .proplist(&[".id"]);
                if let Err(error) = link.run(&probe).await {
                    tracing::warn!(%error, "router keepalive probe failed");
                }
            }
        }
    }))
}
