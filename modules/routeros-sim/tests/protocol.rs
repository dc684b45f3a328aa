//! The simulator over real TCP with a raw protocol client built on the crate's codec: login
//! rules, queries, `=ret=`, `/cancel`, `/quit`, split writes and a 50k-host print.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use lpsaring_routeros_sim::codec::{
    Reply, ReplyKind, SentenceReader, encode_sentence, parse_reply,
};
use lpsaring_routeros_sim::{Faults, SimConfig, SimHandle, Simulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Raw {
    stream: TcpStream,
    reader: SentenceReader,
}

impl Raw {
    async fn connect(sim: &SimHandle) -> Self {
        Self {
            stream: TcpStream::connect(sim.addr()).await.unwrap(),
            reader: SentenceReader::new(),
        }
    }

    async fn login(sim: &SimHandle) -> Self {
        let mut raw = Self::connect(sim).await;
        let r = raw
            .call(&["/login", "=name=admin", "=password=secret"])
            .await;
        assert_eq!(r.last().unwrap().kind, ReplyKind::Done);
        raw
    }

    async fn send(&mut self, words: &[&str]) {
        let mut wire = Vec::new();
        encode_sentence(words, &mut wire);
        self.stream.write_all(&wire).await.unwrap();
    }

    /// Reads one reply sentence (bounded wait); `None` when the router closed the connection.
    async fn read(&mut self) -> Option<Reply> {
        let mut buf = [0u8; 8192];
        loop {
            if let Some(words) = self.reader.next_sentence().unwrap() {
                return Some(parse_reply(&words).unwrap());
            }
            let n = tokio::time::timeout(Duration::from_secs(10), self.stream.read(&mut buf))
                .await
                .expect("reply within the bounded wait")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.reader.push(&buf[..n]);
        }
    }

    /// Sends an untagged command and reads up to its terminal `!done` (or `!fatal`).
    async fn call(&mut self, words: &[&str]) -> Vec<Reply> {
        self.send(words).await;
        let mut out = Vec::new();
        while let Some(reply) = self.read().await {
            let kind = reply.kind;
            out.push(reply);
            if matches!(kind, ReplyKind::Done | ReplyKind::Fatal) {
                break;
            }
        }
        out
    }
}

async fn sim() -> SimHandle {
    Simulator::start(SimConfig::local()).await.unwrap()
}

#[tokio::test]
async fn commands_before_login_are_fatal_and_close_the_connection() {
    let sim = sim().await;
    let mut raw = Raw::connect(&sim).await;
    let r = raw.call(&["/ip/hotspot/host/print"]).await;
    assert_eq!(r[0].kind, ReplyKind::Fatal);
    assert_eq!(r[0].fatal_reason.as_deref(), Some("not logged in"));
    assert!(raw.read().await.is_none(), "socket closed");
}

#[tokio::test]
async fn wrong_password_traps_then_done_and_a_retry_works() {
    let sim = sim().await;
    let mut raw = Raw::connect(&sim).await;
    let r = raw
        .call(&["/login", "=name=admin", "=password=nope", ".tag=1"])
        .await;
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0].kind, r[0].tag.as_deref()),
        (ReplyKind::Trap, Some("1"))
    );
    assert_eq!(
        r[0].attribute("message"),
        Some("invalid user name or password (6)")
    );
    assert_eq!(r[1].kind, ReplyKind::Done);
    let r = raw
        .call(&["/login", "=name=admin", "=password=secret"])
        .await;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].kind, ReplyKind::Done);
}

#[tokio::test]
async fn add_returns_ret_and_queries_filter_with_stack_operations() {
    let sim = sim().await;
    let mut raw = Raw::login(&sim).await;
    let mut ids = Vec::new();
    for (mac, kind) in [
        ("AA:00:00:00:00:01", "bypassed"),
        ("AA:00:00:00:00:02", "blocked"),
        ("AA:00:00:00:00:03", "regular"),
    ] {
        let r = raw
            .call(&[
                "/ip/hotspot/ip-binding/add",
                &format!("=mac-address={mac}"),
                &format!("=type={kind}"),
                ".tag=5",
            ])
            .await;
        assert_eq!(
            (r[0].kind, r[0].tag.as_deref()),
            (ReplyKind::Done, Some("5"))
        );
        ids.push(r[0].attribute("ret").unwrap().to_owned());
    }
    assert_eq!(ids, ["*1", "*2", "*3"]);
    // bypassed OR blocked
    let r = raw
        .call(&[
            "/ip/hotspot/ip-binding/print",
            "?type=bypassed",
            "?type=blocked",
            "?#|",
            "=.proplist=.id,type",
        ])
        .await;
    let rows: Vec<_> = r.iter().filter(|r| r.kind == ReplyKind::Re).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0].attributes,
        vec![
            (".id".to_owned(), "*1".to_owned()),
            ("type".to_owned(), "bypassed".to_owned())
        ]
    );
    // NOT regular, counted
    let r = raw
        .call(&[
            "/ip/hotspot/ip-binding/print",
            "?type=regular",
            "?#!",
            "=count-only=",
        ])
        .await;
    assert_eq!(r[0].attribute("ret"), Some("2"));
    // nothing matches → !empty then !done
    let r = raw
        .call(&["/ip/hotspot/ip-binding/print", "?type=none"])
        .await;
    assert_eq!(
        r.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [ReplyKind::Empty, ReplyKind::Done]
    );
    // unknown menu and unknown parameter trap, then !done
    let r = raw.call(&["/ip/nothing/print"]).await;
    assert_eq!(
        (r[0].kind, r[0].attribute("category")),
        (ReplyKind::Trap, Some("0"))
    );
    let r = raw
        .call(&["/ip/hotspot/ip-binding/add", "=colour=red"])
        .await;
    assert_eq!(r[0].attribute("message"), Some("unknown parameter colour"));
    assert_eq!(r[1].kind, ReplyKind::Done);
}

#[tokio::test]
async fn split_writes_byte_by_byte_are_reassembled() {
    let sim = sim().await;
    let mut raw = Raw::login(&sim).await;
    let mut wire = Vec::new();
    let long_comment = format!("=comment=lpsaring|uid=1|{}", "x".repeat(300));
    encode_sentence(
        &[
            "/ip/arp/add",
            "=address=10.0.0.1",
            long_comment.as_str(),
            ".tag=77",
        ],
        &mut wire,
    );
    for byte in wire {
        raw.stream.write_all(&[byte]).await.unwrap();
        raw.stream.flush().await.unwrap();
    }
    let r = raw.read().await.unwrap();
    assert_eq!(
        (r.kind, r.tag.as_deref(), r.attribute("ret")),
        (ReplyKind::Done, Some("77"), Some("*1"))
    );
    let r = raw.call(&["/ip/arp/print"]).await;
    assert_eq!(
        r[0].attribute("comment").unwrap().len(),
        long_comment.len() - "=comment=".len()
    );
}

#[tokio::test]
async fn cancel_interrupts_a_delayed_command_and_quit_ends_the_session() {
    let sim = sim().await;
    let mut raw = Raw::login(&sim).await;
    sim.set_fault(Faults {
        delay_ms: 5_000,
        ..Faults::default()
    });
    raw.send(&["/ip/hotspot/host/print", ".tag=10"]).await;
    raw.send(&["/cancel", "=tag=10", ".tag=20"]).await;
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let r = raw.read().await.unwrap();
        seen.push((
            r.kind,
            r.tag.clone().unwrap_or_default(),
            r.attribute("category").map(str::to_owned),
        ));
    }
    assert!(
        seen.contains(&(ReplyKind::Trap, "10".into(), Some("2".into()))),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(ReplyKind::Done, "10".into(), None)),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(ReplyKind::Done, "20".into(), None)),
        "{seen:?}"
    );
    sim.set_fault(Faults::default());
    let r = raw.call(&["/quit"]).await;
    assert_eq!(
        r[0].fatal_reason.as_deref(),
        Some("session terminated on request")
    );
    assert!(raw.read().await.is_none());
}

#[tokio::test]
async fn sim_control_commands_drive_hosts_and_count_writes() {
    let sim = sim().await;
    let mut raw = Raw::login(&sim).await;
    let r = raw
        .call(&[
            "/sim/host/add",
            "=mac-address=aa:bb:cc:dd:ee:01",
            "=address=10.1.1.1",
            "=bytes-in=5",
            "=uptime=1m",
        ])
        .await;
    let first_id = r[0].attribute("ret").unwrap().to_owned();
    raw.call(&[
        "/sim/host/traffic",
        "=mac-address=AA:BB:CC:DD:EE:01",
        "=bytes-in=10",
        "=bytes-out=7",
    ])
    .await;
    let r = raw
        .call(&[
            "/ip/hotspot/host/print",
            "=.proplist=.id,bytes-in,bytes-out,uptime",
        ])
        .await;
    assert_eq!(r[0].attribute("bytes-in"), Some("15"));
    assert_eq!(r[0].attribute("bytes-out"), Some("7"));
    assert_eq!(r[0].attribute("uptime"), Some("1m"));
    let r = raw
        .call(&["/sim/host/recreate", "=mac-address=AA:BB:CC:DD:EE:01"])
        .await;
    let new_id = r[0].attribute("ret").unwrap().to_owned();
    assert_ne!(new_id, first_id);
    let r = raw.call(&["/ip/hotspot/host/print"]).await;
    assert_eq!(
        (r[0].attribute(".id"), r[0].attribute("bytes-in")),
        (Some(new_id.as_str()), Some("0"))
    );
    raw.call(&[
        "/ip/firewall/address-list/add",
        "=list=a",
        "=address=10.1.1.1",
        "=timeout=1h",
    ])
    .await;
    raw.call(&["/sim/reboot"]).await;
    let r = raw.call(&["/ip/firewall/address-list/print"]).await;
    assert_eq!(
        r[0].kind,
        ReplyKind::Empty,
        "dynamic entries do not survive a reboot"
    );
    let r = raw.call(&["/sim/stats/print"]).await;
    assert_eq!(
        r[0].attribute("writes"),
        Some("1"),
        "one address-list add; /sim commands are not writes"
    );
    assert!(
        r.iter()
            .any(|r| r.attribute("path") == Some("/ip/hotspot/host/print")
                && r.attribute("count") == Some("2"))
    );
    let r = raw
        .call(&["/sim/fault", "=trap-category=3", "=trap-message=scripted"])
        .await;
    assert_eq!(r[0].kind, ReplyKind::Done);
    let r = raw.call(&["/ip/arp/print"]).await;
    assert_eq!(
        (r[0].kind, r[0].attribute("category")),
        (ReplyKind::Trap, Some("3"))
    );
}

#[tokio::test]
async fn fifty_thousand_hosts_print_completely() {
    let sim = Simulator::start(SimConfig {
        hosts: 50_000,
        ..SimConfig::local()
    })
    .await
    .unwrap();
    let mut raw = Raw::login(&sim).await;
    raw.send(&[
        "/ip/hotspot/host/print",
        "=.proplist=.id,mac-address,address,bytes-in,bytes-out,uptime",
        ".tag=1",
    ])
    .await;
    let mut rows = 0;
    let mut ids = std::collections::HashSet::new();
    loop {
        let r = raw.read().await.unwrap();
        match r.kind {
            ReplyKind::Re => {
                rows += 1;
                ids.insert(r.attribute(".id").unwrap().to_owned());
            }
            ReplyKind::Done => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(rows, 50_000);
    assert_eq!(ids.len(), 50_000, "ids are unique");
}

#[tokio::test]
async fn a_silent_router_answers_nothing_but_sim_commands() {
    let sim = sim().await;
    let mut raw = Raw::login(&sim).await;
    sim.set_fault(Faults {
        silent: true,
        ..Faults::default()
    });
    raw.send(&["/ip/hotspot/host/print", ".tag=1"]).await;
    let mut fresh = Raw::connect(&sim).await;
    fresh
        .send(&["/login", "=name=admin", "=password=secret"])
        .await;
    let quiet = Duration::from_millis(300);
    assert!(
        tokio::time::timeout(quiet, raw.read()).await.is_err(),
        "a command gets no answer"
    );
    assert!(
        tokio::time::timeout(quiet, fresh.read()).await.is_err(),
        "nor does a login"
    );
    // `/sim/fault` without arguments clears every fault; the skipped print stays unanswered.
    let cleared = raw.call(&["/sim/fault"]).await;
    assert_eq!(cleared.last().unwrap().kind, ReplyKind::Done);
    let print = raw.call(&["/ip/hotspot/host/print", ".tag=2"]).await;
    assert!(
        print.iter().all(|r| r.tag.as_deref() == Some("2")),
        "{print:?}"
    );
}
