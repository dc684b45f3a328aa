//! lpsaring: a MikroTik hotspot portal in one process.
//!
//! This crate is wiring only: settings, the CLI, building the modules from their dependencies,
//! background jobs and the HTTP server. Business rules live in `modules/*`.

pub mod cli;
pub mod db;
pub mod http;
pub mod settings;
pub mod telemetry;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use lpsaring_kernel::{Clock, SystemClock};
use lpsaring_store::Store;
use salvo::conn::tcp::TcpAcceptor;
use salvo::prelude::*;
use sea_orm::DatabaseConnection;

pub use settings::Settings;

/// Why the portal could not start. Printed as one line; the process exits with code 2.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error("cannot open database {url}: {message}")]
    Database { url: String, message: String },
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("cannot open state store: {0}")]
    StateStore(String),
    #[error("cannot listen on {addr}: {message}")]
    Bind { addr: String, message: String },
}

/// Everything a running portal shares between requests and jobs. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    pub db: DatabaseConnection,
    pub store: Arc<Store>,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Installs the process-wide rustls crypto provider once (mikrotik-rs TLS needs a default).
fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Opens the database (migrating it when `auto_migrate` is on) and the state store.
pub async fn build(settings: Settings) -> Result<App, StartupError> {
    build_with_clock(settings, Arc::new(SystemClock)).await
}

pub async fn build_with_clock(
    settings: Settings,
    clock: Arc<dyn Clock>,
) -> Result<App, StartupError> {
    install_crypto_provider();
    std::fs::create_dir_all(&settings.data_dir).map_err(|e| {
        StartupError::StateStore(format!(
            "cannot create data dir {}: {e}",
            settings.data_dir.display()
        ))
    })?;
    let db = db::connect(&settings)
        .await
        .map_err(|e| StartupError::Database {
            url: db::redact_url(&settings.database_url()),
            message: e.to_string(),
        })?;
    if settings.database.auto_migrate {
        db::migrate_up(&db)
            .await
            .map_err(|e| StartupError::Migration(e.to_string()))?;
    }
    let store = Store::open(settings.state_path(), clock.clone())
        .await
        .map_err(|e| StartupError::StateStore(e.to_string()))?;
    Ok(App {
        settings: Arc::new(settings),
        db,
        store: Arc::new(store),
        clock,
    })
}

/// Binds the configured listen address.
pub async fn bind(settings: &Settings) -> Result<tokio::net::TcpListener, StartupError> {
    let addr = settings.http.listen.clone();
    tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| StartupError::Bind {
            addr,
            message: e.to_string(),
        })
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish (up to 10 s).
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(app, listener, shutdown, Router::new()).await
}

/// [`serve`] with extra routes mounted (tests use it for probes such as a panicking handler).
pub async fn serve_with(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    extra: Router,
) -> std::io::Result<()> {
    let sweeper = lpsaring_store::spawn_sweeper(&app.store, Duration::from_secs(60));
    let acceptor = TcpAcceptor::try_from(listener)?;
    let server = Server::new(acceptor);
    let handle = server.handle();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
        handle.stop_graceful(Some(Duration::from_secs(10)));
    });
    server.serve(http::service_with(&app, extra)).await;
    sweeper.abort();
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
