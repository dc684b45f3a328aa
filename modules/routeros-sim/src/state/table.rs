//! Rows and tables: a menu's rows keyed by `.id`, the lookup index, and the value formats
//! (MACs, durations) rows hold as RouterOS prints them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One row of a menu: properties in insertion order (`.id` first), values as RouterOS prints them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub props: Vec<(String, String)>,
}

impl Row {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, key: &str, value: &str) {
        match self.props.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => {
                v.clear();
                v.push_str(value);
            }
            None => self.props.push((key.to_owned(), value.to_owned())),
        }
    }

    pub fn unset(&mut self, key: &str) {
        self.props.retain(|(k, _)| k != key);
    }

    pub(super) fn number(&self, key: &str) -> u64 {
        self.get(key).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    pub(super) fn is_true(&self, key: &str) -> bool {
        self.get(key) == Some("true")
    }
}

/// A menu's rows keyed by the numeric part of `.id`; ids only ever increase.
#[derive(Debug, Clone, Default)]
pub struct Table {
    next_id: u64,
    pub rows: BTreeMap<u64, Row>,
    /// Ids of rows that were given a value in an [`INDEXED`] field (lower-cased). Only a hint,
    /// always checked against the row: removals leave stale ids behind, while a value can only
    /// enter a row through [`Table::insert`] or [`Table::note`] (the `set` command), which both
    /// record it. Keeps duplicate checks and bypass refreshes linear-free at 20k+ rows.
    index: HashMap<(&'static str, String), BTreeSet<u64>>,
}

/// Fields the simulator looks rows up by.
const INDEXED: [&str; 2] = ["mac-address", "address"];

impl Table {
    pub(super) fn insert(&mut self, mut props: Vec<(String, String)>) -> String {
        self.next_id += 1;
        let id = format!("*{:X}", self.next_id);
        props.insert(0, (".id".to_owned(), id.clone()));
        for (k, v) in &props {
            self.note(self.next_id, k, v);
        }
        self.rows.insert(self.next_id, Row { props });
        id
    }

    /// Records that row `id` now has `value` in field `key` (ignored for unindexed fields).
    pub(super) fn note(&mut self, id: u64, key: &str, value: &str) {
        if let Some(field) = INDEXED.iter().find(|f| **f == key) {
            self.index
                .entry((field, value.to_ascii_lowercase()))
                .or_default()
                .insert(id);
        }
    }

    /// Ids of the rows whose `key` equals `value` (ASCII case ignored), ascending.
    pub(super) fn ids_where<'a>(
        &'a self,
        key: &'static str,
        value: &'a str,
    ) -> impl Iterator<Item = u64> + 'a {
        self.index
            .get(&(key, value.to_ascii_lowercase()))
            .into_iter()
            .flatten()
            .copied()
            .filter(move |id| {
                self.rows
                    .get(id)
                    .and_then(|r| r.get(key))
                    .is_some_and(|v| v.eq_ignore_ascii_case(value))
            })
    }

    pub(super) fn find(&self, mut pred: impl FnMut(&Row) -> bool) -> Option<u64> {
        self.rows.iter().find(|(_, r)| pred(r)).map(|(k, _)| *k)
    }

    pub(super) fn find_by_mac(&self, mac: &str) -> Option<u64> {
        self.ids_where("mac-address", mac).next()
    }
}

pub(super) fn parse_id(id: &str) -> Option<u64> {
    u64::from_str_radix(id.strip_prefix('*')?, 16).ok()
}

/// RouterOS prints MACs upper case with colons; accept `aa:bb:…`, `aa-bb-…` and bare hex.
/// (Kept local rather than using the kernel's `Mac`, so the simulator and its fuzz target
/// build without the kernel's web and database dependencies.)
pub fn normalise_mac(input: &str) -> Option<String> {
    let input = input.trim();
    let hex: Vec<u8> = input
        .bytes()
        .filter(|b| !matches!(b, b':' | b'-' | b'.'))
        .collect();
    let separators = input.len() - hex.len();
    if hex.len() != 12 || !matches!(separators, 0 | 2 | 5) || !hex.iter().all(u8::is_ascii_hexdigit)
    {
        return None;
    }
    let upper: Vec<String> = hex
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).to_ascii_uppercase())
        .collect();
    Some(upper.join(":"))
}

/// Formats seconds the way RouterOS prints durations: `1w2d3h4m5s`, `0s` for zero.
pub fn format_duration(mut secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [
        ('w', 604_800),
        ('d', 86_400),
        ('h', 3_600),
        ('m', 60),
        ('s', 1),
    ] {
        if secs >= size {
            out.push_str(&(secs / size).to_string());
            out.push(unit);
            secs %= size;
        }
    }
    out
}

/// Parses `1w2d3h4m5s` (any subset, in order) or plain seconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    if let Ok(n) = text.parse() {
        return Some(n);
    }
    let mut total = 0u64;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let size = match c {
            'w' => 604_800,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let n: u64 = digits.parse().ok()?;
        total = total.checked_add(n.checked_mul(size)?)?;
        digits.clear();
    }
    digits.is_empty().then_some(total)
}
