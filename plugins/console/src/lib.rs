//! The console messenger: the development stand-in for WhatsApp.
//!
//! Each message is printed as one line to stderr and appended as one JSON line
//! `{"to", "text", "at"}` (documents add `"url"` and `"filename"`) to the outbox file: config key
//! `outbox`, by default `<data_dir>/outbox.jsonl`. The demo and the integration tests read one-time
//! codes from there.
//!
//! This is the one plugin that does I/O itself. The sans-IO rule exists so that network calls get
//! the host's allow-list, timeouts, retries and redaction; a local append to a file the operator
//! named has none of those concerns, and routing it through the host would mean giving every
//! plugin a "write a file" capability, which is worse. The plugin makes no network calls and its
//! manifest allows no hosts.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use lpsaring_plugin_api::{
    CallContext, ConfigKey, Manifest, MessageSent, MessagingPlugin, PROTOCOL_VERSION, PluginError,
    PluginKind, SendDocument, SendText, Step, export_plugin, phone_digits,
};
use serde::Serialize;

export_plugin!(messaging: ConsolePlugin);

/// See the crate docs.
#[derive(Debug, Default)]
pub struct ConsolePlugin;

/// One line of the outbox.
#[derive(Debug, Serialize)]
struct OutboxLine<'a> {
    to: &'a str,
    text: &'a str,
    at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filename: Option<&'a str>,
}

impl ConsolePlugin {
    /// Where messages go: `outbox` from config, else `<data_dir>/outbox.jsonl`.
    pub fn outbox_path(ctx: &CallContext) -> Result<PathBuf, PluginError> {
        if let Some(path) = ctx.config_str("outbox") {
            return Ok(PathBuf::from(path));
        }
        match &ctx.host.data_dir {
            Some(dir) => Ok(PathBuf::from(dir).join("outbox.jsonl")),
            None => Err(PluginError::invalid_input(
                "NO_OUTBOX",
                "set `outbox` in [plugins.console] or give the host a data_dir",
            )),
        }
    }

    fn deliver(&self, ctx: &CallContext, line: &OutboxLine<'_>) -> Step<MessageSent> {
        if let Err(e) = phone_digits(line.to) {
            return Step::Error(e);
        }
        let path = match Self::outbox_path(ctx) {
            Ok(path) => path,
            Err(e) => return Step::Error(e),
        };
        let mut json = match serde_json::to_string(line) {
            Ok(json) => json,
            Err(e) => return Step::Error(PluginError::permanent("ENCODE", e.to_string())),
        };
        json.push('\n');
        // One write_all of one line on an O_APPEND file: concurrent senders never interleave lines.
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(json.as_bytes()));
        if let Err(e) = written {
            return Step::Error(PluginError::retryable(
                "OUTBOX_WRITE",
                format!("cannot append to {}: {e}", path.display()),
            ));
        }
        eprintln!("[console messenger] to {}: {}", line.to, line.text);
        Step::Done(MessageSent { provider_id: None })
    }
}

impl MessagingPlugin for ConsolePlugin {
    fn manifest(&self, _ctx: &CallContext) -> Manifest {
        Manifest {
            name: "console".to_owned(),
            kind: PluginKind::Messaging,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            protocol_version: PROTOCOL_VERSION,
            description: "Development messenger: stderr and <data_dir>/outbox.jsonl".to_owned(),
            config_keys: vec![ConfigKey::new(
                "outbox",
                "outbox file; default <data_dir>/outbox.jsonl",
            )],
            allowed_hosts: Vec::new(),
            development_only: true,
            walled_garden_hosts: Vec::new(),
        }
    }

    fn send_text(&self, ctx: &CallContext, input: &SendText) -> Step<MessageSent> {
        let line = OutboxLine {
            to: &input.to,
            text: &input.text,
            at: &ctx.now,
            url: None,
            filename: None,
        };
        self.deliver(ctx, &line)
    }

    fn send_document(&self, ctx: &CallContext, input: &SendDocument) -> Step<MessageSent> {
        let line = OutboxLine {
            to: &input.to,
            text: &input.caption,
            at: &ctx.now,
            url: Some(&input.url),
            filename: Some(&input.filename),
        };
        self.deliver(ctx, &line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lpsaring_plugin_api::{ErrorKind, HostInfo};
    use serde_json::{Value, json};

    fn ctx(dir: &std::path::Path) -> CallContext {
        CallContext {
            now: "2026-01-01T00:00:00Z".into(),
            host: HostInfo {
                data_dir: Some(dir.display().to_string()),
                public_url: None,
            },
            ..Default::default()
        }
    }

    fn lines(path: &std::path::Path) -> Vec<Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn texts_and_documents_append_one_json_line_each() {
        let dir = tempfile::tempdir().unwrap();
        let plugin = ConsolePlugin;
        let text = SendText {
            to: "+6281234567890".into(),
            text: "Kode OTP: 123456".into(),
        };
        assert_eq!(
            plugin.send_text(&ctx(dir.path()), &text),
            Step::Done(MessageSent::default())
        );
        let doc = SendDocument {
            to: "+6281234567890".into(),
            caption: "Invoice".into(),
            url: "https://portal.example/i/1.pdf".into(),
            filename: "1.pdf".into(),
        };
        assert!(matches!(
            plugin.send_document(&ctx(dir.path()), &doc),
            Step::Done(_)
        ));
        let got = lines(&dir.path().join("outbox.jsonl"));
        assert_eq!(
            got[0],
            json!({"to": "+6281234567890", "text": "Kode OTP: 123456", "at": "2026-01-01T00:00:00Z"})
        );
        assert_eq!(got[1]["filename"], "1.pdf");
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn outbox_config_key_wins_over_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let mut ctx = ctx(dir.path());
        let custom = dir.path().join("custom.jsonl");
        ctx.config
            .insert("outbox".into(), json!(custom.display().to_string()));
        let text = SendText {
            to: "+6281234567890".into(),
            text: "x".into(),
        };
        assert!(matches!(
            ConsolePlugin.send_text(&ctx, &text),
            Step::Done(_)
        ));
        assert_eq!(lines(&custom).len(), 1);
    }

    #[test]
    fn bad_numbers_and_unwritable_outboxes_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let bad = SendText {
            to: "not a phone".into(),
            text: "x".into(),
        };
        assert!(
            matches!(ConsolePlugin.send_text(&ctx(dir.path()), &bad), Step::Error(e) if e.kind == ErrorKind::InvalidInput)
        );
        let mut ctx = ctx(dir.path());
        ctx.config.insert(
            "outbox".into(),
            json!(
                dir.path()
                    .join("missing/dir/outbox.jsonl")
                    .display()
                    .to_string()
            ),
        );
        let ok = SendText {
            to: "+6281234567890".into(),
            text: "x".into(),
        };
        assert!(
            matches!(ConsolePlugin.send_text(&ctx, &ok), Step::Error(e) if e.code == "OUTBOX_WRITE")
        );
        let no_dir = CallContext::default();
        assert!(
            matches!(ConsolePlugin.send_text(&no_dir, &ok), Step::Error(e) if e.code == "NO_OUTBOX")
        );
    }
}
