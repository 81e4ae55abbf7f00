//! Every AMP control-plane operation, named once.
//!
//! [`Operation`] gives each operation its IAM action (`aps:CreateWorkspace`), its CloudTrail
//! `eventName` and metrics label ([`Operation::name`]), its OpenAPI `operationId`, and its HTTP
//! binding from the botocore `amp` 2020-08-01 model, so none of these can drift apart.

use axum::http::{Method, StatusCode};
use axum::routing::MethodFilter;

macro_rules! operations {
    ($($op:ident: $method:ident $path:literal => $status:literal [$($q:literal),*];)*) => {
        /// One AMP control-plane operation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $(
                #[doc = concat!("`", stringify!($method), " ", $path, "`")]
                $op,
            )*
        }

        impl Operation {
            /// Every operation, in model order.
            pub const ALL: &'static [Operation] = &[$(Operation::$op),*];

            /// Returns the operation name: CloudTrail `eventName`, metrics label, OpenAPI id.
            pub fn name(self) -> &'static str {
                match self { $(Self::$op => stringify!($op)),* }
            }

            /// Returns the IAM action that authorizes the operation.
            pub fn iam_action(self) -> &'static str {
                match self { $(Self::$op => concat!("aps:", stringify!($op))),* }
            }

            /// Returns the HTTP method of the operation.
            pub fn method(self) -> Method {
                match self { $(Self::$op => Method::$method),* }
            }

            /// Returns the axum method filter of the operation.
            pub fn method_filter(self) -> MethodFilter {
                match self { $(Self::$op => MethodFilter::$method),* }
            }

            /// Returns the URI template of the operation (labels in braces).
            pub fn path(self) -> &'static str {
                match self { $(Self::$op => $path),* }
            }

            /// Returns the status code of a successful response.
            pub fn success_status(self) -> StatusCode {
                match self {
                    $(Self::$op => match StatusCode::from_u16($status) {
                        Ok(s) => s,
                        Err(_) => StatusCode::OK,
                    }),*
                }
            }

            /// Returns the query parameters the operation reads.
            pub fn query_parameters(self) -> &'static [&'static str] {
                match self { $(Self::$op => &[$($q),*]),* }
            }
        }
    };
}

operations! {
    CreateAlertManagerDefinition: POST "/workspaces/{workspaceId}/alertmanager/definition" => 202 [];
    CreateAnomalyDetector: POST "/workspaces/{workspaceId}/anomalydetectors" => 202 [];
    CreateLoggingConfiguration: POST "/workspaces/{workspaceId}/logging" => 202 [];
    CreateQueryLoggingConfiguration: POST "/workspaces/{workspaceId}/logging/query" => 202 [];
    CreateRuleGroupsNamespace: POST "/workspaces/{workspaceId}/rulegroupsnamespaces" => 202 [];
    CreateScraper: POST "/scrapers" => 202 [];
    CreateWorkspace: POST "/workspaces" => 202 [];
    DeleteAlertManagerDefinition: DELETE "/workspaces/{workspaceId}/alertmanager/definition" => 202 ["clientToken"];
    DeleteAnomalyDetector: DELETE "/workspaces/{workspaceId}/anomalydetectors/{anomalyDetectorId}" => 202 ["clientToken"];
    DeleteLoggingConfiguration: DELETE "/workspaces/{workspaceId}/logging" => 202 ["clientToken"];
    DeleteQueryLoggingConfiguration: DELETE "/workspaces/{workspaceId}/logging/query" => 202 ["clientToken"];
    DeleteResourcePolicy: DELETE "/workspaces/{workspaceId}/policy" => 202 ["clientToken", "revisionId"];
    DeleteRuleGroupsNamespace: DELETE "/workspaces/{workspaceId}/rulegroupsnamespaces/{name}" => 202 ["clientToken"];
    DeleteScraper: DELETE "/scrapers/{scraperId}" => 202 ["clientToken"];
    DeleteScraperLoggingConfiguration: DELETE "/scrapers/{scraperId}/logging-configuration" => 202 ["clientToken"];
    DeleteWorkspace: DELETE "/workspaces/{workspaceId}" => 202 ["clientToken"];
    DescribeAlertManagerDefinition: GET "/workspaces/{workspaceId}/alertmanager/definition" => 200 [];
    DescribeAnomalyDetector: GET "/workspaces/{workspaceId}/anomalydetectors/{anomalyDetectorId}" => 200 [];
    DescribeLoggingConfiguration: GET "/workspaces/{workspaceId}/logging" => 200 [];
    DescribeQueryLoggingConfiguration: GET "/workspaces/{workspaceId}/logging/query" => 200 [];
    DescribeResourcePolicy: GET "/workspaces/{workspaceId}/policy" => 200 [];
    DescribeRuleGroupsNamespace: GET "/workspaces/{workspaceId}/rulegroupsnamespaces/{name}" => 200 [];
    DescribeScraper: GET "/scrapers/{scraperId}" => 200 [];
    DescribeScraperLoggingConfiguration: GET "/scrapers/{scraperId}/logging-configuration" => 200 [];
    DescribeWorkspace: GET "/workspaces/{workspaceId}" => 200 [];
    DescribeWorkspaceConfiguration: GET "/workspaces/{workspaceId}/configuration" => 200 [];
    GetDefaultScraperConfiguration: GET "/scraperconfiguration" => 200 [];
    ListAnomalyDetectors: GET "/workspaces/{workspaceId}/anomalydetectors" => 200 ["alias", "maxResults", "nextToken"];
    ListRuleGroupsNamespaces: GET "/workspaces/{workspaceId}/rulegroupsnamespaces" => 200 ["name", "nextToken", "maxResults"];
    ListScrapers: GET "/scrapers" => 200 ["status", "sourceArn", "destinationArn", "alias", "nextToken", "maxResults"];
    ListTagsForResource: GET "/tags/{resourceArn}" => 200 [];
    ListWorkspaces: GET "/workspaces" => 200 ["nextToken", "alias", "maxResults"];
    PutAlertManagerDefinition: PUT "/workspaces/{workspaceId}/alertmanager/definition" => 202 [];
    PutAnomalyDetector: PUT "/workspaces/{workspaceId}/anomalydetectors/{anomalyDetectorId}" => 202 [];
    PutResourcePolicy: PUT "/workspaces/{workspaceId}/policy" => 202 [];
    PutRuleGroupsNamespace: PUT "/workspaces/{workspaceId}/rulegroupsnamespaces/{name}" => 202 [];
    TagResource: POST "/tags/{resourceArn}" => 200 [];
    UntagResource: DELETE "/tags/{resourceArn}" => 200 ["tagKeys"];
    UpdateLoggingConfiguration: PUT "/workspaces/{workspaceId}/logging" => 202 [];
    UpdateQueryLoggingConfiguration: PUT "/workspaces/{workspaceId}/logging/query" => 202 [];
    UpdateScraper: PUT "/scrapers/{scraperId}" => 202 [];
    UpdateScraperLoggingConfiguration: PUT "/scrapers/{scraperId}/logging-configuration" => 202 [];
    UpdateWorkspaceAlias: POST "/workspaces/{workspaceId}/alias" => 204 [];
    UpdateWorkspaceConfiguration: PATCH "/workspaces/{workspaceId}/configuration" => 202 [];
}

impl Operation {
    /// Returns the SigV4 service name requests for this operation are signed for.
    pub fn signing_service(self) -> &'static str {
        "aps"
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn table_covers_the_44_model_operations_once() {
        assert_eq!(Operation::ALL.len(), 44);
        let names: HashSet<_> = Operation::ALL.iter().map(|o| o.name()).collect();
        assert_eq!(names.len(), 44);
        let routes: HashSet<_> = Operation::ALL
            .iter()
            .map(|o| (o.method(), o.path()))
            .collect();
        assert_eq!(routes.len(), 44, "two operations share a method and path");
    }

    #[test]
    fn derived_names_agree() {
        let op = Operation::UpdateWorkspaceAlias;
        assert_eq!(op.iam_action(), "aps:UpdateWorkspaceAlias");
        assert_eq!(op.success_status(), StatusCode::NO_CONTENT);
        assert_eq!(Operation::TagResource.success_status(), StatusCode::OK);
        assert_eq!(Operation::UntagResource.query_parameters(), ["tagKeys"]);
    }
}
