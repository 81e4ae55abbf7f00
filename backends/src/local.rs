//! The embedded metrics backend: `ampd_tsdb` for storage, `ampd_promql` for queries.

mod convert;
mod queryable;
mod sealing;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ampd_promql::{CancelFlag, EngineError, EngineOptions, Labels, StorageError};
use ampd_remote_write::WriteBatch;
use ampd_tsdb::{Db, Exemplar, SealError, SealerProvider};
use async_trait::async_trait;

use crate::metrics::{
    ExemplarData, InstantQuery, MetricMetadata, MetricsBackend, MetricsError, MetricsResult,
    QueryData, QueryLimits, RangeQuery, SeriesExemplars, TenantId, TenantSettings, TenantUsage,
    TimeRange, WriteOutcome,
};
use convert::StoredHistogram;
pub use queryable::TsdbQueryable;
pub use sealing::TenantKeys;

/// Settings of the local backend.
#[derive(Clone, Debug, Default)]
pub struct LocalOptions {
    /// Storage settings applied to every tenant (retention and out-of-order window are the
    /// defaults until [`MetricsBackend::set_limits`] changes them).
    pub tsdb: ampd_tsdb::Options,
    /// Query engine settings; `timeout` and `max_samples` are the per-query defaults.
    pub engine: EngineOptions,
}

/// Per-tenant state kept beside the tsdb, which does not persist settings or counters.
#[derive(Debug, Default)]
struct TenantState {
    settings: Option<TenantSettings>,
    /// The database the settings were last applied to; a reopened one gets them again.
    configured: Option<Arc<Db>>,
    samples_ingested: Arc<AtomicU64>,
    query_samples_processed: Arc<AtomicU64>,
}

/// Metrics backend over an embedded tsdb, one database per tenant; clones share everything.
#[derive(Clone, Debug)]
pub struct LocalBackend {
    tsdb: Arc<ampd_tsdb::Engine>,
    engine_options: EngineOptions,
    tenants: Arc<Mutex<HashMap<TenantId, TenantState>>>,
}

/// The tsdb's series caps for a tenant's settings; a label-set limit of 0 is not enforced,
/// as in AMP's workspace configuration.
fn series_limits(s: &TenantSettings) -> ampd_tsdb::SeriesLimits {
    let cap = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    ampd_tsdb::SeriesLimits {
        max_series: s.max_active_series.map(cap),
        per_label_set: s
            .label_set_limits
            .iter()
            .filter_map(|l| {
                let max = l.max_series.filter(|n| *n > 0)?;
                Some(ampd_tsdb::LabelSetLimit {
                    labels: ampd_tsdb::Labels::from_pairs(&l.label_set),
                    max_series: cap(max),
                })
            })
            .collect(),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn tsdb_error(tenant: &TenantId, e: ampd_tsdb::Error) -> MetricsError {
    use ampd_tsdb::Error;
    match e {
        Error::Sealing {
            source: SealError::KeyUnavailable(reason),
            ..
        } => MetricsError::TenantUnavailable {
            tenant: tenant.to_string(),
            reason,
        },
        Error::Closed => MetricsError::TenantUnavailable {
            tenant: tenant.to_string(),
            reason: "tenant was deleted".into(),
        },
        Error::InvalidMatcher(m) => MetricsError::BadData(format!("invalid matcher: {m}")),
        Error::InvalidTenant(_) | Error::InvalidSeries(_) | Error::BatchTooLarge(_) => {
            MetricsError::BadData(e.to_string())
        }
        e => MetricsError::Internal(Box::new(e)),
    }
}

fn engine_error(tenant: &TenantId, e: EngineError) -> MetricsError {
    match e {
        EngineError::Parse(_) | EngineError::BadQuery(_) => MetricsError::BadData(e.to_string()),
        EngineError::Storage(StorageError::InvalidRegex { .. }) => {
            MetricsError::BadData(e.to_string())
        }
        EngineError::Storage(StorageError::Backend(source)) => {
            match source.downcast::<ampd_tsdb::Error>() {
                Ok(e) => tsdb_error(tenant, *e),
                Err(other) => MetricsError::Internal(other),
            }
        }
        EngineError::Execution(m) => MetricsError::Execution(m),
        EngineError::TooManySamples => MetricsError::TooManySamples,
        EngineError::TooManySeries { .. } | EngineError::TooManySamplesProcessed { .. } => {
            MetricsError::Execution(e.to_string())
        }
        EngineError::Timeout => MetricsError::Timeout,
        EngineError::Canceled => MetricsError::Canceled,
    }
}

/// Parses `match[]` selectors into tsdb matcher sets, one per selector.
fn selector_matchers(selectors: &[String]) -> MetricsResult<Vec<Vec<ampd_tsdb::Matcher>>> {
    selectors
        .iter()
        .map(|s| {
            let parsed = ampd_promql::parse_metric_selector(s)
                .map_err(|e| MetricsError::BadData(e.to_string()))?;
            parsed
                .iter()
                .map(|m| {
                    let m = ampd_promql::Matcher::new(m.op, &m.name, &m.value)
                        .map_err(|e| MetricsError::BadData(e.to_string()))?;
                    convert::matcher(&m).map_err(|e| MetricsError::BadData(e.to_string()))
                })
                .collect()
        })
        .collect()
}

/// How long past its timeout a query may take before the backend stops waiting for it.
const TIMEOUT_GRACE: Duration = Duration::from_millis(250);

/// Cancels the evaluation when the awaiting request goes away.
struct CancelOnDrop(CancelFlag);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Handle of the periodic maintenance task; dropping it stops the task.
#[derive(Debug)]
pub struct MaintenanceTask(tokio::task::JoinHandle<()>);

impl Drop for MaintenanceTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(ms)
        .unwrap_or(0)
}

impl LocalBackend {
    /// Opens the backend over `root`; tenant databases are opened lazily, with the sealer
    /// `sealers` gives for each tenant.
    pub fn new(
        root: &Path,
        options: LocalOptions,
        sealers: Arc<dyn SealerProvider>,
    ) -> MetricsResult<Self> {
        let tsdb = ampd_tsdb::Engine::new(root, options.tsdb, sealers)
            .map_err(|e| MetricsError::Internal(Box::new(e)))?;
        Ok(Self {
            tsdb: Arc::new(tsdb),
            engine_options: options.engine,
            tenants: Arc::default(),
        })
    }

    /// Runs blocking tsdb work off the async runtime.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Self) -> MetricsResult<T> + Send + 'static,
    ) -> MetricsResult<T> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || f(&this))
            .await
            .map_err(|e| MetricsError::Internal(Box::new(e)))?
    }

    /// Applies the tenant's settings to `db` unless it already has them.
    fn configure(&self, tenant: &TenantId, db: &Arc<Db>) {
        let mut tenants = lock(&self.tenants);
        let state = tenants.entry(tenant.clone()).or_default();
        if state
            .configured
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, db))
        {
            return;
        }
        if let Some(s) = &state.settings {
            db.set_retention(ms(s.retention));
            db.set_out_of_order_window(ms(s.out_of_order_window));
            db.set_series_limits(series_limits(s));
        }
        state.configured = Some(db.clone());
    }

    /// Closes the tenant's database, dropping its in-memory head; the next request reopens
    /// it from disk (and fails while its sealer has no key). Used when its key is revoked.
    pub async fn close_tenant(&self, tenant: &TenantId) -> MetricsResult<()> {
        let t = tenant.clone();
        self.blocking(move |this| {
            this.tsdb
                .close_tenant(t.as_str())
                .map_err(|e| tsdb_error(&t, e))?;
            if let Some(state) = lock(&this.tenants).get_mut(&t) {
                state.configured = None;
            }
            Ok(())
        })
        .await
    }

    /// Returns the tenant's database, creating it (blocking).
    fn db(&self, tenant: &TenantId) -> MetricsResult<Arc<Db>> {
        let db = self
            .tsdb
            .tenant(tenant.as_str())
            .map_err(|e| tsdb_error(tenant, e))?;
        self.configure(tenant, &db);
        Ok(db)
    }

    /// Returns the tenant's database if it holds data, without creating it (blocking).
    fn existing_db(&self, tenant: &TenantId) -> MetricsResult<Option<Arc<Db>>> {
        let db = self
            .tsdb
            .existing_tenant(tenant.as_str())
            .map_err(|e| tsdb_error(tenant, e))?;
        if let Some(db) = &db {
            self.configure(tenant, db);
        }
        Ok(db)
    }

    fn counters(&self, tenant: &TenantId) -> (Arc<AtomicU64>, Arc<AtomicU64>) {
        let mut tenants = lock(&self.tenants);
        let state = tenants.entry(tenant.clone()).or_default();
        (
            state.samples_ingested.clone(),
            state.query_samples_processed.clone(),
        )
    }

    fn engine(&self, timeout: Option<Duration>, limits: QueryLimits) -> ampd_promql::Engine {
        let mut options = self.engine_options.clone();
        if timeout.is_some() {
            options.timeout = timeout;
        }
        if let Some(max) = limits.max_samples {
            options.max_samples = max;
        }
        if let Some(max) = limits.max_series {
            options.max_series = max;
        }
        if let Some(max) = limits.max_samples_processed {
            options.max_samples_processed = max;
        }
        ampd_promql::Engine::new(options)
    }

    /// Evaluates `run` against the tenant on a blocking thread, canceling it if the caller
    /// stops waiting or `timeout` (plus a grace period for the engine to notice its own
    /// deadline) passes, and meters the samples it processed.
    async fn evaluate(
        &self,
        tenant: &TenantId,
        timeout: Option<Duration>,
        run: impl FnOnce(&TsdbQueryable, &CancelFlag) -> Result<ampd_promql::QueryResult, EngineError>
        + Send
        + 'static,
    ) -> MetricsResult<QueryData> {
        let cancel = CancelOnDrop(CancelFlag::new());
        let flag = cancel.0.clone();
        let t = tenant.clone();
        let work = self.blocking(move |this| {
            let q = TsdbQueryable::new(this.existing_db(&t)?);
            run(&q, &flag).map_err(|e| engine_error(&t, e))
        });
        let result = match timeout {
            Some(limit) => tokio::time::timeout(limit + TIMEOUT_GRACE, work)
                .await
                .unwrap_or(Err(MetricsError::Timeout)),
            None => work.await,
        };
        // Raises the flag: a query still running past its time stops at its next check, and
        // after completion this cancels nothing.
        drop(cancel);
        let r = result?;
        self.counters(tenant)
            .1
            .fetch_add(r.stats.samples_processed, Ordering::Relaxed);
        Ok(QueryData {
            value: r.value,
            annotations: r.annotations,
            stats: r.stats,
        })
    }

    /// Runs tsdb maintenance (block cutting, compaction, retention) on every open tenant and
    /// fsyncs their WALs; `now_ms` is the reference time of retention.
    pub async fn maintain(&self, now_ms: i64) -> MetricsResult<()> {
        self.blocking(move |this| {
            let reports = this
                .tsdb
                .maintain_all(now_ms)
                .map_err(|e| MetricsError::Internal(Box::new(e)))?;
            for (tenant, r) in reports {
                if r.blocks_cut + r.compactions + r.blocks_deleted > 0 {
                    tracing::debug!(%tenant, blocks_cut = r.blocks_cut, compactions = r.compactions,
                        blocks_deleted = r.blocks_deleted, "tsdb maintenance of tenant {tenant}");
                }
            }
            this.tsdb
                .sync_all()
                .map_err(|e| MetricsError::Internal(Box::new(e)))
        })
        .await
    }

    /// Starts a task running [`LocalBackend::maintain`] every `interval` with the wall clock;
    /// it stops when the returned handle is dropped.
    pub fn spawn_maintenance(self: &Arc<Self>, interval: Duration) -> MaintenanceTask {
        let this = Arc::clone(self);
        MaintenanceTask(tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = this.maintain(now_ms()).await {
                    tracing::error!(error = %e, "tsdb maintenance failed: {e}");
                }
            }
        }))
    }

    /// Runs `f` over the tenant's database with each selector's matchers (or once with none).
    async fn per_selector<T: Send + 'static>(
        &self,
        tenant: &TenantId,
        selectors: &[String],
        empty: T,
        f: impl Fn(&Db, &[ampd_tsdb::Matcher], &mut T) -> ampd_tsdb::Result<()> + Send + 'static,
    ) -> MetricsResult<T> {
        let sets = selector_matchers(selectors)?;
        let t = tenant.clone();
        self.blocking(move |this| {
            let mut out = empty;
            let Some(db) = this.existing_db(&t)? else {
                return Ok(out);
            };
            if sets.is_empty() {
                f(&db, &[], &mut out).map_err(|e| tsdb_error(&t, e))?;
            }
            for ms in &sets {
                f(&db, ms, &mut out).map_err(|e| tsdb_error(&t, e))?;
            }
            Ok(out)
        })
        .await
    }
}

/// Adds a remote-write batch to an appender; fails on a structurally invalid series.
fn append_batch(app: &mut ampd_tsdb::Appender<'_>, batch: &WriteBatch) -> ampd_tsdb::Result<()> {
    for s in &batch.series {
        let labels = convert::labels(&s.labels);
        for x in &s.samples {
            app.append(&labels, x.timestamp, x.value)?;
        }
        for h in &s.histograms {
            match convert::histogram(h) {
                StoredHistogram::Int(v) => app.append_histogram(&labels, h.timestamp, v)?,
                StoredHistogram::Float(v) => app.append_float_histogram(&labels, h.timestamp, v)?,
            }
        }
        for e in &s.exemplars {
            app.append_exemplar(
                &labels,
                Exemplar {
                    labels: convert::labels(&e.labels),
                    value: e.value,
                    t: e.timestamp,
                },
            )?;
        }
    }
    for m in &batch.metadata {
        app.update_metadata(&m.metric_family_name, convert::metadata(m));
    }
    Ok(())
}

#[async_trait]
impl MetricsBackend for LocalBackend {
    async fn write(&self, tenant: &TenantId, batch: WriteBatch) -> MetricsResult<WriteOutcome> {
        let t = tenant.clone();
        let out = self
            .blocking(move |this| {
                let db = this.db(&t)?;
                let mut app = db.appender();
                append_batch(&mut app, &batch).map_err(|e| tsdb_error(&t, e))?;
                app.commit().map_err(|e| tsdb_error(&t, e))
            })
            .await?;
        self.counters(tenant)
            .0
            .fetch_add(out.samples + out.histograms, Ordering::Relaxed);
        Ok(WriteOutcome {
            samples: out.samples,
            histograms: out.histograms,
            exemplars: out.exemplars,
            metadata: out.metadata,
            out_of_order: out.out_of_order,
            too_old: out.too_old,
            out_of_bounds: out.out_of_bounds,
            duplicate: out.duplicate,
            exemplars_rejected: out.exemplars_rejected,
            series_limited: out.series_limited,
            limit: out.limit_hit.map(|hit| hit.to_string()),
        })
    }

    async fn query(&self, tenant: &TenantId, query: InstantQuery) -> MetricsResult<QueryData> {
        let engine = self.engine(query.timeout, query.limits);
        self.evaluate(tenant, engine.options().timeout, move |q, cancel| {
            engine.instant_with_cancel(q, &query.expr, query.time_ms, Some(cancel))
        })
        .await
    }

    async fn query_range(&self, tenant: &TenantId, query: RangeQuery) -> MetricsResult<QueryData> {
        let engine = self.engine(query.timeout, query.limits);
        self.evaluate(tenant, engine.options().timeout, move |q, cancel| {
            engine.range_with_cancel(
                q,
                &query.expr,
                query.start_ms,
                query.end_ms,
                query.step_ms,
                Some(cancel),
            )
        })
        .await
    }

    async fn series(
        &self,
        tenant: &TenantId,
        selectors: &[String],
        range: TimeRange,
    ) -> MetricsResult<Vec<Labels>> {
        if selectors.is_empty() {
            return Err(MetricsError::BadData(
                "no match[] parameter provided".into(),
            ));
        }
        let found = self
            .per_selector(
                tenant,
                selectors,
                std::collections::BTreeSet::new(),
                move |db, ms, out| {
                    out.extend(db.series(ms, range.start_ms, range.end_ms)?);
                    Ok(())
                },
            )
            .await?;
        Ok(found.iter().map(convert::promql_labels).collect())
    }

    async fn label_names(
        &self,
        tenant: &TenantId,
        selectors: &[String],
        range: TimeRange,
    ) -> MetricsResult<Vec<String>> {
        let names = self
            .per_selector(
                tenant,
                selectors,
                std::collections::BTreeSet::new(),
                move |db, ms, out| {
                    out.extend(db.label_names(ms, range.start_ms, range.end_ms)?);
                    Ok(())
                },
            )
            .await?;
        Ok(names.into_iter().collect())
    }

    async fn label_values(
        &self,
        tenant: &TenantId,
        name: &str,
        selectors: &[String],
        range: TimeRange,
    ) -> MetricsResult<Vec<String>> {
        let name = name.to_owned();
        let values = self
            .per_selector(
                tenant,
                selectors,
                std::collections::BTreeSet::new(),
                move |db, ms, out| {
                    out.extend(db.label_values(&name, ms, range.start_ms, range.end_ms)?);
                    Ok(())
                },
            )
            .await?;
        Ok(values.into_iter().collect())
    }

    async fn metadata(
        &self,
        tenant: &TenantId,
        metric: Option<&str>,
        limit: Option<usize>,
    ) -> MetricsResult<BTreeMap<String, Vec<MetricMetadata>>> {
        let t = tenant.clone();
        let metric = metric.map(str::to_owned);
        self.blocking(move |this| {
            let Some(db) = this.existing_db(&t)? else {
                return Ok(BTreeMap::new());
            };
            let all = db
                .metadata(metric.as_deref())
                .map_err(|e| tsdb_error(&t, e))?;
            Ok(all
                .into_iter()
                .take(limit.unwrap_or(usize::MAX))
                .map(|(name, m)| {
                    let entry = MetricMetadata {
                        metric_type: m.metric_type.as_str().to_owned(),
                        help: m.help,
                        unit: m.unit,
                    };
                    (name, vec![entry])
                })
                .collect())
        })
        .await
    }

    async fn exemplars(
        &self,
        tenant: &TenantId,
        selectors: &[String],
        range: TimeRange,
    ) -> MetricsResult<Vec<SeriesExemplars>> {
        if selectors.is_empty() {
            return Err(MetricsError::BadData("no selector provided".into()));
        }
        let found = self
            .per_selector(tenant, selectors, BTreeMap::new(), move |db, ms, out| {
                out.extend(db.exemplars(ms, range.start_ms, range.end_ms)?);
                Ok(())
            })
            .await?;
        Ok(found
            .into_iter()
            .map(|(series, ex)| SeriesExemplars {
                series: convert::promql_labels(&series),
                exemplars: ex
                    .into_iter()
                    .map(|e| ExemplarData {
                        labels: convert::promql_labels(&e.labels),
                        value: e.value,
                        timestamp_ms: e.t,
                    })
                    .collect(),
            })
            .collect())
    }

    async fn delete_tenant(&self, tenant: &TenantId) -> MetricsResult<()> {
        let t = tenant.clone();
        self.blocking(move |this| {
            this.tsdb
                .delete_tenant(t.as_str())
                .map_err(|e| tsdb_error(&t, e))?;
            lock(&this.tenants).remove(&t);
            Ok(())
        })
        .await
    }

    async fn set_limits(&self, tenant: &TenantId, settings: TenantSettings) -> MetricsResult<()> {
        {
            let mut tenants = lock(&self.tenants);
            let state = tenants.entry(tenant.clone()).or_default();
            state.settings = Some(settings);
            // Forces `configure` to apply the new settings to the open database.
            state.configured = None;
        }
        let t = tenant.clone();
        self.blocking(move |this| match this.existing_db(&t) {
            // The settings are kept and applied when the tenant's key comes back.
            Ok(_) | Err(MetricsError::TenantUnavailable { .. }) => Ok(()),
            Err(e) => Err(e),
        })
        .await
    }

    async fn usage(&self, tenant: &TenantId) -> MetricsResult<TenantUsage> {
        let t = tenant.clone();
        let active_series = self
            .blocking(move |this| {
                Ok(this
                    .existing_db(&t)?
                    .map_or(0, |db| db.stats().head_series as u64))
            })
            .await?;
        let tenants = lock(&self.tenants);
        let load = |f: fn(&TenantState) -> &AtomicU64| {
            tenants
                .get(tenant)
                .map_or(0, |s| f(s).load(Ordering::Relaxed))
        };
        Ok(TenantUsage {
            active_series,
            samples_ingested: load(|s| &s.samples_ingested),
            query_samples_processed: load(|s| &s.query_samples_processed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn backend() -> crate::metrics_testsuite::Harness {
        let dir = tempfile::tempdir().unwrap();
        let backend = LocalBackend::new(
            dir.path(),
            LocalOptions::default(),
            Arc::new(ampd_tsdb::IdentitySealer),
        )
        .unwrap();
        crate::metrics_testsuite::Harness {
            backend: Arc::new(backend),
            keep: Box::new(dir),
        }
    }

    crate::metrics_backend_conformance!(backend);

    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;

    fn open(dir: &Path) -> LocalBackend {
        LocalBackend::new(
            dir,
            LocalOptions::default(),
            Arc::new(ampd_tsdb::IdentitySealer),
        )
        .unwrap()
    }

    fn one(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> WriteBatch {
        WriteBatch {
            series: vec![crate::metrics_testsuite::series(labels, samples)],
            metadata: vec![],
        }
    }

    async fn instant(b: &LocalBackend, t: &TenantId, expr: &str, at: i64) -> ampd_promql::Value {
        b.query(
            t,
            InstantQuery {
                expr: expr.into(),
                time_ms: at,
                timeout: None,
                limits: QueryLimits::default(),
            },
        )
        .await
        .unwrap()
        .value
    }

    fn vector_floats(v: &ampd_promql::Value) -> Vec<f64> {
        let ampd_promql::Value::Vector(v) = v else {
            panic!("vector expected, got {v:?}")
        };
        v.iter()
            .map(|s| match s.value {
                ampd_promql::PointValue::Float(f) => f,
                ampd_promql::PointValue::Histogram(_) => panic!("float expected"),
            })
            .collect()
    }

    #[tokio::test]
    async fn remote_write_round_trip_then_rate() {
        use ampd_remote_write::{Limits, Protocol, decode, encode};
        let dir = tempfile::tempdir().unwrap();
        let b = open(dir.path());
        // A counter growing by 60 per minute: 1 per second.
        let samples: Vec<(i64, f64)> = (0..=10).map(|i| (i * MIN, i as f64 * 60.0)).collect();
        let sent = one(&[("__name__", "reqs_total"), ("job", "api")], &samples);
        for (protocol, tenant) in [(Protocol::V1, "ws-e2e-v1"), (Protocol::V2, "ws-e2e-v2")] {
            let t = TenantId::new(tenant);
            let body = encode(&sent, protocol).unwrap();
            let got = decode(
                Some(protocol.content_type()),
                Some("snappy"),
                &body,
                &Limits::default(),
            )
            .unwrap();
            let out = b.write(&t, got.batch).await.unwrap();
            assert_eq!((out.samples, out.rejected()), (11, 0), "{out:?}");
            let v = instant(&b, &t, "rate(reqs_total[5m])", 10 * MIN).await;
            assert_eq!(vector_floats(&v), vec![1.0]);
            let v = instant(&b, &t, "sum by (job) (increase(reqs_total[5m]))", 10 * MIN).await;
            assert_eq!(vector_floats(&v), vec![300.0]);
        }
    }

    #[tokio::test]
    async fn settings_are_applied_when_a_tenant_is_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let t = TenantId::new("ws-reopen");
        let l = [("__name__", "m")];
        {
            let b = open(dir.path());
            b.write(&t, one(&l, &[(10 * MIN, 1.0)])).await.unwrap();
        }
        let b = open(dir.path());
        b.set_limits(
            &t,
            TenantSettings {
                retention: Duration::from_secs(3_600),
                out_of_order_window: Duration::ZERO,
                max_active_series: None,
                label_set_limits: Vec::new(),
            },
        )
        .await
        .unwrap();
        // 30s behind: inside the default 60s window, outside the configured one.
        let out = b
            .write(&t, one(&l, &[(10 * MIN - 30_000, 2.0)]))
            .await
            .unwrap();
        assert_eq!(out.out_of_order, 1, "{out:?}");
        assert_eq!(
            vector_floats(&instant(&b, &t, "m", 10 * MIN).await),
            vec![1.0]
        );
    }

    #[tokio::test]
    async fn maintenance_applies_retention() {
        let dir = tempfile::tempdir().unwrap();
        let b = open(dir.path());
        let t = TenantId::new("ws-retention");
        b.set_limits(
            &t,
            TenantSettings {
                retention: Duration::from_secs(3_600),
                out_of_order_window: Duration::ZERO,
                max_active_series: None,
                label_set_limits: Vec::new(),
            },
        )
        .await
        .unwrap();
        let l = [("__name__", "m")];
        b.write(&t, one(&l, &[(MIN, 1.0), (10 * HOUR, 2.0)]))
            .await
            .unwrap();
        assert_eq!(
            vector_floats(&instant(&b, &t, "m", 2 * MIN).await),
            vec![1.0]
        );
        b.maintain(10 * HOUR).await.unwrap();
        assert!(vector_floats(&instant(&b, &t, "m", 2 * MIN).await).is_empty());
        assert_eq!(
            vector_floats(&instant(&b, &t, "m", 10 * HOUR).await),
            vec![2.0]
        );
    }

    /// Refuses the key of every tenant, as a disabled KMS key does.
    #[derive(Debug)]
    struct DisabledKeys;

    impl SealerProvider for DisabledKeys {
        fn sealer_for(&self, _: &str) -> Result<Arc<dyn ampd_tsdb::Sealer>, SealError> {
            Err(SealError::KeyUnavailable("key is disabled".into()))
        }
    }

    #[tokio::test]
    async fn unavailable_keys_make_the_tenant_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let b =
            LocalBackend::new(dir.path(), LocalOptions::default(), Arc::new(DisabledKeys)).unwrap();
        let e = b
            .write(
                &TenantId::new("ws-locked"),
                one(&[("__name__", "m")], &[(0, 1.0)]),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), crate::MetricsErrorKind::TenantUnavailable);
        assert_eq!(
            e.to_string(),
            "tenant ws-locked unavailable: key is disabled"
        );
    }

    #[tokio::test]
    async fn maintenance_task_runs_on_its_timer() {
        let dir = tempfile::tempdir().unwrap();
        let b = Arc::new(open(dir.path()));
        let t = TenantId::new("ws-timer");
        b.write(&t, one(&[("__name__", "m")], &[(MIN, 1.0)]))
            .await
            .unwrap();
        // Data from 1970 is far past the default retention of the wall clock's now: once a
        // tick finds the head idle (the tick after the write), it is cut into a block and
        // deleted.
        let task = b.spawn_maintenance(Duration::from_millis(20));
        let mut gone = false;
        for _ in 0..1_000 {
            if vector_floats(&instant(&b, &t, "m", 2 * MIN).await).is_empty() {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(task);
        assert!(gone, "maintenance never applied retention");
    }

    #[tokio::test]
    async fn exemplars_are_returned_by_selector() {
        let dir = tempfile::tempdir().unwrap();
        let b = open(dir.path());
        let t = TenantId::new("ws-exemplars");
        let mut w = one(&[("__name__", "reqs_total"), ("job", "api")], &[(MIN, 1.0)]);
        w.series[0].exemplars = vec![ampd_remote_write::Exemplar {
            labels: vec![ampd_remote_write::Label::new("trace_id", "abc")],
            value: 1.0,
            timestamp: MIN,
        }];
        assert_eq!(b.write(&t, w).await.unwrap().exemplars, 1);
        let got = b
            .exemplars(&t, &["reqs_total".into()], TimeRange::ALL)
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].series.get("job"), Some("api"));
        assert_eq!(got[0].exemplars[0].labels.get("trace_id"), Some("abc"));
        assert_eq!(got[0].exemplars[0].timestamp_ms, MIN);
        let none = b
            .exemplars(&t, &[r#"reqs_total{job="web"}"#.into()], TimeRange::ALL)
            .await
            .unwrap();
        assert!(none.is_empty());
        assert!(b.exemplars(&t, &[], TimeRange::ALL).await.is_err());
    }

    #[test]
    fn engine_errors_map_to_api_kinds() {
        use crate::MetricsErrorKind as K;
        let t = TenantId::new("ws-1");
        let cases = [
            (EngineError::BadQuery("x".into()), K::BadData),
            (EngineError::Execution("x".into()), K::Execution),
            (EngineError::TooManySamples, K::TooManySamples),
            (EngineError::TooManySeries { limit: 1 }, K::Execution),
            (
                EngineError::TooManySamplesProcessed { limit: 1 },
                K::Execution,
            ),
            (EngineError::Timeout, K::Timeout),
            (EngineError::Canceled, K::Canceled),
            (
                EngineError::Storage(StorageError::Backend(Box::new(ampd_tsdb::Error::Closed))),
                K::TenantUnavailable,
            ),
            (
                EngineError::Storage(StorageError::Backend(Box::new(ampd_tsdb::Error::Corrupt {
                    what: "chunk",
                    detail: "checksum".into(),
                }))),
                K::Internal,
            ),
        ];
        for (e, kind) in cases {
            assert_eq!(engine_error(&t, e).kind(), kind);
        }
    }

    #[tokio::test]
    async fn selectors_load_only_matching_series_in_range() {
        let dir = tempfile::tempdir().unwrap();
        let b = open(dir.path());
        let t = TenantId::new("ws-pushdown");
        let samples: Vec<(i64, f64)> = (0..600).map(|i| (i * 15_000, i as f64)).collect();
        let batch = WriteBatch {
            series: ["a", "b", "c"]
                .iter()
                .map(|job| {
                    crate::metrics_testsuite::series(&[("__name__", "m"), ("job", job)], &samples)
                })
                .collect(),
            metadata: vec![],
        };
        b.write(&t, batch).await.unwrap();
        let r = b
            .query(
                &t,
                InstantQuery {
                    expr: r#"count_over_time(m{job=~"a|b"}[1m])"#.into(),
                    time_ms: 60 * MIN,
                    timeout: None,
                    limits: QueryLimits::default(),
                },
            )
            .await
            .unwrap();
        // Two series, the four samples of (59m, 60m] each: nothing else is read.
        assert_eq!(r.stats.series_touched, 2);
        assert_eq!(r.stats.samples_loaded, 8);
        assert_eq!(r.stats.samples_processed, 8);
        assert_eq!(b.usage(&t).await.unwrap().query_samples_processed, 8);
    }

    #[tokio::test]
    async fn limits_and_timeouts_fail_queries_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let b = open(dir.path());
        let t = TenantId::new("ws-limits");
        for job in ["a", "b", "c"] {
            b.write(&t, one(&[("__name__", "m"), ("job", job)], &[(MIN, 1.0)]))
                .await
                .unwrap();
        }
        let q = |limits, timeout| InstantQuery {
            expr: "m".into(),
            time_ms: 2 * MIN,
            timeout,
            limits,
        };
        let series = QueryLimits {
            max_series: Some(2),
            ..QueryLimits::default()
        };
        let e = b.query(&t, q(series, None)).await.unwrap_err();
        assert_eq!(e.kind(), crate::MetricsErrorKind::Execution);
        assert!(e.to_string().contains("limit: 2 series"), "{e}");
        let samples = QueryLimits {
            max_samples: Some(2),
            ..QueryLimits::default()
        };
        let e = b.query(&t, q(samples, None)).await.unwrap_err();
        assert_eq!(e.kind(), crate::MetricsErrorKind::TooManySamples);
        let e = b
            .query(&t, q(QueryLimits::default(), Some(Duration::ZERO)))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), crate::MetricsErrorKind::Timeout);
        assert!(b.query(&t, q(QueryLimits::default(), None)).await.is_ok());
    }

    #[tokio::test]
    async fn empty_label_sets_fail_the_write() {
        let dir = tempfile::tempdir().unwrap();
        let b = open(dir.path());
        let e = b
            .write(&TenantId::new("ws-empty"), one(&[], &[(0, 1.0)]))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), crate::MetricsErrorKind::BadData);
    }

    #[tokio::test]
    async fn invalid_tenant_ids_are_bad_data() {
        let dir = tempfile::tempdir().unwrap();
        let b = open(dir.path());
        let e = b
            .write(
                &TenantId::new("../escape"),
                one(&[("__name__", "m")], &[(0, 1.0)]),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), crate::MetricsErrorKind::BadData);
    }
}
