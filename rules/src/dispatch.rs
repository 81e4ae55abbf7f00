//! Aggregation groups: alerts grouped per route and group-by label values, with the timers
//! that decide when each group is flushed to its receiver.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::alert::{Alert, Fingerprint};
use crate::config::Route;
use crate::matchers::{LabelSet, format_label_set};

/// Identifies a group: the route it belongs to and its group label values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct GroupId {
    pub(crate) route_id: String,
    pub(crate) labels: LabelSet,
}

/// One aggregation group with the settings of its route.
#[derive(Debug, Clone)]
pub(crate) struct AggrGroup {
    pub(crate) route_key: String,
    pub(crate) receiver: String,
    pub(crate) group_interval: time::Duration,
    pub(crate) repeat_interval: time::Duration,
    pub(crate) mute_time_intervals: Vec<String>,
    pub(crate) active_time_intervals: Vec<String>,
    pub(crate) alerts: BTreeMap<Fingerprint, Alert>,
    pub(crate) next_flush: OffsetDateTime,
    pub(crate) has_flushed: bool,
}

impl AggrGroup {
    /// Returns the group key notifications carry: `<route key>:<group labels>`.
    pub(crate) fn group_key(&self, labels: &LabelSet) -> String {
        format!("{}:{}", self.route_key, format_label_set(labels))
    }
}

/// All aggregation groups of one Alertmanager.
#[derive(Debug, Default)]
pub(crate) struct Dispatcher {
    pub(crate) groups: BTreeMap<GroupId, AggrGroup>,
}

impl Dispatcher {
    /// Adds (or refreshes) `alert` in the group of `route` it belongs to.
    ///
    /// A new group is first flushed `group_wait` after creation; an alert that started more than
    /// `group_wait` ago makes a group that has not flushed yet flush at once.
    pub(crate) fn insert(&mut self, route: &Route, alert: &Alert, now: OffsetDateTime) {
        let id = GroupId {
            route_id: route.id.clone(),
            labels: route.group_by.group_labels(&alert.labels),
        };
        let group_wait = route.group_wait.as_time();
        let group = self.groups.entry(id).or_insert_with(|| AggrGroup {
            route_key: route.key.clone(),
            receiver: route.receiver.clone(),
            group_interval: route.group_interval.as_time(),
            repeat_interval: route.repeat_interval.as_time(),
            mute_time_intervals: route.mute_time_intervals.clone(),
            active_time_intervals: route.active_time_intervals.clone(),
            alerts: BTreeMap::new(),
            next_flush: now + group_wait,
            has_flushed: false,
        });
        if !group.has_flushed && alert.starts_at + group_wait < now {
            group.next_flush = group.next_flush.min(now);
        }
        group.alerts.insert(alert.fingerprint, alert.clone());
    }

    /// Returns the ids of groups due for a flush at `now`.
    pub(crate) fn due(&self, now: OffsetDateTime) -> Vec<GroupId> {
        self.groups
            .iter()
            .filter(|(_, g)| g.next_flush <= now)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Returns whether any group holds the alert `fp`.
    pub(crate) fn holds(&self, fp: Fingerprint) -> bool {
        self.groups.values().any(|g| g.alerts.contains_key(&fp))
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;
    use crate::config::parse_config;
    use crate::wire::PostableAlert;

    const T0: OffsetDateTime = datetime!(2026-11-24 10:00 UTC);

    fn alert(pairs: &[(&str, &str)], now: OffsetDateTime) -> Alert {
        let p = PostableAlert {
            labels: pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            annotations: Default::default(),
            starts_at: None,
            ends_at: None,
            generator_url: None,
        };
        Alert::from_postable(p, now, Duration::minutes(5)).unwrap()
    }

    #[test]
    fn groups_by_labels_and_waits() {
        let c = parse_config(
            "route: {receiver: r, group_by: [alertname], group_wait: 30s}\nreceivers: [{name: r}]",
        )
        .unwrap();
        let mut d = Dispatcher::default();
        d.insert(&c.route, &alert(&[("alertname", "A"), ("i", "1")], T0), T0);
        d.insert(
            &c.route,
            &alert(&[("alertname", "A"), ("i", "2")], T0),
            T0 + Duration::seconds(10),
        );
        d.insert(&c.route, &alert(&[("alertname", "B")], T0), T0);
        assert_eq!(d.groups.len(), 2);
        assert!(d.due(T0 + Duration::seconds(29)).is_empty());
        let due = d.due(T0 + Duration::seconds(30));
        assert_eq!(due.len(), 2);
        let a = &d.groups[&due[0]];
        assert_eq!(a.alerts.len(), 2);
        assert_eq!(a.group_key(&due[0].labels), r#"{}:{alertname="A"}"#);
    }

    #[test]
    fn old_alerts_skip_group_wait_and_wildcard_groups_each_alert() {
        let c = parse_config("route: {receiver: r, group_by: ['...']}\nreceivers: [{name: r}]")
            .unwrap();
        let mut d = Dispatcher::default();
        let old = alert(&[("a", "1")], T0);
        d.insert(&c.route, &old, T0 + Duration::minutes(2));
        d.insert(
            &c.route,
            &alert(&[("a", "2")], T0 + Duration::minutes(2)),
            T0 + Duration::minutes(2),
        );
        assert_eq!(d.groups.len(), 2);
        assert_eq!(d.due(T0 + Duration::minutes(2)).len(), 1);
        assert!(d.holds(old.fingerprint));
    }
}
