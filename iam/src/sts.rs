//! STS sessions: temporary credentials, the checks on STS request parameters, and OIDC web
//! identity tokens.
//!
//! - [`SessionSealer`]: issues `ASIA…` credentials whose session token is the session itself,
//!   sealed (AES-256-GCM, the access key id as AAD), and opens such tokens again.
//! - [`SessionClaims`]: what a session carries (who, until when, session policies and tags).
//! - [`RoleSessionName`], [`session_duration`], [`SessionTags`]: parameter validation with
//!   STS's own messages.
//! - [`oidc`]: validation of OIDC ID tokens for `AssumeRoleWithWebIdentity`.
//!
//! Trust policies are evaluated by [`crate::policy::evaluate_trust`] (IAM callers) and
//! [`crate::policy::evaluate_web_identity_trust`] (web identities).

pub mod oidc;
mod params;
mod session;

pub use params::{
    DurationBounds, MAX_SESSION_TAGS, ParamError, RoleSessionName, SessionTags, session_duration,
    validate_source_identity,
};
pub use session::{
    SessionClaims, SessionError, SessionIdentity, SessionSealer, TemporaryCredentials,
};
