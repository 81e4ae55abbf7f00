//! Tags on workspaces, rule groups namespaces, scrapers and anomaly detectors, by ARN.

use axum::extract::State;
use axum::response::Response;

use super::model::{ListTagsForResourceResponse, TagResourceRequest};
use super::validate::{Check, MAX_TAGS};
use super::{ControlState, reply, reply_empty};
use crate::error::AwsError;
use crate::extract::{AwsJson, AwsPath, QueryParams};
use crate::operation::Operation;

/// `GET /tags/{resourceArn}`
pub(super) async fn list(
    State(s): State<ControlState>,
    AwsPath(arn): AwsPath<String>,
) -> Result<Response, AwsError> {
    let resource = s.arns().resource(&arn)?;
    let tags = s.store().tags(&resource).await?;
    Ok(reply(
        Operation::ListTagsForResource,
        &ListTagsForResourceResponse { tags: Some(tags) },
    ))
}

/// `POST /tags/{resourceArn}`
pub(super) async fn tag(
    State(s): State<ControlState>,
    AwsPath(arn): AwsPath<String>,
    AwsJson(req): AwsJson<TagResourceRequest>,
) -> Result<Response, AwsError> {
    let resource = s.arns().resource(&arn)?;
    let mut c = Check::new();
    c.tags("tags", &req.tags);
    c.finish()?;
    s.store()
        .tag_resource(&resource, req.tags, MAX_TAGS)
        .await?;
    Ok(reply_empty(Operation::TagResource))
}

/// `DELETE /tags/{resourceArn}?tagKeys=…`
pub(super) async fn untag(
    State(s): State<ControlState>,
    AwsPath(arn): AwsPath<String>,
    q: QueryParams,
) -> Result<Response, AwsError> {
    let resource = s.arns().resource(&arn)?;
    let keys = q.all("tagKeys");
    let mut c = Check::new();
    c.ensure(!keys.is_empty(), "tagKeys", || {
        "at least one tag key is required".into()
    });
    for k in &keys {
        c.tag_key("tagKeys", k);
    }
    c.finish()?;
    s.store().untag_resource(&resource, &keys).await?;
    Ok(reply_empty(Operation::UntagResource))
}
