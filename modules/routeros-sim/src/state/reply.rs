//! Reply encoding: the sentences one command is answered with, and traps.

use crate::codec::{encode_attribute, encode_length, encode_word};

use super::table::Row;

/// What the connection must do after a command.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Encoded reply sentences.
    pub bytes: Vec<u8>,
    /// Close the connection after sending `bytes`.
    pub close: bool,
}

/// Encodes replies for one tagged command, `.tag` right after the reply word (or last).
pub(super) struct Replies<'a> {
    out: Vec<u8>,
    tag: Option<&'a str>,
    tag_last: bool,
}

impl<'a> Replies<'a> {
    pub(super) fn new(tag: Option<&'a str>, tag_last: bool) -> Self {
        Self {
            out: Vec::new(),
            tag,
            tag_last,
        }
    }

    fn tag_word(&mut self) {
        if let Some(tag) = self.tag {
            encode_length(5 + tag.len(), &mut self.out);
            self.out.extend_from_slice(b".tag=");
            self.out.extend_from_slice(tag.as_bytes());
        }
    }

    fn head(&mut self, word: &str) {
        encode_word(word.as_bytes(), &mut self.out);
        if !self.tag_last {
            self.tag_word();
        }
    }

    /// Ends a sentence (the tag goes here when it is placed last).
    fn end(&mut self) {
        if self.tag_last {
            self.tag_word();
        }
        self.out.push(0);
    }

    pub(super) fn row(&mut self, row: &Row, proplist: Option<&[&str]>) {
        self.head("!re");
        match proplist {
            Some(keys) => {
                for key in keys {
                    if let Some(v) = row.get(key) {
                        encode_attribute(key, v, &mut self.out);
                    }
                }
            }
            None => {
                for (k, v) in &row.props {
                    encode_attribute(k, v, &mut self.out);
                }
            }
        }
        self.end();
    }

    pub(super) fn re(&mut self, attrs: &[(&str, &str)]) {
        self.head("!re");
        for (k, v) in attrs {
            encode_attribute(k, v, &mut self.out);
        }
        self.end();
    }

    pub(super) fn done(&mut self, ret: Option<&str>) {
        self.head("!done");
        if let Some(ret) = ret {
            encode_attribute("ret", ret, &mut self.out);
        }
        self.end();
    }

    pub(super) fn empty(&mut self) {
        self.head("!empty");
        self.end();
    }

    pub(super) fn trap(&mut self, category: Option<u8>, message: &str) {
        self.head("!trap");
        if let Some(c) = category {
            encode_attribute("category", &c.to_string(), &mut self.out);
        }
        encode_attribute("message", message, &mut self.out);
        self.end();
        self.done(None);
    }

    pub(super) fn finish(self) -> Outcome {
        Outcome {
            bytes: self.out,
            close: false,
        }
    }
}

/// A command failure, answered as `!trap` (+ `!done`).
#[derive(Debug)]
pub(super) struct Trap(pub(super) Option<u8>, pub(super) String);

pub(super) fn trap(category: Option<u8>, message: impl Into<String>) -> Trap {
    Trap(category, message.into())
}

pub(super) fn no_such_item() -> Trap {
    trap(Some(1), "no such item")
}

/// `!fatal` sentence bytes.
pub fn fatal(reason: &str) -> Vec<u8> {
    let mut out = Vec::new();
    encode_word(b"!fatal", &mut out);
    encode_word(reason.as_bytes(), &mut out);
    out.push(0);
    out
}
