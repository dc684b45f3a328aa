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
    sim.with_state(|s| {
        s.execute(&request(
            "/ip/hotspot/walled-garden/add",
            &[("dst-host", "bank.example"), ("comment", "by hand")],
        ))
    });
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
