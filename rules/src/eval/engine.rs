//! The rule engine: every group of every workspace on its schedule, and the per-workspace
//! Alertmanagers its alerts go to.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ampd_backends::{MetricsBackend, TenantId};
use time::OffsetDateTime;

use super::file::{RuleFileError, parse_rule_file};
use super::group::{EvalContext, Group, OutgoingAlert};
use super::view::{AlertView, RuleFilter, RuleGroupView, group_view};
use crate::alertmanager::{Alertmanager, AlertmanagerError};
use crate::clock::Clock;
use crate::config::{ConfigError, validate_definition};
use crate::matchers::LabelSet;
use crate::notify::NotifySettings;
use crate::wire::PostableAlert;

/// Settings of the [`RuleEngine`].
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Labels every alert sees as `$externalLabels` (AMP sets none).
    pub external_labels: LabelSet,
    /// Base URL of the server; a workspace's `$externalURL` is `<base>/workspaces/<id>`.
    pub external_url: String,
    /// Least time between two sends of an unchanged firing alert (Prometheus: 1m).
    pub resend_delay: Duration,
    /// How far back alert state is restored from `ALERTS_FOR_STATE` (Prometheus: 1h).
    pub outage_tolerance: Duration,
    /// Folder holding one state folder per workspace Alertmanager (silences, notification log).
    pub alertmanager_dir: PathBuf,
    /// How often each Alertmanager flushes its due groups.
    pub alertmanager_tick: Duration,
    /// Notification settings; `external_url` is set per workspace.
    pub notify: NotifySettings,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            external_labels: LabelSet::new(),
            external_url: "http://127.0.0.1:9096".to_owned(),
            resend_delay: Duration::from_secs(60),
            outage_tolerance: Duration::from_secs(3600),
            alertmanager_dir: PathBuf::from("alertmanager"),
            alertmanager_tick: Duration::from_millis(200),
            notify: NotifySettings::default(),
        }
    }
}

/// Why a workspace's rules or Alertmanager could not be (re)loaded.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A rule groups namespace does not parse.
    #[error("namespace {namespace}: {source}")]
    RuleFile {
        /// The namespace.
        namespace: String,
        /// Why.
        source: RuleFileError,
    },
    /// The alert manager definition is invalid.
    #[error("alert manager definition: {0}")]
    Definition(#[from] ConfigError),
    /// The Alertmanager could not be opened.
    #[error(transparent)]
    Alertmanager(#[from] AlertmanagerError),
}

#[derive(Debug)]
struct Namespace {
    digest: u64,
    groups: Vec<Arc<Group>>,
}

#[derive(Debug)]
struct WorkspaceAm {
    digest: u64,
    am: Arc<Alertmanager>,
    ticker: tokio::task::JoinHandle<()>,
}

impl Drop for WorkspaceAm {
    fn drop(&mut self) {
        self.ticker.abort();
    }
}

#[derive(Debug, Default)]
struct Workspaces {
    rules: BTreeMap<String, BTreeMap<String, Namespace>>,
    alertmanagers: BTreeMap<String, WorkspaceAm>,
}

/// Evaluates the rule groups of every workspace over a [`MetricsBackend`] and hosts each
/// workspace's [`Alertmanager`].
///
/// The caller keeps it in step with the metadata store ([`Self::sync_rules`],
/// [`Self::sync_alertmanager`], [`Self::retain`]) and drives it with [`Self::tick`]. Each group is evaluated at aligned instants of its interval (offset by a
/// hash of its identity, as Prometheus staggers groups); a group whose evaluation overruns skips
/// the missed instants instead of overlapping itself.
#[derive(Debug)]
pub struct RuleEngine {
    metrics: Arc<dyn MetricsBackend>,
    clock: Arc<dyn Clock>,
    settings: EngineSettings,
    workspaces: Mutex<Workspaces>,
}

fn digest(data: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    data.hash(&mut h);
    h.finish()
}

fn now_ms(clock: &dyn Clock) -> i64 {
    i64::try_from(clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Returns the latest instant `<= now` of the schedule `offset + k * interval`.
pub(crate) fn slot(now_ms: i64, interval_ms: i64, offset_ms: i64) -> i64 {
    now_ms - (now_ms - offset_ms).rem_euclid(interval_ms)
}

impl RuleEngine {
    /// Creates an engine with no workspaces.
    pub fn new(
        metrics: Arc<dyn MetricsBackend>,
        clock: Arc<dyn Clock>,
        settings: EngineSettings,
    ) -> Self {
        Self {
            metrics,
            clock,
            settings,
            workspaces: Mutex::new(Workspaces::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Workspaces> {
        self.workspaces.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn external_url(&self, workspace: &str) -> String {
        format!(
            "{}/workspaces/{workspace}",
            self.settings.external_url.trim_end_matches('/')
        )
    }

    /// Sets the rule groups namespaces of a workspace (name and rule file); namespaces not
    /// listed are dropped. Unchanged namespaces keep their state; changed ones take effect at
    /// their groups' next evaluation and keep the state of unchanged rules. A namespace that
    /// does not parse keeps its previous groups and is reported.
    pub fn sync_rules(
        &self,
        workspace: &str,
        namespaces: &[(String, Vec<u8>)],
    ) -> Vec<EngineError> {
        let mut errors = Vec::new();
        let mut ws = self.lock();
        let mut old = ws.rules.remove(workspace).unwrap_or_default();
        let mut new = BTreeMap::new();
        for (name, data) in namespaces {
            let d = digest(data);
            if let Some(ns) = old.remove(name) {
                if ns.digest == d {
                    new.insert(name.clone(), ns);
                    continue;
                }
                match parse_rule_file(data) {
                    Ok(specs) => {
                        let groups = specs
                            .into_iter()
                            .map(|spec| {
                                let prev = ns.groups.iter().find(|g| g.spec.name == spec.name);
                                Arc::new(Group::new(name.clone(), spec, prev.map(|g| &**g)))
                            })
                            .collect();
                        new.insert(name.clone(), Namespace { digest: d, groups });
                    }
                    Err(source) => {
                        errors.push(EngineError::RuleFile {
                            namespace: name.clone(),
                            source,
                        });
                        new.insert(name.clone(), ns);
                    }
                }
                continue;
            }
            match parse_rule_file(data) {
                Ok(specs) => {
                    let groups = specs
                        .into_iter()
                        .map(|spec| Arc::new(Group::new(name.clone(), spec, None)))
                        .collect();
                    new.insert(name.clone(), Namespace { digest: d, groups });
                }
                Err(source) => errors.push(EngineError::RuleFile {
                    namespace: name.clone(),
                    source,
                }),
            }
        }
        if !new.is_empty() {
            ws.rules.insert(workspace.to_owned(), new);
        }
        errors
    }

    /// Sets (or, with `None`, removes) the alert manager definition of a workspace. A changed
    /// definition is applied to the running Alertmanager, which keeps its alerts, silences and
    /// notification log.
    pub fn sync_alertmanager(
        &self,
        workspace: &str,
        definition: Option<&[u8]>,
    ) -> Result<(), EngineError> {
        let Some(data) = definition else {
            self.lock().alertmanagers.remove(workspace);
            return Ok(());
        };
        let d = digest(data);
        if let Some(existing) = self.lock().alertmanagers.get_mut(workspace) {
            if existing.digest != d {
                existing.am.apply(validate_definition(data)?)?;
                existing.digest = d;
            }
            return Ok(());
        }
        let definition = validate_definition(data)?;
        let notify = NotifySettings {
            external_url: format!("{}/alertmanager", self.external_url(workspace)),
            ..self.settings.notify.clone()
        };
        let am = Arc::new(Alertmanager::new(
            definition,
            self.settings.alertmanager_dir.join(workspace),
            self.clock.clone(),
            notify,
        )?);
        let ticker = am.clone().spawn_ticker(self.settings.alertmanager_tick);
        self.lock().alertmanagers.insert(
            workspace.to_owned(),
            WorkspaceAm {
                digest: d,
                am,
                ticker,
            },
        );
        Ok(())
    }

    /// Drops the rules and Alertmanager of every workspace not in `workspaces`, with the
    /// Alertmanager's silences and notification log on disk.
    pub fn retain(&self, workspaces: &[String]) {
        let gone: Vec<String> = {
            let mut ws = self.lock();
            ws.rules.retain(|id, _| workspaces.contains(id));
            let gone = ws
                .alertmanagers
                .keys()
                .filter(|id| !workspaces.contains(id))
                .cloned()
                .collect();
            ws.alertmanagers.retain(|id, _| workspaces.contains(id));
            gone
        };
        for id in gone {
            let dir = self.settings.alertmanager_dir.join(&id);
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                tracing::warn!(workspace = %id, error = %e, "cannot remove alertmanager state {}: {e}", dir.display());
            }
        }
    }

    /// Returns the Alertmanager of a workspace, if it has a definition.
    pub fn alertmanager(&self, workspace: &str) -> Option<Arc<Alertmanager>> {
        self.lock()
            .alertmanagers
            .get(workspace)
            .map(|w| w.am.clone())
    }

    fn context(&self, workspace: &str) -> EvalContext {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        EvalContext {
            external_labels: self.settings.external_labels.clone(),
            external_url: self.external_url(workspace),
            resend_delay_ms: ms(self.settings.resend_delay),
            outage_tolerance_ms: ms(self.settings.outage_tolerance),
        }
    }

    /// Starts the evaluation of every group that is due at the clock's time and not running;
    /// returns the started evaluations (await them to wait for the results).
    pub fn tick(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        let now = now_ms(&*self.clock);
        let due: Vec<(String, Arc<Group>)> = {
            let ws = self.lock();
            ws.rules
                .iter()
                .flat_map(|(id, nss)| {
                    nss.values()
                        .flat_map(|ns| ns.groups.iter())
                        .map(move |g| (id.clone(), g.clone()))
                })
                .collect()
        };
        let mut started = Vec::new();
        for (workspace, group) in due {
            let interval = group.spec.interval_ms;
            let offset = {
                let mut h = DefaultHasher::new();
                (&workspace, &group.namespace, &group.spec.name).hash(&mut h);
                i64::try_from(h.finish() % interval.unsigned_abs()).unwrap_or(0)
            };
            let ts = {
                let mut st = group.lock();
                let current = slot(now, interval, offset);
                match st.next_due_ms {
                    None => {
                        // First sight: evaluate at the next instant of the schedule.
                        st.next_due_ms = Some(current + interval);
                        continue;
                    }
                    Some(due) if now < due => continue,
                    Some(due) => {
                        if group.running_now() {
                            continue;
                        }
                        let skipped = (current - due) / interval;
                        if skipped > 0 {
                            st.missed += skipped.unsigned_abs();
                            tracing::warn!(
                                tenant = %workspace, group = %group.spec.name, skipped,
                                "rule group evaluation missed {skipped} iterations"
                            );
                        }
                        st.next_due_ms = Some(current + interval);
                        current
                    }
                }
            };
            let engine = self.clone();
            started.push(tokio::spawn(async move {
                let Some(_running) = group.try_start() else {
                    return;
                };
                let tenant = TenantId::new(&workspace);
                let ctx = engine.context(&workspace);
                let alerts = group.evaluate(&*engine.metrics, &tenant, ts, &ctx).await;
                engine.send(&workspace, alerts);
            }));
        }
        started
    }

    fn send(&self, workspace: &str, alerts: Vec<OutgoingAlert>) {
        if alerts.is_empty() {
            return;
        }
        let Some(am) = self.alertmanager(workspace) else {
            return;
        };
        let time =
            |ms: i64| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok();
        let postable = alerts
            .into_iter()
            .map(|a| PostableAlert {
                labels: a.labels,
                annotations: a.annotations,
                starts_at: time(a.starts_at_ms),
                ends_at: time(a.ends_at_ms),
                generator_url: Some(a.generator_url),
            })
            .collect();
        if let Err(e) = am.put_alerts(postable) {
            tracing::warn!(tenant = %workspace, error = %e, "alertmanager refused rule alerts: {e}");
        }
    }

    /// Returns the rule groups of a workspace as `/api/v1/rules` lists them.
    pub fn rule_groups(&self, workspace: &str, filter: &RuleFilter) -> Vec<RuleGroupView> {
        let groups: Vec<Arc<Group>> = self
            .lock()
            .rules
            .get(workspace)
            .map(|nss| {
                nss.values()
                    .flat_map(|ns| ns.groups.iter().cloned())
                    .collect()
            })
            .unwrap_or_default();
        groups
            .iter()
            .filter_map(|g| group_view(g, filter))
            .collect()
    }

    /// Returns the pending and firing alerts of a workspace as `/api/v1/alerts` lists them.
    pub fn alerts(&self, workspace: &str) -> Vec<AlertView> {
        let filter = RuleFilter {
            kind: Some(super::view::RuleType::Alerting),
            ..RuleFilter::default()
        };
        self.rule_groups(workspace, &filter)
            .into_iter()
            .flat_map(|g| g.rules)
            .flat_map(|r| r.alerts.unwrap_or_default())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use ampd_backends::{InstantQuery, LocalBackend, LocalOptions};
    use ampd_promql::{PointValue, Value};
    use ampd_remote_write::{Label, Sample, Series, WriteBatch};

    use super::*;
    use crate::clock::ManualClock;
    use crate::eval::view::RuleType;

    const WS: &str = "ws-test";
    /// 2024-01-01T00:00:00Z.
    const T0: i64 = 1_704_067_200_000;

    fn backend(dir: &std::path::Path) -> Arc<dyn MetricsBackend> {
        Arc::new(
            LocalBackend::new(
                dir,
                LocalOptions::default(),
                Arc::new(ampd_tsdb::IdentitySealer),
            )
            .unwrap(),
        )
    }

    /// Writes `up` for jobs a (down) and b (up) every 15s over `[from, to]`.
    async fn write_up(metrics: &dyn MetricsBackend, from: i64, to: i64) {
        let series = |job: &str, v: f64| Series {
            labels: vec![
                Label::new("__name__", "up"),
                Label::new("instance", format!("{job}:9100")),
                Label::new("job", job),
            ],
            samples: (from..=to)
                .step_by(15_000)
                .map(|timestamp| Sample {
                    timestamp,
                    value: v,
                })
                .collect(),
            ..Series::default()
        };
        let batch = WriteBatch {
            series: vec![series("a", 0.0), series("b", 1.0)],
            metadata: Vec::new(),
        };
        metrics.write(&TenantId::new(WS), batch).await.unwrap();
    }

    async fn instant(metrics: &dyn MetricsBackend, expr: &str, at: i64) -> Vec<(String, f64)> {
        let data = metrics
            .query(
                &TenantId::new(WS),
                InstantQuery {
                    expr: expr.into(),
                    time_ms: at,
                    timeout: None,
                    limits: Default::default(),
                },
            )
            .await
            .unwrap();
        let Value::Vector(v) = data.value else {
            panic!("not a vector")
        };
        v.into_iter()
            .map(|s| {
                let PointValue::Float(f) = s.value else {
                    panic!("histogram")
                };
                (s.labels.to_string(), f)
            })
            .collect()
    }

    const RULES: &[u8] = br#"
groups:
  - name: node
    interval: 1m
    labels: {team: infra}
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: InstanceDown
        expr: up == 0
        for: 2m
        labels: {severity: page, where: "{{ $labels.instance }}"}
        annotations:
          summary: "{{ $labels.job }} is down ({{ $value }})"
          count: '{{ query "count(up)" | first | value }}'
"#;

    fn clock_at(ms: i64) -> Arc<ManualClock> {
        Arc::new(ManualClock::new(
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap(),
        ))
    }

    fn set(clock: &ManualClock, ms: i64) {
        clock.set(OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap());
    }

    /// Ticks at `ms` and waits for the evaluations it started.
    async fn tick_at(engine: &Arc<RuleEngine>, clock: &ManualClock, ms: i64) -> usize {
        set(clock, ms);
        let started = engine.tick();
        let n = started.len();
        for h in started {
            h.await.unwrap();
        }
        n
    }

    fn engine(
        metrics: Arc<dyn MetricsBackend>,
        clock: Arc<ManualClock>,
        dir: &std::path::Path,
    ) -> Arc<RuleEngine> {
        Arc::new(RuleEngine::new(
            metrics,
            clock,
            EngineSettings {
                alertmanager_dir: dir.join("am"),
                ..EngineSettings::default()
            },
        ))
    }

    fn the_alert(engine: &RuleEngine) -> AlertView {
        let alerts = engine.alerts(WS);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        alerts.into_iter().next().unwrap()
    }

    #[tokio::test]
    async fn records_alerts_and_restores_after_restart() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = backend(&dir.path().join("tsdb"));
        write_up(&*metrics, T0 - 600_000, T0 + 900_000).await;
        let clock = clock_at(T0);
        let engine = engine(metrics.clone(), clock.clone(), dir.path());
        assert!(
            engine
                .sync_rules(WS, &[("ns".into(), RULES.to_vec())])
                .is_empty()
        );
        // The first tick only schedules; evaluations then run once per interval, aligned.
        assert_eq!(tick_at(&engine, &clock, T0).await, 0);
        let mut evaluated = Vec::new();
        for s in (1..=70).map(|i| T0 + i * 5_000) {
            if tick_at(&engine, &clock, s).await > 0 {
                evaluated.push(s);
            }
        }
        assert!(evaluated.len() >= 5, "{evaluated:?}");
        assert!(evaluated.windows(2).all(|w| w[1] - w[0] == 60_000));
        let groups = engine.rule_groups(WS, &RuleFilter::default());
        let last = OffsetDateTime::parse(
            &groups[0].last_evaluation,
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let ts = i64::try_from(last.unix_timestamp_nanos() / 1_000_000).unwrap();
        assert_eq!(groups[0].rules[0].health, "ok");
        assert_eq!(
            instant(&*metrics, "job:up:sum", ts).await,
            vec![
                (
                    "{__name__=\"job:up:sum\", job=\"a\", team=\"infra\"}".to_owned(),
                    0.0
                ),
                (
                    "{__name__=\"job:up:sum\", job=\"b\", team=\"infra\"}".to_owned(),
                    1.0
                ),
            ]
        );
        let alert = the_alert(&engine);
        assert_eq!(alert.state, "firing");
        assert_eq!(alert.labels["where"], "a:9100");
        assert_eq!(alert.labels["severity"], "page");
        assert_eq!(alert.labels["team"], "infra");
        assert_eq!(alert.annotations["summary"], "a is down (0)");
        assert_eq!(alert.annotations["count"], "2");
        assert_eq!(alert.value, "0e+00");
        let alerts_series = instant(&*metrics, "ALERTS", ts).await;
        assert_eq!(alerts_series.len(), 1);
        assert!(alerts_series[0].0.contains("alertstate=\"firing\""));
        let for_state = instant(&*metrics, "ALERTS_FOR_STATE", ts).await;
        let active_at = &alert.active_at;
        let active_at_s =
            OffsetDateTime::parse(active_at, &time::format_description::well_known::Rfc3339)
                .unwrap()
                .unix_timestamp();
        #[allow(clippy::cast_precision_loss)]
        let expected = active_at_s as f64;
        assert_eq!(for_state[0].1, expected);

        // A new engine over the same data restores the alert as firing with its activeAt.
        let restarted = self::engine(metrics.clone(), clock.clone(), dir.path());
        restarted.sync_rules(WS, &[("ns".into(), RULES.to_vec())]);
        let next = ts + 60_000;
        tick_at(&restarted, &clock, next - 1).await;
        assert_eq!(tick_at(&restarted, &clock, next).await, 1);
        let alert = the_alert(&restarted);
        assert_eq!(alert.state, "firing");
        assert_eq!(
            OffsetDateTime::parse(
                &alert.active_at,
                &time::format_description::well_known::Rfc3339
            )
            .unwrap()
            .unix_timestamp(),
            active_at_s
        );

        // Filters of /api/v1/rules.
        let only = |filter: RuleFilter| -> Vec<String> {
            restarted
                .rule_groups(WS, &filter)
                .into_iter()
                .flat_map(|g| g.rules)
                .map(|r| r.name)
                .collect()
        };
        assert_eq!(
            only(RuleFilter {
                kind: Some(RuleType::Recording),
                ..Default::default()
            }),
            ["job:up:sum"]
        );
        assert_eq!(
            only(RuleFilter {
                rule_names: vec!["InstanceDown".into()],
                ..Default::default()
            }),
            ["InstanceDown"]
        );
        assert!(
            only(RuleFilter {
                files: vec!["other".into()],
                ..Default::default()
            })
            .is_empty()
        );
        assert!(
            only(RuleFilter {
                group_names: vec!["nope".into()],
                ..Default::default()
            })
            .is_empty()
        );
    }

    #[tokio::test]
    async fn rule_changes_apply_on_the_next_evaluation_and_keep_state() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = backend(&dir.path().join("tsdb"));
        write_up(&*metrics, T0 - 600_000, T0 + 600_000).await;
        let clock = clock_at(T0);
        let engine = engine(metrics.clone(), clock.clone(), dir.path());
        engine.sync_rules(WS, &[("ns".into(), RULES.to_vec())]);
        for s in (0..=40).map(|i| T0 + i * 5_000) {
            tick_at(&engine, &clock, s).await;
        }
        let before = the_alert(&engine);
        let changed = String::from_utf8(RULES.to_vec())
            .unwrap()
            .replace("sum by (job) (up)", "count by (job) (up)");
        assert!(
            engine
                .sync_rules(WS, &[("ns".into(), changed.into_bytes())])
                .is_empty()
        );
        for s in (41..=55).map(|i| T0 + i * 5_000) {
            tick_at(&engine, &clock, s).await;
        }
        let groups = engine.rule_groups(WS, &RuleFilter::default());
        assert_eq!(groups[0].rules[0].query, "count by (job) (up)");
        assert_eq!(the_alert(&engine).active_at, before.active_at);
        // A broken file keeps the previous groups and is reported.
        let errors = engine.sync_rules(WS, &[("ns".into(), b"groups: [".to_vec())]);
        assert_eq!(errors.len(), 1);
        assert_eq!(engine.rule_groups(WS, &RuleFilter::default()).len(), 1);
        // Removing the namespace removes its groups.
        engine.sync_rules(WS, &[]);
        assert!(engine.rule_groups(WS, &RuleFilter::default()).is_empty());
    }

    #[tokio::test]
    async fn errors_and_limits_show_in_health() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = backend(&dir.path().join("tsdb"));
        write_up(&*metrics, T0 - 600_000, T0 + 600_000).await;
        let clock = clock_at(T0);
        let engine = engine(metrics.clone(), clock.clone(), dir.path());
        let rules = br#"
groups:
  - name: limited
    interval: 10s
    limit: 1
    rules:
      - record: copy
        expr: up
      - record: bad
        expr: up{job="a"} + on() group_left up
"#;
        engine.sync_rules(WS, &[("ns".into(), rules.to_vec())]);
        for s in (0..=4).map(|i| T0 + i * 10_000) {
            tick_at(&engine, &clock, s).await;
        }
        let g = &engine.rule_groups(WS, &RuleFilter::default())[0];
        assert_eq!(g.rules[0].health, "err");
        assert_eq!(
            g.rules[0].last_error.as_deref(),
            Some("exceeded limit of 1 with 2 series")
        );
        assert_eq!(g.rules[1].health, "err");
        assert!(g.rules[1].last_error.is_some());
    }

    #[tokio::test]
    async fn firing_alerts_reach_the_workspace_alertmanager() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = backend(&dir.path().join("tsdb"));
        write_up(&*metrics, T0 - 600_000, T0 + 600_000).await;
        let clock = clock_at(T0);
        let engine = engine(metrics.clone(), clock.clone(), dir.path());
        engine
            .sync_alertmanager(WS, Some(b"alertmanager_config: |\n  route: {receiver: default}\n  receivers: [{name: default}]\n"))
            .unwrap();
        let rules = b"groups: [{name: g, interval: 10s, rules: [{alert: Down, expr: up == 0}]}]";
        engine.sync_rules(WS, &[("ns".into(), rules.to_vec())]);
        for s in (0..=4).map(|i| T0 + i * 10_000) {
            tick_at(&engine, &clock, s).await;
        }
        let am = engine.alertmanager(WS).unwrap();
        let alerts = am.alerts(&crate::AlertFilter::default());
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].labels["alertname"], "Down");
        assert!(
            alerts[0]
                .generator_url
                .contains("/workspaces/ws-test/graph?g0.expr=up+%3D%3D+0")
        );
        // Removing the definition removes the Alertmanager; removing the workspace its rules.
        engine.sync_alertmanager(WS, None).unwrap();
        assert!(engine.alertmanager(WS).is_none());
        engine
            .sync_alertmanager(WS, Some(b"alertmanager_config: |\n  route: {receiver: default}\n  receivers: [{name: default}]\n"))
            .unwrap();
        assert!(dir.path().join("am").join(WS).try_exists().unwrap());
        engine.retain(&[]);
        assert!(engine.alerts(WS).is_empty());
        assert!(engine.alertmanager(WS).is_none());
        assert!(!dir.path().join("am").join(WS).try_exists().unwrap());
    }

    #[test]
    fn slots_are_aligned_to_the_offset() {
        assert_eq!(slot(125_000, 60_000, 7_000), 67_000);
        assert_eq!(slot(127_000, 60_000, 7_000), 127_000);
        assert_eq!(slot(6_000, 60_000, 7_000), -53_000);
    }
}
