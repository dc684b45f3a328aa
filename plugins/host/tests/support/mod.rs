//! Test support: find the real plugin `.so` files, lay out plugin directories, and a tiny HTTP/1.1
//! server on 127.0.0.1 standing in for the vendors' clouds.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The `.so` of a plugin crate (`lib_name` as in `liblpsaring_plugin_console.so`).
///
/// The host's dev-dependencies include every plugin crate, and cargo compiles a dependency's lib
/// target with all its crate types, so `cargo test` (with or without `--workspace`, with or
/// without `CARGO_TARGET_DIR`) has always built the cdylib into the `deps/` directory that holds
/// this test executable by the time the test runs.
pub fn plugin_file(lib_name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps directory");
    let file_name = format!("lib{lib_name}.so");
    let candidates = [
        deps.join(&file_name),
        deps.parent().expect("profile directory").join(&file_name),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "{file_name} not found next to {}; is it a dev-dependency of the host?",
                exe.display()
            )
        })
}

pub const CONSOLE: &str = "lpsaring_plugin_console";
pub const FONNTE: &str = "lpsaring_plugin_whatsapp_fonnte";
pub const CLOUD: &str = "lpsaring_plugin_whatsapp_cloud";
pub const MIDTRANS: &str = "lpsaring_plugin_payment_midtrans";
pub const TRIPAY: &str = "lpsaring_plugin_payment_tripay";
pub const SANDBOX: &str = "lpsaring_plugin_payment_sandbox";
pub const FAULTY: &str = "lpsaring_test_plugin_faulty";
pub const WRONG_ABI: &str = "lpsaring_test_plugin_wrong_abi";

/// A fresh plugin directory holding copies of the given plugins.
pub fn plugin_dir(libs: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for lib in libs {
        copy_plugin(lib, dir.path());
    }
    dir
}

pub fn copy_plugin(lib: &str, dir: &Path) -> PathBuf {
    let source = plugin_file(lib);
    let target = dir.join(source.file_name().expect("file name"));
    std::fs::copy(&source, &target).expect("copy plugin");
    target
}

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

type Handler = dyn Fn(&Recorded) -> (u16, String) + Send + Sync;

/// A local HTTP server answering with a handler and recording every request.
pub struct MockServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl MockServer {
    pub async fn start(
        handler: impl Fn(&Recorded) -> (u16, String) + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind mock server");
        let addr = listener.local_addr().expect("mock address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let recorded = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let handler = handler.clone();
                let recorded = recorded.clone();
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut stream).await else {
                        return;
                    };
                    recorded.lock().unwrap().push(request.clone());
                    let (status, body) = handler(&request);
                    let head = format!(
                        "HTTP/1.1 {status} Mock\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(body.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self { addr, requests }
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:<port>`, the allow-list entry for this server.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Recorded> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[header_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Recorded {
        method,
        target,
        headers,
        body,
    })
}
