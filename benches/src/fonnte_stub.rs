//! A loopback stand-in for the Fonnte API, for the login load run: the real
//! `whatsapp-fonnte` plugin is pointed at it (`base_url`), so every code request goes through
//! the plugin host, the plugin and an HTTP round trip, as it does in production. It answers
//! every `POST /send` at once with Fonnte's success body and keeps the last code sent to each
//! number, so the run can log in with it.
//!
//! Plain HTTP/1.1 with keep-alive and a `Content-Length` body (what the host's client sends);
//! anything else closes the connection.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const ANSWER: &str = r#"{"status":true,"id":[1],"process":"pending","target":["x"]}"#;

#[derive(Default)]
struct Seen {
    /// Target digits → the last six-digit code in a message to it.
    codes: Mutex<HashMap<String, String>>,
    sends: AtomicU64,
}

pub struct FonnteStub {
    pub addr: SocketAddr,
    seen: Arc<Seen>,
}

impl FonnteStub {
    /// Listens on 127.0.0.1 (a free port) and serves until the process ends.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Seen::default());
        let serving = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, serving.clone()));
            }
        });
        Ok(Self { addr, seen })
    }

    /// `base_url` for the plugin's config.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The last code sent to `e164` (with or without `+`).
    pub fn code_for(&self, e164: &str) -> Option<String> {
        let codes = self
            .seen
            .codes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        codes.get(e164.trim_start_matches('+')).cloned()
    }

    /// Messages the stub accepted.
    pub fn sends(&self) -> u64 {
        self.seen.sends.load(Ordering::Relaxed)
    }
}

async fn serve(stream: TcpStream, seen: Arc<Seen>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut line = String::new();
    loop {
        let mut length = None;
        loop {
            line.clear();
            match read.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let Some(length) = length else { return };
        let mut body = vec![0; length];
        if read.read_exact(&mut body).await.is_err() {
            return;
        }
        record(&seen, &body);
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{ANSWER}",
            ANSWER.len()
        );
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Notes the code in a `target=…&message=…` form body.
fn record(seen: &Seen, body: &[u8]) {
    seen.sends.fetch_add(1, Ordering::Relaxed);
    let mut target = None;
    let mut code = None;
    for pair in body.split(|b| *b == b'&') {
        let Some(eq) = pair.iter().position(|b| *b == b'=') else {
            continue;
        };
        let value = percent_decode(&pair[eq + 1..]);
        match &pair[..eq] {
            b"target" => target = Some(value),
            b"message" => code = six_digits(&value),
            _ => {}
        }
    }
    if let (Some(target), Some(code)) = (target, code) {
        let mut codes = seen.codes.lock().unwrap_or_else(PoisonError::into_inner);
        codes.insert(target, code);
    }
}

fn six_digits(text: &str) -> Option<String> {
    text.as_bytes()
        .windows(6)
        .find(|w| w.iter().all(u8::is_ascii_digit))
        .map(|w| String::from_utf8_lossy(w).into_owned())
}

/// `application/x-www-form-urlencoded` value decoding (`+` is a space).
fn percent_decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < raw.len() => {
                let hex = std::str::from_utf8(&raw[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
