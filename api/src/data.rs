//! The AMP data plane: Prometheus remote write and the PromQL query API of each workspace.
//!
//! Every request passes the same authentication as the control plane (SigV4 with service
//! `aps`, through [`Authenticator::authenticate`]) and is then authorized for its `aps` action
//! on the workspace ARN with the caller's identity policies, permissions boundary and the
//! workspace's resource policy ([`Authenticator::authorize`]). Failures before the Prometheus handler use the AWS error style; the
//! handlers answer as Prometheus receivers do: plain text for remote write, the JSON envelope
//! for queries.

mod alertmanager;
mod envelope;
mod gate;
mod ingest_limits;
mod params;
mod query;
mod remote_write;
mod rules;
mod series;
mod status;
mod tenants;

use std::sync::Arc;

use ampd_backends::{MetadataStore, MetricsBackend, Status, StoreError, TenantId, Workspace};
use ampd_iam::aps::ApsAction;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::auth::{Authenticator, Check};
use crate::error::AwsError;
use ingest_limits::IngestionLimiter;

pub use gate::QuerySettings;
pub use ingest_limits::IngestionRate;
pub use rules::run_rules;
pub use tenants::sync_tenants;

/// Largest request body the data plane reads (remote write bodies are snappy-compressed, so
/// this is far above what Prometheus sends; the decoded size has its own limit).
const MAX_DATA_BODY_BYTES: usize = 32 * 1024 * 1024;

/// AMP's default ingestion quotas per workspace.
const DEFAULT_INGESTION_RATE: IngestionRate = IngestionRate {
    samples_per_second: 170_000.0,
    burst: 850_000.0,
};

/// State of the data-plane routes.
#[derive(Debug, Clone)]
pub struct DataState {
    authenticator: Arc<Authenticator>,
    store: Arc<dyn MetadataStore>,
    metrics: Arc<dyn MetricsBackend>,
    limiter: Arc<IngestionLimiter>,
    region: String,
    account_id: String,
    gate: Arc<gate::QueryGate>,
    /// Set when workspace data is sealed: every request re-checks the workspace's KMS key.
    workspace_keys: Option<Arc<crate::kms::WorkspaceKeys>>,
    rules: Option<Arc<ampd_rules::RuleEngine>>,
}

impl DataState {
    /// Bundles what the data plane needs: the shared authenticator, the metadata store (to
    /// find workspaces), the metrics backend and the endpoint's region and account.
    pub fn new(
        authenticator: Arc<Authenticator>,
        store: Arc<dyn MetadataStore>,
        metrics: Arc<dyn MetricsBackend>,
        region: impl Into<String>,
        account_id: impl Into<String>,
    ) -> Self {
        Self {
            authenticator,
            store,
            metrics,
            limiter: Arc::new(IngestionLimiter::new(DEFAULT_INGESTION_RATE)),
            region: region.into(),
            account_id: account_id.into(),
            gate: Arc::default(),
            workspace_keys: None,
            rules: None,
        }
    }

    /// Replaces the per-workspace ingestion rate limit (AMP's defaults otherwise).
    pub fn with_ingestion_rate(mut self, rate: IngestionRate) -> Self {
        self.limiter = Arc::new(IngestionLimiter::new(rate));
        self
    }

    /// Applies query limits (default: [`QuerySettings::default`]).
    pub fn with_query_settings(mut self, settings: QuerySettings) -> Self {
        self.gate = Arc::new(gate::QueryGate::new(settings));
        self
    }

    /// Seals workspace data with KMS-wrapped data keys: requests fail with a KMS error while
    /// the workspace's key is disabled, pending deletion or deleted.
    pub fn with_workspace_keys(mut self, keys: Arc<crate::kms::WorkspaceKeys>) -> Self {
        self.workspace_keys = Some(keys);
        self
    }

    fn workspace_arn(&self, id: &str) -> String {
        format!(
            "arn:aws:aps:{}:{}:workspace/{id}",
            self.region, self.account_id
        )
    }
}

/// Returns the data-plane routes under `/workspaces/{workspaceId}/`.
pub fn router(state: DataState) -> Router {
    Router::new()
        .route(
            "/workspaces/{workspaceId}/api/v1/remote_write",
            post(remote_write::handle),
        )
        .route(
            "/workspaces/{workspaceId}/api/v1/query",
            get(query::instant).post(query::instant),
        )
        .route(
            "/workspaces/{workspaceId}/api/v1/query_range",
            get(query::range).post(query::range),
        )
        .route(
            "/workspaces/{workspaceId}/api/v1/series",
            get(series::series).post(series::series),
        )
        .route(
            "/workspaces/{workspaceId}/api/v1/labels",
            get(series::labels).post(series::labels),
        )
        .route(
            "/workspaces/{workspaceId}/api/v1/label/{labelName}/values",
            get(series::label_values),
        )
        .route(
            "/workspaces/{workspaceId}/api/v1/metadata",
            get(series::metadata),
        )
        .route(
            "/workspaces/{workspaceId}/api/v1/query_exemplars",
            get(series::exemplars).post(series::exemplars),
        )
        .route(
            "/workspaces/{workspaceId}/api/v1/format_query",
            get(status::format_query).post(status::format_query),
        )
        .route(
            "/workspaces/{workspaceId}/api/v1/status/buildinfo",
            get(status::buildinfo),
        )
        .route("/workspaces/{workspaceId}/api/v1/rules", get(rules::rules))
        .route(
            "/workspaces/{workspaceId}/api/v1/alerts",
            get(rules::alerts),
        )
        .route(
            "/workspaces/{workspaceId}/alertmanager/api/v2/alerts",
            get(alertmanager::get_alerts).post(alertmanager::post_alerts),
        )
        .route(
            "/workspaces/{workspaceId}/alertmanager/api/v2/alerts/groups",
            get(alertmanager::get_groups),
        )
        .route(
            "/workspaces/{workspaceId}/alertmanager/api/v2/silences",
            get(alertmanager::get_silences).post(alertmanager::post_silence),
        )
        .route(
            "/workspaces/{workspaceId}/alertmanager/api/v2/silence/{silenceId}",
            get(alertmanager::get_silence).delete(alertmanager::delete_silence),
        )
        .route(
            "/workspaces/{workspaceId}/alertmanager/api/v2/receivers",
            get(alertmanager::receivers),
        )
        .route(
            "/workspaces/{workspaceId}/alertmanager/api/v2/status",
            get(alertmanager::status),
        )
        .with_state(state)
}

/// An authenticated and authorized data-plane request.
struct Admitted {
    parts: Parts,
    body: Bytes,
    tenant: TenantId,
}

/// Reads the body, verifies the signature, authorizes the `aps` action of the route on the
/// workspace and checks the workspace can serve data; any failure is an AWS-style error.
async fn admit(state: &DataState, id: &str, req: Request) -> Result<Admitted, Response> {
    admit_as(state, id, req, None).await
}

/// [`admit`] for routes AMP does not have (exemplars, `format_query`, build information),
/// which `ApsAction::for_data_plane` leaves unmapped: they are authorized as `action`.
async fn admit_as(
    state: &DataState,
    id: &str,
    req: Request,
    action: Option<ApsAction>,
) -> Result<Admitted, Response> {
    let (parts, body) = req.into_parts();
    if declared_length(&parts).is_some_and(|n| n > MAX_DATA_BODY_BYTES) {
        // Refused before reading: a sender must not retry a body this large.
        return Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than {MAX_DATA_BODY_BYTES} bytes\n"),
        )
            .into_response());
    }
    let body = read_body(body).await.map_err(IntoResponse::into_response)?;
    let caller = state
        .authenticator
        .authenticate(&parts, &body, "aps")
        .await
        .map_err(|e| AwsError::Signature(e).into_response())?;
    let sub_path = parts
        .uri
        .path()
        .split_once(&format!("/workspaces/{id}/"))
        .map_or("", |(_, rest)| rest);
    let action = action
        .or_else(|| ApsAction::for_data_plane(&parts.method, sub_path))
        .ok_or_else(|| {
            AwsError::Internal(anyhow::anyhow!("{} has no aps action", parts.uri.path()))
                .into_response()
        })?;
    let workspace = match state.store.workspace(id).await {
        Ok(ws) => Some(ws),
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return Err(AwsError::from(e).into_response()),
    };
    if !caller.principal.is_root() {
        let mut context = state.authenticator.base_context(&parts, &caller.principal);
        if let Some(ws) = &workspace {
            context.set_resource_tags(&ws.tags);
        }
        let check = Check {
            action: action.iam_action(),
            resource: state.workspace_arn(id),
            context,
        };
        state
            .authenticator
            .authorize(&caller, &[check])
            .await
            .map_err(|e| AwsError::from(e).into_response())?;
    }
    let workspace = workspace.ok_or_else(|| not_found(id).into_response())?;
    serving(&workspace).map_err(IntoResponse::into_response)?;
    if let Some(keys) = &state.workspace_keys {
        keys.unlock(&workspace)
            .await
            .map_err(IntoResponse::into_response)?;
    }
    Ok(Admitted {
        parts,
        body,
        tenant: TenantId::new(id),
    })
}

/// Returns the `Content-Length` the sender declared, if any.
fn declared_length(parts: &Parts) -> Option<usize> {
    parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

async fn read_body(body: Body) -> Result<Bytes, AwsError> {
    axum::body::to_bytes(body, MAX_DATA_BODY_BYTES)
        .await
        .map_err(|_| {
            AwsError::cannot_parse(format!(
                "request body is unreadable or larger than {MAX_DATA_BODY_BYTES} bytes"
            ))
        })
}

fn not_found(id: &str) -> AwsError {
    AwsError::from(StoreError::NotFound {
        resource_type: ampd_backends::ResourceType::Workspace,
        resource_id: id.to_owned(),
    })
}

/// A workspace serves data once created and until deleted; while it is being created or
/// deleted the request conflicts with that transition.
fn serving(ws: &Workspace) -> Result<(), AwsError> {
    match ws.status {
        Status::Active | Status::Updating | Status::UpdateFailed => Ok(()),
        other => Err(AwsError::from(StoreError::Conflict {
            message: format!(
                "Workspace {} is {}, not ACTIVE; it cannot serve data",
                ws.id,
                other.as_str()
            ),
            resource_type: ampd_backends::ResourceType::Workspace,
            resource_id: ws.id.clone(),
        })),
    }
}
