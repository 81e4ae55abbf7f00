//! The OpenAPI document of the control plane, built from [`Operation`] and the wire types.

use utoipa::OpenApi;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, PathItem, Ref, Required, ResponseBuilder, Type,
};

use crate::control::model::*;
use crate::operation::Operation;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ampd control plane",
        description = "Amazon Managed Service for Prometheus control-plane API (rest-json, \
                       service `aps`, API version 2020-08-01) as served by ampd. Requests are \
                       signed with SigV4; errors carry the code in `x-amzn-ErrorType`.",
        version = "2020-08-01"
    ),
    components(schemas(
        ResourceStatus,
        CreateWorkspaceRequest,
        CreateWorkspaceResponse,
        WorkspaceDescription,
        DescribeWorkspaceResponse,
        WorkspaceSummary,
        ListWorkspacesResponse,
        UpdateWorkspaceAliasRequest,
        LimitsPerLabelSetEntry,
        LimitsPerLabelSet,
        WorkspaceConfigurationDescription,
        DescribeWorkspaceConfigurationResponse,
        UpdateWorkspaceConfigurationRequest,
        StatusResponse,
        TagResourceRequest,
        ListTagsForResourceResponse,
        CreateRuleGroupsNamespaceRequest,
        PutRuleGroupsNamespaceRequest,
        RuleGroupsNamespaceResponse,
        RuleGroupsNamespaceDescription,
        DescribeRuleGroupsNamespaceResponse,
        RuleGroupsNamespaceSummary,
        ListRuleGroupsNamespacesResponse,
        AlertManagerDefinitionRequest,
        AlertManagerDefinitionDescription,
        DescribeAlertManagerDefinitionResponse,
        LoggingConfigurationRequest,
        LoggingConfigurationMetadata,
        DescribeLoggingConfigurationResponse,
        CloudWatchLogDestination,
        LoggingFilter,
        LoggingDestination,
        QueryLoggingConfigurationRequest,
        QueryLoggingConfigurationMetadata,
        DescribeQueryLoggingConfigurationResponse,
        PutResourcePolicyRequest,
        PutResourcePolicyResponse,
        DescribeResourcePolicyResponse,
        ScrapeConfiguration,
        EksConfiguration,
        VpcConfiguration,
        Source,
        AmpConfiguration,
        CloudWatchConfiguration,
        Destination,
        RoleConfiguration,
        OpenSearchExporterConfiguration,
        KafkaExporterConfiguration,
        ExporterConfiguration,
        CreateScraperRequest,
        ScraperResponse,
        ScraperDescription,
        DescribeScraperResponse,
        ScraperSummary,
        ListScrapersResponse,
        UpdateScraperRequest,
        DeleteScraperResponse,
        GetDefaultScraperConfigurationResponse,
        ScraperLoggingDestination,
        ComponentConfig,
        ScraperComponent,
        UpdateScraperLoggingConfigurationRequest,
        DescribeScraperLoggingConfigurationResponse,
        IgnoreNearExpected,
        RandomCutForestConfiguration,
        AnomalyDetectorConfiguration,
        AnomalyDetectorMissingDataAction,
        CreateAnomalyDetectorRequest,
        PutAnomalyDetectorRequest,
        AnomalyDetectorResponse,
        AnomalyDetectorDescription,
        DescribeAnomalyDetectorResponse,
        AnomalyDetectorSummary,
        ListAnomalyDetectorsResponse,
        ValidationExceptionField,
        ErrorBody,
    ))
)]
struct ControlApi;

/// Returns the request and response body schemas of an operation.
fn bodies(op: Operation) -> (Option<&'static str>, Option<&'static str>) {
    use Operation as O;
    match op {
        O::CreateAlertManagerDefinition | O::PutAlertManagerDefinition => (
            Some("AlertManagerDefinitionRequest"),
            Some("StatusResponse"),
        ),
        O::CreateAnomalyDetector => (
            Some("CreateAnomalyDetectorRequest"),
            Some("AnomalyDetectorResponse"),
        ),
        O::PutAnomalyDetector => (
            Some("PutAnomalyDetectorRequest"),
            Some("AnomalyDetectorResponse"),
        ),
        O::CreateLoggingConfiguration | O::UpdateLoggingConfiguration => {
            (Some("LoggingConfigurationRequest"), Some("StatusResponse"))
        }
        O::CreateQueryLoggingConfiguration | O::UpdateQueryLoggingConfiguration => (
            Some("QueryLoggingConfigurationRequest"),
            Some("StatusResponse"),
        ),
        O::CreateRuleGroupsNamespace => (
            Some("CreateRuleGroupsNamespaceRequest"),
            Some("RuleGroupsNamespaceResponse"),
        ),
        O::PutRuleGroupsNamespace => (
            Some("PutRuleGroupsNamespaceRequest"),
            Some("RuleGroupsNamespaceResponse"),
        ),
        O::CreateScraper => (Some("CreateScraperRequest"), Some("ScraperResponse")),
        O::UpdateScraper => (Some("UpdateScraperRequest"), Some("ScraperResponse")),
        O::CreateWorkspace => (
            Some("CreateWorkspaceRequest"),
            Some("CreateWorkspaceResponse"),
        ),
        O::DeleteScraper => (None, Some("DeleteScraperResponse")),
        O::DeleteAlertManagerDefinition
        | O::DeleteAnomalyDetector
        | O::DeleteLoggingConfiguration
        | O::DeleteQueryLoggingConfiguration
        | O::DeleteResourcePolicy
        | O::DeleteRuleGroupsNamespace
        | O::DeleteScraperLoggingConfiguration
        | O::DeleteWorkspace => (None, None),
        O::DescribeAlertManagerDefinition => (None, Some("DescribeAlertManagerDefinitionResponse")),
        O::DescribeAnomalyDetector => (None, Some("DescribeAnomalyDetectorResponse")),
        O::DescribeLoggingConfiguration => (None, Some("DescribeLoggingConfigurationResponse")),
        O::DescribeQueryLoggingConfiguration => {
            (None, Some("DescribeQueryLoggingConfigurationResponse"))
        }
        O::DescribeResourcePolicy => (None, Some("DescribeResourcePolicyResponse")),
        O::DescribeRuleGroupsNamespace => (None, Some("DescribeRuleGroupsNamespaceResponse")),
        O::DescribeScraper => (None, Some("DescribeScraperResponse")),
        O::DescribeScraperLoggingConfiguration => {
            (None, Some("DescribeScraperLoggingConfigurationResponse"))
        }
        O::DescribeWorkspace => (None, Some("DescribeWorkspaceResponse")),
        O::DescribeWorkspaceConfiguration => (None, Some("DescribeWorkspaceConfigurationResponse")),
        O::GetDefaultScraperConfiguration => (None, Some("GetDefaultScraperConfigurationResponse")),
        O::ListAnomalyDetectors => (None, Some("ListAnomalyDetectorsResponse")),
        O::ListRuleGroupsNamespaces => (None, Some("ListRuleGroupsNamespacesResponse")),
        O::ListScrapers => (None, Some("ListScrapersResponse")),
        O::ListTagsForResource => (None, Some("ListTagsForResourceResponse")),
        O::ListWorkspaces => (None, Some("ListWorkspacesResponse")),
        O::PutResourcePolicy => (
            Some("PutResourcePolicyRequest"),
            Some("PutResourcePolicyResponse"),
        ),
        O::TagResource => (Some("TagResourceRequest"), None),
        O::UntagResource => (None, None),
        O::UpdateScraperLoggingConfiguration => (
            Some("UpdateScraperLoggingConfigurationRequest"),
            Some("StatusResponse"),
        ),
        O::UpdateWorkspaceAlias => (Some("UpdateWorkspaceAliasRequest"), None),
        O::UpdateWorkspaceConfiguration => (
            Some("UpdateWorkspaceConfigurationRequest"),
            Some("StatusResponse"),
        ),
    }
}

fn http_method(op: Operation) -> HttpMethod {
    match op.method().as_str() {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        "PATCH" => HttpMethod::Patch,
        _ => HttpMethod::Get,
    }
}

fn schema_ref(name: &str) -> Ref {
    Ref::from_schema_name(name)
}

fn string_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// Returns the OpenAPI 3.1 document of the control plane.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ControlApi::openapi();
    let error_codes = [
        ("400", "ValidationException"),
        ("402", "ServiceQuotaExceededException"),
        ("403", "AccessDeniedException"),
        ("404", "ResourceNotFoundException"),
        ("409", "ConflictException"),
        ("429", "ThrottlingException"),
        ("500", "InternalServerException"),
    ];
    for &op in Operation::ALL {
        let mut b = OperationBuilder::new()
            .operation_id(Some(op.name()))
            .summary(Some(op.name()))
            .description(Some(format!("IAM action `{}`.", op.iam_action())));
        for label in op
            .path()
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        {
            b = b.parameter(
                ParameterBuilder::new()
                    .name(label)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(string_schema())),
            );
        }
        for &q in op.query_parameters() {
            let schema = if q == "maxResults" {
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(1000))
            } else {
                string_schema()
            };
            let required = if op == Operation::UntagResource {
                Required::True
            } else {
                Required::False
            };
            b = b.parameter(
                ParameterBuilder::new()
                    .name(q)
                    .parameter_in(ParameterIn::Query)
                    .required(required)
                    .schema(Some(schema)),
            );
        }
        let (input, output) = bodies(op);
        if let Some(input) = input {
            b = b.request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(schema_ref(input)))
                            .build(),
                    )
                    .required(Some(Required::True))
                    .build(),
            ));
        }
        let mut ok = ResponseBuilder::new().description("Success");
        if let Some(output) = output {
            ok = ok.content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(schema_ref(output)))
                    .build(),
            );
        }
        b = b.response(op.success_status().as_str(), ok.build());
        for (status, code) in error_codes {
            b = b.response(
                status,
                ResponseBuilder::new()
                    .description(code)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(schema_ref("ErrorBody")))
                            .build(),
                    )
                    .build(),
            );
        }
        let item = PathItem::new(http_method(op), b.build());
        match doc.paths.paths.get_mut(op.path()) {
            Some(existing) => existing.merge_operations(item),
            None => {
                doc.paths.paths.insert(op.path().to_owned(), item);
            }
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_documented_with_existing_schemas() {
        let doc = openapi();
        let schemas = &doc.components.as_ref().unwrap().schemas;
        let json = serde_json::to_value(&doc).unwrap();
        for &op in Operation::ALL {
            let method = op.method().as_str().to_ascii_lowercase();
            let entry = &json["paths"][op.path()][&method];
            assert_eq!(entry["operationId"], op.name(), "{op:?}");
            let (i, o) = bodies(op);
            for name in [i, o].into_iter().flatten() {
                assert!(schemas.contains_key(name), "{name} missing for {op:?}");
            }
        }
    }
}
