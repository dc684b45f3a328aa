//! The configuration menus router set-up touches, against the simulator over real TCP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeMap;

use lpsaring_kernel::ports::router::{ConfigMenu, ConfigWrite, OwnedComment, Router, RouterError};
use lpsaring_routeros::{RouterOsClient, RouterSettings, Secret};
use lpsaring_routeros_sim::{SimConfig, Simulator, request};

async fn setup() -> (lpsaring_routeros_sim::SimHandle, RouterOsClient) {
    let sim = Simulator::start(SimConfig::local()).await.unwrap();
    let client = RouterOsClient::start(RouterSettings {
        address: sim.addr().to_string(),
        username: "admin".into(),
        password: Secret::new("secret"),
        timeout_ms: 2_000,
        keepalive_ms: 0,
        ..RouterSettings::default()
    });
    (sim, client)
}

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Runs a command on the simulator in-process, as an operator would on the router.
fn by_hand(sim: &lpsaring_routeros_sim::SimHandle, command: &str, attrs: &[(&str, &str)]) {
    let out = sim.with_state(|s| s.execute(&request(command, attrs)));
    assert!(!out.bytes.is_empty());
}

fn ours(kind: &str) -> String {
    OwnedComment::default().with("kind", kind).render()
}

#[tokio::test]
async fn config_menus_are_read_and_our_rows_added_and_set() {
    let (_sim, client) = setup().await;
    let profiles = client
        .config_rows(ConfigMenu::HotspotProfile)
        .await
        .unwrap();
    assert_eq!(profiles[0].get("html-directory"), Some("hotspot"));
    assert!(
        client
            .config_rows(ConfigMenu::HotspotServer)
            .await
            .unwrap()
            .is_empty()
    );
    let groups = client.config_rows(ConfigMenu::UserGroup).await.unwrap();
    assert!(groups.iter().any(|g| g.get("name") == Some("full")));

    let comment = ours("walled-garden");
    client
        .apply_config(vec![
            ConfigWrite::Add {
                menu: ConfigMenu::WalledGarden,
                attrs: attrs(&[("dst-host", "portal.example"), ("comment", &comment)]),
            },
            ConfigWrite::Add {
                menu: ConfigMenu::WalledGardenIp,
                attrs: attrs(&[
                    ("dst-port", "53"),
                    ("protocol", "udp"),
                    ("comment", &comment),
                ]),
            },
            ConfigWrite::Add {
                menu: ConfigMenu::FirewallFilter,
                attrs: attrs(&[
                    ("chain", "forward"),
                    ("action", "drop"),
                    ("src-address-list", "habis"),
                    ("comment", &ours("filter")),
                ]),
            },
            ConfigWrite::Add {
                menu: ConfigMenu::UserGroup,
                attrs: attrs(&[("name", "lpsaring-api"), ("policy", "read,write,api")]),
            },
            ConfigWrite::Add {
                menu: ConfigMenu::User,
                attrs: attrs(&[("name", "lpsaring"), ("group", "lpsaring-api")]),
            },
        ])
        .await
        .unwrap();
    let garden = client.config_rows(ConfigMenu::WalledGarden).await.unwrap();
    assert_eq!(garden.len(), 1);
    assert_eq!(garden[0].get("dst-host"), Some("portal.example"));
    assert_eq!(garden[0].get("action"), Some("allow"));
    assert!(garden[0].ours().is_some());
    let filter = client
        .config_rows(ConfigMenu::FirewallFilter)
        .await
        .unwrap();
    assert_eq!(filter[0].get("src-address-list"), Some("habis"));
    let users = client.config_rows(ConfigMenu::User).await.unwrap();
    assert!(users.iter().any(|u| u.get("group") == Some("lpsaring-api")));

    client
        .apply_config(vec![ConfigWrite::Set {
            menu: ConfigMenu::WalledGarden,
            id: garden[0].id.clone(),
            attrs: attrs(&[("dst-host", "new.example")]),
        }])
        .await
        .unwrap();
    let garden = client.config_rows(ConfigMenu::WalledGarden).await.unwrap();
    assert_eq!(garden[0].get("dst-host"), Some("new.example"));
}

#[tokio::test]
async fn config_writes_never_change_a_row_that_is_not_ours() {
    let (sim, client) = setup().await;
    by_hand(
        &sim,
        "/ip/hotspot/walled-garden/add",
        &[("dst-host", "bank.example"), ("comment", "by hand")],
    );
    let garden = client.config_rows(ConfigMenu::WalledGarden).await.unwrap();
    let err = client
        .apply_config(vec![ConfigWrite::Set {
            menu: ConfigMenu::WalledGarden,
            id: garden[0].id.clone(),
            attrs: attrs(&[("dst-host", "x.example")]),
        }])
        .await
        .unwrap_err();
    assert!(matches!(err, RouterError::NotOurs(_)), "{err:?}");
    let err = client
        .apply_config(vec![ConfigWrite::Add {
            menu: ConfigMenu::HotspotProfile,
            attrs: attrs(&[("name", "x")]),
        }])
        .await
        .unwrap_err();
    assert!(matches!(err, RouterError::NotOurs(_)), "{err:?}");
    let after = client.config_rows(ConfigMenu::WalledGarden).await.unwrap();
    assert_eq!(after, garden);
    assert_eq!(
        client
            .config_rows(ConfigMenu::HotspotProfile)
            .await
            .unwrap()
            .len(),
        1
    );
}

fn setup_inputs() -> lpsaring_routeros::setup::SetupInputs {
    lpsaring_routeros::setup::SetupInputs {
        public_url: Some("https://wifi.example".into()),
        portal_address: Some("10.0.0.2".parse().unwrap()),
        api_user: Some("lpsaring".into()),
        api_password: Some("pw".into()),
        status_profiles: vec!["default".into(), "habis".into(), "expired".into()],
        package_profiles: vec!["paket-10gb".into()],
        restricted_lists: vec!["habis".into(), "expired".into()],
        extra_hosts: vec!["bank.example".into()],
    }
}

#[tokio::test]
async fn router_setup_creates_everything_then_changes_nothing() {
    use lpsaring_routeros::setup::{self, SetupChange};
    let (sim, client) = setup().await;
    let desired = setup::desired(&setup_inputs());
    let writes_before = sim.with_state(|s| s.stats.writes);

    // Dry run: the diff lists every row, and the router's own login page is replaced by ours;
    // nothing is written.
    let current = setup::read_current(&client, &desired).await.unwrap();
    let changes = setup::plan(&desired, &current);
    assert_eq!(changes.len(), desired.rows.len() + 1);
    let (adds, sets): (Vec<_>, Vec<_>) = changes
        .iter()
        .partition(|c| matches!(c, SetupChange::Add(_)));
    assert_eq!(adds.len(), desired.rows.len());
    assert!(
        matches!(sets[..], [SetupChange::Set { menu: ConfigMenu::File, key, attrs, .. }]
            if key == "hotspot/login.html" && attrs.keys().eq(["contents"])),
        "{sets:?}"
    );
    assert!(
        sets[0]
            .to_string()
            .starts_with("~ /file [hotspot/login.html] contents=<html>")
    );
    assert_eq!(sim.with_state(|s| s.stats.writes), writes_before);

    setup::apply(&client, &changes).await.unwrap();
    let garden = client.config_rows(ConfigMenu::WalledGarden).await.unwrap();
    let hosts: Vec<_> = garden.iter().filter_map(|r| r.get("dst-host")).collect();
    assert_eq!(hosts, ["bank.example", "wifi.example"]);
    assert_eq!(
        client
            .config_rows(ConfigMenu::FirewallFilter)
            .await
            .unwrap()
            .len(),
        8
    );
    let users = client.config_rows(ConfigMenu::User).await.unwrap();
    let api = users
        .iter()
        .find(|u| u.get("name") == Some("lpsaring"))
        .unwrap();
    assert_eq!(api.get("group"), Some(setup::API_GROUP));
    assert_eq!(api.get("address"), Some("10.0.0.2/32"));
    let page = login_page(&client, "hotspot/login.html").await.unwrap();
    assert_eq!(page, desired.login_html);
    assert!(page.contains(
        "https://wifi.example/captive?ip=$(ip)&mac=$(mac)&link-login-only=$(link-login-only)"
    ));

    // A second run finds nothing to do.
    let writes_after = sim.with_state(|s| s.stats.writes);
    let current = setup::read_current(&client, &desired).await.unwrap();
    assert_eq!(setup::plan(&desired, &current), []);
    setup::apply(&client, &[]).await.unwrap();
    assert_eq!(sim.with_state(|s| s.stats.writes), writes_after);
}

#[tokio::test]
async fn router_setup_leaves_a_hand_made_row_alone_and_repairs_ours() {
    use lpsaring_routeros::setup::{self, SetupChange};
    let (sim, client) = setup().await;
    by_hand(
        &sim,
        "/ip/hotspot/user/profile/add",
        &[("name", "habis"), ("rate-limit", "1k/1k")],
    );
    let desired = setup::desired(&setup_inputs());
    let current = setup::read_current(&client, &desired).await.unwrap();
    let changes = setup::plan(&desired, &current);
    assert!(changes.contains(&SetupChange::Foreign {
        menu: ConfigMenu::UserProfile,
        key: "habis".into()
    }));
    setup::apply(&client, &changes).await.unwrap();
    let profiles = client.config_rows(ConfigMenu::UserProfile).await.unwrap();
    let habis = profiles
        .iter()
        .find(|p| p.get("name") == Some("habis"))
        .unwrap();
    assert_eq!(habis.get("rate-limit"), Some("1k/1k"));
    assert!(habis.ours().is_none());

    // Someone moves our API user to the full group: set-up puts it back, nothing else.
    let users = client.config_rows(ConfigMenu::User).await.unwrap();
    let api = users
        .iter()
        .find(|u| u.get("name") == Some("lpsaring"))
        .unwrap();
    by_hand(
        &sim,
        "/user/set",
        &[(".id", api.id.as_str()), ("group", "full")],
    );
    let current = setup::read_current(&client, &desired).await.unwrap();
    let changes = setup::plan(&desired, &current);
    let sets: Vec<_> = changes
        .iter()
        .filter(|c| !matches!(c, SetupChange::Foreign { .. }))
        .collect();
    assert_eq!(sets.len(), 1, "{sets:?}");
    setup::apply(&client, &changes).await.unwrap();
    let users = client.config_rows(ConfigMenu::User).await.unwrap();
    let api = users
        .iter()
        .find(|u| u.get("name") == Some("lpsaring"))
        .unwrap();
    assert_eq!(api.get("group"), Some(setup::API_GROUP));
}

async fn login_page(client: &RouterOsClient, name: &str) -> Option<String> {
    let files = client.config_rows(ConfigMenu::File).await.unwrap();
    let file = files.iter().find(|f| f.get("name") == Some(name))?;
    file.get("contents").map(str::to_owned)
}

#[tokio::test]
async fn router_setup_writes_a_login_page_into_every_html_directory() {
    use lpsaring_routeros::setup::{self, SetupChange};
    let (sim, client) = setup().await;
    // A second hotspot whose pages live in flash/hotspot, a directory without a login page yet.
    by_hand(
        &sim,
        "/ip/hotspot/profile/add",
        &[("name", "guests"), ("html-directory", "flash/hotspot")],
    );
    let desired = setup::desired(&setup_inputs());
    let current = setup::read_current(&client, &desired).await.unwrap();
    let changes = setup::plan(&desired, &current);
    assert!(changes.iter().any(|c| matches!(c,
        SetupChange::Add(row) if row.menu == ConfigMenu::File && row.key == "flash/hotspot/login.html")));
    setup::apply(&client, &changes).await.unwrap();
    for name in ["hotspot/login.html", "flash/hotspot/login.html"] {
        assert_eq!(
            login_page(&client, name).await.as_deref(),
            Some(desired.login_html.as_str()),
            "{name}"
        );
    }
    let file = sim.with_state(|s| {
        s.rows(lpsaring_routeros_sim::Menu::File)
            .into_iter()
            .find(|r| r.get("name") == Some("flash/hotspot/login.html"))
            .unwrap()
    });
    assert_eq!(file.get("type"), Some("file"));
    assert_eq!(
        file.get("size"),
        Some(desired.login_html.len().to_string().as_str())
    );

    // Someone puts the router's form back: set-up writes ours again, and only that.
    let page = sim.with_state(|s| {
        s.rows(lpsaring_routeros_sim::Menu::File)
            .into_iter()
            .find(|r| r.get("name") == Some("hotspot/login.html"))
            .and_then(|r| r.get(".id").map(str::to_owned))
            .unwrap()
    });
    by_hand(
        &sim,
        "/file/set",
        &[
            (".id", page.as_str()),
            ("contents", "<html>hand made</html>"),
        ],
    );
    let current = setup::read_current(&client, &desired).await.unwrap();
    let changes = setup::plan(&desired, &current);
    assert_eq!(changes.len(), 1, "{changes:?}");
    setup::apply(&client, &changes).await.unwrap();
    let current = setup::read_current(&client, &desired).await.unwrap();
    assert_eq!(setup::plan(&desired, &current), []);
}

#[tokio::test]
async fn file_writes_are_limited_to_hotspot_login_pages() {
    let (sim, client) = setup().await;
    by_hand(
        &sim,
        "/file/add",
        &[("name", "backup.rsc"), ("contents", "x")],
    );
    let files = client.config_rows(ConfigMenu::File).await.unwrap();
    let backup = files
        .iter()
        .find(|f| f.get("name") == Some("backup.rsc"))
        .unwrap();
    for write in [
        ConfigWrite::Set {
            menu: ConfigMenu::File,
            id: backup.id.clone(),
            attrs: attrs(&[("contents", "y")]),
        },
        ConfigWrite::Add {
            menu: ConfigMenu::File,
            attrs: attrs(&[("name", "hotspot/status.html"), ("contents", "y")]),
        },
    ] {
        let err = client.apply_config(vec![write]).await.unwrap_err();
        assert!(matches!(err, RouterError::NotOurs(_)), "{err:?}");
    }
    assert_eq!(client.config_rows(ConfigMenu::File).await.unwrap(), files);
}
