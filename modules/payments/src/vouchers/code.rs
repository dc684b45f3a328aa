//! Voucher codes, pure: generation from an unambiguous alphabet, normalisation of what a person
//! types, the keyed lookup hash and the sealed (encrypted) copy kept for reprints.
//!
//! A code is a short visible prefix (the operator's, e.g. `RT5`) and ten random characters from
//! 32 symbols without `0 O 1 I` (50 bits), shown as `RT5-ABCDE-FGHJK`. Dashes, spaces and case do
//! not matter when it is typed back. The database holds only HMAC-SHA256(code) under a key derived
//! from the server secret (the lookup) and AES-256-GCM(code) under another (the reprint); a copy of
//! the database alone neither redeems nor prints a voucher.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hmac::{Hmac, Mac};
use rand::{Rng, RngCore};
use sha2::Sha256;

/// 24 letters and 8 digits: no `0`/`O`, no `1`/`I`.
pub const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Random characters after the prefix.
pub const RANDOM_LEN: usize = 10;
/// Longest visible prefix.
pub const MAX_PREFIX: usize = 6;
/// The prefix when the operator gives none.
pub const DEFAULT_PREFIX: &str = "V";

/// An operator's prefix, upper-cased: 1 to 6 letters or digits.
pub fn clean_prefix(prefix: Option<&str>) -> Result<String, &'static str> {
    let p = prefix
        .map_or(DEFAULT_PREFIX, str::trim)
        .to_ascii_uppercase();
    if p.is_empty() || p.len() > MAX_PREFIX || !p.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("prefix: 1 to 6 letters or digits");
    }
    Ok(p)
}

/// A new code `<prefix><10 random>` (normalised form, no dashes).
pub fn generate(prefix: &str, rng: &mut impl Rng) -> String {
    let mut code = String::with_capacity(prefix.len() + RANDOM_LEN);
    code.push_str(prefix);
    for _ in 0..RANDOM_LEN {
        code.push(char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]));
    }
    code
}

/// What a person typed, as stored: upper case, without spaces and dashes. `None` when it cannot
/// be a code (too short or long, or other characters), so nothing is looked up for it.
pub fn normalize(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let fits = (RANDOM_LEN + 1..=RANDOM_LEN + MAX_PREFIX).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_alphanumeric());
    fits.then_some(code)
}

/// The printed form: `PREFIX-ABCDE-FGHJK`.
pub fn display(code: &str, prefix_len: usize) -> String {
    if code.len() != prefix_len + RANDOM_LEN || !code.is_ascii() {
        return code.to_owned();
    }
    let (prefix, random) = code.split_at(prefix_len);
    let (a, b) = random.split_at(RANDOM_LEN / 2);
    format!("{prefix}-{a}-{b}")
}

/// The two keys of the voucher store, derived from the one the app gives the module.
#[derive(Clone)]
pub struct CodeKeys {
    lookup: [u8; 32],
    seal: [u8; 32],
}

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `data` under `key`.
fn mac(key: &[u8; 32], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = <HmacSha256 as KeyInit>::new_from_slice(key) else {
        return [0u8; 32];
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

impl CodeKeys {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            lookup: mac(key, b"voucher-lookup"),
            seal: mac(key, b"voucher-seal"),
        }
    }

    /// 64 hex characters: the unique lookup key of a normalised code.
    pub fn hash(&self, code: &str) -> String {
        hex::encode(mac(&self.lookup, code.as_bytes()))
    }

    /// base64(nonce ‖ AES-256-GCM(code)), with a fresh random nonce.
    pub fn seal(&self, code: &str) -> String {
        let cipher = Aes256Gcm::new(&self.seal.into());
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), code.as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        STANDARD_NO_PAD.encode(out)
    }

    /// The code back from [`Self::seal`]; `None` when it was sealed under another key or altered.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let bytes = STANDARD_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, body) = bytes.split_at(12);
        let cipher = Aes256Gcm::new(&self.seal.into());
        let plain = cipher.decrypt(Nonce::from_slice(nonce), body).ok()?;
        String::from_utf8(plain).ok()
    }
}

/// A CSV field that a spreadsheet shows as text: quoted, quotes doubled, and a leading
/// `= + - @` (or tab / CR) defused with an apostrophe so it is never read as a formula.
pub fn csv_field(value: &str) -> String {
    let defused = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_unambiguous_alphabet_and_differ() {
        let mut rng = rand::rng();
        let codes: Vec<String> = (0..2000).map(|_| generate("RT5", &mut rng)).collect();
        for code in &codes {
            assert_eq!(code.len(), 13);
            assert!(code.starts_with("RT5"));
            assert!(!code[3..].contains(['0', 'O', '1', 'I']), "{code}");
            assert_eq!(normalize(code).as_deref(), Some(code.as_str()));
        }
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len());
    }

    #[test]
    fn typing_is_forgiving_but_shapes_are_checked() {
        assert_eq!(
            normalize(" rt5-abcde-fghjk ").as_deref(),
            Some("RT5ABCDEFGHJK")
        );
        assert_eq!(display("RT5ABCDEFGHJK", 3), "RT5-ABCDE-FGHJK");
        for bad in [
            "",
            "ABC",
            "RT5ABCDEFGHJK<>",
            "ABCDEFGHJKLMNPQRST",
            "ÄBCDEFGHJKLMN",
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
        assert_eq!(clean_prefix(None).unwrap(), "V");
        assert_eq!(clean_prefix(Some(" rt05 ")).unwrap(), "RT05");
        assert!(clean_prefix(Some("")).is_err());
        assert!(clean_prefix(Some("TOOLONG")).is_err());
        assert!(clean_prefix(Some("A-B")).is_err());
    }

    #[test]
    fn hash_is_keyed_and_the_seal_opens_only_under_its_key() {
        let keys = CodeKeys::new(&[7; 32]);
        let other = CodeKeys::new(&[8; 32]);
        assert_eq!(keys.hash("V1234"), keys.hash("V1234"));
        assert_ne!(keys.hash("V1234"), other.hash("V1234"));
        assert_eq!(keys.hash("x").len(), 64);
        let sealed = keys.seal("VABCDEFGHJK");
        assert_ne!(sealed, keys.seal("VABCDEFGHJK"), "fresh nonce each time");
        assert!(!sealed.contains("ABCDEFGHJK"));
        assert_eq!(keys.open(&sealed).as_deref(), Some("VABCDEFGHJK"));
        assert_eq!(other.open(&sealed), None);
        assert_eq!(keys.open("garbage"), None);
        let mut tampered = STANDARD_NO_PAD.decode(&sealed).unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(keys.open(&STANDARD_NO_PAD.encode(tampered)), None);
    }

    #[test]
    fn csv_fields_never_become_formulas() {
        assert_eq!(csv_field("VABC"), "\"VABC\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "\"'+1\"");
        assert_eq!(csv_field("-1"), "\"'-1\"");
        assert_eq!(csv_field("@SUM"), "\"'@SUM\"");
    }
}
