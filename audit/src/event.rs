//! The CloudTrail event record and the builder the API layer fills in per call.
//!
//! Field names and casing follow the CloudTrail record reference
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::{AuditError, AuditResult};
use crate::redact::redact;
use crate::timefmt::iso_seconds;

/// Record format version written by this crate (newer minors only add optional fields).
pub const EVENT_VERSION: &str = "1.11";

/// CloudTrail caps these free-text fields at 1 KB.
const TEXT_FIELD_LIMIT: usize = 1024;

/// One CloudTrail event record, as it appears in `{"Records":[…]}` log files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    /// Record format version, e.g. `1.11`.
    pub event_version: String,
    /// Who made the call.
    pub user_identity: UserIdentity,
    /// Time of the request, UTC, second precision.
    #[serde(with = "iso_seconds")]
    pub event_time: OffsetDateTime,
    /// Service endpoint name, e.g. `aps.amazonaws.com`.
    pub event_source: String,
    /// API action, e.g. `CreateWorkspace`.
    pub event_name: String,
    /// Region the request was made to.
    pub aws_region: String,
    /// Caller IP address, or the calling service's DNS name.
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
    /// Caller's `User-Agent`.
    pub user_agent: String,
    /// Service error code, present only on failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Error message, present only on failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The request's parameters (`null` when none), with secrets redacted.
    #[serde(default)]
    pub request_parameters: Option<Value>,
    /// The response of a write call (`null` for reads and failures), with secrets redacted.
    #[serde(default)]
    pub response_elements: Option<Value>,
    /// Extra service-specific data, e.g. `SignatureVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_event_data: Option<Value>,
    /// The `x-amzn-RequestId` returned to the caller.
    #[serde(rename = "requestID")]
    pub request_id: String,
    /// GUID unique to this event.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// Whether the call only reads.
    pub read_only: bool,
    /// Resources the call acted on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    /// Always [`EventType::AwsApiCall`] for calls made to ampd.
    pub event_type: EventType,
    /// True for management events.
    pub management_event: bool,
    /// Account that received the event.
    pub recipient_account_id: String,
    /// Management or data event.
    pub event_category: EventCategory,
    /// TLS parameters of the connection, absent for plain HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_details: Option<TlsDetails>,
}

impl EventRecord {
    /// Starts a record for the call `event_name` made to `source` at `event_time`.
    pub fn builder(
        source: EventSource,
        event_name: impl Into<String>,
        event_time: OffsetDateTime,
    ) -> EventBuilder {
        EventBuilder::new(source, event_name.into(), event_time)
    }

    /// Returns the user name LookupEvents reports: the IAM user, else the role session, else the
    /// role, else `root` for the account root.
    pub fn lookup_username(&self) -> Option<String> {
        let id = &self.user_identity;
        if let Some(name) = &id.user_name {
            return Some(name.clone());
        }
        match id.identity_type {
            IdentityType::Root => Some("root".to_owned()),
            IdentityType::AssumedRole => id
                .arn
                .as_deref()
                .and_then(|arn| arn.rsplit('/').next())
                .map(str::to_owned)
                .or_else(|| {
                    id.session_context
                        .as_ref()
                        .and_then(|c| c.session_issuer.as_ref())
                        .and_then(|i| i.user_name.clone())
                }),
            _ => None,
        }
    }
}

/// `userIdentity`: the principal that made the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// Kind of principal.
    #[serde(rename = "type")]
    pub identity_type: IdentityType,
    /// Unique id, e.g. `AIDA…` or `AROA…:session`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// Caller ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Account owning the credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Access key used to sign the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// IAM user name (the `sub` for web identity users).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Context of temporary credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_context: Option<SessionContext>,
    /// Service principal when a service made the call on the user's behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoked_by: Option<String>,
    /// Identity provider of SAML and web identity users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<String>,
}

impl UserIdentity {
    /// Returns an identity of the given type with every other field empty.
    pub fn new(identity_type: IdentityType) -> Self {
        Self {
            identity_type,
            principal_id: None,
            arn: None,
            account_id: None,
            access_key_id: None,
            user_name: None,
            session_context: None,
            invoked_by: None,
            identity_provider: None,
        }
    }
}

/// `userIdentity.type` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdentityType {
    /// The account root user.
    Root,
    /// An IAM user.
    #[serde(rename = "IAMUser")]
    IamUser,
    /// A role session from `AssumeRole*`.
    AssumedRole,
    /// A role.
    Role,
    /// A federated user from `GetFederationToken`.
    FederatedUser,
    /// Another account.
    #[serde(rename = "AWSAccount")]
    AwsAccount,
    /// A service principal.
    #[serde(rename = "AWSService")]
    AwsService,
    /// A web identity (OIDC) user.
    WebIdentityUser,
    /// A caller that could not be identified (e.g. a failed signature).
    Unknown,
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    /// The role the session was issued for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_issuer: Option<SessionIssuer>,
    /// The identity provider of a web identity session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_id_federation_data: Option<WebIdFederationData>,
    /// Creation time and MFA state of the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<SessionAttributes>,
    /// The source identity set on the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
}

/// `sessionContext.attributes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes {
    /// When the temporary credentials were issued.
    #[serde(with = "iso_seconds")]
    pub creation_date: OffsetDateTime,
    /// `"true"` or `"false"`: CloudTrail writes this flag as a string.
    pub mfa_authenticated: String,
}

impl SessionAttributes {
    /// Returns attributes for a session created at `creation_date`.
    pub fn new(creation_date: OffsetDateTime, mfa_authenticated: bool) -> Self {
        Self {
            creation_date,
            mfa_authenticated: mfa_authenticated.to_string(),
        }
    }
}

/// `sessionContext.sessionIssuer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer {
    /// Kind of issuer, `Role` for role sessions.
    #[serde(rename = "type")]
    pub issuer_type: String,
    /// Unique id of the issuer, e.g. `AROA…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// ARN of the issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Account of the issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Name of the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
}

/// `sessionContext.webIdFederationData`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebIdFederationData {
    /// The OIDC provider, e.g. its ARN.
    pub federated_provider: String,
    /// Provider attributes (e.g. audience) the session was issued with.
    #[serde(default)]
    pub attributes: serde_json::Map<String, Value>,
}

/// One entry of `resources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// Resource ARN.
    #[serde(rename = "ARN")]
    pub arn: String,
    /// Account owning the resource.
    #[serde(rename = "accountId")]
    pub account_id: String,
    /// CloudFormation-style type, e.g. `AWS::APS::Workspace`.
    #[serde(rename = "type")]
    pub resource_type: String,
}

/// `tlsDetails` of the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsDetails {
    /// E.g. `TLSv1.3`.
    pub tls_version: String,
    /// E.g. `TLS_AES_128_GCM_SHA256`.
    pub cipher_suite: String,
    /// The `Host` header the client sent.
    pub client_provided_host_header: String,
}

/// `eventType` values produced by ampd.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    /// An API call.
    AwsApiCall,
    /// An event generated by the service itself.
    AwsServiceEvent,
}

/// `eventCategory`: management events are always logged, data events only when enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventCategory {
    /// Control-plane operation.
    Management,
    /// High-volume data-plane operation (remote write, queries).
    Data,
}

/// Services whose calls ampd records, named by their endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSource {
    /// Amazon Managed Service for Prometheus.
    Aps,
    /// IAM.
    Iam,
    /// STS.
    Sts,
    /// KMS.
    Kms,
    /// CloudTrail itself.
    CloudTrail,
}

impl EventSource {
    /// Returns the `eventSource` string, e.g. `aps.amazonaws.com`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aps => "aps.amazonaws.com",
            Self::Iam => "iam.amazonaws.com",
            Self::Sts => "sts.amazonaws.com",
            Self::Kms => "kms.amazonaws.com",
            Self::CloudTrail => "cloudtrail.amazonaws.com",
        }
    }
}

/// Fills in an [`EventRecord`]; [`EventBuilder::build`] checks the required fields, assigns the
/// event id and redacts secrets.
#[derive(Debug, Clone)]
#[must_use]
pub struct EventBuilder {
    source: EventSource,
    event_name: String,
    event_time: OffsetDateTime,
    user_identity: UserIdentity,
    aws_region: Option<String>,
    recipient_account_id: Option<String>,
    request_id: Option<String>,
    source_ip_address: String,
    user_agent: String,
    error: Option<(String, String)>,
    request_parameters: Option<Value>,
    response_elements: Option<Value>,
    additional_event_data: Option<Value>,
    read_only: Option<bool>,
    resources: Vec<Resource>,
    category: EventCategory,
    tls_details: Option<TlsDetails>,
}

impl EventBuilder {
    fn new(source: EventSource, event_name: String, event_time: OffsetDateTime) -> Self {
        // Records carry UTC at second precision; truncating here keeps a record equal to itself
        // after a round trip through a log file.
        let event_time = event_time.to_offset(time::UtcOffset::UTC);
        let event_time = event_time.replace_nanosecond(0).unwrap_or(event_time);
        Self {
            source,
            event_name,
            event_time,
            user_identity: UserIdentity::new(IdentityType::Unknown),
            aws_region: None,
            recipient_account_id: None,
            request_id: None,
            source_ip_address: String::new(),
            user_agent: String::new(),
            error: None,
            request_parameters: None,
            response_elements: None,
            additional_event_data: None,
            read_only: None,
            resources: Vec::new(),
            category: EventCategory::Management,
            tls_details: None,
        }
    }

    /// Sets the caller (defaults to an `Unknown` identity).
    pub fn user_identity(mut self, identity: UserIdentity) -> Self {
        self.user_identity = identity;
        self
    }

    /// Sets the region the request was made to (required).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.aws_region = Some(region.into());
        self
    }

    /// Sets the account that received the call (required).
    pub fn recipient_account_id(mut self, account: impl Into<String>) -> Self {
        self.recipient_account_id = Some(account.into());
        self
    }

    /// Sets the request id returned to the caller (required).
    pub fn request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// Sets the caller's address.
    pub fn source_ip(mut self, ip: impl Into<String>) -> Self {
        self.source_ip_address = ip.into();
        self
    }

    /// Sets the caller's `User-Agent`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Marks the call as failed with a service error code and message.
    pub fn error(mut self, code: impl Into<String>, message: impl Into<String>) -> Self {
        self.error = Some((code.into(), message.into()));
        self
    }

    /// Sets the request parameters.
    pub fn request_parameters(mut self, params: Value) -> Self {
        self.request_parameters = Some(params);
        self
    }

    /// Sets the response elements (dropped for read-only and failed calls, as CloudTrail does).
    pub fn response_elements(mut self, response: Value) -> Self {
        self.response_elements = Some(response);
        self
    }

    /// Sets `additionalEventData`.
    pub fn additional_event_data(mut self, data: Value) -> Self {
        self.additional_event_data = Some(data);
        self
    }

    /// Overrides `readOnly`, which otherwise follows the action name (`Get*`, `List*`,
    /// `Describe*`, `Lookup*` and `Query*` read).
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = Some(read_only);
        self
    }

    /// Adds a resource the call acted on.
    pub fn resource(
        mut self,
        arn: impl Into<String>,
        account_id: impl Into<String>,
        resource_type: impl Into<String>,
    ) -> Self {
        self.resources.push(Resource {
            arn: arn.into(),
            account_id: account_id.into(),
            resource_type: resource_type.into(),
        });
        self
    }

    /// Sets the category (defaults to [`EventCategory::Management`]).
    pub fn category(mut self, category: EventCategory) -> Self {
        self.category = category;
        self
    }

    /// Sets the TLS parameters of the connection.
    pub fn tls_details(mut self, tls: TlsDetails) -> Self {
        self.tls_details = Some(tls);
        self
    }

    /// Returns the finished record with a fresh `eventID` and secrets redacted.
    pub fn build(self) -> AuditResult<EventRecord> {
        let missing = |what: &str| AuditError::InvalidEvent(format!("{what} is required"));
        let read_only = self
            .read_only
            .unwrap_or_else(|| reads_by_name(&self.event_name));
        let failed = self.error.is_some();
        let (error_code, error_message) = match self.error {
            Some((code, message)) => (Some(truncate(code)), Some(truncate(message))),
            None => (None, None),
        };
        Ok(EventRecord {
            event_version: EVENT_VERSION.to_owned(),
            user_identity: self.user_identity,
            event_time: self.event_time,
            event_source: self.source.as_str().to_owned(),
            event_name: self.event_name,
            aws_region: self.aws_region.ok_or_else(|| missing("awsRegion"))?,
            source_ip_address: self.source_ip_address,
            user_agent: truncate(self.user_agent),
            error_code,
            error_message,
            request_parameters: self.request_parameters.map(redact),
            response_elements: self
                .response_elements
                .filter(|_| !read_only && !failed)
                .map(redact),
            additional_event_data: self.additional_event_data.map(redact),
            request_id: truncate(self.request_id.ok_or_else(|| missing("requestID"))?),
            event_id: uuid::Uuid::new_v4().to_string(),
            read_only,
            resources: self.resources,
            event_type: EventType::AwsApiCall,
            management_event: self.category == EventCategory::Management,
            recipient_account_id: self
                .recipient_account_id
                .ok_or_else(|| missing("recipientAccountId"))?,
            event_category: self.category,
            tls_details: self.tls_details,
        })
    }
}

fn reads_by_name(name: &str) -> bool {
    ["Get", "List", "Describe", "Lookup", "Query"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// Cuts `s` to CloudTrail's 1 KB field limit on a character boundary.
fn truncate(mut s: String) -> String {
    if s.len() > TEXT_FIELD_LIMIT {
        let mut end = TEXT_FIELD_LIMIT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn alice() -> UserIdentity {
        UserIdentity {
            principal_id: Some("AIDAEXAMPLE".into()),
            arn: Some("arn:aws:iam::123456789012:user/alice".into()),
            account_id: Some("123456789012".into()),
            access_key_id: Some("AKIAEXAMPLE".into()),
            user_name: Some("alice".into()),
            ..UserIdentity::new(IdentityType::IamUser)
        }
    }

    #[test]
    fn builds_the_documented_shape() {
        let record = EventRecord::builder(
            EventSource::Aps,
            "CreateWorkspace",
            datetime!(2025-01-02 03:04:05 UTC),
        )
        .user_identity(alice())
        .region("us-east-1")
        .recipient_account_id("123456789012")
        .request_id("req-1")
        .source_ip("203.0.113.7")
        .user_agent("aws-cli/2")
        .request_parameters(json!({"alias": "prod"}))
        .response_elements(json!({"workspaceId": "ws-1"}))
        .resource(
            "arn:aws:aps:us-east-1:123456789012:workspace/ws-1",
            "123456789012",
            "AWS::APS::Workspace",
        )
        .build()
        .unwrap();
        let v = serde_json::to_value(&record).unwrap();
        assert_eq!(v["eventTime"], "2025-01-02T03:04:05Z");
        assert_eq!(v["eventSource"], "aps.amazonaws.com");
        assert_eq!(v["sourceIPAddress"], "203.0.113.7");
        assert_eq!(v["userIdentity"]["type"], "IAMUser");
        assert_eq!(v["readOnly"], false);
        assert_eq!(v["managementEvent"], true);
        assert_eq!(v["eventCategory"], "Management");
        assert_eq!(v["eventType"], "AwsApiCall");
        assert_eq!(
            v["resources"][0]["ARN"],
            "arn:aws:aps:us-east-1:123456789012:workspace/ws-1"
        );
        assert_eq!(v["responseElements"]["workspaceId"], "ws-1");
        assert!(v.get("errorCode").is_none());
        assert_eq!(
            uuid::Uuid::parse_str(&record.event_id)
                .unwrap()
                .get_version_num(),
            4
        );
        let back: EventRecord = serde_json::from_value(v).unwrap();
        assert_eq!(back, record);
    }

    #[test]
    fn reads_and_failures_drop_response_elements() {
        let base = |name: &str| {
            EventRecord::builder(EventSource::Aps, name, datetime!(2025-01-02 03:04:05 UTC))
                .region("us-east-1")
                .recipient_account_id("123456789012")
                .request_id("r")
                .response_elements(json!({"x": 1}))
        };
        let read = base("DescribeWorkspace").build().unwrap();
        assert!(read.read_only);
        assert_eq!(read.response_elements, None);
        let failed = base("CreateWorkspace")
            .error("ValidationException", "bad")
            .build()
            .unwrap();
        assert_eq!(failed.response_elements, None);
        let v = serde_json::to_value(&failed).unwrap();
        assert_eq!(v["responseElements"], Value::Null);
        assert_eq!(v["errorCode"], "ValidationException");
    }

    #[test]
    fn missing_required_fields_are_refused() {
        let err = EventRecord::builder(EventSource::Iam, "GetUser", OffsetDateTime::UNIX_EPOCH)
            .request_id("r")
            .recipient_account_id("123456789012")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("awsRegion"), "{err}");
    }

    #[test]
    fn event_time_is_utc_at_second_precision() {
        let record = EventRecord::builder(
            EventSource::Kms,
            "Decrypt",
            datetime!(2025-01-02 05:04:05.999 +02:00),
        )
        .region("us-east-1")
        .recipient_account_id("123456789012")
        .request_id("r")
        .build()
        .unwrap();
        assert_eq!(record.event_time, datetime!(2025-01-02 03:04:05 UTC));
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(serde_json::from_str::<EventRecord>(&json).unwrap(), record);
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary() {
        let s = truncate("é".repeat(600));
        assert!(s.len() <= TEXT_FIELD_LIMIT);
        assert_eq!(s.chars().count(), 512);
    }

    #[test]
    fn lookup_username_prefers_the_session_name_for_roles() {
        let mut id = UserIdentity::new(IdentityType::AssumedRole);
        id.arn = Some("arn:aws:sts::123456789012:assumed-role/writer/prom-1".into());
        let record =
            EventRecord::builder(EventSource::Aps, "RemoteWrite", OffsetDateTime::UNIX_EPOCH)
                .user_identity(id)
                .region("us-east-1")
                .recipient_account_id("123456789012")
                .request_id("r")
                .build()
                .unwrap();
        assert_eq!(record.lookup_username().as_deref(), Some("prom-1"));
    }
}
