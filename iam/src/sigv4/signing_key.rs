//! Signing-key derivation (SigV4 step 3) and a bounded cache of derived keys.

use std::sync::Arc;

use quick_cache::sync::Cache;
use ring::hmac;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::secret::SecretKey;

/// Derives `kSigning` from the secret and the scope parts.
pub fn derive_signing_key(
    secret: &SecretKey,
    date: &str,
    region: &str,
    service: &str,
) -> Zeroizing<[u8; 32]> {
    let mut seed = Zeroizing::new(Vec::with_capacity(4 + secret.expose().len()));
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.expose().as_bytes());
    let k_date = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &seed), date.as_bytes());
    let k_region = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, k_date.as_ref()),
        region.as_bytes(),
    );
    let k_service = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, k_region.as_ref()),
        service.as_bytes(),
    );
    let k_signing = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, k_service.as_ref()),
        b"aws4_request",
    );
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(k_signing.as_ref());
    out
}

/// Returns the hex signature of `string_to_sign` under `signing_key`.
pub fn sign(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, signing_key);
    hex::encode(hmac::sign(&key, string_to_sign.as_bytes()))
}

/// One cached derivation, remembering the secret it came from so that a rotated or replaced
/// secret never reuses a stale key.
struct CachedKey {
    secret: SecretKey,
    key: Zeroizing<[u8; 32]>,
}

/// A bounded, thread-safe cache of signing keys keyed by the `Credential` value
/// (`<key id>/<date>/<region>/<service>/aws4_request`), i.e. per key, day, region and service.
pub struct SigningKeyCache {
    entries: Cache<String, Arc<CachedKey>>,
}

impl std::fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyCache")
            .field("len", &self.entries.len())
            .finish()
    }
}

impl SigningKeyCache {
    /// Creates a cache holding at most `capacity` keys.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Cache::new(capacity.max(1)),
        }
    }

    /// Returns the signing key for `credential`, deriving and caching it on a miss.
    pub fn get_or_derive(
        &self,
        credential: &str,
        secret: &SecretKey,
        date: &str,
        region: &str,
        service: &str,
    ) -> Zeroizing<[u8; 32]> {
        if let Some(hit) = self.entries.get(credential) {
            let same_secret: bool = hit
                .secret
                .expose()
                .as_bytes()
                .ct_eq(secret.expose().as_bytes())
                .into();
            if same_secret {
                return hit.key.clone();
            }
        }
        let key = derive_signing_key(secret, date, region, service);
        self.entries.insert(
            credential.to_owned(),
            Arc::new(CachedKey {
                secret: secret.clone(),
                key: key.clone(),
            }),
        );
        key
    }

    /// Returns the number of cached keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    #[test]
    fn derives_the_documented_key() {
        // IAM user guide example: secret above, 20150830/us-east-1/iam.
        let key = derive_signing_key(&SecretKey::new(SECRET), "20150830", "us-east-1", "iam");
        assert_eq!(
            hex::encode(*key),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
    }

    #[test]
    fn cache_reuses_keys_and_notices_new_secrets() {
        let cache = SigningKeyCache::new(4);
        let cred = "AKID/20150830/us-east-1/iam/aws4_request";
        let first = cache.get_or_derive(
            cred,
            &SecretKey::new(SECRET),
            "20150830",
            "us-east-1",
            "iam",
        );
        assert_eq!(cache.len(), 1);
        let again = cache.get_or_derive(
            cred,
            &SecretKey::new(SECRET),
            "20150830",
            "us-east-1",
            "iam",
        );
        assert_eq!(*first, *again);
        let other = cache.get_or_derive(
            cred,
            &SecretKey::new("other"),
            "20150830",
            "us-east-1",
            "iam",
        );
        assert_ne!(*first, *other);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn cache_is_bounded() {
        let cache = SigningKeyCache::new(8);
        for i in 0..100 {
            let cred = format!("AKID{i}/20150830/us-east-1/aps/aws4_request");
            cache.get_or_derive(
                &cred,
                &SecretKey::new(SECRET),
                "20150830",
                "us-east-1",
                "aps",
            );
        }
        assert!(cache.len() <= 8, "{}", cache.len());
    }
}
