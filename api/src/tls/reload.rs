//! Loading the certificate again on SIGHUP or when its files change.
//!
//! Changes are found by reading the files every interval and comparing a digest of their
//! contents, not by inotify-style watching: certificate tooling replaces files by rename and
//! Kubernetes swaps a symlinked folder, which a watcher on the files misses while a read always
//! sees what a new connection would get; reading a few kilobytes every couple of seconds costs
//! nothing.

use std::time::{Duration, SystemTime};

use axum_server::tls_rustls::RustlsConfig;

use super::Sources;
use super::material::{Digest, Files, build};

/// Reloads `config` from `sources` on SIGHUP and, every `interval` (unless zero), when the
/// files' digest differs from `seen`; runs until aborted.
pub(super) async fn watch(
    sources: Sources,
    config: RustlsConfig,
    interval: Duration,
    mut seen: Digest,
) {
    let mut hangup = Hangup::new();
    let mut ticker = (!interval.is_zero()).then(|| {
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    // The last failure logged, so that a file that stays broken is reported once.
    let mut last_failure: Option<String> = None;
    loop {
        let trigger = tokio::select! {
            () = hangup.recv() => "SIGHUP",
            () = tick(ticker.as_mut()) => "file change",
        };
        let outcome = match Files::read(&sources).await {
            Ok(files) if trigger == "file change" && files.digest() == seen => continue,
            Ok(files) => {
                seen = files.digest();
                build(&sources, &files, SystemTime::now())
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(loaded) => {
                config.reload_from_config(loaded.config);
                last_failure = None;
                tracing::info!(
                    cert = %sources.cert.display(), serial = %loaded.leaf.serial,
                    not_after = %loaded.leaf.not_after, sha256 = %loaded.leaf.sha256,
                    "reloaded the TLS certificate on {trigger}; new connections get {}",
                    loaded.leaf.subject
                );
            }
            Err(e) => {
                let message = e.to_string();
                if trigger == "SIGHUP" || last_failure.as_ref() != Some(&message) {
                    tracing::error!(
                        error = %message,
                        "cannot reload the TLS certificate on {trigger}, still serving the \
                         current one: {message}"
                    );
                }
                last_failure = Some(message);
            }
        }
    }
}

async fn tick(ticker: Option<&mut tokio::time::Interval>) {
    match ticker {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// SIGHUP, where the platform has it.
struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn new() -> Self {
        #[cfg(unix)]
        {
            let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                .inspect_err(|e| tracing::warn!(error = %e, "cannot listen for SIGHUP"))
                .ok();
            Self { signal }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Resolves on the next SIGHUP; never where there is none.
    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal
            && signal.recv().await.is_some()
        {
            return;
        }
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use rcgen::{CertificateParams, KeyPair};

    use super::*;
    use crate::tls::material;

    fn write_pair(dir: &Path, name: &str) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        // Key first: until the certificate follows, the pair does not match.
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    }

    #[tokio::test]
    async fn a_changed_file_is_served_and_a_broken_one_is_not() {
        let tmp = tempfile::tempdir().unwrap();
        let sources = Sources {
            cert: tmp.path().join("cert.pem"),
            key: tmp.path().join("key.pem"),
            client_ca: None,
        };
        write_pair(tmp.path(), "first");
        let files = Files::read(&sources).await.unwrap();
        let loaded = material::build(&sources, &files, SystemTime::now()).unwrap();
        let config = RustlsConfig::from_config(loaded.config);
        let first = config.get_inner();
        let task = tokio::spawn(watch(
            sources.clone(),
            config.clone(),
            Duration::from_millis(100),
            files.digest(),
        ));
        // A key without its certificate is refused; the first certificate stays.
        std::fs::write(tmp.path().join("key.pem"), "not a key").unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(Arc::ptr_eq(&config.get_inner(), &first));
        write_pair(tmp.path(), "second");
        let mut changed = false;
        for _ in 0..100 {
            if !Arc::ptr_eq(&config.get_inner(), &first) {
                changed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        task.abort();
        assert!(changed, "the new certificate was not loaded");
    }
}
