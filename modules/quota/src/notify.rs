//! Which notices a sync owes a user (pure), and their texts from the template file.
//!
//! Each level is announced once: the account remembers the smallest low-quota level and expiry
//! level already sent, and the last status seen. A grant clears the levels (re-arms them).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::api::AccessStatus;
use crate::error::ConfigError;
use crate::settings::{GIB, MIB};

/// A notice owed to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    LowQuota { level: i64 },
    ExpirySoon { days: i64 },
    Status(AccessStatus),
}

impl Notice {
    fn template(self) -> Option<&'static str> {
        Some(match self {
            Notice::LowQuota { .. } => "low_quota",
            Notice::ExpirySoon { .. } => "expiry_soon",
            Notice::Status(AccessStatus::Fup) => "status_fup",
            Notice::Status(AccessStatus::Habis) => "status_habis",
            Notice::Status(AccessStatus::Expired) => "status_expired",
            Notice::Status(AccessStatus::Blocked) => "status_blocked",
            Notice::Status(_) => return None,
        })
    }
}

/// What the account remembers about notices already sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoticeMemory {
    pub low_notified: Option<i64>,
    pub expiry_notified: Option<i64>,
    pub last_status: Option<AccessStatus>,
}

/// The facts a notice decision needs.
#[derive(Debug, Clone, Copy)]
pub struct NoticeFacts {
    pub status: AccessStatus,
    pub purchased: i64,
    pub remaining: i64,
    pub expires_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// Notices owed now and the memory to store. Levels are largest first. At most one low-quota and
/// one expiry notice per run (the smallest level crossed), so a big jump sends one message.
pub fn due(
    facts: &NoticeFacts,
    memory: NoticeMemory,
    low_levels: &[i64],
    expiry_levels: &[i64],
) -> (Vec<Notice>, NoticeMemory) {
    let mut out = Vec::new();
    let mut next = memory;
    let status = facts.status;
    if memory.last_status != Some(status) {
        // The first sight of an account only records its status: a new user is not told their
        // (empty) quota is used up.
        if memory.last_status.is_some()
            && matches!(
                status,
                AccessStatus::Fup
                    | AccessStatus::Habis
                    | AccessStatus::Expired
                    | AccessStatus::Blocked
            )
        {
            out.push(Notice::Status(status));
        }
        next.last_status = Some(status);
    }
    if matches!(status, AccessStatus::Ok | AccessStatus::Fup) && facts.purchased > 0 {
        let crossed = low_levels
            .iter()
            .copied()
            .filter(|l| facts.remaining <= *l)
            .min();
        if let Some(level) = crossed
            && memory.low_notified.is_none_or(|n| n > level)
        {
            out.push(Notice::LowQuota { level });
            next.low_notified = Some(level);
        }
    }
    if crate::status::has_access(status)
        && let Some(at) = facts.expires_at
    {
        let left = at - facts.now;
        let crossed = expiry_levels
            .iter()
            .copied()
            .filter(|d| left <= chrono::Duration::days(*d))
            .min();
        if let Some(days) = crossed
            && memory.expiry_notified.is_none_or(|n| n > days)
        {
            out.push(Notice::ExpirySoon { days });
            next.expiry_notified = Some(days);
        }
    }
    (out, next)
}

/// `1.50 GB`, `200 MB`, `512 KB`: integer arithmetic, display only.
pub fn human_bytes(bytes: i64) -> String {
    let b = bytes.max(0);
    if b >= GIB {
        format!("{}.{:02} GB", b / GIB, (b % GIB) * 100 / GIB)
    } else if b >= MIB {
        format!("{} MB", b / MIB)
    } else {
        format!("{} KB", b / 1024)
    }
}

const KINDS: [&str; 6] = [
    "low_quota",
    "expiry_soon",
    "status_fup",
    "status_habis",
    "status_expired",
    "status_blocked",
];
const PLACEHOLDERS: [&str; 6] = [
    "name",
    "remaining",
    "purchased",
    "used",
    "days",
    "expires_at",
];

/// The built-in texts (Indonesian and English).
pub const DEFAULT_TEMPLATES: &str = include_str!("../templates/messages.toml");

/// Message texts of every language in the file, checked at start; the configured language's
/// are used for users who chose none (or one the file lacks).
#[derive(Debug, Clone)]
pub struct Templates {
    texts: BTreeMap<String, String>,
    by_lang: BTreeMap<String, BTreeMap<String, String>>,
    tz: Tz,
}

/// Values for a notice's placeholders.
#[derive(Debug, Clone)]
pub struct NoticeContext<'a> {
    pub name: &'a str,
    pub purchased: i64,
    pub used: i64,
    pub remaining: i64,
    pub expires_at: Option<DateTime<Utc>>,
    /// The language the user chose; `None` for the configured one.
    pub lang: Option<lpsaring_kernel::Lang>,
}

impl Templates {
    /// Parses the file and checks every language has every text, each using only known
    /// placeholders with balanced braces.
    pub fn parse(text: &str, lang: &str, tz: Tz) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError {
            key: "quota.templates_path",
            message,
        };
        let root: BTreeMap<String, BTreeMap<String, String>> = toml::from_str(text)
            .map_err(|e| invalid(format!("not valid TOML: {}", e.message())))?;
        for (language, texts) in &root {
            for kind in KINDS {
                let body = texts
                    .get(kind)
                    .ok_or_else(|| invalid(format!("[{language}] is missing `{kind}`")))?;
                check_placeholders(body)
                    .map_err(|m| invalid(format!("[{language}] {kind}: {m}")))?;
            }
            if let Some(extra) = texts.keys().find(|k| !KINDS.contains(&k.as_str())) {
                return Err(invalid(format!("[{language}] has unknown text `{extra}`")));
            }
        }
        let texts = root.get(lang).cloned().ok_or_else(|| ConfigError {
            key: "quota.notify_lang",
            message: format!("the message templates have no [{lang}] texts"),
        })?;
        Ok(Self {
            texts,
            by_lang: root,
            tz,
        })
    }

    /// The text for a notice; `None` for statuses that send none.
    pub fn render(&self, notice: Notice, ctx: &NoticeContext<'_>) -> Option<String> {
        let texts = ctx
            .lang
            .and_then(|l| self.by_lang.get(l.code()))
            .unwrap_or(&self.texts);
        let body = texts.get(notice.template()?)?;
        let days = match notice {
            Notice::ExpirySoon { days } => days.to_string(),
            _ => String::new(),
        };
        let expires = ctx
            .expires_at
            .map(|at| {
                at.with_timezone(&self.tz)
                    .format("%d-%m-%Y %H:%M")
                    .to_string()
            })
            .unwrap_or_else(|| "-".to_owned());
        Some(
            body.replace("{name}", ctx.name)
                .replace("{remaining}", &human_bytes(ctx.remaining))
                .replace("{purchased}", &human_bytes(ctx.purchased))
                .replace("{used}", &human_bytes(ctx.used))
                .replace("{days}", &days)
                .replace("{expires_at}", &expires),
        )
    }
}

fn check_placeholders(body: &str) -> Result<(), String> {
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| "an opening `{` is never closed".to_owned())?;
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!("unknown placeholder {{{name}}}"));
        }
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err("a `}` without an opening `{`".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn facts(status: AccessStatus, remaining: i64) -> NoticeFacts {
        NoticeFacts {
            status,
            purchased: 10 * GIB,
            remaining,
            expires_at: None,
            now: DateTime::from_timestamp(1_767_225_600, 0).unwrap(),
        }
    }

    const LOW: [i64; 2] = [GIB, 200 * MIB];
    const DAYS: [i64; 2] = [3, 1];

    #[test]
    fn each_low_level_once_and_a_jump_sends_one() {
        let mut mem = NoticeMemory {
            last_status: Some(AccessStatus::Ok),
            ..NoticeMemory::default()
        };
        let (n, m) = due(&facts(AccessStatus::Ok, 2 * GIB), mem, &LOW, &DAYS);
        assert!(n.is_empty());
        mem = m;
        let (n, m) = due(&facts(AccessStatus::Ok, GIB), mem, &LOW, &DAYS);
        assert_eq!(n, vec![Notice::LowQuota { level: GIB }]);
        mem = m;
        let (n, m) = due(&facts(AccessStatus::Ok, GIB - 5), mem, &LOW, &DAYS);
        assert!(n.is_empty(), "same level again");
        mem = m;
        let (n, m) = due(&facts(AccessStatus::Ok, 100), mem, &LOW, &DAYS);
        assert_eq!(n, vec![Notice::LowQuota { level: 200 * MIB }]);
        mem = m;
        // re-armed by a grant: levels cleared
        mem.low_notified = None;
        let (n, _) = due(&facts(AccessStatus::Ok, 100), mem, &LOW, &DAYS);
        assert_eq!(
            n,
            vec![Notice::LowQuota { level: 200 * MIB }],
            "a jump sends only the smallest"
        );
    }

    #[test]
    fn status_changes_notify_only_bad_transitions_and_not_the_first_sight() {
        let (n, m) = due(
            &facts(AccessStatus::Habis, 0),
            NoticeMemory::default(),
            &LOW,
            &DAYS,
        );
        assert!(n.is_empty());
        assert_eq!(m.last_status, Some(AccessStatus::Habis));
        let (n, m) = due(&facts(AccessStatus::Ok, 5 * GIB), m, &LOW, &DAYS);
        assert!(n.is_empty(), "ok is good news, no notice");
        let (n, m) = due(&facts(AccessStatus::Fup, 2 * GIB), m, &LOW, &DAYS);
        assert_eq!(n, vec![Notice::Status(AccessStatus::Fup)]);
        let (n, _) = due(&facts(AccessStatus::Fup, 2 * GIB), m, &LOW, &DAYS);
        assert!(n.is_empty());
    }

    #[test]
    fn expiry_at_three_and_one_day() {
        let mut f = facts(AccessStatus::Ok, 5 * GIB);
        let now = f.now;
        let mem = NoticeMemory {
            last_status: Some(AccessStatus::Ok),
            ..NoticeMemory::default()
        };
        f.expires_at = Some(now + Duration::days(3) + Duration::seconds(1));
        assert!(due(&f, mem, &LOW, &DAYS).0.is_empty());
        f.expires_at = Some(now + Duration::days(3));
        let (n, mem) = due(&f, mem, &LOW, &DAYS);
        assert_eq!(n, vec![Notice::ExpirySoon { days: 3 }]);
        f.expires_at = Some(now + Duration::hours(30));
        assert!(due(&f, mem, &LOW, &DAYS).0.is_empty());
        f.expires_at = Some(now + Duration::hours(20));
        assert_eq!(
            due(&f, mem, &LOW, &DAYS).0,
            vec![Notice::ExpirySoon { days: 1 }]
        );
    }

    #[test]
    fn built_in_templates_pass_the_check_and_render() {
        let t = Templates::parse(DEFAULT_TEMPLATES, "id", chrono_tz::Asia::Makassar).unwrap();
        let ctx = NoticeContext {
            name: "Budi",
            purchased: 10 * GIB,
            used: 9 * GIB,
            remaining: GIB + GIB / 2,
            expires_at: Some(DateTime::from_timestamp(1_767_225_600, 0).unwrap()),
            lang: None,
        };
        let text = t.render(Notice::LowQuota { level: GIB }, &ctx).unwrap();
        assert!(text.contains("Budi") && text.contains("1.50 GB"), "{text}");
        let text = t
            .render(Notice::Status(AccessStatus::Expired), &ctx)
            .unwrap();
        assert!(text.contains("01-01-2026 08:00"), "local time: {text}");
        assert!(t.render(Notice::Status(AccessStatus::Ok), &ctx).is_none());
        assert!(Templates::parse(DEFAULT_TEMPLATES, "en", chrono_tz::UTC).is_ok());
        // A user who chose English gets English whatever the configured language is.
        let en = NoticeContext {
            lang: Some(lpsaring_kernel::Lang::En),
            ..ctx
        };
        let english = t.render(Notice::LowQuota { level: GIB }, &en).unwrap();
        let indonesian = t.render(Notice::LowQuota { level: GIB }, &ctx).unwrap();
        assert_ne!(english, indonesian);
        let configured_en = Templates::parse(DEFAULT_TEMPLATES, "en", chrono_tz::UTC).unwrap();
        assert_eq!(
            english,
            configured_en
                .render(Notice::LowQuota { level: GIB }, &ctx)
                .unwrap()
        );
    }

    #[test]
    fn bad_templates_are_refused_at_start() {
        let typo = DEFAULT_TEMPLATES.replace("{remaining}.", "{remainig}.");
        let err = Templates::parse(&typo, "id", chrono_tz::UTC).unwrap_err();
        assert!(err.to_string().contains("remainig"), "{err}");
        assert_eq!(err.key, "quota.templates_path");
        let missing = "[id]\nlow_quota = \"x\"\n";
        assert!(Templates::parse(missing, "id", chrono_tz::UTC).is_err());
        let err = Templates::parse(DEFAULT_TEMPLATES, "fr", chrono_tz::UTC).unwrap_err();
        assert_eq!(err.key, "quota.notify_lang", "{err}");
        assert!(check_placeholders("a {name").is_err());
        assert!(check_placeholders("a name}").is_err());
    }
}
