//! Policy evaluation for one request within one account (and its cross-account case).
//!
//! Order, as in the IAM user guide: an applicable explicit `Deny` anywhere wins; the account
//! root is allowed in its own account; a resource policy naming the caller itself (user or
//! session ARN, or `*`) allows on its own in the same account; otherwise an identity policy
//! (or a resource policy naming the caller's role) must allow, and a permissions boundary and
//! session policies, when present, must allow too. Cross-account requests also need the
//! resource policy to allow.

use std::fmt;
use std::sync::Arc;

use super::context::RequestContext;
use super::document::{Effect, Policy, PrincipalMatch};
use crate::principal::Principal;

/// Which role a policy plays in an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Identity-based: user/role inline or managed, or a group's.
    Identity,
    /// The permissions boundary of the user or role.
    PermissionsBoundary,
    /// A session policy passed to AssumeRole/GetFederationToken.
    Session,
    /// The resource's own policy (the workspace resource policy).
    Resource,
}

impl PolicyKind {
    /// Returns the phrase AWS uses in access-denied messages.
    fn phrase(self) -> &'static str {
        match self {
            Self::Identity => "identity-based policy",
            Self::PermissionsBoundary => "permissions boundary",
            Self::Session => "session policy",
            Self::Resource => "resource-based policy",
        }
    }

    fn article(self) -> &'static str {
        match self {
            Self::Identity => "an",
            _ => "a",
        }
    }
}

/// A policy with its name and role in the evaluation.
#[derive(Debug, Clone)]
pub struct AttachedPolicy {
    /// Managed policy ARN, or the inline policy's name.
    pub name: String,
    /// Its role.
    pub kind: PolicyKind,
    /// The compiled document.
    pub policy: Arc<Policy>,
}

impl AttachedPolicy {
    /// Wraps a policy.
    pub fn new(name: impl Into<String>, kind: PolicyKind, policy: Arc<Policy>) -> Self {
        Self {
            name: name.into(),
            kind,
            policy,
        }
    }
}

/// Every policy that applies to one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicySet<'a> {
    /// Identity-based policies of the principal (and of its groups).
    pub identity: &'a [AttachedPolicy],
    /// Permissions boundary, if one is set.
    pub permissions_boundary: Option<&'a AttachedPolicy>,
    /// Session policies; `None` when the session was created without any.
    pub session: Option<&'a [AttachedPolicy]>,
    /// The resource's policy, if it has one.
    pub resource: Option<&'a AttachedPolicy>,
}

/// What is being authorized.
#[derive(Debug, Clone, Copy)]
pub struct AuthzRequest<'a> {
    /// The caller.
    pub principal: &'a Principal,
    /// The action (`aps:CreateWorkspace`), any case.
    pub action: &'a str,
    /// The resource ARN (or `*` for actions without a resource type).
    pub resource: &'a str,
    /// Condition keys.
    pub context: &'a RequestContext,
}

/// The statement that decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedStatement {
    /// Name of the policy holding it.
    pub policy: String,
    /// The policy's role.
    pub kind: PolicyKind,
    /// Index of the statement in the policy.
    pub index: usize,
    /// Its `Sid`, if any.
    pub sid: Option<String>,
}

/// Why a request was implicitly denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImplicitDenyReason {
    /// No identity-based policy allows the action.
    NoIdentityPolicy,
    /// The permissions boundary does not allow it.
    NoPermissionsBoundary,
    /// No session policy allows it.
    NoSessionPolicy,
    /// Cross-account: the resource policy does not allow it.
    NoResourcePolicy,
}

impl ImplicitDenyReason {
    fn kind(self) -> PolicyKind {
        match self {
            Self::NoIdentityPolicy => PolicyKind::Identity,
            Self::NoPermissionsBoundary => PolicyKind::PermissionsBoundary,
            Self::NoSessionPolicy => PolicyKind::Session,
            Self::NoResourcePolicy => PolicyKind::Resource,
        }
    }
}

/// The outcome of an evaluation, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed; `None` when the account root acted in its own account.
    Allowed(Option<MatchedStatement>),
    /// An applicable `Deny` statement.
    ExplicitDeny(MatchedStatement),
    /// Nothing (sufficient) allowed it.
    ImplicitDeny(ImplicitDenyReason),
}

impl Decision {
    /// Returns whether the request may proceed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed(_))
    }

    /// Returns the `EvalDecision` name of SimulatePrincipalPolicy.
    pub fn eval_decision(&self) -> &'static str {
        match self {
            Self::Allowed(_) => "allowed",
            Self::ExplicitDeny(_) => "explicitDeny",
            Self::ImplicitDeny(_) => "implicitDeny",
        }
    }

    /// Returns AWS's access-denied message, or `None` when allowed. `resource` `*` is left
    /// out of the message, as AWS does for actions without a resource.
    pub fn access_denied_message(
        &self,
        principal_arn: &str,
        action: &str,
        resource: &str,
    ) -> Option<String> {
        let on = if resource == "*" {
            String::new()
        } else {
            format!(" on resource: {resource}")
        };
        let base = format!("User: {principal_arn} is not authorized to perform: {action}{on}");
        match self {
            Self::Allowed(_) => None,
            Self::ExplicitDeny(m) => Some(format!(
                "{base} with an explicit deny in {} {}",
                m.kind.article(),
                m.kind.phrase()
            )),
            Self::ImplicitDeny(reason) => Some(format!(
                "{base} because no {} allows the {action} action",
                reason.kind().phrase()
            )),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.eval_decision())
    }
}

/// Returns the account segment of an ARN, if it has a non-empty one.
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// Finds the first statement with `effect` that applies; for resource policies the principal
/// must match too, and the best principal match is returned.
fn find(
    attached: &AttachedPolicy,
    effect: Effect,
    req: &AuthzRequest<'_>,
    action: &str,
) -> Option<(PrincipalMatch, MatchedStatement)> {
    let mut best: Option<(PrincipalMatch, MatchedStatement)> = None;
    for (index, st) in attached.policy.statements().iter().enumerate() {
        if st.effect() != effect {
            continue;
        }
        let principal = if attached.kind == PolicyKind::Resource {
            match st.principal_match(req.principal) {
                Some(m) => m,
                None => continue,
            }
        } else {
            PrincipalMatch::Direct
        };
        if best.as_ref().is_some_and(|(m, _)| *m >= principal) {
            continue;
        }
        if st.applies(action, req.resource, req.context) {
            let matched = MatchedStatement {
                policy: attached.name.clone(),
                kind: attached.kind,
                index,
                sid: st.sid().map(str::to_owned),
            };
            if principal == PrincipalMatch::Direct {
                return Some((principal, matched));
            }
            best = Some((principal, matched));
        }
    }
    best
}

/// Evaluates `req` against `policies`.
pub fn evaluate(req: &AuthzRequest<'_>, policies: &PolicySet<'_>) -> Decision {
    let action = req.action.to_ascii_lowercase();
    let all = policies
        .identity
        .iter()
        .chain(policies.permissions_boundary)
        .chain(policies.session.unwrap_or_default())
        .chain(policies.resource);
    for attached in all {
        if let Some((_, matched)) = find(attached, Effect::Deny, req, &action) {
            return Decision::ExplicitDeny(matched);
        }
    }
    let same_account = arn_account(req.resource).is_none_or(|a| a == req.principal.account_id);
    if req.principal.is_root() && same_account {
        return Decision::Allowed(None);
    }
    let resource_allow = policies
        .resource
        .and_then(|r| find(r, Effect::Allow, req, &action));
    if same_account && let Some((PrincipalMatch::Direct, matched)) = &resource_allow {
        return Decision::Allowed(Some(matched.clone()));
    }
    let identity_allow = policies
        .identity
        .iter()
        .find_map(|p| find(p, Effect::Allow, req, &action))
        .map(|(_, m)| m)
        .or_else(|| match &resource_allow {
            Some((PrincipalMatch::Role, m)) if same_account => Some(m.clone()),
            _ => None,
        });
    let Some(identity_allow) = identity_allow else {
        return Decision::ImplicitDeny(ImplicitDenyReason::NoIdentityPolicy);
    };
    if let Some(boundary) = policies.permissions_boundary
        && find(boundary, Effect::Allow, req, &action).is_none()
    {
        return Decision::ImplicitDeny(ImplicitDenyReason::NoPermissionsBoundary);
    }
    if let Some(session) = policies.session
        && !session
            .iter()
            .any(|p| find(p, Effect::Allow, req, &action).is_some())
    {
        return Decision::ImplicitDeny(ImplicitDenyReason::NoSessionPolicy);
    }
    if !same_account && resource_allow.is_none() {
        return Decision::ImplicitDeny(ImplicitDenyReason::NoResourcePolicy);
    }
    Decision::Allowed(Some(identity_allow))
}

/// Evaluates `sts:AssumeRole` (or `sts:TagSession`, …) on a role whose trust policy is
/// `policies.resource`. Unlike other resource policies, a trust policy must always allow the
/// caller: when it names the caller itself it suffices on its own, when it names the caller's
/// account the caller's identity policies (within its boundary) must allow as well, and an
/// identity allow without the trust policy's is an implicit deny.
pub fn evaluate_trust(req: &AuthzRequest<'_>, policies: &PolicySet<'_>) -> Decision {
    let decision = evaluate(req, policies);
    if !decision.is_allowed() {
        return decision;
    }
    let action = req.action.to_ascii_lowercase();
    let trusted = policies
        .resource
        .is_some_and(|trust| find(trust, Effect::Allow, req, &action).is_some());
    if trusted {
        decision
    } else {
        Decision::ImplicitDeny(ImplicitDenyReason::NoResourcePolicy)
    }
}
