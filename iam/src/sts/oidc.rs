//! Validation of OIDC ID tokens presented to `AssumeRoleWithWebIdentity`.
//!
//! The signature is checked by `jsonwebtoken` against the provider's JWKS; the claims are
//! checked here against the caller's clock (so that expiry is testable) and the provider's
//! registration, with the error codes STS answers with.

use std::time::{SystemTime, UNIX_EPOCH};

pub use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::policy::RequestContext;

/// An OIDC identity provider registered in IAM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProvider {
    /// `arn:aws:iam::<acct>:oidc-provider/<host/path>`.
    pub arn: String,
    /// The issuer URL (`https://host/path`).
    pub url: String,
    /// Accepted audiences (`ClientIDList`).
    pub client_ids: Vec<String>,
}

/// Returns the provider's name as IAM writes it in ARNs and condition keys: the URL without
/// its scheme and trailing slash (`oidc.eks.us-east-1.amazonaws.com/id/ABC`).
pub fn provider_key(url: &str) -> &str {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    rest.trim_end_matches('/')
}

/// Why a web identity token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebIdentityError {
    /// Not a JWT, or its claims are not JSON of the expected shape.
    #[error(
        "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"
    )]
    Malformed,
    /// Algorithms without a public key (`HS*`) are refused.
    #[error("The ID Token uses an unsupported signing algorithm.")]
    UnsupportedAlgorithm,
    /// No key of the provider's JWKS has the token's `kid`.
    #[error("Couldn't find a key in the identity provider's JWKS to verify the ID Token.")]
    UnknownKey,
    /// The signature does not verify.
    #[error(
        "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request."
    )]
    BadSignature,
    /// `iss` is missing or not the provider's URL.
    #[error("The issuer of the ID Token does not match the identity provider.")]
    WrongIssuer,
    /// `aud` names none of the provider's client ids.
    #[error("Incorrect token audience")]
    IncorrectAudience,
    /// `exp` is missing.
    #[error("The ID Token has no expiration (exp) claim.")]
    MissingExpiry,
    /// `exp` has passed.
    #[error("Token expired: current date/time {now} must be before the expiration date/time {exp}")]
    Expired {
        /// Server time, seconds since the epoch.
        now: u64,
        /// The token's `exp`.
        exp: u64,
    },
    /// `nbf` (or `iat`) lies in the future.
    #[error("The ID Token is not valid yet (nbf is in the future).")]
    NotYetValid,
    /// `sub` is missing or empty.
    #[error("The ID Token has no subject (sub) claim.")]
    MissingSubject,
}

impl WebIdentityError {
    /// Returns the STS error code: `ExpiredTokenException` for expiry, else
    /// `InvalidIdentityToken`.
    pub fn aws_code(&self) -> &'static str {
        match self {
            Self::Expired { .. } => "ExpiredTokenException",
            _ => "InvalidIdentityToken",
        }
    }
}

/// What a valid token established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentity {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// The `aud` value that matched a client id.
    pub audience: String,
    /// `amr` values, if any.
    pub amr: Vec<String>,
    /// `exp`, seconds since the epoch.
    pub expires_at: u64,
}

impl WebIdentity {
    /// Adds the condition keys a trust policy sees for this identity:
    /// `<provider>:sub`, `<provider>:aud`, `<provider>:amr` and `aws:FederatedProvider`.
    pub fn add_trust_context(&self, provider: &OidcProvider, ctx: &mut RequestContext) {
        let key = provider_key(&provider.url);
        ctx.insert(&format!("{key}:sub"), &self.subject);
        ctx.insert(&format!("{key}:aud"), &self.audience);
        if !self.amr.is_empty() {
            ctx.insert_multi(&format!("{key}:amr"), self.amr.clone());
        }
        ctx.insert("aws:FederatedProvider", &provider.arn);
    }
}

/// Returns the `iss` claim of a token without verifying it, to find its provider.
pub fn unverified_issuer(token: &str) -> Result<String, WebIdentityError> {
    let claims: Value = jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .map_err(|_| WebIdentityError::Malformed)?
        .claims;
    claims
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(WebIdentityError::WrongIssuer)
}

/// Values of a claim that is a string or an array of strings.
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// A numeric date claim in whole seconds (JWT allows fractions).
fn seconds(v: Option<&Value>) -> Option<u64> {
    let v = v?;
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f as u64)
    })
}

fn same_issuer(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// Validates `token` for `provider`: signature against `jwks`, then `iss`, `aud` (one of the
/// client ids), `exp` and `nbf` against `now`, and `sub`.
pub fn validate(
    token: &str,
    provider: &OidcProvider,
    jwks: &JwkSet,
    now: SystemTime,
) -> Result<WebIdentity, WebIdentityError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| WebIdentityError::Malformed)?;
    if matches!(
        header.alg,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        return Err(WebIdentityError::UnsupportedAlgorithm);
    }
    let jwk = match &header.kid {
        Some(kid) => jwks.find(kid),
        None if jwks.keys.len() == 1 => jwks.keys.first(),
        None => None,
    }
    .ok_or(WebIdentityError::UnknownKey)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| WebIdentityError::UnknownKey)?;
    let mut validation = Validation::new(header.alg);
    // Time and audience are checked below against our own clock and the provider.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature
            | jsonwebtoken::errors::ErrorKind::InvalidAlgorithm
            | jsonwebtoken::errors::ErrorKind::InvalidKeyFormat
            | jsonwebtoken::errors::ErrorKind::InvalidEcdsaKey
            | jsonwebtoken::errors::ErrorKind::InvalidRsaKey(_) => WebIdentityError::BadSignature,
            _ => WebIdentityError::Malformed,
        })?
        .claims;
    let issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .filter(|iss| same_issuer(iss, &provider.url))
        .ok_or(WebIdentityError::WrongIssuer)?
        .to_owned();
    let audience = strings(claims.get("aud"))
        .into_iter()
        .find(|a| provider.client_ids.iter().any(|c| c == a))
        .ok_or(WebIdentityError::IncorrectAudience)?;
    let now_secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let exp = seconds(claims.get("exp")).ok_or(WebIdentityError::MissingExpiry)?;
    if exp <= now_secs {
        return Err(WebIdentityError::Expired { now: now_secs, exp });
    }
    if seconds(claims.get("nbf")).is_some_and(|nbf| nbf > now_secs) {
        return Err(WebIdentityError::NotYetValid);
    }
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(WebIdentityError::MissingSubject)?
        .to_owned();
    Ok(WebIdentity {
        issuer,
        subject,
        audience,
        amr: strings(claims.get("amr")),
        expires_at: exp,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{EncodingKey, Header};
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    use serde_json::json;

    use super::*;

    const ISSUER: &str = "https://oidc.example.test/id/CLUSTER1";
    const NOW: u64 = 1_800_000_000;

    /// A fresh P-256 key pair: its signing key and its public JWK with `kid`.
    fn key_pair(kid: &str) -> (EncodingKey, Jwk) {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let key = EncodingKey::from_ec_der(pkcs8.as_ref());
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
        jwk.common.key_id = Some(kid.to_owned());
        (key, jwk)
    }

    fn provider() -> OidcProvider {
        OidcProvider {
            arn: "arn:aws:iam::123456789012:oidc-provider/oidc.example.test/id/CLUSTER1".into(),
            url: ISSUER.into(),
            client_ids: vec!["sts.amazonaws.com".into()],
        }
    }

    fn token(key: &EncodingKey, kid: &str, claims: Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, &claims, key).unwrap()
    }

    fn claims() -> Value {
        json!({
            "iss": ISSUER,
            "sub": "system:serviceaccount:monitoring:prometheus",
            "aud": ["sts.amazonaws.com"],
            "exp": NOW + 3600,
            "nbf": NOW - 10,
            "iat": NOW - 10,
        })
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_valid_token_yields_its_identity_and_trust_keys() {
        let (key, jwk) = key_pair("k1");
        let jwks = JwkSet { keys: vec![jwk] };
        let t = token(&key, "k1", claims());
        assert_eq!(unverified_issuer(&t).unwrap(), ISSUER);
        let id = validate(&t, &provider(), &jwks, at(NOW)).unwrap();
        assert_eq!(id.subject, "system:serviceaccount:monitoring:prometheus");
        assert_eq!(id.audience, "sts.amazonaws.com");
        let mut ctx = RequestContext::new();
        id.add_trust_context(&provider(), &mut ctx);
        assert_eq!(
            ctx.get("oidc.example.test/id/CLUSTER1:sub")
                .map(|v| v.as_slice().to_vec()),
            Some(vec![
                "system:serviceaccount:monitoring:prometheus".to_owned()
            ])
        );
        assert!(ctx.get("oidc.example.test/id/CLUSTER1:aud").is_some());
        assert_eq!(provider_key("https://h.test/p/"), "h.test/p");
    }

    #[test]
    fn each_broken_claim_is_refused_with_its_reason() {
        let (key, jwk) = key_pair("k1");
        let jwks = JwkSet { keys: vec![jwk] };
        let p = provider();
        let with = |k: &str, v: Value| {
            let mut c = claims();
            c[k] = v;
            token(&key, "k1", c)
        };
        let check = |t: String| validate(&t, &p, &jwks, at(NOW)).unwrap_err();
        assert_eq!(
            check(with("iss", json!("https://other.test"))),
            WebIdentityError::WrongIssuer
        );
        assert_eq!(
            check(with("aud", json!("someone-else"))),
            WebIdentityError::IncorrectAudience
        );
        let expired = check(with("exp", json!(NOW - 1)));
        assert!(matches!(expired, WebIdentityError::Expired { .. }));
        assert_eq!(expired.aws_code(), "ExpiredTokenException");
        assert_eq!(
            check(with("nbf", json!(NOW + 60))),
            WebIdentityError::NotYetValid
        );
        assert_eq!(
            check(with("sub", json!(""))),
            WebIdentityError::MissingSubject
        );
        let mut no_exp = claims();
        no_exp.as_object_mut().unwrap().remove("exp");
        assert_eq!(
            check(token(&key, "k1", no_exp)),
            WebIdentityError::MissingExpiry
        );
        assert_eq!(check("not.a.jwt".into()), WebIdentityError::Malformed);
        assert_eq!(
            WebIdentityError::IncorrectAudience.aws_code(),
            "InvalidIdentityToken"
        );
        // Exactly at exp the token is already expired; one second earlier it is fine.
        let t = token(&key, "k1", claims());
        assert!(validate(&t, &p, &jwks, at(NOW + 3599)).is_ok());
        assert!(validate(&t, &p, &jwks, at(NOW + 3600)).is_err());
    }

    #[test]
    fn signatures_must_come_from_the_providers_keys() {
        let (key, jwk) = key_pair("k1");
        let (rogue, _) = key_pair("k1");
        let jwks = JwkSet { keys: vec![jwk] };
        let p = provider();
        // Same kid, other key: the signature does not verify.
        let forged = token(&rogue, "k1", claims());
        assert_eq!(
            validate(&forged, &p, &jwks, at(NOW)).unwrap_err(),
            WebIdentityError::BadSignature
        );
        // A kid the JWKS does not have.
        let unknown = token(&key, "k2", claims());
        assert_eq!(
            validate(&unknown, &p, &jwks, at(NOW)).unwrap_err(),
            WebIdentityError::UnknownKey
        );
        // A tampered payload.
        let good = token(&key, "k1", claims());
        let mut parts: Vec<&str> = good.split('.').collect();
        let other = token(
            &key,
            "k1",
            json!({"iss": ISSUER, "sub": "admin", "aud": "sts.amazonaws.com", "exp": NOW + 60}),
        );
        parts[1] = other.split('.').nth(1).unwrap();
        assert_eq!(
            validate(&parts.join("."), &p, &jwks, at(NOW)).unwrap_err(),
            WebIdentityError::BadSignature
        );
        // HMAC tokens are refused outright.
        let hs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(b"shared"),
        )
        .unwrap();
        assert_eq!(
            validate(&hs, &p, &jwks, at(NOW)).unwrap_err(),
            WebIdentityError::UnsupportedAlgorithm
        );
    }
}
