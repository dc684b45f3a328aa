//! Status links: `?t=<expiry>.<signature>` opens one order's status page (and its JSON) without
//! a login, because WhatsApp and the phone's real browser carry no cookie. The token is an HMAC
//! of the order id and the expiry under a key the app derives from the server secret, so it
//! needs no storage and cannot be forged or moved to another order.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Hex characters of the signature kept in the link (128 bits).
const SIG_HEX: usize = 32;

fn signature(key: &[u8; 32], order_id: &str, expires: i64) -> String {
    // HMAC takes keys of any length; should that ever fail, no token verifies (fails closed).
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(order_id.as_bytes());
    mac.update(b".");
    mac.update(expires.to_string().as_bytes());
    let mut hex = hex::encode(mac.finalize().into_bytes());
    hex.truncate(SIG_HEX);
    hex
}

/// A token for `order_id` valid until `expires`.
pub fn issue(key: &[u8; 32], order_id: &str, expires: DateTime<Utc>) -> String {
    let at = expires.timestamp();
    format!("{at}.{}", signature(key, order_id, at))
}

/// Whether `token` opens `order_id` at `now`.
pub fn verify(key: &[u8; 32], order_id: &str, token: &str, now: DateTime<Utc>) -> bool {
    let Some((at, given)) = token.split_once('.') else {
        return false;
    };
    let Ok(at) = at.parse::<i64>() else {
        return false;
    };
    if at < now.timestamp() || given.len() != SIG_HEX {
        return false;
    }
    let expected = signature(key, order_id, at);
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_link_opens_its_order_until_it_expires() {
        let key = [7u8; 32];
        let now = lpsaring_kernel::Clock::now(&lpsaring_kernel::FakeClock::at_epoch_2026());
        let t = issue(&key, "LPS-1", now + Duration::days(30));
        assert!(verify(&key, "LPS-1", &t, now));
        assert!(!verify(&key, "LPS-2", &t, now));
        assert!(!verify(&[8u8; 32], "LPS-1", &t, now));
        assert!(!verify(&key, "LPS-1", &t, now + Duration::days(31)));
        // A later expiry with the old signature does not verify.
        let (_, sig) = t.split_once('.').unwrap();
        let forged = format!("{}.{sig}", (now + Duration::days(900)).timestamp());
        assert!(!verify(&key, "LPS-1", &forged, now));
        assert!(!verify(&key, "LPS-1", "garbage", now));
    }
}
