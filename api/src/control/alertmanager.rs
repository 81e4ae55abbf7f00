//! Alert manager definitions (one per workspace).

use axum::extract::State;
use axum::response::Response;

use super::model::{
    AlertManagerDefinitionDescription, AlertManagerDefinitionRequest,
    DescribeAlertManagerDefinitionResponse, StatusResponse,
};
use super::validate::{Check, blob, encode_blob, path_id};
use super::{ControlState, alertmanager_file, reply, reply_empty, status};
use crate::error::AwsError;
use crate::extract::{AwsJson, AwsPath, QueryParams};
use crate::operation::Operation;

/// Largest definition AMP accepts.
const MAX_DEFINITION_BYTES: usize = 1024 * 1024;

fn check(ws: &str, req: &AlertManagerDefinitionRequest) -> Result<Vec<u8>, AwsError> {
    path_id("workspaceId", ws)?;
    let mut c = Check::new();
    c.client_token(req.client_token.as_deref());
    c.finish()?;
    let data = blob("data", &req.data)?;
    if data.len() > MAX_DEFINITION_BYTES {
        return Err(AwsError::field(
            "data",
            "alert manager definition exceeds 1 MB",
        ));
    }
    alertmanager_file::validate(&data)?;
    Ok(data)
}

/// `POST /workspaces/{workspaceId}/alertmanager/definition`
pub(super) async fn create(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
    AwsJson(req): AwsJson<AlertManagerDefinitionRequest>,
) -> Result<Response, AwsError> {
    let data = check(&ws, &req)?;
    let token = s.client_token(req.client_token.as_deref(), &[&ws], &req)?;
    let d = s
        .store()
        .create_alert_manager_definition(&ws, data, token.as_ref())
        .await?;
    Ok(reply(
        Operation::CreateAlertManagerDefinition,
        &StatusResponse {
            status: status(d.status),
        },
    ))
}

/// `PUT /workspaces/{workspaceId}/alertmanager/definition`
pub(super) async fn put(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
    AwsJson(req): AwsJson<AlertManagerDefinitionRequest>,
) -> Result<Response, AwsError> {
    let data = check(&ws, &req)?;
    let token = s.client_token(req.client_token.as_deref(), &[&ws], &req)?;
    let d = s
        .store()
        .put_alert_manager_definition(&ws, data, token.as_ref())
        .await?;
    Ok(reply(
        Operation::PutAlertManagerDefinition,
        &StatusResponse {
            status: status(d.status),
        },
    ))
}

/// `GET /workspaces/{workspaceId}/alertmanager/definition`
pub(super) async fn describe(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    let d = s.store().alert_manager_definition(&ws).await?;
    Ok(reply(
        Operation::DescribeAlertManagerDefinition,
        &DescribeAlertManagerDefinitionResponse {
            alert_manager_definition: AlertManagerDefinitionDescription {
                status: status(d.status),
                data: encode_blob(&d.data),
                created_at: d.created_at.as_epoch_seconds(),
                modified_at: d.modified_at.as_epoch_seconds(),
            },
        },
    ))
}

/// `DELETE /workspaces/{workspaceId}/alertmanager/definition`
pub(super) async fn delete(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
    q: QueryParams,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    let token = s.query_token(&q, &[&ws])?;
    s.store()
        .delete_alert_manager_definition(&ws, token.as_ref())
        .await?;
    Ok(reply_empty(Operation::DeleteAlertManagerDefinition))
}
