//! The request context: condition keys and their values for one authorization.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::SystemTime;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::principal::{Principal, PrincipalKind};

/// The value of one context key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextValue {
    /// A single-valued key (`aws:username`).
    Single(String),
    /// A multi-valued key (`aws:TagKeys`).
    Multi(Vec<String>),
}

impl ContextValue {
    /// Returns the values as a slice.
    pub fn as_slice(&self) -> &[String] {
        match self {
            Self::Single(v) => std::slice::from_ref(v),
            Self::Multi(v) => v,
        }
    }
}

/// Condition keys and values for one request. Key names are case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    values: HashMap<String, ContextValue>,
}

impl RequestContext {
    /// Creates an empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates a context with the global keys describing `principal` and the time `now`:
    /// `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:userid`,
    /// `aws:username` (users only), `aws:PrincipalTag/*`, `aws:CurrentTime`, `aws:EpochTime`.
    pub fn for_principal(principal: &Principal, now: SystemTime) -> Self {
        let mut ctx = Self::new();
        // For role sessions AWS reports the role's ARN, not the session's.
        let principal_arn = principal.role_arn().unwrap_or(&principal.arn);
        ctx.insert("aws:PrincipalArn", principal_arn);
        ctx.insert("aws:PrincipalAccount", &principal.account_id);
        ctx.insert("aws:PrincipalType", principal.principal_type());
        ctx.insert("aws:userid", &principal.user_id);
        if let (PrincipalKind::User, Some(name)) = (&principal.kind, &principal.user_name) {
            ctx.insert("aws:username", name);
        }
        for (k, v) in &principal.tags {
            ctx.insert(&format!("aws:PrincipalTag/{k}"), v);
        }
        ctx.set_time(now);
        ctx
    }

    /// Sets `key` to a single value.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.values
            .insert(key.to_ascii_lowercase(), ContextValue::Single(value.into()));
    }

    /// Sets `key` to several values.
    pub fn insert_multi(&mut self, key: &str, values: Vec<String>) {
        self.values
            .insert(key.to_ascii_lowercase(), ContextValue::Multi(values));
    }

    /// Builder form of [`RequestContext::insert`].
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.insert(key, value);
        self
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) {
        self.values.remove(&key.to_ascii_lowercase());
    }

    /// Sets `aws:CurrentTime` (ISO 8601) and `aws:EpochTime` (seconds).
    pub fn set_time(&mut self, now: SystemTime) {
        let dt = OffsetDateTime::from(now)
            .replace_nanosecond(0)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        if let Ok(text) = dt.format(&Rfc3339) {
            self.insert("aws:CurrentTime", text);
        }
        self.insert("aws:EpochTime", dt.unix_timestamp().to_string());
    }

    /// Sets `aws:SourceIp`.
    pub fn set_source_ip(&mut self, ip: IpAddr) {
        self.insert("aws:SourceIp", ip.to_string());
    }

    /// Sets `aws:RequestedRegion`.
    pub fn set_requested_region(&mut self, region: &str) {
        self.insert("aws:RequestedRegion", region);
    }

    /// Sets `aws:SecureTransport`.
    pub fn set_secure_transport(&mut self, secure: bool) {
        self.insert("aws:SecureTransport", secure.to_string());
    }

    /// Sets `aws:ResourceTag/<k>` for each tag of the addressed resource.
    pub fn set_resource_tags(&mut self, tags: &BTreeMap<String, String>) {
        for (k, v) in tags {
            self.insert(&format!("aws:ResourceTag/{k}"), v);
        }
    }

    /// Sets `aws:RequestTag/<k>` for each tag in the request, and `aws:TagKeys`.
    pub fn set_request_tags(&mut self, tags: &BTreeMap<String, String>) {
        for (k, v) in tags {
            self.insert(&format!("aws:RequestTag/{k}"), v);
        }
        self.set_tag_keys(tags.keys().cloned().collect());
    }

    /// Sets `aws:TagKeys` (UntagResource passes only keys).
    pub fn set_tag_keys(&mut self, keys: Vec<String>) {
        self.insert_multi("aws:TagKeys", keys);
    }

    /// Returns the value of `key` (any case).
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        match self.values.get(key) {
            Some(v) => Some(v),
            None if key.bytes().any(|b| b.is_ascii_uppercase()) => {
                self.values.get(&key.to_ascii_lowercase())
            }
            None => None,
        }
    }

    /// Returns the value of a single-valued key.
    pub(crate) fn get_single(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            ContextValue::Single(v) => Some(v),
            ContextValue::Multi(_) => None,
        }
    }
}
