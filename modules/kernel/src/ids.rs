//! Identity types with one canonical form each, so two spellings of a MAC or a phone number can
//! never become two rows.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Primary key of a user.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    salvo::oapi::ToSchema,
)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An Ethernet MAC address. Displays as RouterOS does: `AA:BB:CC:DD:EE:FF`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a MAC address: {0:?}")]
pub struct MacError(pub String);

impl Mac {
    /// Parses `AA:BB:CC:DD:EE:FF`, `aa-bb-cc-dd-ee-ff`, `aabb.ccdd.eeff` and `aabbccddeeff`
    /// (separators only in their usual places, one kind per address).
    pub fn parse(input: &str) -> Result<Self, MacError> {
        let text = input.trim();
        let bytes = text.as_bytes();
        let hex: Vec<u8> = match bytes.len() {
            12 => bytes.to_vec(),
            14 if bytes[4] == b'.' && bytes[9] == b'.' => {
                bytes.iter().copied().filter(|&b| b != b'.').collect()
            }
            17 if (bytes[2] == b':' || bytes[2] == b'-')
                && [5, 8, 11, 14].iter().all(|&i| bytes[i] == bytes[2]) =>
            {
                bytes
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % 3 != 2)
                    .map(|(_, b)| *b)
                    .collect()
            }
            _ => return Err(MacError(input.to_owned())),
        };
        // `from_str_radix` would accept a leading `+`; only hex digits are a MAC.
        if hex.len() != 12 || !hex.iter().all(u8::is_ascii_hexdigit) {
            return Err(MacError(input.to_owned()));
        }
        let mut out = [0u8; 6];
        for (i, pair) in hex.chunks(2).enumerate() {
            let text = std::str::from_utf8(pair).map_err(|_| MacError(input.to_owned()))?;
            out[i] = u8::from_str_radix(text, 16).map_err(|_| MacError(input.to_owned()))?;
        }
        Ok(Mac(out))
    }

    /// Locally administered (randomised, "private Wi-Fi address") MACs change per network.
    pub fn is_locally_administered(&self) -> bool {
        self.0[0] & 0x02 != 0
    }
}

impl FromStr for Mac {
    type Err = MacError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mac::parse(s)
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mac({self})")
    }
}

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Mac::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A phone number in E.164 form (`+6281234567890`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone number is empty")]
    Empty,
    #[error("the phone number may contain only digits, spaces, dashes and a leading +")]
    BadCharacters,
    #[error("the phone number has {0} digits; E.164 allows 8 to 15")]
    BadLength(usize),
    #[error("an Indonesian mobile number starts with 08, 628 or +628")]
    NotIndonesianMobile,
}

impl Phone {
    /// Normalises user input to E.164. Indonesian forms `08…`, `62…`, `8…` and `+62…` become
    /// `+62…`; other countries must be written with `+`. Spaces, dashes, dots and parentheses are
    /// ignored.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let plus = trimmed.starts_with('+');
        let rest = if plus { &trimmed[1..] } else { trimmed };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(PhoneError::BadCharacters),
            }
        }
        if digits.is_empty() {
            return Err(PhoneError::Empty);
        }
        let national = if plus {
            digits.strip_prefix("62")
        } else if let Some(local) = digits.strip_prefix("62") {
            Some(local)
        } else if let Some(local) = digits.strip_prefix('0') {
            Some(local)
        } else if digits.starts_with('8') {
            Some(digits.as_str())
        } else {
            return Err(PhoneError::NotIndonesianMobile);
        };
        let e164_digits = match national {
            Some(local) => {
                let local = local.trim_start_matches('0');
                if !local.starts_with('8') {
                    return Err(PhoneError::NotIndonesianMobile);
                }
                format!("62{local}")
            }
            None => digits,
        };
        if !(8..=15).contains(&e164_digits.len()) {
            return Err(PhoneError::BadLength(e164_digits.len()));
        }
        Ok(Phone(format!("+{e164_digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The local form (`0812…`) MikroTik hotspot user names use for Indonesian numbers.
    pub fn local_form(&self) -> String {
        match self.0.strip_prefix("+62") {
            Some(rest) => format!("0{rest}"),
            None => self.0.trim_start_matches('+').to_owned(),
        }
    }

    /// `+62812****7890`: enough to recognise, not enough to harvest. For logs and pages.
    pub fn masked(&self) -> String {
        let s = &self.0;
        if s.len() <= 8 {
            return "****".to_owned();
        }
        format!("{}****{}", &s[..6], &s[s.len() - 4..])
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Phone {
    type Err = PhoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phone::parse(s)
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Phone::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_accepts_common_spellings_and_prints_router_style() {
        for input in [
            "aa:bb:cc:dd:ee:0f",
            "AA-BB-CC-DD-EE-0F",
            "aabb.ccdd.ee0f",
            "aabbccddee0f",
        ] {
            assert_eq!(
                Mac::parse(input).unwrap().to_string(),
                "AA:BB:CC:DD:EE:0F",
                "{input}"
            );
        }
    }

    #[test]
    fn mac_rejects_garbage() {
        for input in [
            "",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:gg",
            "aa:bb:cc:dd:ee:ff:00",
            "a:abb:cc:dd:ee:ff",
        ] {
            assert!(Mac::parse(input).is_err(), "{input}");
        }
    }

    #[test]
    fn mac_knows_randomised_addresses() {
        assert!(
            Mac::parse("DA:00:00:00:00:01")
                .unwrap()
                .is_locally_administered()
        );
        assert!(
            !Mac::parse("D8:00:00:00:00:01")
                .unwrap()
                .is_locally_administered()
        );
    }

    #[test]
    fn indonesian_forms_normalise_to_e164() {
        for input in [
            "081234567890",
            "6281234567890",
            "81234567890",
            "+62 812-3456-7890",
            "+62081234567890",
        ] {
            assert_eq!(
                Phone::parse(input).unwrap().as_str(),
                "+6281234567890",
                "{input}"
            );
        }
    }

    #[test]
    fn foreign_numbers_need_a_plus() {
        assert_eq!(
            Phone::parse("+1 415 555 0100").unwrap().as_str(),
            "+14155550100"
        );
        assert_eq!(
            Phone::parse("14155550100"),
            Err(PhoneError::NotIndonesianMobile)
        );
    }

    #[test]
    fn bad_phones_say_why() {
        assert_eq!(Phone::parse("  "), Err(PhoneError::Empty));
        assert_eq!(Phone::parse("0812abc"), Err(PhoneError::BadCharacters));
        assert_eq!(Phone::parse("0812"), Err(PhoneError::BadLength(5)));
        assert_eq!(
            Phone::parse("+1234567890123456"),
            Err(PhoneError::BadLength(16))
        );
        assert_eq!(
            Phone::parse("0212345678"),
            Err(PhoneError::NotIndonesianMobile)
        );
    }

    #[test]
    fn local_form_and_mask() {
        let p = Phone::parse("081234567890").unwrap();
        assert_eq!(p.local_form(), "081234567890");
        assert_eq!(p.masked(), "+62812****7890");
    }
}
