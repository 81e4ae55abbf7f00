//! Where the signing keys (JWKS) of an OIDC issuer come from.
//!
//! Per issuer, a configured source wins: a file (read on every use, so rotating keys needs no
//! restart) or an http(s) URL. Other issuers are discovered as OIDC prescribes:
//! `<issuer>/.well-known/openid-configuration` names the `jwks_uri`. Fetched key sets are
//! kept for [`CACHE_TTL`].

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ampd_iam::sts::oidc::JwkSet;
use anyhow::{Context, anyhow};
use serde::Deserialize;

/// How long a key set fetched over HTTP is reused.
pub const CACHE_TTL: Duration = Duration::from_secs(300);
/// Timeout of one request to an identity provider.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// One issuer's key source.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    File(PathBuf),
    Url(String),
}

impl Source {
    fn parse(text: &str) -> Self {
        if text.starts_with("https://") || text.starts_with("http://") {
            Self::Url(text.to_owned())
        } else {
            Self::File(PathBuf::from(text))
        }
    }
}

fn normalize(issuer: &str) -> &str {
    issuer.trim_end_matches('/')
}

/// Resolves the JWKS of issuers.
#[derive(Debug)]
pub struct JwksSources {
    configured: BTreeMap<String, Source>,
    http: reqwest::Client,
    cache: Mutex<HashMap<String, (Instant, Arc<JwkSet>)>>,
}

#[derive(Deserialize)]
struct Discovery {
    jwks_uri: String,
}

impl JwksSources {
    /// Creates the resolver with `configured` sources (issuer URL → file path or URL).
    pub fn new(configured: &BTreeMap<String, String>) -> anyhow::Result<Self> {
        // reqwest needs a process-wide rustls provider; use ring (already in the workspace)
        // unless one is installed. A lost race means another thread installed one: fine.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .context("cannot build the HTTP client for OIDC providers")?;
        Ok(Self {
            configured: configured
                .iter()
                .map(|(issuer, source)| (normalize(issuer).to_owned(), Source::parse(source)))
                .collect(),
            http,
            cache: Mutex::default(),
        })
    }

    /// Returns the key set of `issuer`.
    pub async fn jwks(&self, issuer: &str) -> anyhow::Result<Arc<JwkSet>> {
        let issuer = normalize(issuer);
        let url = match self.configured.get(issuer) {
            Some(Source::File(path)) => {
                let bytes = tokio::fs::read(path)
                    .await
                    .with_context(|| format!("cannot read JWKS file {}", path.display()))?;
                return Ok(Arc::new(parse(&bytes)?));
            }
            Some(Source::Url(url)) => url.clone(),
            None => {
                if let Some(hit) = self.cached(issuer) {
                    return Ok(hit);
                }
                let doc: Discovery = self
                    .get_json(&format!("{issuer}/.well-known/openid-configuration"))
                    .await?;
                doc.jwks_uri
            }
        };
        if let Some(hit) = self.cached(issuer) {
            return Ok(hit);
        }
        let set = Arc::new(self.get_json::<JwkSet>(&url).await?);
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(issuer.to_owned(), (Instant::now(), set.clone()));
        Ok(set)
    }

    fn cached(&self, issuer: &str) -> Option<Arc<JwkSet>> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache
            .get(issuer)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, set)| set.clone())
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> anyhow::Result<T> {
        let res = self
            .http
            .get(url)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        if !res.status().is_success() {
            return Err(anyhow!("{url} answered {}", res.status()));
        }
        let bytes = res
            .bytes()
            .await
            .with_context(|| format!("cannot read {url}"))?;
        serde_json::from_slice(&bytes).with_context(|| format!("unexpected document at {url}"))
    }
}

fn parse(bytes: &[u8]) -> anyhow::Result<JwkSet> {
    serde_json::from_slice(bytes).context("not a JWKS document")
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}"#;

    /// Serves `/.well-known/openid-configuration` and `/keys` on loopback.
    async fn provider() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let discovery = serde_json::json!({"issuer": base, "jwks_uri": format!("{base}/keys")});
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || async move { axum::Json(discovery) }),
            )
            .route("/keys", axum::routing::get(|| async { JWKS }));
        tokio::spawn(async move { axum::serve(listener, app).await });
        base
    }

    #[tokio::test]
    async fn keys_come_from_files_urls_and_discovery() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jwks.json");
        std::fs::write(&file, JWKS).unwrap();
        let base = provider().await;
        let configured = BTreeMap::from([
            ("https://file.test/".to_owned(), file.display().to_string()),
            ("https://url.test".to_owned(), format!("{base}/keys")),
        ]);
        let sources = JwksSources::new(&configured).unwrap();
        let from_file = sources.jwks("https://file.test").await.unwrap();
        assert!(from_file.find("k1").is_some());
        let from_url = sources.jwks("https://url.test/").await.unwrap();
        assert!(from_url.find("k1").is_some());
        let discovered = sources.jwks(&base).await.unwrap();
        assert!(discovered.find("k1").is_some());
        // A broken file is an error, not an empty key set.
        std::fs::write(&file, "{").unwrap();
        assert!(sources.jwks("https://file.test").await.is_err());
        assert!(sources.jwks(&format!("{base}/nowhere")).await.is_err());
    }
}
