//! The Alertmanager API v2 of a workspace, under `/workspaces/{id}/alertmanager/api/v2/`:
//! `alerts` (GET, POST), `alerts/groups`, `silences` (GET, POST), `silence/{id}` (GET,
//! DELETE), `receivers` and `status`, in the JSON shapes of Alertmanager's OpenAPI document.
//!
//! A workspace without an alert manager definition answers `ResourceNotFoundException`, as
//! AMP does. Errors of the Alertmanager itself are a JSON string with status 400, 404 or 500,
//! like Alertmanager's.

use std::sync::Arc;

use ampd_backends::{ResourceType, StoreError};
use ampd_rules::{
    AlertFilter, Alertmanager, AlertmanagerError, ErrorKind, Matcher, PostSilenceResponse,
    PostableAlert, PostableSilence,
};
use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{Admitted, DataState, admit};
use crate::error::AwsError;

/// Admits the request and finds the workspace's Alertmanager.
async fn open(
    state: &DataState,
    id: &str,
    req: Request,
) -> Result<(Admitted, Arc<Alertmanager>), Response> {
    let admitted = admit(state, id, req).await?;
    let am = state
        .rules
        .as_ref()
        .and_then(|e| e.alertmanager(id))
        .ok_or_else(|| {
            AwsError::from(StoreError::NotFound {
                resource_type: ResourceType::AlertManagerDefinition,
                resource_id: id.to_owned(),
            })
            .into_response()
        })?;
    Ok((admitted, am))
}

/// An error of the Alertmanager API: a JSON string body with a status.
struct AmError {
    status: StatusCode,
    message: String,
}

impl IntoResponse for AmError {
    fn into_response(self) -> Response {
        (self.status, Json(self.message)).into_response()
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> AmError {
    AmError {
        status,
        message: message.into(),
    }
}

fn am_error(e: &AlertmanagerError) -> AmError {
    match e.kind() {
        ErrorKind::BadRequest => error(StatusCode::BAD_REQUEST, e.to_string()),
        ErrorKind::NotFound => error(StatusCode::NOT_FOUND, e.to_string()),
        ErrorKind::Internal => {
            tracing::error!(error = %e, "alertmanager request failed: {e}");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

fn pairs(a: &Admitted) -> Vec<(String, String)> {
    serde_urlencoded::from_str(a.parts.uri.query().unwrap_or_default()).unwrap_or_default()
}

fn matchers(pairs: &[(String, String)]) -> Result<Vec<Matcher>, AmError> {
    pairs
        .iter()
        .filter(|(k, _)| k == "filter")
        .map(|(_, v)| {
            Matcher::parse(v)
                .map_err(|e| error(StatusCode::BAD_REQUEST, format!("bad matcher format: {e}")))
        })
        .collect()
}

fn alert_filter(pairs: &[(String, String)]) -> Result<AlertFilter, AmError> {
    let flag = |name: &str| -> Result<bool, AmError> {
        match pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
        {
            None | Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(error(
                StatusCode::BAD_REQUEST,
                format!("{name} must be true or false, not {other:?}"),
            )),
        }
    };
    let receiver = match pairs.iter().find(|(k, _)| k == "receiver") {
        Some((_, r)) => Some(AlertFilter::receiver_regex(r).map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                format!("failed to parse receiver param: {e}"),
            )
        })?),
        None => None,
    };
    Ok(AlertFilter {
        active: flag("active")?,
        silenced: flag("silenced")?,
        inhibited: flag("inhibited")?,
        muted: flag("muted")?,
        matchers: matchers(pairs)?,
        receiver,
    })
}

/// `GET alerts`.
pub(super) async fn get_alerts(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let (admitted, am) = match open(&state, &id, req).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    match alert_filter(&pairs(&admitted)) {
        Ok(filter) => Json(am.alerts(&filter)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST alerts`.
pub(super) async fn post_alerts(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let (admitted, am) = match open(&state, &id, req).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let alerts: Vec<PostableAlert> = match serde_json::from_slice(&admitted.body) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    match am.put_alerts(alerts) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => am_error(&e).into_response(),
    }
}

/// `GET alerts/groups`.
pub(super) async fn get_groups(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let (admitted, am) = match open(&state, &id, req).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    match alert_filter(&pairs(&admitted)) {
        Ok(filter) => Json(am.alert_groups(&filter)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET silences`.
pub(super) async fn get_silences(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let (admitted, am) = match open(&state, &id, req).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    match matchers(&pairs(&admitted)) {
        Ok(m) => Json(am.silences(&m)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST silences`.
pub(super) async fn post_silence(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let (admitted, am) = match open(&state, &id, req).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let silence: PostableSilence = match serde_json::from_slice(&admitted.body) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    match am.put_silence(silence) {
        Ok(silence_id) => Json(PostSilenceResponse { silence_id }).into_response(),
        Err(e) => am_error(&e).into_response(),
    }
}

/// `GET silence/{silenceID}`.
pub(super) async fn get_silence(
    State(state): State<DataState>,
    Path((id, silence)): Path<(String, String)>,
    req: Request,
) -> Response {
    let (_, am) = match open(&state, &id, req).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    match am.get_silence(&silence) {
        Some(s) => Json(s).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            format!("silence {silence} not found"),
        )
        .into_response(),
    }
}

/// `DELETE silence/{silenceID}`.
pub(super) async fn delete_silence(
    State(state): State<DataState>,
    Path((id, silence)): Path<(String, String)>,
    req: Request,
) -> Response {
    let (_, am) = match open(&state, &id, req).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    match am.expire_silence(&silence) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => am_error(&e).into_response(),
    }
}

/// `GET receivers`.
pub(super) async fn receivers(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    match open(&state, &id, req).await {
        Ok((_, am)) => Json(am.receivers()).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET status`.
pub(super) async fn status(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    match open(&state, &id, req).await {
        Ok((_, am)) => Json(am.status()).into_response(),
        Err(e) => e.into_response(),
    }
}
