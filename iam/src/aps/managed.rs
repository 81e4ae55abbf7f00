//! The AWS managed policies for Amazon Managed Service for Prometheus, as AWS publishes them
//! (documents as of the default versions listed below).

use crate::policy::{Policy, PolicyError};

/// An AWS managed policy (`arn:aws:iam::aws:policy/<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagedPolicy {
    /// Policy name.
    pub name: &'static str,
    /// Policy ARN.
    pub arn: &'static str,
    /// AWS's description.
    pub description: &'static str,
    /// Default version id.
    pub default_version: &'static str,
    /// The JSON document.
    pub document: &'static str,
}

impl ManagedPolicy {
    /// Parses the document.
    pub fn policy(&self) -> Result<Policy, PolicyError> {
        Policy::parse_identity(self.document)
    }
}

/// `AmazonPrometheusFullAccess`.
pub const FULL_ACCESS: ManagedPolicy = ManagedPolicy {
    name: "AmazonPrometheusFullAccess",
    arn: "arn:aws:iam::aws:policy/AmazonPrometheusFullAccess",
    description: "Grants full access to AWS Managed Prometheus resources",
    default_version: "v2",
    document: r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllPrometheusActions",
      "Effect": "Allow",
      "Action": ["aps:*"],
      "Resource": "*"
    },
    {
      "Sid": "DescribeCluster",
      "Effect": "Allow",
      "Action": ["eks:DescribeCluster", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"],
      "Condition": {"ForAnyValue:StringEquals": {"aws:CalledVia": ["aps.amazonaws.com"]}},
      "Resource": "*"
    },
    {
      "Sid": "CreateServiceLinkedRole",
      "Effect": "Allow",
      "Action": "iam:CreateServiceLinkedRole",
      "Resource": "arn:aws:iam::*:role/aws-service-role/scraper.aps.amazonaws.com/AWSServiceRoleForAmazonPrometheusScraper*",
      "Condition": {"StringEquals": {"iam:AWSServiceName": "scraper.aps.amazonaws.com"}}
    }
  ]
}"#,
};

/// `AmazonPrometheusConsoleFullAccess`.
pub const CONSOLE_FULL_ACCESS: ManagedPolicy = ManagedPolicy {
    name: "AmazonPrometheusConsoleFullAccess",
    arn: "arn:aws:iam::aws:policy/AmazonPrometheusConsoleFullAccess",
    description: "Grants full access to AWS Managed Prometheus resources in the AWS console",
    default_version: "v9",
    document: r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["tag:GetTagValues", "tag:GetTagKeys"],
      "Resource": "*"
    },
    {
      "Effect": "Allow",
      "Action": [
        "aps:CreateWorkspace",
        "aps:DescribeWorkspace",
        "aps:UpdateWorkspaceAlias",
        "aps:DeleteWorkspace",
        "aps:ListWorkspaces",
        "aps:DescribeAlertManagerDefinition",
        "aps:DescribeRuleGroupsNamespace",
        "aps:CreateAlertManagerDefinition",
        "aps:CreateRuleGroupsNamespace",
        "aps:DeleteAlertManagerDefinition",
        "aps:DeleteRuleGroupsNamespace",
        "aps:ListRuleGroupsNamespaces",
        "aps:PutAlertManagerDefinition",
        "aps:PutRuleGroupsNamespace",
        "aps:TagResource",
        "aps:UntagResource",
        "aps:CreateLoggingConfiguration",
        "aps:UpdateLoggingConfiguration",
        "aps:DeleteLoggingConfiguration",
        "aps:DescribeLoggingConfiguration",
        "aps:UpdateWorkspaceConfiguration",
        "aps:DescribeWorkspaceConfiguration",
        "aps:CreateQueryLoggingConfiguration",
        "aps:UpdateQueryLoggingConfiguration",
        "aps:DeleteQueryLoggingConfiguration",
        "aps:DescribeQueryLoggingConfiguration"
      ],
      "Resource": "*"
    }
  ]
}"#,
};

/// `AmazonPrometheusQueryAccess`.
pub const QUERY_ACCESS: ManagedPolicy = ManagedPolicy {
    name: "AmazonPrometheusQueryAccess",
    arn: "arn:aws:iam::aws:policy/AmazonPrometheusQueryAccess",
    description: "Grants access to run queries against AWS Managed Prometheus resources",
    default_version: "v1",
    document: r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Action": ["aps:GetLabels", "aps:GetMetricMetadata", "aps:GetSeries", "aps:QueryMetrics"],
      "Effect": "Allow",
      "Resource": "*"
    }
  ]
}"#,
};

/// `AmazonPrometheusRemoteWriteAccess`.
pub const REMOTE_WRITE_ACCESS: ManagedPolicy = ManagedPolicy {
    name: "AmazonPrometheusRemoteWriteAccess",
    arn: "arn:aws:iam::aws:policy/AmazonPrometheusRemoteWriteAccess",
    description: "Grants write only access to AWS Managed Prometheus workspaces",
    default_version: "v1",
    document: r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Action": ["aps:RemoteWrite"],
      "Effect": "Allow",
      "Resource": "*"
    }
  ]
}"#,
};

/// Every AWS managed policy of the service.
pub const MANAGED_POLICIES: &[ManagedPolicy] = &[
    FULL_ACCESS,
    CONSOLE_FULL_ACCESS,
    QUERY_ACCESS,
    REMOTE_WRITE_ACCESS,
];

/// Looks a managed policy up by ARN or name.
pub fn managed_policy(arn_or_name: &str) -> Option<&'static ManagedPolicy> {
    MANAGED_POLICIES
        .iter()
        .find(|p| p.arn == arn_or_name || p.name == arn_or_name)
}
