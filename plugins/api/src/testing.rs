//! Fixtures for a plugin's unit tests (feature `testing`; add it in `[dev-dependencies]`): the
//! call context a host would pass, and the same context resumed with an HTTP response, so each
//! plugin's tests say only what is particular to that provider (its config keys, its clock).
//!
//! ```
//! use lpsaring_plugin_api::testing::{context, resumed};
//! use serde_json::{Value, json};
//!
//! let ctx = context("2026-01-01T00:00:00Z", 1_767_225_600, [("token", json!("t-123"))]);
//! let next = resumed(&ctx, Value::Null, 200, r#"{"status":true}"#);
//! assert_eq!(next.config_str("token").as_deref(), Some("t-123"));
//! assert_eq!(next.resume.map(|r| r.response.status), Some(200));
//! ```

use serde_json::Value;

use crate::protocol::{CallContext, HttpResponse, Resume};

/// The context of a first call at `now` (RFC 3339) / `now_unix`, with `config` as the plugin's
/// `[plugins.<name>]` table.
pub fn context<'a>(
    now: &str,
    now_unix: i64,
    config: impl IntoIterator<Item = (&'a str, Value)>,
) -> CallContext {
    CallContext {
        now: now.to_owned(),
        now_unix,
        config: config.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        ..CallContext::default()
    }
}

/// `ctx` called back with the response (`status`, `body`) to the request it returned along
/// with `state`.
pub fn resumed(ctx: &CallContext, state: Value, status: u16, body: &str) -> CallContext {
    CallContext {
        resume: Some(Resume {
            state,
            response: HttpResponse::new(status, body.as_bytes().to_vec()),
        }),
        ..ctx.clone()
    }
}
