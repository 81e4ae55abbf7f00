//! SigV4 verification, principals and credentials, the IAM policy language and its evaluator.
//!
//! - [`sigv4`]: parse the `Authorization` header or presigned query, rebuild the canonical
//!   request, verify the signature ([`sigv4::Verifier`]), and resolve the key through a
//!   [`CredentialStore`] ([`sigv4::Verifier::authenticate`]).
//! - [`SecretKey`], [`SessionToken`]: redacting, zeroizing, constant-time secret wrappers, and
//!   generators for access key ids and secrets.
//! - [`Principal`]: who signed.
//! - [`aps`]: the AMP action catalogue, the checks per operation and the AWS managed policies.
//! - [`policy`]: the IAM policy language and its evaluator ([`policy::evaluate`]).
//!
//! Nothing here does I/O: the clock is passed in and credentials come through the store trait.

pub mod aps;
pub mod policy;
mod principal;
mod secret;
pub mod sigv4;

pub use principal::{
    CredentialStore, CredentialStoreError, KeyStatus, Principal, PrincipalKind, SessionBinding,
    StoredCredential,
};
pub use secret::{
    AccessKeyKind, RandomError, SecretKey, SessionToken, generate_access_key_id,
    generate_secret_key, generate_session_token,
};
