//! RFC 6238 time-based one-time codes (HMAC-SHA1, 30-second steps, 6 digits: what every
//! authenticator app uses by default) and the base32 the `otpauth://` URI carries. Pure: the
//! caller passes the time, so tests use the RFC's vectors.

use hmac::{Hmac, Mac as _};
use sha1::Sha1;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of now (clock drift of a phone).
pub const DRIFT_STEPS: i64 = 1;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The step a unix time falls in.
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The code of `secret` for `step` (RFC 4226 HOTP with the step as counter).
pub fn code_at(secret: &[u8], step: i64) -> u32 {
    // HMAC takes a key of any length; were that ever refused, no typed code could match MAX.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return u32::MAX;
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let bin = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    bin % 10u32.pow(DIGITS)
}

/// The step within [`DRIFT_STEPS`] of `now` whose code `typed` is, if any. Spaces in `typed`
/// are ignored; anything but 6 digits never matches.
pub fn matching_step(secret: &[u8], typed: &str, unix_secs: i64) -> Option<i64> {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != DIGITS as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let typed: u32 = digits.parse().ok()?;
    let now = step_of(unix_secs);
    (now - DRIFT_STEPS..=now + DRIFT_STEPS).find(|&s| {
        let expected = code_at(secret, s);
        // Constant time over the code's bytes.
        subtle::ConstantTimeEq::ct_eq(&expected.to_be_bytes()[..], &typed.to_be_bytes()[..]).into()
    })
}

/// RFC 4648 base32 without padding (the form authenticator apps take).
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Bytes back from [`base32`] (case and spaces ignored); `None` for a character outside the
/// alphabet.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let c = c.to_ascii_uppercase() as u8;
        let value = ALPHABET.iter().position(|&a| a == c)? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The `otpauth://totp/…` URI an authenticator app scans from the QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = lpsaring_kernel::web::encode_component;
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA1, last 6 of the 8 digits.
        for (t, code) in [
            (59, 94_287_082u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
        ] {
            assert_eq!(code_at(RFC_SECRET, step_of(t)), code % 1_000_000, "t={t}");
        }
    }

    #[test]
    fn a_code_matches_within_one_step_only() {
        let t = 1_234_567_890;
        let code = format!("{:06}", code_at(RFC_SECRET, step_of(t)));
        assert_eq!(matching_step(RFC_SECRET, &code, t), Some(step_of(t)));
        assert_eq!(matching_step(RFC_SECRET, &code, t + 30), Some(step_of(t)));
        assert_eq!(matching_step(RFC_SECRET, &code, t + 90), None);
        assert_eq!(matching_step(RFC_SECRET, "12345", t), None);
        assert_eq!(matching_step(RFC_SECRET, "abcdef", t), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(matching_step(RFC_SECRET, &spaced, t), Some(step_of(t)));
    }

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(base32_decode("mzxw6ytboi").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(
            base32_decode(&base32(RFC_SECRET)).as_deref(),
            Some(RFC_SECRET)
        );
        assert_eq!(base32_decode("MZ1"), None);
        let uri = otpauth_uri("lpsaring", "+628111", RFC_SECRET);
        assert!(uri.starts_with("otpauth://totp/lpsaring:%2B628111?secret=GEZDG"));
    }
}
