//! The API error envelope shared by every JSON endpoint.
//!
//! Each module has its own `thiserror` enum implementing [`ErrorCode`]; handlers turn it into an
//! [`ApiError`], which renders as
//! `{"success":false,"error":…,"message":…,"status_code":…,"code":…,"request_id":…}`.
//! Codes are stable UPPER_SNAKE strings that clients and translations key on.

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
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Internal server error.",
        )
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

impl<E: ErrorCode> From<&E> for ApiError {
    fn from(err: &E) -> Self {
        let mut api = ApiError::new(err.status(), err.code(), err.public_message());
        api.details = err.details();
        api
    }
}

#[async_trait]
impl Writer for ApiError {
    async fn write(self, _req: &mut Request, depot: &mut Depot, res: &mut Response) {
        let body = self.envelope(request_id(depot));
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
