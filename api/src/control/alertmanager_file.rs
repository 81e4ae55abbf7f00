//! Validation of alert manager definitions.
//!
//! AMP's format is a YAML document with `alertmanager_config` (the Alertmanager configuration,
//! as a string or a mapping) and an optional `template_files` map (file name → template text).
//! It is checked by the same parser the workspace Alertmanager loads it with, so a definition
//! accepted here is one that runs. Like AMP, only receivers that send through AWS are supported
//! (`sns_configs`); ampd also accepts `webhook_configs`, since a self-hosted install usually has
//! no SNS.

use crate::error::{AwsError, FieldIssue, ValidationReason};

/// Validates a definition.
pub fn validate(data: &[u8]) -> Result<(), AwsError> {
    ampd_rules::validate_definition(data)
        .map(|_| ())
        .map_err(|e| {
            let message = e.to_string();
            AwsError::Validation {
                message: format!("Invalid alert manager definition: {message}"),
                reason: ValidationReason::FieldValidationFailed,
                fields: vec![FieldIssue {
                    name: "data".into(),
                    message,
                }],
            }
        })
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
            ("route: {}\n", "unknown field `route`"),
            ("template_files: {}\n", "alertmanager_config is required"),
            (
                "alertmanager_config: |\n  receivers:\n  - name: r\n",
                "no routes provided",
            ),
            (
                "alertmanager_config: |\n  route:\n    receiver: x\n  receivers:\n  - name: r\n",
                "undefined receiver \"x\"",
            ),
            (
                "alertmanager_config: |\n  route:\n    receiver: r\n  receivers:\n  - name: r\n    slack_configs:\n    - channel: x\n",
                "slack_configs is not supported",
            ),
            (
                "alertmanager_config: |\n  route:\n    receiver: r\n  receivers:\n  - name: r\n    sns_configs:\n    - sigv4: {}\n",
                "topic_arn",
            ),
            ("alertmanager_config: |\n  route: [\n", "invalid YAML"),
            ("alertmanager_config: 3\n", "string or a mapping"),
            (
                "alertmanager_config: |\n  route:\n    receiver: r\n  receivers:\n  - name: r\n  - name: r\n",
                "is not unique",
            ),
        ];
        for (yaml, want) in cases {
            let e = err(yaml);
            assert!(e.contains(want), "{yaml}\n=> {e}");
        }
    }
}
