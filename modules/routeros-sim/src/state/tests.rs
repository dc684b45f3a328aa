use super::*;
use crate::codec::{ReplyKind, Request, SentenceReader, parse_reply};

fn add_host(s: &mut SimState, mac: &str, address: &str) {
    s.add_host(&NewHost {
        mac: mac.into(),
        address: address.into(),
        ..NewHost::default()
    })
    .unwrap();
}

fn run(state: &mut SimState, command: &str, attrs: &[(&str, &str)]) -> Vec<crate::codec::Reply> {
    let request = Request {
        command: command.into(),
        tag: Some("1".into()),
        attributes: attrs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
        queries: vec![],
    };
    let outcome = state.execute(&request);
    let mut reader = SentenceReader::new();
    reader.push(&outcome.bytes);
    let mut out = vec![];
    while let Some(words) = reader.next_sentence().unwrap() {
        out.push(parse_reply(&words).unwrap());
    }
    out
}

#[test]
fn macs_normalise_like_routeros_prints_them() {
    assert_eq!(
        normalise_mac("aa-bb-cc-dd-ee-0f").as_deref(),
        Some("AA:BB:CC:DD:EE:0F")
    );
    assert_eq!(
        normalise_mac("aabbccddee0f").as_deref(),
        Some("AA:BB:CC:DD:EE:0F")
    );
    assert_eq!(normalise_mac("aa:bb:cc:dd:ee"), None);
    assert_eq!(normalise_mac("aa:bb:cc:dd:ee:gg"), None);
}

#[test]
fn durations_round_trip() {
    assert_eq!(format_duration(0), "0s");
    assert_eq!(format_duration(694_861), "1w1d1h1m1s");
    assert_eq!(parse_duration("1w1d1h1m1s"), Some(694_861));
    assert_eq!(parse_duration("90"), Some(90));
    assert_eq!(parse_duration("5x"), None);
    assert_eq!(parse_duration("5m3"), None);
}

#[test]
fn ids_increase_and_are_never_reused() {
    let mut s = SimState::default();
    let a = run(&mut s, "/ip/arp/add", &[("address", "10.0.0.1")]);
    assert_eq!(a[0].attribute("ret"), Some("*1"));
    run(&mut s, "/ip/arp/remove", &[(".id", "*1")]);
    let b = run(&mut s, "/ip/arp/add", &[("address", "10.0.0.1")]);
    assert_eq!(b[0].attribute("ret"), Some("*2"));
    for _ in 0..14 {
        run(&mut s, "/ip/arp/add", &[("address", "10.0.0.2")]);
    }
    let c = run(&mut s, "/ip/arp/add", &[("address", "10.0.0.3")]);
    assert_eq!(c[0].attribute("ret"), Some("*11"), "upper-case hex");
}

#[test]
fn bypassed_binding_marks_its_host_and_duplicates_trap() {
    let mut s = SimState::default();
    add_host(&mut s, "aa:bb:cc:00:00:01", "10.0.0.5");
    let r = run(
        &mut s,
        "/ip/hotspot/ip-binding/add",
        &[("mac-address", "AA:BB:CC:00:00:01"), ("type", "bypassed")],
    );
    assert_eq!(r[0].kind, ReplyKind::Done);
    assert_eq!(s.rows(Menu::Host)[0].get("bypassed"), Some("true"));
    let dup = run(
        &mut s,
        "/ip/hotspot/ip-binding/add",
        &[("mac-address", "aa:bb:cc:00:00:01")],
    );
    assert_eq!(dup[0].kind, ReplyKind::Trap);
    assert_eq!(dup[1].kind, ReplyKind::Done, "a trap is followed by !done");
    let id = r[0].attribute("ret").unwrap().to_owned();
    run(
        &mut s,
        "/ip/hotspot/ip-binding/set",
        &[(".id", &id), ("type", "regular")],
    );
    assert_eq!(s.rows(Menu::Host)[0].get("bypassed"), Some("false"));
}

#[test]
fn lookups_follow_a_binding_moved_to_another_mac_and_forget_removed_rows() {
    let mut s = SimState::default();
    for (mac, ip) in [
        ("aa:bb:cc:00:00:01", "10.0.0.5"),
        ("aa:bb:cc:00:00:02", "10.0.0.6"),
    ] {
        add_host(&mut s, mac, ip);
    }
    let r = run(
        &mut s,
        "/ip/hotspot/ip-binding/add",
        &[("mac-address", "AA:BB:CC:00:00:01"), ("type", "bypassed")],
    );
    let id = r[0].attribute("ret").unwrap().to_owned();
    run(
        &mut s,
        "/ip/hotspot/ip-binding/set",
        &[(".id", &id), ("mac-address", "AA:BB:CC:00:00:02")],
    );
    let bypassed = |s: &SimState| -> Vec<String> {
        s.rows(Menu::Host)
            .iter()
            .map(|r| r.get("bypassed").unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        bypassed(&s),
        ["false", "true"],
        "the bypass moved with the MAC"
    );
    // The old MAC is free again, the new one taken.
    let old = run(
        &mut s,
        "/ip/hotspot/ip-binding/add",
        &[("mac-address", "aa:bb:cc:00:00:01")],
    );
    assert_eq!(old[0].kind, ReplyKind::Done);
    let new = run(
        &mut s,
        "/ip/hotspot/ip-binding/add",
        &[("mac-address", "aa:bb:cc:00:00:02")],
    );
    assert_eq!(new[0].kind, ReplyKind::Trap);
    run(&mut s, "/ip/hotspot/ip-binding/remove", &[(".id", &id)]);
    assert_eq!(bypassed(&s), ["false", "false"]);
    let again = run(
        &mut s,
        "/ip/hotspot/ip-binding/add",
        &[("mac-address", "aa:bb:cc:00:00:02")],
    );
    assert_eq!(
        again[0].kind,
        ReplyKind::Done,
        "a removed row is not a duplicate"
    );
    // Address-list duplicates are per (list, address).
    let add = |s: &mut SimState, list: &str| {
        run(
            s,
            "/ip/firewall/address-list/add",
            &[("list", list), ("address", "10.0.0.5")],
        )[0]
        .kind
    };
    assert_eq!(add(&mut s, "active"), ReplyKind::Done);
    assert_eq!(add(&mut s, "habis"), ReplyKind::Done);
    assert_eq!(add(&mut s, "active"), ReplyKind::Trap);
}

#[test]
fn empty_print_answers_empty_then_done() {
    let mut s = SimState::default();
    let r = run(&mut s, "/ip/arp/print", &[]);
    assert_eq!(
        r.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [ReplyKind::Empty, ReplyKind::Done]
    );
    s.empty_replies = false;
    let r = run(&mut s, "/ip/arp/print", &[]);
    assert_eq!(
        r.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [ReplyKind::Done]
    );
}
