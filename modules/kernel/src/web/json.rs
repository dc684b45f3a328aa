//! The JSON body extractor of every endpoint. Salvo's own answers a bad body with a bare 400;
//! this one says which field is wrong (422 `VALIDATION_ERROR`, `details.field`), so a client can
//! point at it, and 415 when the body is not declared as JSON.

use salvo::extract::{Extractible, Metadata};
use salvo::http::{ParseError, StatusCode};
use salvo::oapi::extract::JsonBody;
use salvo::oapi::{Components, EndpointArgRegister, Operation, ToSchema};
use salvo::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::ApiError;

/// A body wrapper's plumbing: `into_inner`, `Deref`, and the OpenAPI entry of its JSON shape
/// (documented exactly like salvo's `JsonBody<T>`).
macro_rules! body_wrapper {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<T>(pub T);

        impl<T> $name<T> {
            pub fn into_inner(self) -> T {
                self.0
            }
        }

        impl<T> std::ops::Deref for $name<T> {
            type Target = T;
            fn deref(&self) -> &T {
                &self.0
            }
        }

        impl<T> EndpointArgRegister for $name<T>
        where
            T: DeserializeOwned + ToSchema,
        {
            fn register(components: &mut Components, operation: &mut Operation, arg: &str) {
                <JsonBody<T> as EndpointArgRegister>::register(components, operation, arg);
            }
        }
    };
}

body_wrapper!(
    /// A JSON request body of type `T`.
    JsonIn
);

fn is_json(req: &Request) -> bool {
    req.content_type()
        .is_some_and(|m| m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
}

/// The field a serde error is about: its path, or for a missing field the field's own name.
fn field_of(path: &str, message: &str) -> Option<String> {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (path, missing) {
        (".", Some(name)) => Some(name.to_owned()),
        (".", None) => None,
        (path, Some(name)) => Some(format!("{path}.{name}")),
        (path, None) => Some(path.to_owned()),
    }
}

/// Parses `bytes` as `T`, or the 422 that names the field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let detail = inner.to_string();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::validation(format!("The body is not valid JSON: {detail}."));
        }
        match field_of(&path, &detail) {
            Some(field) => ApiError::validation(format!("Field `{field}`: {detail}."))
                .with_details(json!({ "field": field })),
            None => ApiError::validation(format!("The body does not fit: {detail}.")),
        }
    })
}

impl<'ex, T> Extractible<'ex> for JsonIn<T>
where
    T: DeserializeOwned + Send,
{
    fn metadata() -> &'static Metadata {
        static METADATA: Metadata = Metadata::new("");
        &METADATA
    }

    #[allow(refining_impl_trait)]
    async fn extract(req: &'ex mut Request, _depot: &'ex mut Depot) -> Result<Self, ApiError> {
        if !is_json(req) {
            return Err(not_json());
        }
        parse(json_bytes(req).await?).map(JsonIn)
    }
}

fn not_json() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        "Send the body as JSON (Content-Type: application/json).",
    )
}

fn read_error(e: ParseError) -> ApiError {
    match e {
        ParseError::PayloadTooLarge => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "The request body is too large.",
        ),
        other => ApiError::bad_request(format!("The body could not be read: {other}.")),
    }
}

async fn json_bytes(req: &mut Request) -> Result<&[u8], ApiError> {
    req.payload().await.map(|b| &b[..]).map_err(read_error)
}

body_wrapper!(
    /// A body of type `T` sent as JSON or, as the original lpsaring's web app posts its login
    /// (`new URLSearchParams(...)`), as `application/x-www-form-urlencoded`. Only for endpoints
    /// that take no cookie (the code request and check): a form is what a foreign page can post
    /// without asking, so cookie-authenticated endpoints stay JSON-only ([`JsonIn`]).
    JsonOrForm
);

fn is_form(req: &Request) -> bool {
    req.content_type()
        .is_some_and(|m| m.type_() == "application" && m.subtype() == "x-www-form-urlencoded")
}

/// A form's fields as a JSON object of strings, where the original sends booleans as the words
/// `true` and `false` (`hotspot_login_context=true`); a repeated field keeps its last value.
pub fn form_to_json<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> serde_json::Value {
    let fields = pairs
        .into_iter()
        .map(|(k, v)| {
            let value = match v {
                "true" => serde_json::Value::Bool(true),
                "false" => serde_json::Value::Bool(false),
                text => serde_json::Value::String(text.to_owned()),
            };
            (k.to_owned(), value)
        })
        .collect::<serde_json::Map<_, _>>();
    serde_json::Value::Object(fields)
}

impl<'ex, T> Extractible<'ex> for JsonOrForm<T>
where
    T: DeserializeOwned + Send,
{
    fn metadata() -> &'static Metadata {
        static METADATA: Metadata = Metadata::new("");
        &METADATA
    }

    #[allow(refining_impl_trait)]
    async fn extract(req: &'ex mut Request, _depot: &'ex mut Depot) -> Result<Self, ApiError> {
        if is_json(req) {
            return parse(json_bytes(req).await?).map(JsonOrForm);
        }
        if !is_form(req) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "Send the body as JSON (Content-Type: application/json) or as a form.",
            ));
        }
        let form = req.form_data().await.map_err(read_error)?;
        let object = form_to_json(form.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        parse(object.to_string().as_bytes()).map(JsonOrForm)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Inner {
        #[allow(dead_code)]
        otp: String,
    }

    #[derive(Debug, Deserialize)]
    struct Body {
        #[allow(dead_code)]
        phone_number: String,
        #[allow(dead_code)]
        ctx: Option<Inner>,
    }

    #[test]
    fn a_form_reads_as_strings_with_the_originals_boolean_words() {
        let value = form_to_json([
            ("phone_number", "0812"),
            ("otp", "012345"),
            ("hotspot_login_context", "true"),
            ("otp", "543210"),
        ]);
        assert_eq!(
            value,
            json!({"phone_number": "0812", "otp": "543210", "hotspot_login_context": true})
        );
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse::<Body>(br#"{"phone_number": 5}"#).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.code, "VALIDATION_ERROR");
        assert_eq!(e.details, Some(json!({"field": "phone_number"})));
        let e = parse::<Body>(br#"{}"#).unwrap_err();
        assert_eq!(e.details, Some(json!({"field": "phone_number"})));
        let e = parse::<Body>(br#"{"phone_number": "1", "ctx": {}}"#).unwrap_err();
        assert_eq!(e.details, Some(json!({"field": "ctx.otp"})));
        let e = parse::<Body>(br#"{"phone_number": "#).unwrap_err();
        assert_eq!(e.code, "VALIDATION_ERROR");
        assert!(e.message.contains("not valid JSON"), "{}", e.message);
    }
}
