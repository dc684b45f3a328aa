//! Which hosts may receive the hotspot credentials (issue 15 item 4). A `regular` binding's
//! connected page auto-posts the hotspot username and password to `link-login-only`; that URL
//! arrives in the redirect's query string, so anyone can put any host there. Only the router's
//! own hotspot is trusted: the `dns-name` and `hotspot-address` of its `/ip/hotspot/profile`
//! rows (a hotspot server's address is its profile's `hotspot-address`), plus the hosts the
//! operator names in `router.hotspot_hosts`.

use std::sync::Arc;
use std::time::Duration;

use lpsaring_kernel::ports::Router as RouterPort;
use lpsaring_kernel::ports::router_config::ConfigMenu;

/// How long the router's answer is reused: a captive page must not cost a router round trip
/// each time, and a changed `dns-name` is picked up within a minute.
const ROUTER_HOSTS_TTL: Duration = Duration::from_secs(60);

pub struct HotspotHosts {
    router: Arc<dyn RouterPort>,
    configured: Vec<String>,
    /// One entry (the router's host set); bounded and expiring.
    cache: moka::future::Cache<(), Arc<Vec<String>>>,
}

impl HotspotHosts {
    pub fn new(router: Arc<dyn RouterPort>, configured: &[String]) -> Self {
        Self {
            router,
            configured: configured.iter().filter_map(|h| normalize(h)).collect(),
            cache: moka::future::Cache::builder()
                .max_capacity(1)
                .time_to_live(ROUTER_HOSTS_TTL)
                .build(),
        }
    }

    /// `url` when its host is the hotspot's, `None` otherwise (logged: someone sent a foreign
    /// login URL, or the operator has a hotspot host to add to `router.hotspot_hosts`).
    pub async fn accept(&self, url: Option<String>) -> Option<String> {
        let url = url?;
        let host = host_of(&url)?;
        if self.configured.contains(&host) || self.router_hosts().await.contains(&host) {
            return Some(url);
        }
        tracing::warn!(
            %host,
            "link-login-only dropped: not a hotspot host of the router nor in router.hotspot_hosts"
        );
        None
    }

    /// The router's hotspot hosts; empty (only the configured hosts count) while it is down.
    /// A failure is not cached, so the next page asks again.
    async fn router_hosts(&self) -> Arc<Vec<String>> {
        let router = self.router.clone();
        let read = async move {
            let rows = router.config_rows(ConfigMenu::HotspotProfile).await?;
            let hosts: Vec<String> = rows
                .iter()
                .flat_map(|r| [r.get("dns-name"), r.get("hotspot-address")])
                .flatten()
                .filter_map(normalize)
                .collect();
            Ok::<_, lpsaring_kernel::ports::router::RouterError>(Arc::new(hosts))
        };
        self.cache.try_get_with((), read).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "hotspot hosts: router unreadable, only router.hotspot_hosts count");
            Arc::new(Vec::new())
        })
    }
}

/// A host as compared: lower case, no trailing dot, no prefix length (`10.5.50.1/24`).
fn normalize(raw: &str) -> Option<String> {
    let host = raw.trim().split('/').next()?.trim_end_matches('.');
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The host of an http(s) URL: after the scheme and any `user@`, before the port and path
/// (a backslash ends it too, as browsers read `http://evil\\@hotspot/`).
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#', '\\']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    normalize(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_what_a_browser_would_connect_to() {
        assert_eq!(
            host_of("http://10.5.50.1/login").as_deref(),
            Some("10.5.50.1")
        );
        assert_eq!(
            host_of("https://Hotspot.Example.:8443/login?x=1").as_deref(),
            Some("hotspot.example")
        );
        assert_eq!(
            host_of("http://10.5.50.1@evil.example/steal").as_deref(),
            Some("evil.example")
        );
        assert_eq!(
            host_of("http://evil.example#@10.5.50.1").as_deref(),
            Some("evil.example")
        );
        assert_eq!(normalize("10.5.50.1/24").as_deref(), Some("10.5.50.1"));
        assert_eq!(host_of("nonsense"), None);
    }
}
