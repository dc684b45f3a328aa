//! Access tokens: short-lived HS256 JWTs. The algorithm is pinned (a token whose header names any
//! other algorithm, `none` included, is refused before its signature is looked at) and expiry is
//! judged against our `Clock`, not the library's wall clock, so tests can move time.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lpsaring_kernel::UserId;
use lpsaring_kernel::ports::users::Role;
use serde::{Deserialize, Serialize};

use crate::error::AuthError;

/// The claims we sign. `role` is the role at issue time; for an admin (or on an admin route) the
/// session hoop checks the role against the users table on every request, so a demotion, block
/// or deletion holds at once. `fam` names the refresh-token family (the session) the token
/// belongs to: the admin idle timeout is kept per session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub role: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    /// Tokens minted before sessions were named have none: an admin's is then treated as idle.
    #[serde(default)]
    pub fam: String,
}

/// Who a valid access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSubject {
    pub user: UserId,
    pub role: Role,
    /// The session (refresh-token family).
    pub family: String,
}

pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl AccessTokens {
    pub fn new(key: &[u8; 32], ttl_secs: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked by `verify` against the injected clock.
        validation.validate_exp = false;
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            ttl: Duration::seconds(ttl_secs.max(1)),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs a token for `user` in session `family` valid from `now` for the configured lifetime.
    pub fn mint(
        &self,
        user: UserId,
        role: Role,
        family: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), AuthError> {
        let expires = now + self.ttl;
        let claims = AccessClaims {
            sub: user.0.to_string(),
            role: role.as_str().to_owned(),
            exp: expires.timestamp(),
            iat: now.timestamp(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            fam: family.to_owned(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Internal(format!("cannot sign access token: {e}")))?;
        Ok((token, expires))
    }

    /// Checks signature, algorithm and claims; `TokenExpired` only for an otherwise valid token.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessSubject, AuthError> {
        if token.len() > 4096 {
            return Err(AuthError::TokenInvalid);
        }
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|_| AuthError::TokenInvalid)?;
        let claims = data.claims;
        let user = claims
            .sub
            .parse::<i64>()
            .map(UserId)
            .map_err(|_| AuthError::TokenInvalid)?;
        let role = Role::parse(&claims.role).ok_or(AuthError::TokenInvalid)?;
        if claims.exp <= now.timestamp() {
            return Err(AuthError::TokenExpired);
        }
        Ok(AccessSubject {
            user,
            role,
            family: claims.fam,
        })
    }
}
