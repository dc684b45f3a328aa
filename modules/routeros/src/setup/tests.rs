#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use super::*;

fn inputs() -> SetupInputs {
    SetupInputs {
        public_url: Some("https://WiFi.example:8443/".into()),
        portal_address: Some(Ipv4Addr::new(10, 0, 0, 2)),
        api_user: Some("lpsaring".into()),
        api_password: Some("s3cret".into()),
        status_profiles: vec!["default".into(), "habis".into(), "fup".into()],
        package_profiles: vec!["paket-10gb".into(), "fup".into()],
        restricted_lists: vec!["habis".into(), "expired".into(), "inactive".into()],
        extra_hosts: vec!["app.midtrans.com".into(), " ".into()],
    }
}

fn keys(d: &Desired, menu: ConfigMenu) -> Vec<&str> {
    d.rows
        .iter()
        .filter(|r| r.menu == menu)
        .map(|r| r.key.as_str())
        .collect()
}

#[test]
fn the_desired_state_follows_the_inputs() {
    let d = desired(&inputs());
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    assert_eq!(
        keys(&d, ConfigMenu::UserProfile),
        ["fup", "habis", "paket-10gb"]
    );
    assert_eq!(
        keys(&d, ConfigMenu::WalledGarden),
        ["garden:app.midtrans.com", "garden:wifi.example"]
    );
    // Four rules per restricted list: garden, DNS over UDP and TCP, then drop.
    assert_eq!(keys(&d, ConfigMenu::FirewallFilter).len(), 12);
    let drop = d
        .rows
        .iter()
        .find(|r| r.key == "filter:habis:drop")
        .unwrap();
    assert_eq!(drop.attrs["action"], "drop");
    assert_eq!(drop.attrs["src-address-list"], "habis");
    let user = d.rows.iter().find(|r| r.menu == ConfigMenu::User).unwrap();
    assert_eq!(user.attrs["address"], "10.0.0.2/32");
    assert_eq!(user.attrs["group"], API_GROUP);
    let group = d
        .rows
        .iter()
        .find(|r| r.menu == ConfigMenu::UserGroup)
        .unwrap();
    assert!(group.attrs["policy"].starts_with("read,write,api,!"));
    assert!(!group.attrs["policy"].contains(",policy"));
    assert!(
        d.rows
            .iter()
            .all(|r| r.attrs["comment"].starts_with("lpsaring|"))
    );
    assert!(d.login_html.contains(
        "https://WiFi.example:8443/captive?ip=$(ip)&mac=$(mac)&link-login-only=$(link-login-only)&link-orig=$(link-orig-esc)"
    ));
}

#[test]
fn unset_values_become_marked_placeholders_with_warnings() {
    let d = desired(&SetupInputs::default());
    assert_eq!(d.warnings.len(), 4, "{:?}", d.warnings);
    let script = render_script(&d);
    assert!(script.contains("# WARNING: http.public_url is not set"));
    assert!(script.contains("CHANGE-ME-public-url/captive"));
    assert!(script.contains("address=\"CHANGE-ME-portal-address/32\""));
}

#[test]
fn the_script_guards_every_add_and_escapes_router_variables() {
    let script = render_script(&desired(&inputs()));
    for line in script.lines().filter(|l| l.contains(" add ")) {
        assert!(
            line.starts_with(":if ([:len [find ")
                || line.contains(":if ([:len [/file find name=$f]] = 0) do={ /file add "),
            "{line}"
        );
    }
    // The login page goes into every hotspot profile's html-directory, as `router setup` does.
    assert!(script.contains(
        ":foreach p in=[/ip hotspot profile find] do={ :local f ([/ip hotspot profile get $p html-directory] . \"/login.html\");"
    ));
    assert!(script.contains("else={ /file set [/file find name=$f] contents=\"<html>"));
    assert!(script.contains("\n/ip hotspot walled-garden\n"));
    assert!(script.contains("\n/user group\n"));
    assert!(script.contains(
        ":if ([:len [find name=\"habis\"]] = 0) do={ add comment=\"lpsaring|key=profile:habis|kind=setup\" name=\"habis\" }"
    ));
    // `$(ip)` must reach the file as text, not be expanded by the script.
    assert!(script.contains("ip=\\$(ip)&mac=\\$(mac)"));
    assert!(!script.contains("=$("));
}

#[test]
fn the_plan_adds_what_is_missing_and_leaves_foreign_rows_alone() {
    let d = desired(&inputs());
    let mut current = BTreeMap::new();
    // Every row, and the login page of the default html-directory.
    let changes = plan(&d, &current);
    assert_eq!(changes.len(), d.rows.len() + 1);
    assert!(matches!(changes.last(), Some(SetupChange::Add(r)) if r.key == "hotspot/login.html"));

    // Everything present as we want it, plus a hand-made `fup` profile.
    let mut rows: BTreeMap<ConfigMenu, Vec<ConfigRow>> = BTreeMap::new();
    for (i, r) in d.rows.iter().enumerate() {
        let mut attrs = r.attrs.clone();
        attrs.remove("password");
        if r.key == "fup" {
            attrs.insert("comment".into(), "made by hand".into());
        }
        rows.entry(r.menu).or_default().push(ConfigRow {
            id: format!("*{i}"),
            attrs,
        });
    }
    rows.entry(ConfigMenu::File).or_default().push(ConfigRow {
        id: "*f".into(),
        attrs: BTreeMap::from([
            ("name".into(), "hotspot/login.html".into()),
            ("contents".into(), d.login_html.clone()),
        ]),
    });
    current = rows;
    let changes = plan(&d, &current);
    assert_eq!(
        changes,
        [SetupChange::Foreign {
            menu: ConfigMenu::UserProfile,
            key: "fup".into()
        }]
    );

    // Our user's group drifted: only that property is set back.
    let user = current
        .get_mut(&ConfigMenu::User)
        .unwrap()
        .first_mut()
        .unwrap();
    user.attrs.insert("group".into(), "full".into());
    let changes = plan(&d, &current);
    assert!(changes.iter().any(|c| matches!(c,
        SetupChange::Set { menu: ConfigMenu::User, attrs, .. }
            if attrs.len() == 1 && attrs["group"] == API_GROUP)));
}

#[test]
fn a_reordered_policy_is_the_same_policy() {
    assert!(plan::same(
        "policy",
        "read,write,api",
        Some("api,read,write")
    ));
    assert!(!plan::same("policy", "read,write,api", Some("read,api")));
}

#[test]
fn a_portal_reached_by_its_ip_lists_that_address_once() {
    let d = desired(&SetupInputs {
        public_url: Some("http://10.0.0.2:8080/".into()),
        ..inputs()
    });
    let mut garden: Vec<&str> = d
        .rows
        .iter()
        .filter(|r| r.menu == ConfigMenu::AddressList)
        .filter_map(|r| r.attrs.get("address").map(String::as_str))
        .collect();
    let listed = garden.len();
    garden.sort_unstable();
    garden.dedup();
    assert_eq!(garden.len(), listed, "{garden:?}");
    assert!(garden.contains(&"10.0.0.2"), "{garden:?}");
}
