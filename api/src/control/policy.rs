//! Workspace resource policies with `revisionId` optimistic concurrency.

use axum::extract::State;
use axum::response::Response;

use super::model::{
    DescribeResourcePolicyResponse, PutResourcePolicyRequest, PutResourcePolicyResponse,
};
use super::validate::{Check, path_id};
use super::{ControlState, reply, reply_empty};
use crate::error::AwsError;
use crate::extract::{AwsJson, AwsPath, QueryParams};
use crate::operation::Operation;

/// Largest policy document accepted (IAM resource policies are capped at 20 KB).
const MAX_POLICY_BYTES: usize = 20 * 1024;

fn check_document(c: &mut Check, doc: &str) {
    c.ensure(!doc.trim().is_empty(), "policyDocument", || {
        "must not be empty".into()
    });
    c.ensure(doc.len() <= MAX_POLICY_BYTES, "policyDocument", || {
        format!("must be at most {MAX_POLICY_BYTES} bytes")
    });
    match serde_json::from_str::<serde_json::Value>(doc) {
        Ok(v) => {
            let statements = v.get("Statement");
            c.ensure(
                v.is_object() && statements.is_some_and(|s| s.is_array() || s.is_object()),
                "policyDocument",
                || "must be a JSON policy object with a Statement".into(),
            );
        }
        Err(e) => c.fail("policyDocument", format!("is not valid JSON: {e}")),
    }
}

/// `PUT /workspaces/{workspaceId}/policy`
pub(super) async fn put(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
    AwsJson(req): AwsJson<PutResourcePolicyRequest>,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    let mut c = Check::new();
    check_document(&mut c, &req.policy_document);
    c.client_token(req.client_token.as_deref());
    c.finish()?;
    let token = s.client_token(req.client_token.as_deref(), &[&ws], &req)?;
    let p = s
        .store()
        .put_resource_policy(
            &ws,
            req.policy_document,
            req.revision_id.as_deref(),
            token.as_ref(),
        )
        .await?;
    Ok(reply(
        Operation::PutResourcePolicy,
        &PutResourcePolicyResponse {
            policy_status: p.status.as_str().to_owned(),
            revision_id: p.revision_id,
        },
    ))
}

/// `GET /workspaces/{workspaceId}/policy`
pub(super) async fn describe(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    let p = s.store().resource_policy(&ws).await?;
    Ok(reply(
        Operation::DescribeResourcePolicy,
        &DescribeResourcePolicyResponse {
            policy_document: p.document,
            policy_status: p.status.as_str().to_owned(),
            revision_id: p.revision_id,
        },
    ))
}

/// `DELETE /workspaces/{workspaceId}/policy`
pub(super) async fn delete(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
    q: QueryParams,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    let revision = q.get("revisionId");
    let token = s.query_token(&q, &[&ws, revision.unwrap_or_default()])?;
    s.store()
        .delete_resource_policy(&ws, revision, token.as_ref())
        .await?;
    Ok(reply_empty(Operation::DeleteResourcePolicy))
}
