//! The API error envelope shared by every JSON endpoint.
//!
//! Each module has its own `thiserror` enum implementing [`ErrorCode`]; handlers return it through
//! `?` (the one conversion, `From<E: ErrorCode> for ApiError`), and it renders as
//! `{"success":false,"error":…,"message":…,"status_code":…,"code":…,"request_id":…}`.
//! Codes are stable UPPER_SNAKE strings that clients and translations key on. A 5xx keeps its
//! cause out of the body and logs it once, with the request id, when it is written.

use std::borrow::Cow;

use salvo::http::StatusCode;
use salvo::oapi::EndpointOutRegister;
use salvo::prelude::*;
use serde::Serialize;

use crate::web::request_id;

/// What a module error must say about itself to become an API answer.
pub trait ErrorCode: std::fmt::Display {
    /// Stable UPPER_SNAKE code, e.g. `OTP_COOLDOWN`.
    fn code(&self) -> &'static str;
    /// HTTP status for the envelope.
    fn status(&self) -> StatusCode;
    /// Text safe to show a user. Internal errors must override this to hide details.
    fn public_message(&self) -> String {
        self.to_string()
    }
    /// Optional structured details (e.g. `retry_after_secs`).
    fn details(&self) -> Option<serde_json::Value> {
        None
    }
}

/// An error answer in the envelope format.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    pub details: Option<serde_json::Value>,
    /// What went wrong inside, for the log line of a 5xx; never sent to the client.
    pub cause: Option<String>,
}

/// The JSON body of an error answer.
#[derive(Debug, Serialize, salvo::oapi::ToSchema)]
pub struct Envelope {
    pub success: bool,
    pub error: String,
    pub message: String,
    pub status_code: u16,
    pub code: String,
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            details: None,
            cause: None,
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_ERROR",
            message,
        )
    }

    /// A 500 that never shows internals: the cause goes to the log, not to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        let mut api = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Internal server error.",
        );
        api.cause = Some(cause.to_string());
        api
    }

    /// The generic envelope for a bare status (404 and 405 from the router, 413 from the size limit).
    pub fn from_status(status: StatusCode) -> Self {
        let code = format!("HTTP_{}", status.as_u16());
        let message = status.canonical_reason().unwrap_or("Error").to_owned();
        Self::new(status, code, message)
    }

    pub fn envelope(&self, request_id: String) -> Envelope {
        Envelope {
            success: false,
            error: self.message.clone(),
            message: self.message.clone(),
            status_code: self.status.as_u16(),
            code: self.code.to_string(),
            request_id,
            details: self.details.clone(),
        }
    }
}

/// A borrowed error says what the error says (so `ApiError::from(&e)` keeps `e`).
impl<E: ErrorCode + ?Sized> ErrorCode for &E {
    fn code(&self) -> &'static str {
        (**self).code()
    }
    fn status(&self) -> StatusCode {
        (**self).status()
    }
    fn public_message(&self) -> String {
        (**self).public_message()
    }
    fn details(&self) -> Option<serde_json::Value> {
        (**self).details()
    }
}

/// The one conversion from a module error to the envelope, also what `?` uses in a handler. A
/// 5xx remembers the full error as its cause (logged once, with the request id, when written);
/// the client sees only the module's public message.
impl<E: ErrorCode> From<E> for ApiError {
    fn from(err: E) -> Self {
        let mut api = ApiError::new(err.status(), err.code(), err.public_message());
        api.details = err.details();
        if api.status.is_server_error() {
            api.cause = Some(err.to_string());
        }
        api
    }
}

#[async_trait]
impl Writer for ApiError {
    async fn write(self, _req: &mut Request, depot: &mut Depot, res: &mut Response) {
        let request_id = request_id(depot);
        match &self.cause {
            Some(cause) if self.status == StatusCode::INTERNAL_SERVER_ERROR => {
                tracing::error!(%request_id, code = %self.code, error = %cause, "request failed");
            }
            // A dependency's fault (router, messenger): the operator needs it, the user does not.
            Some(cause) => {
                tracing::warn!(%request_id, code = %self.code, error = %cause, "request failed");
            }
            None => {}
        }
        let body = self.envelope(request_id);
        res.status_code(self.status);
        res.render(Json(body));
    }
}

impl EndpointOutRegister for ApiError {
    fn register(components: &mut salvo::oapi::Components, operation: &mut salvo::oapi::Operation) {
        use salvo::oapi::ToSchema;
        let schema = Envelope::to_schema(components);
        let response = salvo::oapi::Response::new("Error in the envelope format")
            .add_content("application/json", schema);
        operation.responses.insert("4XX", response);
    }
}
