//! The Router port against the simulator over real TCP on 127.0.0.1 — no mocks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::net::Ipv4Addr;
use std::time::Duration;

use lpsaring_kernel::Mac;
use lpsaring_kernel::ids::UserId;
use lpsaring_kernel::ports::router::{
    BindingType, HotspotUserSpec, OwnedComment, Router, RouterError, RouterHealth, RouterWrite,
};
use lpsaring_routeros::{RouterOsClient, RouterSettings, Secret};
use lpsaring_routeros_sim::{Faults, Menu, NewHost, SimConfig, SimHandle, Simulator, request};

fn settings(sim: &SimHandle) -> RouterSettings {
    RouterSettings {
        address: sim.addr().to_string(),
        username: "admin".into(),
        password: Secret::new("secret"),
        timeout_ms: 2_000,
        breaker_failures: 3,
        breaker_cooldown_ms: 300,
        max_backoff_ms: 200,
        keepalive_ms: 0,
        ..RouterSettings::default()
    }
}

async fn setup() -> (SimHandle, RouterOsClient) {
    let sim = Simulator::start(SimConfig::local()).await.unwrap();
    let client = RouterOsClient::start(settings(&sim));
    (sim, client)
}

fn mac(n: u8) -> Mac {
    Mac([0xAA, 0xBB, 0xCC, 0, 0, n])
}

fn ip(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 5, 0, n)
}

fn host(sim: &SimHandle, n: u8, bytes_in: u64, bytes_out: u64) -> String {
    sim.add_host(&NewHost {
        mac: mac(n).to_string(),
        address: ip(n).to_string(),
        bytes_in,
        bytes_out,
        uptime_secs: 3_723,
        with_lease: true,
        ..NewHost::default()
    })
    .unwrap()
}

/// Runs a command on the simulator in-process (as an operator would on the router).
fn sim_exec(sim: &SimHandle, command: &str, attrs: &[(&str, &str)]) {
    let out = sim.with_state(|s| s.execute(&request(command, attrs)));
    assert!(!out.bytes.is_empty());
}

fn comment(uid: i64) -> OwnedComment {
    OwnedComment::for_user(UserId(uid)).with("kind", "test")
}

/// Retries `f` up to 100 times, 50 ms apart: a bounded wait for reconnects and breaker cool-down.
async fn eventually<T, F, Fut>(mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..100 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not reached within the bounded wait");
}

#[tokio::test]
async fn hosts_snapshot_parses_every_field_with_one_print() {
    let (sim, client) = setup().await;
    let id = host(&sim, 1, 1_000, 2_000);
    host(&sim, 2, 0, 5);
    sim_exec(
        &sim,
        "/ip/hotspot/ip-binding/add",
        &[("mac-address", &mac(2).to_string()), ("type", "bypassed")],
    );
    sim.reset_stats();
    let hosts = client.hosts().await.unwrap();
    assert_eq!(hosts.len(), 2);
    let h = &hosts[0];
    assert_eq!(h.id, id);
    assert_eq!(h.mac, mac(1));
    assert_eq!(h.address, Some(ip(1)));
    assert_eq!(h.to_address, Some(ip(1)));
    assert_eq!(h.server.as_deref(), Some("hotspot1"));
    assert_eq!(
        (h.bytes_in, h.bytes_out, h.uptime_secs),
        (1_000, 2_000, 3_723)
    );
    assert!(!h.authorized && !h.bypassed);
    assert!(hosts[1].bypassed, "a bypassed binding shows on its host");
    assert_eq!(sim.stats().count("/ip/hotspot/host/print"), 1);
    assert_eq!(client.health(), RouterHealth::Connected);
}

#[tokio::test]
async fn mac_and_ip_lookups_walk_host_then_arp_then_lease() {
    let (sim, client) = setup().await;
    host(&sim, 1, 0, 0);
    sim_exec(
        &sim,
        "/ip/arp/add",
        &[
            ("address", "10.5.0.50"),
            ("mac-address", &mac(50).to_string()),
        ],
    );
    sim_exec(
        &sim,
        "/ip/dhcp-server/lease/add",
        &[
            ("address", "10.5.0.60"),
            ("mac-address", &mac(60).to_string()),
        ],
    );
    assert_eq!(client.mac_for_ip(ip(1)).await.unwrap(), Some(mac(1)));
    assert_eq!(client.mac_for_ip(ip(50)).await.unwrap(), Some(mac(50)));
    assert_eq!(client.mac_for_ip(ip(60)).await.unwrap(), Some(mac(60)));
    assert_eq!(client.mac_for_ip(ip(99)).await.unwrap(), None);
    assert_eq!(client.ip_for_mac(mac(1)).await.unwrap(), Some(ip(1)));
    assert_eq!(client.ip_for_mac(mac(50)).await.unwrap(), Some(ip(50)));
    assert_eq!(client.ip_for_mac(mac(60)).await.unwrap(), Some(ip(60)));
    assert_eq!(client.ip_for_mac(mac(99)).await.unwrap(), None);
}

#[tokio::test]
async fn ip_binding_upsert_is_idempotent_and_never_touches_foreign_rows() {
    let (sim, client) = setup().await;
    host(&sim, 1, 0, 0);
    sim_exec(
        &sim,
        "/ip/hotspot/ip-binding/add",
        &[("mac-address", &mac(9).to_string()), ("comment", "by hand")],
    );
    client
        .upsert_ip_binding(mac(1), BindingType::Bypassed, &comment(7))
        .await
        .unwrap();
    let ours = client.ip_bindings().await.unwrap();
    assert_eq!(ours.len(), 1, "the hand-made binding is not listed");
    assert_eq!(
        (ours[0].mac, ours[0].kind, ours[0].comment.user()),
        (mac(1), BindingType::Bypassed, Some(UserId(7)))
    );
    assert_eq!(ours[0].server.as_deref(), Some("all"));
    assert!(client.hosts().await.unwrap()[0].bypassed);

    let writes = sim.stats().writes;
    client
        .upsert_ip_binding(mac(1), BindingType::Bypassed, &comment(7))
        .await
        .unwrap();
    assert_eq!(
        sim.stats().writes,
        writes,
        "a binding already right is not written again"
    );

    client
        .upsert_ip_binding(mac(1), BindingType::Regular, &comment(7))
        .await
        .unwrap();
    assert_eq!(
        client.ip_bindings().await.unwrap()[0].kind,
        BindingType::Regular
    );
    assert!(!client.hosts().await.unwrap()[0].bypassed);

    let foreign = client
        .upsert_ip_binding(mac(9), BindingType::Bypassed, &comment(8))
        .await;
    assert!(
        matches!(foreign, Err(RouterError::NotOurs(_))),
        "{foreign:?}"
    );
    assert!(matches!(
        client.remove_ip_binding(mac(9)).await,
        Err(RouterError::NotOurs(_))
    ));

    assert!(client.remove_ip_binding(mac(1)).await.unwrap());
    assert!(!client.remove_ip_binding(mac(1)).await.unwrap());
    assert_eq!(
        sim.with_state(|s| s.rows(Menu::IpBinding).len()),
        1,
        "only the foreign row is left"
    );
}

#[tokio::test]
async fn status_list_holds_exactly_one_of_ours() {
    let (sim, client) = setup().await;
    let lists: Vec<String> = ["active", "fup", "habis"].map(String::from).to_vec();
    sim_exec(
        &sim,
        "/ip/firewall/address-list/add",
        &[
            ("list", "habis"),
            ("address", "10.5.0.1"),
            ("comment", "manual"),
        ],
    );
    client
        .set_status_list(ip(1), "active", &lists, &comment(1))
        .await
        .unwrap();
    client
        .set_status_list(ip(1), "fup", &lists, &comment(1))
        .await
        .unwrap();
    let ours = client.address_list().await.unwrap();
    assert_eq!(ours.len(), 1);
    assert_eq!((&*ours[0].list, ours[0].address), ("fup", ip(1)));
    let writes = sim.stats().writes;
    client
        .set_status_list(ip(1), "fup", &lists, &comment(1))
        .await
        .unwrap();
    assert_eq!(sim.stats().writes, writes, "steady state writes nothing");
    let all = sim.with_state(|s| s.rows(Menu::AddressList));
    assert_eq!(all.len(), 2, "the operator's habis entry stays");
    assert_eq!(client.remove_address(ip(1), &lists).await.unwrap(), 1);
    assert!(client.address_list().await.unwrap().is_empty());
    assert_eq!(sim.with_state(|s| s.rows(Menu::AddressList).len()), 1);
}

#[tokio::test]
async fn rows_for_a_few_devices_are_filtered_on_the_router() {
    let (sim, client) = setup().await;
    let lists: Vec<String> = ["active", "habis"].map(String::from).to_vec();
    for n in 1..=40u8 {
        host(&sim, n, 10, 20);
        let kind = BindingType::Bypassed;
        client
            .upsert_ip_binding(mac(n), kind, &comment(i64::from(n)))
            .await
            .unwrap();
        client
            .set_status_list(ip(n), "active", &lists, &comment(i64::from(n)))
            .await
            .unwrap();
    }
    // Device 3 is on 10.5.0.3; device 50 is away and remembered on 10.5.0.7 (host 7 has it).
    let rows = client
        .rows_for(&[mac(3), mac(50)], &[ip(7)], None)
        .await
        .unwrap();
    let mut host_macs: Vec<Mac> = rows.hosts.iter().map(|h| h.mac).collect();
    host_macs.sort();
    assert_eq!(
        host_macs,
        [mac(3), mac(7)],
        "by MAC, and whoever is on the IP"
    );
    assert_eq!(
        rows.bindings.iter().map(|b| b.mac).collect::<Vec<_>>(),
        [mac(3)]
    );
    let mut entry_ips: Vec<Ipv4Addr> = rows.entries.iter().map(|e| e.address).collect();
    entry_ips.sort();
    assert_eq!(
        entry_ips,
        [ip(3), ip(7)],
        "the asked IPs and the hosts' IPs"
    );
    assert!(rows.users.is_empty());

    let spec = HotspotUserSpec {
        name: "0811".into(),
        password: "pw".into(),
        profile: "default".into(),
        limit_bytes_total: None,
        limit_uptime_secs: None,
        comment: comment(3),
    };
    client.upsert_hotspot_user(&spec).await.unwrap();
    let rows = client.rows_for(&[], &[], Some("0811")).await.unwrap();
    assert!(rows.hosts.is_empty() && rows.bindings.is_empty() && rows.entries.is_empty());
    assert_eq!(rows.users.len(), 1);
    assert_eq!(rows.users[0].name, "0811");
}

#[tokio::test]
async fn hotspot_users_and_profiles() {
    let (sim, client) = setup().await;
    sim_exec(
        &sim,
        "/ip/hotspot/user/profile/add",
        &[("name", "paket-10gb")],
    );
    let mut profiles = client.hotspot_profiles().await.unwrap();
    profiles.sort();
    assert_eq!(profiles, ["default", "paket-10gb"]);
    let spec = HotspotUserSpec {
        name: "081234567890".into(),
        password: "pw".into(),
        profile: "paket-10gb".into(),
        limit_bytes_total: Some(10_000_000_000),
        limit_uptime_secs: Some(90_000),
        comment: comment(3),
    };
    client.upsert_hotspot_user(&spec).await.unwrap();
    let row = sim.with_state(|s| s.rows(Menu::User)).remove(0);
    assert_eq!(row.get("limit-bytes-total"), Some("10000000000"));
    assert_eq!(row.get("limit-uptime"), Some("1d1h"));
    assert_eq!(row.get("profile"), Some("paket-10gb"));
    client
        .upsert_hotspot_user(&HotspotUserSpec {
            password: "new".into(),
            ..spec.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        sim.with_state(|s| s.rows(Menu::User)).len(),
        1,
        "upsert updates in place"
    );
    client
        .set_hotspot_user_profile(&spec.name, "default")
        .await
        .unwrap();
    let row = sim.with_state(|s| s.rows(Menu::User)).remove(0);
    assert_eq!(
        (row.get("profile"), row.get("password")),
        (Some("default"), Some("new"))
    );
    let bad = client
        .upsert_hotspot_user(&HotspotUserSpec {
            profile: "nope".into(),
            ..spec
        })
        .await;
    assert!(
        matches!(
            bad,
            Err(RouterError::Trap {
                category: Some(1),
                ..
            })
        ),
        "{bad:?}"
    );
    sim_exec(
        &sim,
        "/ip/hotspot/user/add",
        &[("name", "operator"), ("comment", "hand made")],
    );
    assert!(matches!(
        client.set_hotspot_user_profile("operator", "default").await,
        Err(RouterError::NotOurs(_))
    ));
}

#[tokio::test]
async fn active_login_logout_and_host_removal() {
    let (sim, client) = setup().await;
    host(&sim, 1, 0, 0);
    let spec = HotspotUserSpec {
        name: "u1".into(),
        password: "pw".into(),
        profile: "default".into(),
        limit_bytes_total: None,
        limit_uptime_secs: None,
        comment: comment(1),
    };
    client.upsert_hotspot_user(&spec).await.unwrap();
    let wrong = client.active_login("u1", "bad", ip(1), Some(mac(1))).await;
    assert!(matches!(wrong, Err(RouterError::Trap { .. })), "{wrong:?}");
    let no_host = client.active_login("u1", "pw", ip(77), None).await;
    assert!(
        matches!(no_host, Err(RouterError::Trap { .. })),
        "{no_host:?}"
    );
    client
        .active_login("u1", "pw", ip(1), Some(mac(1)))
        .await
        .unwrap();
    assert!(client.hosts().await.unwrap()[0].authorized);
    assert_eq!(sim.with_state(|s| s.rows(Menu::Active)).len(), 1);
    assert_eq!(client.remove_active_by_mac(mac(1)).await.unwrap(), 1);
    assert!(!client.hosts().await.unwrap()[0].authorized);
    assert_eq!(client.remove_active_by_mac(mac(1)).await.unwrap(), 0);
    assert_eq!(client.remove_hosts_by_mac(mac(1)).await.unwrap(), 1);
    assert!(client.hosts().await.unwrap().is_empty());
}

#[tokio::test]
async fn lease_becomes_static_once() {
    let (sim, client) = setup().await;
    host(&sim, 1, 0, 0);
    assert!(client.make_lease_static(mac(1)).await.unwrap());
    assert_eq!(
        sim.with_state(|s| s.rows(Menu::Lease))[0].get("dynamic"),
        Some("false")
    );
    assert!(
        !client.make_lease_static(mac(1)).await.unwrap(),
        "already static"
    );
    assert!(!client.make_lease_static(mac(2)).await.unwrap(), "no lease");
}

#[tokio::test]
async fn apply_pipelines_writes_and_reports_each() {
    let (sim, client) = setup().await;
    host(&sim, 1, 0, 0);
    client
        .upsert_ip_binding(mac(2), BindingType::Regular, &comment(2))
        .await
        .unwrap();
    sim_exec(
        &sim,
        "/ip/hotspot/ip-binding/add",
        &[("mac-address", &mac(3).to_string())],
    );
    sim_exec(
        &sim,
        "/ip/hotspot/user/add",
        &[("name", "u5"), ("comment", &comment(5).render())],
    );
    let bindings = sim.with_state(|s| s.rows(Menu::IpBinding));
    let ours_id = bindings[0].get(".id").unwrap().to_owned();
    let foreign_id = bindings[1].get(".id").unwrap().to_owned();
    sim.reset_stats();
    let results = client
        .apply(vec![
            RouterWrite::UpsertBinding {
                mac: mac(1),
                kind: BindingType::Bypassed,
                comment: comment(1),
            },
            RouterWrite::RemoveBinding { id: ours_id },
            RouterWrite::RemoveBinding { id: foreign_id },
            RouterWrite::AddAddress {
                list: "active".into(),
                address: ip(1),
                comment: comment(1),
            },
            RouterWrite::SetUserProfile {
                name: "u5".into(),
                profile: "default".into(),
            },
            RouterWrite::SetUserProfile {
                name: "ghost".into(),
                profile: "default".into(),
            },
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 6);
    assert!(
        results[0].is_ok() && results[1].is_ok() && results[3].is_ok(),
        "{results:?}"
    );
    assert!(matches!(results[2], Err(RouterError::NotOurs(_))));
    assert!(results[4].is_ok(), "profile already default: nothing to do");
    assert!(matches!(results[5], Err(RouterError::Trap { .. })));
    assert_eq!(
        sim.stats().writes,
        3,
        "add binding, remove binding, add address"
    );
    assert!(client.hosts().await.unwrap()[0].bypassed);
}

#[tokio::test]
async fn traps_of_every_category_are_classified() {
    let (sim, client) = setup().await;
    for category in 0..=7u8 {
        sim.set_fault(Faults {
            trap_next: Some((Some(category), format!("boom {category}"))),
            ..Faults::default()
        });
        match client.hosts().await {
            Err(RouterError::Trap {
                category: c,
                message,
            }) => {
                assert_eq!(c, Some(category));
                assert_eq!(message, format!("boom {category}"));
            }
            other => panic!("category {category}: {other:?}"),
        }
    }
    sim.set_fault(Faults {
        trap_next: Some((None, "no category".into())),
        ..Faults::default()
    });
    assert_eq!(
        client.hosts().await,
        Err(RouterError::Trap {
            category: None,
            message: "no category".into()
        })
    );
    assert_eq!(
        client.hosts().await,
        Ok(vec![]),
        "traps do not hurt the connection"
    );
    assert_eq!(
        client.health(),
        RouterHealth::Connected,
        "traps do not trip the breaker"
    );
}

#[tokio::test]
async fn empty_replies_with_and_without_trailing_done() {
    let (sim, client) = setup().await;
    for empty in [true, false] {
        sim.with_state(|s| s.empty_replies = empty);
        for _ in 0..3 {
            assert!(client.address_list().await.unwrap().is_empty());
            assert!(client.ip_bindings().await.unwrap().is_empty());
        }
        assert_eq!(client.hotspot_profiles().await.unwrap(), ["default"]);
    }
}

#[tokio::test]
async fn tag_after_attributes_is_understood() {
    let (sim, client) = setup().await;
    host(&sim, 1, 10, 20);
    sim.with_state(|s| s.tag_last = true);
    let hosts = client.hosts().await.unwrap();
    assert_eq!((hosts[0].mac, hosts[0].bytes_out), (mac(1), 20));
    assert!(
        client.address_list().await.unwrap().is_empty(),
        "!empty with the tag last"
    );
    sim.set_fault(Faults {
        trap_next: Some((Some(4), "late tag".into())),
        ..Faults::default()
    });
    assert_eq!(
        client.hosts().await,
        Err(RouterError::Trap {
            category: Some(4),
            message: "late tag".into()
        })
    );
    // mikrotik-rs reads `!done` as "reply word, then .tag": with `=ret=` before the tag the
    // sentence is a protocol error. RouterOS sends the tag first; the failure is classified.
    let add = client
        .upsert_ip_binding(mac(1), BindingType::Regular, &comment(1))
        .await;
    assert!(matches!(add, Err(RouterError::Protocol(_))), "{add:?}");
    sim.with_state(|s| s.tag_last = false);
    assert_eq!(
        client.ip_bindings().await.unwrap().len(),
        1,
        "the add itself was applied"
    );
}

/// Makes the simulator stop answering (its connections stay open).
fn go_silent(sim: &SimHandle) {
    sim.set_fault(Faults {
        silent: true,
        ..Faults::default()
    });
}

// The timeouts below stay at the generous default of `settings()`: they must cover dial, login
// and a print on a loaded machine, and a router that stops answering is the silent fault, not a
// delay racing a short timeout.
#[tokio::test]
async fn slow_router_times_out_then_recovers() {
    let (sim, client) = setup().await;
    assert!(client.hosts().await.is_ok());
    go_silent(&sim);
    assert_eq!(client.hosts().await, Err(RouterError::Timeout));
    sim.set_fault(Faults::default());
    let hosts = eventually(|| async { client.hosts().await.ok() }).await;
    assert!(hosts.is_empty());
}

#[tokio::test]
async fn reconnects_after_the_connection_drops() {
    let (sim, client) = setup().await;
    host(&sim, 1, 0, 0);
    assert_eq!(client.hosts().await.unwrap().len(), 1);
    let before = sim.accepted_connections();
    sim.drop_connections();
    let hosts = eventually(|| async { client.hosts().await.ok() }).await;
    assert_eq!(hosts.len(), 1);
    assert!(
        sim.accepted_connections() > before,
        "a new connection was dialled"
    );

    // The simulator drops the connection on the next command instead of answering it.
    sim.set_fault(Faults {
        drop_after: Some(0),
        ..Faults::default()
    });
    let dropped = client.hosts().await;
    assert!(
        matches!(dropped, Err(RouterError::Unreachable(_))),
        "{dropped:?}"
    );
    let hosts = eventually(|| async { client.hosts().await.ok() }).await;
    assert_eq!(hosts.len(), 1);
    assert_eq!(client.health(), RouterHealth::Connected);
}

#[tokio::test]
async fn breaker_opens_after_failures_and_closes_after_a_good_probe() {
    let sim = Simulator::start(SimConfig::local()).await.unwrap();
    let client = RouterOsClient::start(RouterSettings {
        breaker_failures: 2,
        breaker_cooldown_ms: 400,
        ..settings(&sim)
    });
    assert!(client.hosts().await.is_ok());
    go_silent(&sim);
    assert_eq!(client.hosts().await, Err(RouterError::Timeout));
    // The supervisor's re-dial, hanging on the silent router, is the second failure.
    eventually(|| async { (client.health() == RouterHealth::CircuitOpen).then_some(()) }).await;
    let started = std::time::Instant::now();
    let open = client.hosts().await;
    assert!(
        open.as_ref().is_err_and(RouterError::is_connectivity),
        "{open:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "open: fails fast"
    );
    sim.set_fault(Faults::default());
    eventually(|| async { client.hosts().await.ok() }).await;
    assert_eq!(client.health(), RouterHealth::Connected);
}

#[tokio::test]
async fn wrong_password_is_an_authentication_error() {
    let sim = Simulator::start(SimConfig::local()).await.unwrap();
    // A breaker that cannot open within the test: the call must see the refusal itself, not
    // the breaker's summary of the supervisor's earlier attempts.
    let client = RouterOsClient::start(RouterSettings {
        password: Secret::new("wrong"),
        breaker_failures: 1_000,
        ..settings(&sim)
    });
    for _ in 0..3 {
        match client.hosts().await {
            Err(RouterError::Authentication(message)) => assert!(
                message.contains("invalid user name or password"),
                "{message}"
            ),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(client.health(), RouterHealth::Connecting);
}

#[tokio::test]
async fn unreachable_router_and_disabled_router() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    drop(listener);
    let client = RouterOsClient::start(RouterSettings {
        address,
        breaker_failures: 100,
        ..RouterSettings::default()
    });
    assert!(matches!(
        client.hosts().await,
        Err(RouterError::Unreachable(_))
    ));
    assert_eq!(client.health(), RouterHealth::Connecting);
    let disabled = RouterOsClient::start(RouterSettings::default());
    assert_eq!(disabled.health(), RouterHealth::Disabled);
    assert!(matches!(
        disabled.hosts().await,
        Err(RouterError::Unreachable(_))
    ));
}

#[tokio::test]
async fn a_large_pipelined_batch_gets_one_right_result_per_write() {
    let (sim, client) = setup().await;
    const N: u32 = 3_000;
    let mac_of = |i: u32| {
        let b = i.to_be_bytes();
        Mac([0x02, 0x5B, b[0], b[1], b[2], b[3]])
    };
    let ip_of = |i: u32| Ipv4Addr::from(0x0a50_0000 + i);
    let writes = || {
        (0..N)
            .flat_map(|i| {
                [
                    RouterWrite::UpsertBinding {
                        mac: mac_of(i),
                        kind: BindingType::Bypassed,
                        comment: comment(i64::from(i)),
                    },
                    RouterWrite::AddAddress {
                        list: "active".into(),
                        address: ip_of(i),
                        comment: comment(i64::from(i)),
                    },
                ]
            })
            .collect::<Vec<_>>()
    };
    let results = client.apply(writes()).await.unwrap();
    let failed: Vec<_> = results.iter().filter(|r| r.is_err()).collect();
    assert!(
        failed.is_empty(),
        "{} failed, first: {:?}",
        failed.len(),
        failed.first()
    );
    assert_eq!(
        sim.with_state(|s| s.rows(Menu::IpBinding).len()),
        N as usize
    );
    assert_eq!(
        sim.with_state(|s| s.rows(Menu::AddressList).len()),
        N as usize
    );
    sim.reset_stats();
    let again = client.apply(writes()).await.unwrap();
    assert!(again.iter().all(Result::is_ok));
    assert_eq!(sim.stats().writes, 0, "everything is already so");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_that_stops_answering_costs_each_call_at_most_one_timeout() {
    let sim = Simulator::start(SimConfig::local()).await.unwrap();
    let settings = RouterSettings {
        breaker_failures: 1_000,
        ..settings(&sim)
    };
    let timeout = Duration::from_millis(settings.timeout_ms);
    let client = RouterOsClient::start(settings);
    assert!(client.hosts().await.is_ok());
    let dialled = sim.accepted_connections();
    go_silent(&sim);
    assert_eq!(client.hosts().await, Err(RouterError::Timeout));
    // That timeout found the connection dead: later operations fail at once while the
    // supervisor re-dials, even one made of several calls (a logout's clean-up steps), and
    // even while the supervisor's dial hangs on the silent router.
    let fails_fast = || async {
        let started = std::time::Instant::now();
        for _ in 0..4 {
            let result = client.hosts().await;
            assert!(
                result.as_ref().is_err_and(RouterError::is_connectivity),
                "{result:?}"
            );
        }
        started.elapsed()
    };
    let waited = fails_fast().await;
    assert!(
        waited < timeout / 2,
        "waited {waited:?} with a {timeout:?} timeout"
    );
    eventually(|| async { (sim.accepted_connections() > dialled).then_some(()) }).await;
    let waited = fails_fast().await;
    assert!(
        waited < timeout / 2,
        "waited {waited:?} with a {timeout:?} timeout"
    );
    assert_ne!(client.health(), RouterHealth::Connected);
    sim.set_fault(Faults::default());
    eventually(|| async { client.hosts().await.ok() }).await;
}

/// The status profiles of the default settings that a fresh router lacks, sorted.
fn status_profiles() -> Vec<String> {
    [
        "default",
        "expired",
        "fup",
        "habis",
        "inactive",
        "unlimited",
    ]
    .map(String::from)
    .to_vec()
}

fn profile_row(sim: &SimHandle, name: &str) -> Option<lpsaring_routeros_sim::Row> {
    sim.with_state(|s| s.rows(Menu::UserProfile))
        .into_iter()
        .find(|r| r.get("name") == Some(name))
}

#[tokio::test]
async fn missing_status_profiles_are_created_at_start_and_after_a_reconnect() {
    let sim = Simulator::start(SimConfig::local()).await.unwrap();
    sim_exec(
        &sim,
        "/ip/hotspot/user/profile/add",
        &[
            ("name", "fup"),
            ("rate-limit", "1M/1M"),
            ("comment", "by hand"),
        ],
    );
    let operators_fup = profile_row(&sim, "fup").unwrap();
    let client = RouterOsClient::start(settings(&sim));
    client.require_profiles(status_profiles(), true);
    let check = eventually(|| async {
        let check = client.profile_check();
        check.checked.then_some(check)
    })
    .await;
    assert_eq!(check.created, ["expired", "habis", "inactive", "unlimited"]);
    assert!(check.missing.is_empty(), "{check:?}");
    let habis = profile_row(&sim, "habis").unwrap();
    assert!(
        habis.get("comment").unwrap().starts_with("lpsaring|"),
        "{habis:?}"
    );
    assert_eq!(
        profile_row(&sim, "fup").unwrap(),
        operators_fup,
        "an existing profile is never touched"
    );

    // A reset router loses them; the next connection puts them back.
    let id = habis.get(".id").unwrap().to_owned();
    sim_exec(&sim, "/ip/hotspot/user/profile/remove", &[(".id", &id)]);
    sim.drop_connections();
    eventually(|| async { client.hosts().await.ok() }).await;
    eventually(|| async { profile_row(&sim, "habis") }).await;
    assert_eq!(client.profile_check().created, ["habis"]);
}

#[tokio::test]
async fn missing_profiles_are_reported_not_created_when_management_is_off() {
    let (sim, client) = setup().await;
    sim_exec(&sim, "/ip/hotspot/user/profile/add", &[("name", "fup")]);
    client.require_profiles(vec!["default".into(), "fup".into(), "habis".into()], false);
    let check = eventually(|| async {
        let check = client.profile_check();
        check.checked.then_some(check)
    })
    .await;
    assert_eq!(check.missing, ["habis"]);
    assert!(check.created.is_empty());
    assert!(profile_row(&sim, "habis").is_none(), "nothing was created");
    assert_eq!(sim.stats().writes, 0);
}
