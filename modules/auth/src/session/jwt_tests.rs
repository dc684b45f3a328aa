//! Access tokens (the JWTs): round trip, expiry, tampering, `alg: none`, a wrong key or
//! algorithm. The refresh-token and admin-login tests are in `tests.rs` and `admin_tests.rs`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Clock, ErrorCode, FakeClock, UserId};

use super::jwt::{AccessClaims, AccessTokens};
use crate::error::AuthError;

fn tokens() -> AccessTokens {
    AccessTokens::new(&[9u8; 32], 900)
}

#[test]
fn access_token_round_trip_and_expiry() {
    let clock = FakeClock::at_epoch_2026();
    let t = tokens();
    let (jwt, expires) = t.mint(UserId(42), Role::Admin, "fam", clock.now()).unwrap();
    assert_eq!((expires - clock.now()).num_seconds(), 900);
    let subject = t.verify(&jwt, clock.now()).unwrap();
    assert_eq!((subject.user, subject.role), (UserId(42), Role::Admin));
    clock.advance(Duration::seconds(899));
    assert!(t.verify(&jwt, clock.now()).is_ok());
    clock.advance(Duration::seconds(1));
    assert!(matches!(
        t.verify(&jwt, clock.now()),
        Err(AuthError::TokenExpired)
    ));
    assert_eq!(AuthError::TokenExpired.code(), "AUTH_TOKEN_EXPIRED");
}

#[test]
fn tampered_claims_are_invalid() {
    let clock = FakeClock::at_epoch_2026();
    let t = tokens();
    let (jwt, _) = t.mint(UserId(42), Role::User, "fam", clock.now()).unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["role"] = "SUPER_ADMIN".into();
    let forged_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert!(matches!(
        t.verify(&forged, clock.now()),
        Err(AuthError::TokenInvalid)
    ));
    // A flipped signature character fails too.
    let mut sig = parts[2].to_owned();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    sig.replace_range(0..1, flipped);
    let bad_sig = format!("{}.{}.{}", parts[0], parts[1], sig);
    assert!(matches!(
        t.verify(&bad_sig, clock.now()),
        Err(AuthError::TokenInvalid)
    ));
    assert!(matches!(
        t.verify("not.a.jwt", clock.now()),
        Err(AuthError::TokenInvalid)
    ));
}

fn claims_for(clock: &FakeClock, role: &str) -> AccessClaims {
    AccessClaims {
        sub: "42".to_owned(),
        role: role.to_owned(),
        exp: clock.now().timestamp() + 600,
        iat: clock.now().timestamp(),
        jti: "x".to_owned(),
        fam: String::new(),
    }
}

#[test]
fn alg_none_is_refused() {
    let clock = FakeClock::at_epoch_2026();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload =
        URL_SAFE_NO_PAD.encode(serde_json::to_string(&claims_for(&clock, "ADMIN")).unwrap());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
        format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"None"}"#)),
    ] {
        assert!(
            matches!(
                tokens().verify(&token, clock.now()),
                Err(AuthError::TokenInvalid)
            ),
            "{token}"
        );
    }
}

#[test]
fn wrong_key_or_algorithm_is_refused() {
    let clock = FakeClock::at_epoch_2026();
    let claims = claims_for(&clock, "USER");
    let other_key = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&[8u8; 32]),
    )
    .unwrap();
    assert!(matches!(
        tokens().verify(&other_key, clock.now()),
        Err(AuthError::TokenInvalid)
    ));
    let other_alg = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims,
        &EncodingKey::from_secret(&[9u8; 32]),
    )
    .unwrap();
    assert!(matches!(
        tokens().verify(&other_alg, clock.now()),
        Err(AuthError::TokenInvalid)
    ));
    // Same key, right algorithm: accepted (so the two refusals above are about key and alg).
    let good = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&[9u8; 32]),
    )
    .unwrap();
    assert!(tokens().verify(&good, clock.now()).is_ok());
    // An unknown role or a non-numeric subject is not a session.
    let mut bad = claims;
    bad.role = "ROOT".to_owned();
    let bad = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &bad,
        &EncodingKey::from_secret(&[9u8; 32]),
    )
    .unwrap();
    assert!(matches!(
        tokens().verify(&bad, clock.now()),
        Err(AuthError::TokenInvalid)
    ));
}
