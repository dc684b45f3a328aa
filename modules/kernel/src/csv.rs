//! The one CSV writer every export uses (`?format=csv` of each admin list).
//!
//! RFC 4180 quoting (a cell with a comma, quote or line break is quoted, quotes doubled, CRLF
//! line ends), and formula neutralising: a spreadsheet runs a cell that starts with `=`, `+`,
//! `-` or `@` (or a tab or carriage return, which some readers strip first) as a formula, so a
//! user who names themselves `=HYPERLINK(...)` could otherwise attack the operator who opens the
//! export. Such cells get a leading `'`, which spreadsheets show as text.

use salvo::Response;
use salvo::http::HeaderValue;
use salvo::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};

/// Builds a CSV document row by row.
#[derive(Debug, Default, Clone)]
pub struct CsvWriter {
    out: String,
    rows: usize,
}

/// `cell` as it goes into the file: neutralised, then quoted when needed.
pub fn cell(text: &str) -> String {
    let neutral = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

impl CsvWriter {
    /// A document starting with its header row.
    pub fn with_header(header: &[&str]) -> Self {
        let mut w = Self::default();
        w.row(header.iter().copied());
        w
    }

    /// Appends one row.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let line: Vec<String> = cells.into_iter().map(|c| cell(c.as_ref())).collect();
        self.out.push_str(&line.join(","));
        self.out.push_str("\r\n");
        self.rows += 1;
    }

    /// Rows written so far, the header included.
    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn finish(self) -> String {
        self.out
    }

    /// Sends the document as a download named `filename` (ASCII letters, digits, `-`, `_`, `.`
    /// only; anything else is replaced by `_`).
    pub fn render(self, res: &mut Response, filename: &str) {
        let name: String = filename
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        res.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
            res.headers_mut().insert(CONTENT_DISPOSITION, v);
        }
        let _ = res.write_body(self.finish());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        for f in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=x", "\r=x"] {
            assert!(cell(f).trim_start_matches('"').starts_with('\''), "{f:?}");
        }
        assert_eq!(cell("Budi"), "Budi");
        assert_eq!(cell("a=b"), "a=b");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn quoting_follows_rfc_4180() {
        let mut w = CsvWriter::with_header(&["name", "note"]);
        w.row(["Budi, S.", "say \"hi\""]);
        w.row(["=cmd|' /C calc'!A0", "two\nlines"]);
        assert_eq!(w.rows(), 3);
        assert_eq!(
            w.finish(),
            "name,note\r\n\"Budi, S.\",\"say \"\"hi\"\"\"\r\n'=cmd|' /C calc'!A0,\"two\nlines\"\r\n"
        );
    }
}
