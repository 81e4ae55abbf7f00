//! Verification of a signed request (pure), and authentication through a credential store.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use subtle::ConstantTimeEq;

use super::amz_date::{AmzDate, format_basic, format_window};
use super::authorization::{SigV4Auth, SignatureLocation};
use super::canonical::{
    HeaderWhitespace, SignableRequest, UriRules, canonical_request_with, has_non_space_whitespace,
    sha256_hex, string_to_sign,
};
use super::error::{ParseAuthorizationError, SigV4Error};
use super::signing_key::{SigningKeyCache, sign};
use crate::principal::{CredentialStore, KeyStatus, Principal};
use crate::secret::SecretKey;

/// The `x-amz-content-sha256` value a client sends when it chose not to sign the body.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
const SECURITY_TOKEN: &str = "x-amz-security-token";
const CONTENT_SHA256: &str = "x-amz-content-sha256";

/// The request body as far as the signature is concerned.
#[derive(Debug, Clone, Copy)]
pub enum PayloadHash<'a> {
    /// The whole body; the verifier hashes it.
    Body(&'a [u8]),
    /// The lower-hex SHA-256 of the body, computed by the caller while reading it.
    Sha256Hex(&'a str),
}

/// Settings of a [`Verifier`].
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// The region this server answers for; credential scopes must name it.
    pub region: String,
    /// Also accept `us-east-1` for the global services `iam` and `sts` (AWS signs IAM there).
    pub accept_us_east_1_for_global: bool,
    /// Accept any region in the scope (region-agnostic mode).
    pub any_region: bool,
    /// Largest accepted distance between the request timestamp and the server clock (AWS: 5
    /// minutes for most services, 15 for S3).
    pub max_skew: Duration,
    /// Accept `x-amz-content-sha256: UNSIGNED-PAYLOAD`.
    pub allow_unsigned_payload: bool,
    /// Require `x-amz-security-token`, when sent as a header, to be among the signed headers.
    pub require_signed_session_token: bool,
    /// Signing names whose paths are signed without normalization (dot segments and repeated
    /// slashes kept), still double-encoded. `s3` always uses S3's own rules.
    pub unnormalized_services: Vec<String>,
    /// Number of derived signing keys kept in memory.
    pub key_cache_capacity: usize,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        Self {
            region: "us-east-1".to_owned(),
            accept_us_east_1_for_global: true,
            any_region: false,
            max_skew: Duration::from_secs(5 * 60),
            allow_unsigned_payload: true,
            require_signed_session_token: true,
            unnormalized_services: Vec::new(),
            key_cache_capacity: 4096,
        }
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The access key that signed.
    pub access_key_id: String,
    /// The region of the credential scope.
    pub region: String,
    /// The service of the credential scope.
    pub service: String,
    /// The request timestamp.
    pub signed_at: SystemTime,
    /// Whether the signature came in a presigned URL.
    pub presigned: bool,
}

/// A request whose signature checked out, with the principal behind its key.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// Who signed.
    pub principal: Principal,
    /// Signature facts (key id, scope, time).
    pub verified: Verified,
    /// Whether the key is temporary and came with a valid session token.
    pub with_session_token: bool,
    /// The session policies of a temporary key's session, if it has any.
    pub session_policies: Option<Vec<crate::policy::AttachedPolicy>>,
}

/// Verifies SigV4 signatures. Holds the configuration and the signing-key cache; share one
/// instance (it is `Send + Sync`).
#[derive(Debug)]
pub struct Verifier {
    config: VerifierConfig,
    keys: SigningKeyCache,
}

/// Scope and time facts checked before any key lookup.
struct Checked {
    date: AmzDate,
}

impl Verifier {
    /// Creates a verifier.
    pub fn new(config: VerifierConfig) -> Self {
        let keys = SigningKeyCache::new(config.key_cache_capacity);
        Self { config, keys }
    }

    /// Returns the configuration.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Verifies a request signed with `secret` for `service` (`aps`, `iam`, `sts`, `kms`, …).
    ///
    /// Pure: no I/O, `now` is the server clock. Does not look at session tokens beyond their
    /// being signed; [`Verifier::authenticate`] checks them against the credential.
    pub fn verify(
        &self,
        parts: &http::request::Parts,
        payload: PayloadHash<'_>,
        auth: &SigV4Auth<'_>,
        service: &str,
        secret: &SecretKey,
        now: SystemTime,
    ) -> Result<Verified, SigV4Error> {
        self.verify_signable(
            &SignableRequest::from_parts(parts),
            payload,
            auth,
            service,
            secret,
            now,
        )
    }

    /// Like [`Verifier::verify`], for a request given as [`SignableRequest`].
    pub fn verify_signable(
        &self,
        req: &SignableRequest<'_>,
        payload: PayloadHash<'_>,
        auth: &SigV4Auth<'_>,
        service: &str,
        secret: &SecretKey,
        now: SystemTime,
    ) -> Result<Verified, SigV4Error> {
        let checked = self.check_scope_and_time(req, auth, service, now)?;
        self.check_signature(req, payload, auth, &checked, secret)?;
        Ok(verified(auth, &checked))
    }

    /// Authenticates a request: extracts the SigV4 elements, checks time and scope, resolves the
    /// key (and session token) through `store`, then verifies the signature.
    pub async fn authenticate(
        &self,
        parts: &http::request::Parts,
        payload: PayloadHash<'_>,
        store: &dyn CredentialStore,
        service: &str,
        now: SystemTime,
    ) -> Result<Authenticated, SigV4Error> {
        self.authenticate_signable(
            &SignableRequest::from_parts(parts),
            payload,
            store,
            service,
            now,
        )
        .await
    }

    /// Like [`Verifier::authenticate`], for a request given as [`SignableRequest`].
    pub async fn authenticate_signable(
        &self,
        req: &SignableRequest<'_>,
        payload: PayloadHash<'_>,
        store: &dyn CredentialStore,
        service: &str,
        now: SystemTime,
    ) -> Result<Authenticated, SigV4Error> {
        let auth = SigV4Auth::from_request(req)?;
        let checked = self.check_scope_and_time(req, &auth, service, now)?;
        let token: Option<Cow<'_, str>> = match auth.location() {
            SignatureLocation::Query { security_token, .. } => {
                security_token.as_deref().map(Cow::Borrowed)
            }
            SignatureLocation::Header => req
                .headers
                .get(SECURITY_TOKEN)
                .map(|v| String::from_utf8_lossy(v.as_bytes())),
        };
        let credential = store
            .lookup(auth.access_key_id(), token.as_deref())
            .await
            .map_err(SigV4Error::CredentialStore)?
            .ok_or(SigV4Error::UnrecognizedClient)?;
        if credential.status == KeyStatus::Inactive {
            return Err(SigV4Error::UnrecognizedClient);
        }
        match (&credential.session, token.as_deref()) {
            (Some(session), Some(presented)) => {
                if !session.token.matches(presented) {
                    return Err(SigV4Error::UnrecognizedClient);
                }
                if session.expires_at <= now {
                    return Err(SigV4Error::ExpiredToken);
                }
            }
            (None, None) => {}
            // A temporary key without its token, or a token with a long-term key.
            _ => return Err(SigV4Error::UnrecognizedClient),
        }
        self.check_signature(req, payload, &auth, &checked, &credential.secret)?;
        Ok(Authenticated {
            with_session_token: credential.session.is_some(),
            session_policies: credential.session.and_then(|s| s.policies),
            principal: credential.principal,
            verified: verified(&auth, &checked),
        })
    }

    /// Checks the timestamp, the skew or presigned expiry, the credential scope and which
    /// headers must be signed.
    fn check_scope_and_time(
        &self,
        req: &SignableRequest<'_>,
        auth: &SigV4Auth<'_>,
        service: &str,
        now: SystemTime,
    ) -> Result<Checked, SigV4Error> {
        let date = match auth.location() {
            SignatureLocation::Query {
                amz_date,
                expires_secs,
                ..
            } => {
                let date = parse_amz_date(amz_date)?;
                if now > date.time() + Duration::from_secs(*expires_secs) {
                    return Err(SigV4Error::PresignedUrlExpired);
                }
                self.check_not_in_future(&date, now)?;
                date
            }
            SignatureLocation::Header => {
                let date = self.header_date(req, auth)?;
                self.check_skew(&date, now)?;
                date
            }
        };
        let scope = auth.scope();
        if scope.date != date.date() {
            return Err(SigV4Error::InvalidScope(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
                 from HTTP: '{}' != '{}', from '{}'.",
                scope.date,
                date.date(),
                date.basic()
            )));
        }
        if scope.terminator != "aws4_request" {
            return Err(SigV4Error::InvalidScope(format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
                scope.terminator
            )));
        }
        if scope.service != service {
            return Err(SigV4Error::InvalidScope(format!(
                "Credential should be scoped to correct service: '{service}'. "
            )));
        }
        if !self.region_accepted(scope.region, service) {
            return Err(SigV4Error::InvalidScope(format!(
                "Credential should be scoped to a valid region, not '{}'. ",
                scope.region
            )));
        }
        if !auth.is_signed("host") {
            return Err(SigV4Error::UnsignedHeader(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
            ));
        }
        if !auth.is_presigned() {
            let token_required = self.config.require_signed_session_token
                && req.headers.contains_key(SECURITY_TOKEN);
            for (name, required) in [
                (SECURITY_TOKEN, token_required),
                (CONTENT_SHA256, req.headers.contains_key(CONTENT_SHA256)),
            ] {
                if required && !auth.is_signed(name) {
                    return Err(SigV4Error::UnsignedHeader(format!(
                        "The '{name}' header must be a 'SignedHeader' in the AWS Authorization."
                    )));
                }
            }
        }
        Ok(Checked { date })
    }

    /// Takes the timestamp from `X-Amz-Date`, else `Date`; whichever is used must be signed.
    fn header_date(
        &self,
        req: &SignableRequest<'_>,
        auth: &SigV4Auth<'_>,
    ) -> Result<AmzDate, SigV4Error> {
        let (name, value) = if let Some(v) = req.headers.get("x-amz-date") {
            ("x-amz-date", v)
        } else if let Some(v) = req.headers.get(http::header::DATE) {
            ("date", v)
        } else {
            return Err(ParseAuthorizationError::new(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            )
            .into());
        };
        if !auth.is_signed(name) {
            return Err(SigV4Error::UnsignedHeader(format!(
                "The '{name}' header must be a 'SignedHeader' in the AWS Authorization."
            )));
        }
        let text = value.to_str().unwrap_or("");
        let parsed = if name == "date" {
            AmzDate::parse_http_date(text)
        } else {
            AmzDate::parse_basic(text)
        };
        parsed.ok_or_else(|| invalid_date(text))
    }

    fn check_skew(&self, date: &AmzDate, now: SystemTime) -> Result<(), SigV4Error> {
        let window = self.config.max_skew;
        if let Some(earliest) = now.checked_sub(window)
            && date.time() < earliest
        {
            return Err(SigV4Error::SignatureExpired {
                signed: date.basic().to_owned(),
                limit: format_basic(earliest),
                now: format_basic(now),
                window: format_window(window),
            });
        }
        self.check_not_in_future(date, now)
    }

    fn check_not_in_future(&self, date: &AmzDate, now: SystemTime) -> Result<(), SigV4Error> {
        let window = self.config.max_skew;
        let latest = now + window;
        if date.time() > latest {
            return Err(SigV4Error::SignatureNotYetCurrent {
                signed: date.basic().to_owned(),
                limit: format_basic(latest),
                now: format_basic(now),
                window: format_window(window),
            });
        }
        Ok(())
    }

    fn region_accepted(&self, region: &str, service: &str) -> bool {
        self.config.any_region
            || region == self.config.region
            || (self.config.accept_us_east_1_for_global
                && region == "us-east-1"
                && matches!(service, "iam" | "sts"))
    }

    /// Recomputes the signature and compares it in constant time.
    fn check_signature(
        &self,
        req: &SignableRequest<'_>,
        payload: PayloadHash<'_>,
        auth: &SigV4Auth<'_>,
        checked: &Checked,
        secret: &SecretKey,
    ) -> Result<(), SigV4Error> {
        let payload_hash = self.payload_hash(req, payload)?;
        let scope = auth.scope();
        let exclude: &[&str] = if auth.is_presigned() {
            &["X-Amz-Signature"]
        } else {
            &[]
        };
        let rules = if self
            .config
            .unnormalized_services
            .iter()
            .any(|s| s == scope.service)
        {
            UriRules {
                normalize: false,
                ..UriRules::for_service(scope.service)
            }
        } else {
            UriRules::for_service(scope.service)
        };
        let key = self.keys.get_or_derive(
            auth.credential(),
            secret,
            scope.date,
            scope.region,
            scope.service,
        );
        let attempt = |whitespace| {
            let creq = canonical_request_with(
                req,
                rules,
                exclude,
                auth.signed_headers(),
                &payload_hash,
                whitespace,
            );
            let sts = string_to_sign(checked.date.basic(), auth.scope_str(), &creq);
            let matches: bool = sign(&key, &sts)
                .as_bytes()
                .ct_eq(auth.signature().as_bytes())
                .into();
            (matches, creq, sts)
        };
        let (matches, creq, sts) = attempt(HeaderWhitespace::All);
        // Clients that fold only spaces sign a different form when a value holds a tab.
        if matches
            || (has_non_space_whitespace(req, auth.signed_headers())
                && attempt(HeaderWhitespace::SpacesOnly).0)
        {
            return Ok(());
        }
        Err(SigV4Error::SignatureDoesNotMatch {
            canonical_request: creq,
            string_to_sign: sts,
        })
    }

    /// Picks the payload hash that was signed: `x-amz-content-sha256` when sent (after checking
    /// it against the body), else the body's hash.
    fn payload_hash<'p>(
        &self,
        req: &SignableRequest<'_>,
        payload: PayloadHash<'p>,
    ) -> Result<Cow<'p, str>, SigV4Error> {
        let computed = match payload {
            PayloadHash::Body(body) => Cow::Owned(sha256_hex(body)),
            PayloadHash::Sha256Hex(hex) => Cow::Borrowed(hex),
        };
        let Some(claimed) = req.headers.get(CONTENT_SHA256) else {
            return Ok(computed);
        };
        let claimed = claimed.to_str().unwrap_or("");
        if claimed == UNSIGNED_PAYLOAD {
            return if self.config.allow_unsigned_payload {
                Ok(Cow::Borrowed(UNSIGNED_PAYLOAD))
            } else {
                Err(SigV4Error::PayloadHashMismatch)
            };
        }
        if claimed.eq_ignore_ascii_case(&computed) {
            Ok(Cow::Owned(claimed.to_owned()))
        } else {
            Err(SigV4Error::PayloadHashMismatch)
        }
    }
}

fn verified(auth: &SigV4Auth<'_>, checked: &Checked) -> Verified {
    let scope = auth.scope();
    Verified {
        access_key_id: auth.access_key_id().to_owned(),
        region: scope.region.to_owned(),
        service: scope.service.to_owned(),
        signed_at: checked.date.time(),
        presigned: auth.is_presigned(),
    }
}

fn parse_amz_date(value: &str) -> Result<AmzDate, SigV4Error> {
    AmzDate::parse_basic(value).ok_or_else(|| invalid_date(value))
}

fn invalid_date(value: &str) -> SigV4Error {
    ParseAuthorizationError::new(format!(
        "Date must be in ISO-8601 'basic format'. Got '{value}'. See \
         http://en.wikipedia.org/wiki/ISO_8601"
    ))
    .into()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use async_trait::async_trait;
    use http::Request;

    use super::*;
    use crate::principal::{CredentialStoreError, PrincipalKind, SessionBinding, StoredCredential};
    use crate::secret::SessionToken;
    use crate::sigv4::{SigningCredentials, sign_request};

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const TOKEN: &str = "session-token-value";

    fn t0() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600)
    }

    fn principal(arn: &str) -> Principal {
        Principal {
            account_id: "123456789012".into(),
            arn: arn.into(),
            user_id: "AIDAEXAMPLE".into(),
            user_name: Some("alice".into()),
            kind: PrincipalKind::User,
            tags: BTreeMap::new(),
        }
    }

    struct Store(HashMap<&'static str, StoredCredential>);

    #[async_trait]
    impl CredentialStore for Store {
        async fn lookup(
            &self,
            access_key_id: &str,
            _session_token: Option<&str>,
        ) -> Result<Option<StoredCredential>, CredentialStoreError> {
            if access_key_id == "AKIABROKEN" {
                return Err(CredentialStoreError("database down".into()));
            }
            Ok(self.0.get(access_key_id).cloned())
        }
    }

    fn store() -> Store {
        let long = StoredCredential {
            secret: SecretKey::new(SECRET),
            principal: principal("arn:aws:iam::123456789012:user/alice"),
            status: KeyStatus::Active,
            session: None,
        };
        let inactive = StoredCredential {
            status: KeyStatus::Inactive,
            ..long.clone()
        };
        let temporary = StoredCredential {
            session: Some(SessionBinding {
                token: SessionToken::new(TOKEN),
                expires_at: t0() + Duration::from_secs(3600),
                policies: None,
            }),
            ..long.clone()
        };
        Store(HashMap::from([
            ("AKIAALICE", long),
            ("AKIAOFF", inactive),
            ("ASIATEMP", temporary),
        ]))
    }

    fn creds(id: &str, token: Option<&str>) -> SigningCredentials {
        SigningCredentials {
            access_key_id: id.into(),
            secret: SecretKey::new(SECRET),
            session_token: token.map(SessionToken::new),
        }
    }

    /// A remote-write-like request signed for `aps` at `at`.
    fn signed(id: &str, token: Option<&str>, at: SystemTime, body: &[u8]) -> http::request::Parts {
        let (mut parts, ()) =
            Request::post("http://127.0.0.1:9096/workspaces/ws-1/api/v1/remote_write")
                .header("content-type", "application/x-protobuf")
                .header("content-encoding", "snappy")
                .header("x-prometheus-remote-write-version", "0.1.0")
                .body(())
                .unwrap()
                .into_parts();
        sign_request(&mut parts, body, &creds(id, token), "us-east-1", "aps", at).unwrap();
        parts
    }

    fn verifier() -> Verifier {
        Verifier::new(VerifierConfig::default())
    }

    async fn authenticate(
        parts: &http::request::Parts,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Authenticated, SigV4Error> {
        verifier()
            .authenticate(parts, PayloadHash::Body(body), &store(), "aps", now)
            .await
    }

    #[tokio::test]
    async fn authenticates_long_term_and_temporary_keys() {
        let body = b"snappy-protobuf";
        let ok = authenticate(&signed("AKIAALICE", None, t0(), body), body, t0())
            .await
            .unwrap();
        assert_eq!(ok.principal.arn, "arn:aws:iam::123456789012:user/alice");
        assert_eq!(ok.verified.access_key_id, "AKIAALICE");
        assert_eq!(
            (ok.verified.region.as_str(), ok.verified.service.as_str()),
            ("us-east-1", "aps")
        );
        assert!(!ok.with_session_token && !ok.verified.presigned);
        let temp = authenticate(&signed("ASIATEMP", Some(TOKEN), t0(), body), body, t0())
            .await
            .unwrap();
        assert!(temp.with_session_token);
    }

    #[tokio::test]
    async fn rejects_bad_keys_and_tokens() {
        let body = b"";
        let cases: Vec<(http::request::Parts, SystemTime, &str)> = vec![
            (
                signed("AKIAUNKNOWN", None, t0(), body),
                t0(),
                "UnrecognizedClientException",
            ),
            (
                signed("AKIAOFF", None, t0(), body),
                t0(),
                "UnrecognizedClientException",
            ),
            (
                signed("ASIATEMP", None, t0(), body),
                t0(),
                "UnrecognizedClientException",
            ),
            (
                signed("ASIATEMP", Some("forged"), t0(), body),
                t0(),
                "UnrecognizedClientException",
            ),
            (
                signed("AKIAALICE", Some(TOKEN), t0(), body),
                t0(),
                "UnrecognizedClientException",
            ),
            (
                signed(
                    "ASIATEMP",
                    Some(TOKEN),
                    t0() + Duration::from_secs(3600),
                    body,
                ),
                t0() + Duration::from_secs(3600),
                "ExpiredTokenException",
            ),
            (
                signed("AKIABROKEN", None, t0(), body),
                t0(),
                "InternalServerException",
            ),
        ];
        for (parts, now, code) in cases {
            let err = authenticate(&parts, body, now).await.unwrap_err();
            assert_eq!(err.aws_code(), code, "{err}");
        }
    }

    /// The api middleware awaits `authenticate` inside a tower service, so the future must be
    /// `Send`; this fails to compile otherwise.
    #[test]
    fn authenticate_future_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        let (verifier, store, parts) = (verifier(), store(), signed("AKIAALICE", None, t0(), b""));
        let future = verifier.authenticate(&parts, PayloadHash::Body(b""), &store, "aps", t0());
        assert_send(&future);
    }

    #[tokio::test]
    async fn rejects_tampered_body_and_signature() {
        let parts = signed("AKIAALICE", None, t0(), b"body");
        let err = authenticate(&parts, b"other body", t0()).await.unwrap_err();
        assert!(
            matches!(err, SigV4Error::SignatureDoesNotMatch { .. }),
            "{err:?}"
        );
        let mut forged = parts.clone();
        let auth = forged.headers["authorization"].to_str().unwrap().to_owned();
        let flipped = format!(
            "{}{}",
            &auth[..auth.len() - 1],
            if auth.ends_with('0') { '1' } else { '0' }
        );
        forged
            .headers
            .insert("authorization", flipped.parse().unwrap());
        let err = authenticate(&forged, b"body", t0()).await.unwrap_err();
        assert_eq!(err.aws_code(), "InvalidSignatureException");
        assert_eq!(err.http_status(), http::StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn enforces_the_skew_window() {
        let parts = signed("AKIAALICE", None, t0(), b"");
        let late = t0() + Duration::from_secs(301);
        let err = authenticate(&parts, b"", late).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "Signature expired: 20250101T000000Z is now earlier than 20250101T000001Z (20250101T000501Z - 5 min.)"
        );
        assert!(
            authenticate(&parts, b"", t0() + Duration::from_secs(299))
                .await
                .is_ok()
        );
        let early = t0() - Duration::from_secs(301);
        let err = authenticate(&parts, b"", early).await.unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Signature not yet current: 20250101T000000Z is still later than"),
            "{err}"
        );
        let wide = Verifier::new(VerifierConfig {
            max_skew: Duration::from_secs(900),
            ..VerifierConfig::default()
        });
        let ok = wide
            .authenticate(&parts, PayloadHash::Body(b""), &store(), "aps", late)
            .await;
        assert!(ok.is_ok());
    }

    #[tokio::test]
    async fn checks_the_credential_scope() {
        let parts = signed("AKIAALICE", None, t0(), b"");
        let err = verifier()
            .authenticate(&parts, PayloadHash::Body(b""), &store(), "kms", t0())
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Credential should be scoped to correct service: 'kms'. "
        );
        let eu = Verifier::new(VerifierConfig {
            region: "eu-west-1".into(),
            ..VerifierConfig::default()
        });
        let err = eu
            .authenticate(&parts, PayloadHash::Body(b""), &store(), "aps", t0())
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Credential should be scoped to a valid region")
        );
        let any = Verifier::new(VerifierConfig {
            region: "eu-west-1".into(),
            any_region: true,
            ..VerifierConfig::default()
        });
        assert!(
            any.authenticate(&parts, PayloadHash::Body(b""), &store(), "aps", t0())
                .await
                .is_ok()
        );
        // IAM is signed for us-east-1 whatever region the server answers for.
        let (mut iam, ()) = Request::post("http://127.0.0.1:9096/")
            .body(())
            .unwrap()
            .into_parts();
        sign_request(
            &mut iam,
            b"",
            &creds("AKIAALICE", None),
            "us-east-1",
            "iam",
            t0(),
        )
        .unwrap();
        assert!(
            eu.authenticate(&iam, PayloadHash::Body(b""), &store(), "iam", t0())
                .await
                .is_ok()
        );
        // A scope date that differs from X-Amz-Date.
        let mut bad = parts.clone();
        let auth = bad.headers["authorization"]
            .to_str()
            .unwrap()
            .replace("/20250101/", "/20250102/");
        bad.headers.insert("authorization", auth.parse().unwrap());
        let err = authenticate(&bad, b"", t0()).await.unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Date in Credential scope does not match"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn requires_authentication_elements() {
        let (bare, ()) = Request::get("http://h/workspaces")
            .body(())
            .unwrap()
            .into_parts();
        let err = authenticate(&bare, b"", t0()).await.unwrap_err();
        assert_eq!(err.aws_code(), "MissingAuthenticationTokenException");
        assert_eq!(
            err.aws_code_for(super::super::Protocol::Query),
            "MissingAuthenticationToken"
        );
        let mut no_date = signed("AKIAALICE", None, t0(), b"");
        no_date.headers.remove("x-amz-date");
        let err = authenticate(&no_date, b"", t0()).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        );
        assert_eq!(err.aws_code(), "IncompleteSignatureException");
        let mut garbage = signed("AKIAALICE", None, t0(), b"");
        garbage.headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 nonsense".parse().unwrap(),
        );
        let err = authenticate(&garbage, b"", t0()).await.unwrap_err();
        assert_eq!(err.aws_code(), "IncompleteSignatureException");
    }

    #[tokio::test]
    async fn requires_security_headers_to_be_signed() {
        let mut parts = signed("ASIATEMP", Some(TOKEN), t0(), b"");
        let auth = parts.headers["authorization"]
            .to_str()
            .unwrap()
            .replace(";x-amz-security-token", "");
        parts.headers.insert("authorization", auth.parse().unwrap());
        let err = authenticate(&parts, b"", t0()).await.unwrap_err();
        assert!(matches!(err, SigV4Error::UnsignedHeader(_)), "{err:?}");
        let mut no_host = signed("AKIAALICE", None, t0(), b"");
        let auth = no_host.headers["authorization"]
            .to_str()
            .unwrap()
            .replace("host;", "");
        no_host
            .headers
            .insert("authorization", auth.parse().unwrap());
        let err = authenticate(&no_host, b"", t0()).await.unwrap_err();
        assert!(
            err.to_string()
                .contains("'Host' or ':authority' must be a 'SignedHeader'")
        );
    }

    #[tokio::test]
    async fn checks_x_amz_content_sha256() {
        let body = b"payload";
        let (mut parts, ()) = Request::put("http://h/workspaces/ws-1/alias")
            .body(())
            .unwrap()
            .into_parts();
        parts
            .headers
            .insert("x-amz-content-sha256", sha256_hex(body).parse().unwrap());
        sign_request(
            &mut parts,
            body,
            &creds("AKIAALICE", None),
            "us-east-1",
            "aps",
            t0(),
        )
        .unwrap();
        assert!(authenticate(&parts, body, t0()).await.is_ok());
        let hash = sha256_hex(body);
        let precomputed = verifier()
            .authenticate(&parts, PayloadHash::Sha256Hex(&hash), &store(), "aps", t0())
            .await;
        assert!(precomputed.is_ok());
        let err = authenticate(&parts, b"other", t0()).await.unwrap_err();
        assert!(matches!(err, SigV4Error::PayloadHashMismatch));

        let (mut unsigned, ()) = Request::put("http://h/x").body(()).unwrap().into_parts();
        unsigned
            .headers
            .insert("x-amz-content-sha256", UNSIGNED_PAYLOAD.parse().unwrap());
        sign_request(
            &mut unsigned,
            b"anything",
            &creds("AKIAALICE", None),
            "us-east-1",
            "aps",
            t0(),
        )
        .unwrap();
        assert!(authenticate(&unsigned, b"whatever", t0()).await.is_ok());
        let strict = Verifier::new(VerifierConfig {
            allow_unsigned_payload: false,
            ..VerifierConfig::default()
        });
        let err = strict
            .authenticate(&unsigned, PayloadHash::Body(b""), &store(), "aps", t0())
            .await
            .unwrap_err();
        assert!(matches!(err, SigV4Error::PayloadHashMismatch));
    }

    #[tokio::test]
    async fn accepts_a_signed_date_header() {
        // Sign with X-Amz-Date, then move the timestamp into a `Date` header and re-sign by hand.
        let secret = SecretKey::new(SECRET);
        let (mut parts, ()) = Request::get("http://h/workspaces")
            .body(())
            .unwrap()
            .into_parts();
        parts.headers.insert("host", "h".parse().unwrap());
        parts
            .headers
            .insert("date", "Wed, 01 Jan 2025 00:00:00 GMT".parse().unwrap());
        let creq = crate::sigv4::canonical_request(
            &SignableRequest::from_parts(&parts),
            UriRules::STANDARD,
            &[],
            "date;host",
            crate::sigv4::EMPTY_PAYLOAD_SHA256,
        );
        let sts = string_to_sign(
            "20250101T000000Z",
            "20250101/us-east-1/aps/aws4_request",
            &creq,
        );
        let key = crate::sigv4::derive_signing_key(&secret, "20250101", "us-east-1", "aps");
        let header = format!(
            "AWS4-HMAC-SHA256 Credential=AKIAALICE/20250101/us-east-1/aps/aws4_request, SignedHeaders=date;host, Signature={}",
            sign(&key, &sts)
        );
        parts
            .headers
            .insert("authorization", header.parse().unwrap());
        assert!(authenticate(&parts, b"", t0()).await.is_ok());
    }

    #[tokio::test]
    async fn verifies_presigned_urls() {
        let secret = SecretKey::new(SECRET);
        let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAALICE%2F20250101%2Fus-east-1%2Faps%2Faws4_request&X-Amz-Date=20250101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host";
        let headers = {
            let mut h = http::HeaderMap::new();
            h.insert("host", "h".parse().unwrap());
            h
        };
        let unsigned = SignableRequest {
            method: "GET",
            path: "/workspaces",
            query: Some(query),
            headers: &headers,
            authority: None,
        };
        let creq = crate::sigv4::canonical_request(
            &unsigned,
            UriRules::STANDARD,
            &[],
            "host",
            crate::sigv4::EMPTY_PAYLOAD_SHA256,
        );
        let sts = string_to_sign(
            "20250101T000000Z",
            "20250101/us-east-1/aps/aws4_request",
            &creq,
        );
        let key = crate::sigv4::derive_signing_key(&secret, "20250101", "us-east-1", "aps");
        let full = format!("{query}&X-Amz-Signature={}", sign(&key, &sts));
        let req = SignableRequest {
            query: Some(&full),
            ..unsigned
        };
        let st = store();
        let v = verifier();
        let ok = v
            .authenticate_signable(
                &req,
                PayloadHash::Body(b""),
                &st,
                "aps",
                t0() + Duration::from_secs(60),
            )
            .await
            .unwrap();
        assert!(ok.verified.presigned);
        let err = v
            .authenticate_signable(
                &req,
                PayloadHash::Body(b""),
                &st,
                "aps",
                t0() + Duration::from_secs(61),
            )
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "Request has expired");
        assert_eq!(err.aws_code(), "AccessDeniedException");
    }
}
