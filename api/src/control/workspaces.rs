//! Workspaces and their configuration.

use ampd_backends::{LabelSetLimit, NewWorkspace, Workspace, WorkspaceConfigurationUpdate};
use axum::Extension;
use axum::extract::State;
use axum::response::Response;

use super::model::{
    CreateWorkspaceRequest, CreateWorkspaceResponse, DescribeWorkspaceConfigurationResponse,
    DescribeWorkspaceResponse, LimitsPerLabelSet, LimitsPerLabelSetEntry, ListWorkspacesResponse,
    ResourceStatus, StatusResponse, UpdateWorkspaceAliasRequest,
    UpdateWorkspaceConfigurationRequest, WorkspaceConfigurationDescription, WorkspaceDescription,
    WorkspaceSummary,
};
use super::validate::{Check, path_id};
use super::{ControlState, reply, reply_empty, status};
use crate::auth::Caller;
use crate::error::AwsError;
use crate::extract::{AwsJson, AwsPath, QueryParams};
use crate::operation::Operation;

/// AMP's maximum retention, in days.
const MAX_RETENTION_DAYS: i64 = 1095;

fn check_kms_key_arn(c: &mut Check, arn: &str) {
    c.len("kmsKeyArn", arn, 20, 2048);
    c.arn("kmsKeyArn", arn, "kms", "key/", "");
    let key_id = arn.rsplit_once("key/").map_or("", |(_, k)| k);
    c.ensure(
        key_id
            .bytes()
            .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "kmsKeyArn",
        || "must be a key ARN (arn:aws:kms:<region>:<account>:key/<key-id>)".into(),
    );
}

fn tags_out(ws: &Workspace) -> Option<super::model::TagMap> {
    Some(ws.tags.clone())
}

/// `POST /workspaces`
pub(super) async fn create(
    State(s): State<ControlState>,
    Extension(caller): Extension<Caller>,
    AwsJson(req): AwsJson<CreateWorkspaceRequest>,
) -> Result<Response, AwsError> {
    let mut c = Check::new();
    if let Some(a) = &req.alias {
        c.len("alias", a, 1, 100);
    }
    c.client_token(req.client_token.as_deref());
    if let Some(t) = &req.tags {
        c.tags("tags", t);
    }
    if let Some(k) = &req.kms_key_arn {
        check_kms_key_arn(&mut c, k);
    }
    c.finish()?;
    if let (Some(keys), Some(arn)) = (s.workspace_keys(), &req.kms_key_arn) {
        keys.authorize_customer_key(s.authenticator(), &caller.principal, arn)
            .await?;
        keys.validate_customer_key(arn).await?;
    }
    let token = s.client_token(req.client_token.as_deref(), &[], &req)?;
    let new = NewWorkspace {
        id: super::arn::new_workspace_id(),
        alias: req.alias,
        kms_key_arn: req.kms_key_arn,
        tags: req.tags.unwrap_or_default(),
    };
    let ws = s
        .store()
        .create_workspace(new, token.as_ref(), s.0.max_workspaces)
        .await?;
    if let Some(keys) = s.workspace_keys() {
        // Validated above; should this still fail, the first data-plane request retries it.
        if let Err(e) = keys
            .create_data_key(&ws.id, ws.kms_key_arn.as_deref())
            .await
        {
            tracing::warn!(workspace_id = %ws.id, error = %e,
                "cannot create the data key of workspace {}: {e}", ws.id);
        }
    }
    Ok(reply(
        Operation::CreateWorkspace,
        &CreateWorkspaceResponse {
            arn: s.arns().workspace(&ws.id),
            status: status(ws.status),
            tags: tags_out(&ws),
            kms_key_arn: ws.kms_key_arn,
            workspace_id: ws.id,
        },
    ))
}

/// `GET /workspaces/{workspaceId}`
pub(super) async fn describe(
    State(s): State<ControlState>,
    AwsPath(id): AwsPath<String>,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &id)?;
    let ws = s.store().workspace(&id).await?;
    Ok(reply(
        Operation::DescribeWorkspace,
        &DescribeWorkspaceResponse {
            workspace: WorkspaceDescription {
                arn: s.arns().workspace(&ws.id),
                alias: ws.alias.clone(),
                status: status(ws.status),
                prometheus_endpoint: Some(s.prometheus_endpoint(&ws.id)),
                created_at: ws.created_at.as_epoch_seconds(),
                tags: tags_out(&ws),
                kms_key_arn: ws.kms_key_arn.clone(),
                workspace_id: ws.id,
            },
        },
    ))
}

/// `GET /workspaces`
pub(super) async fn list(
    State(s): State<ControlState>,
    q: QueryParams,
) -> Result<Response, AwsError> {
    let alias = q.get("alias").map(str::trim);
    if let Some(a) = alias {
        let mut c = Check::new();
        c.len("alias", a, 1, 100);
        c.finish()?;
    }
    let scope = format!("ListWorkspaces\0{}", alias.unwrap_or_default());
    let page = s.page(&scope, q.get("nextToken"), q.get("maxResults"))?;
    let page = s.store().list_workspaces(alias, page).await?;
    let workspaces = page
        .items
        .into_iter()
        .map(|ws| WorkspaceSummary {
            arn: s.arns().workspace(&ws.id),
            alias: ws.alias.clone(),
            status: status(ws.status),
            created_at: ws.created_at.as_epoch_seconds(),
            tags: tags_out(&ws),
            kms_key_arn: ws.kms_key_arn.clone(),
            workspace_id: ws.id,
        })
        .collect();
    let next_token = s.next_token(&scope, page.next)?;
    Ok(reply(
        Operation::ListWorkspaces,
        &ListWorkspacesResponse {
            workspaces,
            next_token,
        },
    ))
}

/// `POST /workspaces/{workspaceId}/alias`
pub(super) async fn update_alias(
    State(s): State<ControlState>,
    AwsPath(id): AwsPath<String>,
    AwsJson(req): AwsJson<UpdateWorkspaceAliasRequest>,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &id)?;
    let mut c = Check::new();
    if let Some(a) = &req.alias {
        c.len("alias", a, 1, 100);
    }
    c.client_token(req.client_token.as_deref());
    c.finish()?;
    let token = s.client_token(req.client_token.as_deref(), &[&id], &req)?;
    s.store()
        .update_workspace_alias(&id, req.alias, token.as_ref())
        .await?;
    Ok(reply_empty(Operation::UpdateWorkspaceAlias))
}

/// `DELETE /workspaces/{workspaceId}`
pub(super) async fn delete(
    State(s): State<ControlState>,
    AwsPath(id): AwsPath<String>,
    q: QueryParams,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &id)?;
    let token = s.query_token(&q, &[&id])?;
    s.store().delete_workspace(&id, token.as_ref()).await?;
    // The store destroyed the wrapped data key with the request; drop the plaintext too.
    if let Some(keys) = s.workspace_keys() {
        keys.revoke(&id).await;
    }
    Ok(reply_empty(Operation::DeleteWorkspace))
}

/// `GET /workspaces/{workspaceId}/configuration`
pub(super) async fn describe_configuration(
    State(s): State<ControlState>,
    AwsPath(id): AwsPath<String>,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &id)?;
    let c = s.store().workspace(&id).await?.configuration;
    let limits = c
        .limits_per_label_set
        .into_iter()
        .map(|l| LimitsPerLabelSet {
            limits: LimitsPerLabelSetEntry {
                max_series: l.max_series.map(|m| i64::try_from(m).unwrap_or(i64::MAX)),
            },
            label_set: l.label_set,
        })
        .collect();
    let to_i64 = |v: Option<u64>| v.map(|v| i64::try_from(v).unwrap_or(i64::MAX));
    Ok(reply(
        Operation::DescribeWorkspaceConfiguration,
        &DescribeWorkspaceConfigurationResponse {
            workspace_configuration: WorkspaceConfigurationDescription {
                status: ResourceStatus {
                    status_code: c.status.as_str().to_owned(),
                    status_reason: None,
                },
                limits_per_label_set: Some(limits),
                retention_period_in_days: Some(i64::from(c.retention_period_in_days)),
                out_of_order_time_window_in_seconds: to_i64(c.out_of_order_time_window_in_seconds),
                rule_query_offset_in_seconds: to_i64(c.rule_query_offset_in_seconds),
            },
        },
    ))
}

/// Whether `s` is a valid Prometheus metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub(super) fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Whether `s` is a valid Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
pub(super) fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_limits(c: &mut Check, limits: &[LimitsPerLabelSet]) -> Vec<LabelSetLimit> {
    let mut out = Vec::with_capacity(limits.len());
    for (i, l) in limits.iter().enumerate() {
        let field = format!("limitsPerLabelSet[{i}]");
        c.ensure(
            !l.label_set.is_empty(),
            &format!("{field}.labelSet"),
            || "must name at least one label".into(),
        );
        for (name, value) in &l.label_set {
            let f = format!("{field}.labelSet.{name}");
            c.ensure(is_label_name(name), &f, || {
                "label name must match [a-zA-Z_][a-zA-Z0-9_]*".into()
            });
            c.ensure(
                value.is_ascii()
                    && !value.trim().is_empty()
                    && !value.chars().any(char::is_control),
                &f,
                || "label value must be non-blank ASCII without control characters".into(),
            );
            if name == "__name__" {
                c.ensure(is_metric_name(value), &f, || {
                    "__name__ must be a valid metric name".into()
                });
            }
        }
        let max_series = l.limits.max_series;
        c.ensure(
            max_series.is_none_or(|m| m >= 0),
            &format!("{field}.limits.maxSeries"),
            || "must be at least 0".into(),
        );
        if out
            .iter()
            .any(|o: &LabelSetLimit| o.label_set == l.label_set)
        {
            c.fail(&field, "the same label set appears twice");
        }
        out.push(LabelSetLimit {
            label_set: l.label_set.clone(),
            max_series: max_series.and_then(|m| u64::try_from(m).ok()),
        });
    }
    out
}

/// `PATCH /workspaces/{workspaceId}/configuration`
pub(super) async fn update_configuration(
    State(s): State<ControlState>,
    AwsPath(id): AwsPath<String>,
    AwsJson(req): AwsJson<UpdateWorkspaceConfigurationRequest>,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &id)?;
    let mut c = Check::new();
    c.client_token(req.client_token.as_deref());
    c.ensure(
        req.limits_per_label_set.is_some()
            || req.retention_period_in_days.is_some()
            || req.out_of_order_time_window_in_seconds.is_some()
            || req.rule_query_offset_in_seconds.is_some(),
        "workspaceConfiguration",
        || {
            "give at least one of limitsPerLabelSet, retentionPeriodInDays, \
             outOfOrderTimeWindowInSeconds, ruleQueryOffsetInSeconds"
                .into()
        },
    );
    if let Some(r) = req.retention_period_in_days {
        c.ensure(
            (1..=MAX_RETENTION_DAYS).contains(&r),
            "retentionPeriodInDays",
            || format!("must be from 1 to {MAX_RETENTION_DAYS}"),
        );
    }
    for (field, v) in [
        (
            "outOfOrderTimeWindowInSeconds",
            req.out_of_order_time_window_in_seconds,
        ),
        ("ruleQueryOffsetInSeconds", req.rule_query_offset_in_seconds),
    ] {
        c.ensure(v.is_none_or(|v| v >= 0), field, || {
            "must be at least 0".into()
        });
    }
    let limits = req
        .limits_per_label_set
        .as_deref()
        .map(|l| check_limits(&mut c, l));
    c.finish()?;
    let update = WorkspaceConfigurationUpdate {
        retention_period_in_days: req
            .retention_period_in_days
            .and_then(|v| u32::try_from(v).ok()),
        out_of_order_time_window_in_seconds: req
            .out_of_order_time_window_in_seconds
            .and_then(|v| u64::try_from(v).ok()),
        rule_query_offset_in_seconds: req
            .rule_query_offset_in_seconds
            .and_then(|v| u64::try_from(v).ok()),
        limits_per_label_set: limits,
    };
    let token = s.client_token(req.client_token.as_deref(), &[&id], &req)?;
    let config = s
        .store()
        .update_workspace_configuration(&id, update, token.as_ref())
        .await?;
    Ok(reply(
        Operation::UpdateWorkspaceConfiguration,
        &StatusResponse {
            status: ResourceStatus {
                status_code: config.status.as_str().to_owned(),
                status_reason: None,
            },
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_names() {
        assert!(is_metric_name("job:http_requests:rate5m"));
        assert!(!is_metric_name("5xx") && !is_metric_name("a-b") && !is_metric_name(""));
        assert!(is_label_name("__name__") && is_label_name("le"));
        assert!(!is_label_name("a:b") && !is_label_name("1a"));
    }

    #[test]
    fn label_set_limits() {
        let set = |pairs: &[(&str, &str)], max: Option<i64>| LimitsPerLabelSet {
            limits: LimitsPerLabelSetEntry { max_series: max },
            label_set: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        let mut c = Check::new();
        let out = check_limits(
            &mut c,
            &[set(&[("team", "a"), ("__name__", "up")], Some(10))],
        );
        assert!(c.finish().is_ok());
        assert_eq!(out[0].max_series, Some(10));
        for bad in [
            vec![set(&[], Some(1))],
            vec![set(&[("1bad", "a")], None)],
            vec![set(&[("team", "  ")], None)],
            vec![set(&[("__name__", "not-a-metric")], None)],
            vec![set(&[("team", "a")], Some(-1))],
            vec![set(&[("team", "a")], None), set(&[("team", "a")], Some(1))],
        ] {
            let mut c = Check::new();
            check_limits(&mut c, &bad);
            assert!(c.finish().is_err(), "{bad:?}");
        }
    }
}
