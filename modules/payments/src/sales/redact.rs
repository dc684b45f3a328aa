//! A provider's raw payload as an admin may see it: every value under a key that names a secret
//! (a signature, a token, a key, a password, card data) replaced by `***`, at any depth.

use serde_json::Value;

/// What a redacted value reads.
pub const MASK: &str = "***";

/// Parts of a key that mark its value secret.
const SECRET_PARTS: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "signature",
    "token",
    "authorization",
    "apikey",
    "api_key",
    "server_key",
    "client_key",
    "private_key",
    "card_number",
    "cvv",
];

/// Keys secret as a whole word (too short to match as a part).
const SECRET_WORDS: &[&str] = &["key", "pin", "otp", "sig", "hmac", "pan"];

fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase().replace('-', "_");
    SECRET_WORDS.contains(&key.as_str()) || SECRET_PARTS.iter().any(|p| key.contains(p))
}

fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret(k) && !v.is_null() {
                    *v = Value::String(MASK.to_owned());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// A stored payload (JSON text) redacted; text that is not JSON is not shown at all.
pub fn payload(stored: &str) -> Value {
    match serde_json::from_str::<Value>(stored) {
        Ok(mut v) => {
            redact(&mut v);
            v
        }
        Err(_) => Value::String("[unreadable payload]".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secrets_are_masked_at_any_depth_and_the_rest_kept() {
        let stored = json!({
            "order_id": "HS-1",
            "signature_key": "abc123",
            "gross_amount": "50000.00",
            "bill_key": "778899",
            "headers": {"X-Callback-Token": "t0k", "content-type": "json"},
            "cards": [{"card_number": "4111", "cvv": "123", "bank": "bca"}],
            "key": "k",
            "none": null,
        })
        .to_string();
        let v = payload(&stored);
        assert_eq!(v["signature_key"], MASK);
        assert_eq!(v["headers"]["X-Callback-Token"], MASK);
        assert_eq!(v["cards"][0]["card_number"], MASK);
        assert_eq!(v["cards"][0]["cvv"], MASK);
        assert_eq!(v["key"], MASK);
        assert_eq!(v["order_id"], "HS-1");
        assert_eq!(v["bill_key"], "778899", "a payment code is not a secret");
        assert_eq!(v["cards"][0]["bank"], "bca");
        assert_eq!(v["headers"]["content-type"], "json");
        assert!(v["none"].is_null());
        assert!(!v.to_string().contains("abc123"));
        assert_eq!(payload("not json"), json!("[unreadable payload]"));
    }
}
