//! Parsers for what RouterOS prints in API replies: value formats (durations, booleans, MACs)
//! and whole rows of the menus we read, each beside the proplist that asks for exactly the
//! properties it reads.

use std::net::Ipv4Addr;
use std::sync::Arc;

use lpsaring_kernel::Mac;
use lpsaring_kernel::ports::router::{
    AddressListEntry, BindingType, HostEntry, HotspotUser, IpBinding, OwnedComment, RouterError,
};

use crate::client::Row;

/// Properties of a host print: exactly what [`HostEntry`] holds.
pub const HOST_PROPLIST: [&str; 11] = [
    ".id",
    "mac-address",
    "address",
    "to-address",
    "server",
    "bytes-in",
    "bytes-out",
    "uptime",
    "authorized",
    "bypassed",
    "comment",
];

/// Properties of an ip-binding print: what [`IpBinding`] holds.
pub(crate) const BINDING_PROPLIST: [&str; 5] = [".id", "mac-address", "type", "server", "comment"];
/// Properties of an address-list print: what [`AddressListEntry`] holds.
pub(crate) const ENTRY_PROPLIST: [&str; 4] = [".id", "list", "address", "comment"];
/// Properties of a hotspot user print: what [`HotspotUser`] holds.
pub(crate) const USER_PROPLIST: [&str; 4] = [".id", "name", "profile", "comment"];

/// A property's value; an empty value counts as absent.
pub(crate) fn get<'a>(row: &'a Row, key: &str) -> Option<&'a str> {
    row.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

pub(crate) fn ip(row: &Row, key: &str) -> Option<Ipv4Addr> {
    get(row, key)?.parse().ok()
}

fn number(row: &Row, key: &str) -> u64 {
    get(row, key).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// The row's comment when it is ours (`lpsaring|…`).
pub(crate) fn ours(row: &Row) -> Option<OwnedComment> {
    OwnedComment::parse(get(row, "comment")?)
}

pub(crate) fn id(row: &Row) -> Result<String, RouterError> {
    get(row, ".id")
        .map(str::to_owned)
        .ok_or_else(|| RouterError::Protocol("row without .id".into()))
}

/// Parses one host row; `None` (and a log line) for a row without a usable MAC.
pub fn parse_host(row: &Row) -> Option<HostEntry> {
    let mac = get(row, "mac-address").and_then(parse_mac);
    let Some(mac) = mac else {
        tracing::warn!(row = ?row.get(".id"), "hotspot host without a usable mac-address; skipped");
        return None;
    };
    Some(HostEntry {
        id: get(row, ".id")?.to_owned(),
        mac,
        address: ip(row, "address"),
        to_address: ip(row, "to-address"),
        server: get(row, "server").map(str::to_owned),
        bytes_in: number(row, "bytes-in"),
        bytes_out: number(row, "bytes-out"),
        uptime_secs: get(row, "uptime").and_then(parse_duration).unwrap_or(0),
        authorized: get(row, "authorized").and_then(parse_bool).unwrap_or(false),
        bypassed: get(row, "bypassed").and_then(parse_bool).unwrap_or(false),
        comment: get(row, "comment").map(str::to_owned),
    })
}

/// One of our ip-binding rows; `None` for a row that is not ours.
pub(crate) fn parse_binding(row: &Row) -> Option<IpBinding> {
    Some(IpBinding {
        comment: ours(row)?,
        id: get(row, ".id")?.to_owned(),
        mac: get(row, "mac-address").and_then(parse_mac)?,
        kind: binding_type(get(row, "type")),
        server: get(row, "server").map(str::to_owned),
    })
}

/// Our address-list rows. The router prints a list's rows together: each name is allocated
/// once per run of rows and shared.
pub(crate) fn parse_entries(rows: &[Row]) -> Vec<AddressListEntry> {
    let mut last_list: Option<Arc<str>> = None;
    rows.iter()
        .filter_map(|r| {
            let name = get(r, "list")?;
            let list = match &last_list {
                Some(l) if **l == *name => l.clone(),
                _ => last_list.insert(Arc::from(name)).clone(),
            };
            Some(AddressListEntry {
                comment: ours(r)?,
                id: get(r, ".id")?.to_owned(),
                list,
                address: ip(r, "address")?,
            })
        })
        .collect()
}

/// One of our hotspot users; `None` for a row that is not ours.
pub(crate) fn parse_user(row: &Row) -> Option<HotspotUser> {
    Some(HotspotUser {
        comment: ours(row)?,
        id: get(row, ".id")?.to_owned(),
        name: get(row, "name")?.to_owned(),
        profile: get(row, "profile").unwrap_or("default").to_owned(),
    })
}

fn binding_type(text: Option<&str>) -> BindingType {
    match text {
        Some("bypassed") => BindingType::Bypassed,
        Some("blocked") => BindingType::Blocked,
        _ => BindingType::Regular,
    }
}

/// Parses a RouterOS duration into whole seconds: `1w2d3h4m5s` (any subset, in order),
/// `150ms` style fractions (truncated), the v6 clock form `1d02:03:04` / `02:03:04`, or plain
/// seconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(secs) = text.parse::<u64>() {
        return Some(secs);
    }
    if let Some((days, clock)) = split_clock(text) {
        return Some(days? + clock?);
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(d) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
            continue;
        }
        let n = number.take()?;
        let unit = match c {
            'w' => 604_800,
            'd' => 86_400,
            'h' => 3_600,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                total = total.checked_add(n / 1000)?;
                continue;
            }
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    number.is_none().then_some(total)
}

/// `1d02:03:04` → (days, clock seconds); `None` when the text has no `:`.
fn split_clock(text: &str) -> Option<(Option<u64>, Option<u64>)> {
    if !text.contains(':') {
        return None;
    }
    let (days, clock) = match text.split_once('d') {
        Some((d, rest)) => (parse_duration(&format!("{d}d")), rest),
        None => (Some(0), text),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let clock_secs = if parts.len() == 3 {
        let h: u64 = parts[0].parse().ok()?;
        let m: u64 = parts[1].parse().ok()?;
        let s: u64 = parts[2].split('.').next()?.parse().ok()?;
        (m < 60 && s < 60).then_some(h * 3600 + m * 60 + s)
    } else {
        None
    };
    Some((days, clock_secs))
}

/// Formats seconds the way RouterOS accepts durations: `1w2d3h4m5s`, `0s` for zero.
pub fn format_duration(mut secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [
        ('w', 604_800),
        ('d', 86_400),
        ('h', 3_600),
        ('m', 60),
        ('s', 1),
    ] {
        if secs >= size {
            out.push_str(&(secs / size).to_string());
            out.push(unit);
            secs %= size;
        }
    }
    out
}

/// API booleans are `true`/`false`; `yes`/`no` (CLI style) are accepted too.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "true" | "yes" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

/// A MAC as RouterOS prints it (`AA:BB:CC:DD:EE:FF`), other common spellings accepted.
pub fn parse_mac(text: &str) -> Option<Mac> {
    Mac::parse(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("1w2d3h4m5s"),
            Some(604_800 + 2 * 86_400 + 3 * 3_600 + 4 * 60 + 5)
        );
        assert_eq!(parse_duration("5m30s"), Some(330));
        assert_eq!(parse_duration("0s"), Some(0));
        assert_eq!(parse_duration("42"), Some(42));
        assert_eq!(parse_duration("1m500ms"), Some(60));
        assert_eq!(parse_duration("2500ms"), Some(2));
        assert_eq!(parse_duration("1d02:03:04"), Some(86_400 + 7_384));
        assert_eq!(parse_duration("02:03:04"), Some(7_384));
        for bad in [
            "",
            "5",
            "5x",
            "m5",
            "1h2",
            "1:2",
            "02:61:00",
            "99999999999999999999w",
        ] {
            if bad == "5" {
                continue;
            }
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_round_trip() {
        for secs in [0, 1, 59, 60, 61, 3_599, 86_400, 694_861, 10_000_000] {
            assert_eq!(parse_duration(&format_duration(secs)), Some(secs), "{secs}");
        }
        assert_eq!(format_duration(694_861), "1w1d1h1m1s");
    }

    #[test]
    fn booleans_and_macs() {
        assert_eq!(parse_bool("true"), Some(true));
        assert_eq!(parse_bool("no"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(
            parse_mac("aa:bb:cc:dd:ee:ff")
                .map(|m| m.to_string())
                .as_deref(),
            Some("AA:BB:CC:DD:EE:FF")
        );
        assert_eq!(parse_mac("AA:BB:CC:DD:EE"), None);
    }
}
