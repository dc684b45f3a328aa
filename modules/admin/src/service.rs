//! The admin service: the audit log (read, export, retention) behind the panel's pages and JSON.

use std::sync::Arc;

use lpsaring_kernel::Clock;
use lpsaring_kernel::csv::CsvWriter;
use sea_orm::DatabaseConnection;

use crate::audit::{Audit, AuditFilter, AuditPage, AuditRecord};
use crate::error::AdminError;
use crate::settings::AdminSettings;

pub struct Deps {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub settings: AdminSettings,
}

pub struct Service {
    audit: Arc<Audit>,
    settings: AdminSettings,
}

/// The audit CSV's columns.
const AUDIT_COLUMNS: &[&str] = &["id", "at", "actor", "action", "target", "details", "ip"];

impl Service {
    pub fn new(deps: Deps) -> Self {
        Self {
            audit: Arc::new(Audit::new(deps.db, deps.clock)),
            settings: deps.settings,
        }
    }

    /// The audit log, for the modules that write to it through the kernel's `AuditSink`.
    pub fn audit(&self) -> Arc<Audit> {
        self.audit.clone()
    }

    pub fn settings(&self) -> &AdminSettings {
        &self.settings
    }

    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        page: u64,
        per_page: u64,
    ) -> Result<AuditPage, AdminError> {
        Ok(self.audit.page(filter, page, per_page).await?)
    }

    /// Every matching entry as CSV (formulas neutralised by the kernel's writer).
    pub async fn audit_csv(&self, filter: &AuditFilter) -> Result<CsvWriter, AdminError> {
        let rows = self.audit.export(filter).await?;
        let mut csv = CsvWriter::with_header(AUDIT_COLUMNS);
        for r in rows {
            csv.row(audit_cells(&r));
        }
        Ok(csv)
    }

    /// Deletes entries older than `admin.audit_retention_days`; the daily job's work.
    pub async fn purge_audit(&self) -> Result<u64, AdminError> {
        Ok(self
            .audit
            .purge_older_than(self.settings.audit_retention_days)
            .await?)
    }
}

fn audit_cells(r: &AuditRecord) -> [String; 7] {
    [
        r.id.to_string(),
        r.at.to_rfc3339(),
        r.actor.map(|a| a.0.to_string()).unwrap_or_default(),
        r.action.clone(),
        r.target.clone().unwrap_or_default(),
        r.details
            .as_ref()
            .map(|d| d.to_string())
            .unwrap_or_default(),
        r.ip.clone().unwrap_or_default(),
    ]
}
