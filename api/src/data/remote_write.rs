//! `POST /workspaces/{id}/api/v1/remote_write`: Prometheus remote write 1.0 and 2.0.
//!
//! Answers follow the remote-write specs: 2xx only once everything is stored, 4xx with a
//! plain-text reason for data the sender must not retry, 5xx when it should retry.

use ampd_backends::{MetricsErrorKind, WriteOutcome};
use ampd_remote_write::{Limits, Protocol, decode};
use std::time::Instant;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{DataState, admit};

const SAMPLES_WRITTEN: &str = "X-Prometheus-Remote-Write-Samples-Written";
const HISTOGRAMS_WRITTEN: &str = "X-Prometheus-Remote-Write-Histograms-Written";
const EXEMPLARS_WRITTEN: &str = "X-Prometheus-Remote-Write-Exemplars-Written";

/// Stores one remote-write request in the workspace's tenant.
pub(super) async fn handle(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let admitted = match admit(&state, &id, req).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let headers = &admitted.parts.headers;
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let decoded = match decode(
        text(header::CONTENT_TYPE),
        text(header::CONTENT_ENCODING),
        &admitted.body,
        &Limits::default(),
    ) {
        Ok(d) => d,
        Err(e) => {
            let status = StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::BAD_REQUEST);
            return plain(status, e.to_string(), HeaderMap::new());
        }
    };
    let protocol = decoded.protocol;
    let samples = decoded.batch.sample_count() + decoded.batch.histogram_count();
    if let Err(limited) = state.limiter.admit(&id, samples as u64, Instant::now()) {
        let mut headers = written(protocol, &WriteOutcome::default());
        let secs = limited.retry_after.as_secs_f64().ceil().max(1.0) as u64;
        headers.insert(header::RETRY_AFTER, secs.into());
        return plain(StatusCode::TOO_MANY_REQUESTS, limited.message, headers);
    }
    match state.metrics.write(&admitted.tenant, decoded.batch).await {
        Ok(outcome) => answer(protocol, &outcome),
        Err(e) => {
            let status = match e.kind() {
                MetricsErrorKind::BadData => StatusCode::BAD_REQUEST,
                MetricsErrorKind::TenantUnavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            if status.is_server_error() {
                tracing::error!(tenant = %admitted.tenant, error = %e, "remote write failed: {e}");
            }
            plain(
                status,
                e.to_string(),
                written(protocol, &WriteOutcome::default()),
            )
        }
    }
}

/// The answer to a write that reached the backend: 429 naming an active-series limit new
/// series ran into (retried later by senders that retry 429s), 400 naming the rejected
/// samples (the rest is stored), else 200 for 1.0 (as AMP answers) and 204 for 2.0.
fn answer(protocol: Protocol, outcome: &WriteOutcome) -> Response {
    let headers = written(protocol, outcome);
    if let Some(message) = outcome.limit_message() {
        return plain(StatusCode::TOO_MANY_REQUESTS, message, headers);
    }
    match outcome.rejection_message() {
        Some(message) => plain(StatusCode::BAD_REQUEST, message, headers),
        None if protocol == Protocol::V2 => (StatusCode::NO_CONTENT, headers).into_response(),
        None => (StatusCode::OK, headers).into_response(),
    }
}

/// The `*-Written` headers 2.0 senders rely on; none for 1.0, which has no such contract.
fn written(protocol: Protocol, outcome: &WriteOutcome) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if protocol == Protocol::V2 {
        for (name, n) in [
            (SAMPLES_WRITTEN, outcome.samples),
            (HISTOGRAMS_WRITTEN, outcome.histograms),
            (EXEMPLARS_WRITTEN, outcome.exemplars),
        ] {
            headers.insert(name, n.into());
        }
    }
    headers
}

fn plain(status: StatusCode, message: String, mut headers: HeaderMap) -> Response {
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    (status, headers, format!("{message}\n")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_answers_carry_written_counts() {
        let outcome = WriteOutcome {
            samples: 3,
            histograms: 1,
            duplicate: 2,
            ..WriteOutcome::default()
        };
        let res = answer(Protocol::V2, &outcome);
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(res.headers()[SAMPLES_WRITTEN], "3");
        assert_eq!(res.headers()[HISTOGRAMS_WRITTEN], "1");
        assert_eq!(res.headers()[EXEMPLARS_WRITTEN], "0");
        let ok = answer(Protocol::V2, &WriteOutcome::default());
        assert_eq!(ok.status(), StatusCode::NO_CONTENT);
        let v1 = answer(Protocol::V1, &WriteOutcome::default());
        assert_eq!(v1.status(), StatusCode::OK);
        assert!(v1.headers().get(SAMPLES_WRITTEN).is_none());
    }
}
