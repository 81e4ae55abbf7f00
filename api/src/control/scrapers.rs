//! Managed scrapers and their logging configuration. Scrapers are stored, validated and
//! described; ampd does not run them.

use ampd_backends::{NewScraper, ResourceRef, Scraper, ScraperFilter, ScraperSpec};
use axum::extract::State;
use axum::response::Response;

use super::model::{
    CreateScraperRequest, DeleteScraperResponse, DescribeScraperLoggingConfigurationResponse,
    DescribeScraperResponse, Destination, ExporterConfiguration,
    GetDefaultScraperConfigurationResponse, ListScrapersResponse, RoleConfiguration,
    ScrapeConfiguration, ScraperComponent, ScraperDescription, ScraperDocument,
    ScraperLoggingDestination, ScraperResponse, ScraperSummary, Source, StatusResponse,
    UpdateScraperLoggingConfigurationRequest, UpdateScraperRequest,
};
use super::scrape_config::{self, DEFAULT_SCRAPE_CONFIGURATION};
use super::validate::{Check, blob, encode_blob, path_id};
use super::{ControlState, reply, reply_empty, status};
use crate::error::AwsError;
use crate::extract::{AwsJson, AwsPath, QueryParams};
use crate::operation::Operation;

fn internal(e: serde_json::Error) -> AwsError {
    AwsError::Internal(anyhow::Error::new(e))
}

fn one_of(c: &mut Check, field: &str, set: usize) {
    c.ensure(set == 1, field, || {
        format!("exactly one member must be set, got {set}")
    });
}

fn ids(c: &mut Check, field: &str, ids: &[String], prefix: &str) {
    c.ensure((1..=5).contains(&ids.len()), field, || {
        "must list 1 to 5 ids".into()
    });
    for id in ids {
        let ok = id.len() <= 255
            && id.strip_prefix(prefix).is_some_and(|r| {
                !r.is_empty()
                    && r.bytes()
                        .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
            });
        c.ensure(ok, field, || {
            format!("\"{id}\" must match {prefix}[0-9a-z]+")
        });
    }
}

fn check_scrape_configuration(c: &mut Check, sc: &ScrapeConfiguration) -> Result<(), AwsError> {
    one_of(
        c,
        "scrapeConfiguration",
        usize::from(sc.configuration_blob.is_some()),
    );
    if let Some(b) = &sc.configuration_blob {
        scrape_config::validate(&blob("scrapeConfiguration.configurationBlob", b)?)?;
    }
    Ok(())
}

fn check_source(c: &mut Check, s: &Source) {
    one_of(
        c,
        "source",
        usize::from(s.eks_configuration.is_some()) + usize::from(s.vpc_configuration.is_some()),
    );
    if let Some(e) = &s.eks_configuration {
        c.arn(
            "source.eksConfiguration.clusterArn",
            &e.cluster_arn,
            "eks",
            "cluster/",
            "",
        );
        ids(
            c,
            "source.eksConfiguration.subnetIds",
            &e.subnet_ids,
            "subnet-",
        );
        if let Some(sg) = &e.security_group_ids {
            ids(c, "source.eksConfiguration.securityGroupIds", sg, "sg-");
        }
    }
    if let Some(v) = &s.vpc_configuration {
        ids(
            c,
            "source.vpcConfiguration.subnetIds",
            &v.subnet_ids,
            "subnet-",
        );
        ids(
            c,
            "source.vpcConfiguration.securityGroupIds",
            &v.security_group_ids,
            "sg-",
        );
    }
}

fn check_destination(c: &mut Check, d: &Destination) {
    let set = usize::from(d.amp_configuration.is_some())
        + usize::from(d.cloud_watch_configuration.is_some());
    one_of(c, "destination", set);
    if let Some(a) = &d.amp_configuration {
        c.arn(
            "destination.ampConfiguration.workspaceArn",
            &a.workspace_arn,
            "aps",
            "workspace/",
            "",
        );
    }
    if let Some(w) = &d.cloud_watch_configuration {
        c.arn(
            "destination.cloudWatchConfiguration.datasetArn",
            &w.dataset_arn,
            "cloudwatch",
            "dataset/",
            "",
        );
    }
}

fn check_roles(c: &mut Check, r: &RoleConfiguration) {
    for (field, arn) in [
        ("roleConfiguration.sourceRoleArn", &r.source_role_arn),
        ("roleConfiguration.targetRoleArn", &r.target_role_arn),
    ] {
        if let Some(arn) = arn {
            c.arn(field, arn, "iam", "role/", "");
        }
    }
}

fn check_exporters(c: &mut Check, exporters: &[ExporterConfiguration]) {
    c.ensure(exporters.len() <= 1, "exporters", || {
        "at most one exporter is allowed".into()
    });
    for (i, e) in exporters.iter().enumerate() {
        let field = format!("exporters[{i}]");
        let set = usize::from(e.open_search_configuration.is_some())
            + usize::from(e.kafka_configuration.is_some());
        one_of(c, &field, set);
        if let Some(o) = &e.open_search_configuration {
            c.arn(
                &format!("{field}.openSearchConfiguration.domainArn"),
                &o.domain_arn,
                "es",
                "domain/",
                "",
            );
        }
        if let Some(k) = &e.kafka_configuration {
            c.arn(
                &format!("{field}.kafkaConfiguration.clusterArn"),
                &k.cluster_arn,
                "kafka",
                "cluster/",
                "",
            );
            for (name, v) in [
                ("topicFilter", &k.topic_filter),
                ("consumerGroupFilter", &k.consumer_group_filter),
            ] {
                if let Some(v) = v {
                    c.len(&format!("{field}.kafkaConfiguration.{name}"), v, 1, 256);
                }
            }
        }
    }
}

/// Fails if the destination workspace is one of ours and does not exist.
async fn check_destination_exists(s: &ControlState, d: &Destination) -> Result<(), AwsError> {
    if let Some(a) = &d.amp_configuration {
        if let Ok(ResourceRef::Workspace(id)) = s.arns().resource(&a.workspace_arn) {
            let ws = s.store().workspace(&id).await?;
            if ws.kms_key_arn.is_some() {
                return Err(AwsError::field(
                    "destination.ampConfiguration.workspaceArn",
                    "a workspace encrypted with a customer managed key cannot be the \
                     destination of a managed scraper",
                ));
            }
        } else {
            return Err(AwsError::ResourceNotFound {
                message: format!("Workspace not found: {}", a.workspace_arn),
                resource_id: a.workspace_arn.clone(),
                resource_type: "WORKSPACE",
            });
        }
    }
    Ok(())
}

fn spec(
    s: &ControlState,
    scraper_id: &str,
    alias: Option<String>,
    doc: &ScraperDocument,
) -> Result<ScraperSpec, AwsError> {
    let source_arn = doc
        .source
        .eks_configuration
        .as_ref()
        .map(|e| e.cluster_arn.clone())
        .unwrap_or_default();
    let destination_arn = match (
        &doc.destination.amp_configuration,
        &doc.destination.cloud_watch_configuration,
    ) {
        (Some(a), _) => a.workspace_arn.clone(),
        (None, Some(w)) => w.dataset_arn.clone(),
        (None, None) => String::new(),
    };
    // Managed collectors act through the service-linked role of the account.
    let suffix: String = scraper_id
        .trim_start_matches("s-")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    let account = s.arns().account_id();
    Ok(ScraperSpec {
        alias,
        source_arn,
        destination_arn,
        role_arn: format!(
            "arn:aws:iam::{account}:role/aws-service-role/scraper.aps.amazonaws.com/AWSServiceRoleForAmazonPrometheusScraper_{suffix}"
        ),
        document: serde_json::to_value(doc).map_err(internal)?,
    })
}

fn document(s: &Scraper) -> Result<ScraperDocument, AwsError> {
    serde_json::from_value(s.spec.document.clone()).map_err(internal)
}

fn response(s: &ControlState, scraper: Scraper) -> ScraperResponse {
    ScraperResponse {
        arn: s.arns().scraper(&scraper.id),
        status: status(scraper.status),
        tags: Some(scraper.tags),
        scraper_id: scraper.id,
    }
}

/// `POST /scrapers`
pub(super) async fn create(
    State(s): State<ControlState>,
    AwsJson(req): AwsJson<CreateScraperRequest>,
) -> Result<Response, AwsError> {
    let mut c = Check::new();
    if let Some(a) = &req.alias {
        c.name_pattern("alias", a, 100);
    }
    check_scrape_configuration(&mut c, &req.scrape_configuration)?;
    check_source(&mut c, &req.source);
    check_destination(&mut c, &req.destination);
    if let Some(r) = &req.role_configuration {
        check_roles(&mut c, r);
    }
    check_exporters(&mut c, req.exporters.as_deref().unwrap_or_default());
    c.client_token(req.client_token.as_deref());
    if let Some(t) = &req.tags {
        c.tags("tags", t);
    }
    c.finish()?;
    check_destination_exists(&s, &req.destination).await?;
    let token = s.client_token(req.client_token.as_deref(), &[], &req)?;
    let id = super::arn::new_scraper_id();
    let doc = ScraperDocument {
        scrape_configuration: req.scrape_configuration,
        source: req.source,
        destination: req.destination,
        role_configuration: req.role_configuration,
        exporters: req.exporters,
    };
    let new = NewScraper {
        spec: spec(&s, &id, req.alias, &doc)?,
        id,
        tags: req.tags.unwrap_or_default(),
    };
    let scraper = s.store().create_scraper(new, token.as_ref()).await?;
    Ok(reply(Operation::CreateScraper, &response(&s, scraper)))
}

/// `GET /scrapers/{scraperId}`
pub(super) async fn describe(
    State(s): State<ControlState>,
    AwsPath(id): AwsPath<String>,
) -> Result<Response, AwsError> {
    path_id("scraperId", &id)?;
    let sc = s.store().scraper(&id).await?;
    let doc = document(&sc)?;
    Ok(reply(
        Operation::DescribeScraper,
        &DescribeScraperResponse {
            scraper: ScraperDescription {
                alias: sc.spec.alias,
                arn: s.arns().scraper(&sc.id),
                role_arn: sc.spec.role_arn,
                status: status(sc.status),
                created_at: sc.created_at.as_epoch_seconds(),
                last_modified_at: sc.modified_at.as_epoch_seconds(),
                tags: Some(sc.tags),
                status_reason: sc.status_reason,
                scrape_configuration: doc.scrape_configuration,
                source: doc.source,
                destination: doc.destination,
                role_configuration: doc.role_configuration,
                exporters: doc.exporters,
                scraper_id: sc.id,
            },
        },
    ))
}

/// `GET /scrapers`
pub(super) async fn list(
    State(s): State<ControlState>,
    q: QueryParams,
) -> Result<Response, AwsError> {
    let filter = ScraperFilter {
        status: q.all("status"),
        alias: q.all("alias"),
        source_arn: q.all("sourceArn"),
        destination_arn: q.all("destinationArn"),
    };
    let mut c = Check::new();
    for (key, values) in [
        ("status", &filter.status),
        ("alias", &filter.alias),
        ("sourceArn", &filter.source_arn),
        ("destinationArn", &filter.destination_arn),
    ] {
        c.ensure(values.len() <= 20, key, || {
            "at most 20 values per filter".into()
        });
        for v in values {
            c.len(key, v, 1, 256);
        }
    }
    c.finish()?;
    let scope = format!(
        "ListScrapers\0{}\0{}\0{}\0{}",
        filter.status.join(","),
        filter.alias.join(","),
        filter.source_arn.join(","),
        filter.destination_arn.join(",")
    );
    let page = s.page(&scope, q.get("nextToken"), q.get("maxResults"))?;
    let page = s.store().list_scrapers(&filter, page).await?;
    let mut scrapers = Vec::with_capacity(page.items.len());
    for sc in page.items {
        let doc = document(&sc)?;
        scrapers.push(ScraperSummary {
            alias: sc.spec.alias,
            arn: s.arns().scraper(&sc.id),
            role_arn: sc.spec.role_arn,
            status: status(sc.status),
            created_at: sc.created_at.as_epoch_seconds(),
            last_modified_at: sc.modified_at.as_epoch_seconds(),
            tags: Some(sc.tags),
            status_reason: sc.status_reason,
            source: doc.source,
            destination: doc.destination,
            role_configuration: doc.role_configuration,
            exporters: doc.exporters,
            scraper_id: sc.id,
        });
    }
    let next_token = s.next_token(&scope, page.next)?;
    Ok(reply(
        Operation::ListScrapers,
        &ListScrapersResponse {
            scrapers,
            next_token,
        },
    ))
}

/// `PUT /scrapers/{scraperId}`
pub(super) async fn update(
    State(s): State<ControlState>,
    AwsPath(id): AwsPath<String>,
    AwsJson(req): AwsJson<UpdateScraperRequest>,
) -> Result<Response, AwsError> {
    path_id("scraperId", &id)?;
    let mut c = Check::new();
    if let Some(a) = &req.alias {
        c.name_pattern("alias", a, 100);
    }
    if let Some(sc) = &req.scrape_configuration {
        check_scrape_configuration(&mut c, sc)?;
    }
    if let Some(d) = &req.destination {
        check_destination(&mut c, d);
    }
    if let Some(r) = &req.role_configuration {
        check_roles(&mut c, r);
    }
    check_exporters(&mut c, req.exporters.as_deref().unwrap_or_default());
    c.client_token(req.client_token.as_deref());
    c.finish()?;
    if let Some(d) = &req.destination {
        check_destination_exists(&s, d).await?;
    }
    let token = s.client_token(req.client_token.as_deref(), &[&id], &req)?;
    let current = s.store().scraper(&id).await?;
    let mut doc = document(&current)?;
    if let Some(v) = req.scrape_configuration {
        doc.scrape_configuration = v;
    }
    if let Some(v) = req.destination {
        doc.destination = v;
    }
    if let Some(v) = req.role_configuration {
        doc.role_configuration = Some(v);
    }
    if let Some(v) = req.exporters {
        doc.exporters = Some(v);
    }
    let alias = req.alias.or(current.spec.alias);
    let new_spec = spec(&s, &id, alias, &doc)?;
    let scraper = s
        .store()
        .update_scraper(&id, new_spec, token.as_ref())
        .await?;
    Ok(reply(Operation::UpdateScraper, &response(&s, scraper)))
}

/// `DELETE /scrapers/{scraperId}`
pub(super) async fn delete(
    State(s): State<ControlState>,
    AwsPath(id): AwsPath<String>,
    q: QueryParams,
) -> Result<Response, AwsError> {
    path_id("scraperId", &id)?;
    let token = s.query_token(&q, &[&id])?;
    let sc = s.store().delete_scraper(&id, token.as_ref()).await?;
    Ok(reply(
        Operation::DeleteScraper,
        &DeleteScraperResponse {
            status: status(sc.status),
            scraper_id: sc.id,
        },
    ))
}

/// `GET /scraperconfiguration`
pub(super) async fn default_configuration() -> Response {
    reply(
        Operation::GetDefaultScraperConfiguration,
        &GetDefaultScraperConfigurationResponse {
            configuration: encode_blob(DEFAULT_SCRAPE_CONFIGURATION.as_bytes()),
        },
    )
}

const COMPONENT_TYPES: &[&str] = &["SERVICE_DISCOVERY", "COLLECTOR", "EXPORTER"];

/// `PUT /scrapers/{scraperId}/logging-configuration`
pub(super) async fn update_logging(
    State(s): State<ControlState>,
    AwsPath(id): AwsPath<String>,
    AwsJson(req): AwsJson<UpdateScraperLoggingConfigurationRequest>,
) -> Result<Response, AwsError> {
    path_id("scraperId", &id)?;
    let mut c = Check::new();
    let dest = &req.logging_destination;
    one_of(
        &mut c,
        "loggingDestination",
        usize::from(dest.cloud_watch_logs.is_some()),
    );
    if let Some(cw) = &dest.cloud_watch_logs {
        super::logging::check_log_group(
            &mut c,
            "loggingDestination.cloudWatchLogs.logGroupArn",
            &cw.log_group_arn,
        );
    }
    let components = req.scraper_components.clone().unwrap_or_else(|| {
        COMPONENT_TYPES
            .iter()
            .map(|t| ScraperComponent {
                component_type: (*t).to_owned(),
                config: None,
            })
            .collect()
    });
    c.ensure(!components.is_empty(), "scraperComponents", || {
        "must list at least one component".into()
    });
    for comp in &components {
        c.ensure(
            COMPONENT_TYPES.contains(&comp.component_type.as_str()),
            "scraperComponents.type",
            || {
                format!(
                    "\"{}\" is not one of {}",
                    comp.component_type,
                    COMPONENT_TYPES.join(", ")
                )
            },
        );
    }
    c.finish()?;
    let doc = serde_json::json!({
        "loggingDestination": serde_json::to_value(&req.logging_destination).map_err(internal)?,
        "scraperComponents": serde_json::to_value(&components).map_err(internal)?,
    });
    let conf = s
        .store()
        .put_scraper_logging_configuration(&id, doc)
        .await?;
    Ok(reply(
        Operation::UpdateScraperLoggingConfiguration,
        &StatusResponse {
            status: status(conf.status),
        },
    ))
}

/// `GET /scrapers/{scraperId}/logging-configuration`
pub(super) async fn describe_logging(
    State(s): State<ControlState>,
    AwsPath(id): AwsPath<String>,
) -> Result<Response, AwsError> {
    path_id("scraperId", &id)?;
    let conf = s.store().scraper_logging_configuration(&id).await?;
    let destination: ScraperLoggingDestination = serde_json::from_value(
        conf.document
            .get("loggingDestination")
            .cloned()
            .unwrap_or_default(),
    )
    .map_err(internal)?;
    let components: Vec<ScraperComponent> = serde_json::from_value(
        conf.document
            .get("scraperComponents")
            .cloned()
            .unwrap_or_default(),
    )
    .map_err(internal)?;
    Ok(reply(
        Operation::DescribeScraperLoggingConfiguration,
        &DescribeScraperLoggingConfigurationResponse {
            status: status(conf.status),
            scraper_id: conf.scraper_id,
            logging_destination: destination,
            scraper_components: components,
            modified_at: conf.modified_at.as_epoch_seconds(),
        },
    ))
}

/// `DELETE /scrapers/{scraperId}/logging-configuration`
pub(super) async fn delete_logging(
    State(s): State<ControlState>,
    AwsPath(id): AwsPath<String>,
    q: QueryParams,
) -> Result<Response, AwsError> {
    path_id("scraperId", &id)?;
    let token = s.query_token(&q, &[&id])?;
    s.store()
        .delete_scraper_logging_configuration(&id, token.as_ref())
        .await?;
    Ok(reply_empty(Operation::DeleteScraperLoggingConfiguration))
}
