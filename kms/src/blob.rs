//! The self-describing ciphertext blob returned by Encrypt and GenerateDataKey.
//!
//! Layout (version 1), all integers big-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 2 | magic `AK` |
//! | 1 | format version `1` |
//! | 16 | key id (UUID) |
//! | 4 | key material version |
//! | 12 | random nonce |
//! | n + 16 | AES-256-GCM ciphertext and tag |
//!
//! The AAD is a domain label, the 23 header bytes before the nonce, and the canonical
//! encryption context, so changing any byte or presenting another context fails authentication.

use std::collections::BTreeMap;

use uuid::Uuid;

use zeroize::Zeroizing;

use crate::crypto::{self, KEY_LEN, NONCE_LEN, TAG_LEN};

/// The KMS encryption context: non-secret string pairs bound to a ciphertext as AAD.
pub type EncryptionContext = BTreeMap<String, String>;

const MAGIC: [u8; 2] = *b"AK";
const FORMAT_V1: u8 = 1;
const AAD_LABEL: &[u8] = b"ampd-kms/ciphertext/v1\0";
/// Header bytes before the nonce.
const PREFIX_LEN: usize = 2 + 1 + 16 + 4;
/// Header bytes including the nonce.
const HEADER_LEN: usize = PREFIX_LEN + NONCE_LEN;

/// A parsed ciphertext blob that still has to be authenticated.
#[derive(Debug)]
pub(crate) struct Blob<'a> {
    /// The key the blob was encrypted under.
    pub(crate) key_id: Uuid,
    /// The key material version used.
    pub(crate) version: u32,
    /// The nonce.
    pub(crate) nonce: [u8; NONCE_LEN],
    /// The bytes before the nonce, bound as AAD.
    prefix: &'a [u8],
    /// Ciphertext and tag.
    pub(crate) sealed: &'a [u8],
}

/// The blob header is malformed; reported to clients as `InvalidCiphertextException`.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the ciphertext is not a blob this service produced")]
pub(crate) struct MalformedBlob;

/// Encrypts `plaintext` under material `version` of key `key_id` into a new blob.
pub(crate) fn seal(
    material: &[u8; KEY_LEN],
    key_id: Uuid,
    version: u32,
    context: &EncryptionContext,
    plaintext: &[u8],
) -> Result<Vec<u8>, crypto::CryptoFailure> {
    let prefix = prefix(key_id, version);
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&prefix);
    out.extend_from_slice(&[0u8; NONCE_LEN]);
    let nonce = crypto::seal_append(material, &aad(&prefix, context), plaintext, &mut out)?;
    out[PREFIX_LEN..HEADER_LEN].copy_from_slice(&nonce);
    Ok(out)
}

/// Returns the bytes before the nonce for a new blob.
pub(crate) fn prefix(key_id: Uuid, version: u32) -> [u8; PREFIX_LEN] {
    let mut out = [0u8; PREFIX_LEN];
    out[..2].copy_from_slice(&MAGIC);
    out[2] = FORMAT_V1;
    out[3..19].copy_from_slice(key_id.as_bytes());
    out[19..].copy_from_slice(&version.to_be_bytes());
    out
}

/// Splits a blob into its fields without authenticating it.
pub(crate) fn parse(blob: &[u8]) -> Result<Blob<'_>, MalformedBlob> {
    if blob.len() < HEADER_LEN + TAG_LEN || blob[..2] != MAGIC || blob[2] != FORMAT_V1 {
        return Err(MalformedBlob);
    }
    let (prefix, rest) = blob.split_at(PREFIX_LEN);
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let key_id = Uuid::from_slice(&prefix[3..19]).map_err(|_| MalformedBlob)?;
    let version = u32::from_be_bytes([prefix[19], prefix[20], prefix[21], prefix[22]]);
    Ok(Blob {
        key_id,
        version,
        nonce: nonce.try_into().map_err(|_| MalformedBlob)?,
        prefix,
        sealed,
    })
}

impl Blob<'_> {
    /// Authenticates and decrypts the blob with its key material and the presented context.
    pub(crate) fn open(
        &self,
        material: &[u8; KEY_LEN],
        context: &EncryptionContext,
    ) -> Result<Zeroizing<Vec<u8>>, crypto::OpenFailure> {
        crypto::open(
            material,
            self.nonce,
            &aad(self.prefix, context),
            self.sealed,
        )
    }
}

/// Builds the AAD from the header prefix and the canonical encryption context.
pub(crate) fn aad(prefix: &[u8], context: &EncryptionContext) -> Vec<u8> {
    let mut out = Vec::with_capacity(AAD_LABEL.len() + prefix.len() + 64);
    out.extend_from_slice(AAD_LABEL);
    out.extend_from_slice(prefix);
    canonical_context(context, &mut out);
    out
}

/// Appends the context in a canonical form: pair count, then each pair sorted by key, every
/// string length-prefixed so no two distinct contexts encode alike.
fn canonical_context(context: &EncryptionContext, out: &mut Vec<u8>) {
    // BTreeMap iterates in byte order of the keys, which is the canonical order.
    out.extend_from_slice(&(context.len() as u64).to_be_bytes());
    for (key, value) in context {
        for part in [key, value] {
            out.extend_from_slice(&(part.len() as u64).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn context_encoding_is_order_free_and_unambiguous() {
        let p = prefix(Uuid::nil(), 1);
        assert_eq!(
            aad(&p, &ctx(&[("a", "1"), ("b", "2")])),
            aad(&p, &ctx(&[("b", "2"), ("a", "1")]))
        );
        assert_ne!(aad(&p, &ctx(&[("ab", "c")])), aad(&p, &ctx(&[("a", "bc")])));
        assert_ne!(aad(&p, &ctx(&[("A", "1")])), aad(&p, &ctx(&[("a", "1")])));
        assert_ne!(aad(&p, &ctx(&[])), aad(&p, &ctx(&[("", "")])));
    }

    #[test]
    fn seal_open_binds_context() {
        let material = [3u8; KEY_LEN];
        let context = ctx(&[("aws:aps:arn", "ws-1")]);
        let blob = seal(&material, Uuid::new_v4(), 2, &context, b"secret").unwrap();
        let parsed = parse(&blob).unwrap();
        assert_eq!(parsed.version, 2);
        assert_eq!(&*parsed.open(&material, &context).unwrap(), b"secret");
        assert!(
            parsed
                .open(&material, &ctx(&[("aws:aps:arn", "ws-2")]))
                .is_err()
        );
        assert!(parsed.open(&material, &ctx(&[])).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        #[test]
        fn only_the_same_context_opens(
            a in proptest::collection::btree_map(".{0,8}", ".{0,8}", 0..4),
            b in proptest::collection::btree_map(".{0,8}", ".{0,8}", 0..4),
            plaintext in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
        ) {
            let material = [5u8; KEY_LEN];
            let blob = seal(&material, Uuid::nil(), 1, &a, &plaintext).unwrap();
            let parsed = parse(&blob).unwrap();
            proptest::prop_assert_eq!(&*parsed.open(&material, &a).unwrap(), plaintext.as_slice());
            proptest::prop_assert_eq!(parsed.open(&material, &b).is_ok(), a == b);
        }
    }

    #[test]
    fn header_round_trip() {
        let id = Uuid::new_v4();
        let mut blob = prefix(id, 7).to_vec();
        blob.extend_from_slice(&[9u8; NONCE_LEN]);
        blob.extend_from_slice(&[0u8; TAG_LEN + 3]);
        let parsed = parse(&blob).unwrap();
        assert_eq!(parsed.key_id, id);
        assert_eq!(parsed.version, 7);
        assert_eq!(parsed.nonce, [9u8; NONCE_LEN]);
        assert_eq!(parsed.sealed.len(), TAG_LEN + 3);
        assert!(parse(&blob[..HEADER_LEN + TAG_LEN - 1]).is_err());
        blob[2] = 2;
        assert!(parse(&blob).is_err());
    }
}
