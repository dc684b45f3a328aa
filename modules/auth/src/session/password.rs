//! Admin passwords: argon2id (PHC strings, so parameters travel with the hash) and the rules a
//! new password must meet.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use lpsaring_kernel::Phone;

use crate::error::AuthError;

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 128;

/// Passwords people pick first; compared case-insensitively.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "passw0rd123",
    "qwertyuiop",
    "qwerty1234",
    "qwerty12345",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "asdfghjkl1",
    "zxcvbnm123",
    "iloveyou12",
    "admin12345",
    "administrator",
    "adminadmin",
    "letmein123",
    "welcome123",
    "abcdefghij",
    "abcd123456",
    "abc1234567",
    "bismillah",
    "bismillah1",
    "bismillah123",
    "indonesia",
    "indonesia1",
    "indonesia123",
    "rahasia123",
    "sayang1234",
    "hotspot123",
    "mikrotik123",
    "wifi123456",
    "lpsaring123",
    "changeme123",
];

/// A hash of an unknown password with the default parameters: verifying against it when the
/// phone is unknown makes that failure cost as much as a wrong password.
pub(crate) const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$bHBzYXJpbmdkdW1teXNhbHQ$hDQVD1x/Zu0o5q8IMzx5PpA0yLdH8E0nXnV7u2bQ8vE";

/// Hashes with argon2id and a random salt. CPU-heavy: call from a blocking thread.
pub fn hash_password(plain: &str) -> Result<String, AuthError> {
    let mut salt_bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| AuthError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(plain.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Internal(format!("argon2: {e}")))
}

/// True when `plain` matches the PHC hash. A malformed hash never matches. CPU-heavy.
pub fn verify_password(plain: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(plain.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Refuses weak passwords with a reason the operator can act on.
pub fn check_strength(plain: &str, phone: Option<&Phone>) -> Result<(), AuthError> {
    let weak = |reason: &str| Err(AuthError::WeakPassword(reason.to_owned()));
    let chars = plain.chars().count();
    if chars < MIN_LENGTH {
        return weak(&format!("use at least {MIN_LENGTH} characters"));
    }
    if chars > MAX_LENGTH {
        return weak(&format!("use at most {MAX_LENGTH} characters"));
    }
    if plain.chars().all(|c| c.is_ascii_digit()) {
        return weak("it must not be only digits");
    }
    let mut distinct: Vec<char> = plain.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 4 {
        return weak("it repeats too few different characters");
    }
    let lower = plain.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        return weak("it is one of the most common passwords");
    }
    if let Some(phone) = phone {
        // The national number (`81234567890`) is in every spelling of the phone.
        let national = phone.as_str().trim_start_matches("+62");
        let digits: String = plain.chars().filter(char::is_ascii_digit).collect();
        if national.len() >= 6 && digits.contains(national) {
            return weak("it must not contain the phone number");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", "not a phc string"));
        let again = hash_password("correct horse battery").unwrap();
        assert_ne!(hash, again, "salts are random");
    }

    #[test]
    fn dummy_hash_parses_with_the_default_parameters() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let params = argon2::Params::try_from(&parsed).unwrap();
        let default = argon2::Params::default();
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (default.m_cost(), default.t_cost(), default.p_cost())
        );
        assert!(!verify_password("", DUMMY_HASH));
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        let phone = Phone::parse("081234567890").unwrap();
        let reason = |p: &str| match check_strength(p, Some(&phone)) {
            Err(AuthError::WeakPassword(r)) => r,
            other => panic!("{p:?} should be weak, got {other:?}"),
        };
        assert!(reason("short1").contains("at least 10"));
        assert!(reason("12345678901234").contains("only digits"));
        assert!(reason("aaaaaaaaaaab").contains("different characters"));
        assert!(reason("Password123").contains("common"));
        assert!(reason("BISMILLAH123").contains("common"));
        assert!(reason("081234567890x").contains("phone"));
        assert!(reason("pw+6281234567890").contains("phone"));
        assert!(reason(&"ab1".repeat(50)).contains("at most"));
        assert!(check_strength("kopi-susu-2026!", Some(&phone)).is_ok());
        assert!(check_strength("kopi-susu-2026!", None).is_ok());
    }
}
