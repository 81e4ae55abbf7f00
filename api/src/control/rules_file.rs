//! Validation of Prometheus rule files (the `data` of a rule groups namespace).
//!
//! Checks what Prometheus' own rule loader checks: the YAML shape (unknown keys are errors),
//! unique group names, exactly one of `record`/`alert` per rule, valid metric and label names,
//! durations, and that every `expr` parses as PromQL. Errors name the group and rule.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use super::workspaces::{is_label_name, is_metric_name};
use crate::error::{AwsError, FieldIssue, ValidationReason};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    groups: Vec<RuleGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleGroup {
    name: String,
    interval: Option<String>,
    query_offset: Option<String>,
    /// Any non-negative alert/series limit is valid; parsed so unknown keys can be refused.
    #[serde(rename = "limit")]
    _limit: Option<u64>,
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    record: Option<String>,
    alert: Option<String>,
    expr: Option<serde_norway::Value>,
    #[serde(rename = "for")]
    for_: Option<String>,
    keep_firing_for: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    annotations: Option<BTreeMap<String, String>>,
}

/// Parses a PromQL expression with the project's parser and Prometheus's default feature set,
/// so a rule accepted here is one the rule evaluator can run.
pub fn parse_promql(expr: &str) -> Result<(), String> {
    ampd_promql::parse(expr)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn parse_duration(d: &str) -> Result<(), String> {
    ampd_promql::parse_duration_ms(d).map(|_| ())
}

/// Validates a rule file; the error lists every problem found.
pub fn validate(data: &[u8]) -> Result<(), AwsError> {
    let text =
        std::str::from_utf8(data).map_err(|_| invalid(vec!["rule file is not UTF-8".into()]))?;
    let file: RuleFile = serde_norway::from_str(text)
        .map_err(|e| invalid(vec![format!("rule file is not valid: {e}")]))?;
    let mut problems = Vec::new();
    let mut names = HashSet::new();
    for (gi, g) in file.groups.iter().enumerate() {
        let gname = if g.name.is_empty() {
            format!("#{}", gi + 1)
        } else {
            g.name.clone()
        };
        let mut p = |msg: String| problems.push(format!("group \"{gname}\": {msg}"));
        if g.name.is_empty() {
            p("group name must not be empty".into());
        } else if !names.insert(g.name.as_str()) {
            p("group name is used more than once".into());
        }
        for (field, value) in [("interval", &g.interval), ("query_offset", &g.query_offset)] {
            if let Some(Err(e)) = value.as_deref().map(parse_duration) {
                p(format!("{field}: {e}"));
            }
        }
        check_labels(&mut p, "labels", g.labels.as_ref());
        if g.rules.is_empty() {
            p("group has no rules".into());
        }
        for (ri, r) in g.rules.iter().enumerate() {
            let rname = r.record.as_deref().or(r.alert.as_deref()).unwrap_or("");
            let mut p = |msg: String| {
                problems.push(format!(
                    "group \"{gname}\", rule {} ({rname}): {msg}",
                    ri + 1
                ))
            };
            check_rule(&mut p, r);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(invalid(problems))
    }
}

fn check_labels(p: &mut impl FnMut(String), what: &str, labels: Option<&BTreeMap<String, String>>) {
    for name in labels.into_iter().flat_map(BTreeMap::keys) {
        if !is_label_name(name) {
            p(format!("{what}: invalid label name \"{name}\""));
        }
    }
}

fn check_rule(p: &mut impl FnMut(String), r: &Rule) {
    match (&r.record, &r.alert) {
        (Some(_), Some(_)) => p("only one of 'record' and 'alert' may be set".into()),
        (None, None) => p("one of 'record' or 'alert' must be set".into()),
        (Some(record), None) => {
            if !is_metric_name(record) {
                p(format!("invalid recording rule name \"{record}\""));
            }
            if r.for_.is_some() || r.keep_firing_for.is_some() {
                p("'for' and 'keep_firing_for' apply to alerting rules only".into());
            }
            if r.annotations.is_some() {
                p("annotations apply to alerting rules only".into());
            }
        }
        (None, Some(alert)) => {
            if alert.trim().is_empty() {
                p("alert name must not be empty".into());
            }
        }
    }
    match &r.expr {
        None => p("field 'expr' must be set".into()),
        Some(v) => {
            let expr = match v {
                serde_norway::Value::String(s) => Some(s.clone()),
                serde_norway::Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            match expr {
                Some(e) if !e.trim().is_empty() => {
                    if let Err(err) = parse_promql(&e) {
                        p(format!("could not parse expression: {err}"));
                    }
                }
                _ => p("field 'expr' must be a non-empty PromQL string".into()),
            }
        }
    }
    for (field, value) in [("for", &r.for_), ("keep_firing_for", &r.keep_firing_for)] {
        if let Some(Err(e)) = value.as_deref().map(parse_duration) {
            p(format!("{field}: {e}"));
        }
    }
    check_labels(p, "labels", r.labels.as_ref());
    check_labels(p, "annotations", r.annotations.as_ref());
}

fn invalid(problems: Vec<String>) -> AwsError {
    AwsError::Validation {
        message: format!(
            "Invalid rule groups namespace data: {}",
            problems.join("; ")
        ),
        reason: ValidationReason::FieldValidationFailed,
        fields: problems
            .into_iter()
            .map(|message| FieldIssue {
                name: "data".into(),
                message,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
groups:
  - name: api
    interval: 30s
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
        labels:
          team: core
      - alert: HighErrorRate
        expr: job:http_requests:rate5m{code=~"5.."} > 0.5
        for: 10m
        keep_firing_for: 5m
        labels:
          severity: page
        annotations:
          summary: "High error rate on {{ $labels.job }}"
  - name: other
    rules:
      - record: up:count
        expr: count(up)
"#;

    fn err(yaml: &str) -> String {
        validate(yaml.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn accepts_a_valid_file() {
        validate(GOOD.as_bytes()).unwrap();
    }

    #[test]
    fn rejects_bad_promql_naming_group_and_rule() {
        let e = err("groups:\n- name: g1\n  rules:\n  - record: r:x\n    expr: sum(rate(x[5m])\n");
        assert!(
            e.contains("group \"g1\"") && e.contains("r:x") && e.contains("parse"),
            "{e}"
        );
    }

    #[test]
    fn rejects_structural_problems() {
        let cases = [
            (
                "groups:\n- name: a\n  rules:\n  - record: x\n    expr: up\n- name: a\n  rules:\n  - record: y\n    expr: up\n",
                "more than once",
            ),
            (
                "groups:\n- name: a\n  rules:\n  - record: x\n    alert: y\n    expr: up\n",
                "only one",
            ),
            (
                "groups:\n- name: a\n  rules:\n  - expr: up\n",
                "must be set",
            ),
            (
                "groups:\n- name: a\n  rules:\n  - record: bad-name\n    expr: up\n",
                "recording rule name",
            ),
            (
                "groups:\n- name: a\n  rules:\n  - record: x\n    expr: up\n    for: 5m\n",
                "alerting rules only",
            ),
            (
                "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n    for: 5 minutes\n",
                "for",
            ),
            (
                // Units out of order, which promtool refuses too.
                "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n    for: 5m1h\n",
                "for",
            ),
            (
                "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n    labels:\n      bad-label: x\n",
                "invalid label name",
            ),
            (
                "groups:\n- name: a\n  rules:\n  - record: x\n",
                "'expr' must be set",
            ),
            ("groups:\n- name: a\n  rulez: []\n", "not valid"),
            ("not: [yaml", "not valid"),
        ];
        for (yaml, want) in cases {
            let e = err(yaml);
            assert!(e.contains(want), "{yaml}\n=> {e}");
        }
    }
}
