//! The audit key pair that signs digest files.
//!
//! CloudTrail signs digests with RSA (`SHA256withRSA`). ampd uses `ring`, which can verify RSA
//! but cannot generate RSA keys, so the key pair generated on first start is ECDSA P-256 and
//! digests name the algorithm `SHA256withECDSA`. The digest format, the string that is signed and
//! the chain are otherwise CloudTrail's; a verifier only needs the public key and this algorithm.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::{AuditError, AuditResult};
use crate::layout::{sha256_hex, sync_dir, write_atomic};
use crate::timefmt::iso_seconds;

/// Signature algorithm named in digests.
pub const SIGNATURE_ALGORITHM: &str = "SHA256withECDSA";

/// DER prefix of a SubjectPublicKeyInfo holding an uncompressed P-256 point
/// (id-ecPublicKey, prime256v1, BIT STRING of 66 bytes).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

const PRIVATE_KEY_FILE: &str = "audit-signing-key.p8";
const PUBLIC_KEY_FILE: &str = "audit-signing-key.pub.json";

/// A public key that verifies digest signatures, as `ListPublicKeys` would return it.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditPublicKey {
    spki_der: Vec<u8>,
    fingerprint: String,
    validity_start: OffsetDateTime,
}

impl AuditPublicKey {
    /// Builds a key from its SubjectPublicKeyInfo DER; fails unless it is a P-256 key.
    pub fn from_der(spki_der: &[u8], validity_start: OffsetDateTime) -> AuditResult<Self> {
        match spki_der.strip_prefix(&P256_SPKI_PREFIX[..]) {
            Some(point) if point.len() == 65 && point[0] == 0x04 => Ok(Self {
                fingerprint: sha256_hex(spki_der),
                spki_der: spki_der.to_vec(),
                validity_start,
            }),
            _ => Err(AuditError::Key(
                "not an uncompressed P-256 public key".into(),
            )),
        }
    }

    /// Parses a PEM `PUBLIC KEY` block as [`AuditPublicKey::pem`] writes it, e.g. a key
    /// exported earlier and kept apart from the trail; lines outside the block are ignored.
    /// A PEM carries no validity, so the key counts as valid from the epoch.
    pub fn from_pem(pem: &str) -> AuditResult<Self> {
        let body: String = pem
            .lines()
            .skip_while(|l| l.trim() != "-----BEGIN PUBLIC KEY-----")
            .skip(1)
            .take_while(|l| l.trim() != "-----END PUBLIC KEY-----")
            .map(str::trim)
            .collect();
        let der = STANDARD
            .decode(body)
            .map_err(|e| AuditError::Key(format!("PEM public key: {e}")))?;
        Self::from_der(&der, OffsetDateTime::UNIX_EPOCH)
    }

    /// Returns the hex SHA-256 of the DER key, the value digests carry in
    /// `digestPublicKeyFingerprint`.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Returns the SubjectPublicKeyInfo DER.
    pub fn der(&self) -> &[u8] {
        &self.spki_der
    }

    /// Returns the key as a PEM `PUBLIC KEY` block.
    pub fn pem(&self) -> String {
        let b64 = STANDARD.encode(&self.spki_der);
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        pem
    }

    /// Returns the time from which the key signs digests.
    pub fn validity_start(&self) -> OffsetDateTime {
        self.validity_start
    }

    /// Checks an ASN.1 DER ECDSA signature of `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let point = &self.spki_der[P256_SPKI_PREFIX.len()..];
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
            .verify(message, signature)
            .is_ok()
    }
}

impl std::fmt::Debug for AuditPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditPublicKey")
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// What is stored next to the private key so the public half is known without parsing PKCS#8.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublicKeyFile {
    public_key_der: String,
    #[serde(with = "iso_seconds")]
    validity_start: OffsetDateTime,
}

/// The signing key pair; the private half never leaves this type.
pub(crate) struct AuditKeyPair {
    pair: EcdsaKeyPair,
    public: AuditPublicKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for AuditKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKeyPair")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl AuditKeyPair {
    /// Loads the key pair from `dir`, generating it (private key file mode 0600) on first start.
    pub(crate) fn load_or_generate(dir: &Path, now: OffsetDateTime) -> AuditResult<Self> {
        let private_path = dir.join(PRIVATE_KEY_FILE);
        let public_path = dir.join(PUBLIC_KEY_FILE);
        let rng = SystemRandom::new();
        if !private_path
            .try_exists()
            .map_err(AuditError::io(&private_path))?
        {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                .map_err(|_| AuditError::Key("key generation failed".into()))?;
            let pair = parse_pkcs8(pkcs8.as_ref(), &rng)?;
            let spki = [&P256_SPKI_PREFIX[..], pair.public_key().as_ref()].concat();
            let public = PublicKeyFile {
                public_key_der: STANDARD.encode(&spki),
                validity_start: now,
            };
            write_atomic(&public_path, &serde_json::to_vec_pretty(&public)?)?;
            write_private(&private_path, pkcs8.as_ref())?;
            tracing::info!(path = %private_path.display(), "generated audit signing key");
        }
        let meta = fs::metadata(&private_path).map_err(AuditError::io(&private_path))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(AuditError::Key(format!(
                "{} must not be readable by group or others (mode 0600)",
                private_path.display()
            )));
        }
        let pkcs8 = Zeroizing::new(fs::read(&private_path).map_err(AuditError::io(&private_path))?);
        let pair = parse_pkcs8(&pkcs8, &rng)?;
        let public = read_public(&public_path)?;
        if public.der()[P256_SPKI_PREFIX.len()..] != *pair.public_key().as_ref() {
            return Err(AuditError::Key(format!(
                "{} does not match the private key",
                public_path.display()
            )));
        }
        Ok(Self { pair, public, rng })
    }

    /// Returns the public half.
    pub(crate) fn public_key(&self) -> &AuditPublicKey {
        &self.public
    }

    /// Signs `message`, returning an ASN.1 DER ECDSA signature.
    pub(crate) fn sign(&self, message: &[u8]) -> AuditResult<Vec<u8>> {
        self.pair
            .sign(&self.rng, message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| AuditError::Key("signing failed".into()))
    }
}

/// Returns the public keys of the trail in `dir` without touching its private key, e.g. for
/// validating a trail offline.
pub fn trail_public_keys(dir: &Path) -> AuditResult<Vec<AuditPublicKey>> {
    Ok(vec![read_public(&dir.join(PUBLIC_KEY_FILE))?])
}

fn read_public(path: &Path) -> AuditResult<AuditPublicKey> {
    let stored: PublicKeyFile =
        serde_json::from_slice(&fs::read(path).map_err(AuditError::io(path))?)?;
    let der = STANDARD
        .decode(&stored.public_key_der)
        .map_err(|e| AuditError::Key(format!("{}: {e}", path.display())))?;
    AuditPublicKey::from_der(&der, stored.validity_start)
}

fn parse_pkcs8(pkcs8: &[u8], rng: &SystemRandom) -> AuditResult<EcdsaKeyPair> {
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, rng)
        .map_err(|e| AuditError::Key(format!("invalid PKCS#8 key: {e}")))
}

/// Writes the private key created with mode 0600, so it is never readable by others, not even
/// between creation and a later chmod.
fn write_private(path: &Path, pkcs8: &[u8]) -> AuditResult<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{PRIVATE_KEY_FILE}.tmp"));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(AuditError::io(&tmp))?;
    file.write_all(pkcs8).map_err(AuditError::io(&tmp))?;
    file.sync_all().map_err(AuditError::io(&tmp))?;
    fs::rename(&tmp, path).map_err(AuditError::io(path))?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_key_parsing_checks_the_algorithm() {
        let mut der = P256_SPKI_PREFIX.to_vec();
        der.push(0x04);
        der.extend_from_slice(&[7; 64]);
        let key = AuditPublicKey::from_der(&der, OffsetDateTime::UNIX_EPOCH).unwrap();
        assert_eq!(key.fingerprint().len(), 64);
        assert!(
            key.pem()
                .starts_with("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")
        );
        assert!(AuditPublicKey::from_der(&der[1..], OffsetDateTime::UNIX_EPOCH).is_err());
        let exported = format!("# fingerprint\n{}", key.pem());
        assert_eq!(AuditPublicKey::from_pem(&exported).unwrap(), key);
        assert!(AuditPublicKey::from_pem("-----BEGIN PUBLIC KEY-----\n!!\n").is_err());
        assert!(!key.verify(b"m", b"not a signature"));
    }
}
