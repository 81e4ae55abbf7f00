//! What a response says about the call (`errorCode`, `errorMessage`, `responseElements`), and
//! the answer sent instead when the call cannot be recorded.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::AwsError;

/// The wire protocol of a call, which fixes where its error code is found and how a failure
/// is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wire {
    /// AMP rest-json: `x-amzn-ErrorType` header, JSON body.
    RestJson,
    /// awsJson 1.1 (KMS, CloudTrail): `__type` in the JSON body.
    Json11,
    /// AWS query (IAM, STS): `<Code>` in an XML error document.
    Query,
    /// Prometheus remote write: plain-text errors.
    RemoteWrite,
    /// The Prometheus HTTP API: the JSON envelope.
    Prometheus,
}

/// The error of a failed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Failure {
    /// Service error code.
    pub(super) code: String,
    /// Message.
    pub(super) message: String,
}

/// Returns the error a response reports, or `None` for a success.
pub(super) fn failure(
    wire: Wire,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Failure> {
    if status.is_success() || status.is_informational() || status.is_redirection() {
        return None;
    }
    let json = serde_json::from_slice::<Value>(body).ok();
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let json_message = || {
        json.as_ref()
            .and_then(|j| text(j.get("message")).or_else(|| text(j.get("Message"))))
    };
    // `x-amzn-ErrorType` and `__type` may carry a namespace (`ns#Code`) or a suffix
    // (`Code:http://…`).
    let bare = |code: &str| {
        let code = code.rsplit('#').next().unwrap_or(code);
        code.split(':').next().unwrap_or(code).to_owned()
    };
    let header_code = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(bare);
    let (code, message) = match wire {
        Wire::RestJson => (header_code, json_message()),
        Wire::Json11 => (
            json.as_ref()
                .and_then(|j| text(j.get("__type")))
                .map(|c| bare(&c))
                .or(header_code),
            json_message(),
        ),
        Wire::Query => {
            let xml = String::from_utf8_lossy(body);
            (xml_leaf(&xml, "Code"), xml_leaf(&xml, "Message"))
        }
        Wire::Prometheus => (
            header_code.or_else(|| json.as_ref().and_then(|j| text(j.get("errorType")))),
            json.as_ref()
                .and_then(|j| text(j.get("error")))
                .or_else(json_message),
        ),
        Wire::RemoteWrite => (
            header_code,
            json_message().or_else(|| {
                let t = String::from_utf8_lossy(body).trim().to_owned();
                (!t.is_empty()).then_some(t)
            }),
        ),
    };
    let code = code.unwrap_or_else(|| {
        // No modeled code: name the HTTP status (`BadRequest`, `InternalServerError`).
        status
            .canonical_reason()
            .unwrap_or("Error")
            .split(|c: char| !c.is_ascii_alphanumeric())
            .collect()
    });
    Some(Failure {
        code,
        message: message.unwrap_or_default(),
    })
}

/// Returns the unescaped text of the first `<name>…</name>` in `xml`.
pub(super) fn xml_leaf(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    let raw = &xml[start..end];
    Some(quick_xml::escape::unescape(raw).map_or_else(|_| raw.to_owned(), |t| t.into_owned()))
}

/// Returns a successful JSON response's body as `responseElements`.
pub(super) fn response_elements(body: &[u8]) -> Option<Value> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Some(v),
        _ => None,
    }
}

/// The answer to a call whose event could not be made durable: a server error in the call's
/// own protocol, so clients retry instead of believing an unrecorded call succeeded.
pub(super) fn unrecorded(wire: Wire, service_code: &str, request_id: &str) -> Response {
    const MESSAGE: &str = "The request could not be recorded in the audit trail; retry it.";
    let status = StatusCode::INTERNAL_SERVER_ERROR;
    let typed = |content_type: &'static str, body: String| {
        let mut res = (status, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        res
    };
    match wire {
        Wire::RestJson => {
            AwsError::Internal(anyhow::anyhow!("the audit trail refused the event")).into_response()
        }
        Wire::Json11 => typed(
            "application/x-amz-json-1.1",
            serde_json::json!({"__type": service_code, "message": MESSAGE}).to_string(),
        ),
        Wire::Query => typed(
            "text/xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Receiver</Type><Code>{service_code}</Code><Message>{MESSAGE}</Message></Error><RequestId>{}</RequestId></ErrorResponse>"#,
                quick_xml::escape::escape(request_id)
            ),
        ),
        Wire::RemoteWrite => typed("text/plain; charset=utf-8", format!("{MESSAGE}\n")),
        Wire::Prometheus => typed(
            "application/json",
            serde_json::json!({"status": "error", "errorType": "internal", "error": MESSAGE})
                .to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(error_type: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(t) = error_type {
            h.insert("x-amzn-ErrorType", HeaderValue::from_str(t).unwrap());
        }
        h
    }

    #[test]
    fn codes_come_from_each_protocols_place() {
        let f = failure(
            Wire::RestJson,
            StatusCode::FORBIDDEN,
            &headers(Some("AccessDeniedException:http://internal")),
            br#"{"message":"no"}"#,
        )
        .unwrap();
        assert_eq!(
            (f.code.as_str(), f.message.as_str()),
            ("AccessDeniedException", "no")
        );
        let f = failure(
            Wire::Json11,
            StatusCode::BAD_REQUEST,
            &headers(None),
            br#"{"__type":"com.amazonaws.kms#NotFoundException","message":"gone"}"#,
        )
        .unwrap();
        assert_eq!(f.code, "NotFoundException");
        let f = failure(
            Wire::Query,
            StatusCode::FORBIDDEN,
            &headers(None),
            b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
              <Message>a &amp; b</Message></Error></ErrorResponse>",
        )
        .unwrap();
        assert_eq!(
            (f.code.as_str(), f.message.as_str()),
            ("AccessDenied", "a & b")
        );
        let f = failure(
            Wire::Prometheus,
            StatusCode::BAD_REQUEST,
            &headers(None),
            br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
        )
        .unwrap();
        assert_eq!(f.code, "bad_data");
        let f = failure(
            Wire::RemoteWrite,
            StatusCode::BAD_REQUEST,
            &headers(None),
            b"out of order sample\n",
        )
        .unwrap();
        assert_eq!(
            (f.code.as_str(), f.message.as_str()),
            ("BadRequest", "out of order sample")
        );
        assert!(failure(Wire::RestJson, StatusCode::ACCEPTED, &headers(None), b"{}").is_none());
    }

    #[test]
    fn unrecorded_calls_fail_in_their_protocol() {
        let res = unrecorded(Wire::Query, "ServiceFailure", "r-1");
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "text/xml");
        let res = unrecorded(Wire::RestJson, "", "r-1");
        assert_eq!(res.headers()["x-amzn-ErrorType"], "InternalServerException");
        let res = unrecorded(Wire::Json11, "KMSInternalException", "r-1");
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
