//! The IAM policy language: grammar, wildcard and ARN matching, variables, condition operators,
//! the request context, and evaluation across identity, boundary, session and resource policies
//! ([`evaluate`]), and of `sts:AssumeRole` against a role's trust policy ([`evaluate_trust`]),
//! or of `sts:AssumeRoleWithWebIdentity` by an OIDC provider ([`evaluate_web_identity_trust`]).

mod arn;
mod condition;
mod context;
mod document;
mod error;
mod evaluate;
mod trust;
mod variables;
mod wildcard;

pub use arn::arn_match;
pub use context::{ContextValue, RequestContext};
pub use document::{DocumentKind, Effect, Policy, Statement, VERSION_2008, VERSION_2012};
pub use error::PolicyError;
pub use evaluate::{
    AttachedPolicy, AuthzRequest, Decision, ImplicitDenyReason, MatchedStatement, PolicyKind,
    PolicySet, evaluate, evaluate_trust,
};
pub use trust::evaluate_web_identity_trust;
pub use wildcard::wildcard_match;

/// Returns whether `action` matches the action pattern `pattern` (case-insensitive, `*`/`?`).
pub fn action_match(pattern: &str, action: &str) -> bool {
    wildcard_match(&pattern.to_lowercase(), &action.to_lowercase())
}
