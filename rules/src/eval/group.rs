//! One rule group: its rules' state and one evaluation over the metrics backend.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use ampd_backends::{InstantQuery, MetricsBackend, QueryLimits, TenantId};
use ampd_promql::{PointValue, Value, stale_nan};
use ampd_remote_write::{Label, Sample, Series, WriteBatch};

use super::file::{GroupSpec, RuleKind, RuleSpec};
use crate::alert::Fingerprint;
use crate::matchers::LabelSet;
use crate::template::expand::{Expansion, QuerySample, TemplateData, expand};

/// How long a resolved alert is still reported to the Alertmanager.
const RESOLVED_RETENTION_MS: i64 = 15 * 60_000;
/// How many times a template is expanded again to resolve `query` calls built from results.
const MAX_TEMPLATE_PASSES: usize = 4;

/// What every evaluation of a workspace's groups shares.
#[derive(Debug, Clone)]
pub(crate) struct EvalContext {
    /// Labels every alert gets as `$externalLabels`.
    pub external_labels: LabelSet,
    /// `$externalURL` and the base of generator URLs.
    pub external_url: String,
    /// Least time between two sends of an unchanged alert.
    pub resend_delay_ms: i64,
    /// How far back `ALERTS_FOR_STATE` is read when restoring alerts.
    pub outage_tolerance_ms: i64,
}

/// The health of a rule after its last evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleHealth {
    /// Not evaluated yet.
    Unknown,
    /// The last evaluation succeeded.
    Ok,
    /// The last evaluation failed.
    Err,
}

impl RuleHealth {
    /// Returns Prometheus' spelling (`unknown`, `ok`, `err`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Ok => "ok",
            Self::Err => "err",
        }
    }
}

/// The state of one alert of an alerting rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertRuleState {
    /// Its condition cleared (kept a while to report the resolution).
    Inactive,
    /// Active for less than the rule's `for`.
    Pending,
    /// Firing.
    Firing,
}

impl AlertRuleState {
    /// Returns Prometheus' spelling (`inactive`, `pending`, `firing`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inactive => "inactive",
            Self::Pending => "pending",
            Self::Firing => "firing",
        }
    }
}

/// One alert of an alerting rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleAlert {
    /// Labels (sample labels, rule labels, `alertname`).
    pub labels: LabelSet,
    /// Expanded annotations.
    pub annotations: LabelSet,
    /// Pending, firing or inactive.
    pub state: AlertRuleState,
    /// The expression's value at the last evaluation.
    pub value: f64,
    /// When the alert became active (ms).
    pub active_at_ms: i64,
    /// When it started firing (ms).
    pub fired_at_ms: Option<i64>,
    /// When it resolved (ms).
    pub resolved_at_ms: Option<i64>,
    /// Since when it is kept firing after its condition cleared (ms).
    pub keep_firing_since_ms: Option<i64>,
    last_sent_ms: Option<i64>,
    valid_until_ms: i64,
}

/// An alert to hand to the Alertmanager.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OutgoingAlert {
    pub labels: LabelSet,
    pub annotations: LabelSet,
    pub starts_at_ms: i64,
    pub ends_at_ms: i64,
    pub generator_url: String,
}

/// The mutable state of one rule.
#[derive(Debug, Clone)]
pub(crate) struct RuleState {
    pub spec: RuleSpec,
    pub health: RuleHealth,
    pub last_error: Option<String>,
    pub last_eval_ms: Option<i64>,
    pub eval_seconds: f64,
    /// Alerts by fingerprint of their labels (alerting rules only).
    pub active: BTreeMap<Fingerprint, RuleAlert>,
    /// Series written by the last successful evaluation, to mark them stale when they vanish.
    written: BTreeSet<Vec<Label>>,
}

impl RuleState {
    fn new(spec: RuleSpec) -> Self {
        Self {
            spec,
            health: RuleHealth::Unknown,
            last_error: None,
            last_eval_ms: None,
            eval_seconds: 0.0,
            active: BTreeMap::new(),
            written: BTreeSet::new(),
        }
    }
}

/// The mutable state of a group.
#[derive(Debug)]
pub(crate) struct GroupState {
    pub rules: Vec<RuleState>,
    /// When the next evaluation is due (ms); `None` until scheduled.
    pub next_due_ms: Option<i64>,
    pub last_eval_ms: Option<i64>,
    pub eval_seconds: f64,
    /// Evaluations skipped because the previous one overran.
    pub missed: u64,
    /// Whether alert state was restored from `ALERTS_FOR_STATE` (done on the first evaluation).
    pub restored: bool,
}

/// A rule group of one namespace of one workspace.
#[derive(Debug)]
pub(crate) struct Group {
    pub namespace: String,
    pub spec: GroupSpec,
    pub state: Mutex<GroupState>,
    running: AtomicBool,
}

/// Clears a group's running flag when an evaluation ends, even if its task is aborted.
pub(crate) struct Running<'a>(&'a AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Group {
    /// Creates a group, taking over the state of `previous` (same namespace and name) for the
    /// rules that did not change, as Prometheus does on reload.
    pub fn new(namespace: String, spec: GroupSpec, previous: Option<&Group>) -> Self {
        let mut old: Vec<RuleState> = previous.map(|g| g.lock().rules.clone()).unwrap_or_default();
        let rules = spec
            .rules
            .iter()
            .map(|r| {
                match old
                    .iter()
                    .position(|o| o.spec.name() == r.name() && o.spec.labels == r.labels)
                {
                    Some(i) => {
                        let mut s = old.swap_remove(i);
                        s.spec = r.clone();
                        s
                    }
                    None => RuleState::new(r.clone()),
                }
            })
            .collect();
        let (next_due_ms, restored) = previous.map_or((None, false), |p| {
            let st = p.lock();
            let due = (p.spec.interval_ms == spec.interval_ms)
                .then_some(st.next_due_ms)
                .flatten();
            (due, st.restored)
        });
        Self {
            namespace,
            spec,
            state: Mutex::new(GroupState {
                rules,
                next_due_ms,
                last_eval_ms: None,
                eval_seconds: 0.0,
                missed: 0,
                restored,
            }),
            running: AtomicBool::new(false),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, GroupState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tells whether an evaluation of the group is under way.
    pub fn running_now(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    /// Marks the group running unless it already is, so evaluations never overlap.
    pub fn try_start(&self) -> Option<Running<'_>> {
        self.running
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| Running(&self.running))
    }

    /// Evaluates every rule at `ts_ms` (queries look at `ts_ms - query_offset`), writes the
    /// results and returns the alerts to send.
    pub async fn evaluate(
        &self,
        metrics: &dyn MetricsBackend,
        tenant: &TenantId,
        ts_ms: i64,
        ctx: &EvalContext,
    ) -> Vec<OutgoingAlert> {
        let started = Instant::now();
        let eval_ts = ts_ms - self.spec.query_offset_ms;
        let restore = !self.lock().restored;
        let mut outgoing = Vec::new();
        for i in 0..self.spec.rules.len() {
            let rule_started = Instant::now();
            let spec = self.spec.rules[i].clone();
            let result = match &spec.kind {
                RuleKind::Recording { record } => {
                    self.record(metrics, tenant, i, &spec, record, eval_ts)
                        .await
                }
                RuleKind::Alerting { .. } => {
                    let evaluated = self
                        .alert(metrics, tenant, i, &spec, eval_ts, ts_ms, restore, ctx)
                        .await;
                    evaluated.map(|sent| outgoing.extend(sent))
                }
            };
            let mut st = self.lock();
            if let Some(r) = st.rules.get_mut(i) {
                r.last_eval_ms = Some(ts_ms);
                r.eval_seconds = rule_started.elapsed().as_secs_f64();
                match result {
                    Ok(()) => {
                        r.health = RuleHealth::Ok;
                        r.last_error = None;
                    }
                    Err(e) => {
                        tracing::warn!(
                            tenant = %tenant, group = %self.spec.name, rule = %spec.name(),
                            error = %e, "rule evaluation failed: {e}"
                        );
                        r.health = RuleHealth::Err;
                        r.last_error = Some(e);
                    }
                }
            }
        }
        let mut st = self.lock();
        st.restored = true;
        st.last_eval_ms = Some(ts_ms);
        st.eval_seconds = started.elapsed().as_secs_f64();
        outgoing
    }

    async fn record(
        &self,
        metrics: &dyn MetricsBackend,
        tenant: &TenantId,
        i: usize,
        spec: &RuleSpec,
        record: &str,
        eval_ts: i64,
    ) -> Result<(), String> {
        let samples = query(metrics, tenant, &spec.expr, eval_ts).await?;
        let mut series: BTreeMap<Vec<Label>, f64> = BTreeMap::new();
        for s in samples {
            let mut labels = s.labels;
            labels.insert("__name__".to_owned(), record.to_owned());
            labels.extend(spec.labels.clone());
            if series.insert(to_labels(&labels), s.value).is_some() {
                return Err(
                    "vector contains metrics with the same labelset after applying rule labels"
                        .to_owned(),
                );
            }
        }
        check_limit(self.spec.limit, series.len(), "series")?;
        let previous = {
            let mut st = self.lock();
            let written = series.keys().cloned().collect();
            st.rules
                .get_mut(i)
                .map(|r| std::mem::replace(&mut r.written, written))
                .unwrap_or_default()
        };
        write(metrics, tenant, series, &previous, eval_ts).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn alert(
        &self,
        metrics: &dyn MetricsBackend,
        tenant: &TenantId,
        i: usize,
        spec: &RuleSpec,
        eval_ts: i64,
        ts_ms: i64,
        restore: bool,
        ctx: &EvalContext,
    ) -> Result<Vec<OutgoingAlert>, String> {
        let RuleKind::Alerting {
            alert: name,
            for_ms,
            keep_firing_for_ms,
            annotations,
        } = &spec.kind
        else {
            return Ok(Vec::new());
        };
        let samples = query(metrics, tenant, &spec.expr, eval_ts).await?;
        let mut queries = BTreeMap::new();
        let mut found: BTreeMap<Fingerprint, (LabelSet, LabelSet, f64)> = BTreeMap::new();
        for s in samples {
            let data = TemplateData {
                labels: s.labels.clone(),
                external_labels: ctx.external_labels.clone(),
                external_url: ctx.external_url.clone(),
                value: s.value,
            };
            let mut labels = s.labels;
            labels.remove("__name__");
            for (k, v) in &spec.labels {
                let text = render(metrics, tenant, name, v, &data, &mut queries, eval_ts).await;
                labels.insert(k.clone(), text);
            }
            labels.insert("alertname".to_owned(), name.clone());
            let mut expanded = LabelSet::new();
            for (k, v) in annotations {
                let text = render(metrics, tenant, name, v, &data, &mut queries, eval_ts).await;
                expanded.insert(k.clone(), text);
            }
            let fp = Fingerprint::of(&labels);
            if found.insert(fp, (labels, expanded, s.value)).is_some() {
                return Err(
                    "vector contains metrics with the same labelset after applying alert labels"
                        .to_owned(),
                );
            }
        }
        let restored = if restore {
            restore_state(metrics, tenant, name, eval_ts, ctx.outage_tolerance_ms).await
        } else {
            BTreeMap::new()
        };
        let generator_url = generator_url(&ctx.external_url, &spec.expr);
        let (series, previous, sent) = {
            let mut st = self.lock();
            let Some(rule) = st.rules.get_mut(i) else {
                return Ok(Vec::new());
            };
            let step = Step {
                ts_ms,
                for_ms: *for_ms,
                keep_firing_for_ms: *keep_firing_for_ms,
                limit: self.spec.limit,
                restored,
            };
            let series = step.apply(&mut rule.active, found)?;
            let written = series.keys().cloned().collect();
            let previous = std::mem::replace(&mut rule.written, written);
            let delta = ctx.resend_delay_ms.max(self.spec.interval_ms);
            let mut sent = Vec::new();
            for a in rule.active.values_mut() {
                if !needs_sending(a, ts_ms, ctx.resend_delay_ms) {
                    continue;
                }
                a.last_sent_ms = Some(ts_ms);
                a.valid_until_ms = ts_ms + 4 * delta;
                sent.push(OutgoingAlert {
                    labels: a.labels.clone(),
                    annotations: a.annotations.clone(),
                    starts_at_ms: a.fired_at_ms.unwrap_or(a.active_at_ms),
                    ends_at_ms: a.resolved_at_ms.unwrap_or(a.valid_until_ms),
                    generator_url: generator_url.clone(),
                });
            }
            (series, previous, sent)
        };
        write(metrics, tenant, series, &previous, eval_ts).await?;
        Ok(sent)
    }
}

/// One alerting-rule state transition (Prometheus' `AlertingRule.Eval`).
struct Step {
    ts_ms: i64,
    for_ms: i64,
    keep_firing_for_ms: i64,
    limit: u64,
    restored: BTreeMap<Fingerprint, (i64, i64)>,
}

impl Step {
    /// Moves `active` to the state after an evaluation that found `found`, and returns the
    /// `ALERTS` and `ALERTS_FOR_STATE` series to write.
    fn apply(
        &self,
        active: &mut BTreeMap<Fingerprint, RuleAlert>,
        found: BTreeMap<Fingerprint, (LabelSet, LabelSet, f64)>,
    ) -> Result<BTreeMap<Vec<Label>, f64>, String> {
        let ts = self.ts_ms;
        let seen: BTreeSet<Fingerprint> = found.keys().copied().collect();
        for (fp, (labels, annotations, value)) in found {
            if let Some(a) = active.get_mut(&fp)
                && a.state != AlertRuleState::Inactive
            {
                a.value = value;
                a.annotations = annotations;
                continue;
            }
            let active_at_ms = self.restored.get(&fp).map_or(ts, |&(active_at, down_at)| {
                if self.for_ms == 0 || down_at - active_at >= self.for_ms {
                    active_at
                } else {
                    // Still pending when the data stopped: resume the pending time.
                    ts - (down_at - active_at)
                }
            });
            active.insert(
                fp,
                RuleAlert {
                    labels,
                    annotations,
                    state: AlertRuleState::Pending,
                    value,
                    active_at_ms,
                    fired_at_ms: None,
                    resolved_at_ms: None,
                    keep_firing_since_ms: None,
                    last_sent_ms: None,
                    valid_until_ms: 0,
                },
            );
        }
        let mut series = BTreeMap::new();
        let mut remove = Vec::new();
        let mut counted = 0usize;
        for (fp, a) in active.iter_mut() {
            if seen.contains(fp) {
                a.keep_firing_since_ms = None;
            } else {
                let mut keep_firing = false;
                if a.state == AlertRuleState::Firing && self.keep_firing_for_ms > 0 {
                    let since = *a.keep_firing_since_ms.get_or_insert(ts);
                    keep_firing = ts - since < self.keep_firing_for_ms;
                }
                if a.state == AlertRuleState::Pending
                    || a.resolved_at_ms
                        .is_some_and(|r| ts - r > RESOLVED_RETENTION_MS)
                {
                    remove.push(*fp);
                }
                if a.state != AlertRuleState::Inactive && !keep_firing {
                    a.state = AlertRuleState::Inactive;
                    a.resolved_at_ms = Some(ts);
                }
                if !keep_firing {
                    continue;
                }
            }
            counted += 1;
            if a.state == AlertRuleState::Pending && ts - a.active_at_ms >= self.for_ms {
                a.state = AlertRuleState::Firing;
                a.fired_at_ms = Some(ts);
            }
            let mut alerts = a.labels.clone();
            alerts.insert("__name__".to_owned(), "ALERTS".to_owned());
            alerts.insert("alertstate".to_owned(), a.state.as_str().to_owned());
            series.insert(to_labels(&alerts), 1.0);
            let mut for_state = a.labels.clone();
            for_state.insert("__name__".to_owned(), "ALERTS_FOR_STATE".to_owned());
            #[allow(clippy::cast_precision_loss)]
            series.insert(to_labels(&for_state), (a.active_at_ms / 1000) as f64);
        }
        for fp in remove {
            active.remove(&fp);
        }
        if self.limit > 0 && counted as u64 > self.limit {
            active.clear();
            return Err(format!(
                "exceeded limit of {} with {counted} alerts",
                self.limit
            ));
        }
        Ok(series)
    }
}

fn needs_sending(a: &RuleAlert, ts: i64, resend_delay_ms: i64) -> bool {
    if a.state == AlertRuleState::Pending {
        return false;
    }
    let last = a.last_sent_ms;
    if a.resolved_at_ms.is_some_and(|r| last.is_none_or(|l| r > l)) {
        return true;
    }
    last.is_none_or(|l| l + resend_delay_ms < ts)
}

fn check_limit(limit: u64, n: usize, what: &str) -> Result<(), String> {
    if limit > 0 && n as u64 > limit {
        return Err(format!("exceeded limit of {limit} with {n} {what}"));
    }
    Ok(())
}

fn to_labels(set: &LabelSet) -> Vec<Label> {
    set.iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| Label::new(k.clone(), v.clone()))
        .collect()
}

fn generator_url(external_url: &str, expr: &str) -> String {
    let q = serde_urlencoded::to_string([("g0.expr", expr), ("g0.tab", "1")]).unwrap_or_default();
    format!("{}/graph?{q}", external_url.trim_end_matches('/'))
}

/// Runs an instant query and returns its samples; a scalar reads as one unlabelled sample.
async fn query(
    metrics: &dyn MetricsBackend,
    tenant: &TenantId,
    expr: &str,
    at_ms: i64,
) -> Result<Vec<QuerySample>, String> {
    let data = metrics
        .query(
            tenant,
            InstantQuery {
                expr: expr.to_owned(),
                time_ms: at_ms,
                timeout: None,
                limits: QueryLimits::default(),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    match data.value {
        Value::Vector(v) => v
            .into_iter()
            .map(|s| match s.value {
                PointValue::Float(value) => Ok(QuerySample {
                    labels: s
                        .labels
                        .iter()
                        .map(|l| (l.name.clone(), l.value.clone()))
                        .collect(),
                    value,
                }),
                PointValue::Histogram(_) => {
                    Err("native histogram results cannot be recorded or alerted on".to_owned())
                }
            })
            .collect(),
        Value::Scalar(s) => Ok(vec![QuerySample {
            labels: LabelSet::new(),
            value: s.v,
        }]),
        other => Err(format!(
            "rule result is not a vector or scalar: {}",
            other.type_name()
        )),
    }
}

/// Expands one template, running the `query` calls it makes; a failure becomes the text, as
/// in Prometheus.
async fn render(
    metrics: &dyn MetricsBackend,
    tenant: &TenantId,
    rule: &str,
    text: &str,
    data: &TemplateData,
    queries: &mut BTreeMap<String, Vec<QuerySample>>,
    at_ms: i64,
) -> String {
    let name = format!("__alert_{rule}");
    for _ in 0..MAX_TEMPLATE_PASSES {
        match expand(&name, text, data, queries) {
            Ok(Expansion::Done(s)) => return s,
            Ok(Expansion::Missing(missing)) => {
                for q in missing {
                    match query(metrics, tenant, &q, at_ms).await {
                        Ok(r) => {
                            queries.insert(q, r);
                        }
                        Err(e) => {
                            return format!(
                                "<error expanding template: error executing template {name}: {e}>"
                            );
                        }
                    }
                }
            }
            Err(e) => return format!("<error expanding template: {e}>"),
        }
    }
    format!("<error expanding template: {name}: queries nest too deep>")
}

/// Reads `ALERTS_FOR_STATE` of alert `name` over the outage tolerance: for each alert, the
/// `activeAt` it had and when its last sample was written (ms).
async fn restore_state(
    metrics: &dyn MetricsBackend,
    tenant: &TenantId,
    name: &str,
    at_ms: i64,
    tolerance_ms: i64,
) -> BTreeMap<Fingerprint, (i64, i64)> {
    let expr = format!(
        "ALERTS_FOR_STATE{{alertname={}}}[{}ms]",
        ampd_promql::quote(name),
        tolerance_ms.max(1)
    );
    let result = metrics
        .query(
            tenant,
            InstantQuery {
                expr,
                time_ms: at_ms,
                timeout: None,
                limits: QueryLimits::default(),
            },
        )
        .await;
    let mut out = BTreeMap::new();
    match result {
        Ok(data) => {
            if let Value::Matrix(m) = data.value {
                for s in m {
                    let Some(last) = s.floats.last() else {
                        continue;
                    };
                    let labels: LabelSet = s
                        .labels
                        .iter()
                        .filter(|l| l.name != "__name__")
                        .map(|l| (l.name.clone(), l.value.clone()))
                        .collect();
                    #[allow(clippy::cast_possible_truncation)]
                    let active_at = (last.f * 1000.0) as i64;
                    out.insert(Fingerprint::of(&labels), (active_at, last.t));
                }
            }
        }
        Err(e) => {
            tracing::warn!(tenant = %tenant, alert = %name, error = %e, "cannot restore alert state: {e}")
        }
    }
    out
}

/// Writes `series` at `ts`, and staleness markers for the `previous` series that vanished.
async fn write(
    metrics: &dyn MetricsBackend,
    tenant: &TenantId,
    series: BTreeMap<Vec<Label>, f64>,
    previous: &BTreeSet<Vec<Label>>,
    ts: i64,
) -> Result<(), String> {
    let stale = previous
        .iter()
        .filter(|l| !series.contains_key(*l))
        .map(|l| (l.clone(), stale_nan()))
        .collect::<Vec<_>>();
    let batch = WriteBatch {
        series: series
            .into_iter()
            .chain(stale)
            .map(|(labels, value)| Series {
                labels,
                samples: vec![Sample {
                    timestamp: ts,
                    value,
                }],
                ..Series::default()
            })
            .collect(),
        metadata: Vec::new(),
    };
    if batch.series.is_empty() {
        return Ok(());
    }
    let outcome = metrics
        .write(tenant, batch)
        .await
        .map_err(|e| format!("cannot write rule results: {e}"))?;
    match outcome.rejection_message() {
        Some(m) => Err(m),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(ts_ms: i64, for_ms: i64, keep_firing_for_ms: i64) -> Step {
        Step {
            ts_ms,
            for_ms,
            keep_firing_for_ms,
            limit: 0,
            restored: BTreeMap::new(),
        }
    }

    fn found(value: f64) -> BTreeMap<Fingerprint, (LabelSet, LabelSet, f64)> {
        let labels = LabelSet::from([("alertname".to_owned(), "A".to_owned())]);
        BTreeMap::from([(Fingerprint::of(&labels), (labels, LabelSet::new(), value))])
    }

    fn states(active: &BTreeMap<Fingerprint, RuleAlert>) -> Vec<AlertRuleState> {
        active.values().map(|a| a.state).collect()
    }

    #[test]
    fn pending_fires_after_for_and_keeps_firing_for() {
        let mut active = BTreeMap::new();
        let series = step(0, 20, 15).apply(&mut active, found(1.0)).unwrap();
        assert_eq!(states(&active), [AlertRuleState::Pending]);
        assert!(
            series
                .keys()
                .any(|l| l.contains(&Label::new("alertstate", "pending")))
        );
        step(10, 20, 15).apply(&mut active, found(2.0)).unwrap();
        assert_eq!(states(&active), [AlertRuleState::Pending]);
        step(20, 20, 15).apply(&mut active, found(3.0)).unwrap();
        assert_eq!(states(&active), [AlertRuleState::Firing]);
        assert_eq!(active.values().next().unwrap().fired_at_ms, Some(20));
        // The condition clears: kept firing for 15ms, then resolved.
        step(30, 20, 15)
            .apply(&mut active, BTreeMap::new())
            .unwrap();
        assert_eq!(states(&active), [AlertRuleState::Firing]);
        assert_eq!(
            active.values().next().unwrap().keep_firing_since_ms,
            Some(30)
        );
        let series = step(45, 20, 15)
            .apply(&mut active, BTreeMap::new())
            .unwrap();
        assert_eq!(states(&active), [AlertRuleState::Inactive]);
        assert!(series.is_empty());
        assert_eq!(active.values().next().unwrap().resolved_at_ms, Some(45));
        // Resolved alerts are kept for a while to be reported, then dropped.
        step(45 + RESOLVED_RETENTION_MS + 1, 20, 15)
            .apply(&mut active, BTreeMap::new())
            .unwrap();
        assert!(active.is_empty());
    }

    #[test]
    fn pending_alerts_vanish_and_firing_again_starts_anew() {
        let mut active = BTreeMap::new();
        step(0, 20, 0).apply(&mut active, found(1.0)).unwrap();
        step(10, 20, 0).apply(&mut active, BTreeMap::new()).unwrap();
        assert!(active.is_empty());
        step(20, 0, 0).apply(&mut active, found(1.0)).unwrap();
        step(30, 0, 0).apply(&mut active, BTreeMap::new()).unwrap();
        assert_eq!(states(&active), [AlertRuleState::Inactive]);
        step(40, 0, 0).apply(&mut active, found(1.0)).unwrap();
        let a = active.values().next().unwrap();
        assert_eq!((a.state, a.active_at_ms), (AlertRuleState::Firing, 40));
    }

    #[test]
    fn restored_alerts_resume_and_limits_clear() {
        let labels = LabelSet::from([("alertname".to_owned(), "A".to_owned())]);
        let fp = Fingerprint::of(&labels);
        // Fired before the outage: fires again at once with its old activeAt.
        let mut active = BTreeMap::new();
        let mut s = step(1_000, 100, 0);
        s.restored = BTreeMap::from([(fp, (500, 700))]);
        s.apply(&mut active, found(1.0)).unwrap();
        let a = active.values().next().unwrap();
        assert_eq!((a.state, a.active_at_ms), (AlertRuleState::Firing, 500));
        // Pending for 50ms when the data stopped: 50ms are left.
        let mut active = BTreeMap::new();
        s.restored = BTreeMap::from([(fp, (500, 550))]);
        s.apply(&mut active, found(1.0)).unwrap();
        let a = active.values().next().unwrap();
        assert_eq!((a.state, a.active_at_ms), (AlertRuleState::Pending, 950));
        let mut limited = step(0, 0, 0);
        limited.limit = 1;
        let mut two = found(1.0);
        let other = LabelSet::from([("alertname".to_owned(), "B".to_owned())]);
        two.insert(Fingerprint::of(&other), (other, LabelSet::new(), 1.0));
        let mut active = BTreeMap::new();
        assert_eq!(
            limited.apply(&mut active, two).unwrap_err(),
            "exceeded limit of 1 with 2 alerts"
        );
        assert!(active.is_empty());
    }

    #[test]
    fn sends_firing_and_resolved_alerts_but_not_pending_ones() {
        let mut a = RuleAlert {
            labels: LabelSet::new(),
            annotations: LabelSet::new(),
            state: AlertRuleState::Pending,
            value: 1.0,
            active_at_ms: 0,
            fired_at_ms: None,
            resolved_at_ms: None,
            keep_firing_since_ms: None,
            last_sent_ms: None,
            valid_until_ms: 0,
        };
        assert!(!needs_sending(&a, 0, 60_000));
        a.state = AlertRuleState::Firing;
        assert!(needs_sending(&a, 0, 60_000));
        a.last_sent_ms = Some(0);
        assert!(!needs_sending(&a, 60_000, 60_000));
        assert!(needs_sending(&a, 60_001, 60_000));
        a.resolved_at_ms = Some(10);
        assert!(needs_sending(&a, 10, 60_000));
    }
}
