//! TLS on the ampd listener.
//!
//! With `--tls-cert`/`--tls-key` (or `--tls-self-signed`) the one listener speaks HTTPS only:
//! TLS 1.2 and 1.3 through rustls with the ring provider, HTTP/1.1 and HTTP/2 offered by ALPN,
//! and, with `--tls-client-ca`, client certificates verified against a CA bundle (mTLS). The
//! certificate, key and client CA are checked before the server starts; every error names the
//! file and the problem ([`TlsError`]). SIGHUP, or a change of any of the files, loads them again
//! for new handshakes, while open connections keep the certificate they were made with; a
//! reload that fails keeps the current certificate and logs why.
//!
//! Serving goes through axum-server rather than an accept loop of our own over hyper-util and
//! tokio-rustls: it is maintained alongside axum, swaps the rustls configuration atomically for
//! new handshakes, bounds the handshake time, keeps axum's `ConnectInfo` and shuts down
//! gracefully, and it tags every request of a TLS connection with its `TlsInfo`, which
//! [`is_secure`] turns into `aws:SecureTransport`. The plain listener stays on `axum::serve`.

mod material;
mod reload;
mod self_signed;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::config::ConfigError;

/// The `[tls]` section of the configuration; TLS is on when a certificate is configured or
/// `self_signed` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM file with the server certificate, then any intermediates.
    #[serde(default)]
    pub cert: Option<PathBuf>,
    /// PEM file with the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// PEM bundle of CAs client certificates must chain to; unset: no client certificates.
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
    /// Generates a local CA and a server certificate into `<data_dir>/tls/` (kept across
    /// restarts); clients trust `<data_dir>/tls/ca.pem`.
    #[serde(default)]
    pub self_signed: bool,
    /// Refuses to start unless TLS is configured.
    #[serde(default)]
    pub require: bool,
    /// How often the files are checked for changes, in milliseconds; 0 reloads on SIGHUP only.
    #[serde(default = "default_reload_interval_ms")]
    pub reload_interval_ms: u64,
}

fn default_reload_interval_ms() -> u64 {
    2000
}

impl Default for TlsSettings {
    fn default() -> Self {
        Self {
            cert: None,
            key: None,
            client_ca: None,
            self_signed: false,
            require: false,
            reload_interval_ms: default_reload_interval_ms(),
        }
    }
}

impl TlsSettings {
    /// Tells whether the listener serves TLS.
    pub fn enabled(&self) -> bool {
        self.cert.is_some() || self.self_signed
    }

    /// Checks that the settings go together (the files themselves are checked at start).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, message: &str| {
            Err(ConfigError::Invalid {
                field,
                message: message.into(),
            })
        };
        if self.cert.is_some() != self.key.is_some() {
            return invalid("tls.cert", "give the certificate and its key together");
        }
        if self.self_signed && self.cert.is_some() {
            return invalid(
                "tls.self_signed",
                "use either a generated certificate or tls.cert/tls.key, not both",
            );
        }
        if self.client_ca.is_some() && !self.enabled() {
            return invalid(
                "tls.client_ca",
                "client certificates need TLS: set tls.cert/tls.key or tls.self_signed",
            );
        }
        if self.require && !self.enabled() {
            return invalid(
                "tls.require",
                "TLS is required but not configured: set tls.cert/tls.key or tls.self_signed",
            );
        }
        if self.reload_interval_ms > 0 && self.reload_interval_ms < 100 {
            return invalid("tls.reload_interval_ms", "must be 0 or at least 100");
        }
        Ok(())
    }
}

/// Why TLS cannot be set up; each names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A file is not well-formed PEM.
    #[error("{} is not valid PEM: {detail}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A file expected to hold certificates holds none.
    #[error("{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds no private key.
    #[error("{} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)", path.display())]
    NoKey {
        /// The file.
        path: PathBuf,
    },
    /// A certificate cannot be parsed or used.
    #[error("{} holds an unusable certificate: {detail}", path.display())]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The private key cannot be used for TLS.
    #[error("{} holds an unusable private key: {detail}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The server certificate has expired.
    #[error("the certificate in {} expired on {not_after}", path.display())]
    Expired {
        /// The certificate file.
        path: PathBuf,
        /// Its `notAfter`.
        not_after: String,
    },
    /// The server certificate is not valid yet.
    #[error("the certificate in {} is not valid before {not_before}", path.display())]
    NotYetValid {
        /// The certificate file.
        path: PathBuf,
        /// Its `notBefore`.
        not_before: String,
    },
    /// The private key belongs to another certificate.
    #[error("the private key in {} does not match the certificate in {}", key.display(), cert.display())]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// The client CA bundle cannot verify client certificates.
    #[error("cannot verify client certificates with {}: {detail}", path.display())]
    ClientCa {
        /// The CA bundle.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The self-signed certificate or its CA could not be generated or written.
    #[error("cannot prepare the self-signed certificate in {}: {detail}", path.display())]
    SelfSigned {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// rustls refused the configuration.
    #[error("cannot configure TLS: {0}")]
    Rustls(#[source] rustls::Error),
}

/// The files a TLS listener is configured from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sources {
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
}

/// The TLS side of the listener: the rustls configuration served and where it comes from.
#[derive(Debug)]
pub(crate) struct TlsListener {
    config: RustlsConfig,
    sources: Sources,
    digest: material::Digest,
    reload_interval: Duration,
}

impl TlsListener {
    /// Loads and checks the certificate, key and client CA, generating the self-signed ones
    /// first when asked to; returns `None` when TLS is off.
    pub(crate) async fn load(
        settings: &TlsSettings,
        data_dir: &Path,
        addr: SocketAddr,
    ) -> Result<Option<Self>, TlsError> {
        let sources = match (&settings.cert, &settings.key) {
            (Some(cert), Some(key)) => Sources {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: settings.client_ca.clone(),
            },
            _ if settings.self_signed => {
                let dir = data_dir.join(self_signed::DIR);
                let ip = addr.ip();
                let generated = tokio::task::spawn_blocking(move || self_signed::ensure(&dir, ip))
                    .await
                    .map_err(|e| TlsError::SelfSigned {
                        path: data_dir.join(self_signed::DIR),
                        detail: e.to_string(),
                    })??;
                Sources {
                    cert: generated.cert,
                    key: generated.key,
                    client_ca: settings.client_ca.clone(),
                }
            }
            _ => return Ok(None),
        };
        let files = material::Files::read(&sources).await?;
        let loaded = material::build(&sources, &files, SystemTime::now())?;
        tracing::info!(
            cert = %sources.cert.display(), serial = %loaded.leaf.serial,
            not_after = %loaded.leaf.not_after, sha256 = %loaded.leaf.sha256,
            client_ca = ?sources.client_ca, "serving TLS with the certificate of {}", loaded.leaf.subject
        );
        Ok(Some(Self {
            config: RustlsConfig::from_config(loaded.config),
            digest: files.digest(),
            sources,
            reload_interval: Duration::from_millis(settings.reload_interval_ms),
        }))
    }

    /// Serves `app` over TLS on `listener` until `shutdown` resolves, then lets open
    /// connections finish their requests; reloads the certificate meanwhile.
    pub(crate) async fn serve(
        self,
        listener: TcpListener,
        app: IntoMakeServiceWithConnectInfo<Router, SocketAddr>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let reloader = tokio::spawn(reload::watch(
            self.sources,
            self.config.clone(),
            self.reload_interval,
            self.digest,
        ));
        let handle = axum_server::Handle::<SocketAddr>::new();
        let stopping = handle.clone();
        let stopper = tokio::spawn(async move {
            shutdown.await;
            stopping.graceful_shutdown(None);
        });
        let served = axum_server::Server::from_listener(listener)
            .acceptor(RustlsAcceptor::new(self.config))
            .handle(handle)
            .accept_error_handler(|peer, e| {
                // Failed handshakes are the client's business (no trust in our CA, no or a
                // wrong client certificate), so they are not worth more than a debug line.
                tracing::debug!(peer = ?peer, error = %e, "tls handshake failed: {e}");
            })
            .serve(app)
            .await;
        reloader.abort();
        stopper.abort();
        served
    }
}

/// Tells whether a request arrived over TLS: the TLS acceptor attaches the connection's
/// `TlsInfo` to every request it carries, the plain listener nothing.
pub(crate) fn is_secure(extensions: &http::Extensions) -> bool {
    extensions.get::<Arc<axum_server::tls::TlsInfo>>().is_some()
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use rustls::pki_types::ServerName;

    use super::*;
    use crate::config::Config;

    /// Opens a TLS connection with protocol `version` offering `alpn`, handshake done.
    fn connect(
        addr: SocketAddr,
        ca: &rustls::pki_types::CertificateDer<'static>,
        version: &'static rustls::SupportedProtocolVersion,
        alpn: &[u8],
    ) -> rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![alpn.to_vec()];
        let name = ServerName::try_from("localhost").unwrap();
        let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let mut stream =
            rustls::StreamOwned::new(conn, std::net::TcpStream::connect(addr).unwrap());
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock).unwrap();
        }
        stream
    }

    #[tokio::test]
    async fn serves_tls12_and_13_http2_and_http1_and_stops_gracefully() {
        let dir = tempfile::tempdir().unwrap();
        let mut ca_params = CertificateParams::default();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        let config = Config {
            data_dir: dir.path().join("data"),
            tls: TlsSettings {
                cert: Some(cert_path),
                key: Some(key_path),
                ..TlsSettings::default()
            },
            ..Config::default()
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(crate::server::serve(config, listener, async {
            let _ = stopped.await;
        }));
        let ca = ca.der().clone();
        tokio::task::spawn_blocking(move || {
            let mut h1 = connect(addr, &ca, &rustls::version::TLS12, b"http/1.1");
            assert_eq!(h1.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
            assert_eq!(
                h1.conn.protocol_version(),
                Some(rustls::ProtocolVersion::TLSv1_2)
            );
            h1.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut response = String::new();
            // The server closes without close_notify once the response is sent.
            let _ = h1.read_to_string(&mut response);
            assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");

            let mut h2 = connect(addr, &ca, &rustls::version::TLS13, b"h2");
            assert_eq!(h2.conn.alpn_protocol(), Some(&b"h2"[..]));
            assert_eq!(
                h2.conn.protocol_version(),
                Some(rustls::ProtocolVersion::TLSv1_3)
            );
            // Client preface and an empty SETTINGS frame; the server answers with SETTINGS.
            h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
                .unwrap();
            let mut frame = [0u8; 9];
            h2.read_exact(&mut frame).unwrap();
            assert_eq!(frame[3], 0x04, "first server frame is SETTINGS");
        })
        .await
        .unwrap();
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    }

    #[test]
    fn settings_must_go_together() {
        let ok = TlsSettings {
            cert: Some("c.pem".into()),
            key: Some("k.pem".into()),
            client_ca: Some("ca.pem".into()),
            require: true,
            ..TlsSettings::default()
        };
        ok.validate().unwrap();
        assert!(ok.enabled());
        let self_signed = TlsSettings {
            self_signed: true,
            require: true,
            ..TlsSettings::default()
        };
        self_signed.validate().unwrap();
        for (bad, field) in [
            (
                TlsSettings {
                    cert: Some("c.pem".into()),
                    ..TlsSettings::default()
                },
                "tls.cert",
            ),
            (
                TlsSettings {
                    self_signed: true,
                    ..ok.clone()
                },
                "tls.self_signed",
            ),
            (
                TlsSettings {
                    client_ca: Some("ca.pem".into()),
                    ..TlsSettings::default()
                },
                "tls.client_ca",
            ),
            (
                TlsSettings {
                    require: true,
                    ..TlsSettings::default()
                },
                "tls.require",
            ),
            (
                TlsSettings {
                    reload_interval_ms: 5,
                    ..ok.clone()
                },
                "tls.reload_interval_ms",
            ),
        ] {
            match bad.validate() {
                Err(ConfigError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert!(!TlsSettings::default().enabled());
    }

    #[test]
    fn only_requests_tagged_by_the_tls_acceptor_are_secure() {
        let mut extensions = http::Extensions::new();
        assert!(!is_secure(&extensions));
        extensions.insert(Arc::new(axum_server::tls::TlsInfo::default()));
        assert!(is_secure(&extensions));
    }
}
