//! Request extractors whose rejections are AWS-shaped errors instead of axum's plain text.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::error::AwsError;

/// Largest request body accepted (rule files and alertmanager definitions are capped at 1 MB
/// by AMP; base64 adds a third).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// A JSON body; an empty body reads as `{}` because botocore omits empty inputs.
#[derive(Debug)]
pub struct AwsJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AwsJson<T> {
    type Rejection = AwsError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| AwsError::cannot_parse(format!("cannot read request body: {e}")))?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes)
            .map(AwsJson)
            .map_err(|e| match e.classify() {
                // Well-formed JSON of the wrong shape: a missing member or a wrong type.
                Category::Data => AwsError::Validation {
                    message: format!("invalid request body: {e}"),
                    reason: crate::error::ValidationReason::FieldValidationFailed,
                    fields: Vec::new(),
                },
                Category::Io | Category::Syntax | Category::Eof => {
                    AwsError::cannot_parse(format!("request body is not valid JSON: {e}"))
                }
            })
    }
}

/// Percent-decoded path labels.
#[derive(Debug)]
pub struct AwsPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for AwsPath<T> {
    type Rejection = AwsError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| AwsPath(v))
            .map_err(|e| AwsError::cannot_parse(format!("invalid path: {e}")))
    }
}

/// The decoded query string as ordered pairs; keys may repeat (`tagKeys=a&tagKeys=b`).
#[derive(Debug, Default)]
pub struct QueryParams(pub Vec<(String, String)>);

impl QueryParams {
    /// Parses a raw query string.
    pub fn parse(query: &str) -> Self {
        Self(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// Returns the first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Returns every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = AwsError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::parse(parts.uri.query().unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_kept_in_order() {
        let q = QueryParams::parse("tagKeys=a&tagKeys=b%20c&x=1");
        assert_eq!(q.all("tagKeys"), ["a", "b c"]);
        assert_eq!(q.get("x"), Some("1"));
        assert_eq!(q.get("y"), None);
    }
}
