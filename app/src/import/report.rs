//! What an import did: counts per kind, every skipped row with its reason, and notes for the
//! operator. Printed by the CLI; tests read the fields.

use std::fmt;

use lpsaring_auth::users::printable;

/// The kinds of rows, in the order they are imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Users,
    Packages,
    Devices,
    Quota,
    Transactions,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Users,
        Kind::Packages,
        Kind::Devices,
        Kind::Quota,
        Kind::Transactions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Users => "users",
            Kind::Packages => "packages",
            Kind::Devices => "devices",
            Kind::Quota => "quota",
            Kind::Transactions => "transactions",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Rows read from the original.
    pub read: usize,
    /// Rows written here.
    pub created: usize,
    /// Rows already here (an earlier run, or `--merge`): unchanged.
    pub existing: usize,
    pub skipped: usize,
}

/// A row that did not come over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub kind: Kind,
    /// The original's id of the row.
    pub id: String,
    /// What an operator recognises it by (phone, MAC, package name, order id).
    pub what: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub dry_run: bool,
    counts: [Counts; 5],
    pub skipped: Vec<Skipped>,
    pub notes: Vec<String>,
}

impl Report {
    pub(super) fn new(dry_run: bool) -> Self {
        Self {
            dry_run,
            counts: [Counts::default(); 5],
            skipped: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn counts(&self, kind: Kind) -> Counts {
        self.counts[kind.index()]
    }

    /// The reasons rows of `kind` were skipped, in order.
    pub fn reasons(&self, kind: Kind) -> Vec<&str> {
        self.skipped
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| s.reason.as_str())
            .collect()
    }

    /// True when the run wrote nothing (or would have written nothing).
    pub fn unchanged(&self) -> bool {
        self.counts.iter().all(|c| c.created == 0)
    }

    pub(super) fn read(&mut self, kind: Kind) {
        self.counts[kind.index()].read += 1;
    }

    pub(super) fn created(&mut self, kind: Kind) {
        self.counts[kind.index()].created += 1;
    }

    pub(super) fn existing(&mut self, kind: Kind) {
        self.counts[kind.index()].existing += 1;
    }

    pub(super) fn skip(&mut self, kind: Kind, id: &str, what: &str, reason: String) {
        self.counts[kind.index()].skipped += 1;
        self.skipped.push(Skipped {
            kind,
            id: id.to_owned(),
            what: what.to_owned(),
            reason,
        });
    }

    pub(super) fn note(&mut self, note: String) {
        self.notes.push(note);
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run {
            "would import"
        } else {
            "imported"
        };
        writeln!(
            f,
            "{:<13} {:>7} {:>13} {:>13} {:>8}",
            "", "read", verb, "already here", "skipped"
        )?;
        for kind in Kind::ALL {
            let c = self.counts(kind);
            writeln!(
                f,
                "{:<13} {:>7} {:>13} {:>13} {:>8}",
                kind.as_str(),
                c.read,
                c.created,
                c.existing,
                c.skipped
            )?;
        }
        if !self.skipped.is_empty() {
            writeln!(f, "\nSkipped ({}):", self.skipped.len())?;
            for s in &self.skipped {
                // The original's text may hold anything: never let it steer the terminal.
                writeln!(
                    f,
                    "  {} {} ({}): {}",
                    kind_singular(s.kind),
                    s.id,
                    printable(&s.what),
                    printable(&s.reason)
                )?;
            }
        }
        for note in &self.notes {
            writeln!(f, "\nNote: {}", printable(note))?;
        }
        if self.dry_run {
            writeln!(f, "\nDry run: nothing was written.")?;
        } else if self.unchanged() {
            writeln!(f, "\nNothing new: everything was imported before.")?;
        }
        Ok(())
    }
}

fn kind_singular(kind: Kind) -> &'static str {
    match kind {
        Kind::Users => "user",
        Kind::Packages => "package",
        Kind::Devices => "device",
        Kind::Quota => "quota of user",
        Kind::Transactions => "transaction",
    }
}
