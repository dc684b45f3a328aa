//! Admin: the operator's side. For now only the audit log (security events and admin actions);
//! the dashboard and runtime settings come later. Owns the `settings` and `audit_log` tables.

pub mod audit;
mod entity;

pub use audit::{Audit, AuditRecord};
