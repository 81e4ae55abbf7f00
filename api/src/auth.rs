//! The authentication and authorization layer every AWS-style request passes.
//!
//! It is the single place where a request is tied to a caller and checked against policies:
//! it buffers the body (at most [`MAX_BODY_BYTES`]), verifies the SigV4 signature (header or
//! presigned query) with the `iam` crate's [`Verifier`] against the account's credentials
//! ([`Identities`]), then authorizes the operation: the `aps` catalogue turns the
//! [`Operation`] and the identifiers of the request into IAM actions on resource ARNs, and
//! every one of them is evaluated against the caller's identity policies, with
//! `aws:ResourceTag/*` from the stored tags of the addressed resource, `aws:RequestTag/*` and
//! `aws:TagKeys` from the request, `aws:SourceIp`, `aws:SecureTransport`, `aws:CurrentTime` and
//! the principal keys. The caller's permissions boundary, when it has one, must allow too, and
//! a check on a workspace also evaluates the workspace's resource policy (same-account logic:
//! the identity or the resource policy may allow, an explicit deny in any policy wins; as in
//! AMP, a resource policy grants only the Prometheus-compatible data-plane actions, while its
//! denies apply to control-plane calls on the workspace too). The
//! root user is always allowed, so an account can never lock itself out of its own workspaces.
//! Handlers get the [`Caller`] through request extensions and never see an unauthenticated or
//! unauthorized request.
//!
//! The IAM query API ([`crate::iam`]) calls the same [`Authenticator::authenticate`] and
//! [`Authenticator::authorize`], since its operation is only known once the form body is read.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use ampd_backends::{MetadataStore, ResourceRef, StoreError};
use ampd_iam::Principal;
use ampd_iam::aps::{ApsAction, ApsArns, ApsTarget, authorizations};
use ampd_iam::policy::{
    AttachedPolicy, AuthzRequest, Decision, Policy, PolicyKind, PolicySet, RequestContext, evaluate,
};
use ampd_iam::sigv4::{Authenticated, PayloadHash, SigV4Error, Verifier, VerifierConfig};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::control::Arns;
use crate::error::AwsError;
use crate::extract::{MAX_BODY_BYTES, QueryParams};
use crate::iam::Identities;
use crate::operation::Operation;

/// Who sent a request: the verified principal and the key it signed with.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The identity behind the access key.
    pub principal: Principal,
    /// The access key that signed.
    pub access_key_id: String,
    /// Whether the request was presigned (query-string authentication).
    pub presigned: bool,
    /// Session policies of the STS session the key belongs to, if it has any.
    pub session_policies: Option<Vec<AttachedPolicy>>,
}

impl Caller {
    fn new(auth: Authenticated) -> Self {
        Self {
            access_key_id: auth.verified.access_key_id,
            presigned: auth.verified.presigned,
            principal: auth.principal,
            session_policies: auth.session_policies,
        }
    }
}

/// One IAM check: an action on a resource, with the context to evaluate it in.
#[derive(Debug, Clone)]
pub struct Check {
    /// IAM action (`aps:DescribeWorkspace`, `iam:CreateUser`).
    pub action: &'static str,
    /// Resource ARN or `*`.
    pub resource: String,
    /// Condition keys.
    pub context: RequestContext,
}

/// Why authorization did not let a request through.
#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    /// A policy denied it (explicitly or by omission); the message is AWS's.
    #[error("{0}")]
    Denied(String),
    /// The caller's policies could not be read.
    #[error("cannot read identity policies")]
    Internal(#[source] anyhow::Error),
}

impl From<AuthzError> for AwsError {
    fn from(e: AuthzError) -> Self {
        match e {
            AuthzError::Denied(message) => Self::AccessDenied { message },
            AuthzError::Internal(e) => Self::Internal(e),
        }
    }
}

/// Authenticates and authorizes AWS-style requests; one instance is shared by every route.
#[derive(Debug)]
pub struct Authenticator {
    region: String,
    verifier: Verifier,
    identities: Arc<Identities>,
    store: Arc<dyn MetadataStore>,
    arns: Arns,
}

impl Authenticator {
    /// Returns an authenticator for an endpoint serving `region`, resolving keys and policies
    /// through `identities` and resource tags through `store`.
    pub fn new(
        region: impl Into<String>,
        identities: Arc<Identities>,
        store: Arc<dyn MetadataStore>,
    ) -> Self {
        let region = region.into();
        let verifier = Verifier::new(VerifierConfig {
            region: region.clone(),
            ..VerifierConfig::default()
        });
        Self {
            arns: Arns::new(&region, identities.account_id()),
            region,
            verifier,
            identities,
            store,
        }
    }

    /// Returns the account's identities.
    pub fn identities(&self) -> &Arc<Identities> {
        &self.identities
    }

    /// Verifies the SigV4 signature of a request for `service` over its whole `body`.
    pub async fn authenticate(
        &self,
        parts: &Parts,
        body: &[u8],
        service: &str,
    ) -> Result<Caller, SigV4Error> {
        self.verifier
            .authenticate(
                parts,
                PayloadHash::Body(body),
                &*self.identities,
                service,
                SystemTime::now(),
            )
            .await
            .map(Caller::new)
            // The audit layer records who made the call, whatever the handler answers.
            .inspect(|caller| crate::audit::note_caller(parts, caller))
    }

    /// Returns the context every check of a request starts from: principal keys, time,
    /// region, transport and source address.
    pub fn base_context(&self, parts: &Parts, principal: &Principal) -> RequestContext {
        let mut ctx = RequestContext::for_principal(principal, SystemTime::now());
        ctx.set_requested_region(&self.region);
        // True only for requests that reached ampd's own TLS listener.
        ctx.set_secure_transport(crate::tls::is_secure(&parts.extensions));
        if let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            ctx.set_source_ip(addr.ip());
        }
        ctx
    }

    /// Evaluates every check against the caller's identity policies, its permissions boundary,
    /// the session policies of an STS session and, for checks on a workspace, the workspace's
    /// resource policy; the root user is always allowed.
    pub async fn authorize(&self, caller: &Caller, checks: &[Check]) -> Result<(), AuthzError> {
        let principal = &caller.principal;
        if principal.is_root() && caller.session_policies.is_none() {
            return Ok(());
        }
        let internal = |e: ampd_backends::IamStoreError| AuthzError::Internal(e.into());
        let policies = self
            .identities
            .identity_policies(principal)
            .await
            .map_err(internal)?;
        let boundary = self
            .identities
            .permissions_boundary(principal)
            .await
            .map_err(internal)?;
        for check in checks {
            let resource_policy = self.resource_policy(&check.resource).await?;
            let set = PolicySet {
                identity: &policies,
                permissions_boundary: boundary.as_ref(),
                session: caller.session_policies.as_deref(),
                resource: resource_policy.as_ref(),
            };
            let request = AuthzRequest {
                principal,
                action: check.action,
                resource: &check.resource,
                context: &check.context,
            };
            let mut decision = evaluate(&request, &set);
            // AMP shares only its Prometheus-compatible (data-plane) APIs through workspace
            // policies: their grants count for nothing else, while their denies still apply.
            let shared = ApsAction::from_name(check.action).is_some_and(ApsAction::is_data_plane);
            if !shared
                && matches!(&decision, Decision::Allowed(Some(m)) if m.kind == PolicyKind::Resource)
            {
                decision = evaluate(
                    &request,
                    &PolicySet {
                        resource: None,
                        ..set
                    },
                );
            }
            if let Some(message) =
                decision.access_denied_message(&principal.arn, check.action, &check.resource)
            {
                return Err(AuthzError::Denied(message));
            }
        }
        Ok(())
    }

    /// Returns the resource policy of the workspace `arn` names, if it is one of this
    /// account's workspaces and has a policy. A stored policy the evaluator cannot read denies
    /// the request: the control plane checks only its JSON shape, and skipping it could drop
    /// a `Deny`.
    async fn resource_policy(&self, arn: &str) -> Result<Option<AttachedPolicy>, AuthzError> {
        let Ok(ResourceRef::Workspace(id)) = self.arns.resource(arn) else {
            return Ok(None);
        };
        let stored = match self.store.resource_policy(&id).await {
            Ok(p) => p,
            Err(StoreError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(AuthzError::Internal(e.into())),
        };
        let policy = Policy::parse_resource(&stored.document).map_err(|e| {
            AuthzError::Denied(format!(
                "The resource policy of workspace {id} cannot be evaluated: {e}"
            ))
        })?;
        Ok(Some(AttachedPolicy::new(
            "ResourcePolicy",
            PolicyKind::Resource,
            Arc::new(policy),
        )))
    }

    /// Authenticates and authorizes a control-plane request for `op`; returns it with its
    /// body restored and the [`Caller`] in its extensions.
    async fn admit(&self, op: Operation, req: Request) -> Result<Request, AwsError> {
        let (mut parts, body) = req.into_parts();
        let bytes = read_body(body).await?;
        let caller = self
            .authenticate(&parts, &bytes, op.signing_service())
            .await
            .map_err(AwsError::Signature)?;
        let checks = self
            .control_checks(op, &mut parts, &bytes, &caller.principal)
            .await?;
        self.authorize(&caller, &checks).await?;
        parts.extensions.insert(op);
        parts.extensions.insert(caller);
        Ok(Request::from_parts(parts, Body::from(bytes)))
    }

    /// Builds the checks of a control-plane operation from its path labels and body; none for
    /// the root user, who is always allowed.
    async fn control_checks(
        &self,
        op: Operation,
        parts: &mut Parts,
        body: &[u8],
        principal: &Principal,
    ) -> Result<Vec<Check>, AwsError> {
        if principal.is_root() {
            return Ok(Vec::new());
        }
        let action = ApsAction::from_name(op.name()).ok_or_else(|| {
            AwsError::Internal(anyhow::anyhow!("{} is not in the aps catalogue", op.name()))
        })?;
        let labels = Path::<HashMap<String, String>>::from_request_parts(parts, &())
            .await
            .map(|Path(m)| m)
            .unwrap_or_default();
        let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let label = |name: &str| labels.get(name).map(String::as_str);
        let destination = json
            .pointer("/destination/ampConfiguration/workspaceArn")
            .and_then(Value::as_str)
            .and_then(|arn| arn.rsplit_once(":workspace/").map(|(_, id)| id));
        let request_tags: BTreeMap<String, String> = json
            .get("tags")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let target = ApsTarget {
            workspace_id: label("workspaceId").or(destination),
            namespace: label("name").or_else(|| {
                (op == Operation::CreateRuleGroupsNamespace)
                    .then(|| json.get("name").and_then(Value::as_str))
                    .flatten()
            }),
            scraper_id: label("scraperId"),
            anomaly_detector_id: label("anomalyDetectorId"),
            cluster_arn: json
                .pointer("/source/eksConfiguration/clusterArn")
                .and_then(Value::as_str),
            role_arn: None,
            resource_arn: label("resourceArn"),
            with_tags: !request_tags.is_empty(),
        };
        let aps_arns = ApsArns {
            partition: "aws",
            region: &self.region,
            account: self.identities.account_id(),
        };
        let needed = authorizations(action, &aps_arns, &target)
            .map_err(|m| AwsError::field(m.missing, format!("{} is required", m.missing)))?;
        let mut base = self.base_context(parts, principal);
        match op {
            Operation::UntagResource => {
                let query = QueryParams::parse(parts.uri.query().unwrap_or_default());
                base.set_tag_keys(query.all("tagKeys"));
            }
            _ if !request_tags.is_empty() => base.set_request_tags(&request_tags),
            _ => {}
        }
        let mut checks = Vec::with_capacity(needed.len());
        for a in needed {
            let mut context = base.clone();
            context.set_resource_tags(&self.resource_tags(&a.resource).await);
            for (k, v) in &a.context {
                context.insert(k, *v);
            }
            checks.push(Check {
                action: a.action,
                resource: a.resource,
                context,
            });
        }
        Ok(checks)
    }

    /// Returns the stored tags of the resource an ARN names; none for resources that do not
    /// exist (yet), which the handler reports.
    async fn resource_tags(&self, arn: &str) -> BTreeMap<String, String> {
        let Ok(resource) = self.arns.resource(arn) else {
            return BTreeMap::new();
        };
        self.store
            .tags(&resource)
            .await
            .map(|t| t.into_iter().collect())
            .unwrap_or_default()
    }
}

/// Reads the whole body, refusing more than [`MAX_BODY_BYTES`].
pub async fn read_body(body: Body) -> Result<Bytes, AwsError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            AwsError::cannot_parse(format!(
                "request body is unreadable or larger than {MAX_BODY_BYTES} bytes"
            ))
        })
}

/// State of the layer on one route: the route's operation and the shared authenticator.
#[derive(Debug, Clone)]
pub struct AuthContext {
    /// Operation the route serves.
    pub operation: Operation,
    /// The endpoint's authenticator.
    pub authenticator: Arc<Authenticator>,
}

/// Middleware: authenticates and authorizes the request for `ctx.operation`, or answers with
/// an AWS error.
pub async fn authenticate(State(ctx): State<AuthContext>, req: Request, next: Next) -> Response {
    let mut res = match ctx.authenticator.admit(ctx.operation, req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    };
    // The request log names the operation of every answered request.
    res.extensions_mut().insert(ctx.operation);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_in_the_aps_catalogue() {
        for op in Operation::ALL {
            let action = ApsAction::from_name(op.name()).unwrap();
            assert_eq!(action.iam_action(), op.iam_action());
            assert!(!action.is_data_plane(), "{op:?}");
        }
    }
}
