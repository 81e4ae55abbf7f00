//! SigV4 verification, principals and credentials, the IAM policy language and its evaluator.
//!
//! - [`sigv4`]: parse the `Authorization` header or presigned query, rebuild the canonical
//!   request, verify the signature ([`sigv4::Verifier`]), and resolve the key through a
//!   [`CredentialStore`] ([`sigv4::Verifier::authenticate`]).
//! - [`SecretKey`], [`SessionToken`]: redacting, zeroizing, constant-time secret wrappers, and
//!   generators for access key ids and secrets.
//! - [`Principal`]: who signed.
//! - [`aps`]: the AMP action catalogue, the checks per operation and the AWS managed policies.
//! - [`policy`]: the IAM policy language and its evaluator ([`policy::evaluate`]), and trust
//!   policies ([`policy::evaluate_trust`]).
//! - [`sts`]: STS sessions sealed into their tokens, STS parameter checks, OIDC web identity
//!   tokens.
//!
//! Nothing here does I/O: the clock is passed in and credentials come through the store trait.
//!
//! # Example
//!
//! An auth middleware verifies the signature, then authorizes the operation:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Duration, SystemTime};
//!
//! use ampd_iam::aps::{ApsAction, ApsArns, ApsTarget, QUERY_ACCESS, authorizations};
//! use ampd_iam::policy::{AttachedPolicy, AuthzRequest, PolicyKind, PolicySet, RequestContext, evaluate};
//! use ampd_iam::sigv4::{PayloadHash, SigV4Auth, SigningCredentials, Verifier, VerifierConfig, sign_request};
//! use ampd_iam::{Principal, PrincipalKind, SecretKey};
//!
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600);
//! let secret = SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
//! let (mut parts, ()) = http::Request::get("http://127.0.0.1:9096/workspaces/ws-1/api/v1/query?query=up")
//!     .body(())
//!     .unwrap()
//!     .into_parts();
//! let creds = SigningCredentials { access_key_id: "AKIAEXAMPLE".into(), secret: secret.clone(), session_token: None };
//! sign_request(&mut parts, b"", &creds, "us-east-1", "aps", now).unwrap();
//!
//! // Authentication (here with the secret at hand; `Verifier::authenticate` looks it up).
//! let verifier = Verifier::new(VerifierConfig::default());
//! let auth = SigV4Auth::from_request(&ampd_iam::sigv4::SignableRequest::from_parts(&parts)).unwrap();
//! verifier.verify(&parts, PayloadHash::Body(b""), &auth, "aps", &secret, now).unwrap();
//!
//! // Authorization of aps:QueryMetrics on the workspace.
//! let principal = Principal {
//!     account_id: "123456789012".into(),
//!     arn: "arn:aws:iam::123456789012:user/grafana".into(),
//!     user_id: "AIDAGRAFANA".into(),
//!     user_name: Some("grafana".into()),
//!     kind: PrincipalKind::User,
//!     tags: Default::default(),
//! };
//! let arns = ApsArns { partition: "aws", region: "us-east-1", account: "123456789012" };
//! let target = ApsTarget { workspace_id: Some("ws-1"), ..Default::default() };
//! let policies = [AttachedPolicy::new(QUERY_ACCESS.arn, PolicyKind::Identity, Arc::new(QUERY_ACCESS.policy().unwrap()))];
//! let ctx = RequestContext::for_principal(&principal, now);
//! for check in authorizations(ApsAction::QueryMetrics, &arns, &target).unwrap() {
//!     let request = AuthzRequest { principal: &principal, action: check.action, resource: &check.resource, context: &ctx };
//!     let decision = evaluate(&request, &PolicySet { identity: &policies, ..Default::default() });
//!     assert!(decision.is_allowed(), "{:?}", decision.access_denied_message(&principal.arn, check.action, &check.resource));
//! }
//! ```

pub mod aps;
pub mod policy;
mod principal;
mod secret;
pub mod sigv4;
pub mod sts;

pub use principal::{
    CredentialStore, CredentialStoreError, KeyStatus, Principal, PrincipalKind, SessionBinding,
    StaticCredentialStore, StoredCredential,
};
pub use secret::{
    AccessKeyKind, RandomError, SecretKey, SessionToken, UniqueIdKind, generate_access_key_id,
    generate_secret_key, generate_session_token, generate_unique_id,
};
