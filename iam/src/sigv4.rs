//! AWS Signature Version 4: parsing, canonicalization, key derivation and verification.
//!
//! One file per concern: `authorization` parses the header or presigned query ([`SigV4Auth`]),
//! `canonical` builds the canonical request and string to sign, `signing_key` derives and
//! caches keys, `verify` checks time, scope and signature ([`Verifier`]), and `sign` signs as a
//! client ([`sign_request`]).

mod amz_date;
mod authorization;
mod canonical;
mod error;
mod sign;
mod signing_key;
mod verify;

pub use amz_date::AmzDate;
pub use authorization::{
    CredentialScope, MAX_PRESIGNED_EXPIRES_SECS, SigV4Auth, SignatureLocation, parse_authorization,
    parse_presigned,
};
pub use canonical::{
    EMPTY_PAYLOAD_SHA256, SignableRequest, UriRules, canonical_query, canonical_request,
    canonical_uri, sha256_hex, string_to_sign,
};
pub use error::{ParseAuthorizationError, Protocol, SigV4Error};
pub use sign::{SignError, SigningCredentials, sign_request};
pub use signing_key::{SigningKeyCache, derive_signing_key, sign};
pub use verify::{
    Authenticated, PayloadHash, UNSIGNED_PAYLOAD, Verified, Verifier, VerifierConfig,
};

/// The only algorithm accepted (`AWS4-HMAC-SHA256`).
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
