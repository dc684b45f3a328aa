//! Small parsers for the value formats RouterOS prints in API replies.

use lpsaring_kernel::Mac;

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
