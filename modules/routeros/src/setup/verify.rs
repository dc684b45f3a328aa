//! Whether the router is set up as the portal expects (`lpsaring doctor`, `/readyz`): the set-up
//! plan read per area. An area passes when its plan is empty; a row someone made by hand under
//! our name is a warning (set-up leaves it alone, so it may not be what the portal expects).

use std::collections::BTreeMap;

use lpsaring_kernel::ports::router::{ConfigMenu, ConfigRow};

use super::{Desired, SetupChange, plan};

/// The command that repairs a failing area.
pub const FIX: &str = "lpsaring router setup";

/// How one checked area stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One checked area of the router's set-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `hotspot profiles`, `walled garden`, `login page`…
    pub area: &'static str,
    pub level: Level,
    /// A short sentence (no secret: passwords are never compared or shown).
    pub detail: String,
    /// The command that repairs it, when one does.
    pub fix: Option<&'static str>,
}

impl Finding {
    pub fn new(area: &'static str, level: Level, detail: impl Into<String>) -> Self {
        Self {
            area,
            level,
            detail: detail.into(),
            fix: (level == Level::Fail).then_some(FIX),
        }
    }
}

/// The areas in the order they are reported, and the menus each covers.
const AREAS: &[(&str, &[ConfigMenu])] = &[
    ("hotspot profiles", &[ConfigMenu::UserProfile]),
    (
        "walled garden",
        &[ConfigMenu::WalledGarden, ConfigMenu::WalledGardenIp],
    ),
    ("address lists", &[ConfigMenu::AddressList]),
    ("firewall", &[ConfigMenu::FirewallFilter]),
    ("api user", &[ConfigMenu::UserGroup, ConfigMenu::User]),
    ("login page", &[ConfigMenu::File]),
];

fn menu_of(change: &SetupChange) -> ConfigMenu {
    match change {
        SetupChange::Add(row) => row.menu,
        SetupChange::Set { menu, .. } | SetupChange::Foreign { menu, .. } => *menu,
    }
}

/// What a change says is wrong, in a few words (`missing habis`, `differs: contents`).
fn short(change: &SetupChange) -> String {
    match change {
        SetupChange::Add(row) => format!("missing {}", row.key),
        SetupChange::Set { key, attrs, .. } => format!(
            "{key} differs ({})",
            attrs.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        SetupChange::Foreign { key, .. } => format!("{key} exists without our comment"),
    }
}

/// The set-up areas against the router's rows (`current` as [`super::read_current`] reads it).
pub fn verify(desired: &Desired, current: &BTreeMap<ConfigMenu, Vec<ConfigRow>>) -> Vec<Finding> {
    let changes = plan(desired, current);
    AREAS
        .iter()
        .map(|(area, menus)| {
            let mine: Vec<&SetupChange> = changes
                .iter()
                .filter(|c| menus.contains(&menu_of(c)))
                .collect();
            let (foreign, wrong): (Vec<_>, Vec<_>) = mine
                .iter()
                .partition(|c| matches!(c, SetupChange::Foreign { .. }));
            let list = |items: &[&&SetupChange]| {
                let mut words: Vec<String> = items.iter().take(3).map(|c| short(c)).collect();
                if items.len() > 3 {
                    words.push(format!("and {} more", items.len() - 3));
                }
                words.join("; ")
            };
            if !wrong.is_empty() {
                Finding::new(area, Level::Fail, list(&wrong))
            } else if !foreign.is_empty() {
                Finding::new(
                    area,
                    Level::Warn,
                    format!("{} (left alone: check it by hand)", list(&foreign)),
                )
            } else {
                Finding::new(area, Level::Ok, "as the portal expects")
            }
        })
        .collect()
}

/// Policies the API user's group must have for the portal's calls.
const NEEDED_POLICIES: [&str; 3] = ["read", "write", "api"];

/// Whether `user` (the account the portal logs in as) has the policies the portal needs.
pub fn permissions(user: &str, current: &BTreeMap<ConfigMenu, Vec<ConfigRow>>) -> Finding {
    const AREA: &str = "api permissions";
    let rows = |menu| current.get(&menu).map(Vec::as_slice).unwrap_or_default();
    let Some(account) = rows(ConfigMenu::User)
        .iter()
        .find(|u| u.get("name") == Some(user))
    else {
        return Finding::new(
            AREA,
            Level::Fail,
            format!("the router does not list the user {user}"),
        );
    };
    let group = account.get("group").unwrap_or_default();
    let policy = rows(ConfigMenu::UserGroup)
        .iter()
        .find(|g| g.get("name") == Some(group))
        .and_then(|g| g.get("policy"))
        .unwrap_or_default();
    let has: Vec<&str> = policy.split(',').map(str::trim).collect();
    let lacking: Vec<&str> = NEEDED_POLICIES
        .into_iter()
        .filter(|p| !has.contains(p))
        .collect();
    if lacking.is_empty() {
        Finding::new(AREA, Level::Ok, format!("{user} in group {group}"))
    } else {
        Finding::new(
            AREA,
            Level::Fail,
            format!("{user} in group {group} lacks {}", lacking.join(", ")),
        )
    }
}
