//! The Prometheus rule file format, as stored in a rule groups namespace.

use serde::Deserialize;

use crate::matchers::LabelSet;

/// Interval of a group that names none (Prometheus' `evaluation_interval` default).
pub const DEFAULT_INTERVAL_MS: i64 = 60_000;

/// A rule file that cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule file: {0}")]
pub struct RuleFileError(pub String);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    groups: Vec<RawGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: String,
    interval: Option<String>,
    query_offset: Option<String>,
    #[serde(default)]
    limit: u64,
    #[serde(default)]
    labels: LabelSet,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    record: Option<String>,
    alert: Option<String>,
    expr: serde_norway::Value,
    #[serde(rename = "for")]
    for_: Option<String>,
    keep_firing_for: Option<String>,
    #[serde(default)]
    labels: LabelSet,
    #[serde(default)]
    annotations: LabelSet,
}

/// One group of a rule file.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    /// Group name, unique in its file.
    pub name: String,
    /// Evaluation interval (ms).
    pub interval_ms: i64,
    /// How far behind the evaluation time queries look (ms).
    pub query_offset_ms: i64,
    /// Most series a recording rule or alerts an alerting rule may produce (0: no limit).
    pub limit: u64,
    /// Labels added to every rule's output (the rule's own labels win).
    pub labels: LabelSet,
    /// The rules, evaluated in order.
    pub rules: Vec<RuleSpec>,
}

/// What a rule produces.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// A recording rule writing the series `record`.
    Recording {
        /// The recorded metric name.
        record: String,
    },
    /// An alerting rule.
    Alerting {
        /// The alert name.
        alert: String,
        /// How long an alert stays pending before it fires (ms).
        for_ms: i64,
        /// How long an alert keeps firing after its condition cleared (ms).
        keep_firing_for_ms: i64,
        /// Annotation templates.
        annotations: LabelSet,
    },
}

/// One rule of a group.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    /// Recording or alerting, with the kind's fields.
    pub kind: RuleKind,
    /// The PromQL expression.
    pub expr: String,
    /// Labels (templates for alerting rules), merged over the group's labels.
    pub labels: LabelSet,
}

impl RuleSpec {
    /// Returns the record or alert name.
    pub fn name(&self) -> &str {
        match &self.kind {
            RuleKind::Recording { record } => record,
            RuleKind::Alerting { alert, .. } => alert,
        }
    }
}

fn duration(field: &str, value: Option<&str>) -> Result<i64, RuleFileError> {
    value.map_or(Ok(0), |v| {
        ampd_promql::parse_duration_ms(v).map_err(|e| RuleFileError(format!("{field}: {e}")))
    })
}

/// Parses a rule file into its groups.
pub fn parse_rule_file(data: &[u8]) -> Result<Vec<GroupSpec>, RuleFileError> {
    let text = std::str::from_utf8(data).map_err(|_| RuleFileError("not UTF-8".into()))?;
    let raw: RawFile = serde_norway::from_str(text).map_err(|e| RuleFileError(e.to_string()))?;
    let mut groups = Vec::with_capacity(raw.groups.len());
    for g in raw.groups {
        let interval_ms = match g.interval.as_deref() {
            None => DEFAULT_INTERVAL_MS,
            Some(v) => duration("interval", Some(v))?,
        };
        if interval_ms <= 0 {
            return Err(RuleFileError(format!(
                "group {:?}: interval must be positive",
                g.name
            )));
        }
        let mut rules = Vec::with_capacity(g.rules.len());
        for r in g.rules {
            let expr = match r.expr {
                serde_norway::Value::String(s) => s,
                serde_norway::Value::Number(n) => n.to_string(),
                _ => return Err(RuleFileError("expr must be a string".into())),
            };
            let kind = match (r.record, r.alert) {
                (Some(record), None) => RuleKind::Recording { record },
                (None, Some(alert)) => RuleKind::Alerting {
                    alert,
                    for_ms: duration("for", r.for_.as_deref())?,
                    keep_firing_for_ms: duration("keep_firing_for", r.keep_firing_for.as_deref())?,
                    annotations: r.annotations,
                },
                _ => {
                    return Err(RuleFileError(
                        "exactly one of 'record' and 'alert' must be set".into(),
                    ));
                }
            };
            let mut labels = g.labels.clone();
            labels.extend(r.labels);
            rules.push(RuleSpec { kind, expr, labels });
        }
        groups.push(GroupSpec {
            name: g.name,
            interval_ms,
            query_offset_ms: duration("query_offset", g.query_offset.as_deref())?,
            limit: g.limit,
            labels: g.labels,
            rules,
        });
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_groups_with_defaults_and_merged_labels() {
        let groups = parse_rule_file(
            br#"
groups:
  - name: g
    labels: {team: a, tier: x}
    limit: 3
    query_offset: 30s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels: {tier: y}
      - alert: Down
        expr: up == 0
        for: 5m
        keep_firing_for: 1m
        annotations: {summary: "{{ $labels.job }}"}
  - name: h
    interval: 10s
    rules: [{record: one, expr: 1}]
"#,
        )
        .unwrap();
        assert_eq!(groups[0].interval_ms, DEFAULT_INTERVAL_MS);
        assert_eq!(groups[0].query_offset_ms, 30_000);
        assert_eq!(groups[0].limit, 3);
        assert_eq!(groups[0].rules[0].labels["tier"], "y");
        assert_eq!(groups[0].rules[0].labels["team"], "a");
        assert!(matches!(
            groups[0].rules[1].kind,
            RuleKind::Alerting {
                for_ms: 300_000,
                keep_firing_for_ms: 60_000,
                ..
            }
        ));
        assert_eq!(groups[1].interval_ms, 10_000);
        assert_eq!(groups[1].rules[0].expr, "1");
        assert!(parse_rule_file(b"groups: [{name: x, rules: [{expr: up}]}]").is_err());
        assert!(parse_rule_file(b"groups: [{name: x, interval: 0s, rules: []}]").is_err());
    }
}
