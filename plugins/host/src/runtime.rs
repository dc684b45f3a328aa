//! Runs one operation of a bound plugin: calls it, performs the HTTP requests it asks for, feeds
//! the responses back, and applies the host policy (allow-list, timeout, retries, breaker, step
//! limit, redaction).
//!
//! Plugin calls are synchronous C calls made on the async task itself. They are pure translations
//! of a few kilobytes of JSON (microseconds, see the `plugin_abi` bench), so moving them to
//! `spawn_blocking` would cost more than it protects; all waiting (HTTP, backoff) is async.

use std::sync::Arc;
use std::time::Instant;

use lpsaring_kernel::Clock;
use lpsaring_kernel::ports::{GatewayError, GatewayErrorKind};
use lpsaring_plugin_api::{
    CallContext, CallEnvelope, ErrorKind, HostInfo, HttpRequest, HttpResponse, Manifest,
    PROTOCOL_VERSION, PluginError, Resume, Step,
};
use serde_json::{Map, Value};

use crate::library::{CallFault, PluginLibrary};
use crate::policy::{AllowList, Breaker, HostPolicy, Redactor};

/// A loaded plugin file: its library, the manifest it gave at load, its breaker.
#[derive(Debug)]
pub(crate) struct LoadedPlugin {
    pub(crate) library: PluginLibrary,
    pub(crate) manifest: Manifest,
    pub(crate) file: std::path::PathBuf,
    pub(crate) breaker: Breaker,
}

/// A plugin bound to a role with its config: what the port adapters call.
#[derive(Debug)]
pub(crate) struct PluginRuntime {
    pub(crate) plugin: Arc<LoadedPlugin>,
    /// The manifest as the plugin gave it for this config.
    pub(crate) manifest: Manifest,
    config: Map<String, Value>,
    host_info: HostInfo,
    client: reqwest::Client,
    policy: HostPolicy,
    clock: Arc<dyn Clock>,
    redactor: Redactor,
    allow: AllowList,
}

/// The answer of one plugin call, before interpretation.
pub(crate) fn call_plugin_step(
    library: &PluginLibrary,
    op: &str,
    envelope: &CallEnvelope,
) -> Result<Step, PluginError> {
    let input = serde_json::to_vec(envelope).map_err(|e| {
        PluginError::permanent("HOST_ENCODE", format!("cannot encode the call: {e}"))
    })?;
    let answer = library.call(op, &input).map_err(|fault| match fault {
        CallFault::Panicked(message) => {
            PluginError::permanent("PLUGIN_PANICKED", format!("the plugin panicked: {message}"))
        }
        CallFault::Status(status, message) => {
            PluginError::permanent("PLUGIN_REFUSED_CALL", format!("status {status}: {message}"))
        }
    })?;
    serde_json::from_slice(&answer).map_err(|e| {
        let preview: String = String::from_utf8_lossy(&answer).chars().take(80).collect();
        PluginError::permanent(
            "PLUGIN_BAD_OUTPUT",
            format!("the plugin's answer is not a Step ({e}): {preview:?}"),
        )
    })
}

/// Builds the envelope the host sends: time from the kernel clock, the plugin's config.
pub(crate) fn envelope(
    clock: &dyn Clock,
    config: &Map<String, Value>,
    host: &HostInfo,
    input: Value,
    resume: Option<Resume>,
) -> CallEnvelope {
    let now = clock.now();
    CallEnvelope {
        protocol: PROTOCOL_VERSION,
        context: CallContext {
            now: now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            now_unix: now.timestamp(),
            config: config.clone(),
            host: host.clone(),
            resume,
        },
        input,
    }
}

/// The outcome of one attempt, with whether it reached the network (for the breaker).
struct Attempt {
    result: Result<Value, PluginError>,
    used_network: bool,
}

impl PluginRuntime {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        plugin: Arc<LoadedPlugin>,
        manifest: Manifest,
        config: Map<String, Value>,
        host_info: HostInfo,
        client: reqwest::Client,
        policy: HostPolicy,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let redactor = Redactor::new(&manifest, &config);
        let allow = AllowList::new(&manifest.allowed_hosts);
        Self {
            plugin,
            manifest,
            config,
            host_info,
            client,
            policy,
            clock,
            redactor,
            allow,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.manifest.name
    }

    /// Runs `op` to completion with retries; errors come back redacted and in the kernel's terms.
    pub(crate) async fn run(&self, op: &str, input: Value) -> Result<Value, GatewayError> {
        let started = Instant::now();
        let result = self.run_with_retries(op, input).await;
        crate::metrics::record(self.name(), op, &result, started);
        result
    }

    async fn run_with_retries(&self, op: &str, input: Value) -> Result<Value, GatewayError> {
        let mut attempt_no = 1;
        loop {
            let attempt = self.attempt(op, &input).await;
            match attempt.result {
                Ok(value) => {
                    if attempt.used_network {
                        self.plugin.breaker.record_success();
                    }
                    return Ok(value);
                }
                Err(error) => {
                    let retryable =
                        error.kind == ErrorKind::Retryable && error.code != "CIRCUIT_OPEN";
                    if retryable && attempt_no < self.policy.max_attempts {
                        let pause = self.policy.backoff(attempt_no + 1);
                        tracing::warn!(
                            plugin = %self.name(), op, attempt = attempt_no, code = %error.code,
                            error = %self.redactor.redact(&error.message), pause_ms = pause.as_millis() as u64,
                            "plugin operation failed, retrying"
                        );
                        tokio::time::sleep(pause).await;
                        attempt_no += 1;
                        continue;
                    }
                    if retryable && attempt.used_network {
                        let opened = self
                            .plugin
                            .breaker
                            .record_failure(self.clock.now(), &self.policy);
                        if opened {
                            tracing::error!(plugin = %self.name(), "circuit breaker opened after repeated failures");
                        }
                    }
                    let error = self.to_gateway_error(error);
                    tracing::warn!(plugin = %self.name(), op, attempts = attempt_no, code = %error.code, error = %error.message, "plugin operation failed");
                    return Err(error);
                }
            }
        }
    }

    async fn attempt(&self, op: &str, input: &Value) -> Attempt {
        let mut resume = None;
        let mut used_network = false;
        for step_no in 0..=self.policy.max_steps {
            let call = envelope(
                self.clock.as_ref(),
                &self.config,
                &self.host_info,
                input.clone(),
                resume.take(),
            );
            let step = match call_plugin_step(&self.plugin.library, op, &call) {
                Ok(step) => step,
                Err(e) => {
                    return Attempt {
                        result: Err(e),
                        used_network,
                    };
                }
            };
            let (request, state) = match step {
                Step::Done(value) => {
                    return Attempt {
                        result: Ok(value),
                        used_network,
                    };
                }
                Step::Error(e) => {
                    return Attempt {
                        result: Err(e),
                        used_network,
                    };
                }
                Step::Http { request, state } => (request, state),
            };
            if step_no == self.policy.max_steps {
                break;
            }
            if let Some(until) = self.plugin.breaker.open_until(self.clock.now()) {
                let error = PluginError::retryable(
                    "CIRCUIT_OPEN",
                    format!(
                        "calls to plugin `{}` are paused until {until} after repeated failures",
                        self.name()
                    ),
                );
                return Attempt {
                    result: Err(error),
                    used_network,
                };
            }
            used_network = true;
            match self.perform(op, step_no, request).await {
                Ok(response) => resume = Some(Resume { state, response }),
                Err(e) => {
                    return Attempt {
                        result: Err(e),
                        used_network,
                    };
                }
            }
        }
        let error = PluginError::permanent(
            "TOO_MANY_STEPS",
            format!(
                "the plugin asked for more than {} HTTP requests in one operation",
                self.policy.max_steps
            ),
        );
        Attempt {
            result: Err(error),
            used_network,
        }
    }

    /// Performs one HTTP step. Header values are never logged; URLs are redacted.
    async fn perform(
        &self,
        op: &str,
        step_no: u32,
        request: HttpRequest,
    ) -> Result<HttpResponse, PluginError> {
        let shown_url = self.redactor.redact(&request.url);
        let url = reqwest::Url::parse(&request.url)
            .map_err(|e| PluginError::permanent("BAD_URL", format!("{shown_url}: {e}")))?;
        if let Err(reason) = self.allow.check(&url) {
            tracing::error!(plugin = %self.name(), op, url = %shown_url, reason = %reason, "plugin request refused");
            return Err(PluginError::permanent("HOST_NOT_ALLOWED", reason));
        }
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|_| {
            PluginError::permanent(
                "BAD_METHOD",
                format!("{:?} is not an HTTP method", request.method),
            )
        })?;
        let mut builder = self
            .client
            .request(method.clone(), url)
            .timeout(self.policy.call_timeout);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let started = Instant::now();
        let outcome = builder.body(request.body).send().await;
        let response = match outcome {
            Ok(response) => response,
            Err(e) => {
                let code = if e.is_timeout() {
                    "HTTP_TIMEOUT"
                } else if e.is_connect() {
                    "HTTP_CONNECT"
                } else if e.is_builder() {
                    "HTTP_BAD_REQUEST"
                } else {
                    "HTTP_TRANSPORT"
                };
                let message = self.redactor.redact(&format!("{method} {shown_url}: {e}"));
                let kind = if code == "HTTP_BAD_REQUEST" {
                    ErrorKind::Permanent
                } else {
                    ErrorKind::Retryable
                };
                return Err(PluginError::new(kind, code, message));
            }
        };
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        if response
            .content_length()
            .is_some_and(|len| len > self.policy.max_response_bytes as u64)
        {
            return Err(PluginError::permanent(
                "HTTP_RESPONSE_TOO_LARGE",
                format!(
                    "{shown_url} answered more than {} bytes",
                    self.policy.max_response_bytes
                ),
            ));
        }
        let body = response.bytes().await.map_err(|e| {
            PluginError::retryable(
                "HTTP_TRANSPORT",
                self.redactor.redact(&format!("reading {shown_url}: {e}")),
            )
        })?;
        if body.len() > self.policy.max_response_bytes {
            return Err(PluginError::permanent(
                "HTTP_RESPONSE_TOO_LARGE",
                format!(
                    "{shown_url} answered more than {} bytes",
                    self.policy.max_response_bytes
                ),
            ));
        }
        tracing::debug!(
            plugin = %self.name(), op, step = step_no, %method, url = %shown_url, status,
            elapsed_ms = started.elapsed().as_millis() as u64, "plugin http step"
        );
        Ok(HttpResponse {
            status,
            headers,
            body: body.to_vec(),
        })
    }

    pub(crate) fn to_gateway_error(&self, error: PluginError) -> GatewayError {
        let kind = match error.kind {
            ErrorKind::Retryable => GatewayErrorKind::Retryable,
            ErrorKind::Permanent => GatewayErrorKind::Permanent,
            ErrorKind::Auth => GatewayErrorKind::Auth,
            ErrorKind::InvalidInput => GatewayErrorKind::InvalidInput,
        };
        GatewayError::new(kind, error.code, self.redactor.redact(&error.message))
    }
}
