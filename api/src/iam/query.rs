//! The AWS query protocol as IAM speaks it: form-encoded requests, XML responses and errors.

use std::fmt::Write as _;

use ampd_backends::IamStoreError;
use ampd_iam::sigv4::{Protocol, SigV4Error};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::AuthzError;

/// XML namespace of IAM responses.
pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// The only IAM API version.
pub const VERSION: &str = "2010-05-08";

/// The decoded form parameters of one request.
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// Returns the value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Returns the value of a required parameter.
    pub fn required(&self, name: &str) -> Result<&str, IamError> {
        self.get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            IamError::validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: \
                 Member must not be null",
                lower_first(name)
            ))
        })
    }

    /// Returns the values of a `{name}.member.N` list, in order.
    pub fn list(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        for n in 1.. {
            match self.get(&format!("{name}.member.{n}")) {
                Some(v) => out.push(v.to_owned()),
                None => break,
            }
        }
        out
    }

    /// Returns the `Key`/`Value` pairs of a `Tags.member.N` list.
    pub fn tags(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for n in 1.. {
            let Some(key) = self.get(&format!("Tags.member.{n}.Key")) else {
                break;
            };
            let value = self
                .get(&format!("Tags.member.{n}.Value"))
                .unwrap_or_default();
            out.push((key.to_owned(), value.to_owned()));
        }
        out
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// Escapes text for an XML element.
pub fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// Builds the body of a successful response element by element.
#[derive(Debug, Default)]
pub struct Xml(String);

impl Xml {
    /// Starts an empty body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `<name>text</name>` with `text` escaped.
    pub fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        let _ = write!(self.0, "<{name}>{}</{name}>", escape(text));
        self
    }

    /// Returns the XML written so far.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Appends escaped text.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.0.push_str(&escape(text));
        self
    }

    /// Appends `<name>` … `</name>` around what `inner` writes.
    pub fn node(&mut self, name: &str, inner: impl FnOnce(&mut Self)) -> &mut Self {
        let _ = write!(self.0, "<{name}>");
        inner(self);
        let _ = write!(self.0, "</{name}>");
        self
    }

    /// Appends a list: `<name><member>…</member>…</name>`.
    pub fn list<T>(&mut self, name: &str, items: &[T], each: impl Fn(&mut Self, &T)) -> &mut Self {
        self.node(name, |x| {
            for item in items {
                x.node("member", |m| each(m, item));
            }
        })
    }
}

/// Returns a successful response: `<{action}Response>` with an optional `<{action}Result>`.
pub fn respond(action: &str, result: Option<Xml>, request_id: &str) -> Response {
    respond_in(NAMESPACE, action, result, request_id)
}

/// Returns a successful query-protocol response of the service whose XML namespace is
/// `namespace` (IAM and STS share the envelope).
pub fn respond_in(
    namespace: &str,
    action: &str,
    result: Option<Xml>,
    request_id: &str,
) -> Response {
    let mut body =
        format!(r#"<?xml version="1.0" encoding="UTF-8"?><{action}Response xmlns="{namespace}">"#);
    if let Some(inner) = result {
        let inner = inner.into_string();
        let _ = write!(body, "<{action}Result>{inner}</{action}Result>");
    }
    let _ = write!(
        body,
        "<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        escape(request_id)
    );
    xml_response(StatusCode::OK, body)
}

/// Returns a query-protocol error document of the service whose XML namespace is `namespace`:
/// `Sender` faults for 4xx, `Receiver` for 5xx.
pub fn error_in(
    namespace: &str,
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &str,
) -> Response {
    let kind = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>"#,
        escape(message),
        escape(request_id)
    );
    xml_response(status, body)
}

fn xml_response(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    res
}

/// An IAM error: HTTP status, the query protocol's short code, and a message.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct IamError {
    /// HTTP status.
    pub status: StatusCode,
    /// Wire code (`NoSuchEntity`, `AccessDenied`, …).
    pub code: &'static str,
    /// Message for the client.
    pub message: String,
    /// The internal cause of a 5xx, logged but never sent.
    #[source]
    pub source: Option<anyhow::Error>,
}

impl IamError {
    /// Returns an error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            source: None,
        }
    }

    /// `ValidationError` (400).
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationError", message)
    }

    /// `InvalidInput` (400).
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidInput", message)
    }

    /// `NoSuchEntity` (404).
    pub fn no_such_entity(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NoSuchEntity", message)
    }

    /// `ServiceFailure` (500), keeping `source` for the log.
    pub fn internal(source: anyhow::Error) -> Self {
        Self {
            source: Some(source),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceFailure",
                "An internal error occurred.",
            )
        }
    }

    /// Renders the error with the request id.
    pub fn into_response_with(self, request_id: &str) -> Response {
        if let Some(source) = &self.source {
            tracing::error!(code = self.code, error = %format!("{source:#}"), "IAM request failed");
        }
        error_in(NAMESPACE, self.status, self.code, &self.message, request_id)
    }
}

impl From<IamStoreError> for IamError {
    fn from(e: IamStoreError) -> Self {
        match e {
            IamStoreError::NoSuchEntity(m) => Self::no_such_entity(m),
            IamStoreError::AlreadyExists(m) => {
                Self::new(StatusCode::CONFLICT, "EntityAlreadyExists", m)
            }
            IamStoreError::DeleteConflict(m) => {
                Self::new(StatusCode::CONFLICT, "DeleteConflict", m)
            }
            IamStoreError::LimitExceeded(m) => Self::new(StatusCode::CONFLICT, "LimitExceeded", m),
            e @ IamStoreError::Internal(_) => Self::internal(anyhow::Error::new(e)),
        }
    }
}

impl From<SigV4Error> for IamError {
    fn from(e: SigV4Error) -> Self {
        let status = e.http_status_for(Protocol::Query);
        let code = e.aws_code_for(Protocol::Query);
        let message = e.message_for(Protocol::Query);
        Self {
            source: status.is_server_error().then(|| anyhow::Error::new(e)),
            ..Self::new(status, code, message)
        }
    }
}

impl From<AuthzError> for IamError {
    fn from(e: AuthzError) -> Self {
        match e {
            AuthzError::Denied(m) => Self::new(StatusCode::FORBIDDEN, "AccessDenied", m),
            AuthzError::Internal(e) => Self::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_tags_decode() {
        let f = Form::parse(
            b"Action=CreateUser&UserName=a%2Bb&Tags.member.1.Key=team&Tags.member.1.Value=obs",
        );
        assert_eq!(f.get("UserName"), Some("a+b"));
        assert_eq!(f.tags(), [("team".to_owned(), "obs".to_owned())]);
        let e = f.required("PolicyArn").unwrap_err();
        assert_eq!(e.code, "ValidationError");
        assert!(e.message.contains("'policyArn'"));
    }

    #[test]
    fn xml_is_escaped_and_wrapped() {
        let mut x = Xml::new();
        x.node("User", |u| {
            u.leaf("UserName", "a<b&c");
        });
        x.list("Names", &["p1", "p2"], |m, n| {
            m.text(n);
        });
        assert_eq!(
            x.0,
            "<User><UserName>a&lt;b&amp;c</UserName></User>\
             <Names><member>p1</member><member>p2</member></Names>"
        );
    }
}
