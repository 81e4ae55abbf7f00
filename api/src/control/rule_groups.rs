//! Rule groups namespaces.

use ampd_backends::{NewRuleGroupsNamespace, RuleGroupsNamespace};
use axum::extract::State;
use axum::response::Response;

use super::model::{
    CreateRuleGroupsNamespaceRequest, DescribeRuleGroupsNamespaceResponse,
    ListRuleGroupsNamespacesResponse, PutRuleGroupsNamespaceRequest,
    RuleGroupsNamespaceDescription, RuleGroupsNamespaceResponse, RuleGroupsNamespaceSummary,
};
use super::validate::{Check, blob, encode_blob, path_id};
use super::{ControlState, reply, reply_empty, rules_file, status};
use crate::error::AwsError;
use crate::extract::{AwsJson, AwsPath, QueryParams};
use crate::operation::Operation;

/// Largest rule file AMP accepts.
const MAX_RULE_FILE_BYTES: usize = 1024 * 1024;
/// Namespace name + group name may not exceed this many UTF-8 bytes.
const MAX_QUALIFIED_NAME_BYTES: usize = 721;

fn check_name(c: &mut Check, name: &str) {
    c.len("name", name, 1, 128);
    c.ensure(
        name.chars().any(|c| c.is_ascii_alphanumeric()),
        "name",
        || "must contain at least one alphanumeric character".into(),
    );
}

fn check_data(name: &str, data: &str) -> Result<Vec<u8>, AwsError> {
    let bytes = blob("data", data)?;
    if bytes.len() > MAX_RULE_FILE_BYTES {
        return Err(AwsError::field("data", "rule file exceeds 1 MB"));
    }
    rules_file::validate(&bytes)?;
    // Prometheus stores rules under namespace/group; AMP caps the combined length.
    if let Ok(file) = serde_norway::from_slice::<serde_norway::Value>(&bytes) {
        let groups = file
            .get("groups")
            .and_then(|g| g.as_sequence())
            .cloned()
            .unwrap_or_default();
        for g in groups {
            let gname = g.get("name").and_then(|n| n.as_str()).unwrap_or_default();
            if name.len() + gname.len() > MAX_QUALIFIED_NAME_BYTES {
                return Err(AwsError::field(
                    "data",
                    format!(
                        "namespace and group name \"{gname}\" exceed {MAX_QUALIFIED_NAME_BYTES} bytes together"
                    ),
                ));
            }
        }
    }
    Ok(bytes)
}

fn response(s: &ControlState, r: RuleGroupsNamespace) -> RuleGroupsNamespaceResponse {
    RuleGroupsNamespaceResponse {
        arn: s.arns().rule_groups_namespace(&r.workspace_id, &r.name),
        status: status(r.status),
        tags: Some(r.tags),
        name: r.name,
    }
}

/// `POST /workspaces/{workspaceId}/rulegroupsnamespaces`
pub(super) async fn create(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
    AwsJson(req): AwsJson<CreateRuleGroupsNamespaceRequest>,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    let mut c = Check::new();
    check_name(&mut c, &req.name);
    c.client_token(req.client_token.as_deref());
    if let Some(t) = &req.tags {
        c.tags("tags", t);
    }
    c.finish()?;
    let data = check_data(&req.name, &req.data)?;
    let token = s.client_token(req.client_token.as_deref(), &[&ws], &req)?;
    let new = NewRuleGroupsNamespace {
        workspace_id: ws,
        name: req.name,
        data,
        tags: req.tags.unwrap_or_default(),
    };
    let r = s
        .store()
        .create_rule_groups_namespace(new, token.as_ref())
        .await?;
    Ok(reply(
        Operation::CreateRuleGroupsNamespace,
        &response(&s, r),
    ))
}

/// `PUT /workspaces/{workspaceId}/rulegroupsnamespaces/{name}`
pub(super) async fn put(
    State(s): State<ControlState>,
    AwsPath((ws, name)): AwsPath<(String, String)>,
    AwsJson(req): AwsJson<PutRuleGroupsNamespaceRequest>,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    let mut c = Check::new();
    check_name(&mut c, &name);
    c.client_token(req.client_token.as_deref());
    c.finish()?;
    let data = check_data(&name, &req.data)?;
    let token = s.client_token(req.client_token.as_deref(), &[&ws, &name], &req)?;
    let r = s
        .store()
        .put_rule_groups_namespace(&ws, &name, data, token.as_ref())
        .await?;
    Ok(reply(Operation::PutRuleGroupsNamespace, &response(&s, r)))
}

/// `GET /workspaces/{workspaceId}/rulegroupsnamespaces/{name}`
pub(super) async fn describe(
    State(s): State<ControlState>,
    AwsPath((ws, name)): AwsPath<(String, String)>,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    let r = s.store().rule_groups_namespace(&ws, &name).await?;
    Ok(reply(
        Operation::DescribeRuleGroupsNamespace,
        &DescribeRuleGroupsNamespaceResponse {
            rule_groups_namespace: RuleGroupsNamespaceDescription {
                arn: s.arns().rule_groups_namespace(&r.workspace_id, &r.name),
                status: status(r.status),
                data: encode_blob(&r.data),
                created_at: r.created_at.as_epoch_seconds(),
                modified_at: r.modified_at.as_epoch_seconds(),
                tags: Some(r.tags),
                name: r.name,
            },
        },
    ))
}

/// `GET /workspaces/{workspaceId}/rulegroupsnamespaces`
pub(super) async fn list(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
    q: QueryParams,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    let prefix = q.get("name");
    if let Some(n) = prefix {
        let mut c = Check::new();
        check_name(&mut c, n);
        c.finish()?;
    }
    let scope = format!(
        "ListRuleGroupsNamespaces\0{ws}\0{}",
        prefix.unwrap_or_default()
    );
    let page = s.page(&scope, q.get("nextToken"), q.get("maxResults"))?;
    let page = s
        .store()
        .list_rule_groups_namespaces(&ws, prefix, page)
        .await?;
    let items = page
        .items
        .into_iter()
        .map(|r| RuleGroupsNamespaceSummary {
            arn: s.arns().rule_groups_namespace(&r.workspace_id, &r.name),
            status: status(r.status),
            created_at: r.created_at.as_epoch_seconds(),
            modified_at: r.modified_at.as_epoch_seconds(),
            tags: Some(r.tags),
            name: r.name,
        })
        .collect();
    let next_token = s.next_token(&scope, page.next)?;
    Ok(reply(
        Operation::ListRuleGroupsNamespaces,
        &ListRuleGroupsNamespacesResponse {
            rule_groups_namespaces: items,
            next_token,
        },
    ))
}

/// `DELETE /workspaces/{workspaceId}/rulegroupsnamespaces/{name}`
pub(super) async fn delete(
    State(s): State<ControlState>,
    AwsPath((ws, name)): AwsPath<(String, String)>,
    q: QueryParams,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    let token = s.query_token(&q, &[&ws, &name])?;
    s.store()
        .delete_rule_groups_namespace(&ws, &name, token.as_ref())
        .await?;
    Ok(reply_empty(Operation::DeleteRuleGroupsNamespace))
}
