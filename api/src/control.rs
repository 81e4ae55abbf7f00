//! The AMP control plane: rest-json routes for all 44 operations of the `amp` 2020-08-01 model.
//!
//! [`router`] builds the route table from [`Operation`] and wraps every route in the
//! authentication layer for its operation. Its only state is a [`ControlState`].

mod alertmanager;
mod alertmanager_file;
mod anomaly;
mod arn;
mod logging;
pub(crate) mod model;
mod policy;
mod rule_groups;
mod rules_file;
mod scrape_config;
mod scrapers;
mod tags;
mod validate;
mod workspaces;

use std::sync::Arc;

use ampd_backends::{ClientToken, MetadataStore, PageRequest, Status};
use axum::Router;
use axum::handler::Handler;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, on};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::{AuthContext, Authenticator, authenticate};
use crate::error::AwsError;
use crate::extract::QueryParams;
use crate::operation::Operation;
use crate::pagination::PageTokens;

pub use arn::Arns;
use model::ResourceStatus;

/// Settings of the control plane.
#[derive(Debug, Clone)]
pub struct ControlSettings {
    /// Region this endpoint serves (ARNs).
    pub region: String,
    /// 12-digit account id of every resource.
    pub account_id: String,
    /// Base URL clients reach ampd at; `prometheusEndpoint` is `{external_url}/workspaces/{id}/`.
    pub external_url: String,
    /// Workspaces allowed per account (ServiceQuotaExceededException beyond).
    pub max_workspaces: u32,
}

/// State of the control-plane router: the metadata store and what handlers need around it.
#[derive(Debug, Clone)]
pub struct ControlState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    store: Arc<dyn MetadataStore>,
    arns: Arns,
    authenticator: Arc<Authenticator>,
    external_url: String,
    max_workspaces: u32,
    page_tokens: PageTokens,
    /// Set when workspace data is sealed with KMS-wrapped data keys.
    workspace_keys: std::sync::OnceLock<Arc<crate::kms::WorkspaceKeys>>,
}

impl ControlState {
    /// Bundles the settings, the authenticator every route uses, the store and the
    /// pagination key.
    pub fn new(
        settings: ControlSettings,
        authenticator: Arc<Authenticator>,
        store: Arc<dyn MetadataStore>,
        page_tokens: PageTokens,
    ) -> Self {
        Self(Arc::new(Inner {
            store,
            arns: Arns::new(&settings.region, &settings.account_id),
            authenticator,
            external_url: settings.external_url.trim_end_matches('/').to_owned(),
            max_workspaces: settings.max_workspaces,
            page_tokens,
            workspace_keys: std::sync::OnceLock::new(),
        }))
    }

    /// Gives workspaces KMS-wrapped data keys: `kmsKeyArn` is validated on CreateWorkspace,
    /// each new workspace gets its data key, and DeleteWorkspace drops it from memory.
    pub fn with_workspace_keys(self, keys: Arc<crate::kms::WorkspaceKeys>) -> Self {
        if self.0.workspace_keys.set(keys).is_err() {
            tracing::warn!("workspace keys were already set; keeping the first");
        }
        self
    }

    /// Returns the workspace keys, when workspace data is sealed.
    pub(crate) fn workspace_keys(&self) -> Option<&Arc<crate::kms::WorkspaceKeys>> {
        self.0.workspace_keys.get()
    }

    /// Returns the authenticator every route uses.
    pub fn authenticator(&self) -> &Arc<Authenticator> {
        &self.0.authenticator
    }

    fn store(&self) -> &dyn MetadataStore {
        &*self.0.store
    }

    fn arns(&self) -> &Arns {
        &self.0.arns
    }

    fn prometheus_endpoint(&self, workspace_id: &str) -> String {
        format!("{}/workspaces/{workspace_id}/", self.0.external_url)
    }

    /// Turns `clientToken` into a store token whose fingerprint covers the path labels and
    /// every other body member.
    fn client_token<T: Serialize>(
        &self,
        token: Option<&str>,
        path: &[&str],
        body: &T,
    ) -> Result<Option<ClientToken>, AwsError> {
        let Some(token) = token else { return Ok(None) };
        let mut body =
            serde_json::to_value(body).map_err(|e| AwsError::Internal(anyhow::Error::new(e)))?;
        if let Value::Object(map) = &mut body {
            map.remove("clientToken");
        }
        let canonical = serde_json::to_vec(&(path, body))
            .map_err(|e| AwsError::Internal(anyhow::Error::new(e)))?;
        Ok(Some(ClientToken {
            token: token.to_owned(),
            fingerprint: hex::encode(Sha256::digest(&canonical)),
        }))
    }

    /// Validates the `clientToken` query parameter of a DELETE and turns it into a store
    /// token whose fingerprint covers the path labels.
    fn query_token(
        &self,
        query: &QueryParams,
        path: &[&str],
    ) -> Result<Option<ClientToken>, AwsError> {
        let token = query.get("clientToken");
        let mut c = validate::Check::new();
        c.client_token(token);
        c.finish()?;
        self.client_token(token, path, &())
    }

    /// Reads `nextToken`/`maxResults` for a listing identified by `scope`.
    fn page(
        &self,
        scope: &str,
        next_token: Option<&str>,
        max_results: Option<&str>,
    ) -> Result<PageRequest, AwsError> {
        let limit = validate::max_results(max_results)?;
        let after = match validate::next_token(next_token)? {
            Some(t) => Some(self.0.page_tokens.open(scope, t)?),
            None => None,
        };
        Ok(PageRequest { after, limit })
    }

    /// Seals the position of the next page, if any.
    fn next_token(&self, scope: &str, next: Option<String>) -> Result<Option<String>, AwsError> {
        next.map(|p| self.0.page_tokens.seal(scope, &p)).transpose()
    }
}

/// Returns the wire status of a resource.
fn status(s: Status) -> ResourceStatus {
    ResourceStatus {
        status_code: s.as_str().to_owned(),
        status_reason: None,
    }
}

/// Drops `null` members: AWS omits absent members rather than sending `null`, and botocore
/// counts a `null` union member as set.
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Answers `op` successfully with a JSON body.
fn reply<T: Serialize>(op: Operation, body: &T) -> Response {
    match serde_json::to_value(body) {
        Ok(mut v) => {
            strip_nulls(&mut v);
            (op.success_status(), axum::Json(v)).into_response()
        }
        Err(e) => AwsError::Internal(anyhow::Error::new(e)).into_response(),
    }
}

/// Answers `op` successfully without output members.
fn reply_empty(op: Operation) -> Response {
    let status = op.success_status();
    if status == StatusCode::NO_CONTENT {
        status.into_response()
    } else {
        (status, axum::Json(serde_json::json!({}))).into_response()
    }
}

fn endpoint<H, T>(
    op: Operation,
    handler: H,
    authenticator: &Arc<Authenticator>,
) -> (Operation, MethodRouter<ControlState>)
where
    H: Handler<T, ControlState>,
    T: 'static,
{
    let ctx = AuthContext {
        operation: op,
        authenticator: authenticator.clone(),
    };
    let method_router = on(op.method_filter(), handler)
        .route_layer(axum::middleware::from_fn_with_state(ctx, authenticate));
    (op, method_router)
}

/// Builds the control-plane router: one route per [`Operation`], each behind the
/// authentication layer. It has no fallback so it can be merged with the other protocol
/// routers; the assembled app answers unknown routes with [`unknown_operation`].
pub fn router(state: ControlState) -> Router {
    use Operation as Op;
    let r = &state.0.authenticator.clone();
    let routes = [
        endpoint(Op::CreateAlertManagerDefinition, alertmanager::create, r),
        endpoint(Op::CreateAnomalyDetector, anomaly::create, r),
        endpoint(Op::CreateLoggingConfiguration, logging::create, r),
        endpoint(
            Op::CreateQueryLoggingConfiguration,
            logging::create_query,
            r,
        ),
        endpoint(Op::CreateRuleGroupsNamespace, rule_groups::create, r),
        endpoint(Op::CreateScraper, scrapers::create, r),
        endpoint(Op::CreateWorkspace, workspaces::create, r),
        endpoint(Op::DeleteAlertManagerDefinition, alertmanager::delete, r),
        endpoint(Op::DeleteAnomalyDetector, anomaly::delete, r),
        endpoint(Op::DeleteLoggingConfiguration, logging::delete, r),
        endpoint(
            Op::DeleteQueryLoggingConfiguration,
            logging::delete_query,
            r,
        ),
        endpoint(Op::DeleteResourcePolicy, policy::delete, r),
        endpoint(Op::DeleteRuleGroupsNamespace, rule_groups::delete, r),
        endpoint(Op::DeleteScraper, scrapers::delete, r),
        endpoint(
            Op::DeleteScraperLoggingConfiguration,
            scrapers::delete_logging,
            r,
        ),
        endpoint(Op::DeleteWorkspace, workspaces::delete, r),
        endpoint(
            Op::DescribeAlertManagerDefinition,
            alertmanager::describe,
            r,
        ),
        endpoint(Op::DescribeAnomalyDetector, anomaly::describe, r),
        endpoint(Op::DescribeLoggingConfiguration, logging::describe, r),
        endpoint(
            Op::DescribeQueryLoggingConfiguration,
            logging::describe_query,
            r,
        ),
        endpoint(Op::DescribeResourcePolicy, policy::describe, r),
        endpoint(Op::DescribeRuleGroupsNamespace, rule_groups::describe, r),
        endpoint(Op::DescribeScraper, scrapers::describe, r),
        endpoint(
            Op::DescribeScraperLoggingConfiguration,
            scrapers::describe_logging,
            r,
        ),
        endpoint(Op::DescribeWorkspace, workspaces::describe, r),
        endpoint(
            Op::DescribeWorkspaceConfiguration,
            workspaces::describe_configuration,
            r,
        ),
        endpoint(
            Op::GetDefaultScraperConfiguration,
            scrapers::default_configuration,
            r,
        ),
        endpoint(Op::ListAnomalyDetectors, anomaly::list, r),
        endpoint(Op::ListRuleGroupsNamespaces, rule_groups::list, r),
        endpoint(Op::ListScrapers, scrapers::list, r),
        endpoint(Op::ListTagsForResource, tags::list, r),
        endpoint(Op::ListWorkspaces, workspaces::list, r),
        endpoint(Op::PutAlertManagerDefinition, alertmanager::put, r),
        endpoint(Op::PutAnomalyDetector, anomaly::put, r),
        endpoint(Op::PutResourcePolicy, policy::put, r),
        endpoint(Op::PutRuleGroupsNamespace, rule_groups::put, r),
        endpoint(Op::TagResource, tags::tag, r),
        endpoint(Op::UntagResource, tags::untag, r),
        endpoint(Op::UpdateLoggingConfiguration, logging::update, r),
        endpoint(
            Op::UpdateQueryLoggingConfiguration,
            logging::update_query,
            r,
        ),
        endpoint(Op::UpdateScraper, scrapers::update, r),
        endpoint(
            Op::UpdateScraperLoggingConfiguration,
            scrapers::update_logging,
            r,
        ),
        endpoint(Op::UpdateWorkspaceAlias, workspaces::update_alias, r),
        endpoint(
            Op::UpdateWorkspaceConfiguration,
            workspaces::update_configuration,
            r,
        ),
    ];
    let mut router = Router::new();
    for (op, method_router) in routes {
        router = router.route(op.path(), method_router);
    }
    router.with_state(state)
}

/// Answers a request no operation matches.
pub async fn unknown_operation(method: Method, uri: Uri) -> AwsError {
    AwsError::unknown_operation(format!("No operation matches {method} {}", uri.path()))
}
