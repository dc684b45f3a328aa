//! Leaving the captive mini-browser. Android's and iOS's captive windows keep no cookies and
//! close once the network is online, so a login there is lost. Each login therefore also mints
//! a hand-off token: random, bound to the user, single use, valid for two minutes, and kept only
//! as its hash in the state store. The connected page links `/session/consume?token=…`; whichever
//! browser opens the link gets a session of its own.

use std::net::IpAddr;
use std::time::Duration;

use lpsaring_kernel::web::encode_component;
use lpsaring_kernel::{Secret, UserId};

use super::service::{IssuedSession, REFRESH_MAX_LEN, Sessions, new_refresh_token};
use crate::error::AuthError;
use crate::secrets::sha256_hex;

/// How long a hand-off link works.
pub const HANDOFF_TTL_SECS: u64 = 120;
const KEY_PREFIX: &str = "auth:handoff:";

fn key(plain: &str) -> String {
    format!("{KEY_PREFIX}{}", sha256_hex(plain.as_bytes()))
}

/// The link that redeems `token` and lands on `next` (`/akun` for the portal).
pub fn session_url(token: &str, next: &str) -> String {
    format!(
        "/session/consume?token={}&next={}",
        encode_component(token),
        encode_component(next)
    )
}

impl Sessions {
    /// A fresh hand-off token for `user`; only its hash is stored.
    pub async fn handoff_token(&self, user: UserId) -> Result<Secret<String>, AuthError> {
        let plain = new_refresh_token();
        self.store
            .set(
                &key(&plain),
                user.0.to_string().into_bytes(),
                Some(Duration::from_secs(HANDOFF_TTL_SECS)),
            )
            .await?;
        Ok(Secret::new(plain))
    }

    /// Starts a session for the token's user and spends the token. Unknown, expired or already
    /// used tokens are [`AuthError::HandoffInvalid`]; a user blocked meanwhile gets no session.
    pub async fn redeem_handoff(
        &self,
        plain: &str,
        ip: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> Result<IssuedSession, AuthError> {
        if plain.is_empty() || plain.len() > REFRESH_MAX_LEN {
            return Err(AuthError::HandoffInvalid);
        }
        let key = key(plain);
        let value = self
            .store
            .get(&key)
            .await?
            .ok_or(AuthError::HandoffInvalid)?;
        // Single use: of two browsers opening the link at once, only the one whose delete wins
        // gets a session.
        if !self
            .store
            .compare_and_swap(&key, Some(&value), None, None)
            .await?
        {
            return Err(AuthError::HandoffInvalid);
        }
        let id = std::str::from_utf8(&value)
            .ok()
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or(AuthError::HandoffInvalid)?;
        let user = self.live_user(id).await?;
        self.issue(&user, ip, user_agent).await
    }
}
