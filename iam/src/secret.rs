//! Secret wrappers and generation of access key ids and secret keys.

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Characters AWS uses in access key ids after the four-letter prefix.
const KEY_ID_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Characters AWS uses in secret access keys (base64 alphabet).
const SECRET_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

macro_rules! secret_string {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// Wraps a secret value; the original `String` is moved, not copied.
            pub fn new(value: impl Into<String>) -> Self {
                Self(Zeroizing::new(value.into()))
            }

            /// Returns the secret value. This is the only way to read it.
            pub fn expose(&self) -> &str {
                self.0.as_str()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!($label, "(<redacted>)"))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
            }
        }

        impl Eq for $name {}

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }
    };
}

secret_string!(
    /// A secret access key. `Debug` redacts it, equality is constant-time and the bytes are
    /// zeroized on drop.
    SecretKey,
    "SecretKey"
);

secret_string!(
    /// An STS session token (`X-Amz-Security-Token`), handled like a [`SecretKey`].
    SessionToken,
    "SessionToken"
);

impl SessionToken {
    /// Compares the token with a value taken from a request, in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

/// Whether an access key is long-term (`AKIA…`) or belongs to an STS session (`ASIA…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKeyKind {
    /// An IAM user's access key.
    LongTerm,
    /// A temporary key issued with a session token.
    Temporary,
}

impl AccessKeyKind {
    /// Returns the four-letter prefix of key ids of this kind.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::LongTerm => "AKIA",
            Self::Temporary => "ASIA",
        }
    }

    /// Guesses the kind from a key id's prefix.
    pub fn of(access_key_id: &str) -> Option<Self> {
        if access_key_id.starts_with("AKIA") {
            Some(Self::LongTerm)
        } else if access_key_id.starts_with("ASIA") {
            Some(Self::Temporary)
        } else {
            None
        }
    }
}

/// The kind of IAM entity a unique id (`UserId`, `RoleId`, …) is generated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueIdKind {
    /// IAM user (`AIDA…`).
    User,
    /// IAM role (`AROA…`).
    Role,
    /// IAM group (`AGPA…`).
    Group,
    /// Managed policy (`ANPA…`).
    Policy,
}

impl UniqueIdKind {
    /// Returns the four-letter prefix AWS uses for this kind.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::User => "AIDA",
            Self::Role => "AROA",
            Self::Group => "AGPA",
            Self::Policy => "ANPA",
        }
    }
}

/// Random generation failed (the operating system's CSPRNG is unavailable).
#[derive(Debug, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RandomError;

/// Returns a new access key id: the prefix of `kind` and 16 random characters (20 in all).
pub fn generate_access_key_id(kind: AccessKeyKind) -> Result<String, RandomError> {
    let mut id = String::with_capacity(20);
    id.push_str(kind.prefix());
    id.push_str(&random_chars(KEY_ID_ALPHABET, 16)?);
    Ok(id)
}

/// Returns a new unique id: the prefix of `kind` and 17 random characters (21 in all, like
/// AWS's `AIDA…`/`AROA…` ids).
pub fn generate_unique_id(kind: UniqueIdKind) -> Result<String, RandomError> {
    Ok(format!(
        "{}{}",
        kind.prefix(),
        random_chars(KEY_ID_ALPHABET, 17)?
    ))
}

/// Returns a new 40-character secret access key.
pub fn generate_secret_key() -> Result<SecretKey, RandomError> {
    Ok(SecretKey(Zeroizing::new(random_chars(
        SECRET_ALPHABET,
        40,
    )?)))
}

/// Returns a new opaque session token (base64 alphabet, 172 characters ≈ 128 random bytes).
pub fn generate_session_token() -> Result<SessionToken, RandomError> {
    Ok(SessionToken(Zeroizing::new(random_chars(
        SECRET_ALPHABET,
        172,
    )?)))
}

/// Draws `len` characters from `alphabet` (whose length is a power of two, so masking a random
/// byte keeps the distribution uniform).
fn random_chars(alphabet: &[u8], len: usize) -> Result<String, RandomError> {
    debug_assert!(alphabet.len().is_power_of_two() && alphabet.len() <= 256);
    let mask = alphabet.len() - 1;
    let mut bytes = Zeroizing::new(vec![0u8; len]);
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| RandomError)?;
    Ok(bytes
        .iter()
        .map(|b| char::from(alphabet[usize::from(*b) & mask]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let key = SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let token = SessionToken::new("token-value");
        assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
        assert_eq!(format!("{token:?}"), "SessionToken(<redacted>)");
        assert_eq!(key.expose(), "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    }

    #[test]
    fn equality_compares_contents() {
        assert_eq!(SecretKey::new("abc"), SecretKey::new("abc"));
        assert_ne!(SecretKey::new("abc"), SecretKey::new("abd"));
        assert_ne!(SecretKey::new("abc"), SecretKey::new("abcd"));
        assert!(SessionToken::new("t1").matches("t1"));
        assert!(!SessionToken::new("t1").matches("t2"));
    }

    #[test]
    fn generated_ids_have_aws_shape() {
        let long = generate_access_key_id(AccessKeyKind::LongTerm).unwrap();
        let temp = generate_access_key_id(AccessKeyKind::Temporary).unwrap();
        assert_eq!(long.len(), 20);
        assert!(long.starts_with("AKIA"));
        assert!(temp.starts_with("ASIA"));
        assert!(long[4..].bytes().all(|b| KEY_ID_ALPHABET.contains(&b)));
        assert_eq!(AccessKeyKind::of(&temp), Some(AccessKeyKind::Temporary));
        assert_ne!(
            long,
            generate_access_key_id(AccessKeyKind::LongTerm).unwrap()
        );
    }

    #[test]
    fn generated_unique_ids_have_aws_shape() {
        for (kind, prefix) in [
            (UniqueIdKind::User, "AIDA"),
            (UniqueIdKind::Role, "AROA"),
            (UniqueIdKind::Group, "AGPA"),
            (UniqueIdKind::Policy, "ANPA"),
        ] {
            let id = generate_unique_id(kind).unwrap();
            assert_eq!(id.len(), 21);
            assert!(id.starts_with(prefix));
        }
    }

    #[test]
    fn generated_secrets_have_aws_shape() {
        let secret = generate_secret_key().unwrap();
        assert_eq!(secret.expose().len(), 40);
        assert!(
            secret
                .expose()
                .bytes()
                .all(|b| SECRET_ALPHABET.contains(&b))
        );
        assert_ne!(secret, generate_secret_key().unwrap());
        assert_eq!(generate_session_token().unwrap().expose().len(), 172);
    }
}
