//! Arbitrary bytes as a router's (or client's) byte stream, split into reads at arbitrary
//! points: decoding never panics or over-allocates, every decoded sentence re-encodes to the
//! same bytes, and request/reply parsing never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lpsaring_routeros_sim::codec::{SentenceReader, decode_sentence, encode_sentence, parse_reply, parse_request};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the read size, so split reads are explored too.
    let Some((&split, stream)) = data.split_first() else { return };
    let chunk = usize::from(split).max(1);
    let mut reader = SentenceReader::new();
    for piece in stream.chunks(chunk) {
        reader.push(piece);
        loop {
            match reader.next_sentence() {
                Ok(Some(words)) => {
                    let mut wire = Vec::new();
                    encode_sentence(&words, &mut wire);
                    let (again, used) = decode_sentence(&wire).ok().flatten().expect("re-encoded sentence decodes");
                    assert_eq!(used, wire.len());
                    assert_eq!(again, words);
                    let _ = parse_reply(&words);
                    let _ = parse_request(&words);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
