//! Module tests on in-memory SQLite (or Postgres, per `LPSARING_TEST_POSTGRES_URL`): tokens, rotation, grace window, reuse, cleanup, admin login.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use lpsaring_kernel::ports::audit::{AuditEntry, AuditError, AuditSink};
use lpsaring_kernel::ports::users::{Role, UserFacts};
use lpsaring_kernel::testing::TestDatabase;
use lpsaring_kernel::{Clock, EphemeralStore, ErrorCode, FakeClock, Phone};
use lpsaring_migrations::{Migrator, MigratorTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::password::hash_password;
use super::{Deps, OriginSettings, Sessions, reason};
use crate::entity::refresh_token;
use crate::error::AuthError;
use crate::secrets::Keys;
use crate::settings::AuthSettings;
use crate::users::Users;

#[derive(Default)]
pub(super) struct RecordingAudit(pub(super) Mutex<Vec<AuditEntry>>);

#[async_trait]
impl AuditSink for RecordingAudit {
    async fn record(&self, entry: AuditEntry) -> Result<(), AuditError> {
        self.0.lock().unwrap().push(entry);
        Ok(())
    }
}

pub(super) struct Fixture {
    pub(super) sessions: Arc<Sessions>,
    pub(super) users: Arc<Users>,
    pub(super) clock: Arc<FakeClock>,
    pub(super) audit: Arc<RecordingAudit>,
    pub(super) db: sea_orm::DatabaseConnection,
    _dir: tempfile::TempDir,
    _database: TestDatabase,
}

pub(super) const UA: Option<&str> = Some("Mozilla/5.0 test");

pub(super) fn ip() -> Option<IpAddr> {
    Some("10.5.50.7".parse().unwrap())
}

pub(super) async fn fixture() -> Fixture {
    fixture_with(false).await
}

/// The fixture, with `admin.require_totp` as given.
pub(super) async fn fixture_with(require_totp: bool) -> Fixture {
    let database = TestDatabase::fresh().await;
    let db = database.connect().await;
    Migrator::up(&db, None).await.unwrap();
    let clock = Arc::new(FakeClock::at_epoch_2026());
    let dir = tempfile::tempdir().unwrap();
    let store = lpsaring_store::Store::open(dir.path().join("state.redb"), clock.clone())
        .await
        .unwrap();
    let users = Arc::new(Users::new(db.clone(), clock.clone()));
    let audit = Arc::new(RecordingAudit::default());
    let sessions = Arc::new(Sessions::new(Deps {
        db: db.clone(),
        clock: clock.clone(),
        keys: Keys::from_master([7u8; 32]),
        settings: AuthSettings::default(),
        audit: audit.clone(),
        origins: OriginSettings::default(),
        users: users.clone(),
        store: Arc::new(store) as Arc<dyn EphemeralStore>,
        access: Arc::new(lpsaring_kernel::ports::access::BasicAccessPolicy),
        admin_require_totp: require_totp,
    }));
    Fixture {
        sessions,
        users,
        clock,
        audit,
        db,
        _dir: dir,
        _database: database,
    }
}

pub(super) async fn user(f: &Fixture, phone: &str, role: Role) -> UserFacts {
    let phone = Phone::parse(phone).unwrap();
    f.users.create(&phone, "Test", true, role).await.unwrap()
}

fn refresh(s: &super::IssuedSession) -> String {
    s.refresh_token.as_ref().unwrap().expose().clone()
}

async fn row(f: &Fixture, plain: &str) -> refresh_token::Model {
    refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(crate::secrets::sha256_hex(plain.as_bytes())))
        .one(&f.db)
        .await
        .unwrap()
        .unwrap()
}

// ---- refresh tokens ----

#[tokio::test]
async fn issue_stores_only_a_hash() {
    let f = fixture().await;
    let u = user(&f, "081100000001", Role::User).await;
    let s = f.sessions.issue(&u, ip(), UA).await.unwrap();
    let plain = refresh(&s);
    assert_eq!(URL_SAFE_NO_PAD.decode(&plain).unwrap().len(), 32);
    let stored = row(&f, &plain).await;
    assert_ne!(stored.token_hash, plain);
    assert_eq!(stored.token_hash.len(), 64);
    assert_eq!(stored.user_id, u.id.0);
    assert_eq!(stored.ip.as_deref(), Some("10.5.50.7"));
    assert_eq!(stored.user_agent.as_deref(), UA);
    assert_eq!((stored.expires_at - stored.issued_at).num_days(), 30);
    let subject = f.sessions.verify_access(s.access_token.expose()).unwrap();
    assert_eq!(subject.user, u.id);
}

#[tokio::test]
async fn rotation_is_single_use_and_chains_the_family() {
    let f = fixture().await;
    let u = user(&f, "081100000001", Role::User).await;
    let first = f.sessions.issue(&u, ip(), UA).await.unwrap();
    let t0 = refresh(&first);
    f.clock.advance(Duration::seconds(60));
    let second = f.sessions.rotate(&t0, ip(), UA).await.unwrap();
    let t1 = refresh(&second);
    assert_ne!(t0, t1);
    assert_eq!(second.user, u.id);
    let old = row(&f, &t0).await;
    let new = row(&f, &t1).await;
    assert_eq!(old.revoked_reason.as_deref(), Some(reason::ROTATED));
    assert_eq!(old.replaced_by, Some(new.id));
    assert_eq!(old.family_id, new.family_id);
    assert!(new.revoked_at.is_none());
    // The successor rotates in turn.
    f.clock.advance(Duration::seconds(60));
    let third = f.sessions.rotate(&t1, ip(), UA).await.unwrap();
    assert!(third.refresh_token.is_some());
    // Unknown and garbage tokens are plain 401s.
    assert!(matches!(
        f.sessions.rotate("nope", ip(), UA).await,
        Err(AuthError::Unauthorized)
    ));
    assert!(matches!(
        f.sessions.rotate(&"x".repeat(500), ip(), UA).await,
        Err(AuthError::Unauthorized)
    ));
}

#[tokio::test]
async fn grace_window_gives_the_successor_session_without_minting() {
    let f = fixture().await;
    let u = user(&f, "081100000001", Role::Admin).await;
    let t0 = refresh(&f.sessions.issue(&u, ip(), UA).await.unwrap());
    let rotated = f.sessions.rotate(&t0, ip(), UA).await.unwrap();
    let t1 = refresh(&rotated);
    f.clock.advance(Duration::seconds(4));
    let parallel = f.sessions.rotate(&t0, ip(), UA).await.unwrap();
    assert!(parallel.refresh_token.is_none(), "no second successor");
    assert_eq!((parallel.user, parallel.role), (u.id, Role::Admin));
    assert!(
        f.sessions
            .verify_access(parallel.access_token.expose())
            .is_ok()
    );
    let rows = refresh_token::Entity::find().all(&f.db).await.unwrap();
    assert_eq!(rows.len(), 2, "nothing minted by the replay");
    assert!(f.audit.0.lock().unwrap().is_empty());
    // The successor is untouched and still works.
    assert!(f.sessions.rotate(&t1, ip(), UA).await.is_ok());
}

#[tokio::test]
async fn grace_window_needs_the_same_user_agent() {
    let f = fixture().await;
    let u = user(&f, "081100000001", Role::User).await;
    let t0 = refresh(&f.sessions.issue(&u, ip(), UA).await.unwrap());
    let t1 = refresh(&f.sessions.rotate(&t0, ip(), UA).await.unwrap());
    f.clock.advance(Duration::seconds(1));
    assert!(matches!(
        f.sessions.rotate(&t0, ip(), Some("curl/8")).await,
        Err(AuthError::Unauthorized)
    ));
    assert!(matches!(
        f.sessions.rotate(&t1, ip(), UA).await,
        Err(AuthError::Unauthorized)
    ));
}

#[tokio::test]
async fn reuse_outside_the_window_revokes_the_whole_family() {
    let f = fixture().await;
    let u = user(&f, "081100000001", Role::User).await;
    let other = f.sessions.issue(&u, ip(), UA).await.unwrap();
    let t0 = refresh(&f.sessions.issue(&u, ip(), UA).await.unwrap());
    let t1 = refresh(&f.sessions.rotate(&t0, ip(), UA).await.unwrap());
    f.clock.advance(Duration::seconds(6));
    let t2 = refresh(&f.sessions.rotate(&t1, ip(), UA).await.unwrap());
    f.clock.advance(Duration::seconds(10));
    // The thief (or the victim) replays t0: theft.
    assert!(matches!(
        f.sessions.rotate(&t0, ip(), UA).await,
        Err(AuthError::Unauthorized)
    ));
    // The newest token of the family fails too.
    assert!(matches!(
        f.sessions.rotate(&t2, ip(), UA).await,
        Err(AuthError::Unauthorized)
    ));
    let family = row(&f, &t2).await.family_id;
    let rows = refresh_token::Entity::find()
        .filter(refresh_token::Column::FamilyId.eq(family.clone()))
        .all(&f.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.revoked_at.is_some()));
    assert_eq!(
        row(&f, &t2).await.revoked_reason.as_deref(),
        Some(reason::REUSE_DETECTED)
    );
    let audit = f.audit.0.lock().unwrap().clone();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "session.refresh_reuse");
    assert_eq!(audit[0].actor, Some(u.id));
    assert_eq!(
        audit[0].target.as_deref(),
        Some(format!("family:{family}").as_str())
    );
    assert_eq!(audit[0].ip.as_deref(), Some("10.5.50.7"));
    // Another family of the same user is not affected.
    assert!(f.sessions.rotate(&refresh(&other), ip(), UA).await.is_ok());
}

/// On worker threads of their own, so the two rotations really race (a single-threaded runtime
/// only interleaves them at awaits).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_rotations_mint_exactly_one_successor() {
    let f = fixture().await;
    let u = user(&f, "081100000001", Role::User).await;
    let t0 = refresh(&f.sessions.issue(&u, ip(), UA).await.unwrap());
    let rotation = || {
        let (sessions, t0) = (f.sessions.clone(), t0.clone());
        tokio::spawn(async move { sessions.rotate(&t0, ip(), UA).await })
    };
    let (a, b) = tokio::join!(rotation(), rotation());
    let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());
    let minted = [&a, &b]
        .iter()
        .filter(|s| s.refresh_token.is_some())
        .count();
    assert_eq!(minted, 1);
    assert_eq!(
        refresh_token::Entity::find()
            .all(&f.db)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn expired_refresh_tokens_and_blocked_users_do_not_rotate() {
    let f = fixture().await;
    let u = user(&f, "081100000001", Role::User).await;
    let t0 = refresh(&f.sessions.issue(&u, ip(), UA).await.unwrap());
    f.clock.advance(Duration::days(30));
    assert!(matches!(
        f.sessions.rotate(&t0, ip(), UA).await,
        Err(AuthError::TokenExpired)
    ));
    let t1 = refresh(&f.sessions.issue(&u, ip(), UA).await.unwrap());
    f.users
        .block(u.phone.as_ref().unwrap(), "test")
        .await
        .unwrap();
    assert!(matches!(
        f.sessions.rotate(&t1, ip(), UA).await,
        Err(AuthError::UserBlocked)
    ));
}

#[tokio::test]
async fn logout_ends_the_family_and_logout_all_every_family() {
    let f = fixture().await;
    let u = user(&f, "081100000001", Role::User).await;
    let v = user(&f, "081100000002", Role::User).await;
    let a0 = refresh(&f.sessions.issue(&u, ip(), UA).await.unwrap());
    let a1 = refresh(&f.sessions.rotate(&a0, ip(), UA).await.unwrap());
    let b = refresh(&f.sessions.issue(&u, ip(), UA).await.unwrap());
    let c = refresh(&f.sessions.issue(&u, ip(), UA).await.unwrap());
    let theirs = refresh(&f.sessions.issue(&v, ip(), UA).await.unwrap());
    // Logging out with the already-rotated token still ends its family.
    assert_eq!(f.sessions.end(&a0).await.unwrap(), 1);
    assert!(f.sessions.rotate(&a1, ip(), UA).await.is_err());
    assert_eq!(f.sessions.end("unknown").await.unwrap(), 0);
    assert!(f.sessions.rotate(&b, ip(), UA).await.is_ok());
    assert_eq!(f.sessions.end_all(u.id).await.unwrap(), 2);
    assert!(f.sessions.rotate(&c, ip(), UA).await.is_err());
    assert!(f.sessions.rotate(&theirs, ip(), UA).await.is_ok());
    assert!(f.audit.0.lock().unwrap().is_empty(), "logout is not theft");
}

#[tokio::test]
async fn cleanup_deletes_expired_and_long_revoked_tokens() {
    let f = fixture().await;
    let u = user(&f, "081100000001", Role::User).await;
    let old = refresh(&f.sessions.issue(&u, ip(), UA).await.unwrap());
    f.sessions.end(&old).await.unwrap(); // revoked at day 0
    let expiring = f.sessions.issue(&u, ip(), UA).await.unwrap(); // expires day 30
    f.clock.advance(Duration::days(6));
    let recent = refresh(&f.sessions.issue(&u, ip(), UA).await.unwrap());
    f.sessions.end(&recent).await.unwrap(); // revoked at day 6
    let live = f.sessions.issue(&u, ip(), UA).await.unwrap();
    let count = || async {
        refresh_token::Entity::find()
            .all(&f.db)
            .await
            .unwrap()
            .len()
    };
    assert_eq!(f.sessions.cleanup_expired(f.clock.now()).await.unwrap(), 0);
    f.clock.advance(Duration::days(2)); // day 8: `old` revoked 8 days ago
    assert_eq!(f.sessions.cleanup_expired(f.clock.now()).await.unwrap(), 1);
    assert_eq!(count().await, 3);
    f.clock.advance(Duration::days(23)); // day 31: `expiring` expired, `recent` revoked 25 days ago
    assert_eq!(f.sessions.cleanup_expired(f.clock.now()).await.unwrap(), 2);
    assert_eq!(count().await, 1);
    assert!(f.sessions.rotate(&refresh(&live), ip(), UA).await.is_ok());
    drop(expiring);
}

// ---- admin login ----

pub(super) async fn admin_with_password(
    f: &Fixture,
    phone: &str,
    role: Role,
    password: &str,
) -> UserFacts {
    let u = user(f, phone, Role::User).await;
    let hash = hash_password(password).unwrap();
    f.users
        .set_admin_password(u.phone.as_ref().unwrap(), hash, role)
        .await
        .unwrap()
}

#[tokio::test]
async fn admin_login_succeeds_only_for_admins_with_the_right_password() {
    let f = fixture().await;
    let admin = admin_with_password(&f, "081100000001", Role::Admin, "kopi-susu-2026!").await;
    let _user = admin_with_password(&f, "081100000002", Role::User, "kopi-susu-2026!").await;
    let (who, session) = f
        .sessions
        .admin_login("0811-0000-0001", "kopi-susu-2026!", ip(), UA)
        .await
        .unwrap();
    assert_eq!(who.id, admin.id);
    assert_eq!(session.role, Role::Admin);
    assert!(session.refresh_token.is_some());
    let history = crate::entity::login_history::Entity::find()
        .all(&f.db)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].method, "admin_password");

    for (phone, password) in [
        ("081100000001", "wrong-password!"),
        ("081199999999", "kopi-susu-2026!"),
        ("081100000002", "kopi-susu-2026!"),
        ("not a phone", "kopi-susu-2026!"),
    ] {
        let err = f
            .sessions
            .admin_login(phone, password, ip(), UA)
            .await
            .unwrap_err();
        assert!(
            matches!(err, AuthError::InvalidCredentials),
            "{phone}: {err:?}"
        );
        assert_eq!(err.code(), "AUTH_INVALID_CREDENTIALS");
    }
    // A blocked admin gets the same answer.
    f.users
        .block(admin.phone.as_ref().unwrap(), "x")
        .await
        .unwrap();
    assert!(matches!(
        f.sessions
            .admin_login("081100000001", "kopi-susu-2026!", ip(), UA)
            .await,
        Err(AuthError::InvalidCredentials)
    ));
}

/// Wrong passwords for one admin phone from many IPs (issue 15 item 9) must not lock the
/// operator out: failures count per phone only for the IP that failed.
#[tokio::test]
async fn admin_login_failures_from_other_ips_do_not_lock_the_operator_out() {
    let f = fixture().await;
    admin_with_password(&f, "081100000001", Role::SuperAdmin, "kopi-susu-2026!").await;
    let limit = AuthSettings::default().admin_login_attempts_per_window;
    // An attacker spends the phone's budget from ten IPs.
    for i in 0..limit {
        let from: Option<IpAddr> = Some(format!("10.0.0.{i}").parse().unwrap());
        let err = f
            .sessions
            .admin_login("081100000001", "nope", from, UA)
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::InvalidCredentials));
    }
    // The operator, elsewhere, still gets in.
    assert!(
        f.sessions
            .admin_login(
                "081100000001",
                "kopi-susu-2026!",
                Some("10.9.9.9".parse().unwrap()),
                UA,
            )
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn admin_login_is_rate_limited_per_phone_and_ip_and_per_ip() {
    let f = fixture().await;
    admin_with_password(&f, "081100000001", Role::SuperAdmin, "kopi-susu-2026!").await;
    let limit = AuthSettings::default().admin_login_attempts_per_window;
    // Per phone from one IP.
    for _ in 0..limit {
        let err = f
            .sessions
            .admin_login("081100000001", "nope", ip(), UA)
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::InvalidCredentials));
    }
    let err = f
        .sessions
        .admin_login("081100000001", "kopi-susu-2026!", ip(), UA)
        .await
        .unwrap_err();
    let AuthError::RateLimited { retry_after_secs } = err else {
        panic!("expected 429, got {err:?}");
    };
    assert!((1..=900).contains(&retry_after_secs));
    assert_eq!(err.status().as_u16(), 429);
    // After the window the right password works again.
    f.clock.advance(Duration::minutes(16));
    assert!(
        f.sessions
            .admin_login("081100000001", "kopi-susu-2026!", ip(), UA)
            .await
            .is_ok()
    );
    // Per IP, across phones.
    for i in 0..limit {
        let phone = format!("0812000000{i:02}");
        let _ = f
            .sessions
            .admin_login(&phone, "nope", Some("10.7.7.7".parse().unwrap()), UA)
            .await;
    }
    assert!(matches!(
        f.sessions
            .admin_login(
                "081100000001",
                "kopi-susu-2026!",
                Some("10.7.7.7".parse().unwrap()),
                UA
            )
            .await,
        Err(AuthError::RateLimited { .. })
    ));
}
