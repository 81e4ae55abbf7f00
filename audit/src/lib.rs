//! CloudTrail-style audit trail for ampd.
//!
//! The API layer builds one [`EventRecord`] per call with [`EventRecord::builder`] and hands it to
//! [`Trail::record`], which returns once the event is durable in the trail's journal (concurrent
//! callers share one fsync). The trail then delivers events, like CloudTrail, into gzip
//! `{"Records":[…]}` log files in CloudTrail's key layout, writes an hourly digest that lists
//! every log file with its SHA-256, signs it and chains it to the previous one, and keeps an
//! index for [`Trail::lookup_events`]. [`validate`] checks a trail folder the way
//! `aws cloudtrail validate-logs` does.
//!
//! Secrets never reach a file: request parameters and response elements are redacted by field
//! name ([`redact`]), see [`REDACTED`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), ampd_audit::AuditError> {
//! use ampd_audit::{EventRecord, EventSource, Trail, TrailConfig};
//!
//! let trail = Trail::open(TrailConfig::new("/var/lib/ampd/audit", "123456789012", "us-east-1")).await?;
//! let event = EventRecord::builder(EventSource::Aps, "CreateWorkspace", time::OffsetDateTime::now_utc())
//!     .region("us-east-1")
//!     .recipient_account_id("123456789012")
//!     .request_id("5f0e…")
//!     .request_parameters(serde_json::json!({"alias": "prod"}))
//!     .build()?;
//! trail.record(event).await?;
//! # Ok(()) }
//! ```
//!
//! Digest signatures use ECDSA P-256 (`SHA256withECDSA`) rather than CloudTrail's RSA, because
//! `ring` cannot generate RSA keys; see [`SIGNATURE_ALGORITHM`].

mod clock;
mod digest;
mod error;
mod event;
mod index;
mod journal;
mod keys;
mod layout;
mod lookup;
mod redact;
mod timefmt;
mod trail;
mod validate;
mod writer;

pub use clock::{Clock, SystemClock};
pub use error::{AuditError, AuditResult};
pub use event::{
    EVENT_VERSION, EventBuilder, EventCategory, EventRecord, EventSource, EventType, IdentityType,
    Resource, SessionAttributes, SessionContext, SessionIssuer, TlsDetails, UserIdentity,
    WebIdFederationData,
};
pub use keys::{AuditPublicKey, SIGNATURE_ALGORITHM, trail_public_keys};
pub use lookup::{
    ListPublicKeysRequest, ListPublicKeysResponse, LookupAttribute, LookupError, LookupEvent,
    LookupEventsRequest, LookupEventsResponse, LookupResource, PublicKeyEntry,
};
pub use redact::{REDACTED, redact};
pub use trail::{JOURNAL_FILE, LOGS_DIR, Recorded, Trail, TrailConfig};
pub use validate::{Problem, ValidationReport, validate};
