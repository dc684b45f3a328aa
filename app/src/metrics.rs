//! `/metrics` in the Prometheus text format: the recorder every module records into (installed
//! once per process), the HTTP request metrics (by route template, never a raw path), the
//! scrape-time samples ([`Sampled`] parts `app` collects), and the endpoint itself, on the main
//! listener behind `[metrics] enabled` and an optional bearer token, or alone on
//! `metrics.listen`.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use lpsaring_kernel::jobs::Job;
use lpsaring_kernel::metrics::Sampled;
use lpsaring_kernel::web::csrf::constant_time_eq;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use salvo::http::StatusCode;
use salvo::prelude::*;

use crate::App;

pub const HTTP_REQUESTS: &str = "lpsaring_http_requests_total";
pub const HTTP_SECONDS: &str = "lpsaring_http_request_duration_seconds";

/// Latency buckets for every `_seconds` histogram: 0.5 ms to 1 min.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// The process-wide recorder: installed by the first app built with metrics on; every later
/// app in the process (tests) shares it. `None` when another recorder was installed first.
pub fn recorder() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS)
                .ok()?
                .install_recorder()
                .map_err(|e| tracing::warn!(error = %e, "metrics recorder not installed"))
                .ok()?;
            describe();
            Some(handle)
        })
        .clone()
}

/// Every module's metric descriptions (HELP and unit lines).
fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by route template, method and status."
    );
    metrics::describe_histogram!(
        HTTP_SECONDS,
        metrics::Unit::Seconds,
        "HTTP request latency by route template and method."
    );
    lpsaring_kernel::metrics::describe();
    lpsaring_store::metrics::describe();
    lpsaring_routeros::metrics::describe();
    lpsaring_plugin_host::metrics::describe();
    lpsaring_auth::metrics::describe();
    lpsaring_quota::metrics::describe();
    lpsaring_payments::metrics::describe();
}

/// The route a request matched as a template (`api/orders/{order_id}`): each path segment that
/// is a parameter's value is replaced by the parameter's name, so labels stay a bounded set.
pub fn route_template(matched: &str, params: &[(&str, &str)]) -> String {
    if matched.is_empty() {
        return "/".to_owned();
    }
    let mut out = String::with_capacity(matched.len() + 1);
    for segment in matched.split('/') {
        out.push('/');
        match params
            .iter()
            .find(|(_, value)| !value.is_empty() && *value == segment)
        {
            Some((name, _)) => {
                out.push('{');
                out.push_str(name.trim_start_matches('*'));
                out.push('}');
            }
            None => out.push_str(segment),
        }
    }
    out
}

/// The route label of a request no route matched (404, or 405 for a path without that method):
/// one fixed word, so probes for random paths cannot grow the label set.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Counts and times every request (routing has run: the matched path is known), the unmatched
/// ones under [`UNMATCHED_ROUTE`].
pub struct HttpMetrics;

#[async_trait]
impl Handler for HttpMetrics {
    async fn handle(
        &self,
        req: &mut Request,
        depot: &mut Depot,
        res: &mut Response,
        ctrl: &mut FlowCtrl,
    ) {
        let started = Instant::now();
        // salvo runs the service's hoops for an unmatched request too, with its 404 or 405
        // already set (a matched one has no status yet); its matched path is empty, like the
        // root's, so this is the only way to tell them apart. This hoop is the service's first.
        let unmatched = matches!(
            res.status_code,
            Some(StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED)
        );
        ctrl.call_next(req, depot, res).await;
        let route = if unmatched {
            UNMATCHED_ROUTE.to_owned()
        } else {
            let params: Vec<(&str, &str)> = req
                .params()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            route_template(req.matched_path(), &params)
        };
        let method = req.method().as_str().to_owned();
        let status = res
            .status_code
            .unwrap_or(StatusCode::OK)
            .as_u16()
            .to_string();
        metrics::histogram!(HTTP_SECONDS, "route" => route.clone(), "method" => method.clone())
            .record(started.elapsed().as_secs_f64());
        metrics::counter!(HTTP_REQUESTS, "route" => route, "method" => method, "status" => status)
            .increment(1);
    }
}

/// What a scrape reads: the recorder, the parts sampled at scrape, the bearer token.
#[derive(Clone)]
pub struct Exporter {
    handle: PrometheusHandle,
    sampled: Arc<[Arc<dyn Sampled>]>,
    token: Option<Arc<str>>,
}

impl Exporter {
    /// `None` when metrics are off (or another recorder owns the process).
    pub fn of(app: &App) -> Option<Self> {
        if !app.settings.metrics.enabled {
            return None;
        }
        Some(Self {
            handle: recorder()?,
            sampled: app.sampled.clone(),
            token: app
                .settings
                .metrics
                .token
                .as_ref()
                .map(|t| Arc::from(t.expose().as_str())),
        })
    }

    /// Samples every part, then renders the text format.
    pub async fn render(&self) -> String {
        for part in self.sampled.iter() {
            part.sample().await;
        }
        self.handle.render()
    }

    /// Drains histogram samples into their buckets now and then, so memory stays flat between
    /// scrapes (the exporter's required upkeep).
    pub fn upkeep_job(&self, every: Duration) -> Job {
        Job::new(
            "metrics.upkeep",
            every,
            Arc::new(self.handle.clone()),
            |handle| async move { handle.run_upkeep() },
        )
    }

    fn authorized(&self, req: &Request) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        req.headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| constant_time_eq(given.trim(), token))
    }

    /// `GET /metrics`.
    pub fn router(self) -> Router {
        Router::with_path("metrics").get(self)
    }
}

#[async_trait]
impl Handler for Exporter {
    async fn handle(
        &self,
        req: &mut Request,
        _depot: &mut Depot,
        res: &mut Response,
        ctrl: &mut FlowCtrl,
    ) {
        if !self.authorized(req) {
            res.headers_mut().insert(
                salvo::http::header::WWW_AUTHENTICATE,
                salvo::http::HeaderValue::from_static("Bearer"),
            );
            res.status_code(StatusCode::UNAUTHORIZED);
            res.render("unauthorized\n");
            ctrl.skip_rest();
            return;
        }
        let body = self.render().await;
        res.headers_mut().insert(
            salvo::http::header::CONTENT_TYPE,
            salvo::http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        res.render(body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_labelled_by_template_never_by_value() {
        assert_eq!(route_template("", &[]), "/");
        assert_eq!(route_template("healthz", &[]), "/healthz");
        assert_eq!(
            route_template("api/payments/orders/ORD-1", &[("order_id", "ORD-1")]),
            "/api/payments/orders/{order_id}"
        );
        assert_eq!(
            route_template("api/users/6281234567/devices", &[("phone", "6281234567")]),
            "/api/users/{phone}/devices"
        );
    }
}
