//! Admin: the operator's panel. Owns the `/admin` frame's front page, the audit log (written by
//! every module through the kernel's `AuditSink`, read at `/admin/audit` and
//! `GET /api/admin/audit`, purged after `admin.audit_retention_days`), and the `settings` and
//! `audit_log` tables. It depends on no other module: each module mounts its own
//! `/admin/<area>` pages in the kernel's `admin_shell` frame.

pub mod audit;
mod entity;
pub mod error;
mod figures;
mod jobs;
pub mod overview;
mod pages;
mod routes;
pub mod service;
pub mod settings;
mod user_record;

pub use audit::{Audit, AuditFilter, AuditPage, AuditRecord};
pub use error::AdminError;
pub use jobs::jobs;
pub use overview::{Overview, OverviewDeps, OverviewReport};
pub use routes::router;
pub use service::{Deps, Service};
pub use settings::AdminSettings;
