//! Router set-up (issue 14): the RouterOS configuration the portal needs, as one desired state
//! that `lpsaring router-script` prints ([`render_script`]) and `lpsaring router setup` applies
//! through the API ([`plan`], [`apply`]). Both come from the same [`desired`], so the script and
//! the API set-up cannot drift apart.
//!
//! Every row carries our comment `lpsaring|key=…|kind=setup`; named rows (profiles, the group,
//! the API user) are found by name, the others by that key. A row that exists but is not ours is
//! never changed: it is reported and left to the operator.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use lpsaring_kernel::ports::router::{ConfigMenu, ConfigRow, OwnedComment};

mod plan;
mod script;
mod verify;

pub use plan::{SetupChange, apply, login_pages, plan, read_current};
pub use script::render_script;
pub use verify::{FIX, Finding, Level, permissions, verify};

/// Every check of the router's set-up (`lpsaring doctor`, `/readyz`): the API user's
/// permissions, then each area of [`verify`].
pub async fn check_router(
    router: &dyn lpsaring_kernel::ports::Router,
    desired: &Desired,
    user: &str,
) -> Result<Vec<Finding>, lpsaring_kernel::ports::router::RouterError> {
    let current = read_current(router, desired).await?;
    let mut findings = vec![permissions(user, &current)];
    findings.extend(verify(desired, &current));
    Ok(findings)
}

/// The address-list of hosts restricted statuses may still reach (portal and walled garden).
pub const GARDEN_LIST: &str = "lpsaring-garden";

/// The policies of the API user's group: what the portal's calls need and nothing else.
pub const API_POLICY: &str = "read,write,api,!local,!telnet,!ssh,!ftp,!reboot,!policy,!test,\
!winbox,!password,!web,!sniff,!sensitive,!romon,!rest-api";

/// What set-up is built from, in plain values (the app maps its settings onto these; payments
/// adds package profiles and plugins' walled-garden hosts the same way).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetupInputs {
    /// `http.public_url`: the portal's address as users' browsers reach it.
    pub public_url: Option<String>,
    /// `router.portal_address`: the portal's IPv4 address as the router sees it.
    pub portal_address: Option<Ipv4Addr>,
    /// `router.username` / `router.password`: the API user set-up creates.
    pub api_user: Option<String>,
    pub api_password: Option<String>,
    /// Hotspot user profiles of the statuses (`quota.profiles`).
    pub status_profiles: Vec<String>,
    /// Hotspot user profiles of the packages for sale.
    pub package_profiles: Vec<String>,
    /// Status lists that may reach only the portal, the walled garden and DNS (habis, expired,
    /// inactive).
    pub restricted_lists: Vec<String>,
    /// Walled-garden hosts besides the portal: plugins' hosts and `router.extra_walled_garden`.
    pub extra_hosts: Vec<String>,
}

/// Name of the API user's group.
pub const API_GROUP: &str = "lpsaring-api";

/// One router row as set-up wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredRow {
    pub menu: ConfigMenu,
    /// What identifies the row: its name in named menus, else our comment's `key`.
    pub key: String,
    /// Properties to write, `comment` included.
    pub attrs: BTreeMap<String, String>,
}

/// The whole desired configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub rows: Vec<DesiredRow>,
    /// The hotspot `login.html` that sends a device to the portal's captive page; written into
    /// every hotspot profile's `html-directory` ([`plan`] finds them on the router).
    pub login_html: String,
    /// One line per setting that was unset and printed as a placeholder.
    pub warnings: Vec<String>,
}

/// Properties written but never read back or compared (RouterOS does not print them).
pub(crate) const WRITE_ONLY: &[&str] = &["password"];

/// Menus whose rows are found by `name` rather than by our comment's key.
pub(crate) fn named(menu: ConfigMenu) -> bool {
    matches!(
        menu,
        ConfigMenu::UserProfile | ConfigMenu::UserGroup | ConfigMenu::User | ConfigMenu::File
    )
}

/// The identity of a router row as [`DesiredRow::key`] spells it.
pub(crate) fn identity(menu: ConfigMenu, row: &ConfigRow) -> Option<String> {
    if named(menu) {
        row.get("name").map(str::to_owned)
    } else {
        row.ours()?.get("key").map(str::to_owned)
    }
}

fn placeholder(name: &str, setting: &str, warnings: &mut Vec<String>) -> String {
    warnings.push(format!(
        "{setting} is not set: the script carries the placeholder CHANGE-ME-{name}"
    ));
    format!("CHANGE-ME-{name}")
}

/// The host of a URL (`https://wifi.example:8443/x` → `wifi.example`).
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.split(':').next()?,
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn row(menu: ConfigMenu, key: &str, pairs: &[(&str, &str)]) -> DesiredRow {
    let mut attrs: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let comment = OwnedComment::default()
        .with("kind", "setup")
        .with("key", key);
    attrs.insert("comment".into(), comment.render());
    DesiredRow {
        menu,
        key: if named(menu) {
            attrs.get("name").cloned().unwrap_or_default()
        } else {
            comment.get("key").unwrap_or_default().to_owned()
        },
        attrs,
    }
}

/// Sorted, trimmed, lower-cased, without duplicates or blanks.
fn clean(items: impl IntoIterator<Item = String>, lower: bool) -> Vec<String> {
    let mut out: Vec<String> = items
        .into_iter()
        .map(|s| {
            let s = s.trim();
            if lower {
                s.to_ascii_lowercase()
            } else {
                s.to_owned()
            }
        })
        .filter(|s| !s.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The configuration the portal needs, from plain inputs; unset values become marked
/// placeholders, each with a warning.
pub fn desired(inputs: &SetupInputs) -> Desired {
    let mut warnings = Vec::new();
    let public_url = match inputs.public_url.as_deref().map(str::trim) {
        Some(url) if url_host(url).is_some() => url.trim_end_matches('/').to_owned(),
        _ => placeholder("public-url", "http.public_url", &mut warnings),
    };
    let portal_host = url_host(&public_url).unwrap_or_default();
    let portal_address = match inputs.portal_address {
        Some(ip) => ip.to_string(),
        None => placeholder("portal-address", "router.portal_address", &mut warnings),
    };
    let api_user = match inputs.api_user.as_deref().map(str::trim) {
        Some(user) if !user.is_empty() => user.to_owned(),
        _ => placeholder("api-user", "router.username", &mut warnings),
    };
    let api_password = match inputs.api_password.as_deref() {
        Some(pw) if !pw.is_empty() => pw.to_owned(),
        _ => placeholder("api-password", "router.password", &mut warnings),
    };

    let mut rows = Vec::new();
    let profiles = clean(
        inputs
            .status_profiles
            .iter()
            .chain(&inputs.package_profiles)
            .cloned(),
        false,
    );
    for name in profiles.iter().filter(|p| *p != "default") {
        rows.push(row(
            ConfigMenu::UserProfile,
            &format!("profile:{name}"),
            &[("name", name)],
        ));
    }
    let hosts = clean(
        std::iter::once(portal_host).chain(inputs.extra_hosts.iter().cloned()),
        true,
    );
    for host in &hosts {
        rows.push(row(
            ConfigMenu::WalledGarden,
            &format!("garden:{host}"),
            &[("dst-host", host), ("action", "allow")],
        ));
        // A portal reached by its IP: the portal row below lists that address; RouterOS
        // refuses the same address twice in one list.
        if *host != portal_address {
            rows.push(row(
                ConfigMenu::AddressList,
                &format!("garden:{host}"),
                &[("list", GARDEN_LIST), ("address", host)],
            ));
        }
    }
    rows.push(row(
        ConfigMenu::WalledGardenIp,
        "garden-ip:portal",
        &[("dst-address", &portal_address), ("action", "accept")],
    ));
    rows.push(row(
        ConfigMenu::AddressList,
        "garden-ip:portal",
        &[("list", GARDEN_LIST), ("address", &portal_address)],
    ));
    for list in clean(inputs.restricted_lists.iter().cloned(), false) {
        let rule = |what: &str, extra: &[(&str, &str)]| {
            let mut pairs = vec![("chain", "forward"), ("src-address-list", list.as_str())];
            pairs.extend_from_slice(extra);
            row(
                ConfigMenu::FirewallFilter,
                &format!("filter:{list}:{what}"),
                &pairs,
            )
        };
        rows.push(rule(
            "garden",
            &[("dst-address-list", GARDEN_LIST), ("action", "accept")],
        ));
        rows.push(rule(
            "dns-udp",
            &[
                ("protocol", "udp"),
                ("dst-port", "53"),
                ("action", "accept"),
            ],
        ));
        rows.push(rule(
            "dns-tcp",
            &[
                ("protocol", "tcp"),
                ("dst-port", "53"),
                ("action", "accept"),
            ],
        ));
        rows.push(rule("drop", &[("action", "drop")]));
    }
    rows.push(row(
        ConfigMenu::UserGroup,
        "api-group",
        &[("name", API_GROUP), ("policy", API_POLICY)],
    ));
    rows.push(row(
        ConfigMenu::User,
        "api-user",
        &[
            ("name", &api_user),
            ("group", API_GROUP),
            ("address", &format!("{portal_address}/32")),
            ("password", &api_password),
        ],
    ));
    // One block per menu in the script; groups before the user that names one.
    rows.sort_by_key(|r| r.menu);
    Desired {
        rows,
        login_html: login_html(&public_url),
        warnings,
    }
}

/// A hotspot `login.html` that forwards the device to the portal's captive page with what the
/// portal needs to log it in ( `$(…)` are filled in by the router).
fn login_html(public_url: &str) -> String {
    let target = format!(
        "{public_url}/captive?ip=$(ip)&mac=$(mac)&link-login-only=$(link-login-only)&link-orig=$(link-orig-esc)"
    );
    format!(
        "<html><head><meta http-equiv=\"refresh\" content=\"0; url={target}\"></head>\
<body><a href=\"{target}\">Continue</a></body></html>"
    )
}

#[cfg(test)]
mod tests;
