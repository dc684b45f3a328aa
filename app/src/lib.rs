//! lpsaring: a MikroTik hotspot portal in one process.
//!
//! This crate is wiring only: settings, the CLI, building the modules from their dependencies,
//! collecting their routers, jobs and health checks, and the HTTP server. Business rules live in
//! `modules/*`.

pub mod backup;
pub mod cli;
pub mod db;
pub mod http;
pub mod import;
pub mod messaging;
pub mod metrics;
pub mod settings;
pub mod site;
pub mod systemd;
pub mod telemetry;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use lpsaring_kernel::health::Health;
use lpsaring_kernel::jobs::Job;
use lpsaring_kernel::metrics::Sampled;
use lpsaring_kernel::outbox::Outbox;
use lpsaring_kernel::ports::access::AccessPolicy;
use lpsaring_kernel::ports::{Messenger, Router as RouterPort};
use lpsaring_kernel::{Clock, EphemeralStore, SystemClock};
use lpsaring_plugin_host::{HostEnv, PluginHost};
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
    #[error("cannot create data dir {path}: {message}")]
    DataDir { path: String, message: String },
    #[error("cannot open state store: {0}")]
    StateStore(#[source] lpsaring_kernel::StoreError),
    #[error("cannot listen on {addr}: {message}")]
    Bind { addr: String, message: String },
    #[error("config key `{key}`: {message}")]
    Config { key: String, message: String },
}

/// The built portal: every module's service, for the HTTP mounting ([`http::service`]), the
/// background jobs ([`App::jobs`]), the CLI commands and the tests. Cheap to clone. Never put into
/// a request's depot: each module's router carries its own service, `/readyz` the health list.
#[derive(Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    pub db: DatabaseConnection,
    pub store: Arc<Store>,
    pub clock: Arc<dyn Clock>,
    pub router: Arc<dyn RouterPort>,
    pub plugins: Arc<PluginHost>,
    pub messenger: Arc<dyn Messenger>,
    pub devices: Arc<lpsaring_devices::Service>,
    /// The user's devices page and its JSON.
    pub device_portal: Arc<lpsaring_devices::Portal>,
    /// The daily removal of devices unseen for `devices.remove_after_days`.
    pub stale_devices: Arc<lpsaring_devices::StaleSweep>,
    /// devices' operator side: every device, filtered, exported and removed.
    pub device_admin: Arc<lpsaring_devices::AdminDevices>,
    pub users: Arc<lpsaring_auth::Users>,
    pub sessions: Arc<lpsaring_auth::Sessions>,
    pub auth: Arc<lpsaring_auth::Service>,
    pub quota: Arc<lpsaring_quota::Service>,
    pub payments: Arc<lpsaring_payments::Service>,
    /// The operator's brand (`[site]`), shown on every page.
    pub site: Arc<lpsaring_kernel::ui::Site>,
    pub admin: Arc<lpsaring_admin::Service>,
    /// auth's operator side: the user list and approve / reject / block / unblock.
    pub user_admin: Arc<lpsaring_auth::UserAdmin>,
    /// quota's operator side: adjusting a user's bytes and days.
    pub quota_admin: Arc<lpsaring_quota::Adjustments>,
    pub user_records: Arc<lpsaring_auth::user_record::UserRecords>,
    /// The admin overview's figures, read through each module's port.
    pub overview: Arc<lpsaring_admin::Overview>,
    /// What `/readyz` asks, in the order it shows them.
    pub health: Arc<[Arc<dyn Health>]>,
    /// What a `/metrics` scrape samples (gauges of state: store, router, outbox, orders, process).
    pub sampled: Arc<[Arc<dyn Sampled>]>,
    /// The bearer token of the local state-snapshot endpoint (see [`backup::endpoint`]).
    pub backup_token: String,
}

impl App {
    /// Every module's background work, as `serve` spawns it: the state-store sweep, notice
    /// delivery, auth's, quota's, payments' and admin's jobs, and the daily backup when set.
    pub fn jobs(&self) -> Vec<Job> {
        let outbox = Arc::new(Outbox::new(
            self.db.clone(),
            self.clock.clone(),
            self.messenger.clone(),
        ));
        [
            vec![
                lpsaring_store::sweep_job(&self.store, Duration::from_secs(60)),
                outbox.job(Duration::from_secs(5)),
            ],
            lpsaring_auth::jobs(&self.sessions),
            lpsaring_quota::jobs(&self.quota),
            lpsaring_payments::jobs(&self.payments),
            lpsaring_admin::jobs(&self.admin),
            lpsaring_devices::jobs(&self.stale_devices),
        ]
        .into_iter()
        .flatten()
        .chain(
            metrics::Exporter::of(self).map(|exporter| exporter.upkeep_job(Duration::from_secs(5))),
        )
        .chain(backup::daily::job(self))
        .collect()
    }
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

/// Opens the database (migrating it when `auto_migrate` is on) and the state store, and builds
/// every module from its dependencies.
pub async fn build(settings: Settings) -> Result<App, StartupError> {
    build_with_clock(settings, Arc::new(SystemClock)).await
}

pub async fn build_with_clock(
    settings: Settings,
    clock: Arc<dyn Clock>,
) -> Result<App, StartupError> {
    install_crypto_provider();
    std::fs::create_dir_all(&settings.data_dir).map_err(|e| StartupError::DataDir {
        path: settings.data_dir.display().to_string(),
        message: e.to_string(),
    })?;
    let site = settings
        .site
        .build(&settings.data_dir, settings.tz())
        .map_err(|(key, message)| StartupError::Config { key, message })?;
    let db = db::open(&settings).await?;
    let store = Arc::new(
        Store::open(settings.state_path(), clock.clone())
            .await
            .map_err(StartupError::StateStore)?,
    );
    let keys = lpsaring_auth::secrets::Keys::load_or_create(
        settings.auth.secret.as_ref().map(|s| s.expose().as_str()),
        &settings.data_dir,
    )
    .map_err(|e| StartupError::Config {
        key: "auth.secret".to_owned(),
        message: e.to_string(),
    })?;
    let backup_token = backup::endpoint::token(&keys.derive(backup::endpoint::TOKEN_PURPOSE));

    let router_client = Arc::new(lpsaring_routeros::RouterOsClient::start(
        settings.router.clone(),
    ));
    let router: Arc<dyn RouterPort> = router_client.clone();
    // The status profiles logins and the sync assign: created at start and after every
    // reconnect when quota manages profiles, logged and reported by `profile_check` otherwise.
    router.require_profiles(
        settings.quota.profiles.all(),
        settings.quota.manage_profiles,
    );
    let env = HostEnv {
        data_dir: Some(settings.data_dir.clone()),
        public_url: settings.http.public_url.clone(),
    };
    let (plugins, _reports) = PluginHost::load_dir(&settings.plugins, &env, clock.clone());
    let plugins = Arc::new(plugins);
    let messenger: Arc<dyn Messenger> = match &settings.messaging.plugin {
        Some(name) => plugins.messenger(name).map_err(|e| StartupError::Config {
            key: "messaging.plugin".to_owned(),
            message: e.to_string(),
        })?,
        None => {
            tracing::warn!("no [messaging] plugin configured: one-time codes cannot be sent");
            Arc::new(messaging::NoMessenger)
        }
    };

    let users = Arc::new(lpsaring_auth::Users::new(db.clone(), clock.clone()));
    let (devices, quota) = quota_service(
        &settings,
        &db,
        &clock,
        store.clone() as Arc<dyn EphemeralStore>,
        router.clone(),
        &users,
    )?;
    let quota = Arc::new(quota);
    let access: Arc<dyn AccessPolicy> = quota.clone();
    let admin = Arc::new(lpsaring_admin::Service::new(lpsaring_admin::Deps {
        db: db.clone(),
        clock: clock.clone(),
        settings: settings.admin.clone(),
    }));
    let audit = admin.audit();
    let quota_admin = Arc::new(lpsaring_quota::Adjustments::new(
        quota.clone(),
        audit.clone(),
    ));
    let payments = Arc::new(lpsaring_payments::Service::new(lpsaring_payments::Deps {
        db: db.clone(),
        clock: clock.clone(),
        store: store.clone() as Arc<dyn EphemeralStore>,
        quota: quota.clone(),
        users: Arc::new(lpsaring_auth::Directory(users.clone())),
        accounts: Arc::new(lpsaring_auth::Directory(users.clone())),
        audit: audit.clone(),
        router: Some(router.clone()),
        gateways: payment_gateways(&plugins, &settings)?,
        settings: settings.payments.clone(),
        public_url: settings.http.public_url.clone(),
        link_key: keys.derive("payments-status-link"),
        voucher_key: keys.derive(lpsaring_payments::VOUCHER_KEY_PURPOSE),
    }));
    let sessions = Arc::new(lpsaring_auth::Sessions::new(lpsaring_auth::session::Deps {
        db: db.clone(),
        clock: clock.clone(),
        keys: keys.clone(),
        settings: settings.auth.clone(),
        audit: audit.clone(),
        origins: lpsaring_auth::session::OriginSettings {
            public_url: settings.http.public_url.clone(),
            allowed_origins: settings.http.allowed_origins.clone(),
        },
        users: users.clone(),
        store: store.clone() as Arc<dyn EphemeralStore>,
        access: access.clone(),
        admin_require_totp: settings.admin.require_totp,
    }));
    let status_lists = access
        .placement(lpsaring_kernel::ports::access::AccessStatus::Ok)
        .all_lists;
    let auth = Arc::new(lpsaring_auth::Service::new(lpsaring_auth::Deps {
        users: users.clone(),
        sessions: sessions.clone(),
        clock: clock.clone(),
        store: store.clone() as Arc<dyn EphemeralStore>,
        messenger: messenger.clone(),
        router: router.clone(),
        devices: devices.clone(),
        access,
        keys,
        settings: settings.auth.clone(),
        hotspot_hosts: settings.router.hotspot_hosts.clone(),
        vouchers: payments.clone(),
    }));
    let stale_devices = Arc::new(lpsaring_devices::StaleSweep {
        devices: devices.clone(),
        router: router.clone(),
        status_lists: status_lists.clone(),
        audit: audit.clone(),
        remove_after_days: settings.devices.remove_after_days,
    });
    let device_portal = Arc::new(lpsaring_devices::Portal {
        devices: devices.clone(),
        router: router.clone(),
        status_lists: status_lists.clone(),
        binder: auth.captive.clone(),
    });
    let device_admin = Arc::new(lpsaring_devices::AdminDevices {
        devices: devices.clone(),
        router: router.clone(),
        status_lists,
        users: Arc::new(lpsaring_auth::Directory(users.clone())),
        audit: audit.clone(),
        clock: clock.clone(),
    });
    let user_admin = Arc::new(lpsaring_auth::UserAdmin::new(
        lpsaring_auth::UserAdminDeps {
            users: users.clone(),
            audit,
            clock: clock.clone(),
            auth: auth.clone(),
            grants: quota_admin.clone(),
        },
    ));
    let user_records = Arc::new(lpsaring_auth::user_record::UserRecords::new(
        lpsaring_auth::user_record::UserRecordDeps {
            admin: user_admin.clone(),
            devices: device_admin.clone(),
            orders: payments.clone(),
            quotas: quota.clone(),
            audit: admin.audit(),
        },
    ));
    // The router's entry runs `doctor`'s router checks against the set-up the settings describe.
    let router_health = lpsaring_routeros::SetupHealth::new(
        router_client.clone(),
        lpsaring_routeros::setup::desired(&cli::router::setup_inputs(&settings)),
        settings.router.username.clone(),
    );
    let health: Vec<Arc<dyn Health>> = vec![
        Arc::new(db::DatabaseHealth(db.clone())),
        store.clone(),
        Arc::new(router_health),
        plugins.clone(),
        Arc::new(messaging::MessagingHealth(
            settings.messaging.plugin.clone(),
        )),
    ];
    let overview = Arc::new(lpsaring_admin::Overview::new(
        lpsaring_admin::OverviewDeps {
            db: db.clone(),
            clock: clock.clone(),
            timezone: settings.tz(),
            users: Arc::new(lpsaring_auth::Directory(users.clone())),
            devices: devices.clone(),
            usage: quota.clone(),
            sales: payments.clone(),
            router: router.clone(),
            checks: health
                .iter()
                .filter(|h| matches!(h.name(), "router" | "plugins"))
                .cloned()
                .collect(),
        },
    ));
    let sampled: Vec<Arc<dyn Sampled>> = vec![
        Arc::new(lpsaring_kernel::metrics::Process),
        store.clone(),
        router_client,
        Arc::new(lpsaring_kernel::outbox::OutboxDepth(db.clone())),
        payments.clone(),
    ];
    Ok(App {
        overview,
        health: health.into(),
        sampled: sampled.into(),
        settings: Arc::new(settings),
        db,
        store,
        clock,
        router,
        plugins,
        messenger,
        devices,
        device_portal,
        stale_devices,
        device_admin,
        users,
        sessions,
        auth,
        quota,
        payments,
        site: Arc::new(site),
        admin,
        user_admin,
        quota_admin,
        user_records,
        backup_token,
    })
}

/// Every loaded payment plugin as the kernel port (each receives its own webhooks); the one
/// `[payments] plugin` names must be among them.
fn payment_gateways(
    plugins: &PluginHost,
    settings: &Settings,
) -> Result<Vec<lpsaring_payments::Gateway>, StartupError> {
    let mut gateways = Vec::new();
    for manifest in plugins
        .manifests()
        .filter(|m| m.kind == lpsaring_plugin_host::PluginKind::Payment)
    {
        match plugins.payment_gateway(&manifest.name) {
            Ok(port) => gateways.push(lpsaring_payments::Gateway {
                port,
                development_only: manifest.development_only,
            }),
            Err(e) if settings.payments.plugin.as_deref() == Some(manifest.name.as_str()) => {
                return Err(StartupError::Config {
                    key: "payments.plugin".to_owned(),
                    message: e.to_string(),
                });
            }
            Err(e) => {
                tracing::warn!(plugin = %manifest.name, error = %e, "payment plugin not usable");
            }
        }
    }
    if let Some(name) = &settings.payments.plugin
        && !gateways.iter().any(|g| g.port.name() == name)
    {
        return Err(StartupError::Config {
            key: "payments.plugin".to_owned(),
            message: format!("payment plugin `{name}` is not loaded"),
        });
    }
    Ok(gateways)
}

/// The device registry and the quota service that reads it, from the settings: the one way the
/// server and the CLI commands build them (the CLI passes a scratch store and an unconfigured
/// router). A bad quota setting is reported under its own key.
pub(crate) fn quota_service(
    settings: &Settings,
    db: &DatabaseConnection,
    clock: &Arc<dyn Clock>,
    store: Arc<dyn EphemeralStore>,
    router: Arc<dyn RouterPort>,
    users: &Arc<lpsaring_auth::Users>,
) -> Result<(Arc<lpsaring_devices::Service>, lpsaring_quota::Service), StartupError> {
    let devices = Arc::new(lpsaring_devices::Service::new(lpsaring_devices::Deps {
        db: db.clone(),
        clock: clock.clone(),
        policy: lpsaring_devices::api::DevicePolicy {
            max_per_user: settings.auth.max_devices_per_user,
            stale_after_days: settings.auth.device_stale_days,
            ..Default::default()
        },
    }));
    let quota = lpsaring_quota::Service::new(lpsaring_quota::Deps {
        db: db.clone(),
        clock: clock.clone(),
        store,
        router,
        devices: devices.clone(),
        users: Arc::new(lpsaring_auth::Directory(users.clone())),
        settings: settings.quota.clone(),
        timezone: settings.tz(),
    })
    .map_err(|e| StartupError::Config {
        key: e.key.to_owned(),
        message: e.message,
    })?;
    Ok((devices, quota))
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
    let (stop_jobs, jobs_stopped) = tokio::sync::watch::channel(false);
    let jobs: Vec<_> = app
        .jobs()
        .into_iter()
        // Jobs write messages too: they speak with the operator's brand.
        .map(|job| {
            tokio::spawn(lpsaring_kernel::ui::Site::scope(
                app.site.clone(),
                job.run_until(stopped(jobs_stopped.clone())),
            ))
        })
        .collect();
    let acceptor = TcpAcceptor::try_from(listener)?;
    let server = Server::new(acceptor);
    let handle = server.handle();
    let metrics_server = serve_metrics_apart(&app).await?;
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
        handle.stop_graceful(Some(Duration::from_secs(10)));
        if let Some(metrics) = metrics_server {
            metrics.stop_graceful(Some(Duration::from_secs(1)));
        }
    });
    server.serve(http::service_with(&app, extra)).await;
    let _ = stop_jobs.send(true);
    for job in jobs {
        let _ = tokio::time::timeout(Duration::from_secs(10), job).await;
    }
    Ok(())
}

/// `/metrics` alone on `metrics.listen`, when set: returns the handle that stops it.
async fn serve_metrics_apart(app: &App) -> std::io::Result<Option<salvo::server::ServerHandle>> {
    let (Some(addr), Some(exporter)) = (&app.settings.metrics.listen, metrics::Exporter::of(app))
    else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "serving /metrics");
    let server = Server::new(TcpAcceptor::try_from(listener)?);
    let handle = server.handle();
    tokio::spawn(server.serve(Service::new(exporter.router())));
    Ok(Some(handle))
}

/// Resolves once the job channel says stop.
async fn stopped(mut rx: tokio::sync::watch::Receiver<bool>) {
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            return;
        }
    }
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
