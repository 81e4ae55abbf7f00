//! Inhibition: firing alerts matching a rule's source mute alerts matching its target.

use time::OffsetDateTime;

use crate::alert::{Alert, Fingerprint};
use crate::config::InhibitRule;
use crate::matchers::all_match;

/// The inhibition rules with, for each, the firing alerts that satisfy its source matchers,
/// collected once so checking many targets stays linear.
pub(crate) struct Inhibitor<'a> {
    rules: Vec<(&'a InhibitRule, Vec<&'a Alert>)>,
}

impl<'a> Inhibitor<'a> {
    /// Snapshots the sources among `alerts` at `now`.
    pub(crate) fn new(
        rules: &'a [InhibitRule],
        alerts: impl Iterator<Item = &'a Alert> + Clone,
        now: OffsetDateTime,
    ) -> Self {
        let rules = rules
            .iter()
            .map(|rule| {
                let sources = alerts
                    .clone()
                    .filter(|a| !a.resolved_at(now) && all_match(&rule.source_matchers, &a.labels))
                    .collect();
                (rule, sources)
            })
            .collect();
        Self { rules }
    }

    /// Returns the fingerprints of firing alerts that inhibit `target`.
    ///
    /// A source must be firing, satisfy the rule's source matchers, agree with the target on
    /// every `equal` label (absent counts as empty) and not be the target itself. When the
    /// target also satisfies the source matchers, sources that also satisfy the target matchers
    /// are skipped, so two alerts matching both sides of a rule do not mute each other.
    pub(crate) fn inhibited_by(&self, target: &Alert) -> Vec<Fingerprint> {
        let mut out = Vec::new();
        for (rule, sources) in &self.rules {
            if !all_match(&rule.target_matchers, &target.labels) {
                continue;
            }
            let two_sided = all_match(&rule.source_matchers, &target.labels);
            for source in sources {
                let inhibits = source.fingerprint != target.fingerprint
                    && !(two_sided && all_match(&rule.target_matchers, &source.labels))
                    && rule
                        .equal
                        .iter()
                        .all(|l| source.labels.get(l) == target.labels.get(l));
                if inhibits && !out.contains(&source.fingerprint) {
                    out.push(source.fingerprint);
                }
            }
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::config::parse_config;
    use crate::wire::PostableAlert;

    const NOW: OffsetDateTime = datetime!(2026-11-24 10:00 UTC);

    fn alert(pairs: &[(&str, &str)]) -> Alert {
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
        Alert::from_postable(p, NOW, time::Duration::minutes(5)).unwrap()
    }

    fn rules(yaml: &str) -> Vec<InhibitRule> {
        parse_config(&format!(
            "route: {{receiver: r}}\nreceivers: [{{name: r}}]\ninhibit_rules:\n{yaml}"
        ))
        .unwrap()
        .inhibit_rules
    }

    #[test]
    fn critical_inhibits_warning_with_equal_labels() {
        let r = rules(
            "  - source_matchers: ['severity=\"critical\"']\n    target_matchers: ['severity=\"warning\"']\n    equal: [cluster]",
        );
        let crit = alert(&[("severity", "critical"), ("cluster", "a")]);
        let warn_a = alert(&[("severity", "warning"), ("cluster", "a")]);
        let warn_b = alert(&[("severity", "warning"), ("cluster", "b")]);
        let all = [crit.clone(), warn_a.clone(), warn_b.clone()];
        assert_eq!(
            Inhibitor::new(&r, all.iter(), NOW).inhibited_by(&warn_a),
            vec![crit.fingerprint]
        );
        assert!(
            Inhibitor::new(&r, all.iter(), NOW)
                .inhibited_by(&warn_b)
                .is_empty()
        );
        assert!(
            Inhibitor::new(&r, all.iter(), NOW)
                .inhibited_by(&crit)
                .is_empty()
        );
        // A resolved source no longer inhibits.
        assert!(
            Inhibitor::new(&r, all.iter(), NOW + time::Duration::minutes(6))
                .inhibited_by(&warn_a)
                .is_empty()
        );
    }

    #[test]
    fn alert_does_not_inhibit_itself_or_its_twin() {
        let r = rules("  - source_match: {team: db}\n    target_match: {team: db}");
        let a = alert(&[("team", "db"), ("x", "1")]);
        let b = alert(&[("team", "db"), ("x", "2")]);
        let all = [a.clone(), b.clone()];
        assert!(
            Inhibitor::new(&r, all.iter(), NOW)
                .inhibited_by(&a)
                .is_empty()
        );
        assert!(
            Inhibitor::new(&r, all.iter(), NOW)
                .inhibited_by(&b)
                .is_empty()
        );
    }

    #[test]
    fn missing_equal_label_counts_as_empty() {
        let r = rules(
            "  - source_matchers: ['a=\"s\"']\n    target_matchers: ['a=\"t\"']\n    equal: [zone]",
        );
        let s = alert(&[("a", "s")]);
        let t = alert(&[("a", "t")]);
        assert_eq!(
            Inhibitor::new(&r, [s.clone(), t.clone()].iter(), NOW).inhibited_by(&t),
            vec![s.fingerprint]
        );
    }
}
