//! `LookupEvents` and `ListPublicKeys` on the wire (awsJson1.1, member names from the botocore
//! `cloudtrail/2013-11-01` model) and the request checks CloudTrail applies.
//!
//! <https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html>

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::error::AuditError;
use crate::event::EventRecord;
use crate::index::{Cursor, Filter, Index};
use crate::keys::AuditPublicKey;
use crate::layout::sha256_hex;

/// Event history reaches back this far.
const HISTORY: Duration = Duration::days(90);
/// Default and largest `MaxResults`.
const MAX_RESULTS: u32 = 50;
/// Longest `AttributeValue` the model allows.
const MAX_ATTRIBUTE_VALUE: usize = 2000;

/// `LookupEvents` request
/// (<https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html>).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupEventsRequest {
    /// At most one attribute to filter on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup_attributes: Option<Vec<LookupAttribute>>,
    /// Earliest event time, epoch seconds (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<f64>,
    /// Latest event time, epoch seconds (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    /// Only `insight` is defined; ampd has no Insights events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_category: Option<String>,
    /// Page size, 1..=50 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i64>,
    /// Token from the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// One `LookupAttribute`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupAttribute {
    /// `EventId`, `EventName`, `ReadOnly`, `Username`, `ResourceType`, `ResourceName`,
    /// `EventSource` or `AccessKeyId`.
    pub attribute_key: String,
    /// Value to match exactly.
    pub attribute_value: String,
}

/// `LookupEvents` response
/// (<https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html#API_LookupEvents_ResponseSyntax>).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupEventsResponse {
    /// Matching events, newest first.
    pub events: Vec<LookupEvent>,
    /// Present when more events match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// One `Event` of a `LookupEvents` response
/// (<https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_Event.html>).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupEvent {
    /// The record's `eventID`.
    pub event_id: String,
    /// The record's `eventName`.
    pub event_name: String,
    /// `"true"` or `"false"`.
    pub read_only: String,
    /// Access key that signed the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// Event time, epoch seconds.
    pub event_time: i64,
    /// The record's `eventSource`.
    pub event_source: String,
    /// User or role session name of the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Resources the call acted on.
    pub resources: Vec<LookupResource>,
    /// The whole record as a JSON string.
    pub cloud_trail_event: String,
}

/// One `Resource` of a [`LookupEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupResource {
    /// E.g. `AWS::APS::Workspace`.
    pub resource_type: String,
    /// The resource ARN.
    pub resource_name: String,
}

/// `ListPublicKeys` request
/// (<https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_ListPublicKeys.html>).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListPublicKeysRequest {
    /// Start of the range, epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<f64>,
    /// End of the range, epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    /// Reserved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `ListPublicKeys` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListPublicKeysResponse {
    /// Keys valid in the range.
    pub public_key_list: Vec<PublicKeyEntry>,
}

/// One `PublicKey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKeyEntry {
    /// Base64 of the SubjectPublicKeyInfo DER (CloudTrail's RSA keys are PKCS#1 instead).
    pub value: String,
    /// Epoch seconds from which the key signs.
    pub validity_start_time: i64,
    /// Hex fingerprint, as in `digestPublicKeyFingerprint`.
    pub fingerprint: String,
}

/// Errors of the lookup APIs, one per modeled CloudTrail exception.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// Bad or too many lookup attributes.
    #[error("{0}")]
    InvalidLookupAttributes(String),
    /// Start after end, or a time that is not a valid timestamp.
    #[error("{0}")]
    InvalidTimeRange(String),
    /// `MaxResults` outside 1..=50.
    #[error("{0}")]
    InvalidMaxResults(String),
    /// A token that is malformed or from a request with other parameters.
    #[error("{0}")]
    InvalidNextToken(String),
    /// An unknown `EventCategory`.
    #[error("{0}")]
    InvalidEventCategory(String),
    /// A body that is not the request's JSON.
    #[error("{0}")]
    Serialization(String),
    /// A failure of the trail; the detail stays in the process.
    #[error("internal failure")]
    Internal(#[source] AuditError),
}

impl LookupError {
    /// Returns the CloudTrail wire error code (`__type`).
    pub fn aws_code(&self) -> &'static str {
        match self {
            Self::InvalidLookupAttributes(_) => "InvalidLookupAttributesException",
            Self::InvalidTimeRange(_) => "InvalidTimeRangeException",
            Self::InvalidMaxResults(_) => "InvalidMaxResultsException",
            Self::InvalidNextToken(_) => "InvalidNextTokenException",
            Self::InvalidEventCategory(_) => "InvalidEventCategoryException",
            Self::Serialization(_) => "SerializationException",
            Self::Internal(_) => "InternalFailure",
        }
    }

    /// Returns the HTTP status: CloudTrail sends every modeled error as 400.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Internal(_) => 500,
            _ => 400,
        }
    }
}

impl From<AuditError> for LookupError {
    fn from(err: AuditError) -> Self {
        Self::Internal(err)
    }
}

/// Position and request fingerprint carried by a `NextToken`.
#[derive(Serialize, Deserialize)]
struct Token {
    t: i64,
    i: String,
    q: String,
}

/// Answers `LookupEvents` from the index, `now` anchoring the 90-day window.
pub(crate) async fn lookup(
    index: &Index,
    req: &LookupEventsRequest,
    now: OffsetDateTime,
) -> Result<LookupEventsResponse, LookupError> {
    let filter = parse_filter(req.lookup_attributes.as_deref())?;
    let limit = match req.max_results {
        None => MAX_RESULTS,
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_RESULTS).contains(n))
            .ok_or_else(|| {
                LookupError::InvalidMaxResults(format!("MaxResults must be 1..=50, got {n}"))
            })?,
    };
    let oldest = (now - HISTORY).unix_timestamp();
    let start = epoch(req.start_time, "StartTime")?.unwrap_or(oldest);
    let end = epoch(req.end_time, "EndTime")?.unwrap_or(now.unix_timestamp());
    if start > end {
        return Err(LookupError::InvalidTimeRange(
            "StartTime is after EndTime".into(),
        ));
    }
    match req.event_category.as_deref() {
        None => {}
        // ampd produces no Insights events, so that category is always empty.
        Some("insight") => {
            return Ok(LookupEventsResponse {
                events: Vec::new(),
                next_token: None,
            });
        }
        Some(other) => {
            return Err(LookupError::InvalidEventCategory(format!(
                "EventCategory {other:?} is not valid"
            )));
        }
    }
    let fingerprint = request_fingerprint(req);
    let after = req
        .next_token
        .as_deref()
        .map(|t| decode_token(t, &fingerprint))
        .transpose()?;
    let mut rows = index
        .query(
            filter.as_ref(),
            start.max(oldest),
            end,
            after.as_ref(),
            limit + 1,
        )
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_token = match rows.last() {
        Some(last) if more => Some(encode_token(&last.cursor, &fingerprint)?),
        _ => None,
    };
    let events = rows
        .into_iter()
        .map(|row| {
            let record: EventRecord =
                serde_json::from_str(&row.record).map_err(AuditError::from)?;
            Ok(LookupEvent {
                event_id: row.cursor.event_id,
                event_name: record.event_name,
                read_only: row.read_only,
                access_key_id: row.access_key_id,
                event_time: row.cursor.event_time,
                event_source: record.event_source,
                username: row.username,
                resources: record
                    .resources
                    .into_iter()
                    .map(|r| LookupResource {
                        resource_type: r.resource_type,
                        resource_name: r.arn,
                    })
                    .collect(),
                cloud_trail_event: row.record,
            })
        })
        .collect::<Result<_, LookupError>>()?;
    Ok(LookupEventsResponse { events, next_token })
}

/// Answers `ListPublicKeys` for the trail's keys.
pub(crate) fn list_public_keys(
    keys: &[AuditPublicKey],
    req: &ListPublicKeysRequest,
    now: OffsetDateTime,
) -> Result<ListPublicKeysResponse, LookupError> {
    let start = epoch(req.start_time, "StartTime")?.unwrap_or(now.unix_timestamp());
    let end = epoch(req.end_time, "EndTime")?.unwrap_or(now.unix_timestamp());
    if start > end {
        return Err(LookupError::InvalidTimeRange(
            "StartTime is after EndTime".into(),
        ));
    }
    let public_key_list = keys
        .iter()
        .filter(|k| k.validity_start().unix_timestamp() <= end)
        .map(|k| PublicKeyEntry {
            value: STANDARD.encode(k.der()),
            validity_start_time: k.validity_start().unix_timestamp(),
            fingerprint: k.fingerprint().to_owned(),
        })
        .collect();
    Ok(ListPublicKeysResponse { public_key_list })
}

fn parse_filter(attributes: Option<&[LookupAttribute]>) -> Result<Option<Filter>, LookupError> {
    let invalid = LookupError::InvalidLookupAttributes;
    let attribute = match attributes.unwrap_or_default() {
        [] => return Ok(None),
        [one] => one,
        _ => {
            return Err(invalid(
                "LookupAttributes can contain at most one item".into(),
            ));
        }
    };
    let value = attribute.attribute_value.clone();
    if value.is_empty() || value.chars().count() > MAX_ATTRIBUTE_VALUE {
        return Err(invalid(
            "AttributeValue must be 1 to 2000 characters".into(),
        ));
    }
    let filter = match attribute.attribute_key.as_str() {
        "EventId" => Filter::EventId(value),
        "EventName" => Filter::EventName(value),
        "ReadOnly" => Filter::ReadOnly(value),
        "Username" => Filter::Username(value),
        "ResourceType" => Filter::ResourceType(value),
        "ResourceName" => Filter::ResourceName(value),
        "EventSource" => Filter::EventSource(value),
        "AccessKeyId" => Filter::AccessKeyId(value),
        other => return Err(invalid(format!("AttributeKey {other:?} is not valid"))),
    };
    Ok(Some(filter))
}

/// Converts an epoch-seconds request time, rejecting values that are not times.
fn epoch(t: Option<f64>, name: &str) -> Result<Option<i64>, LookupError> {
    t.map(|secs| {
        let whole = secs.floor();
        if whole.is_finite() && OffsetDateTime::from_unix_timestamp(whole as i64).is_ok() {
            Ok(whole as i64)
        } else {
            Err(LookupError::InvalidTimeRange(format!(
                "{name} is not a valid timestamp"
            )))
        }
    })
    .transpose()
}

/// Hash of the parameters a token is bound to (everything except the page size and token).
fn request_fingerprint(req: &LookupEventsRequest) -> String {
    let bound = LookupEventsRequest {
        max_results: None,
        next_token: None,
        ..req.clone()
    };
    let json = serde_json::to_vec(&bound).unwrap_or_default();
    sha256_hex(&json)[..16].to_owned()
}

fn encode_token(cursor: &Cursor, fingerprint: &str) -> Result<String, LookupError> {
    let token = Token {
        t: cursor.event_time,
        i: cursor.event_id.clone(),
        q: fingerprint.to_owned(),
    };
    let json = serde_json::to_vec(&token).map_err(AuditError::from)?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

fn decode_token(token: &str, fingerprint: &str) -> Result<Cursor, LookupError> {
    let invalid = || LookupError::InvalidNextToken("NextToken is not valid".into());
    let json = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let token: Token = serde_json::from_slice(&json).map_err(|_| invalid())?;
    if token.q != fingerprint {
        return Err(LookupError::InvalidNextToken(
            "NextToken was issued for a request with other parameters".into(),
        ));
    }
    Ok(Cursor {
        event_time: token.t,
        event_id: token.i,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(key: &str, value: &str) -> LookupAttribute {
        LookupAttribute {
            attribute_key: key.into(),
            attribute_value: value.into(),
        }
    }

    #[test]
    fn attributes_are_checked() {
        assert_eq!(parse_filter(None).unwrap(), None);
        assert_eq!(
            parse_filter(Some(&[attr("EventName", "CreateWorkspace")])).unwrap(),
            Some(Filter::EventName("CreateWorkspace".into()))
        );
        for bad in [
            vec![attr("EventName", "a"), attr("Username", "b")],
            vec![attr("Colour", "red")],
            vec![attr("Username", "")],
        ] {
            let err = parse_filter(Some(&bad)).unwrap_err();
            assert_eq!(err.aws_code(), "InvalidLookupAttributesException");
            assert_eq!(err.http_status(), 400);
        }
    }

    #[test]
    fn tokens_are_bound_to_the_request() {
        let req = LookupEventsRequest {
            start_time: Some(1.0),
            ..Default::default()
        };
        let fp = request_fingerprint(&req);
        let cursor = Cursor {
            event_time: 7,
            event_id: "e".into(),
        };
        let token = encode_token(&cursor, &fp).unwrap();
        assert_eq!(decode_token(&token, &fp).unwrap(), cursor);
        let paged = LookupEventsRequest {
            max_results: Some(5),
            next_token: Some(token.clone()),
            ..req
        };
        assert_eq!(request_fingerprint(&paged), fp);
        let other = request_fingerprint(&LookupEventsRequest::default());
        assert_eq!(
            decode_token(&token, &other).unwrap_err().aws_code(),
            "InvalidNextTokenException"
        );
        assert_eq!(
            decode_token("!!", &fp).unwrap_err().aws_code(),
            "InvalidNextTokenException"
        );
    }

    #[test]
    fn request_and_response_use_model_member_names() {
        let req: LookupEventsRequest = serde_json::from_str(
            r#"{"LookupAttributes":[{"AttributeKey":"Username","AttributeValue":"alice"}],
                "StartTime":1735786800,"EndTime":1735790400.5,"MaxResults":10}"#,
        )
        .unwrap();
        assert_eq!(req.max_results, Some(10));
        assert_eq!(epoch(req.end_time, "EndTime").unwrap(), Some(1_735_790_400));
        assert!(epoch(Some(f64::NAN), "EndTime").is_err());
        let resp = LookupEventsResponse {
            events: vec![LookupEvent {
                event_id: "e".into(),
                event_name: "CreateWorkspace".into(),
                read_only: "false".into(),
                access_key_id: Some("AKIA".into()),
                event_time: 1,
                event_source: "aps.amazonaws.com".into(),
                username: Some("alice".into()),
                resources: vec![LookupResource {
                    resource_type: "t".into(),
                    resource_name: "n".into(),
                }],
                cloud_trail_event: "{}".into(),
            }],
            next_token: None,
        };
        let v = serde_json::to_value(&resp).unwrap();
        let e = &v["Events"][0];
        for member in [
            "EventId",
            "EventName",
            "ReadOnly",
            "AccessKeyId",
            "EventTime",
            "EventSource",
            "Username",
            "Resources",
            "CloudTrailEvent",
        ] {
            assert!(e.get(member).is_some(), "{member}");
        }
        assert_eq!(e["Resources"][0]["ResourceType"], "t");
        assert!(v.get("NextToken").is_none());
    }
}
