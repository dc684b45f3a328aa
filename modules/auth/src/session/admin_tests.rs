//! Module tests of the panel's security: the second factor (enrolment, login with a code or a
//! recovery code, no reuse), the admin idle timeout (sliding, on the `Clock`) and a role change,
//! block or deletion taking effect on a live token at once.

use chrono::Duration;
use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::web::TokenProblem;
use lpsaring_kernel::{Clock, ErrorCode, UserId};
use sea_orm::EntityTrait;

use super::idle::Standing;
use super::tests::{Fixture, UA, admin_with_password, fixture, fixture_with, ip, user};
use super::totp;
use crate::entity::{admin_totp, refresh_token};
use crate::error::AuthError;

const PASSWORD: &str = "kopi-susu-2026!";

/// The code an authenticator app shows for `secret_base32` now (plus `steps` × 30 s).
fn code(f: &Fixture, secret_base32: &str, steps: i64) -> String {
    let secret = totp::base32_decode(secret_base32).unwrap();
    let step = totp::step_of(f.clock.now().timestamp()) + steps;
    format!("{:06}", totp::code_at(&secret, step))
}

/// Enrols `who` and answers (secret, recovery codes).
async fn enrol(
    f: &Fixture,
    who: &lpsaring_kernel::ports::users::UserFacts,
) -> (String, Vec<String>) {
    let enrolment = f.sessions.totp_start(who).await.unwrap();
    assert!(
        enrolment
            .otpauth_uri
            .starts_with("otpauth://totp/lpsaring:")
    );
    assert!(enrolment.qr_svg.starts_with("<svg"));
    let secret = enrolment.secret_base32;
    assert!(matches!(
        f.sessions.totp_confirm(who, "000000", None).await,
        Err(AuthError::TotpInvalid)
    ));
    let codes = f
        .sessions
        .totp_confirm(who, &code(f, &secret, 0), None)
        .await
        .unwrap();
    (secret, codes)
}

fn challenge_of(err: AuthError) -> String {
    assert_eq!(err.code(), "AUTH_TOTP_REQUIRED");
    match err {
        AuthError::TotpRequired { challenge } => challenge,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_enrolled_admin_logs_in_with_a_code_once_or_a_recovery_code_once() {
    let f = fixture().await;
    let admin = admin_with_password(&f, "081100000001", Role::Admin, PASSWORD).await;
    let (secret, recovery) = enrol(&f, &admin).await;
    assert_eq!(recovery.len(), super::RECOVERY_CODES);
    let row = admin_totp::Entity::find_by_id(admin.id.0)
        .one(&f.db)
        .await
        .unwrap()
        .unwrap();
    // Neither the secret nor a recovery code is stored in the clear.
    assert!(!row.secret_enc.contains(&secret));
    assert!(!row.recovery_hashes.contains(&recovery[0]));
    assert!(matches!(
        f.sessions.totp_start(&admin).await,
        Err(AuthError::TotpAlreadyEnabled)
    ));

    // The password alone is not a session any more.
    let err = f
        .sessions
        .admin_login("081100000001", PASSWORD, ip(), UA)
        .await
        .unwrap_err();
    let challenge = challenge_of(err);
    // The code used to confirm enrolment (this step) is spent; a wrong one is refused.
    for wrong in [code(&f, &secret, 0), "123456".to_owned()] {
        assert!(matches!(
            f.sessions
                .admin_login_code(&challenge, &wrong, ip(), UA)
                .await,
            Err(AuthError::TotpInvalid)
        ));
    }
    f.clock.advance(Duration::seconds(30));
    let next = code(&f, &secret, 0);
    let (who, session) = f
        .sessions
        .admin_login_code(&challenge, &next, ip(), UA)
        .await
        .unwrap();
    assert_eq!(who.id, admin.id);
    assert_eq!(session.role, Role::Admin);
    // The challenge is spent, and so is the code.
    assert!(matches!(
        f.sessions
            .admin_login_code(&challenge, &next, ip(), UA)
            .await,
        Err(AuthError::TotpChallengeExpired)
    ));
    let again = challenge_of(
        f.sessions
            .admin_login("081100000001", PASSWORD, ip(), UA)
            .await
            .unwrap_err(),
    );
    assert!(matches!(
        f.sessions.admin_login_code(&again, &next, ip(), UA).await,
        Err(AuthError::TotpInvalid)
    ));
    // A recovery code works, typed loosely, once.
    let loose = recovery[3].to_lowercase().replace('-', " ");
    assert!(
        f.sessions
            .admin_login_code(&again, &loose, ip(), UA)
            .await
            .is_ok()
    );
    let third = challenge_of(
        f.sessions
            .admin_login("081100000001", PASSWORD, ip(), UA)
            .await
            .unwrap_err(),
    );
    assert!(matches!(
        f.sessions
            .admin_login_code(&third, &recovery[3], ip(), UA)
            .await,
        Err(AuthError::TotpInvalid)
    ));
    let status = f.sessions.totp_status(&admin).await.unwrap();
    assert!(status.enabled);
    assert_eq!(status.recovery_left, super::RECOVERY_CODES - 1);
    let actions: Vec<String> = f
        .audit
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.action.clone())
        .collect();
    assert!(
        actions.contains(&"admin.totp_enabled".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"admin.recovery_code_used".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_challenge_takes_five_codes_and_lasts_five_minutes() {
    let f = fixture().await;
    let admin = admin_with_password(&f, "081100000001", Role::Admin, PASSWORD).await;
    let (secret, _) = enrol(&f, &admin).await;
    f.clock.advance(Duration::seconds(30));
    let login = || f.sessions.admin_login("081100000001", PASSWORD, ip(), UA);
    let challenge = challenge_of(login().await.unwrap_err());
    for _ in 0..5 {
        assert!(matches!(
            f.sessions
                .admin_login_code(&challenge, "000001", ip(), UA)
                .await,
            Err(AuthError::TotpInvalid)
        ));
    }
    assert!(matches!(
        f.sessions
            .admin_login_code(&challenge, &code(&f, &secret, 0), ip(), UA)
            .await,
        Err(AuthError::TotpChallengeExpired)
    ));
    let late = challenge_of(login().await.unwrap_err());
    f.clock.advance(Duration::minutes(6));
    assert!(matches!(
        f.sessions
            .admin_login_code(&late, &code(&f, &secret, 0), ip(), UA)
            .await,
        Err(AuthError::TotpChallengeExpired)
    ));
    assert!(matches!(
        f.sessions
            .admin_login_code("made-up", "123456", ip(), UA)
            .await,
        Err(AuthError::TotpChallengeExpired)
    ));
}

#[tokio::test]
async fn turning_it_off_needs_a_code_and_a_reset_removes_it_and_the_sessions() {
    let f = fixture().await;
    let admin = admin_with_password(&f, "081100000001", Role::Admin, PASSWORD).await;
    let (secret, recovery) = enrol(&f, &admin).await;
    assert!(matches!(
        f.sessions.totp_disable(&admin, "999999", None).await,
        Err(AuthError::TotpInvalid)
    ));
    f.sessions
        .totp_disable(&admin, &recovery[0], None)
        .await
        .unwrap();
    assert!(!f.sessions.totp_enabled(admin.id).await.unwrap());
    assert!(
        f.sessions
            .admin_login("081100000001", PASSWORD, ip(), UA)
            .await
            .is_ok()
    );
    drop(secret);

    enrol(&f, &admin).await;
    let live = f.sessions.issue(&admin, ip(), UA).await.unwrap();
    let had = super::reset_totp(&f.db, f.audit.as_ref(), f.clock.now(), admin.id)
        .await
        .unwrap();
    assert!(had);
    assert!(!f.sessions.totp_enabled(admin.id).await.unwrap());
    let rows = refresh_token::Entity::find().all(&f.db).await.unwrap();
    assert!(rows.iter().all(|r| r.revoked_at.is_some()), "{rows:?}");
    assert!(
        rows.iter().any(
            |r| r.family_id == live.family && r.revoked_reason.as_deref() == Some("totp_reset")
        )
    );
    assert!(
        !super::reset_totp(&f.db, f.audit.as_ref(), f.clock.now(), admin.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn an_admin_session_ends_after_eight_idle_hours_and_each_request_slides_it() {
    let f = fixture().await;
    let admin = user(&f, "081100000001", Role::Admin).await;
    let s = f.sessions.issue(&admin, ip(), UA).await.unwrap();
    let standing = || f.sessions.standing(admin.id, Role::Admin, &s.family, true);
    let acts = Standing::Acts {
        role: Role::Admin,
        enrol_first: false,
    };
    for _ in 0..3 {
        f.clock.advance(Duration::hours(7) + Duration::minutes(59));
        assert_eq!(standing().await.unwrap(), acts);
    }
    f.clock.advance(Duration::hours(8) + Duration::minutes(1));
    assert_eq!(
        standing().await.unwrap(),
        Standing::Gone(TokenProblem::Expired)
    );
    // The whole session is over: its refresh token is revoked as idle.
    let rows = refresh_token::Entity::find().all(&f.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].revoked_reason.as_deref(), Some(super::reason::IDLE));
    assert!(matches!(
        f.sessions
            .rotate(
                &s.refresh_token.as_ref().unwrap().expose().clone(),
                ip(),
                UA
            )
            .await,
        Err(AuthError::Unauthorized)
    ));
    // A plain user's session has no idle limit (and costs no lookup off the admin routes).
    let plain = user(&f, "081100000002", Role::User).await;
    let ps = f.sessions.issue(&plain, ip(), UA).await.unwrap();
    f.clock.advance(Duration::hours(20));
    assert_eq!(
        f.sessions
            .standing(plain.id, Role::User, &ps.family, false)
            .await
            .unwrap(),
        Standing::Acts {
            role: Role::User,
            enrol_first: false
        }
    );
}

#[tokio::test]
async fn a_demotion_block_or_deletion_holds_for_a_live_token_at_once() {
    let f = fixture().await;
    let admin = admin_with_password(&f, "081100000001", Role::Admin, PASSWORD).await;
    let s = f.sessions.issue(&admin, ip(), UA).await.unwrap();
    let standing = |role| f.sessions.standing(admin.id, role, &s.family, true);
    // Demoted: the token still says ADMIN; the users table says USER.
    f.users
        .set_admin_password(admin.phone.as_ref().unwrap(), "x".to_owned(), Role::User)
        .await
        .unwrap();
    assert_eq!(
        standing(Role::Admin).await.unwrap(),
        Standing::Acts {
            role: Role::User,
            enrol_first: false
        }
    );
    // Promoted back without a new admin login: that session stays a plain user's.
    f.users
        .set_admin_password(admin.phone.as_ref().unwrap(), "x".to_owned(), Role::Admin)
        .await
        .unwrap();
    let plain_session = f
        .sessions
        .issue(&user(&f, "081100000003", Role::User).await, ip(), UA)
        .await
        .unwrap();
    assert_eq!(
        f.sessions
            .standing(plain_session.user, Role::User, &plain_session.family, true)
            .await
            .unwrap(),
        Standing::Acts {
            role: Role::User,
            enrol_first: false
        }
    );
    f.users
        .block(admin.phone.as_ref().unwrap(), "lost laptop")
        .await
        .unwrap();
    assert_eq!(
        standing(Role::Admin).await.unwrap(),
        Standing::Gone(TokenProblem::Invalid)
    );
    assert_eq!(
        f.sessions
            .standing(UserId(9_999), Role::Admin, "nope", true)
            .await
            .unwrap(),
        Standing::Gone(TokenProblem::Invalid)
    );
}

#[tokio::test]
async fn require_totp_makes_a_super_admin_enrol_first_but_not_an_admin() {
    let f = fixture_with(true).await;
    let owner = user(&f, "081100000001", Role::SuperAdmin).await;
    let admin = user(&f, "081100000002", Role::Admin).await;
    let so = f.sessions.issue(&owner, ip(), UA).await.unwrap();
    let sa = f.sessions.issue(&admin, ip(), UA).await.unwrap();
    assert_eq!(
        f.sessions
            .standing(owner.id, Role::SuperAdmin, &so.family, true)
            .await
            .unwrap(),
        Standing::Acts {
            role: Role::SuperAdmin,
            enrol_first: true
        }
    );
    assert_eq!(
        f.sessions
            .standing(admin.id, Role::Admin, &sa.family, true)
            .await
            .unwrap(),
        Standing::Acts {
            role: Role::Admin,
            enrol_first: false
        }
    );
    assert!(f.sessions.totp_status(&owner).await.unwrap().required);
    enrol(&f, &owner).await;
    assert_eq!(
        f.sessions
            .standing(owner.id, Role::SuperAdmin, &so.family, true)
            .await
            .unwrap(),
        Standing::Acts {
            role: Role::SuperAdmin,
            enrol_first: false
        }
    );
}
