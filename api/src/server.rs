//! Assembling and running the server.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ampd_backends::{LocalBackend, LocalOptions, MetadataStore, MetricsBackend, SqliteStore};
use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;

use crate::audit::{self, Auditor};
use crate::auth::Authenticator;
use crate::config::Config;
use crate::control::{self, ControlSettings, ControlState};
use crate::data::{self, DataState};
use crate::extract::MAX_BODY_BYTES;
use crate::iam::{Identities, ROOT_KEY_FILE, RootAccessKey, SecretSealer};
use crate::kms::{SealedDefinitions, WorkspaceKeys};
use crate::pagination::PageTokens;
use crate::sts::Sts;
use crate::tls::TlsListener;
use crate::{ops, services, trace};

/// Builds the whole HTTP application: control plane, data plane and operational endpoints
/// behind the audit layer and the request log; requests no route matches (path or method) get
/// an AWS-shaped `ValidationException` with reason `UNKNOWN_OPERATION`.
pub fn app(
    store: Arc<dyn MetadataStore>,
    control: ControlState,
    data: DataState,
    auditor: Auditor,
) -> Router {
    let kms = control.workspace_keys().map(|k| k.kms().clone());
    let services = services::router(control.authenticator().clone(), kms);
    ops::router(store)
        .merge(control::router(control))
        .merge(services)
        .merge(data::router(data))
        .fallback(control::unknown_operation)
        .method_not_allowed_fallback(control::unknown_operation)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Inside the request log: events carry the request id it assigns.
        .layer(axum::middleware::from_fn_with_state(auditor, audit::record))
        .layer(axum::middleware::from_fn(trace::log_request))
}

/// Opens the metadata store in `data_dir`, creating the folder if needed.
pub async fn open_store(data_dir: &Path) -> anyhow::Result<SqliteStore> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data folder {}", data_dir.display()))?;
    SqliteStore::open(&data_dir.join("metadata.db"))
        .await
        .with_context(|| format!("cannot open the metadata store in {}", data_dir.display()))
}

/// How often tenant data is compacted, expired and fsynced.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(30);

/// How often tenant settings follow workspace configurations.
const TENANT_SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// How often the rule engine re-reads rule groups namespaces and alert manager definitions.
const RULES_SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// How often the rule engine looks for rule groups that are due.
const RULES_TICK: Duration = Duration::from_millis(100);

/// Opens the embedded metrics backend under `<data_dir>/tsdb`.
///
/// Tenant data is stored unsealed (the tsdb's identity sealer), for tests and tools;
/// `serve` uses [`open_sealed_metrics`].
pub fn open_metrics(data_dir: &Path) -> anyhow::Result<LocalBackend> {
    let root = data_dir.join("tsdb");
    std::fs::create_dir_all(&root)
        .with_context(|| format!("cannot create tsdb folder {}", root.display()))?;
    LocalBackend::new(
        &root,
        LocalOptions::default(),
        Arc::new(ampd_tsdb::IdentitySealer),
    )
    .with_context(|| format!("cannot open the tsdb in {}", root.display()))
}

/// Opens the embedded metrics backend under `<data_dir>/tsdb`, each tenant sealed with the
/// data key `keys` holds for it (AES-256-GCM).
pub fn open_sealed_metrics(
    data_dir: &Path,
    keys: Arc<ampd_backends::TenantKeys>,
) -> anyhow::Result<LocalBackend> {
    let root = data_dir.join("tsdb");
    std::fs::create_dir_all(&root)
        .with_context(|| format!("cannot create tsdb folder {}", root.display()))?;
    LocalBackend::new(&root, LocalOptions::default(), keys)
        .with_context(|| format!("cannot open the tsdb in {}", root.display()))
}

/// How often KMS rotations and deletions are applied and workspace keys re-checked.
const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// Completes status transitions older than `delay`, forever.
async fn settle_loop(store: Arc<dyn MetadataStore>, delay: Duration) {
    let tick = (delay / 4).clamp(Duration::from_millis(25), Duration::from_secs(1));
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(e) = store.settle(delay).await {
            tracing::warn!(error = %e, "cannot complete lifecycle transitions");
        }
    }
}

/// Runs the server until SIGINT or SIGTERM, then finishes in-flight requests and returns.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    serve(config, listener, shutdown_signal()).await
}

/// Serves on `listener` until `shutdown` resolves, then finishes in-flight requests and
/// returns. Logs `listening on <addr>` with the bound address once ready.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let tls = TlsListener::load(&config.tls, &config.data_dir, addr).await?;
    let sqlite = open_store(&config.data_dir).await?;
    let store: Arc<dyn MetadataStore> = Arc::new(sqlite.clone());
    let page_tokens = PageTokens::load_or_create(&config.data_dir)?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let settings = ControlSettings {
        region: config.region.clone(),
        account_id: config.account_id.clone(),
        external_url: config
            .external_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{addr}")),
        max_workspaces: config.max_workspaces,
    };
    let root_key = ampd_kms::RootKey::load_or_create_file(&config.data_dir.join(ROOT_KEY_FILE))
        .context("cannot load the root key")?;
    let sts = Sts::new(&root_key, Arc::new(sqlite.clone()), &config.oidc_jwks)?;
    let identities = Arc::new(
        Identities::new(
            Arc::new(sqlite.clone()),
            SecretSealer::from_root(&root_key)?,
            RootAccessKey::resolve(config.root_access_key.as_ref(), &config.data_dir)?,
            config.account_id.clone(),
        )
        .with_sts(Arc::new(sts)),
    );
    let authenticator = Arc::new(Authenticator::new(
        config.region.clone(),
        identities,
        store.clone(),
    ));
    let trail = ampd_audit::Trail::open(audit::trail_config(&config))
        .await
        .context("cannot open the audit trail")?;
    let auditor = Auditor::new(trail.clone(), &config.region, &config.account_id);
    let kms = crate::kms::open_system_service(&config.data_dir, &config.region, root_key).await?;
    let tenant_keys = Arc::new(ampd_backends::TenantKeys::new());
    let local = Arc::new(open_sealed_metrics(&config.data_dir, tenant_keys.clone())?);
    let keys = Arc::new(WorkspaceKeys::new(
        kms,
        Arc::new(sqlite.clone()),
        tenant_keys,
        local.clone(),
        config.account_id.clone(),
    ));
    // Unwrap the keys of usable workspaces before serving, so maintenance reaches them too.
    if let Err(e) = keys.refresh().await {
        tracing::warn!(error = %e, "cannot load workspace keys: {e:#}");
    }
    let key_refresh = tokio::spawn(keys.clone().run(KEY_REFRESH_INTERVAL));
    let store: Arc<dyn MetadataStore> = Arc::new(SealedDefinitions::new(store, keys.clone()));
    let maintenance = local.spawn_maintenance(MAINTENANCE_INTERVAL);
    let metrics: Arc<dyn MetricsBackend> = local;
    let rules = Arc::new(ampd_rules::RuleEngine::new(
        metrics.clone(),
        Arc::new(ampd_rules::SystemClock),
        ampd_rules::EngineSettings {
            external_url: settings.external_url.clone(),
            alertmanager_dir: config.data_dir.join("alertmanager"),
            notify: ampd_rules::NotifySettings {
                sns_default_region: config.region.clone(),
                ..ampd_rules::NotifySettings::default()
            },
            ..ampd_rules::EngineSettings::default()
        },
    ));
    let data = DataState::new(
        authenticator.clone(),
        store.clone(),
        metrics.clone(),
        config.region.clone(),
        config.account_id.clone(),
    )
    .with_ingestion_rate(data::IngestionRate {
        samples_per_second: config.ingestion_rate as f64,
        burst: config.ingestion_burst as f64,
    })
    .with_query_settings(config.query.settings())
    .with_workspace_keys(keys.clone())
    .with_rules(rules.clone());
    let rule_loop = tokio::spawn(data::run_rules(
        store.clone(),
        rules,
        RULES_SYNC_INTERVAL,
        RULES_TICK,
    ));
    let control = ControlState::new(settings, authenticator, store.clone(), page_tokens)
        .with_workspace_keys(keys);
    let lifecycle = tokio::spawn(settle_loop(
        store.clone(),
        Duration::from_millis(config.transition_delay_ms),
    ));
    let tenants = tokio::spawn(data::sync_tenants(
        store.clone(),
        metrics,
        TENANT_SYNC_INTERVAL,
        Some(config.max_active_series),
    ));
    tracing::info!(
        %addr, %scheme, data_dir = %config.data_dir.display(), region = %config.region,
        account_id = %config.account_id, "listening on {addr}"
    );
    let app =
        app(store, control, data, auditor).into_make_service_with_connect_info::<SocketAddr>();
    let served = match tls {
        Some(tls) => tls.serve(listener, app, shutdown).await,
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
    .context("server failed");
    lifecycle.abort();
    tenants.abort();
    key_refresh.abort();
    rule_loop.abort();
    drop(maintenance);
    // Pending events stay in the journal and are delivered on the next start.
    if let Err(e) = trail.close().await {
        tracing::warn!(error = %e, "cannot close the audit trail");
    }
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down, finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use ampd_iam::SecretKey;
    use ampd_iam::sigv4::{SigningCredentials, sign_request};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    const ROOT_ID: &str = "AKIASERVERTEST000001";
    const ROOT_SECRET: &str = "server-test-secret";

    /// Sends one SigV4-signed HTTP/1.1 request and returns the status and body.
    async fn http(
        addr: std::net::SocketAddr,
        method: &str,
        path: &str,
        body: &str,
    ) -> (u16, String) {
        let (mut parts, ()) = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", addr.to_string())
            .header("content-type", "application/json")
            .body(())
            .unwrap()
            .into_parts();
        let creds = SigningCredentials {
            access_key_id: ROOT_ID.into(),
            secret: SecretKey::new(ROOT_SECRET),
            session_token: None,
        };
        let now = std::time::SystemTime::now();
        sign_request(&mut parts, body.as_bytes(), &creds, "us-east-1", "aps", now).unwrap();
        let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
        for (name, value) in &parts.headers {
            request.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let status = response[9..12].parse().unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap();
        (status, body)
    }

    async fn start(
        config: &Config,
    ) -> (
        std::net::SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<anyhow::Result<()>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(config.clone(), listener, async {
            let _ = rx.await;
        }));
        (addr, tx, task)
    }

    #[tokio::test]
    async fn restart_keeps_state_and_shutdown_is_graceful() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_owned(),
            root_access_key: Some(RootAccessKey {
                access_key_id: ROOT_ID.into(),
                secret: SecretKey::new(ROOT_SECRET),
            }),
            ..Config::default()
        };
        let (addr, stop, task) = start(&config).await;
        let (status, body) = http(addr, "POST", "/workspaces", r#"{"alias":"kept"}"#).await;
        assert_eq!(status, 202, "{body}");
        let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["workspaceId"]
            .as_str()
            .unwrap()
            .to_owned();
        stop.send(()).unwrap();
        task.await.unwrap().unwrap();

        let (addr, stop, task) = start(&config).await;
        let (status, body) = http(addr, "GET", &format!("/workspaces/{id}"), "").await;
        assert_eq!(status, 200, "{body}");
        let ws: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(ws["workspace"]["alias"], "kept");
        assert_eq!(
            ws["workspace"]["prometheusEndpoint"],
            format!("http://{addr}/workspaces/{id}/")
        );
        let (status, _) = http(addr, "GET", "/healthz", "").await;
        assert_eq!(status, 200);
        stop.send(()).unwrap();
        task.await.unwrap().unwrap();
    }
}
