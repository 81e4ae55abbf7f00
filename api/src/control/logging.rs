//! Workspace logging (rules/alertmanager logs) and query logging configurations.

use ampd_backends::{LoggingConfiguration, LoggingKind};
use axum::extract::State;
use axum::response::Response;

use super::model::{
    DescribeLoggingConfigurationResponse, DescribeQueryLoggingConfigurationResponse,
    LoggingConfigurationMetadata, LoggingConfigurationRequest, LoggingDestination,
    QueryLoggingConfigurationMetadata, QueryLoggingConfigurationRequest, StatusResponse,
};
use super::validate::{Check, path_id};
use super::{ControlState, reply, reply_empty, status};
use crate::error::AwsError;
use crate::extract::{AwsJson, AwsPath, QueryParams};
use crate::operation::Operation;

fn internal(e: serde_json::Error) -> AwsError {
    AwsError::Internal(anyhow::Error::new(e))
}

/// Checks `arn:aws:logs:<region>:<account>:log-group:<name>:*` with AMP's name rules.
pub(super) fn check_log_group(c: &mut Check, field: &str, arn: &str) {
    c.arn(field, arn, "logs", "log-group:", ":*");
    let name = arn
        .split_once(":log-group:")
        .and_then(|(_, rest)| rest.strip_suffix(":*"))
        .unwrap_or_default();
    c.ensure(
        name.len() <= 512
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-#/".contains(&b)),
        field,
        || "log group name must be 1 to 512 characters of [A-Za-z0-9._#/-]".into(),
    );
}

fn check_workspace_request(ws: &str, req: &LoggingConfigurationRequest) -> Result<(), AwsError> {
    path_id("workspaceId", ws)?;
    let mut c = Check::new();
    check_log_group(&mut c, "logGroupArn", &req.log_group_arn);
    c.client_token(req.client_token.as_deref());
    c.finish()
}

fn check_query_request(ws: &str, req: &QueryLoggingConfigurationRequest) -> Result<(), AwsError> {
    path_id("workspaceId", ws)?;
    let mut c = Check::new();
    c.ensure(req.destinations.len() == 1, "destinations", || {
        "exactly one destination is required".into()
    });
    for (i, d) in req.destinations.iter().enumerate() {
        check_log_group(
            &mut c,
            &format!("destinations[{i}].cloudWatchLogs.logGroupArn"),
            &d.cloud_watch_logs.log_group_arn,
        );
        c.ensure(
            d.filters.qsp_threshold >= 0,
            &format!("destinations[{i}].filters.qspThreshold"),
            || "must be at least 0".into(),
        );
    }
    c.client_token(req.client_token.as_deref());
    c.finish()
}

fn status_reply(op: Operation, c: &LoggingConfiguration) -> Response {
    reply(
        op,
        &StatusResponse {
            status: status(c.status),
        },
    )
}

/// `POST /workspaces/{workspaceId}/logging`
pub(super) async fn create(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
    AwsJson(req): AwsJson<LoggingConfigurationRequest>,
) -> Result<Response, AwsError> {
    check_workspace_request(&ws, &req)?;
    let token = s.client_token(req.client_token.as_deref(), &[&ws], &req)?;
    let doc = serde_json::json!({ "logGroupArn": req.log_group_arn });
    let c = s
        .store()
        .create_logging_configuration(&ws, LoggingKind::Workspace, doc, token.as_ref())
        .await?;
    Ok(status_reply(Operation::CreateLoggingConfiguration, &c))
}

/// `PUT /workspaces/{workspaceId}/logging`
pub(super) async fn update(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
    AwsJson(req): AwsJson<LoggingConfigurationRequest>,
) -> Result<Response, AwsError> {
    check_workspace_request(&ws, &req)?;
    let token = s.client_token(req.client_token.as_deref(), &[&ws], &req)?;
    let doc = serde_json::json!({ "logGroupArn": req.log_group_arn });
    let c = s
        .store()
        .update_logging_configuration(&ws, LoggingKind::Workspace, doc, token.as_ref())
        .await?;
    Ok(status_reply(Operation::UpdateLoggingConfiguration, &c))
}

/// `GET /workspaces/{workspaceId}/logging`
pub(super) async fn describe(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    let c = s
        .store()
        .logging_configuration(&ws, LoggingKind::Workspace)
        .await?;
    let log_group_arn = c
        .document
        .get("logGroupArn")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    Ok(reply(
        Operation::DescribeLoggingConfiguration,
        &DescribeLoggingConfigurationResponse {
            logging_configuration: LoggingConfigurationMetadata {
                status: status(c.status),
                workspace: c.workspace_id,
                log_group_arn,
                created_at: c.created_at.as_epoch_seconds(),
                modified_at: c.modified_at.as_epoch_seconds(),
            },
        },
    ))
}

/// `DELETE /workspaces/{workspaceId}/logging`
pub(super) async fn delete(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
    q: QueryParams,
) -> Result<Response, AwsError> {
    delete_kind(
        s,
        ws,
        q,
        LoggingKind::Workspace,
        Operation::DeleteLoggingConfiguration,
    )
    .await
}

/// `POST /workspaces/{workspaceId}/logging/query`
pub(super) async fn create_query(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
    AwsJson(req): AwsJson<QueryLoggingConfigurationRequest>,
) -> Result<Response, AwsError> {
    check_query_request(&ws, &req)?;
    let token = s.client_token(req.client_token.as_deref(), &[&ws], &req)?;
    let doc = serde_json::to_value(&req.destinations).map_err(internal)?;
    let c = s
        .store()
        .create_logging_configuration(&ws, LoggingKind::Query, doc, token.as_ref())
        .await?;
    Ok(status_reply(Operation::CreateQueryLoggingConfiguration, &c))
}

/// `PUT /workspaces/{workspaceId}/logging/query`
pub(super) async fn update_query(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
    AwsJson(req): AwsJson<QueryLoggingConfigurationRequest>,
) -> Result<Response, AwsError> {
    check_query_request(&ws, &req)?;
    let token = s.client_token(req.client_token.as_deref(), &[&ws], &req)?;
    let doc = serde_json::to_value(&req.destinations).map_err(internal)?;
    let c = s
        .store()
        .update_logging_configuration(&ws, LoggingKind::Query, doc, token.as_ref())
        .await?;
    Ok(status_reply(Operation::UpdateQueryLoggingConfiguration, &c))
}

/// `GET /workspaces/{workspaceId}/logging/query`
pub(super) async fn describe_query(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    let c = s
        .store()
        .logging_configuration(&ws, LoggingKind::Query)
        .await?;
    let destinations: Vec<LoggingDestination> =
        serde_json::from_value(c.document).map_err(internal)?;
    Ok(reply(
        Operation::DescribeQueryLoggingConfiguration,
        &DescribeQueryLoggingConfigurationResponse {
            query_logging_configuration: QueryLoggingConfigurationMetadata {
                status: status(c.status),
                workspace: c.workspace_id,
                destinations,
                created_at: c.created_at.as_epoch_seconds(),
                modified_at: c.modified_at.as_epoch_seconds(),
            },
        },
    ))
}

/// `DELETE /workspaces/{workspaceId}/logging/query`
pub(super) async fn delete_query(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
    q: QueryParams,
) -> Result<Response, AwsError> {
    delete_kind(
        s,
        ws,
        q,
        LoggingKind::Query,
        Operation::DeleteQueryLoggingConfiguration,
    )
    .await
}

async fn delete_kind(
    s: ControlState,
    ws: String,
    q: QueryParams,
    kind: LoggingKind,
    op: Operation,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    let token = s.query_token(&q, &[&ws, op.name()])?;
    s.store()
        .delete_logging_configuration(&ws, kind, token.as_ref())
        .await?;
    Ok(reply_empty(op))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_group_arns() {
        for (arn, ok) in [
            (
                "arn:aws:logs:us-east-1:123456789012:log-group:/aws/amp/ws-1:*",
                true,
            ),
            (
                "arn:aws:logs:us-east-1:123456789012:log-group:a#b.c_d-e:*",
                true,
            ),
            ("arn:aws:logs:us-east-1:123456789012:log-group:a b:*", false),
            ("arn:aws:logs:us-east-1:123456789012:log-group:a", false),
            ("arn:aws:logs:us-east-1:123456789012:log-group::*", false),
            ("arn:aws:s3:us-east-1:123456789012:log-group:a:*", false),
        ] {
            let mut c = Check::new();
            check_log_group(&mut c, "logGroupArn", arn);
            assert_eq!(c.finish().is_ok(), ok, "{arn}");
        }
    }
}
