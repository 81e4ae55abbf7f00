//! The per-workspace Alertmanager handle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use regex::Regex;
use time::OffsetDateTime;

use crate::alert::{Alert, AlertError, Fingerprint};
use crate::clock::Clock;
use crate::config::{Config, Definition, Route};
use crate::dispatch::{Dispatcher, GroupId};
use crate::inhibit::Inhibitor;
use crate::matchers::{Matcher, all_match};
use crate::nflog::{NotificationLog, Pending};
use crate::notify::{Integration, NotificationData, Notifier, NotifySettings, fingerprint_sets};
use crate::silence::{SilenceError, Silences};
use crate::template::Templates;
use crate::wire::{
    AlertGroup, AlertState, AlertStatus, AlertmanagerConfigStatus, AlertmanagerStatus,
    GettableAlert, GettableSilence, PostableAlert, PostableSilence, ReceiverName,
};

/// How long expired silences and notification log entries are kept (Alertmanager's default).
const RETENTION: time::Duration = time::Duration::hours(120);

/// Why an Alertmanager operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AlertmanagerError {
    /// A posted alert is invalid (the valid alerts of the batch were still accepted).
    #[error("invalid alert: {0}")]
    Alert(#[from] AlertError),
    /// A silence operation failed.
    #[error(transparent)]
    Silence(#[from] SilenceError),
    /// The notification template set does not compile.
    #[error("templates: {0}")]
    Template(#[from] crate::template::TemplateError),
    /// The state directory or notification log could not be used.
    #[error("alertmanager storage: {0}")]
    Io(#[from] std::io::Error),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Http(#[from] reqwest::Error),
}

/// The class of an [`AlertmanagerError`], for mapping to an HTTP status (400, 404, 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is invalid.
    BadRequest,
    /// The named silence does not exist.
    NotFound,
    /// A server-side failure; its detail should not reach the client.
    Internal,
}

impl AlertmanagerError {
    /// Returns the class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Alert(_) | Self::Template(_) => ErrorKind::BadRequest,
            Self::Silence(SilenceError::NotFound(_)) => ErrorKind::NotFound,
            Self::Silence(SilenceError::AlreadyExpired(_) | SilenceError::Invalid(_)) => {
                ErrorKind::BadRequest
            }
            Self::Silence(SilenceError::Io(_)) | Self::Io(_) | Self::Http(_) => ErrorKind::Internal,
        }
    }
}

/// Which alerts `GET alerts` and `GET alerts/groups` return; every flag defaults to true.
#[derive(Debug, Clone)]
pub struct AlertFilter {
    /// Include alerts that are not suppressed.
    pub active: bool,
    /// Include silenced alerts.
    pub silenced: bool,
    /// Include inhibited alerts.
    pub inhibited: bool,
    /// Include alerts muted by a time interval.
    pub muted: bool,
    /// Matchers on alert labels (`filter[]`).
    pub matchers: Vec<Matcher>,
    /// Anchored regex a receiver name must match.
    pub receiver: Option<Regex>,
}

impl Default for AlertFilter {
    fn default() -> Self {
        Self {
            active: true,
            silenced: true,
            inhibited: true,
            muted: true,
            matchers: Vec::new(),
            receiver: None,
        }
    }
}

impl AlertFilter {
    /// Builds the anchored receiver regex from the `receiver` query parameter.
    pub fn receiver_regex(pattern: &str) -> Result<Regex, regex::Error> {
        Regex::new(&format!("^(?:{pattern})$"))
    }

    fn keeps(&self, status: &AlertStatus) -> bool {
        (self.active || status.state != AlertState::Active)
            && (self.silenced || status.silenced_by.is_empty())
            && (self.inhibited || status.inhibited_by.is_empty())
            && (self.muted || status.muted_by.is_empty())
    }
}

/// What one [`Alertmanager::tick`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Groups flushed.
    pub flushed_groups: usize,
    /// Notifications delivered.
    pub sent: usize,
    /// Notifications that failed after all retries.
    pub failed: usize,
}

struct State {
    definition: Definition,
    templates: Templates,
    alerts: BTreeMap<Fingerprint, Alert>,
    dispatcher: Dispatcher,
    silences: Silences,
    nflog: NotificationLog,
}

/// One planned notification of a flush.
struct Job {
    group: GroupId,
    integration_name: String,
    integration: Integration,
    nflog_key: String,
    firing: BTreeSet<Fingerprint>,
    resolved: BTreeSet<Fingerprint>,
    data: Option<NotificationData>,
}

/// A workspace's Alertmanager: alerts, silences, inhibition, grouping and notifications.
///
/// Methods take `&self`; state sits behind a mutex that is never held across an await.
#[derive(Debug)]
pub struct Alertmanager {
    state: Mutex<State>,
    flush: tokio::sync::Mutex<()>,
    clock: Arc<dyn Clock>,
    notifier: Notifier,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("alerts", &self.alerts.len())
            .field("groups", &self.dispatcher.groups.len())
            .finish()
    }
}

impl Alertmanager {
    /// Opens the Alertmanager whose silences and notification log live in `storage_dir`.
    pub fn new(
        definition: Definition,
        storage_dir: impl Into<PathBuf>,
        clock: Arc<dyn Clock>,
        settings: NotifySettings,
    ) -> Result<Self, AlertmanagerError> {
        let dir = storage_dir.into();
        std::fs::create_dir_all(&dir)?;
        let templates = Templates::compile(&definition)?;
        let state = State {
            definition,
            templates,
            alerts: BTreeMap::new(),
            dispatcher: Dispatcher::default(),
            silences: Silences::load(dir.join("silences.json"))?,
            nflog: NotificationLog::load(dir.join("nflog.json"))?,
        };
        Ok(Self {
            state: Mutex::new(state),
            flush: tokio::sync::Mutex::new(()),
            clock,
            notifier: Notifier::new(settings)?,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Switches to a new definition, keeping alerts, silences and the notification log.
    ///
    /// Groups are rebuilt from the current alerts under the new routes; the notification log
    /// keeps unchanged groups from notifying again.
    pub fn apply(&self, definition: Definition) -> Result<(), AlertmanagerError> {
        let templates = Templates::compile(&definition)?;
        let now = self.clock.now();
        let mut st = self.lock();
        st.definition = definition;
        st.templates = templates;
        let mut dispatcher = Dispatcher::default();
        for alert in st.alerts.values() {
            for route in st.definition.config.route.match_labels(&alert.labels) {
                dispatcher.insert(route, alert, now);
            }
        }
        st.dispatcher = dispatcher;
        Ok(())
    }

    /// Accepts alerts from a client (`POST alerts`); invalid alerts are skipped and the first
    /// problem is returned after the valid ones were taken.
    pub fn put_alerts(&self, alerts: Vec<PostableAlert>) -> Result<(), AlertmanagerError> {
        let now = self.clock.now();
        let mut st = self.lock();
        let resolve_timeout = st.definition.config.global.resolve_timeout.as_time();
        let mut first_error = None;
        for posted in alerts {
            let alert = match Alert::from_postable(posted, now, resolve_timeout) {
                Ok(a) => a,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            let merged = match st.alerts.get_mut(&alert.fingerprint) {
                Some(existing) => {
                    existing.merge(alert);
                    existing.clone()
                }
                None => {
                    st.alerts.insert(alert.fingerprint, alert.clone());
                    alert
                }
            };
            let State {
                definition,
                dispatcher,
                ..
            } = &mut *st;
            for route in definition.config.route.match_labels(&merged.labels) {
                dispatcher.insert(route, &merged, now);
            }
        }
        first_error.map_or(Ok(()), |e| Err(e.into()))
    }

    /// Lists unresolved alerts (`GET alerts`).
    pub fn alerts(&self, filter: &AlertFilter) -> Vec<GettableAlert> {
        let now = self.clock.now();
        let st = self.lock();
        let inhibitor = st.inhibitor(now);
        st.alerts
            .values()
            .filter(|a| !a.resolved_at(now) && all_match(&filter.matchers, &a.labels))
            .map(|a| st.gettable(a, &inhibitor, now))
            .filter(|g| filter.keeps(&g.status))
            .filter(|g| {
                filter
                    .receiver
                    .as_ref()
                    .is_none_or(|re| g.receivers.iter().any(|r| re.is_match(&r.name)))
            })
            .collect()
    }

    /// Lists aggregation groups with their unresolved alerts (`GET alerts/groups`).
    pub fn alert_groups(&self, filter: &AlertFilter) -> Vec<AlertGroup> {
        let now = self.clock.now();
        let st = self.lock();
        let inhibitor = st.inhibitor(now);
        st.dispatcher
            .groups
            .iter()
            .filter(|(_, g)| {
                filter
                    .receiver
                    .as_ref()
                    .is_none_or(|re| re.is_match(&g.receiver))
            })
            .filter_map(|(id, g)| {
                let alerts: Vec<GettableAlert> = g
                    .alerts
                    .keys()
                    .filter_map(|fp| st.alerts.get(fp))
                    .filter(|a| !a.resolved_at(now) && all_match(&filter.matchers, &a.labels))
                    .map(|a| st.gettable(a, &inhibitor, now))
                    .filter(|a| filter.keeps(&a.status))
                    .collect();
                (!alerts.is_empty()).then(|| AlertGroup {
                    labels: id.labels.clone(),
                    receiver: ReceiverName {
                        name: g.receiver.clone(),
                    },
                    alerts,
                })
            })
            .collect()
    }

    /// Lists silences whose matchers satisfy `filter` (`GET silences`).
    pub fn silences(&self, filter: &[Matcher]) -> Vec<GettableSilence> {
        let now = self.clock.now();
        self.lock().silences.list(filter, now)
    }

    /// Creates or updates a silence (`POST silences`); returns its id.
    pub fn put_silence(&self, silence: PostableSilence) -> Result<String, AlertmanagerError> {
        let now = self.clock.now();
        Ok(self.lock().silences.set(silence, now)?)
    }

    /// Returns one silence (`GET silence/{id}`).
    pub fn get_silence(&self, id: &str) -> Option<GettableSilence> {
        let now = self.clock.now();
        self.lock().silences.get(id, now)
    }

    /// Expires a silence (`DELETE silence/{id}`).
    pub fn expire_silence(&self, id: &str) -> Result<(), AlertmanagerError> {
        let now = self.clock.now();
        Ok(self.lock().silences.expire(id, now)?)
    }

    /// Lists receivers (`GET receivers`).
    pub fn receivers(&self) -> Vec<ReceiverName> {
        self.lock()
            .definition
            .config
            .receivers
            .iter()
            .map(|r| ReceiverName {
                name: r.name.clone(),
            })
            .collect()
    }

    /// Returns the status (`GET status`); like AMP, only the configuration is reported.
    pub fn status(&self) -> AlertmanagerStatus {
        AlertmanagerStatus {
            cluster: None,
            version_info: None,
            config: AlertmanagerConfigStatus {
                original: self.lock().definition.original.clone(),
            },
            uptime: None,
        }
    }

    /// Flushes every group that is due at the clock's current time and sends its notifications.
    ///
    /// Concurrent calls are serialised so a group is never notified twice.
    pub async fn tick(&self) -> Result<TickReport, AlertmanagerError> {
        let _flushing = self.flush.lock().await;
        let now = self.clock.now();
        let (jobs, flushed_groups, templates) = {
            let mut st = self.lock();
            let (jobs, flushed) = st.plan_flushes(now, &self.notifier.settings().external_url);
            (jobs, flushed, st.templates.clone())
        };
        let mut report = TickReport {
            flushed_groups: flushed_groups.len(),
            ..TickReport::default()
        };
        // Integrations are independent: one slow or retrying receiver must not hold up others.
        let mut sends = tokio::task::JoinSet::new();
        let mut group_of_task = BTreeMap::new();
        for job in jobs {
            let group = job.group.clone();
            let notifier = self.notifier.clone();
            let templates = templates.clone();
            let handle = sends.spawn(async move {
                let result = match &job.data {
                    Some(data) => {
                        let name = &job.integration_name;
                        Some(
                            notifier
                                .send(name, &job.integration, data, &templates, now)
                                .await,
                        )
                    }
                    None => None,
                };
                (job, result)
            });
            group_of_task.insert(handle.id(), group);
        }
        let mut outcomes = Vec::with_capacity(sends.len());
        let mut lost_groups = BTreeSet::new();
        while let Some(joined) = sends.join_next_with_id().await {
            let (job, result) = match joined {
                Ok((_, outcome)) => outcome,
                Err(e) => {
                    // A send that died counts as failed, so its group keeps its alerts.
                    report.failed += 1;
                    lost_groups.extend(group_of_task.remove(&e.id()));
                    continue;
                }
            };
            let ok = match result {
                Some(Ok(())) => {
                    report.sent += 1;
                    true
                }
                Some(Err(e)) => {
                    report.failed += 1;
                    tracing::warn!(integration = %job.integration_name, error = %e, "notification failed: {e}");
                    false
                }
                None => true,
            };
            outcomes.push((job, ok));
        }
        let mut st = self.lock();
        st.finish_flushes(outcomes, lost_groups, &flushed_groups, now);
        st.silences.gc(now, RETENTION)?;
        st.nflog.gc(now, RETENTION);
        st.nflog.save()?;
        Ok(report)
    }

    /// Calls [`Self::tick`] every `period` until the returned task is aborted.
    pub fn spawn_ticker(
        self: Arc<Self>,
        period: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                if let Err(e) = self.tick().await {
                    tracing::error!(error = %e, "alertmanager flush failed: {e}");
                }
            }
        })
    }
}

impl State {
    fn config(&self) -> &Config {
        &self.definition.config
    }

    fn routes_of(&self, alert: &Alert) -> Vec<&Route> {
        self.config().route.match_labels(&alert.labels)
    }

    fn inhibitor(&self, now: OffsetDateTime) -> Inhibitor<'_> {
        Inhibitor::new(&self.config().inhibit_rules, self.alerts.values(), now)
    }

    fn status_of(
        &self,
        alert: &Alert,
        inhibitor: &Inhibitor<'_>,
        now: OffsetDateTime,
    ) -> AlertStatus {
        let silenced_by = self.silences.silenced_by(&alert.labels, now);
        let inhibited_by: Vec<String> = inhibitor
            .inhibited_by(alert)
            .iter()
            .map(ToString::to_string)
            .collect();
        let mut muted_by = Vec::new();
        for route in self.routes_of(alert) {
            for name in self.muting_intervals(
                &route.mute_time_intervals,
                &route.active_time_intervals,
                now,
            ) {
                if !muted_by.contains(&name) {
                    muted_by.push(name);
                }
            }
        }
        let suppressed =
            !silenced_by.is_empty() || !inhibited_by.is_empty() || !muted_by.is_empty();
        AlertStatus {
            state: if suppressed {
                AlertState::Suppressed
            } else {
                AlertState::Active
            },
            silenced_by,
            inhibited_by,
            muted_by,
        }
    }

    /// Returns the names of intervals muting a route at `now`: mute intervals containing it, or
    /// all active intervals when none contains it.
    fn muting_intervals(
        &self,
        mute: &[String],
        active: &[String],
        now: OffsetDateTime,
    ) -> Vec<String> {
        let contains = |n: &String| {
            self.config()
                .time_interval(n)
                .is_some_and(|t| t.contains(now))
        };
        let mut out: Vec<String> = mute.iter().filter(|n| contains(n)).cloned().collect();
        if !active.is_empty() && !active.iter().any(contains) {
            out.extend(active.iter().cloned());
        }
        out
    }

    fn gettable(&self, a: &Alert, inhibitor: &Inhibitor<'_>, now: OffsetDateTime) -> GettableAlert {
        let mut receivers: Vec<ReceiverName> = Vec::new();
        for route in self.routes_of(a) {
            if !receivers.iter().any(|r| r.name == route.receiver) {
                receivers.push(ReceiverName {
                    name: route.receiver.clone(),
                });
            }
        }
        GettableAlert {
            labels: a.labels.clone(),
            annotations: a.annotations.clone(),
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            updated_at: a.updated_at,
            fingerprint: a.fingerprint.to_string(),
            receivers,
            status: self.status_of(a, inhibitor, now),
            generator_url: a.generator_url.clone(),
        }
    }

    /// Decides what each due group notifies and moves its timer on.
    fn plan_flushes(
        &mut self,
        now: OffsetDateTime,
        external_url: &str,
    ) -> (Vec<Job>, Vec<GroupId>) {
        let due = self.dispatcher.due(now);
        let mut jobs = Vec::new();
        for id in &due {
            let Some(group) = self.dispatcher.groups.get(id) else {
                continue;
            };
            let muted = !self
                .muting_intervals(
                    &group.mute_time_intervals,
                    &group.active_time_intervals,
                    now,
                )
                .is_empty();
            if !muted && let Some(receiver) = self.config().receiver(&group.receiver) {
                let inhibitor = self.inhibitor(now);
                let current: Vec<&Alert> = group
                    .alerts
                    .values()
                    .filter(|a| self.silences.silenced_by(&a.labels, now).is_empty())
                    .filter(|a| inhibitor.inhibited_by(a).is_empty())
                    .collect();
                let (firing, resolved) = fingerprint_sets(&current, now);
                let group_key = group.group_key(&id.labels);
                let log_group = format!(
                    "{}:{}",
                    id.route_id,
                    crate::matchers::format_label_set(&id.labels)
                );
                for (name, integration) in Integration::of(receiver) {
                    let send_resolved = integration.send_resolved();
                    let nflog_key = NotificationLog::key(&log_group, &receiver.name, &name);
                    let pending = Pending {
                        firing: &firing,
                        resolved: &resolved,
                        send_resolved,
                        repeat_interval: group.repeat_interval,
                    };
                    if !self.nflog.needs_update(&nflog_key, pending, now) {
                        continue;
                    }
                    let to_send: Vec<&Alert> = current
                        .iter()
                        .copied()
                        .filter(|a| send_resolved || !a.resolved_at(now))
                        .collect();
                    let data = (!to_send.is_empty()).then(|| {
                        NotificationData::new(
                            &receiver.name,
                            group_key.clone(),
                            id.labels.clone(),
                            &to_send,
                            now,
                            external_url,
                        )
                    });
                    jobs.push(Job {
                        group: id.clone(),
                        integration_name: name,
                        integration,
                        nflog_key,
                        firing: firing.clone(),
                        resolved: resolved.clone(),
                        data,
                    });
                }
            }
            if let Some(group) = self.dispatcher.groups.get_mut(id) {
                group.next_flush = now + group.group_interval;
                group.has_flushed = true;
            }
        }
        (jobs, due)
    }

    /// Records delivered notifications and drops resolved alerts from groups that were fully
    /// notified, then drops empty groups and resolved alerts no group holds.
    fn finish_flushes(
        &mut self,
        outcomes: Vec<(Job, bool)>,
        mut failed_groups: BTreeSet<GroupId>,
        flushed: &[GroupId],
        now: OffsetDateTime,
    ) {
        for (job, ok) in outcomes {
            if ok {
                self.nflog.log(job.nflog_key, job.firing, job.resolved, now);
            } else {
                failed_groups.insert(job.group);
            }
        }
        for id in flushed.iter().filter(|id| !failed_groups.contains(*id)) {
            if let Some(group) = self.dispatcher.groups.get_mut(id) {
                let latest = &self.alerts;
                // Keep an alert that fired again after the snapshot was taken.
                group.alerts.retain(|fp, a| {
                    !(a.resolved_at(now) && latest.get(fp).is_none_or(|l| l.resolved_at(now)))
                });
                if group.alerts.is_empty() {
                    self.dispatcher.groups.remove(id);
                }
            }
        }
        let dispatcher = &self.dispatcher;
        self.alerts
            .retain(|fp, a| !a.resolved_at(now) || dispatcher.holds(*fp));
    }
}
