//! What a request says about its client, in plain values a service can take: handlers build a
//! [`ClientHints`] once, services never see the HTTP request.

use std::net::IpAddr;

use salvo::{Depot, Request};

/// Stored and logged user agents are cut to this many characters.
pub const USER_AGENT_MAX: usize = 300;

/// The client of one request: its address after the trusted-proxy rules, its user agent and
/// whether it reached us over HTTPS (which decides `Secure` on cookies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHints {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub https: bool,
}

impl ClientHints {
    /// Reads the hints from the request and what the request middleware put in the depot.
    pub fn of(req: &Request, depot: &Depot) -> Self {
        Self {
            ip: crate::web::client_ip(depot),
            user_agent: user_agent(req),
            https: crate::web::is_https(depot),
        }
    }

    /// The user agent as a `&str`, for services that store it.
    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }
}

/// The `User-Agent` header; `None` when absent or not text. Whoever stores it cuts it to
/// [`USER_AGENT_MAX`] characters.
pub fn user_agent(req: &Request) -> Option<String> {
    req.headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
