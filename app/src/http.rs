//! The HTTP surface: middleware every request passes (request id, client IP, panic and size
//! guards), the error catcher that turns bare statuses into the API envelope or a readable page,
//! the process-level endpoints (`/healthz`, `/readyz`, `/`, the OpenAPI document), and the
//! mounting of every module's router. `/readyz` runs the health list `app` collected.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use lpsaring_kernel::health::{self, Health, Status};
use lpsaring_kernel::ui::Page;
use lpsaring_kernel::web::{self, request_id};
use lpsaring_kernel::{ApiError, Lang, Text};
use salvo::catcher::Catcher;
use salvo::http::StatusCode;
use salvo::oapi::{OpenApi, ToSchema};
use salvo::prelude::*;
use serde::Serialize;
use tracing::Instrument;

use crate::App;

/// Longest incoming `X-Request-ID` we keep; longer ones are replaced by a fresh id.
const MAX_REQUEST_ID_LEN: usize = 64;

/// Keeps a caller's request id only when it is short and made of safe characters, so it can go
/// into headers and log lines without escaping.
pub fn sanitize_request_id(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let ok = !raw.is_empty()
        && raw.len() <= MAX_REQUEST_ID_LEN
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| raw.to_owned())
}

/// The client address by the trusted-proxy rule: the peer, unless the peer is a trusted proxy;
/// then `CF-Connecting-IP`, else the right-most `X-Forwarded-For` hop that is not itself a
/// trusted proxy. Anyone else's forwarded headers are ignored (they are trivially forged).
pub fn resolve_client_ip(
    peer: Option<IpAddr>,
    trusted: &[IpNet],
    cf_connecting_ip: Option<&str>,
    forwarded_for: Option<&str>,
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    if let Some(ip) = cf_connecting_ip.and_then(|v| v.trim().parse::<IpAddr>().ok()) {
        return Some(ip);
    }
    if let Some(list) = forwarded_for {
        for hop in list.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if is_trusted(&ip) => continue,
                Ok(ip) => return Some(ip),
                Err(_) => break,
            }
        }
    }
    Some(peer)
}

fn peer_ip(req: &Request) -> Option<IpAddr> {
    match req.remote_addr() {
        salvo::conn::SocketAddr::IPv4(a) => Some(IpAddr::V4(*a.ip())),
        salvo::conn::SocketAddr::IPv6(a) => {
            let ip = *a.ip();
            Some(
                ip.to_ipv4_mapped()
                    .map(IpAddr::V4)
                    .unwrap_or(IpAddr::V6(ip)),
            )
        }
        _ => None,
    }
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Establishes the request id, client IP and scheme, runs the request inside a tracing span that
/// carries the id, and logs one line per request.
pub struct RequestContext {
    pub trusted_proxies: Arc<Vec<IpNet>>,
    /// Bodies announced larger than this are refused with 413 before any handler runs; bodies
    /// without a length are cut off at this size while being read.
    pub max_body_bytes: u64,
    /// The whole body must arrive within this; a client that stalls mid-body gets 408 and its
    /// connection closed, as hyper already does for slow headers.
    pub body_read_timeout: Duration,
}

impl RequestContext {
    /// Reads the body (when there is one) before any handler runs, within the size and time
    /// limits; handlers then parse the cached bytes. `Err` is the status to answer instead.
    async fn read_body(&self, req: &mut Request, announced: Option<u64>) -> Result<(), StatusCode> {
        let has_body =
            announced.is_some_and(|len| len > 0) || header(req, "transfer-encoding").is_some();
        if !has_body {
            return Ok(());
        }
        let max = usize::try_from(self.max_body_bytes).unwrap_or(usize::MAX);
        match tokio::time::timeout(self.body_read_timeout, req.payload_with_max_size(max)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(salvo::http::ParseError::PayloadTooLarge)) => Err(StatusCode::PAYLOAD_TOO_LARGE),
            Ok(Err(_)) => Err(StatusCode::BAD_REQUEST),
            Err(_) => Err(StatusCode::REQUEST_TIMEOUT),
        }
    }
}

#[async_trait]
impl Handler for RequestContext {
    async fn handle(
        &self,
        req: &mut Request,
        depot: &mut Depot,
        res: &mut Response,
        ctrl: &mut FlowCtrl,
    ) {
        let id = header(req, "x-request-id")
            .and_then(sanitize_request_id)
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let peer = peer_ip(req);
        let trusted_peer =
            peer.is_some_and(|p| self.trusted_proxies.iter().any(|n| n.contains(&p)));
        let client = resolve_client_ip(
            peer,
            &self.trusted_proxies,
            header(req, "cf-connecting-ip"),
            header(req, "x-forwarded-for"),
        );
        // We listen on plain TCP: only a trusted proxy can tell us the client used HTTPS. The
        // request target's own scheme (`GET https://…` in absolute form) is the client's claim.
        let https = trusted_peer
            && header(req, "x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"));
        web::set_request_id(depot, id.clone());
        if let Some(ip) = client {
            web::set_client_ip(depot, ip);
        }
        web::set_is_https(depot, https);
        if let Ok(value) = id.parse() {
            res.headers_mut().insert("x-request-id", value);
        }
        // An explicit ?lang= is remembered, so the form posts that follow keep the language.
        if let Some(lang) = req.query::<String>("lang").as_deref().and_then(Lang::parse) {
            res.add_cookie(lang_cookie(lang));
        }
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let span = tracing::info_span!("request", request_id = %id);
        let announced = header(req, "content-length").and_then(|v| v.trim().parse::<u64>().ok());
        async {
            let started = tokio::time::Instant::now();
            if announced.is_some_and(|len| len > self.max_body_bytes) {
                res.status_code(StatusCode::PAYLOAD_TOO_LARGE);
                ctrl.skip_rest();
            } else {
                req.limit_body(usize::try_from(self.max_body_bytes).unwrap_or(usize::MAX));
                match self.read_body(req, announced).await {
                    Ok(()) => {
                        ctrl.call_next(req, depot, res).await;
                    }
                    Err(status) => {
                        // The rest of a stalled or broken body is never read: drop the connection.
                        res.headers_mut().insert(
                            salvo::http::header::CONNECTION,
                            salvo::http::HeaderValue::from_static("close"),
                        );
                        res.status_code(status);
                        ctrl.skip_rest();
                    }
                }
            }
            let status = res.status_code.unwrap_or(StatusCode::OK).as_u16();
            tracing::info!(
                %method, %path, status,
                client = client.map(|c| c.to_string()).unwrap_or_default(),
                elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                "request"
            );
        }
        .instrument(span)
        .await;
    }
}

fn lang_cookie(lang: Lang) -> salvo::http::cookie::Cookie<'static> {
    lang.cookie()
}

/// The URL without its `lang=` query parameter (so the new choice is not overridden).
fn without_lang_param(url: &str) -> String {
    let Some((path, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("lang="))
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

/// `GET /lang/{code}`: remembers the language and goes back to the page the link was on, with
/// its query intact (a captive page keeps its `ip`/`mac`). Only same-host referers are followed.
#[handler]
async fn switch_language(req: &mut Request, res: &mut Response) {
    let lang = req
        .param::<String>("code")
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or_default();
    res.add_cookie(lang_cookie(lang));
    let host = header(req, "host").unwrap_or("").to_owned();
    let back = header(req, "referer")
        .and_then(|r| {
            let rest = r
                .strip_prefix("http://")
                .or_else(|| r.strip_prefix("https://"))?;
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let back = format!("/{path}");
            // `http://host//evil.example/x` has our host but a path browsers read as a site.
            (authority == host && web::is_local_path(&back)).then(|| without_lang_param(&back))
        })
        .unwrap_or_else(|| "/".to_owned());
    res.render(Redirect::other(back));
}

const ERROR_TITLE: Text = Text::new("Terjadi kesalahan", "Something went wrong");
const NOT_FOUND_TEXT: Text = Text::new("Halaman tidak ditemukan.", "Page not found.");
const GENERIC_ERROR_TEXT: Text = Text::new(
    "Permintaan tidak dapat diproses. Silakan coba lagi.",
    "The request could not be processed. Please try again.",
);
const BACK_HOME: Text = Text::new("Kembali ke beranda", "Back to the home page");

/// Turns a bare error status into the JSON envelope under `/api`, a readable page elsewhere.
#[handler]
async fn render_error(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
    ctrl: &mut FlowCtrl,
) {
    let status = res.status_code.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if req.uri().path().starts_with("/api") {
        let api = match status {
            StatusCode::INTERNAL_SERVER_ERROR => {
                ApiError::new(status, "INTERNAL_ERROR", "Internal server error.")
            }
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                status,
                "PAYLOAD_TOO_LARGE",
                "The request body is too large.",
            ),
            _ => ApiError::from_status(status),
        };
        let body = api.envelope(request_id(depot));
        res.render(Json(body));
    } else {
        let lang = Lang::of_request(req);
        let text = if status == StatusCode::NOT_FOUND {
            NOT_FOUND_TEXT
        } else {
            GENERIC_ERROR_TEXT
        };
        let body = format!(
            "<div class=\"card\"><h1>{}</h1><p class=\"error\">{} ({})</p><p class=\"muted\">ID: {}</p><a class=\"btn secondary\" href=\"/\">{}</a></div>",
            ERROR_TITLE.get(lang),
            text.get(lang),
            status.as_u16(),
            lpsaring_kernel::ui::escape(&request_id(depot)),
            BACK_HOME.get(lang),
        );
        res.render(Page::new(lang, ERROR_TITLE.get(lang), body).with_status(status));
    }
    ctrl.skip_rest();
}

#[derive(Debug, Serialize, ToSchema)]
struct Liveness {
    status: &'static str,
}

/// `GET /favicon.ico`, which browsers ask for on every site: the operator's logo when set,
/// else an empty answer, so no page shows a failed request.
#[handler]
async fn favicon(res: &mut Response) {
    match &lpsaring_kernel::ui::Site::current().logo {
        Some(logo) => res.render(Redirect::found(logo.url())),
        None => {
            res.status_code(StatusCode::NO_CONTENT);
        }
    }
    res.headers_mut().insert(
        salvo::http::header::CACHE_CONTROL,
        salvo::http::HeaderValue::from_static("public, max-age=86400"),
    );
}

/// The process is alive.
#[endpoint(tags("system"))]
async fn healthz() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

/// How long `/readyz` waits for any one check.
const CHECK_LIMIT: Duration = Duration::from_secs(3);

/// The parts `/readyz` asks: every module's and adapter's [`Health`], collected by `app`.
#[derive(Clone)]
struct Checks(Arc<[Arc<dyn Health>]>);

/// `{"status": "ready", "database": "ok", "state_store": "ok", "router": "ok", ...,
/// "checks": [{"name": "database", "status": "ok", "detail": "..."}, ...]}`.
#[derive(Debug, ToSchema)]
struct Readiness {
    /// `ready`, or `not_ready` (with 503) when any part is down.
    status: &'static str,
    /// Each part's `ok`, `degraded` or `down`, written at the top level under the part's name
    /// (`database`, `state_store`, `router`, `plugins`, ...), as before readiness was a port.
    #[salvo(schema(skip))]
    parts: Vec<(&'static str, Status)>,
    /// Each part with a short detail for the operator, in a fixed order.
    checks: Vec<Part>,
}

/// By hand: the parts sit beside `status` and `checks` (a flattened map, which the schema
/// derive cannot describe).
impl Serialize for Readiness {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.parts.len() + 2))?;
        map.serialize_entry("status", self.status)?;
        for (name, status) in &self.parts {
            map.serialize_entry(name, status)?;
        }
        map.serialize_entry("checks", &self.checks)?;
        map.end()
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct Part {
    name: &'static str,
    status: Status,
    detail: String,
}

/// Every part answers. 503 when one is down; a degraded part (the router reconnecting, a
/// refused plugin) is shown but the portal keeps serving.
#[endpoint(tags("system"), status_codes(200, 503))]
async fn readyz(depot: &mut Depot, res: &mut Response) -> Json<Readiness> {
    let checks = match depot.get_typed::<Checks>() {
        Ok(checks) => checks.0.clone(),
        Err(_) => Arc::from(Vec::new()),
    };
    let outcomes = health::check_all(&checks, CHECK_LIMIT).await;
    let ready = outcomes.iter().all(|(_, c)| c.status != Status::Down);
    if !ready {
        res.status_code(StatusCode::SERVICE_UNAVAILABLE);
    }
    Json(Readiness {
        status: if ready { "ready" } else { "not_ready" },
        parts: outcomes
            .iter()
            .map(|(name, check)| (*name, check.status))
            .collect(),
        checks: outcomes
            .into_iter()
            .map(|(name, check)| Part {
                name,
                status: check.status,
                detail: check.detail,
            })
            .collect(),
    })
}

const LANDING_TITLE: Text = Text::new("Selamat datang", "Welcome");
const LANDING_BODY: Text = Text::new(
    "Ini adalah portal hotspot. Hubungkan perangkat Anda ke Wi-Fi untuk masuk dengan kode WhatsApp.",
    "This is the hotspot portal. Connect your device to the Wi-Fi to log in with a WhatsApp code.",
);

/// `/`: a logged-in user's dashboard, a welcome for everyone else.
#[handler]
async fn landing(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    if web::current_user(depot).is_some() {
        res.render(Redirect::other("/akun"));
        return;
    }
    let lang = Lang::of_request(req);
    let body = format!(
        "<div class=\"card\"><h1>{}</h1><p>{}</p></div>",
        LANDING_TITLE.get(lang),
        LANDING_BODY.get(lang)
    );
    res.render(Page::new(lang, LANDING_TITLE.get(lang), body));
}

#[derive(Debug, Serialize, ToSchema)]
struct ClientInfo {
    client_ip: Option<String>,
    https: bool,
    request_id: String,
}

/// How the portal sees the caller after the trusted-proxy rules: for checking a proxy set-up.
#[endpoint(tags("system"))]
async fn client_info(depot: &mut Depot) -> Json<ClientInfo> {
    Json(ClientInfo {
        client_ip: web::client_ip(depot).map(|ip| ip.to_string()),
        https: web::is_https(depot),
        request_id: request_id(depot),
    })
}

/// The whole application: middleware, module routers and system endpoints.
pub fn service(app: &App) -> Service {
    service_with(app, Router::new())
}

/// [`service`] with `extra` routes mounted beside the others (tests mount probes here).
pub fn service_with(app: &App, extra: Router) -> Service {
    let router = routes(app, extra);
    let doc = OpenApi::new("lpsaring", env!("CARGO_PKG_VERSION")).merge_router(&router);
    let mut router = router.unshift(doc.into_router("/api/openapi.json"));
    let exporter = crate::metrics::Exporter::of(app);
    if let Some(exporter) = &exporter
        && app.settings.metrics.listen.is_none()
    {
        router = router.unshift(exporter.clone().router());
    }
    let service = match exporter {
        Some(_) => Service::new(router).hoop(crate::metrics::HttpMetrics),
        None => Service::new(router),
    };
    service
        // The operator's brand for every page rendered below (the catcher gets its own).
        .hoop(lpsaring_kernel::ui::site::SiteHoop(app.site.clone()))
        .hoop(RequestContext {
            trusted_proxies: Arc::new(app.settings.http.trusted_proxies.clone()),
            max_body_bytes: app.settings.http.max_body_bytes,
            body_read_timeout: Duration::from_secs(app.settings.http.body_read_timeout_secs),
        })
        // The one origin/CSRF check for every module's state changes, before any session is
        // refreshed; then who the caller is, for the kernel's guards.
        .hoop(app.sessions.csrf())
        .hoop(lpsaring_auth::SessionHoop::new(app.sessions.clone()))
        // Every page (error pages too: the catcher runs after the hoops) gets the CSP and friends.
        .hoop(web::SecurityHeaders)
        .catcher(
            Catcher::default()
                .hoop(lpsaring_kernel::ui::site::SiteHoop(app.site.clone()))
                .hoop(web::SecurityHeaders)
                .hoop(render_error),
        )
}

/// Every method and path the service answers (path parameters as `{name}`), for tests that walk
/// the route table: the OpenAPI document must list each one under `/api`, and each state change
/// must pass the origin check.
pub fn route_table(app: &App) -> Vec<(salvo::http::Method, String)> {
    fn walk(
        router: &Router,
        prefix: &str,
        method: Option<&salvo::http::Method>,
        out: &mut Vec<(salvo::http::Method, String)>,
    ) {
        let mut path = prefix.to_owned();
        let mut method = method.cloned();
        for filter in &router.filters {
            match filter.info() {
                salvo::routing::FilterInfo::Path(p) => {
                    let p = p.trim_matches('/');
                    if !p.is_empty() {
                        path = format!("{}/{p}", path.trim_end_matches('/'));
                    }
                }
                salvo::routing::FilterInfo::Method(m) => method = Some(m),
                _ => {}
            }
        }
        if router.goal.is_some()
            && let Some(m) = &method
        {
            let path = if path.is_empty() {
                "/".to_owned()
            } else {
                path.clone()
            };
            out.push((m.clone(), path));
        }
        for child in &router.routers {
            walk(child, &path, method.as_ref(), out);
        }
    }
    let mut out = Vec::new();
    walk(&routes(app, Router::new()), "", None, &mut out);
    out
}

fn routes(app: &App, extra: Router) -> Router {
    let api = Router::with_path("api").push(Router::with_path("system/client").get(client_info));
    Router::new()
        .hoop(CatchPanic::new())
        // Every route under `/api/admin` and `/admin` (but the login) is for admins only,
        // whichever module mounts it and whether or not it guards itself.
        .hoop(web::admin_area)
        .push(extra)
        .push(lpsaring_auth::router(app.auth.clone()))
        .push(lpsaring_auth::session::router(app.sessions.clone()))
        .push(lpsaring_auth::admin_router(app.user_admin.clone()))
        .push(lpsaring_quota::router(app.quota.clone()))
        .push(lpsaring_devices::router(app.device_portal.clone()))
        .push(lpsaring_devices::admin_router(app.device_admin.clone()))
        .push(lpsaring_quota::admin_router(app.quota_admin.clone()))
        .push(lpsaring_auth::user_record_router(app.user_records.clone()))
        .push(lpsaring_payments::router(app.payments.clone()))
        .push(lpsaring_kernel::ui::assets::router())
        .push(lpsaring_admin::router(
            app.admin.clone(),
            app.overview.clone(),
        ))
        .push(
            crate::backup::endpoint::Snapshotter {
                store: app.store.clone(),
                token: app.backup_token.clone(),
                data_dir: app.settings.data_dir.clone(),
            }
            .router(),
        )
        .push(Router::with_path("lang/{code}").get(switch_language))
        .push(Router::with_path("healthz").get(healthz))
        .push(Router::with_path("favicon.ico").get(favicon))
        .push(
            Router::with_path("readyz")
                .hoop(affix_state::inject(Checks(app.health.clone())))
                .get(readyz),
        )
        .push(api)
        .get(landing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn request_ids_are_kept_only_when_safe() {
        assert_eq!(sanitize_request_id("abc-123"), Some("abc-123".to_owned()));
        assert_eq!(sanitize_request_id("a b"), None);
        assert_eq!(sanitize_request_id("x\r\ny"), None);
        assert_eq!(sanitize_request_id(&"a".repeat(65)), None);
        assert_eq!(sanitize_request_id(""), None);
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let trusted = nets(&["10.0.0.0/8"]);
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(
            resolve_client_ip(Some(peer), &trusted, Some("1.1.1.1"), Some("2.2.2.2")),
            Some(peer)
        );
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(
            resolve_client_ip(
                Some(proxy),
                &trusted,
                None,
                Some("6.6.6.6, 198.51.100.7, 10.0.0.5")
            ),
            Some("198.51.100.7".parse().unwrap())
        );
        assert_eq!(
            resolve_client_ip(Some(proxy), &trusted, Some("198.51.100.8"), Some("6.6.6.6")),
            Some("198.51.100.8".parse().unwrap())
        );
        assert_eq!(
            resolve_client_ip(Some(proxy), &trusted, None, Some("garbage")),
            Some(proxy)
        );
    }
}
