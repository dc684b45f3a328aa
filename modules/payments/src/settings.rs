//! `[payments]` settings. Every field has a default so a partial table works; the app embeds
//! [`PaymentsSettings`] as `payments` in its settings and calls [`PaymentsSettings::validate`]
//! at start, so a bad value stops the portal with the key named.

use lpsaring_quota::api::ValidityMode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentsSettings {
    /// The payment plugin new orders go to (`payment-midtrans`, `payment-sandbox`); unset = no
    /// gateway sales (pages say so; webhooks of loaded plugins are still received).
    pub plugin: Option<String>,
    /// Order ids are `<prefix>-<12 upper-case hex>` (the original: `BD-LPSR`).
    pub order_prefix: String,
    /// How long the provider keeps a payment open (sent with `create_payment`).
    pub payment_expiry_minutes: u32,
    /// A pending order older than this is expired (and cancelled at the provider where it can).
    pub pending_window_hours: u32,
    /// Seconds between reconciliation passes over pending orders.
    pub reconcile_interval_secs: u64,
    /// Seconds between sweeps for paid orders whose quota was never written.
    pub sweep_interval_secs: u64,
    /// Days a status link (`?t=`) opens the order without a login.
    pub status_link_days: u32,
    /// Orders one user may start per 10 minutes (and twice that per IP).
    pub initiate_per_10_min: u32,
    /// How a paid package's validity counts: `extend` (from the later of now and the current
    /// expiry: time left is kept) or `reset` (from now, as the original).
    pub validity: ValidityMode,
}

impl Default for PaymentsSettings {
    fn default() -> Self {
        Self {
            plugin: None,
            order_prefix: "LPS".to_owned(),
            payment_expiry_minutes: 60,
            pending_window_hours: 24,
            reconcile_interval_secs: 60,
            sweep_interval_secs: 300,
            status_link_days: 30,
            initiate_per_10_min: 10,
            validity: ValidityMode::Extend,
        }
    }
}

impl PaymentsSettings {
    /// Checks values serde cannot; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let prefix_ok = !self.order_prefix.is_empty()
            && self.order_prefix.len() <= 20
            && self
                .order_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !prefix_ok {
            return Err((
                "payments.order_prefix".into(),
                "1 to 20 letters, digits or `-`".into(),
            ));
        }
        if !(5..=1440).contains(&self.payment_expiry_minutes) {
            return Err((
                "payments.payment_expiry_minutes".into(),
                "must be between 5 and 1440".into(),
            ));
        }
        if self.pending_window_hours == 0 {
            return Err((
                "payments.pending_window_hours".into(),
                "must be at least 1".into(),
            ));
        }
        for (key, value) in [
            (
                "payments.reconcile_interval_secs",
                self.reconcile_interval_secs,
            ),
            ("payments.sweep_interval_secs", self.sweep_interval_secs),
        ] {
            if value < 5 {
                return Err((key.into(), "must be at least 5".into()));
            }
        }
        if self.status_link_days == 0 {
            return Err((
                "payments.status_link_days".into(),
                "must be at least 1".into(),
            ));
        }
        if self.initiate_per_10_min == 0 {
            return Err((
                "payments.initiate_per_10_min".into(),
                "must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_tables_keep_defaults_and_bad_values_are_named() {
        let s: PaymentsSettings =
            toml::from_str("plugin = \"payment-sandbox\"\norder_prefix = \"BD-LPSR\"\n").unwrap();
        assert_eq!(s.plugin.as_deref(), Some("payment-sandbox"));
        assert_eq!(s.pending_window_hours, 24);
        assert!(s.validate().is_ok());
        let bad = PaymentsSettings {
            order_prefix: "a b".into(),
            ..PaymentsSettings::default()
        };
        assert_eq!(bad.validate().unwrap_err().0, "payments.order_prefix");
        let bad = PaymentsSettings {
            payment_expiry_minutes: 2,
            ..PaymentsSettings::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().0,
            "payments.payment_expiry_minutes"
        );
        assert!(toml::from_str::<PaymentsSettings>("plugins = \"x\"").is_err());
        assert_eq!(s.validity, ValidityMode::Extend);
        let reset: PaymentsSettings = toml::from_str("validity = \"reset\"").unwrap();
        assert_eq!(reset.validity, ValidityMode::Reset);
        assert!(toml::from_str::<PaymentsSettings>("validity = \"forever\"").is_err());
    }
}
