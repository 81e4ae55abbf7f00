//! Validation of alert manager definitions.
//!
//! AMP's format is a YAML document with `alertmanager_config` (the Alertmanager configuration,
//! as a string or a mapping) and an optional `template_files` map (file name → template text).
//! The configuration needs a `route` whose receivers exist in `receivers`. Like AMP, only
//! receivers that send through AWS are supported (`sns_configs`); ampd also accepts
//! `webhook_configs`, since a self-hosted install usually has no SNS.

use std::collections::HashSet;

use serde_norway::{Mapping, Value};

use crate::error::{AwsError, FieldIssue, ValidationReason};

const TOP_LEVEL_KEYS: &[&str] = &["alertmanager_config", "template_files"];
const CONFIG_KEYS: &[&str] = &[
    "global",
    "route",
    "receivers",
    "inhibit_rules",
    "templates",
    "mute_time_intervals",
    "time_intervals",
];
const SUPPORTED_RECEIVERS: &[&str] = &["sns_configs", "webhook_configs"];

/// Validates a definition; the error lists every problem found.
pub fn validate(data: &[u8]) -> Result<(), AwsError> {
    let mut problems = Vec::new();
    check(data, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AwsError::Validation {
            message: format!("Invalid alert manager definition: {}", problems.join("; ")),
            reason: ValidationReason::FieldValidationFailed,
            fields: problems
                .into_iter()
                .map(|message| FieldIssue {
                    name: "data".into(),
                    message,
                })
                .collect(),
        })
    }
}

fn check(data: &[u8], problems: &mut Vec<String>) {
    let doc: Value = match serde_norway::from_slice(data) {
        Ok(v) => v,
        Err(e) => return problems.push(format!("definition is not valid YAML: {e}")),
    };
    let Some(top) = doc.as_mapping() else {
        return problems
            .push("definition must be a YAML mapping with 'alertmanager_config'".into());
    };
    for key in top.keys() {
        let k = key.as_str().unwrap_or_default();
        if !TOP_LEVEL_KEYS.contains(&k) {
            problems.push(format!(
                "unknown top-level key '{k}' (expected alertmanager_config, template_files)"
            ));
        }
    }
    match top.get("template_files") {
        None => {}
        Some(Value::Mapping(files)) => {
            for (name, text) in files {
                if !name.is_string() || !text.is_string() {
                    problems.push("template_files must map file names to template text".into());
                }
            }
        }
        Some(_) => problems.push("template_files must be a mapping".into()),
    }
    let config = match top.get("alertmanager_config") {
        None => return problems.push("'alertmanager_config' is required".into()),
        Some(Value::String(text)) => match serde_norway::from_str::<Value>(text) {
            Ok(v) => v,
            Err(e) => return problems.push(format!("alertmanager_config is not valid YAML: {e}")),
        },
        Some(v @ Value::Mapping(_)) => v.clone(),
        Some(_) => {
            return problems.push("alertmanager_config must be a string or a mapping".into());
        }
    };
    let Some(config) = config.as_mapping() else {
        return problems.push("alertmanager_config must be a mapping".into());
    };
    check_config(config, problems);
}

fn check_config(config: &Mapping, problems: &mut Vec<String>) {
    for key in config.keys() {
        let k = key.as_str().unwrap_or_default();
        if !CONFIG_KEYS.contains(&k) {
            problems.push(format!("alertmanager_config: unknown key '{k}'"));
        }
    }
    let mut names = HashSet::new();
    match config.get("receivers") {
        Some(Value::Sequence(receivers)) => {
            for (i, r) in receivers.iter().enumerate() {
                check_receiver(i, r, &mut names, problems);
            }
        }
        _ => problems.push("alertmanager_config: 'receivers' must be a list".into()),
    }
    match config.get("route") {
        Some(Value::Mapping(route)) => {
            if route.get("receiver").and_then(Value::as_str).is_none() {
                problems.push("route: the root route must name a 'receiver'".into());
            }
            check_route(route, "route", &names, problems);
        }
        _ => problems.push("alertmanager_config: 'route' is required".into()),
    }
}

fn check_receiver(i: usize, r: &Value, names: &mut HashSet<String>, problems: &mut Vec<String>) {
    let Some(r) = r.as_mapping() else {
        return problems.push(format!("receivers[{i}] must be a mapping"));
    };
    let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
    let label = if name.is_empty() {
        format!("receivers[{i}]")
    } else {
        format!("receiver \"{name}\"")
    };
    if name.is_empty() {
        problems.push(format!("{label}: 'name' is required"));
    } else if !names.insert(name.to_owned()) {
        problems.push(format!("{label}: name is used more than once"));
    }
    for (key, value) in r {
        let k = key.as_str().unwrap_or_default();
        if k == "name" {
            continue;
        }
        if !k.ends_with("_configs") {
            problems.push(format!("{label}: unknown key '{k}'"));
            continue;
        }
        if !SUPPORTED_RECEIVERS.contains(&k) {
            problems.push(format!(
                "{label}: receiver type '{k}' is not supported (supported: sns_configs, webhook_configs)"
            ));
            continue;
        }
        let Some(items) = value.as_sequence() else {
            problems.push(format!("{label}: '{k}' must be a list"));
            continue;
        };
        let required: &[&str] = if k == "sns_configs" {
            &["topic_arn"]
        } else {
            &["url", "url_file"]
        };
        for item in items {
            if !required.iter().any(|f| item.get(*f).is_some()) {
                problems.push(format!(
                    "{label}: every entry of '{k}' needs '{}'",
                    required.join("' or '")
                ));
            }
        }
    }
}

fn check_route(route: &Mapping, path: &str, names: &HashSet<String>, problems: &mut Vec<String>) {
    if let Some(receiver) = route.get("receiver") {
        match receiver.as_str() {
            Some(r) if names.contains(r) => {}
            Some(r) => problems.push(format!(
                "{path}: receiver \"{r}\" is not defined in receivers"
            )),
            None => problems.push(format!("{path}: 'receiver' must be a string")),
        }
    }
    if let Some(children) = route.get("routes") {
        match children.as_sequence() {
            Some(children) => {
                for (i, child) in children.iter().enumerate() {
                    match child.as_mapping() {
                        Some(c) => check_route(c, &format!("{path}.routes[{i}]"), names, problems),
                        None => problems.push(format!("{path}.routes[{i}] must be a mapping")),
                    }
                }
            }
            None => problems.push(format!("{path}.routes must be a list")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
template_files:
  default_template: |
    {{ define "sns.default.message" }}{{ .Status }}{{ end }}
alertmanager_config: |
  route:
    receiver: default
    routes:
      - matchers: ['severity="page"']
        receiver: hook
  receivers:
    - name: default
      sns_configs:
        - topic_arn: arn:aws:sns:us-east-1:123456789012:alerts
          sigv4:
            region: us-east-1
    - name: hook
      webhook_configs:
        - url: http://127.0.0.1:9999/hook
"#;

    fn err(yaml: &str) -> String {
        validate(yaml.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn accepts_amp_format_as_string_or_mapping() {
        validate(GOOD.as_bytes()).unwrap();
        validate(b"alertmanager_config:\n  route:\n    receiver: r\n  receivers:\n  - name: r\n")
            .unwrap();
    }

    #[test]
    fn rejects_what_amp_rejects() {
        let cases = [
            ("route: {}\n", "unknown top-level key"),
            ("template_files: {}\n", "'alertmanager_config' is required"),
            (
                "alertmanager_config: |\n  receivers:\n  - name: r\n",
                "'route' is required",
            ),
            (
                "alertmanager_config: |\n  route:\n    receiver: x\n  receivers:\n  - name: r\n",
                "not defined",
            ),
            (
                "alertmanager_config: |\n  route:\n    receiver: r\n  receivers:\n  - name: r\n    slack_configs:\n    - channel: x\n",
                "'slack_configs' is not supported",
            ),
            (
                "alertmanager_config: |\n  route:\n    receiver: r\n  receivers:\n  - name: r\n    sns_configs:\n    - sigv4: {}\n",
                "topic_arn",
            ),
            ("alertmanager_config: |\n  route: [\n", "not valid YAML"),
            ("alertmanager_config: 3\n", "string or a mapping"),
            (
                "alertmanager_config: |\n  route:\n    receiver: r\n  receivers:\n  - name: r\n  - name: r\n",
                "more than once",
            ),
        ];
        for (yaml, want) in cases {
            let e = err(yaml);
            assert!(e.contains(want), "{yaml}\n=> {e}");
        }
    }
}
