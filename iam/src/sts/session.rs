//! Temporary credentials whose session token is the sealed session.
//!
//! A session token is `base64(version || nonce || AES-256-GCM(claims + secret))` with the
//! access key id as additional data. Sealing the session into its own token, rather than
//! storing sessions, means that secrets of temporary keys are never written anywhere (they
//! exist only inside the client's token, encrypted), that expired sessions need no cleanup,
//! and that every node sharing the root key accepts every session. The price is AWS's too: a
//! session cannot be revoked on its own, only through the policies of its role.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::principal::{Principal, PrincipalKind};
use crate::secret::{
    AccessKeyKind, SecretKey, SessionToken, generate_access_key_id, generate_secret_key,
};

/// Format version of session tokens, the first byte before encoding.
const TOKEN_VERSION: u8 = 1;

/// Why a session could not be issued or opened.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The token is malformed, tampered with, sealed under another key, or not the one of this
    /// access key id.
    #[error("the security token included in the request is invalid")]
    InvalidToken,
    /// A cryptographic primitive or the random generator failed.
    #[error("session sealing failed")]
    Crypto,
}

/// Who a session acts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionIdentity {
    /// `GetSessionToken` of the account root user.
    Root,
    /// `GetSessionToken` of an IAM user: the session acts as the user.
    User {
        /// The user's name.
        name: String,
    },
    /// A role session (`AssumeRole`, `AssumeRoleWithWebIdentity`).
    AssumedRole {
        /// ARN of the role (`arn:aws:iam::<acct>:role/<path><name>`).
        role_arn: String,
        /// The role's unique id (`AROA…`).
        role_id: String,
        /// The role's name.
        role_name: String,
        /// `RoleSessionName`.
        session_name: String,
    },
}

/// Everything a session carries; sealed into its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// Who the session acts as.
    pub identity: SessionIdentity,
    /// Issue time, seconds since the Unix epoch.
    pub issued_at: u64,
    /// Expiry, seconds since the Unix epoch.
    pub expires_at: u64,
    /// Inline session policy (`Policy`), as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Managed session policies (`PolicyArns`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_arns: Vec<String>,
    /// Session tags (become `aws:PrincipalTag/*`, over the role's own tags).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// `SourceIdentity`, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
}

impl SessionClaims {
    /// Creates claims for `identity`, valid for `duration` from `now`.
    pub fn new(identity: SessionIdentity, now: SystemTime, duration: Duration) -> Self {
        let issued_at = epoch_secs(now);
        Self {
            identity,
            issued_at,
            expires_at: issued_at.saturating_add(duration.as_secs()),
            policy: None,
            policy_arns: Vec::new(),
            tags: BTreeMap::new(),
            source_identity: None,
        }
    }

    /// Returns when the session expires.
    pub fn expiration(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.expires_at)
    }

    /// Returns whether session policies narrow the session.
    pub fn has_session_policies(&self) -> bool {
        self.policy.is_some() || !self.policy_arns.is_empty()
    }

    /// Returns the session principal of a role session in `account_id`
    /// (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`, user id `AROA…:<session>`), its
    /// tags being the session tags; `None` for user and root sessions.
    pub fn assumed_role_principal(&self, account_id: &str) -> Option<Principal> {
        let SessionIdentity::AssumedRole {
            role_arn,
            role_id,
            role_name,
            session_name,
        } = &self.identity
        else {
            return None;
        };
        Some(Principal {
            account_id: account_id.to_owned(),
            arn: format!("arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}"),
            user_id: format!("{role_id}:{session_name}"),
            user_name: None,
            kind: PrincipalKind::AssumedRole {
                role_arn: role_arn.clone(),
                session_name: session_name.clone(),
            },
            tags: self.tags.clone(),
        })
    }
}

/// Seconds since the Unix epoch (0 before it).
fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A freshly issued set of temporary credentials.
#[derive(Debug, Clone)]
pub struct TemporaryCredentials {
    /// `ASIA…` access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret: SecretKey,
    /// The session token (`X-Amz-Security-Token`).
    pub token: SessionToken,
    /// When the credentials stop working.
    pub expiration: SystemTime,
}

/// The plaintext inside a token.
#[derive(Serialize, Deserialize)]
struct Sealed<'a> {
    #[serde(borrow)]
    secret: std::borrow::Cow<'a, str>,
    claims: SessionClaims,
}

/// Issues and opens session tokens under one 256-bit key.
pub struct SessionSealer {
    key: LessSafeKey,
}

impl fmt::Debug for SessionSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionSealer(<redacted>)")
    }
}

impl SessionSealer {
    /// Creates a sealer with `key` (derive it from the root key for this purpose only).
    pub fn new(key: &[u8; 32]) -> Result<Self, SessionError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key).map_err(|_| SessionError::Crypto)?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
        })
    }

    /// Issues temporary credentials for `claims`: a new `ASIA…` key id, a new secret, and the
    /// token sealing both the claims and the secret.
    pub fn issue(&self, claims: SessionClaims) -> Result<TemporaryCredentials, SessionError> {
        let access_key_id =
            generate_access_key_id(AccessKeyKind::Temporary).map_err(|_| SessionError::Crypto)?;
        let secret = generate_secret_key().map_err(|_| SessionError::Crypto)?;
        let expiration = claims.expiration();
        let plain = Zeroizing::new(
            serde_json::to_vec(&Sealed {
                secret: secret.expose().into(),
                claims,
            })
            .map_err(|_| SessionError::Crypto)?,
        );
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SessionError::Crypto)?;
        let mut body = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(access_key_id.as_bytes()),
                &mut body,
            )
            .map_err(|_| SessionError::Crypto)?;
        let mut raw = Vec::with_capacity(1 + NONCE_LEN + body.len());
        raw.push(TOKEN_VERSION);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&body);
        Ok(TemporaryCredentials {
            access_key_id,
            secret,
            token: SessionToken::new(STANDARD.encode(raw)),
            expiration,
        })
    }

    /// Opens the token presented with `access_key_id`; returns the session and its secret.
    /// Expiry is not checked here: the SigV4 verifier compares it with its clock.
    pub fn open(
        &self,
        access_key_id: &str,
        token: &str,
    ) -> Result<(SessionClaims, SecretKey), SessionError> {
        let raw = STANDARD
            .decode(token.trim())
            .map_err(|_| SessionError::InvalidToken)?;
        let (&version, rest) = raw.split_first().ok_or(SessionError::InvalidToken)?;
        if version != TOKEN_VERSION {
            return Err(SessionError::InvalidToken);
        }
        let (nonce, body) = rest
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(SessionError::InvalidToken)?;
        let mut buf = Zeroizing::new(body.to_vec());
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(access_key_id.as_bytes()),
                &mut buf,
            )
            .map_err(|_| SessionError::InvalidToken)?;
        let sealed: Sealed<'_> =
            serde_json::from_slice(plain).map_err(|_| SessionError::InvalidToken)?;
        Ok((sealed.claims, SecretKey::new(sealed.secret.into_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role_claims() -> SessionClaims {
        let mut c = SessionClaims::new(
            SessionIdentity::AssumedRole {
                role_arn: "arn:aws:iam::123456789012:role/ops/writer".into(),
                role_id: "AROAEXAMPLEROLEID0001".into(),
                role_name: "writer".into(),
                session_name: "pod-1".into(),
            },
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            Duration::from_secs(900),
        );
        c.tags.insert("team".into(), "obs".into());
        c.policy = Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into());
        c
    }

    #[test]
    fn tokens_round_trip_and_bind_the_key_id() {
        let sealer = SessionSealer::new(&[7; 32]).unwrap();
        let creds = sealer.issue(role_claims()).unwrap();
        assert!(creds.access_key_id.starts_with("ASIA"));
        assert_eq!(creds.access_key_id.len(), 20);
        assert_eq!(
            creds.expiration,
            UNIX_EPOCH + Duration::from_secs(1_700_000_900)
        );
        let (claims, secret) = sealer
            .open(&creds.access_key_id, creds.token.expose())
            .unwrap();
        assert_eq!(claims, role_claims());
        assert_eq!(secret, creds.secret);
        // The secret never shows in the token.
        assert!(!creds.token.expose().contains(creds.secret.expose()));
        // Another key id, another sealing key, a flipped byte: all refused.
        assert!(
            sealer
                .open("ASIAOTHERKEYID000000", creds.token.expose())
                .is_err()
        );
        let other = SessionSealer::new(&[8; 32]).unwrap();
        assert!(
            other
                .open(&creds.access_key_id, creds.token.expose())
                .is_err()
        );
        let mut raw = STANDARD.decode(creds.token.expose()).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert!(
            sealer
                .open(&creds.access_key_id, &STANDARD.encode(raw))
                .is_err()
        );
        assert!(sealer.open(&creds.access_key_id, "not base64!").is_err());
        assert!(sealer.open(&creds.access_key_id, "").is_err());
    }

    #[test]
    fn role_sessions_have_the_assumed_role_principal() {
        let claims = role_claims();
        let p = claims.assumed_role_principal("123456789012").unwrap();
        assert_eq!(p.arn, "arn:aws:sts::123456789012:assumed-role/writer/pod-1");
        assert_eq!(p.user_id, "AROAEXAMPLEROLEID0001:pod-1");
        assert_eq!(
            p.role_arn(),
            Some("arn:aws:iam::123456789012:role/ops/writer")
        );
        assert_eq!(p.principal_type(), "AssumedRole");
        assert_eq!(p.tags.get("team").map(String::as_str), Some("obs"));
        assert!(claims.has_session_policies());
        let user = SessionClaims::new(
            SessionIdentity::User {
                name: "alice".into(),
            },
            UNIX_EPOCH,
            Duration::from_secs(900),
        );
        assert!(user.assumed_role_principal("123456789012").is_none());
        assert!(!user.has_session_policies());
    }

    #[test]
    fn debug_does_not_show_secrets() {
        let sealer = SessionSealer::new(&[7; 32]).unwrap();
        let creds = sealer.issue(role_claims()).unwrap();
        let shown = format!("{creds:?} {sealer:?}");
        assert!(!shown.contains(creds.secret.expose()));
        assert!(!shown.contains(creds.token.expose()));
    }
}
