//! Anomaly detectors. They are stored, validated and described; ampd does not evaluate them.

use std::collections::BTreeMap;

use ampd_backends::{AnomalyDetector, AnomalyDetectorSpec, NewAnomalyDetector};
use axum::extract::State;
use axum::response::Response;

use super::model::{
    AnomalyDetectorConfiguration, AnomalyDetectorDescription, AnomalyDetectorDocument,
    AnomalyDetectorMissingDataAction, AnomalyDetectorResponse, AnomalyDetectorSummary,
    CreateAnomalyDetectorRequest, DescribeAnomalyDetectorResponse, IgnoreNearExpected,
    ListAnomalyDetectorsResponse, PutAnomalyDetectorRequest,
};
use super::rules_file::parse_promql;
use super::validate::{Check, path_id};
use super::workspaces::is_label_name;
use super::{ControlState, reply, reply_empty, status};
use crate::error::AwsError;
use crate::extract::{AwsJson, AwsPath, QueryParams};
use crate::operation::Operation;

const DEFAULT_INTERVAL: i64 = 60;
const DEFAULT_SHINGLE_SIZE: i64 = 8;
const DEFAULT_SAMPLE_SIZE: i64 = 256;
const MAX_LABELS: usize = 140;

fn internal(e: serde_json::Error) -> AwsError {
    AwsError::Internal(anyhow::Error::new(e))
}

fn check_detector_id(id: &str) -> Result<(), AwsError> {
    let mut c = Check::new();
    c.len("anomalyDetectorId", id, 1, 64);
    c.ensure(
        id.strip_prefix("ad-").is_some_and(super::validate::is_name),
        "anomalyDetectorId",
        || "must match ad-[0-9A-Za-z][-.0-9A-Z_a-z]*".into(),
    );
    c.finish()
}

fn check_near(c: &mut Check, field: &str, n: Option<&IgnoreNearExpected>) {
    if let Some(n) = n {
        let set = usize::from(n.amount.is_some()) + usize::from(n.ratio.is_some());
        c.ensure(set == 1, field, || {
            "exactly one of amount and ratio must be set".into()
        });
        for v in [n.amount, n.ratio].into_iter().flatten() {
            c.ensure(v >= 0.0 && v.is_finite(), field, || {
                "must be a finite number ≥ 0".into()
            });
        }
    }
}

/// Validates the shared members and returns the document with defaults filled in.
fn document(
    c: &mut Check,
    interval: Option<i64>,
    missing: Option<AnomalyDetectorMissingDataAction>,
    mut configuration: AnomalyDetectorConfiguration,
    labels: Option<BTreeMap<String, String>>,
    max_labels: Option<usize>,
) -> AnomalyDetectorDocument {
    let interval = interval.unwrap_or(DEFAULT_INTERVAL);
    c.ensure(
        (30..=86_400).contains(&interval),
        "evaluationIntervalInSeconds",
        || "must be from 30 to 86400".into(),
    );
    if let Some(m) = &missing {
        let set = usize::from(m.mark_as_anomaly.is_some()) + usize::from(m.skip.is_some());
        c.ensure(set == 1, "missingDataAction", || {
            "exactly one member must be set".into()
        });
    }
    match &mut configuration.random_cut_forest {
        None => c.fail("configuration", "exactly one member must be set, got 0"),
        Some(rcf) => {
            c.len("configuration.randomCutForest.query", &rcf.query, 1, 8192);
            if let Err(e) = parse_promql(&rcf.query) {
                c.fail(
                    "configuration.randomCutForest.query",
                    format!("not valid PromQL: {e}"),
                );
            }
            let shingle = *rcf.shingle_size.get_or_insert(DEFAULT_SHINGLE_SIZE);
            c.ensure(
                (2..=1024).contains(&shingle),
                "configuration.randomCutForest.shingleSize",
                || "must be from 2 to 1024".into(),
            );
            let sample = *rcf.sample_size.get_or_insert(DEFAULT_SAMPLE_SIZE);
            c.ensure(
                (256..=1024).contains(&sample),
                "configuration.randomCutForest.sampleSize",
                || "must be from 256 to 1024".into(),
            );
            check_near(
                c,
                "configuration.randomCutForest.ignoreNearExpectedFromAbove",
                rcf.ignore_near_expected_from_above.as_ref(),
            );
            check_near(
                c,
                "configuration.randomCutForest.ignoreNearExpectedFromBelow",
                rcf.ignore_near_expected_from_below.as_ref(),
            );
        }
    }
    if let Some(labels) = &labels {
        if let Some(max) = max_labels {
            c.ensure(labels.len() <= max, "labels", || {
                format!("at most {max} labels are allowed")
            });
        }
        for (k, v) in labels {
            let field = format!("labels.{k}");
            c.ensure(
                is_label_name(k) && !k.starts_with("__") && k.len() <= 7168,
                &field,
                || "label name must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __".into(),
            );
            c.len(&field, v, 1, 7168);
        }
    }
    AnomalyDetectorDocument {
        evaluation_interval_in_seconds: interval,
        missing_data_action: missing,
        configuration,
        labels,
    }
}

fn response(s: &ControlState, ad: AnomalyDetector) -> AnomalyDetectorResponse {
    AnomalyDetectorResponse {
        arn: s.arns().anomaly_detector(&ad.workspace_id, &ad.id),
        status: status(ad.status),
        tags: Some(ad.tags),
        anomaly_detector_id: ad.id,
    }
}

/// `POST /workspaces/{workspaceId}/anomalydetectors`
pub(super) async fn create(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
    AwsJson(req): AwsJson<CreateAnomalyDetectorRequest>,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    let mut c = Check::new();
    c.name_pattern("alias", &req.alias, 64);
    c.client_token(req.client_token.as_deref());
    if let Some(t) = &req.tags {
        c.tags("tags", t);
    }
    let token = s.client_token(req.client_token.as_deref(), &[&ws], &req)?;
    let doc = document(
        &mut c,
        req.evaluation_interval_in_seconds,
        req.missing_data_action,
        req.configuration,
        req.labels,
        Some(MAX_LABELS),
    );
    c.finish()?;
    let new = NewAnomalyDetector {
        workspace_id: ws,
        id: super::arn::new_anomaly_detector_id(),
        spec: AnomalyDetectorSpec {
            alias: req.alias,
            document: serde_json::to_value(&doc).map_err(internal)?,
        },
        tags: req.tags.unwrap_or_default(),
    };
    let ad = s
        .store()
        .create_anomaly_detector(new, token.as_ref())
        .await?;
    Ok(reply(Operation::CreateAnomalyDetector, &response(&s, ad)))
}

/// `PUT /workspaces/{workspaceId}/anomalydetectors/{anomalyDetectorId}`
pub(super) async fn put(
    State(s): State<ControlState>,
    AwsPath((ws, id)): AwsPath<(String, String)>,
    AwsJson(req): AwsJson<PutAnomalyDetectorRequest>,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    check_detector_id(&id)?;
    let mut c = Check::new();
    c.client_token(req.client_token.as_deref());
    let token = s.client_token(req.client_token.as_deref(), &[&ws, &id], &req)?;
    let doc = document(
        &mut c,
        req.evaluation_interval_in_seconds,
        req.missing_data_action,
        req.configuration,
        req.labels,
        None,
    );
    c.finish()?;
    let doc = serde_json::to_value(&doc).map_err(internal)?;
    let ad = s
        .store()
        .put_anomaly_detector(&ws, &id, doc, token.as_ref())
        .await?;
    Ok(reply(Operation::PutAnomalyDetector, &response(&s, ad)))
}

/// `GET /workspaces/{workspaceId}/anomalydetectors/{anomalyDetectorId}`
pub(super) async fn describe(
    State(s): State<ControlState>,
    AwsPath((ws, id)): AwsPath<(String, String)>,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    check_detector_id(&id)?;
    let ad = s.store().anomaly_detector(&ws, &id).await?;
    let doc: AnomalyDetectorDocument =
        serde_json::from_value(ad.spec.document.clone()).map_err(internal)?;
    Ok(reply(
        Operation::DescribeAnomalyDetector,
        &DescribeAnomalyDetectorResponse {
            anomaly_detector: AnomalyDetectorDescription {
                arn: s.arns().anomaly_detector(&ad.workspace_id, &ad.id),
                alias: ad.spec.alias,
                evaluation_interval_in_seconds: Some(doc.evaluation_interval_in_seconds),
                missing_data_action: doc.missing_data_action,
                configuration: Some(doc.configuration),
                labels: doc.labels,
                status: status(ad.status),
                created_at: ad.created_at.as_epoch_seconds(),
                modified_at: ad.modified_at.as_epoch_seconds(),
                tags: Some(ad.tags),
                anomaly_detector_id: ad.id,
            },
        },
    ))
}

/// `GET /workspaces/{workspaceId}/anomalydetectors`
pub(super) async fn list(
    State(s): State<ControlState>,
    AwsPath(ws): AwsPath<String>,
    q: QueryParams,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    let alias = q.get("alias");
    if let Some(a) = alias {
        let mut c = Check::new();
        c.name_pattern("alias", a, 64);
        c.finish()?;
    }
    let scope = format!("ListAnomalyDetectors\0{ws}\0{}", alias.unwrap_or_default());
    let page = s.page(&scope, q.get("nextToken"), q.get("maxResults"))?;
    let page = s.store().list_anomaly_detectors(&ws, alias, page).await?;
    let items = page
        .items
        .into_iter()
        .map(|ad| AnomalyDetectorSummary {
            arn: s.arns().anomaly_detector(&ad.workspace_id, &ad.id),
            alias: ad.spec.alias,
            status: status(ad.status),
            created_at: ad.created_at.as_epoch_seconds(),
            modified_at: ad.modified_at.as_epoch_seconds(),
            tags: Some(ad.tags),
            anomaly_detector_id: ad.id,
        })
        .collect();
    let next_token = s.next_token(&scope, page.next)?;
    Ok(reply(
        Operation::ListAnomalyDetectors,
        &ListAnomalyDetectorsResponse {
            anomaly_detectors: items,
            next_token,
        },
    ))
}

/// `DELETE /workspaces/{workspaceId}/anomalydetectors/{anomalyDetectorId}`
pub(super) async fn delete(
    State(s): State<ControlState>,
    AwsPath((ws, id)): AwsPath<(String, String)>,
    q: QueryParams,
) -> Result<Response, AwsError> {
    path_id("workspaceId", &ws)?;
    check_detector_id(&id)?;
    let token = s.query_token(&q, &[&ws, &id])?;
    s.store()
        .delete_anomaly_detector(&ws, &id, token.as_ref())
        .await?;
    Ok(reply_empty(Operation::DeleteAnomalyDetector))
}
