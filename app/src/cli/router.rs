//! `lpsaring router-script` and `lpsaring router setup`: the router configuration the portal
//! needs, printed as a script or applied through the API. The desired state, the script and the
//! diff live in `lpsaring_routeros::setup`; this maps settings onto its inputs.

use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use lpsaring_kernel::SystemClock;
use lpsaring_kernel::ports::Router;
use lpsaring_kernel::ports::router::RouterHealth;
use lpsaring_plugin_host::{HostEnv, PluginHost};
use lpsaring_routeros::RouterOsClient;
use lpsaring_routeros::setup::{self, SetupChange, SetupInputs};

use super::CliError;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum RouterCommand {
    /// Apply the router set-up through the API (only rows with our lpsaring| comment change).
    Setup {
        /// Print the differences and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Log in as this router user (an admin) instead of `router.username`: the first
        /// set-up creates the API user, and writing the login page needs the `ftp` policy the
        /// API user's group leaves out. Its password comes from LPSARING_ROUTER_SETUP_PASSWORD
        /// or a hidden prompt.
        #[arg(long, value_name = "USER")]
        login_user: Option<String>,
    },
}

/// Where `router setup --login-user` takes the password from when there is no terminal.
pub const LOGIN_PASSWORD_ENV: &str = "LPSARING_ROUTER_SETUP_PASSWORD";

/// The router settings to log in with: the configured ones, or `user` with its password.
fn login_settings(
    settings: &Settings,
    user: Option<String>,
) -> Result<lpsaring_routeros::RouterSettings, CliError> {
    let mut router = settings.router.clone();
    if let Some(user) = user {
        let password = match std::env::var(LOGIN_PASSWORD_ENV) {
            Ok(password) => password,
            Err(_) => rpassword::prompt_password(format!("Router password for {user}: ")).map_err(
                |e| {
                    CliError::Failed(format!(
                        "cannot read the password ({e}); set {LOGIN_PASSWORD_ENV} when there is \
                         no terminal"
                    ))
                },
            )?,
        };
        router.username = user;
        router.password = lpsaring_routeros::Secret::new(password);
    }
    Ok(router)
}

/// The walled-garden hosts of the plugins in `plugins.dir` (payment checkouts, WhatsApp), as
/// their manifests name them; a plugin that does not load adds nothing (its own log line says why).
pub fn plugin_walled_garden(settings: &Settings) -> Vec<String> {
    let env = HostEnv {
        data_dir: Some(settings.data_dir.clone()),
        public_url: settings.http.public_url.clone(),
    };
    let (host, _reports) = PluginHost::load_dir(&settings.plugins, &env, Arc::new(SystemClock));
    host.walled_garden_hosts()
}

/// The set-up inputs the settings give: the walled garden holds `router.extra_walled_garden`
/// and every loaded plugin's hosts. Package profiles are added here once payments provides them.
pub fn setup_inputs(settings: &Settings) -> SetupInputs {
    let lists = &settings.quota.address_lists;
    let password = settings.router.password.expose();
    SetupInputs {
        public_url: settings.http.public_url.clone(),
        portal_address: settings.router.portal_address,
        api_user: Some(settings.router.username.clone()).filter(|u| !u.trim().is_empty()),
        api_password: (!password.is_empty()).then(|| password.to_owned()),
        status_profiles: settings.quota.profiles.all(),
        package_profiles: Vec::new(),
        restricted_lists: vec![
            lists.habis.clone(),
            lists.expired.clone(),
            lists.inactive.clone(),
        ],
        extra_hosts: {
            let mut hosts = settings.router.extra_walled_garden.clone();
            for host in plugin_walled_garden(settings) {
                if !hosts.contains(&host) {
                    hosts.push(host);
                }
            }
            hosts
        },
    }
}

/// A client for the configured router, given its own connect timeout to come up (it dials in
/// the background); a read on it says why when it did not.
pub async fn connect(router: lpsaring_routeros::RouterSettings) -> RouterOsClient {
    let patience = Duration::from_millis(router.timeout_ms.max(1_000));
    let client = RouterOsClient::start(router);
    let started = std::time::Instant::now();
    while client.health() != RouterHealth::Connected && started.elapsed() < patience {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client
}

/// `router-script`: the script on stdout, each placeholder's warning on stderr; exit 0.
pub fn script(settings: &Settings) -> Result<(), CliError> {
    let desired = setup::desired(&setup_inputs(settings));
    for warning in &desired.warnings {
        eprintln!("lpsaring: warning: {warning}");
    }
    print!("{}", setup::render_script(&desired));
    Ok(())
}

pub async fn run(settings: Settings, command: RouterCommand) -> Result<(), CliError> {
    let RouterCommand::Setup {
        dry_run,
        login_user,
    } = command;
    let desired = setup::desired(&setup_inputs(&settings));
    for warning in &desired.warnings {
        eprintln!("lpsaring: warning: {warning}");
    }
    if !dry_run && !desired.warnings.is_empty() {
        return Err(CliError::Failed(
            "set the settings above first; nothing was changed on the router".into(),
        ));
    }
    let client = connect(login_settings(&settings, login_user)?).await;
    let failed = |e: lpsaring_kernel::ports::router::RouterError| CliError::Failed(e.to_string());
    let current = setup::read_current(&client, &desired)
        .await
        .map_err(failed)?;
    let changes = setup::plan(&desired, &current);
    for change in &changes {
        println!("{change}");
    }
    let writes = changes
        .iter()
        .filter(|c| !matches!(c, SetupChange::Foreign { .. }))
        .count();
    if dry_run {
        println!("{writes} change(s) to apply; dry run, nothing written");
        return Ok(());
    }
    setup::apply(&client, &changes).await.map_err(failed)?;
    println!("{writes} change(s) applied");
    Ok(())
}
