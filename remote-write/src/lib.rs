//! Prometheus remote write 1.0 and 2.0 on the wire: protobuf messages, snappy framing, validation.
//!
//! Receivers call [`decode`] with the request's `Content-Type`, `Content-Encoding` and body and get
//! a [`DecodedRequest`] holding one owned [`WriteBatch`], whatever the protocol version, or a
//! [`DecodeError`] whose `Display` is the body to answer with and whose
//! [`DecodeError::status_code`] is the status (415, 413 or 400). Senders build a [`WriteBatch`]
//! and call [`encode`].
//!
//! ```
//! use ampd_remote_write::{Label, Limits, Protocol, Sample, Series, WriteBatch, decode, encode};
//!
//! let batch = WriteBatch {
//!     series: vec![Series {
//!         labels: vec![Label::new("__name__", "up"), Label::new("job", "node")],
//!         samples: vec![Sample { timestamp: 1_700_000_000_000, value: 1.0 }],
//!         ..Series::default()
//!     }],
//!     metadata: vec![],
//! };
//! let body = encode(&batch, Protocol::V2)?;
//! let decoded = decode(Some(Protocol::V2.content_type()), Some("snappy"), &body, &Limits::default())?;
//! assert_eq!(decoded.batch, batch);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod decode;
mod encode;
mod error;
mod model;
mod proto;
mod validate;

pub use decode::{DecodedRequest, decode, decompress, from_v1, from_v2, negotiate};
pub use encode::{EncodeError, compress, encode, to_v1, to_v2};
pub use error::{DecodeError, ValidationError};
pub use model::{
    BucketSpan, Exemplar, Histogram, HistogramCounts, Label, MetricKind, MetricMetadata, Protocol,
    ResetHint, STALE_NAN_BITS, Sample, Series, WriteBatch,
};
pub use proto::{v1, v2};
pub use validate::{Limits, validate};
