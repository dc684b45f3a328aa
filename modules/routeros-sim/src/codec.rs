//! The RouterOS API wire codec: length-prefixed words, sentences ended by an empty word, and the
//! parsing of a sentence into a client request or a router reply.
//!
//! Pure and allocation-bounded (a word longer than [`MAX_WORD_LEN`] is refused before anything is
//! allocated), so the simulator, the fuzz target and our tests all share one implementation.
//! Words are raw bytes — RouterOS is not UTF-8 aware — and are decoded lossily only at the edge.

use std::fmt;

/// Longest word we accept. RouterOS itself limits sentences far below this; the limit keeps a
/// hostile length prefix from making us allocate gigabytes.
pub const MAX_WORD_LEN: usize = 64 * 1024 * 1024;

/// Largest length the five-byte prefix can state.
pub const MAX_ENCODABLE_LEN: usize = u32::MAX as usize;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// First byte of a length prefix was `0xF8..=0xFF` (reserved control bytes), or `0xF1..=0xF7`.
    #[error("reserved control byte 0x{0:02X} where a word length was expected")]
    ControlByte(u8),
    #[error("word of {0} bytes exceeds the limit")]
    WordTooLong(usize),
}

/// Why a decoded sentence is not a valid request or reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty sentence")]
    Empty,
    #[error("unknown reply word {0:?}")]
    UnknownReply(String),
    #[error("command word must start with '/', got {0:?}")]
    BadCommand(String),
    #[error("unexpected word {0:?}")]
    UnexpectedWord(String),
    #[error("!fatal without a reason")]
    FatalWithoutReason,
}

/// Appends the 1–5 byte length prefix for a word of `len` bytes.
///
/// Lengths above `u32::MAX` cannot be expressed on the wire; callers never build such words
/// (they are capped far lower by [`MAX_WORD_LEN`]), so the value is truncated to 32 bits.
pub fn encode_length(len: usize, out: &mut Vec<u8>) {
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0x3FFF => out.extend_from_slice(&((len | 0x8000) as u16).to_be_bytes()),
        0x4000..=0x1F_FFFF => out.extend_from_slice(&(len | 0xC0_0000).to_be_bytes()[1..]),
        0x20_0000..=0x0FFF_FFFF => out.extend_from_slice(&(len | 0xE000_0000).to_be_bytes()),
        _ => {
            out.push(0xF0);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
}

/// Reads a length prefix. `Ok(None)` when more bytes are needed; otherwise `(length, prefix size)`.
pub fn decode_length(buf: &[u8]) -> Result<Option<(usize, usize)>, CodecError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let size = match first {
        0x00..=0x7F => 1,
        0x80..=0xBF => 2,
        0xC0..=0xDF => 3,
        0xE0..=0xEF => 4,
        0xF0 => 5,
        other => return Err(CodecError::ControlByte(other)),
    };
    if buf.len() < size {
        return Ok(None);
    }
    let len = match size {
        1 => usize::from(first),
        2 => (usize::from(first & 0x3F) << 8) | usize::from(buf[1]),
        3 => (usize::from(first & 0x1F) << 16) | (usize::from(buf[1]) << 8) | usize::from(buf[2]),
        4 => {
            (usize::from(first & 0x0F) << 24)
                | (usize::from(buf[1]) << 16)
                | (usize::from(buf[2]) << 8)
                | usize::from(buf[3])
        }
        _ => u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize,
    };
    Ok(Some((len, size)))
}

/// Appends one length-prefixed word.
pub fn encode_word(word: &[u8], out: &mut Vec<u8>) {
    encode_length(word.len(), out);
    out.extend_from_slice(word);
}

/// Appends a whole sentence: every word, then the empty terminator word.
pub fn encode_sentence<W: AsRef<[u8]>>(words: &[W], out: &mut Vec<u8>) {
    for word in words {
        encode_word(word.as_ref(), out);
    }
    out.push(0);
}

/// A decoded sentence (its words) and how many bytes it took.
pub type Decoded = (Vec<Vec<u8>>, usize);

/// Decodes one sentence from the front of `buf`. `Ok(None)` when it is not complete yet;
/// otherwise the words and the number of bytes consumed. An empty sentence yields no words.
pub fn decode_sentence(buf: &[u8]) -> Result<Option<Decoded>, CodecError> {
    let mut pos = 0;
    let mut words = Vec::new();
    loop {
        let Some((len, prefix)) = decode_length(&buf[pos..])? else {
            return Ok(None);
        };
        if len > MAX_WORD_LEN {
            return Err(CodecError::WordTooLong(len));
        }
        pos += prefix;
        if len == 0 {
            return Ok(Some((words, pos)));
        }
        if buf.len() - pos < len {
            return Ok(None);
        }
        words.push(buf[pos..pos + len].to_vec());
        pos += len;
    }
}

/// Accumulates bytes from a stream (TCP reads split anywhere) and yields complete sentences.
#[derive(Debug, Default)]
pub struct SentenceReader {
    buf: Vec<u8>,
    start: usize,
}

impl SentenceReader {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete, non-empty sentence (empty sentences are ignored, as RouterOS does).
    pub fn next_sentence(&mut self) -> Result<Option<Vec<Vec<u8>>>, CodecError> {
        loop {
            match decode_sentence(&self.buf[self.start..])? {
                None => {
                    if self.start > 64 * 1024 {
                        self.buf.drain(..self.start);
                        self.start = 0;
                    }
                    return Ok(None);
                }
                Some((words, used)) => {
                    self.start += used;
                    if !words.is_empty() {
                        return Ok(Some(words));
                    }
                }
            }
        }
    }

    /// Bytes received but not yet part of a complete sentence.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }
}

fn text(word: &[u8]) -> String {
    String::from_utf8_lossy(word).into_owned()
}

/// Splits `=key=value` (already without the leading `=`) at the first `=`: the value may itself
/// contain `=`. A word without a second `=` is a key with an empty value.
fn split_attribute(rest: &[u8]) -> (String, String) {
    match rest.iter().position(|&b| b == b'=') {
        Some(i) => (text(&rest[..i]), text(&rest[i + 1..])),
        None => (text(rest), String::new()),
    }
}

/// One query word of a `print`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryWord {
    /// `?name=value` or `?=name=value`
    Equal(String, String),
    /// `?>name=value`
    Greater(String, String),
    /// `?<name=value`
    Less(String, String),
    /// `?name`: the property has a value
    Present(String),
    /// `?-name`: the property has no value
    Absent(String),
    /// `?#ops`: stack operations
    Operations(String),
}

fn parse_query(rest: &[u8]) -> QueryWord {
    match rest.first() {
        Some(b'#') => QueryWord::Operations(text(&rest[1..])),
        Some(b'=') => {
            let (k, v) = split_attribute(&rest[1..]);
            QueryWord::Equal(k, v)
        }
        Some(b'>') => {
            let (k, v) = split_attribute(&rest[1..]);
            QueryWord::Greater(k, v)
        }
        Some(b'<') => {
            let (k, v) = split_attribute(&rest[1..]);
            QueryWord::Less(k, v)
        }
        Some(b'-') => QueryWord::Absent(text(&rest[1..])),
        _ => match rest.iter().position(|&b| b == b'=') {
            Some(i) => QueryWord::Equal(text(&rest[..i]), text(&rest[i + 1..])),
            None => QueryWord::Present(text(rest)),
        },
    }
}

/// A client sentence: a command path with its attributes, queries and tag.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// `/ip/hotspot/host/print`
    pub command: String,
    /// `.tag=` value, echoed in every reply.
    pub tag: Option<String>,
    /// `=key=value` words in order (API attributes such as `.id` and `.proplist` included).
    pub attributes: Vec<(String, String)>,
    pub queries: Vec<QueryWord>,
}

impl Request {
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Encodes the request as a sentence (used by tests and the bench to talk raw protocol).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut words: Vec<Vec<u8>> = vec![self.command.as_bytes().to_vec()];
        for (k, v) in &self.attributes {
            words.push(format!("={k}={v}").into_bytes());
        }
        for q in &self.queries {
            words.push(
                match q {
                    QueryWord::Equal(k, v) => format!("?={k}={v}"),
                    QueryWord::Greater(k, v) => format!("?>{k}={v}"),
                    QueryWord::Less(k, v) => format!("?<{k}={v}"),
                    QueryWord::Present(k) => format!("?{k}"),
                    QueryWord::Absent(k) => format!("?-{k}"),
                    QueryWord::Operations(ops) => format!("?#{ops}"),
                }
                .into_bytes(),
            );
        }
        if let Some(tag) = &self.tag {
            words.push(format!(".tag={tag}").into_bytes());
        }
        encode_sentence(&words, out);
    }
}

/// Parses a client sentence. `.tag` may appear anywhere after the command word.
pub fn parse_request(words: &[Vec<u8>]) -> Result<Request, ParseError> {
    let (first, rest) = words.split_first().ok_or(ParseError::Empty)?;
    if first.first() != Some(&b'/') {
        return Err(ParseError::BadCommand(text(first)));
    }
    let mut request = Request {
        command: text(first),
        ..Request::default()
    };
    for word in rest {
        match word.first() {
            Some(b'=') => request.attributes.push(split_attribute(&word[1..])),
            Some(b'?') => request.queries.push(parse_query(&word[1..])),
            Some(b'.') if word.starts_with(b".tag=") => request.tag = Some(text(&word[5..])),
            _ => return Err(ParseError::UnexpectedWord(text(word))),
        }
    }
    Ok(request)
}

/// The kind of a router reply sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    Re,
    Done,
    Trap,
    Fatal,
    Empty,
}

impl ReplyKind {
    pub fn word(self) -> &'static str {
        match self {
            ReplyKind::Re => "!re",
            ReplyKind::Done => "!done",
            ReplyKind::Trap => "!trap",
            ReplyKind::Fatal => "!fatal",
            ReplyKind::Empty => "!empty",
        }
    }
}

/// A router reply sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub kind: ReplyKind,
    pub tag: Option<String>,
    pub attributes: Vec<(String, String)>,
    /// The free-text reason of a `!fatal`.
    pub fatal_reason: Option<String>,
}

impl Reply {
    pub fn new(kind: ReplyKind, tag: Option<&str>) -> Self {
        Self {
            kind,
            tag: tag.map(str::to_owned),
            attributes: Vec::new(),
            fatal_reason: None,
        }
    }

    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.attributes.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Encodes with `.tag` right after the reply word, as RouterOS does.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_word(self.kind.word().as_bytes(), out);
        if let Some(tag) = &self.tag {
            encode_attr_word(".tag=", tag, "", out);
        }
        if let Some(reason) = &self.fatal_reason {
            encode_word(reason.as_bytes(), out);
        }
        for (k, v) in &self.attributes {
            encode_attr_word("=", k, v, out);
        }
        out.push(0);
    }
}

/// Encodes `=key=value` (or `.tag=value` with an empty `value`) without building a String first.
fn encode_attr_word(lead: &str, key: &str, value: &str, out: &mut Vec<u8>) {
    let sep = if lead == "=" { 1 } else { 0 };
    encode_length(lead.len() + key.len() + sep + value.len(), out);
    out.extend_from_slice(lead.as_bytes());
    out.extend_from_slice(key.as_bytes());
    if sep == 1 {
        out.push(b'=');
    }
    out.extend_from_slice(value.as_bytes());
}

/// Appends `=key=value` as one word (for building replies without intermediate structs).
pub fn encode_attribute(key: &str, value: &str, out: &mut Vec<u8>) {
    encode_attr_word("=", key, value, out);
}

/// Parses a router reply. `.tag` is accepted anywhere in the sentence.
pub fn parse_reply(words: &[Vec<u8>]) -> Result<Reply, ParseError> {
    let (first, rest) = words.split_first().ok_or(ParseError::Empty)?;
    let kind = match first.as_slice() {
        b"!re" => ReplyKind::Re,
        b"!done" => ReplyKind::Done,
        b"!trap" => ReplyKind::Trap,
        b"!fatal" => ReplyKind::Fatal,
        b"!empty" => ReplyKind::Empty,
        other => return Err(ParseError::UnknownReply(text(other))),
    };
    let mut reply = Reply::new(kind, None);
    for word in rest {
        match word.first() {
            Some(b'=') => reply.attributes.push(split_attribute(&word[1..])),
            Some(b'.') if word.starts_with(b".tag=") => reply.tag = Some(text(&word[5..])),
            _ if kind == ReplyKind::Fatal && reply.fatal_reason.is_none() => {
                reply.fatal_reason = Some(text(word));
            }
            _ => return Err(ParseError::UnexpectedWord(text(word))),
        }
    }
    if kind == ReplyKind::Fatal && reply.fatal_reason.is_none() {
        return Err(ParseError::FatalWithoutReason);
    }
    Ok(reply)
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.word())?;
        if let Some(tag) = &self.tag {
            write!(f, " .tag={tag}")?;
        }
        if let Some(reason) = &self.fatal_reason {
            write!(f, " {reason}")?;
        }
        for (k, v) in &self.attributes {
            write!(f, " ={k}={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDARIES: [usize; 9] = [
        0,
        0x7F,
        0x80,
        0x3FFF,
        0x4000,
        0x1F_FFFF,
        0x20_0000,
        0x0FFF_FFFF,
        0x1000_0000,
    ];

    fn prefix(len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        encode_length(len, &mut out);
        out
    }

    #[test]
    fn documented_prefix_examples() {
        assert_eq!(prefix(0x7F), [0x7F]);
        assert_eq!(prefix(0x80), [0x80, 0x80]);
        assert_eq!(prefix(0x3FFF), [0xBF, 0xFF]);
        assert_eq!(prefix(0x4000), [0xC0, 0x40, 0x00]);
        assert_eq!(prefix(0x1F_FFFF), [0xDF, 0xFF, 0xFF]);
        assert_eq!(prefix(0x20_0000), [0xE0, 0x20, 0x00, 0x00]);
        assert_eq!(prefix(0x0FFF_FFFF), [0xEF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(prefix(0x1000_0000), [0xF0, 0x10, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn every_boundary_and_its_neighbours_round_trip() {
        for &b in &BOUNDARIES {
            for len in [b.saturating_sub(1), b, b + 1] {
                let p = prefix(len);
                let expected_size = match len {
                    0..=0x7F => 1,
                    0x80..=0x3FFF => 2,
                    0x4000..=0x1F_FFFF => 3,
                    0x20_0000..=0x0FFF_FFFF => 4,
                    _ => 5,
                };
                assert_eq!(p.len(), expected_size, "prefix size for {len:#x}");
                assert_eq!(
                    decode_length(&p),
                    Ok(Some((len, expected_size))),
                    "{len:#x}"
                );
                // Every proper prefix of the prefix is "need more".
                for cut in 0..p.len() {
                    assert_eq!(decode_length(&p[..cut]), Ok(None), "{len:#x} cut {cut}");
                }
            }
        }
    }

    /// A small deterministic generator so property-style tests are reproducible without a
    /// dependency.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn random_lengths_round_trip() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let len = (rng.next() >> rng.below(64)) as usize & 0xFFFF_FFFF;
            let p = prefix(len);
            assert_eq!(decode_length(&p), Ok(Some((len, p.len()))), "{len:#x}");
        }
    }

    #[test]
    fn words_at_boundaries_round_trip_through_split_reads() {
        // Real words up to the 4-byte form; the 0x0FFF_FFFF and 0x1000_0000 words exceed
        // MAX_WORD_LEN and are covered by the prefix tests above.
        for len in [0usize, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1F_FFFF, 0x20_0000] {
            let word: Vec<u8> = (0..len).map(|i| (i % 251) as u8 + 1).collect();
            let mut wire = Vec::new();
            let words: Vec<Vec<u8>> = if len == 0 {
                vec![]
            } else {
                vec![b"!re".to_vec(), word.clone()]
            };
            encode_sentence(&words, &mut wire);
            let (back, used) = decode_sentence(&wire).unwrap().unwrap();
            assert_eq!(used, wire.len());
            assert_eq!(back, words, "len {len:#x}");
            // Split into three uneven reads.
            let mut reader = SentenceReader::new();
            let (a, b) = (wire.len() / 3, wire.len() * 2 / 3);
            reader.push(&wire[..a]);
            if a < wire.len() && !words.is_empty() {
                assert_eq!(reader.next_sentence().unwrap(), None);
            }
            reader.push(&wire[a..b]);
            reader.push(&wire[b..]);
            let got = reader.next_sentence().unwrap();
            if words.is_empty() {
                assert_eq!(got, None, "empty sentences are skipped");
            } else {
                assert_eq!(got, Some(words));
            }
        }
    }

    #[test]
    fn random_sentences_survive_byte_by_byte_reads() {
        let mut rng = XorShift(42);
        for _ in 0..200 {
            let mut sentences = Vec::new();
            let mut wire = Vec::new();
            for _ in 0..1 + rng.below(4) {
                let words: Vec<Vec<u8>> = (0..1 + rng.below(6))
                    .map(|_| {
                        let len = [1, 5, 0x7F, 0x80, 300, 0x4000][rng.below(6) as usize];
                        (0..len).map(|_| rng.next() as u8).collect()
                    })
                    .collect();
                encode_sentence(&words, &mut wire);
                sentences.push(words);
            }
            let mut reader = SentenceReader::new();
            let mut got = Vec::new();
            let mut pos = 0;
            while pos < wire.len() {
                let step = 1 + rng.below(700) as usize;
                let end = (pos + step).min(wire.len());
                reader.push(&wire[pos..end]);
                pos = end;
                while let Some(s) = reader.next_sentence().unwrap() {
                    got.push(s);
                }
            }
            assert_eq!(got, sentences);
            assert_eq!(reader.pending(), 0);
        }
    }

    #[test]
    fn reserved_control_bytes_are_rejected() {
        for byte in 0xF1..=0xFFu8 {
            assert_eq!(
                decode_length(&[byte, 0, 0, 0, 0]),
                Err(CodecError::ControlByte(byte))
            );
            let mut reader = SentenceReader::new();
            reader.push(&[3, b'!', b'r', b'e', byte]);
            assert_eq!(reader.next_sentence(), Err(CodecError::ControlByte(byte)));
        }
    }

    #[test]
    fn oversized_words_are_refused_before_allocation() {
        let mut wire = Vec::new();
        encode_length(MAX_WORD_LEN + 1, &mut wire);
        assert_eq!(
            decode_sentence(&wire),
            Err(CodecError::WordTooLong(MAX_WORD_LEN + 1))
        );
    }

    fn words(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn tag_is_found_before_and_after_attributes() {
        for sentence in [
            words(&["!re", ".tag=7", "=.id=*1", "=comment=a=b"]),
            words(&["!re", "=.id=*1", "=comment=a=b", ".tag=7"]),
            words(&["!re", "=.id=*1", ".tag=7", "=comment=a=b"]),
        ] {
            let reply = parse_reply(&sentence).unwrap();
            assert_eq!(reply.kind, ReplyKind::Re);
            assert_eq!(reply.tag.as_deref(), Some("7"));
            assert_eq!(reply.attribute(".id"), Some("*1"));
            assert_eq!(
                reply.attribute("comment"),
                Some("a=b"),
                "split at the second '='"
            );
        }
        let done = parse_reply(&words(&["!done", "=ret=*A", ".tag=3"])).unwrap();
        assert_eq!(
            (done.kind, done.tag.as_deref(), done.attribute("ret")),
            (ReplyKind::Done, Some("3"), Some("*A"))
        );
    }

    #[test]
    fn fatal_keeps_its_reason_and_unknown_replies_fail() {
        let fatal = parse_reply(&words(&["!fatal", "not logged in"])).unwrap();
        assert_eq!(fatal.fatal_reason.as_deref(), Some("not logged in"));
        assert_eq!(
            parse_reply(&words(&["!fatal"])),
            Err(ParseError::FatalWithoutReason)
        );
        assert!(matches!(
            parse_reply(&words(&["!nope"])),
            Err(ParseError::UnknownReply(_))
        ));
        assert!(matches!(
            parse_reply(&words(&["!re", "junk"])),
            Err(ParseError::UnexpectedWord(_))
        ));
    }

    #[test]
    fn reply_encoding_round_trips_with_tag_first() {
        let reply = Reply::new(ReplyKind::Trap, Some("12"))
            .with("category", "1")
            .with("message", "failure: already have such entry");
        let mut wire = Vec::new();
        reply.encode(&mut wire);
        let (ws, _) = decode_sentence(&wire).unwrap().unwrap();
        assert_eq!(ws[1], b".tag=12");
        assert_eq!(parse_reply(&ws).unwrap(), reply);
    }

    #[test]
    fn requests_parse_queries_and_tags_anywhere() {
        let req = parse_request(&words(&[
            "/ip/hotspot/host/print",
            ".tag=9",
            "=.proplist=.id,mac-address",
            "?mac-address=AA:BB:CC:DD:EE:FF",
            "?=address=10.0.0.1",
            "?>bytes-in=5",
            "?<bytes-out=6",
            "?comment",
            "?-bypassed",
            "?#|!",
        ]))
        .unwrap();
        assert_eq!(req.command, "/ip/hotspot/host/print");
        assert_eq!(req.tag.as_deref(), Some("9"));
        assert_eq!(req.attribute(".proplist"), Some(".id,mac-address"));
        assert_eq!(
            req.queries,
            vec![
                QueryWord::Equal("mac-address".into(), "AA:BB:CC:DD:EE:FF".into()),
                QueryWord::Equal("address".into(), "10.0.0.1".into()),
                QueryWord::Greater("bytes-in".into(), "5".into()),
                QueryWord::Less("bytes-out".into(), "6".into()),
                QueryWord::Present("comment".into()),
                QueryWord::Absent("bypassed".into()),
                QueryWord::Operations("|!".into()),
            ]
        );
        let mut wire = Vec::new();
        req.encode(&mut wire);
        let (ws, _) = decode_sentence(&wire).unwrap().unwrap();
        assert_eq!(parse_request(&ws).unwrap(), req);
        assert!(matches!(
            parse_request(&words(&["print"])),
            Err(ParseError::BadCommand(_))
        ));
        assert!(matches!(parse_request(&[]), Err(ParseError::Empty)));
    }
}
