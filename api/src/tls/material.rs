//! Reading the PEM files and turning them into a checked rustls server configuration.

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{InconsistentKeys, RootCertStore, ServerConfig};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::{Sources, TlsError};

/// ALPN protocols offered, preferred first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// SHA-256 over the contents of all files, to notice changes without keeping the key around.
pub(super) type Digest = [u8; 32];

/// The contents of the configured files.
pub(super) struct Files {
    cert: Vec<u8>,
    key: Zeroizing<Vec<u8>>,
    client_ca: Option<Vec<u8>>,
}

impl Files {
    /// Reads every file of `sources`.
    pub(super) async fn read(sources: &Sources) -> Result<Self, TlsError> {
        async fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
            tokio::fs::read(path)
                .await
                .map_err(|source| TlsError::Read {
                    path: path.to_owned(),
                    source,
                })
        }
        Ok(Self {
            cert: read(&sources.cert).await?,
            key: Zeroizing::new(read(&sources.key).await?),
            client_ca: match &sources.client_ca {
                Some(path) => Some(read(path).await?),
                None => None,
            },
        })
    }

    /// Returns the digest of all contents.
    pub(super) fn digest(&self) -> Digest {
        let mut hash = Sha256::new();
        for part in [Some(&self.cert), Some(&*self.key), self.client_ca.as_ref()] {
            // Tagged and length-prefixed, so that neither adding a file nor bytes moving
            // between files can leave the digest unchanged.
            hash.update([u8::from(part.is_some())]);
            let part = part.map_or(&[][..], Vec::as_slice);
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        hash.finalize().into()
    }
}

/// What the logs say about the served certificate.
#[derive(Debug, Clone)]
pub(super) struct Leaf {
    /// Subject distinguished name.
    pub subject: String,
    /// Serial number, colon-separated hex.
    pub serial: String,
    /// End of validity.
    pub not_after: String,
    /// SHA-256 fingerprint of the DER certificate, lowercase hex.
    pub sha256: String,
}

/// A checked configuration, ready to serve.
pub(super) struct Loaded {
    /// The rustls configuration.
    pub config: Arc<ServerConfig>,
    /// The served certificate.
    pub leaf: Leaf,
}

/// Checks the files and builds the server configuration: TLS 1.2 and 1.3 with the ring
/// provider, ALPN `h2` then `http/1.1`, client certificates verified when a CA bundle is set.
pub(super) fn build(sources: &Sources, files: &Files, now: SystemTime) -> Result<Loaded, TlsError> {
    let chain = certificates(&sources.cert, &files.cert)?;
    let leaf = check_leaf(&sources.cert, &chain[0], now)?;
    let key = match PrivateKeyDer::from_pem_slice(&files.key) {
        Ok(key) => key,
        Err(pem::Error::NoItemsFound) => {
            return Err(TlsError::NoKey {
                path: sources.key.clone(),
            });
        }
        Err(e) => {
            return Err(TlsError::Pem {
                path: sources.key.clone(),
                detail: e.to_string(),
            });
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certified = certified_key(sources, chain, key, &provider)?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Rustls)?;
    let builder = match (&sources.client_ca, &files.client_ca) {
        (Some(path), Some(bundle)) => {
            let mut roots = RootCertStore::empty();
            for ca in certificates(path, bundle)? {
                roots.add(ca).map_err(|e| TlsError::Certificate {
                    path: path.clone(),
                    detail: e.to_string(),
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TlsError::ClientCa {
                    path: path.clone(),
                    detail: e.to_string(),
                })?;
            builder.with_client_cert_verifier(verifier)
        }
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Loaded {
        config: Arc::new(config),
        leaf,
    })
}

/// Parses every certificate of a PEM file; at least one must be there.
fn certificates(path: &Path, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// Checks that the server certificate parses and is valid at `now`.
fn check_leaf(path: &Path, der: &CertificateDer<'_>, now: SystemTime) -> Result<Leaf, TlsError> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(der).map_err(|e| TlsError::Certificate {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let validity = cert.validity();
    if validity.not_after.timestamp() < now {
        return Err(TlsError::Expired {
            path: path.to_owned(),
            not_after: validity.not_after.to_string(),
        });
    }
    if validity.not_before.timestamp() > now {
        return Err(TlsError::NotYetValid {
            path: path.to_owned(),
            not_before: validity.not_before.to_string(),
        });
    }
    Ok(Leaf {
        subject: cert.subject().to_string(),
        serial: cert.raw_serial_as_string(),
        not_after: validity.not_after.to_string(),
        sha256: hex::encode(Sha256::digest(der)),
    })
}

/// Pairs the chain with its key, refusing a key that belongs to another certificate.
fn certified_key(
    sources: &Sources,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| TlsError::Key {
            path: sources.key.clone(),
            detail: e.to_string(),
        })?;
    let certified = CertifiedKey::new(chain, signing);
    match certified.keys_match() {
        // Unknown: the key type cannot tell its public half; the handshake will show.
        Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => Ok(certified),
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            Err(TlsError::KeyMismatch {
                cert: sources.cert.clone(),
                key: sources.key.clone(),
            })
        }
        Err(e) => Err(TlsError::Certificate {
            path: sources.cert.clone(),
            detail: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rcgen::{CertificateParams, KeyPair};
    use time::OffsetDateTime;

    use super::*;

    fn sources() -> Sources {
        Sources {
            cert: "server.pem".into(),
            key: "server-key.pem".into(),
            client_ca: None,
        }
    }

    /// A self-signed certificate for localhost valid from `from` to `until`, and its key.
    fn pair(from: OffsetDateTime, until: OffsetDateTime) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.not_before = from;
        params.not_after = until;
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn valid_pair() -> (String, String) {
        let now = OffsetDateTime::now_utc();
        pair(
            now - time::Duration::days(1),
            now + time::Duration::days(30),
        )
    }

    fn files(cert: &str, key: &str) -> Files {
        Files {
            cert: cert.as_bytes().to_vec(),
            key: Zeroizing::new(key.as_bytes().to_vec()),
            client_ca: None,
        }
    }

    fn error(cert: &str, key: &str) -> String {
        match build(&sources(), &files(cert, key), SystemTime::now()) {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_valid_pair_builds_with_alpn_and_both_versions() {
        let (cert, key) = valid_pair();
        let loaded = build(&sources(), &files(&cert, &key), SystemTime::now()).unwrap();
        assert_eq!(
            loaded.config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert_eq!(loaded.leaf.sha256.len(), 64);
        assert!(!loaded.leaf.serial.is_empty());
    }

    #[test]
    fn failures_name_the_file_and_the_problem() {
        let (cert, key) = valid_pair();
        let (_, other_key) = valid_pair();
        assert_eq!(
            error(&cert, &other_key),
            "the private key in server-key.pem does not match the certificate in server.pem"
        );
        assert_eq!(
            error(&key, &key),
            "server.pem holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        );
        assert_eq!(
            error(&cert, &cert),
            "server-key.pem holds no PEM private key (PKCS#8, PKCS#1 or SEC1)"
        );
        assert!(error("", &key).starts_with("server.pem holds no PEM certificate"));
        let broken = cert.replace("-----END CERTIFICATE-----", "");
        assert!(
            error(&broken, &key).starts_with("server.pem is not valid PEM"),
            "{}",
            error(&broken, &key)
        );
        let now = OffsetDateTime::now_utc();
        let (old, old_key) = pair(
            now - time::Duration::days(30),
            now - time::Duration::days(1),
        );
        let message = error(&old, &old_key);
        assert!(
            message.starts_with("the certificate in server.pem expired on "),
            "{message}"
        );
        let (future, future_key) = pair(
            now + time::Duration::days(1),
            now + time::Duration::days(30),
        );
        let message = error(&future, &future_key);
        assert!(
            message.starts_with("the certificate in server.pem is not valid before "),
            "{message}"
        );
    }

    #[test]
    fn expiry_is_judged_at_the_given_time() {
        let (cert, key) = valid_pair();
        let later = SystemTime::now() + Duration::from_secs(60 * 86_400);
        assert!(matches!(
            build(&sources(), &files(&cert, &key), later),
            Err(TlsError::Expired { .. })
        ));
    }

    #[test]
    fn a_client_ca_bundle_without_certificates_is_refused() {
        let (cert, key) = valid_pair();
        let mut sources = sources();
        sources.client_ca = Some("clients.pem".into());
        let mut files = files(&cert, &key);
        files.client_ca = Some(b"nothing here".to_vec());
        let e = build(&sources, &files, SystemTime::now()).err().unwrap();
        assert!(matches!(e, TlsError::NoCertificate { path } if path == Path::new("clients.pem")));
        files.client_ca = Some(cert.into_bytes());
        let loaded = build(&sources, &files, SystemTime::now()).unwrap();
        assert_eq!(loaded.config.alpn_protocols.len(), 2);
    }

    #[test]
    fn the_digest_follows_every_file() {
        let (cert, key) = valid_pair();
        let a = files(&cert, &key);
        let mut b = files(&cert, &key);
        assert_eq!(a.digest(), b.digest());
        b.client_ca = Some(Vec::new());
        assert_ne!(a.digest(), b.digest());
        assert_ne!(a.digest(), files(&key, &cert).digest());
    }
}
