//! `lpsaring import-lpsaring` through the real binary: a hand-written database of the original
//! (`fixtures/lpsaring_original.sql`, loaded into a fresh Postgres database) imported into a
//! fresh SQLite and a fresh Postgres database. Postgres only: the original's schema is
//! Postgres's (UUID, NUMERIC, timestamptz).

use std::process::Output;

use chrono::{DateTime, TimeZone, Utc};
use lpsaring::import::{self, Kind, Options};
use lpsaring_kernel::testing::{TestDatabase, postgres_only};
use lpsaring_kernel::{Phone, SystemClock};
use lpsaring_tests::{count_rows, lpsaring_command, stderr, stdout, succeeded};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement, TryGetableMany};
use tempfile::TempDir;

const FIXTURE: &str = include_str!("fixtures/lpsaring_original.sql");
const TABLES: [&str; 7] = [
    "users",
    "devices",
    "packages",
    "quota_accounts",
    "quota_ledger",
    "transactions",
    "transaction_events",
];

/// The original's database, loaded from the fixture.
async fn original() -> TestDatabase {
    let db = TestDatabase::fresh().await;
    assert_eq!(db.backend(), "postgres");
    let conn = db.connect().await;
    conn.execute_unprepared(FIXTURE)
        .await
        .expect("load the fixture");
    let _ = conn.close().await;
    db
}

/// A fresh database of ours: a SQLite file in `dir`, or Postgres.
struct Target {
    dir: TempDir,
    url: String,
    _postgres: Option<TestDatabase>,
}

async fn target(postgres: bool) -> Target {
    let dir = tempfile::tempdir().expect("temp dir");
    if postgres {
        let db = TestDatabase::fresh().await;
        Target {
            url: db.url().to_owned(),
            dir,
            _postgres: Some(db),
        }
    } else {
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("lpsaring.db").display()
        );
        Target {
            dir,
            url,
            _postgres: None,
        }
    }
}

impl Target {
    /// `lpsaring <args>` on this database, off the runtime's thread.
    async fn cli(&self, args: &[&str]) -> Output {
        let mut cmd = lpsaring_command(self.dir.path());
        cmd.args(args)
            .env("LPSARING_DATA_DIR", self.dir.path())
            .env("LPSARING_DATABASE__URL", &self.url)
            .env("LPSARING_LOG__LEVEL", "warn");
        tokio::task::spawn_blocking(move || cmd.output().expect("run lpsaring"))
            .await
            .expect("the CLI ran")
    }

    async fn connect(&self) -> DatabaseConnection {
        Database::connect(&self.url).await.expect("connect")
    }
}

/// The report's row for `kind`: read, imported, already here, skipped.
#[track_caller]
fn counts(stdout: &str, kind: &str) -> Vec<usize> {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind} row in\n{stdout}"));
    line.split_whitespace()
        .skip(1)
        .map(|n| n.parse().expect("a count"))
        .collect()
}

async fn rows<T: TryGetableMany>(db: &DatabaseConnection, sql: &str, cols: &[&str]) -> Vec<T> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| T::try_get_many_by_index(r).unwrap_or_else(|e| panic!("{cols:?}: {e:?}")))
        .collect()
}

async fn table_counts(db: &DatabaseConnection) -> Vec<i64> {
    let mut out = Vec::new();
    for table in TABLES {
        out.push(count_rows(db, table).await);
    }
    out
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
}

const MIB: i64 = 1024 * 1024;

type Time = Option<DateTime<Utc>>;
/// phone, purchased, used, unlimited, expires, profile.
type Account = (String, i64, i64, bool, Time, Option<String>);
/// name, price, quota, unlimited, hours, profile, on sale.
type PackageRow = (String, i64, i64, bool, i32, Option<String>, bool);
/// order id, status, amount, paid, applied, next check, provider, VA bank.
type Order = (
    String,
    String,
    i64,
    Time,
    Time,
    Time,
    Option<String>,
    Option<String>,
);

/// What the fixture becomes, on either backend.
async fn assert_imported(db: &DatabaseConnection) {
    let users: Vec<(String, String, String, String, Option<String>)> = rows(
        db,
        "SELECT phone_number, full_name, role, approval_status, blocked_reason FROM users ORDER BY phone_number",
        &["phone", "name", "role", "approval", "reason"],
    )
    .await;
    let expected = [
        ("+6281234500001", "Budi Santoso", "USER", "APPROVED", None),
        ("+6281234500002", "Siti Admin", "ADMIN", "APPROVED", None),
        ("+6281234500003", "Joko Komandan", "USER", "APPROVED", None),
        (
            "+6281234500004",
            "Wayan Diblokir",
            "USER",
            "APPROVED",
            Some("quota_debt_limit|debt_mb=600.25"),
        ),
        (
            "+6281234500005",
            "Putu Menunggu",
            "USER",
            "PENDING_APPROVAL",
            None,
        ),
        ("+6281234500008", "Rina Ditolak", "USER", "REJECTED", None),
    ];
    let got: Vec<_> = users
        .iter()
        .map(|(p, n, r, a, b)| (p.as_str(), n.as_str(), r.as_str(), a.as_str(), b.as_deref()))
        .collect();
    assert_eq!(got, expected);
    for (phone, active, blocked) in [
        ("+6281234500001", true, false),
        ("+6281234500004", true, true),
        ("+6281234500005", false, false),
    ] {
        let facts = lpsaring_auth::import::find_in(db, &Phone::parse(phone).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((facts.active, facts.blocked), (active, blocked), "{phone}");
    }

    let accounts: Vec<Account> = rows(
        db,
        "SELECT u.phone_number, q.purchased_bytes, q.used_bytes, q.unlimited, q.expires_at, q.profile \
         FROM quota_accounts q JOIN users u ON u.id = q.user_id ORDER BY u.phone_number",
        &["phone", "purchased", "used", "unlimited", "expires", "profile"],
    )
    .await;
    let budi = &accounts[0];
    assert_eq!(budi.0, "+6281234500001");
    // 10240 MB bought, 1234.56 MB used: exact bytes.
    assert_eq!((budi.1, budi.2), (10_240 * MIB, 1_294_529_987));
    assert_eq!(budi.4, Some(at(2027, 1, 31)));
    assert_eq!(budi.5.as_deref(), Some("paket-reguler"));
    let joko = &accounts[2];
    assert!(joko.3, "the komandan's account is unlimited");
    assert_eq!(joko.2, 20_480 * MIB);
    assert_eq!(joko.5.as_deref(), Some("paket-unlimited"));
    let wayan = &accounts[3];
    assert_eq!((wayan.1, wayan.2), (5_120 * MIB, 5_998_116_864));
    assert_eq!(accounts.len(), 6);
    let ledger: Vec<(String,)> = rows(db, "SELECT source FROM quota_ledger", &["source"]).await;
    assert!(
        ledger.len() == 6 && ledger.iter().all(|(s,)| s == "import"),
        "{ledger:?}"
    );

    let devices: Vec<(String, Option<String>, bool, String)> = rows(
        db,
        "SELECT d.mac, d.label, d.is_authorized, u.phone_number FROM devices d \
         JOIN users u ON u.id = d.user_id ORDER BY d.mac",
        &["mac", "label", "authorized", "phone"],
    )
    .await;
    let devices: Vec<_> = devices
        .iter()
        .map(|(m, l, a, p)| (m.as_str(), l.as_deref(), *a, p.as_str()))
        .collect();
    assert_eq!(
        devices,
        [
            ("AA:BB:CC:00:00:01", Some("HP Budi"), true, "+6281234500001"),
            ("AA:BB:CC:00:00:02", Some("Laptop"), false, "+6281234500001"),
            ("AA:BB:CC:00:00:03", None, true, "+6281234500003"),
        ]
    );

    let packages: Vec<PackageRow> = rows(
        db,
        "SELECT name, price, quota_bytes, unlimited, validity_hours, hotspot_profile, is_active \
         FROM packages ORDER BY name",
        &[
            "name",
            "price",
            "quota",
            "unlimited",
            "hours",
            "profile",
            "active",
        ],
    )
    .await;
    let reguler = Some("paket-reguler".to_owned());
    assert_eq!(
        packages,
        [
            (
                "Paket 5 GB".into(),
                25_000,
                5 * 1024 * MIB,
                false,
                720,
                reguler.clone(),
                true
            ),
            (
                "Paket Hemat 1.5 GB".into(),
                10_000,
                1536 * MIB,
                false,
                168,
                reguler,
                false
            ),
            (
                "Unlimited 30 Hari".into(),
                100_000,
                0,
                true,
                720,
                Some("paket-unlimited".into()),
                true
            ),
        ]
    );

    let orders: Vec<Order> = rows(
        db,
        "SELECT order_id, status, amount, paid_at, applied_at, next_check_at, provider, va_bank \
         FROM transactions ORDER BY order_id",
        &[
            "order", "status", "amount", "paid", "applied", "next", "provider", "bank",
        ],
    )
    .await;
    let statuses: Vec<_> = orders
        .iter()
        .map(|o| (o.0.as_str(), o.1.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("BD-LPSR-0001", "paid"),
            ("BD-LPSR-0002", "expired"),
            ("BD-LPSR-0003", "paid"),
            ("BD-LPSR-0004", "pending"),
            ("BD-LPSR-0005", "pending"),
            ("BD-LPSR-0006", "cancelled"),
            ("BD-LPSR-0007", "failed"),
        ]
    );
    for o in &orders {
        assert_eq!(o.6.as_deref(), Some("payment-midtrans"), "{}", o.0);
        // Paid orders count as applied (their quota came with the account); pending ones are
        // due for the reconciliation job's check.
        assert_eq!(o.4.is_some(), o.1 == "paid", "applied_at of {}", o.0);
        assert_eq!(o.5.is_some(), o.1 == "pending", "next_check_at of {}", o.0);
    }
    assert_eq!(
        orders[0].3,
        Some(Utc.with_ymd_and_hms(2026, 1, 15, 10, 5, 0).unwrap())
    );
    assert_eq!(
        (orders[2].2, orders[2].7.as_deref()),
        (100_000, Some("bni"))
    );
    let events: Vec<(String,)> = rows(db, "SELECT kind FROM transaction_events", &["kind"]).await;
    assert!(
        events.len() == 7 && events.iter().all(|(k,)| k == "imported"),
        "{events:?}"
    );
}

#[tokio::test]
async fn import_lpsaring_brings_the_original_over_once_into_sqlite_and_postgres() {
    if postgres_only().is_none() {
        return;
    }
    let source = original().await;
    let from = source.url().to_owned();
    for postgres in [false, true] {
        let target = target(postgres).await;

        let out = target
            .cli(&["import-lpsaring", "--from", &from, "--dry-run"])
            .await;
        let stdout = succeeded(&out);
        assert!(stdout.contains("Dry run: nothing was written"), "{stdout}");
        assert_eq!(counts(&stdout, "users"), [9, 6, 0, 3]);
        let db = target.connect().await;
        assert_eq!(table_counts(&db).await, [0; 7], "a dry run wrote");

        let out = target.cli(&["import-lpsaring", "--from", &from]).await;
        let stdout = succeeded(&out);
        assert_eq!(counts(&stdout, "users"), [9, 6, 0, 3]);
        assert_eq!(counts(&stdout, "packages"), [4, 3, 0, 1]);
        assert_eq!(counts(&stdout, "devices"), [6, 3, 0, 3]);
        assert_eq!(counts(&stdout, "quota"), [6, 6, 0, 0]);
        assert_eq!(counts(&stdout, "transactions"), [12, 7, 0, 5]);
        for reason in [
            "(12345): bad phone",
            "same phone as user 0c000000-0000-4000-8000-000000000001",
            "bad name: the name must not contain control",
            "(Gratis): price: a positive number of rupiah",
            "duplicate MAC: it already belongs to +6281234500001",
            "(ZZ:BB:CC:00:00:09): bad MAC",
            "its user 0c000000-0000-4000-8000-000000000006 was skipped",
            "(BD-LPSR-0008): no user (deleted in the original)",
            "(DEBT-0009): no package (a debt payment",
            "(BD-LPSR-0010): unknown package 0b000000-0000-4000-8000-000000000004",
            "order id: 1 to 64 characters",
            "KOMANDAN user(s) come over as plain users",
            "lpsaring admin create --phone <phone> --name <name>` (+6281234500002)",
        ] {
            assert!(stdout.contains(reason), "{reason:?} not in\n{stdout}");
        }
        assert!(
            !stdout.contains('\u{1b}'),
            "a name reached the terminal raw"
        );
        assert!(stderr(&out).contains("transactions  12/12"), "progress");
        assert_imported(&db).await;

        // A second run, as the library: nothing new, nothing changed.
        let before = table_counts(&db).await;
        let src = source.connect().await;
        let report = import::run(
            &src,
            &db,
            &SystemClock,
            Options::default(),
            &mut |_, _, _| {},
        )
        .await
        .expect("second run");
        assert!(report.unchanged(), "{report}");
        assert_eq!(report.counts(Kind::Users).existing, 6);
        assert_eq!(report.counts(Kind::Quota).existing, 6);
        assert_eq!(report.counts(Kind::Transactions).existing, 7);
        assert_eq!(report.reasons(Kind::Devices).len(), 3);
        assert_eq!(table_counts(&db).await, before);
        assert_imported(&db).await;
        let _ = src.close().await;
        let _ = db.close().await;
    }
}

#[tokio::test]
async fn import_lpsaring_refuses_a_database_of_other_users_unless_merge() {
    if postgres_only().is_none() {
        return;
    }
    let source = original().await;
    let from = source.url().to_owned();
    let target = target(false).await;
    succeeded(
        &target
            .cli(&[
                "user",
                "add",
                "--phone",
                "081299990000",
                "--name",
                "Lain",
                "--approved",
            ])
            .await,
    );
    let out = target.cli(&["import-lpsaring", "--from", &from]).await;
    assert!(!out.status.success(), "{}", stdout(&out));
    let refusal = stderr(&out);
    assert!(
        refusal.contains("1 user(s) who are not in the original (for example +6281299990000)")
            && refusal.contains("--merge"),
        "{refusal}"
    );
    let db = target.connect().await;
    assert_eq!(table_counts(&db).await, [1, 0, 0, 0, 0, 0, 0]);

    let stdout = succeeded(
        &target
            .cli(&["import-lpsaring", "--from", &from, "--merge"])
            .await,
    );
    assert_eq!(counts(&stdout, "users"), [9, 6, 0, 3]);
    assert_eq!(count_rows(&db, "users").await, 7);

    let out = target
        .cli(&["import-lpsaring", "--from", "sqlite://elsewhere.db"])
        .await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("Postgres database"),
        "{}",
        stderr(&out)
    );
}
