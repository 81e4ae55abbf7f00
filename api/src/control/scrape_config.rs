//! Scrape configurations of managed scrapers: the default one and validation.

use std::collections::HashSet;

use serde_norway::Value;

use crate::error::AwsError;

/// The configuration GetDefaultScraperConfiguration returns.
pub const DEFAULT_SCRAPE_CONFIGURATION: &str = include_str!("default-scraper-config.yaml");

/// Checks that a configuration blob is a Prometheus scrape configuration: a mapping with a
/// non-empty `scrape_configs` list of jobs with unique `job_name`s.
pub fn validate(data: &[u8]) -> Result<(), AwsError> {
    let field = "scrapeConfiguration.configurationBlob";
    let doc: Value = serde_norway::from_slice(data)
        .map_err(|e| AwsError::field(field, format!("not valid YAML: {e}")))?;
    let jobs = doc
        .get("scrape_configs")
        .and_then(Value::as_sequence)
        .filter(|j| !j.is_empty())
        .ok_or_else(|| AwsError::field(field, "must contain a non-empty scrape_configs list"))?;
    let mut names = HashSet::new();
    for (i, job) in jobs.iter().enumerate() {
        let name = job
            .get("job_name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if name.is_empty() {
            return Err(AwsError::field(
                field,
                format!("scrape_configs[{i}] needs a job_name"),
            ));
        }
        if !names.insert(name) {
            return Err(AwsError::field(
                field,
                format!("job_name \"{name}\" is used more than once"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_configuration_is_valid() {
        validate(DEFAULT_SCRAPE_CONFIGURATION.as_bytes()).unwrap();
    }

    #[test]
    fn rejects_bad_configurations() {
        for bad in [
            "global: {}\n",
            "scrape_configs: []\n",
            "scrape_configs:\n- static_configs: []\n",
            "scrape_configs:\n- job_name: a\n- job_name: a\n",
            "[",
        ] {
            assert!(validate(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
