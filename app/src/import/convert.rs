//! The original's values in ours (pure): megabytes and gigabytes as exact bytes, its role,
//! approval and transaction-status words.
//!
//! The original counts in MiB (`BYTES_PER_MB = 1024 * 1024`), keeps used megabytes as
//! `NUMERIC(15,2)` and a package's quota as `NUMERIC(8,2)` gigabytes. Decimals arrive as text
//! (`::text` in the query) and are converted with integers only, so nothing is lost to floats.

use lpsaring_kernel::ports::users::Role;
use lpsaring_payments::api::OrderStatus;

/// Bytes in the original's megabyte.
pub const MIB: i64 = 1024 * 1024;

/// Whole megabytes (`BIGINT`) as bytes.
pub fn mb_to_bytes(mb: i64) -> Result<i64, String> {
    if mb < 0 {
        return Err(format!("negative megabytes: {mb}"));
    }
    mb.checked_mul(MIB)
        .ok_or_else(|| format!("{mb} MB does not fit in bytes"))
}

/// A non-negative decimal with at most two places (`"1234.56"`, `"7"`, `"0.5"`) in hundredths.
fn hundredths(text: &str) -> Result<i128, String> {
    let text = text.trim();
    let bad = || format!("not a decimal of two places: {text:?}");
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 20
    {
        return Err(bad());
    }
    // `NUMERIC(p,2)` prints exactly two places; more digits than that would be lost here.
    let frac = frac.trim_end_matches('0');
    if frac.len() > 2 {
        return Err(bad());
    }
    let cents = format!("{frac:0<2}");
    let whole: i128 = whole.parse().map_err(|_| bad())?;
    let cents: i128 = cents.parse().map_err(|_| bad())?;
    Ok(whole * 100 + cents)
}

/// Used megabytes (`NUMERIC(15,2)`) as bytes, to the nearest byte (a tie cannot happen: 2^20
/// hundredths of a byte never end in exactly a half).
pub fn decimal_mb_to_bytes(text: &str) -> Result<i64, String> {
    let h = hundredths(text)?;
    let bytes = (h * i128::from(MIB) + 50) / 100;
    i64::try_from(bytes).map_err(|_| format!("{text} MB does not fit in bytes"))
}

/// A package's quota (`data_quota_gb`, `NUMERIC(8,2)`): `None` for 0, which the original sells
/// as unlimited; otherwise the bytes its purchase granted there: whole megabytes,
/// `int(gb * 1024)`, times 2^20.
pub fn package_gb_to_bytes(text: &str) -> Result<Option<i64>, String> {
    let h = hundredths(text)?;
    if h == 0 {
        return Ok(None);
    }
    let mb = h * 1024 / 100;
    i64::try_from(mb * i128::from(MIB))
        .map(Some)
        .map_err(|_| format!("{text} GB does not fit in bytes"))
}

/// The original's `role`: `KOMANDAN` (a site-specific role this portal does not have) becomes
/// a plain user; the second value says so.
pub fn role(text: &str) -> Option<(Role, bool)> {
    match text.trim() {
        "KOMANDAN" => Some((Role::User, true)),
        other => Role::parse(other).map(|r| (r, false)),
    }
}

/// The original's `transactions.status`. `UNKNOWN` is what its initiation stored before the
/// gateway answered: still open, so pending (reconciliation settles or expires it).
pub fn order_status(text: &str) -> Option<OrderStatus> {
    match text.trim() {
        "PENDING" | "UNKNOWN" => Some(OrderStatus::Pending),
        "SUCCESS" => Some(OrderStatus::Paid),
        "FAILED" => Some(OrderStatus::Failed),
        "EXPIRED" => Some(OrderStatus::Expired),
        "CANCELLED" => Some(OrderStatus::Cancelled),
        _ => None,
    }
}

/// A package's `duration_days` as our validity in hours.
pub fn days_to_hours(days: i32) -> Result<i32, String> {
    if days <= 0 {
        return Err(format!("duration of {days} day(s)"));
    }
    days.checked_mul(24)
        .ok_or_else(|| format!("duration of {days} days is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn megabytes_are_exact_bytes() {
        assert_eq!(mb_to_bytes(0), Ok(0));
        assert_eq!(mb_to_bytes(10_240), Ok(10_737_418_240));
        assert!(mb_to_bytes(-1).is_err());
        assert!(mb_to_bytes(i64::MAX / 2).is_err());
        assert_eq!(decimal_mb_to_bytes("0.00"), Ok(0));
        assert_eq!(decimal_mb_to_bytes("1536"), Ok(1_610_612_736));
        assert_eq!(decimal_mb_to_bytes("1536.5"), Ok(1_611_137_024));
        // 0.01 MB = 10485.76 bytes: to the nearest byte.
        assert_eq!(decimal_mb_to_bytes("0.01"), Ok(10_486));
        assert_eq!(decimal_mb_to_bytes("1234.56"), Ok(1_294_529_987));
        assert_eq!(decimal_mb_to_bytes("7.50"), Ok(7_864_320));
        for bad in ["", "-1.00", "1.234", "1,5", "abc", ".5", "1e3"] {
            assert!(decimal_mb_to_bytes(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn package_gigabytes_grant_what_the_original_granted() {
        assert_eq!(package_gb_to_bytes("0.00"), Ok(None));
        assert_eq!(package_gb_to_bytes("5.00"), Ok(Some(5 * 1024 * MIB)));
        assert_eq!(package_gb_to_bytes("1.50"), Ok(Some(1536 * MIB)));
        // int(1.1 * 1024) = 1126 MB.
        assert_eq!(package_gb_to_bytes("1.10"), Ok(Some(1126 * MIB)));
        assert!(package_gb_to_bytes("-2.00").is_err());
    }

    #[test]
    fn words_of_the_original() {
        assert_eq!(role("KOMANDAN"), Some((Role::User, true)));
        assert_eq!(role("SUPER_ADMIN"), Some((Role::SuperAdmin, false)));
        assert_eq!(role("ROOT"), None);
        assert_eq!(order_status("UNKNOWN"), Some(OrderStatus::Pending));
        assert_eq!(order_status("SUCCESS"), Some(OrderStatus::Paid));
        assert_eq!(order_status("REFUND"), None);
        assert_eq!(days_to_hours(30), Ok(720));
        assert!(days_to_hours(0).is_err());
    }
}
