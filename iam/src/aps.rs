//! The `aps` (Amazon Managed Service for Prometheus) authorization catalogue: actions, their
//! access levels and resource types, the checks one operation needs, the data-plane routes'
//! actions, and the AWS managed policies.

mod managed;

pub use managed::{
    CONSOLE_FULL_ACCESS, FULL_ACCESS, MANAGED_POLICIES, ManagedPolicy, QUERY_ACCESS,
    REMOTE_WRITE_ACCESS, managed_policy,
};

/// IAM access level of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessLevel {
    /// Reads data or configuration.
    Read,
    /// Changes state.
    Write,
    /// Lists resources.
    List,
    /// Changes tags.
    Tagging,
}

/// An `aps` resource type (plus EKS clusters, the source of a scraper).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    /// `workspace/<id>`.
    Workspace,
    /// `rulegroupsnamespace/<ws>/<name>`.
    RuleGroupsNamespace,
    /// `scraper/<id>`.
    Scraper,
    /// `anomalydetector/<ws>/<id>`.
    AnomalyDetector,
    /// `arn:…:eks:…:cluster/<name>`.
    Cluster,
}

/// Which resources an action is authorized against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Not resource-scoped (`*`).
    None,
    Workspace,
    RuleGroupsNamespace,
    Scraper,
    /// The scraper, and the destination workspace when the request names one.
    ScraperAndWorkspace,
    AnomalyDetectorAndWorkspace,
    ClusterAndWorkspace,
    /// The ARN in the request path (tagging operations).
    Tagged,
}

macro_rules! aps_actions {
    ($($name:ident => $level:ident, $scope:ident, $data:literal;)*) => {
        /// An IAM action of the `aps` service.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ApsAction {
            $(
                #[doc = concat!("`aps:", stringify!($name), "`")]
                $name,
            )*
        }

        impl ApsAction {
            /// Every action.
            pub const ALL: &'static [ApsAction] = &[$(ApsAction::$name),*];

            /// Returns the operation name (`CreateWorkspace`).
            pub fn name(self) -> &'static str {
                match self { $(Self::$name => stringify!($name),)* }
            }

            /// Returns the IAM action (`aps:CreateWorkspace`).
            pub fn iam_action(self) -> &'static str {
                match self { $(Self::$name => concat!("aps:", stringify!($name)),)* }
            }

            /// Returns the access level.
            pub fn access_level(self) -> AccessLevel {
                match self { $(Self::$name => AccessLevel::$level,)* }
            }

            fn scope(self) -> Scope {
                match self { $(Self::$name => Scope::$scope,)* }
            }

            /// Returns whether this is a Prometheus-compatible (data-plane) action: the only
            /// kind a workspace resource policy grants.
            pub fn is_data_plane(self) -> bool {
                match self { $(Self::$name => $data,)* }
            }
        }
    };
}

aps_actions! {
    CreateAlertManagerDefinition => Write, Workspace, false;
    CreateAnomalyDetector => Write, Workspace, false;
    CreateLoggingConfiguration => Write, Workspace, false;
    CreateQueryLoggingConfiguration => Write, Workspace, false;
    CreateRuleGroupsNamespace => Write, RuleGroupsNamespace, false;
    CreateScraper => Write, ClusterAndWorkspace, false;
    CreateWorkspace => Write, None, false;
    DeleteAlertManagerDefinition => Write, Workspace, false;
    DeleteAnomalyDetector => Write, AnomalyDetectorAndWorkspace, false;
    DeleteLoggingConfiguration => Write, Workspace, false;
    DeleteQueryLoggingConfiguration => Write, Workspace, false;
    DeleteResourcePolicy => Write, Workspace, false;
    DeleteRuleGroupsNamespace => Write, RuleGroupsNamespace, false;
    DeleteScraper => Write, Scraper, false;
    DeleteScraperLoggingConfiguration => Write, Scraper, false;
    DeleteWorkspace => Write, Workspace, false;
    DescribeAlertManagerDefinition => Read, Workspace, false;
    DescribeAnomalyDetector => Read, AnomalyDetectorAndWorkspace, false;
    DescribeLoggingConfiguration => Read, Workspace, false;
    DescribeQueryLoggingConfiguration => Read, Workspace, false;
    DescribeResourcePolicy => Read, Workspace, false;
    DescribeRuleGroupsNamespace => Read, RuleGroupsNamespace, false;
    DescribeScraper => Read, Scraper, false;
    DescribeScraperLoggingConfiguration => Read, Scraper, false;
    DescribeWorkspace => Read, Workspace, false;
    DescribeWorkspaceConfiguration => Read, Workspace, false;
    GetDefaultScraperConfiguration => Read, None, false;
    ListAnomalyDetectors => List, Workspace, false;
    ListRuleGroupsNamespaces => List, Workspace, false;
    ListScrapers => List, None, false;
    ListTagsForResource => Read, Tagged, false;
    ListWorkspaces => List, None, false;
    PreviewAnomalyDetector => Read, Workspace, false;
    PutAlertManagerDefinition => Write, Workspace, false;
    PutAnomalyDetector => Write, AnomalyDetectorAndWorkspace, false;
    PutResourcePolicy => Write, Workspace, false;
    PutRuleGroupsNamespace => Write, RuleGroupsNamespace, false;
    TagResource => Tagging, Tagged, false;
    UntagResource => Tagging, Tagged, false;
    UpdateLoggingConfiguration => Write, Workspace, false;
    UpdateQueryLoggingConfiguration => Write, Workspace, false;
    UpdateScraper => Write, ScraperAndWorkspace, false;
    UpdateScraperLoggingConfiguration => Write, Scraper, false;
    UpdateWorkspaceAlias => Write, Workspace, false;
    UpdateWorkspaceConfiguration => Write, Workspace, false;
    RemoteWrite => Write, Workspace, true;
    QueryMetrics => Read, Workspace, true;
    GetSeries => Read, Workspace, true;
    GetLabels => Read, Workspace, true;
    GetMetricMetadata => Read, Workspace, true;
    ListRules => Read, Workspace, true;
    ListAlerts => Read, Workspace, true;
    ListAlertManagerAlerts => Read, Workspace, true;
    CreateAlertManagerAlerts => Write, Workspace, true;
    ListAlertManagerAlertGroups => Read, Workspace, true;
    ListAlertManagerSilences => Read, Workspace, true;
    PutAlertManagerSilences => Write, Workspace, true;
    GetAlertManagerSilence => Read, Workspace, true;
    DeleteAlertManagerSilence => Write, Workspace, true;
    ListAlertManagerReceivers => Read, Workspace, true;
    GetAlertManagerStatus => Read, Workspace, true;
}

impl ApsAction {
    /// Looks an action up by operation name (`CreateWorkspace`) or IAM action
    /// (`aps:CreateWorkspace`).
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.strip_prefix("aps:").unwrap_or(name);
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// Returns the resource types the action is authorized against (empty: `*`).
    pub fn resource_types(self) -> &'static [ResourceType] {
        use ResourceType as R;
        match self.scope() {
            Scope::None => &[],
            Scope::Workspace => &[R::Workspace],
            Scope::RuleGroupsNamespace => &[R::RuleGroupsNamespace],
            Scope::Scraper => &[R::Scraper],
            Scope::ScraperAndWorkspace => &[R::Scraper, R::Workspace],
            Scope::AnomalyDetectorAndWorkspace => &[R::AnomalyDetector, R::Workspace],
            Scope::ClusterAndWorkspace => &[R::Cluster, R::Workspace],
            Scope::Tagged => &[
                R::AnomalyDetector,
                R::RuleGroupsNamespace,
                R::Scraper,
                R::Workspace,
            ],
        }
    }

    /// Returns whether creating with tags also needs `aps:TagResource`.
    pub fn tags_on_create(self) -> bool {
        matches!(
            self,
            Self::CreateWorkspace
                | Self::CreateRuleGroupsNamespace
                | Self::CreateScraper
                | Self::CreateAnomalyDetector
        )
    }

    /// Returns the action of a data-plane request, from its method and the path after
    /// `/workspaces/{workspaceId}/` (e.g. `api/v1/query_range`).
    pub fn for_data_plane(method: &http::Method, sub_path: &str) -> Option<Self> {
        use http::Method as M;
        let path = sub_path.trim_matches('/');
        let segments: Vec<&str> = path.split('/').collect();
        Some(match (method, segments.as_slice()) {
            (&M::POST, ["api", "v1", "remote_write"]) => Self::RemoteWrite,
            (&M::GET | &M::POST, ["api", "v1", "query" | "query_range"]) => Self::QueryMetrics,
            (&M::GET | &M::POST, ["api", "v1", "series"]) => Self::GetSeries,
            (&M::GET | &M::POST, ["api", "v1", "labels"]) => Self::GetLabels,
            (&M::GET, ["api", "v1", "label", _, "values"]) => Self::GetLabels,
            (&M::GET, ["api", "v1", "metadata"]) => Self::GetMetricMetadata,
            (&M::GET, ["api", "v1", "rules"]) => Self::ListRules,
            (&M::GET, ["api", "v1", "alerts"]) => Self::ListAlerts,
            (&M::GET, ["alertmanager", "api", "v2", "alerts"]) => Self::ListAlertManagerAlerts,
            (&M::POST, ["alertmanager", "api", "v2", "alerts"]) => Self::CreateAlertManagerAlerts,
            (&M::GET, ["alertmanager", "api", "v2", "alerts", "groups"]) => {
                Self::ListAlertManagerAlertGroups
            }
            (&M::GET, ["alertmanager", "api", "v2", "silences"]) => Self::ListAlertManagerSilences,
            (&M::POST, ["alertmanager", "api", "v2", "silences"]) => Self::PutAlertManagerSilences,
            (&M::GET, ["alertmanager", "api", "v2", "silence", _]) => Self::GetAlertManagerSilence,
            (&M::DELETE, ["alertmanager", "api", "v2", "silence", _]) => {
                Self::DeleteAlertManagerSilence
            }
            (&M::GET, ["alertmanager", "api", "v2", "receivers"]) => {
                Self::ListAlertManagerReceivers
            }
            (&M::GET, ["alertmanager", "api", "v2", "status"]) => Self::GetAlertManagerStatus,
            _ => return None,
        })
    }
}

/// Builds `aps` ARNs for one partition, region and account.
#[derive(Debug, Clone, Copy)]
pub struct ApsArns<'a> {
    /// `aws` (or `aws-cn`, `aws-us-gov`).
    pub partition: &'a str,
    /// Region.
    pub region: &'a str,
    /// 12-digit account id.
    pub account: &'a str,
}

impl ApsArns<'_> {
    fn arn(&self, resource: &str) -> String {
        format!(
            "arn:{}:aps:{}:{}:{resource}",
            self.partition, self.region, self.account
        )
    }

    /// `arn:…:workspace/<id>`.
    pub fn workspace(&self, workspace_id: &str) -> String {
        self.arn(&format!("workspace/{workspace_id}"))
    }

    /// `arn:…:rulegroupsnamespace/<ws>/<name>`.
    pub fn rule_groups_namespace(&self, workspace_id: &str, name: &str) -> String {
        self.arn(&format!("rulegroupsnamespace/{workspace_id}/{name}"))
    }

    /// `arn:…:scraper/<id>`.
    pub fn scraper(&self, scraper_id: &str) -> String {
        self.arn(&format!("scraper/{scraper_id}"))
    }

    /// `arn:…:anomalydetector/<ws>/<id>`.
    pub fn anomaly_detector(&self, workspace_id: &str, detector_id: &str) -> String {
        self.arn(&format!("anomalydetector/{workspace_id}/{detector_id}"))
    }
}

/// The resources named by one request, as far as authorization needs them.
#[derive(Debug, Clone, Default)]
pub struct ApsTarget<'a> {
    /// Workspace in the path, or the scraper's destination workspace.
    pub workspace_id: Option<&'a str>,
    /// Rule groups namespace name.
    pub namespace: Option<&'a str>,
    /// Scraper id.
    pub scraper_id: Option<&'a str>,
    /// Anomaly detector id (for Create…, the id the new detector will get).
    pub anomaly_detector_id: Option<&'a str>,
    /// EKS cluster ARN of a scraper's source.
    pub cluster_arn: Option<&'a str>,
    /// IAM role ARN passed to a scraper (needs `iam:PassRole`).
    pub role_arn: Option<&'a str>,
    /// Resource ARN of a tagging operation.
    pub resource_arn: Option<&'a str>,
    /// Whether the request carries tags (Create… with tags needs `aps:TagResource`).
    pub with_tags: bool,
}

/// One authorization the request needs: an action on a resource, with extra context keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// IAM action (`aps:CreateWorkspace`, `iam:PassRole`).
    pub action: &'static str,
    /// Resource ARN or `*`.
    pub resource: String,
    /// Context keys specific to this check (`iam:PassedToService`).
    pub context: Vec<(&'static str, &'static str)>,
}

impl Authorization {
    fn new(action: &'static str, resource: String) -> Self {
        Self {
            action,
            resource,
            context: Vec::new(),
        }
    }
}

/// The request lacks an identifier the action is authorized against.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} needs {missing} to be authorized")]
pub struct MissingTarget {
    /// The action.
    pub action: &'static str,
    /// What was missing (`workspaceId`).
    pub missing: &'static str,
}

/// Returns every authorization `action` needs for `target`, in order: the action on each of
/// its resources, then `aps:TagResource` for tags on create, then `iam:PassRole`.
pub fn authorizations(
    action: ApsAction,
    arns: &ApsArns<'_>,
    target: &ApsTarget<'_>,
) -> Result<Vec<Authorization>, MissingTarget> {
    let name = action.iam_action();
    let need = |value: Option<&'_ str>, missing: &'static str| {
        value.map(str::to_owned).ok_or(MissingTarget {
            action: name,
            missing,
        })
    };
    let workspace = || need(target.workspace_id, "workspaceId").map(|id| arns.workspace(&id));
    let resources: Vec<String> = match action.scope() {
        Scope::None if action == ApsAction::CreateWorkspace => vec![arns.workspace("*")],
        Scope::None => vec!["*".to_owned()],
        Scope::Workspace => vec![workspace()?],
        Scope::RuleGroupsNamespace => vec![arns.rule_groups_namespace(
            &need(target.workspace_id, "workspaceId")?,
            &need(target.namespace, "name")?,
        )],
        Scope::Scraper => vec![arns.scraper(&need(target.scraper_id, "scraperId")?)],
        Scope::ScraperAndWorkspace => {
            let mut r = vec![arns.scraper(&need(target.scraper_id, "scraperId")?)];
            if let Some(ws) = target.workspace_id {
                r.push(arns.workspace(ws));
            }
            r
        }
        Scope::AnomalyDetectorAndWorkspace => {
            let ws = need(target.workspace_id, "workspaceId")?;
            vec![
                arns.anomaly_detector(&ws, &need(target.anomaly_detector_id, "anomalyDetectorId")?),
                arns.workspace(&ws),
            ]
        }
        Scope::ClusterAndWorkspace => {
            let mut r = Vec::new();
            if let Some(cluster) = target.cluster_arn {
                r.push(cluster.to_owned());
            }
            r.push(workspace()?);
            r
        }
        Scope::Tagged => vec![need(target.resource_arn, "resourceArn")?],
    };
    // The tags go on the resource being created; its id may not exist yet.
    let tag_resource = (action.tags_on_create() && target.with_tags).then(|| match action {
        ApsAction::CreateScraper => arns.scraper(target.scraper_id.unwrap_or("*")),
        ApsAction::CreateAnomalyDetector => arns.anomaly_detector(
            target.workspace_id.unwrap_or("*"),
            target.anomaly_detector_id.unwrap_or("*"),
        ),
        _ => resources.last().cloned().unwrap_or_else(|| "*".to_owned()),
    });
    let mut out: Vec<Authorization> = resources
        .into_iter()
        .map(|r| Authorization::new(name, r))
        .collect();
    if let Some(resource) = tag_resource {
        out.push(Authorization::new(
            ApsAction::TagResource.iam_action(),
            resource,
        ));
    }
    if matches!(action, ApsAction::CreateScraper | ApsAction::UpdateScraper)
        && let Some(role) = target.role_arn
    {
        let mut pass = Authorization::new("iam:PassRole", role.to_owned());
        pass.context
            .push(("iam:PassedToService", "aps.amazonaws.com"));
        out.push(pass);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const ARNS: ApsArns<'static> = ApsArns {
        partition: "aws",
        region: "us-east-1",
        account: "123456789012",
    };

    #[test]
    fn catalogue_is_complete_and_consistent() {
        assert_eq!(ApsAction::ALL.len(), 61);
        let names: HashSet<&str> = ApsAction::ALL.iter().map(|a| a.name()).collect();
        assert_eq!(names.len(), 61);
        assert_eq!(
            ApsAction::ALL.iter().filter(|a| a.is_data_plane()).count(),
            16
        );
        for action in ApsAction::ALL {
            assert_eq!(ApsAction::from_name(action.name()), Some(*action));
            assert_eq!(ApsAction::from_name(action.iam_action()), Some(*action));
        }
        assert_eq!(
            ApsAction::CreateWorkspace.iam_action(),
            "aps:CreateWorkspace"
        );
        assert_eq!(ApsAction::TagResource.access_level(), AccessLevel::Tagging);
        assert_eq!(ApsAction::ListWorkspaces.access_level(), AccessLevel::List);
        assert!(ApsAction::ListWorkspaces.resource_types().is_empty());
        assert_eq!(
            ApsAction::DeleteAnomalyDetector.resource_types(),
            &[ResourceType::AnomalyDetector, ResourceType::Workspace]
        );
        assert!(ApsAction::from_name("aps:Nope").is_none());
    }

    #[test]
    fn maps_data_plane_routes() {
        use http::Method as M;
        let cases = [
            (M::POST, "api/v1/remote_write", Some(ApsAction::RemoteWrite)),
            (M::GET, "api/v1/query", Some(ApsAction::QueryMetrics)),
            (M::POST, "api/v1/query_range", Some(ApsAction::QueryMetrics)),
            (M::GET, "api/v1/series", Some(ApsAction::GetSeries)),
            (M::GET, "api/v1/labels", Some(ApsAction::GetLabels)),
            (
                M::GET,
                "api/v1/label/job/values",
                Some(ApsAction::GetLabels),
            ),
            (
                M::GET,
                "api/v1/metadata",
                Some(ApsAction::GetMetricMetadata),
            ),
            (M::GET, "api/v1/rules", Some(ApsAction::ListRules)),
            (M::GET, "api/v1/alerts", Some(ApsAction::ListAlerts)),
            (
                M::GET,
                "alertmanager/api/v2/alerts",
                Some(ApsAction::ListAlertManagerAlerts),
            ),
            (
                M::POST,
                "alertmanager/api/v2/alerts",
                Some(ApsAction::CreateAlertManagerAlerts),
            ),
            (
                M::GET,
                "alertmanager/api/v2/alerts/groups",
                Some(ApsAction::ListAlertManagerAlertGroups),
            ),
            (
                M::GET,
                "alertmanager/api/v2/silences",
                Some(ApsAction::ListAlertManagerSilences),
            ),
            (
                M::POST,
                "alertmanager/api/v2/silences",
                Some(ApsAction::PutAlertManagerSilences),
            ),
            (
                M::GET,
                "alertmanager/api/v2/silence/abc",
                Some(ApsAction::GetAlertManagerSilence),
            ),
            (
                M::DELETE,
                "alertmanager/api/v2/silence/abc",
                Some(ApsAction::DeleteAlertManagerSilence),
            ),
            (
                M::GET,
                "alertmanager/api/v2/receivers",
                Some(ApsAction::ListAlertManagerReceivers),
            ),
            (
                M::GET,
                "alertmanager/api/v2/status",
                Some(ApsAction::GetAlertManagerStatus),
            ),
            (M::GET, "api/v1/remote_write", None),
            (M::GET, "api/v1/status/buildinfo", None),
            (M::GET, "api/v1/query_exemplars", None),
        ];
        for (method, path, want) in cases {
            assert_eq!(
                ApsAction::for_data_plane(&method, path),
                want,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn plans_authorizations() {
        let ws = "arn:aws:aps:us-east-1:123456789012:workspace/ws-1";
        let plain = |action, target: ApsTarget<'_>| -> Vec<(String, String)> {
            authorizations(action, &ARNS, &target)
                .unwrap()
                .into_iter()
                .map(|a| (a.action.to_owned(), a.resource))
                .collect()
        };
        let pair = |a: &str, r: &str| (a.to_owned(), r.to_owned());
        assert_eq!(
            plain(ApsAction::CreateWorkspace, ApsTarget::default()),
            vec![pair(
                "aps:CreateWorkspace",
                "arn:aws:aps:us-east-1:123456789012:workspace/*"
            )]
        );
        assert_eq!(
            plain(
                ApsAction::CreateWorkspace,
                ApsTarget {
                    with_tags: true,
                    ..Default::default()
                }
            ),
            vec![
                pair(
                    "aps:CreateWorkspace",
                    "arn:aws:aps:us-east-1:123456789012:workspace/*"
                ),
                pair(
                    "aps:TagResource",
                    "arn:aws:aps:us-east-1:123456789012:workspace/*"
                ),
            ]
        );
        assert_eq!(
            plain(ApsAction::ListWorkspaces, ApsTarget::default()),
            vec![pair("aps:ListWorkspaces", "*")]
        );
        let in_ws = ApsTarget {
            workspace_id: Some("ws-1"),
            ..Default::default()
        };
        assert_eq!(
            plain(ApsAction::RemoteWrite, in_ws.clone()),
            vec![pair("aps:RemoteWrite", ws)]
        );
        assert_eq!(
            plain(
                ApsAction::CreateRuleGroupsNamespace,
                ApsTarget {
                    namespace: Some("ns"),
                    with_tags: true,
                    ..in_ws.clone()
                }
            ),
            vec![
                pair(
                    "aps:CreateRuleGroupsNamespace",
                    "arn:aws:aps:us-east-1:123456789012:rulegroupsnamespace/ws-1/ns"
                ),
                pair(
                    "aps:TagResource",
                    "arn:aws:aps:us-east-1:123456789012:rulegroupsnamespace/ws-1/ns"
                ),
            ]
        );
        assert_eq!(
            plain(
                ApsAction::DeleteAnomalyDetector,
                ApsTarget {
                    anomaly_detector_id: Some("ad-1"),
                    ..in_ws.clone()
                }
            ),
            vec![
                pair(
                    "aps:DeleteAnomalyDetector",
                    "arn:aws:aps:us-east-1:123456789012:anomalydetector/ws-1/ad-1"
                ),
                pair("aps:DeleteAnomalyDetector", ws),
            ]
        );
        let scraper = authorizations(
            ApsAction::CreateScraper,
            &ARNS,
            &ApsTarget {
                cluster_arn: Some("arn:aws:eks:us-east-1:123456789012:cluster/c"),
                role_arn: Some("arn:aws:iam::123456789012:role/r"),
                ..in_ws.clone()
            },
        )
        .unwrap();
        assert_eq!(scraper.len(), 3);
        assert_eq!(
            scraper[0].resource,
            "arn:aws:eks:us-east-1:123456789012:cluster/c"
        );
        assert_eq!(scraper[2].action, "iam:PassRole");
        assert_eq!(
            scraper[2].context,
            vec![("iam:PassedToService", "aps.amazonaws.com")]
        );
        let tagged = ApsTarget {
            resource_arn: Some(ws),
            ..Default::default()
        };
        assert_eq!(
            plain(ApsAction::TagResource, tagged),
            vec![pair("aps:TagResource", ws)]
        );
        let err =
            authorizations(ApsAction::DescribeWorkspace, &ARNS, &ApsTarget::default()).unwrap_err();
        assert_eq!(err.missing, "workspaceId");
    }

    #[test]
    fn managed_policies_parse_and_grant_what_they_say() {
        use std::time::SystemTime;

        use crate::policy::{
            AttachedPolicy, AuthzRequest, PolicyKind, PolicySet, RequestContext, evaluate,
        };
        use crate::principal::{Principal, PrincipalKind};

        let principal = Principal {
            account_id: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:user/u".into(),
            user_id: "AIDAU".into(),
            user_name: Some("u".into()),
            kind: PrincipalKind::User,
            tags: Default::default(),
        };
        let ctx = RequestContext::for_principal(&principal, SystemTime::UNIX_EPOCH);
        let allowed = |policy: &ManagedPolicy, action: ApsAction| {
            let attached = AttachedPolicy::new(
                policy.arn,
                PolicyKind::Identity,
                std::sync::Arc::new(policy.policy().unwrap()),
            );
            let req = AuthzRequest {
                principal: &principal,
                action: action.iam_action(),
                resource: "arn:aws:aps:us-east-1:123456789012:workspace/ws-1",
                context: &ctx,
            };
            evaluate(
                &req,
                &PolicySet {
                    identity: std::slice::from_ref(&attached),
                    ..Default::default()
                },
            )
            .is_allowed()
        };
        for policy in MANAGED_POLICIES {
            assert!(policy.policy().is_ok(), "{}", policy.name);
            assert_eq!(managed_policy(policy.arn), Some(policy));
            assert_eq!(managed_policy(policy.name), Some(policy));
            assert!(policy.arn.starts_with("arn:aws:iam::aws:policy/"));
        }
        for action in ApsAction::ALL {
            assert!(allowed(&FULL_ACCESS, *action), "{action:?}");
            let query = matches!(
                action,
                ApsAction::GetLabels
                    | ApsAction::GetMetricMetadata
                    | ApsAction::GetSeries
                    | ApsAction::QueryMetrics
            );
            assert_eq!(allowed(&QUERY_ACCESS, *action), query, "{action:?}");
            assert_eq!(
                allowed(&REMOTE_WRITE_ACCESS, *action),
                *action == ApsAction::RemoteWrite
            );
        }
        assert!(allowed(&CONSOLE_FULL_ACCESS, ApsAction::CreateWorkspace));
        assert!(!allowed(&CONSOLE_FULL_ACCESS, ApsAction::RemoteWrite));
        assert!(!allowed(&CONSOLE_FULL_ACCESS, ApsAction::CreateScraper));
        // Every aps action a managed policy names exists in the catalogue.
        for policy in MANAGED_POLICIES {
            let json: serde_json::Value = serde_json::from_str(policy.document).unwrap();
            for st in json["Statement"].as_array().unwrap() {
                let actions = match &st["Action"] {
                    serde_json::Value::String(s) => vec![s.clone()],
                    v => v
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| a.as_str().unwrap().to_owned())
                        .collect(),
                };
                for a in actions
                    .iter()
                    .filter(|a| a.starts_with("aps:") && !a.contains('*'))
                {
                    assert!(ApsAction::from_name(a).is_some(), "{a} in {}", policy.name);
                }
            }
        }
    }
}
