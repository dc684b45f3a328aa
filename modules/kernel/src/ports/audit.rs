//! The audit log: security-relevant events (refresh-token theft, admin actions) that an operator
//! must be able to read later. admin implements it over its `audit_log` table; other modules
//! write through this port so none of them reads admin's tables.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// One event. `action` is a stable dotted name (`session.refresh_reuse`); `details` is free JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Who caused it, when known (the token's owner, the admin who clicked).
    pub actor: Option<UserId>,
    pub action: String,
    /// What it was about (`family:<id>`, `user:<id>`).
    pub target: Option<String>,
    pub details: Option<serde_json::Value>,
    pub ip: Option<String>,
}

impl AuditEntry {
    pub fn new(action: impl Into<String>) -> Self {
        Self {
            actor: None,
            action: action.into(),
            target: None,
            details: None,
            ip: None,
        }
    }

    pub fn actor(mut self, actor: UserId) -> Self {
        self.actor = Some(actor);
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn ip(mut self, ip: Option<String>) -> Self {
        self.ip = ip;
        self
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("audit log unavailable: {0}")]
pub struct AuditError(pub String);

#[async_trait]
pub trait AuditSink: Send + Sync {
    async fn record(&self, entry: AuditEntry) -> Result<(), AuditError>;
}

/// A sink that only logs; for tools and tests that have no audit table at hand.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogOnlyAudit;

#[async_trait]
impl AuditSink for LogOnlyAudit {
    async fn record(&self, entry: AuditEntry) -> Result<(), AuditError> {
        tracing::warn!(
            action = %entry.action,
            actor = ?entry.actor,
            target = ?entry.target,
            "audit"
        );
        Ok(())
    }
}
