//! `lpsaring router setup`: the difference between the desired state and the router, and its
//! application through the Router port. Only rows whose comment is ours are changed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use lpsaring_kernel::ports::router::{ConfigMenu, ConfigRow, ConfigWrite, Router, RouterError};
use lpsaring_kernel::ports::router_config::LOGIN_PAGE;

use super::{Desired, DesiredRow, WRITE_ONLY, identity};

/// The `html-directory` a hotspot profile has when the router prints none.
const DEFAULT_HTML_DIRECTORY: &str = "hotspot";

/// One difference between the router and the desired state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupChange {
    /// The row is missing: it is added.
    Add(DesiredRow),
    /// Our row differs in `attrs` (only the differing properties, desired values).
    Set {
        menu: ConfigMenu,
        id: String,
        key: String,
        attrs: BTreeMap<String, String>,
    },
    /// A row with this name exists but is not ours: left alone, the operator decides.
    Foreign { menu: ConfigMenu, key: String },
}

impl fmt::Display for SetupChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let props = |attrs: &BTreeMap<String, String>| {
            attrs
                .iter()
                .map(|(k, v)| {
                    let v = if WRITE_ONLY.contains(&k.as_str()) {
                        "***"
                    } else {
                        v
                    };
                    format!("{k}={v}")
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        match self {
            SetupChange::Add(row) => write!(f, "+ {} {}", row.menu.path(), props(&row.attrs)),
            SetupChange::Set {
                menu, key, attrs, ..
            } => write!(f, "~ {} [{key}] {}", menu.path(), props(attrs)),
            SetupChange::Foreign { menu, key } => write!(
                f,
                "! {} [{key}] exists without our comment; left alone (check it by hand)",
                menu.path()
            ),
        }
    }
}

/// Two values of one property are the same setting (RouterOS reorders policy lists).
pub(super) fn same(key: &str, want: &str, have: Option<&str>) -> bool {
    let Some(have) = have else { return false };
    if key == "policy" {
        fn set(s: &str) -> BTreeSet<&str> {
            s.split(',').map(str::trim).collect()
        }
        return set(want) == set(have);
    }
    want == have
}

/// The login page of every hotspot profile's `html-directory` on the router (`current` holds
/// its hotspot profiles), as rows of `/file` holding `desired.login_html`.
pub fn login_pages(
    desired: &Desired,
    current: &BTreeMap<ConfigMenu, Vec<ConfigRow>>,
) -> Vec<DesiredRow> {
    let mut dirs: BTreeSet<String> = current
        .get(&ConfigMenu::HotspotProfile)
        .into_iter()
        .flatten()
        .map(|p| {
            p.get("html-directory")
                .map(|d| d.trim().trim_matches('/'))
                .filter(|d| !d.is_empty())
                .unwrap_or(DEFAULT_HTML_DIRECTORY)
                .to_owned()
        })
        .collect();
    if dirs.is_empty() {
        dirs.insert(DEFAULT_HTML_DIRECTORY.to_owned());
    }
    dirs.into_iter()
        .map(|dir| {
            let name = format!("{dir}/{LOGIN_PAGE}");
            DesiredRow {
                menu: ConfigMenu::File,
                key: name.clone(),
                attrs: BTreeMap::from([
                    ("name".to_owned(), name),
                    ("contents".to_owned(), desired.login_html.clone()),
                ]),
            }
        })
        .collect()
}

/// What must change for the router (`current`, per menu, as [`read_current`] reads it) to
/// match `desired`, the login pages included. A row the router has that we no longer want is
/// left in place: removing is the operator's call.
pub fn plan(desired: &Desired, current: &BTreeMap<ConfigMenu, Vec<ConfigRow>>) -> Vec<SetupChange> {
    let mut changes = Vec::new();
    for want in desired.rows.iter().chain(&login_pages(desired, current)) {
        let have = current.get(&want.menu).and_then(|rows| {
            rows.iter()
                .find(|r| identity(want.menu, r).as_deref() == Some(want.key.as_str()))
        });
        let Some(have) = have else {
            changes.push(SetupChange::Add(want.clone()));
            continue;
        };
        if want.menu.commented() && have.ours().is_none() {
            changes.push(SetupChange::Foreign {
                menu: want.menu,
                key: want.key.clone(),
            });
            continue;
        }
        // Our comment is ours whichever kind wrote it (the status-profile check, an older
        // set-up): it is not rewritten, so the two never undo each other.
        let differ: BTreeMap<String, String> = want
            .attrs
            .iter()
            .filter(|(k, _)| *k != "comment" && !WRITE_ONLY.contains(&k.as_str()))
            .filter(|(k, v)| !same(k, v, have.get(k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !differ.is_empty() {
            changes.push(SetupChange::Set {
                menu: want.menu,
                id: have.id.clone(),
                key: want.key.clone(),
                attrs: differ,
            });
        }
    }
    changes
}

/// The rows of every menu `desired` touches, the hotspot profiles (their `html-directory`) and
/// the files (their login pages).
pub async fn read_current(
    router: &dyn Router,
    desired: &Desired,
) -> Result<BTreeMap<ConfigMenu, Vec<ConfigRow>>, RouterError> {
    let mut menus: BTreeSet<ConfigMenu> = desired.rows.iter().map(|r| r.menu).collect();
    menus.extend([ConfigMenu::HotspotProfile, ConfigMenu::File]);
    let mut current = BTreeMap::new();
    for menu in menus {
        current.insert(menu, router.config_rows(menu).await?);
    }
    Ok(current)
}

/// Applies `changes` (adds and sets; foreign rows are skipped). The router refuses a set on a
/// row that stopped being ours between the read and the write.
pub async fn apply(router: &dyn Router, changes: &[SetupChange]) -> Result<(), RouterError> {
    let writes: Vec<ConfigWrite> = changes
        .iter()
        .filter_map(|change| match change {
            SetupChange::Add(row) => Some(ConfigWrite::Add {
                menu: row.menu,
                attrs: row.attrs.clone(),
            }),
            SetupChange::Set {
                menu, id, attrs, ..
            } => Some(ConfigWrite::Set {
                menu: *menu,
                id: id.clone(),
                attrs: attrs.clone(),
            }),
            SetupChange::Foreign { .. } => None,
        })
        .collect();
    router.apply_config(writes).await
}
