//! `--tls-self-signed`: a local CA and a server certificate it signs, kept in the data folder.
//!
//! Clients are given the CA (`ca.pem`) rather than the server certificate, so that the server
//! certificate can be issued again (another listen address, close to expiry) without clients
//! changing what they trust. Both are reused on restart.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::X509Certificate;

use super::TlsError;

/// Folder of the generated files, under the data folder.
pub(super) const DIR: &str = "tls";
/// The CA clients trust.
const CA_FILE: &str = "ca.pem";
const CA_KEY_FILE: &str = "ca-key.pem";
const CERT_FILE: &str = "server.pem";
const KEY_FILE: &str = "server-key.pem";

/// How long the generated CA is valid.
const CA_VALIDITY: Duration = Duration::days(3650);
/// How long a server certificate is valid: the most that browsers and Apple clients accept.
const CERT_VALIDITY: Duration = Duration::days(397);
/// A server certificate closer than this to its end is issued again at start.
const RENEW_BEFORE: Duration = Duration::days(30);
/// Back-dating of `notBefore`, for clients whose clock is a little behind.
const CLOCK_SKEW: Duration = Duration::hours(1);

/// The server certificate and key to serve.
#[derive(Debug)]
pub(super) struct Generated {
    /// PEM certificate file.
    pub cert: PathBuf,
    /// PEM key file.
    pub key: PathBuf,
}

/// Makes sure `dir` holds a CA and a server certificate for `localhost`, the loopback
/// addresses and `ip` (unless unspecified), valid for at least [`RENEW_BEFORE`]; creates what
/// is missing or no longer fits.
pub(super) fn ensure(dir: &Path, ip: IpAddr) -> Result<Generated, TlsError> {
    ensure_at(dir, ip, OffsetDateTime::now_utc())
}

fn ensure_at(dir: &Path, ip: IpAddr, now: OffsetDateTime) -> Result<Generated, TlsError> {
    std::fs::create_dir_all(dir).map_err(|e| failed(dir, e))?;
    let (ca_path, ca_key_path) = (dir.join(CA_FILE), dir.join(CA_KEY_FILE));
    let generated = Generated {
        cert: dir.join(CERT_FILE),
        key: dir.join(KEY_FILE),
    };
    let names = names(ip);
    let (ca_pem, ca_key, new_ca) = match (read(&ca_path)?, read(&ca_key_path)?) {
        (Some(pem), Some(key)) => {
            let key = KeyPair::from_pem(&key).map_err(|e| failed(&ca_key_path, e))?;
            (pem, key, false)
        }
        _ => {
            let (pem, key) = new_ca(now).map_err(|e| failed(&ca_path, e))?;
            write(&ca_key_path, &key.serialize_pem(), true)?;
            write(&ca_path, &pem, false)?;
            tracing::info!(
                ca = %ca_path.display(),
                "created a certificate authority for --tls-self-signed; clients trust this \
                 server with {} (aws --ca-bundle, boto3 verify=, Prometheus tls_config.ca_file)",
                ca_path.display()
            );
            (pem, key, true)
        }
    };
    if !new_ca && reusable(&generated, &ca_pem, &names, now)? {
        return Ok(generated);
    }
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, &ca_key).map_err(|e| failed(&ca_path, e))?;
    let key = KeyPair::generate().map_err(|e| failed(&generated.key, e))?;
    let mut params =
        CertificateParams::new(names.iter().map(ToString::to_string).collect::<Vec<_>>())
            .map_err(|e| failed(&generated.cert, e))?;
    params.distinguished_name.push(DnType::CommonName, "ampd");
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // Strict X.509 verifiers (OpenSSL's X509_STRICT, as in recent Pythons) want it.
    params.use_authority_key_identifier_extension = true;
    params.not_before = now - CLOCK_SKEW;
    params.not_after = now + CERT_VALIDITY;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|e| failed(&generated.cert, e))?;
    write(&generated.key, &key.serialize_pem(), true)?;
    write(&generated.cert, &cert.pem(), false)?;
    tracing::info!(
        cert = %generated.cert.display(), ca = %ca_path.display(),
        "issued a self-signed server certificate for {}",
        names.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    );
    Ok(generated)
}

/// The names the server certificate covers.
fn names(ip: IpAddr) -> Vec<Name> {
    let mut names = vec![
        Name::Dns("localhost"),
        Name::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        Name::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    ];
    if !ip.is_unspecified() && !names.contains(&Name::Ip(ip)) {
        names.push(Name::Ip(ip));
    }
    names
}

/// A subject alternative name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Name {
    Dns(&'static str),
    Ip(IpAddr),
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Dns(name) => f.write_str(name),
            Self::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

fn new_ca(now: OffsetDateTime) -> Result<(String, KeyPair), rcgen::Error> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "ampd local CA");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "ampd");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = now - CLOCK_SKEW;
    params.not_after = now + CA_VALIDITY;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key))
}

/// Tells whether the existing server certificate was issued by the CA, covers `names` and
/// stays valid long enough.
fn reusable(
    generated: &Generated,
    ca_pem: &str,
    names: &[Name],
    now: OffsetDateTime,
) -> Result<bool, TlsError> {
    let (Some(pem), Some(_)) = (read(&generated.cert)?, read(&generated.key)?) else {
        return Ok(false);
    };
    let (Ok((_, cert_pem)), Ok((_, ca_pem))) = (
        x509_parser::pem::parse_x509_pem(pem.as_bytes()),
        x509_parser::pem::parse_x509_pem(ca_pem.as_bytes()),
    ) else {
        return Ok(false);
    };
    let (Ok(cert), Ok(ca)) = (cert_pem.parse_x509(), ca_pem.parse_x509()) else {
        return Ok(false);
    };
    let fresh = cert.validity().not_after.timestamp() > (now + RENEW_BEFORE).unix_timestamp();
    Ok(fresh && cert.issuer() == ca.subject() && covers(&cert, names))
}

fn covers(cert: &X509Certificate<'_>, names: &[Name]) -> bool {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return false;
    };
    let present: Vec<Name> = san
        .value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName("localhost") => Some(Name::Dns("localhost")),
            GeneralName::IPAddress(bytes) => match bytes.len() {
                4 => <[u8; 4]>::try_from(*bytes).ok().map(IpAddr::from),
                16 => <[u8; 16]>::try_from(*bytes).ok().map(IpAddr::from),
                _ => None,
            }
            .map(Name::Ip),
            _ => None,
        })
        .collect();
    names.iter().all(|n| present.contains(n))
}

/// Reads a file that may not exist yet.
fn read(path: &Path) -> Result<Option<String>, TlsError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(TlsError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Writes a file; `secret` ones are readable by the owner only.
fn write(path: &Path, contents: &str, secret: bool) -> Result<(), TlsError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // The mode above only applies to new files; an existing one is narrowed first.
        if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            && e.kind() != std::io::ErrorKind::NotFound
        {
            return Err(failed(path, e));
        }
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(|e| failed(path, e))?;
    std::io::Write::write_all(&mut file, contents.as_bytes()).map_err(|e| failed(path, e))
}

fn failed(path: &Path, detail: impl std::fmt::Display) -> TlsError {
    TlsError::SelfSigned {
        path: path.to_owned(),
        detail: detail.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::super::Sources;
    use super::super::material::{Files, build};
    use super::*;

    fn sources(dir: &Path) -> Sources {
        Sources {
            cert: dir.join(CERT_FILE),
            key: dir.join(KEY_FILE),
            client_ca: None,
        }
    }

    #[tokio::test]
    async fn generates_once_then_reuses() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(DIR);
        let ip: IpAddr = "127.0.0.2".parse().unwrap();
        ensure(&dir, ip).unwrap();
        let ca = std::fs::read(dir.join(CA_FILE)).unwrap();
        let cert = std::fs::read(dir.join(CERT_FILE)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for key in [CA_KEY_FILE, KEY_FILE] {
                let mode = std::fs::metadata(dir.join(key))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{key}");
            }
        }
        let files = Files::read(&sources(&dir)).await.unwrap();
        build(&sources(&dir), &files, SystemTime::now()).unwrap();

        ensure(&dir, ip).unwrap();
        assert_eq!(std::fs::read(dir.join(CA_FILE)).unwrap(), ca);
        assert_eq!(std::fs::read(dir.join(CERT_FILE)).unwrap(), cert);

        // Another address: same CA, new server certificate covering it.
        ensure(&dir, "127.0.0.3".parse().unwrap()).unwrap();
        assert_eq!(std::fs::read(dir.join(CA_FILE)).unwrap(), ca);
        let reissued = std::fs::read(dir.join(CERT_FILE)).unwrap();
        assert_ne!(reissued, cert);

        // Close to expiry: issued again.
        ensure_at(
            &dir,
            "127.0.0.3".parse().unwrap(),
            OffsetDateTime::now_utc() + CERT_VALIDITY - Duration::days(1),
        )
        .unwrap();
        assert_ne!(std::fs::read(dir.join(CERT_FILE)).unwrap(), reissued);
    }

    #[test]
    fn the_certificate_covers_loopback_and_the_listen_address() {
        let tmp = tempfile::tempdir().unwrap();
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        ensure(tmp.path(), ip).unwrap();
        let pem = std::fs::read(tmp.path().join(CERT_FILE)).unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
        let cert = pem.parse_x509().unwrap();
        assert!(covers(&cert, &names(ip)));
        assert!(!covers(&cert, &[Name::Ip("10.9.9.9".parse().unwrap())]));
        assert_eq!(names("0.0.0.0".parse().unwrap()).len(), 3);
    }
}
