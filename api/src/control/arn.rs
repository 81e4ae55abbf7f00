//! Identifiers and ARNs in AMP's formats.

use ampd_backends::ResourceRef;

use crate::error::AwsError;

use super::validate::parse_arn;

/// Builds and parses the ARNs of this endpoint's region and account.
#[derive(Debug, Clone)]
pub struct Arns {
    region: String,
    account_id: String,
}

impl Arns {
    /// Returns a builder for `region` and `account_id`.
    pub fn new(region: impl Into<String>, account_id: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            account_id: account_id.into(),
        }
    }

    /// Returns the account id.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    fn prefix(&self) -> String {
        format!("arn:aws:aps:{}:{}", self.region, self.account_id)
    }

    /// `arn:aws:aps:<region>:<account>:workspace/<id>`.
    pub fn workspace(&self, id: &str) -> String {
        format!("{}:workspace/{id}", self.prefix())
    }

    /// `arn:aws:aps:<region>:<account>:rulegroupsnamespace/<wsId>/<name>`.
    pub fn rule_groups_namespace(&self, workspace_id: &str, name: &str) -> String {
        format!(
            "{}:rulegroupsnamespace/{workspace_id}/{name}",
            self.prefix()
        )
    }

    /// `arn:aws:aps:<region>:<account>:scraper/<id>`.
    pub fn scraper(&self, id: &str) -> String {
        format!("{}:scraper/{id}", self.prefix())
    }

    /// `arn:aws:aps:<region>:<account>:anomalydetector/<wsId>/<id>`.
    pub fn anomaly_detector(&self, workspace_id: &str, id: &str) -> String {
        format!("{}:anomalydetector/{workspace_id}/{id}", self.prefix())
    }

    /// Parses the ARN of a taggable resource; ARNs of another account or region name
    /// resources that do not exist here.
    pub fn resource(&self, arn: &str) -> Result<ResourceRef, AwsError> {
        let invalid =
            || AwsError::field("resourceArn", format!("{arn} is not an AMP resource ARN"));
        let a = parse_arn(arn).ok_or_else(invalid)?;
        if a.service != "aps" {
            return Err(invalid());
        }
        let (kind, rest) = a.resource.split_once('/').ok_or_else(invalid)?;
        let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_owned()).ok_or_else(invalid);
        let two = |s: &str| -> Result<(String, String), AwsError> {
            let (a, b) = s.split_once('/').ok_or_else(invalid)?;
            Ok((nonempty(a)?, nonempty(b)?))
        };
        let resource = match kind {
            "workspace" => ResourceRef::Workspace(nonempty(rest)?),
            "scraper" => ResourceRef::Scraper(nonempty(rest)?),
            "rulegroupsnamespace" => {
                let (workspace_id, name) = two(rest)?;
                ResourceRef::RuleGroupsNamespace { workspace_id, name }
            }
            "anomalydetector" => {
                let (workspace_id, id) = two(rest)?;
                ResourceRef::AnomalyDetector { workspace_id, id }
            }
            _ => return Err(invalid()),
        };
        if a.region != self.region || a.account != self.account_id {
            return Err(AwsError::ResourceNotFound {
                message: format!("Resource not found: {arn}"),
                resource_id: arn.to_owned(),
                resource_type: "RESOURCE",
            });
        }
        Ok(resource)
    }
}

/// Returns a new workspace id: `ws-` and a lower-case UUID.
pub fn new_workspace_id() -> String {
    format!("ws-{}", uuid::Uuid::new_v4())
}

/// Returns a new scraper id: `s-` and a lower-case UUID.
pub fn new_scraper_id() -> String {
    format!("s-{}", uuid::Uuid::new_v4())
}

/// Returns a new anomaly detector id: `ad-` and a lower-case UUID.
pub fn new_anomaly_detector_id() -> String {
    format!("ad-{}", uuid::Uuid::new_v4())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arns() -> Arns {
        Arns::new("us-east-1", "123456789012")
    }

    #[test]
    fn formats() {
        let a = arns();
        assert_eq!(
            a.workspace("ws-1"),
            "arn:aws:aps:us-east-1:123456789012:workspace/ws-1"
        );
        assert_eq!(
            a.rule_groups_namespace("ws-1", "n"),
            "arn:aws:aps:us-east-1:123456789012:rulegroupsnamespace/ws-1/n"
        );
        assert_eq!(
            a.scraper("s-1"),
            "arn:aws:aps:us-east-1:123456789012:scraper/s-1"
        );
        assert_eq!(
            a.anomaly_detector("ws-1", "ad-1"),
            "arn:aws:aps:us-east-1:123456789012:anomalydetector/ws-1/ad-1"
        );
        let id = new_workspace_id();
        assert!(id.starts_with("ws-") && id.len() == 39 && id == id.to_lowercase());
        assert!(new_scraper_id().starts_with("s-"));
        assert!(new_anomaly_detector_id().starts_with("ad-"));
    }

    #[test]
    fn parse_round_trips() {
        let a = arns();
        for (arn, want) in [
            (a.workspace("ws-1"), ResourceRef::Workspace("ws-1".into())),
            (a.scraper("s-1"), ResourceRef::Scraper("s-1".into())),
            (
                a.rule_groups_namespace("ws-1", "ns/with/slash"),
                ResourceRef::RuleGroupsNamespace {
                    workspace_id: "ws-1".into(),
                    name: "ns/with/slash".into(),
                },
            ),
            (
                a.anomaly_detector("ws-1", "ad-1"),
                ResourceRef::AnomalyDetector {
                    workspace_id: "ws-1".into(),
                    id: "ad-1".into(),
                },
            ),
        ] {
            assert_eq!(a.resource(&arn).unwrap(), want);
        }
    }

    #[test]
    fn malformed_and_foreign_arns() {
        let a = arns();
        for bad in [
            "ws-1",
            "arn:aws:aps:us-east-1:123456789012:workspace/",
            "arn:aws:aps:us-east-1:123456789012:bucket/x",
            "arn:aws:s3:us-east-1:123456789012:workspace/x",
            "arn:aws:aps:us-east-1:123456789012:rulegroupsnamespace/ws-1",
        ] {
            assert_eq!(
                a.resource(bad).unwrap_err().code().1,
                "ValidationException",
                "{bad}"
            );
        }
        let foreign = "arn:aws:aps:eu-west-1:123456789012:workspace/ws-1";
        assert_eq!(
            a.resource(foreign).unwrap_err().code().1,
            "ResourceNotFoundException"
        );
    }
}
