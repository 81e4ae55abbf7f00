//! Request ids and the one-line-per-request log.
//!
//! Every request runs inside a `request` span (method, path, request id) and ends with one
//! event on target `ampd_api::trace`, for example:
//!
//! ```text
//! INFO ampd_api::trace: request method=GET path=/workspaces/ws-… status=200 latency_ms=0.541
//!     request_id=6b7f… operation="DescribeWorkspace"
//! ```
//!
//! Client errors add `error_code`; server errors are logged at ERROR with the full cause.

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::error::ErrorDetail;
use crate::operation::Operation;

/// The id of a request, echoed as `x-amzn-RequestId`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Middleware: assigns a request id, answers with it, and logs method, path, status, latency,
/// operation and request id once the response is ready. Error details (never sent to clients
/// for internal failures) are logged here.
pub async fn log_request(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = uuid::Uuid::new_v4().to_string();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", %method, %path, request_id = %id);
    let mut res = next.run(req).instrument(span).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-amzn-RequestId", v);
    }
    let status = res.status().as_u16();
    let latency_ms = format_args!("{:.3}", started.elapsed().as_secs_f64() * 1000.0);
    let operation = res
        .extensions()
        .get::<Operation>()
        .map_or("-", |o| o.name());
    match res.extensions().get::<ErrorDetail>() {
        Some(detail) if res.status().is_server_error() => tracing::error!(
            %method, %path, status, %latency_ms, request_id = %id, operation,
            error = %ErrorChain(detail.0.clone()),
            "request failed"
        ),
        Some(detail) => tracing::info!(
            %method, %path, status, %latency_ms, request_id = %id, operation,
            error_code = detail.0.code().1, "request"
        ),
        None => tracing::info!(
            %method, %path, status, %latency_ms, request_id = %id, operation, "request"
        ),
    }
    res
}

/// Lets a shared [`crate::AwsError`] print its whole source chain.
#[derive(Debug)]
struct ErrorChain(std::sync::Arc<crate::error::AwsError>);

impl std::fmt::Display for ErrorChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = std::error::Error::source(&*self.0);
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

impl std::error::Error for ErrorChain {}
