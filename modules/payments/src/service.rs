//! The payments service: one constructor from [`Deps`], used by the app, the CLI and tests.

use std::collections::BTreeMap;
use std::sync::Arc;

use lpsaring_kernel::locks::StripedLocks;
use lpsaring_kernel::ports::audit::{AuditEntry, AuditSink};
use lpsaring_kernel::ports::users::{UserDirectory, VoucherAccounts};
use lpsaring_kernel::ports::{PaymentGateway, Router};
use lpsaring_kernel::{Clock, EphemeralStore};
use sea_orm::DatabaseConnection;

use crate::settings::PaymentsSettings;

/// A loaded payment plugin as the kernel port, and whether it is a development provider (the
/// sandbox: only those get the `/pay/sandbox/{order_id}` checkout).
#[derive(Clone)]
pub struct Gateway {
    pub port: Arc<dyn PaymentGateway>,
    pub development_only: bool,
}

pub struct Deps {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub store: Arc<dyn EphemeralStore>,
    pub quota: Arc<lpsaring_quota::Service>,
    pub users: Arc<dyn UserDirectory>,
    /// Makes and finds voucher login accounts (auth owns users).
    pub accounts: Arc<dyn VoucherAccounts>,
    pub audit: Arc<dyn AuditSink>,
    /// The router, for the admin's live list of hotspot profiles (`None` offline: the CLI).
    pub router: Option<Arc<dyn Router>>,
    /// Every loaded payment plugin: each receives its webhooks; `settings.plugin` names the one
    /// new orders go to.
    pub gateways: Vec<Gateway>,
    pub settings: PaymentsSettings,
    /// The portal's public base URL, for status links and the provider's return URL.
    pub public_url: Option<String>,
    /// Signs status links; the app derives it from the server secret.
    pub link_key: [u8; 32],
    /// Keys the voucher lookup hash and seals the codes for reprints; the app derives it from
    /// the server secret (the CLI must use the same one, or the service cannot read its codes).
    pub voucher_key: [u8; 32],
}

pub struct Service {
    pub(crate) db: DatabaseConnection,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) store: Arc<dyn EphemeralStore>,
    pub(crate) quota: Arc<lpsaring_quota::Service>,
    pub(crate) users: Arc<dyn UserDirectory>,
    pub(crate) accounts: Arc<dyn VoucherAccounts>,
    pub(crate) audit: Arc<dyn AuditSink>,
    pub(crate) router: Option<Arc<dyn Router>>,
    pub(crate) gateways: BTreeMap<String, Gateway>,
    pub(crate) settings: PaymentsSettings,
    pub(crate) public_url: String,
    pub(crate) link_key: [u8; 32],
    pub(crate) voucher_keys: crate::vouchers::code::CodeKeys,
    /// Statements about one order run one at a time in this process (see [`StripedLocks`]).
    pub(crate) order_locks: StripedLocks,
    pub(crate) on_sale: crate::catalog::OnSale,
}

impl Service {
    pub fn new(deps: Deps) -> Self {
        let gateways = deps
            .gateways
            .into_iter()
            .map(|g| (g.port.name().to_owned(), g))
            .collect();
        Self {
            db: deps.db,
            clock: deps.clock,
            store: deps.store,
            quota: deps.quota,
            users: deps.users,
            accounts: deps.accounts,
            audit: deps.audit,
            router: deps.router,
            gateways,
            settings: deps.settings,
            public_url: deps
                .public_url
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_owned(),
            link_key: deps.link_key,
            voucher_keys: crate::vouchers::code::CodeKeys::new(&deps.voucher_key),
            order_locks: StripedLocks::new(64),
            on_sale: Default::default(),
        }
    }

    pub fn settings(&self) -> &PaymentsSettings {
        &self.settings
    }

    pub(crate) fn gateway(&self, name: &str) -> Option<&Gateway> {
        self.gateways.get(name)
    }

    /// The gateway new orders go to, when one is configured and loaded.
    pub(crate) fn active_gateway(&self) -> Option<&Gateway> {
        self.settings
            .plugin
            .as_deref()
            .and_then(|name| self.gateways.get(name))
    }

    /// Records an audit entry; the audit log being down never fails a payment.
    pub(crate) async fn audit(&self, entry: AuditEntry) {
        if let Err(e) = self.audit.record(entry).await {
            tracing::warn!(error = %e, "audit entry not recorded");
        }
    }
}
