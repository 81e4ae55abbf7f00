//! Errors of decoding and validating a request. `Display` is the text a sender sees in the body
//! of the error response; [`DecodeError::status_code`] is the HTTP status to answer with.

use std::fmt;

/// Why a remote write request body could not be accepted.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The `Content-Type` names neither protocol version (answer 415).
    #[error(
        "unsupported content type {0:?}: expected application/x-protobuf with \
         proto=prometheus.WriteRequest or proto=io.prometheus.write.v2.Request"
    )]
    UnsupportedMediaType(String),
    /// The `Content-Encoding` is not snappy (answer 415).
    #[error("unsupported content encoding {0:?}: only snappy is supported")]
    UnsupportedEncoding(String),
    /// The snappy header declares more bytes than allowed; nothing was allocated (answer 413).
    #[error("decompressed message too large (declared: {declared} bytes, limit: {limit} bytes)")]
    TooLarge {
        /// Length the snappy header declares.
        declared: usize,
        /// Configured limit.
        limit: usize,
    },
    /// The body is not valid snappy block format.
    #[error("snappy decode error: {0}")]
    Snappy(#[source] snap::Error),
    /// The decompressed body is not a valid protobuf message of the negotiated type.
    #[error("protobuf decode error: {0}")]
    Protobuf(#[source] prost::DecodeError),
    /// The message decoded but breaks a remote write rule.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

impl DecodeError {
    /// Returns the HTTP status a receiver answers with for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::UnsupportedMediaType(_) | Self::UnsupportedEncoding(_) => 415,
            Self::TooLarge { .. } => 413,
            Self::Snappy(_) | Self::Protobuf(_) | Self::Invalid(_) => 400,
        }
    }
}

/// A broken remote write rule. The wording follows the Cortex/Mimir lineage that AMP answers with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// A series has no `__name__` label.
    #[error("sample missing metric name")]
    MissingMetricName,
    /// `__name__` does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error("sample invalid metric name: {}", Quoted(.name))]
    InvalidMetricName {
        /// The offending metric name.
        name: String,
    },
    /// A label name does not match `[a-zA-Z_][a-zA-Z0-9_]*`.
    #[error("sample invalid label: {} metric {}", Quoted(.name), Quoted(.metric))]
    InvalidLabel {
        /// The offending label name.
        name: String,
        /// Series in text form.
        metric: String,
    },
    /// A label has an empty value (remote write forbids sending them).
    #[error("sample empty label value: {} metric {}", Quoted(.name), Quoted(.metric))]
    EmptyLabelValue {
        /// Name of the label with the empty value.
        name: String,
        /// Series in text form.
        metric: String,
    },
    /// A label name is longer than the configured limit (in bytes).
    #[error("label name too long: {} metric {}", Quoted(.name), Quoted(.metric))]
    LabelNameTooLong {
        /// The offending label name.
        name: String,
        /// Series in text form.
        metric: String,
    },
    /// A label value is longer than the configured limit (in bytes).
    #[error("label value too long: {} metric {}", Quoted(.value), Quoted(.metric))]
    LabelValueTooLong {
        /// The offending label value.
        value: String,
        /// Series in text form.
        metric: String,
    },
    /// The same label name appears twice in a series.
    #[error("duplicate label name: {} metric {}", Quoted(.name), Quoted(.metric))]
    DuplicateLabelName {
        /// The repeated label name.
        name: String,
        /// Series in text form.
        metric: String,
    },
    /// Labels are not sorted by name in byte order.
    #[error("labels not sorted: {} metric {}", Quoted(.name), Quoted(.metric))]
    LabelsNotSorted {
        /// The first label found out of order.
        name: String,
        /// Series in text form.
        metric: String,
    },
    /// A series has more labels than the configured limit.
    #[error("series has too many labels (actual: {actual}, limit: {limit}) series: '{series}'")]
    TooManyLabels {
        /// Number of labels in the series.
        actual: usize,
        /// Configured limit.
        limit: usize,
        /// Series in text form.
        series: String,
    },
    /// Float samples of one series are not in timestamp order.
    #[error(
        "sample timestamp out of order; last timestamp: {last}, incoming timestamp: {incoming} \
         for series {series}"
    )]
    SampleOutOfOrder {
        /// Timestamp of the previous sample.
        last: i64,
        /// Timestamp of the sample that goes back in time.
        incoming: i64,
        /// Series in text form.
        series: String,
    },
    /// Histogram samples of one series are not in timestamp order.
    #[error(
        "histogram timestamp out of order; last timestamp: {last}, incoming timestamp: \
         {incoming} for series {series}"
    )]
    HistogramOutOfOrder {
        /// Timestamp of the previous histogram.
        last: i64,
        /// Timestamp of the histogram that goes back in time.
        incoming: i64,
        /// Series in text form.
        series: String,
    },
    /// A native histogram's schema is neither exponential (−4..=8) nor custom buckets (−53).
    #[error(
        "native histogram has invalid schema {schema}, must be between -4 and 8, or -53 for \
         custom buckets, for series {series}"
    )]
    InvalidHistogramSchema {
        /// The schema sent.
        schema: i32,
        /// Series in text form.
        series: String,
    },
    /// A native histogram's spans cover a different number of buckets than it carries.
    #[error(
        "native histogram {side} side: spans need {need} buckets, have {have} buckets for \
         series {series}"
    )]
    HistogramSpansMismatch {
        /// `positive` or `negative`.
        side: &'static str,
        /// Buckets the spans describe.
        need: u64,
        /// Bucket counts or deltas sent.
        have: usize,
        /// Series in text form.
        series: String,
    },
    /// A 2.0 series carries both float samples and histograms.
    #[error(
        "series has both float samples and histograms, send them separately: series '{series}'"
    )]
    MixedSamplesAndHistograms {
        /// Series in text form.
        series: String,
    },
    /// 2.0: the symbols table does not start with the empty string.
    #[error("invalid symbols table: symbols[0] must be the empty string, got {}", Quoted(.first))]
    FirstSymbolNotEmpty {
        /// What `symbols[0]` held.
        first: String,
    },
    /// 2.0: a `labels_refs` list has an odd length.
    #[error("invalid labels_refs: odd number of references ({len}), expected name/value pairs")]
    OddLabelRefs {
        /// Length of the list.
        len: usize,
    },
    /// 2.0: a reference points past the end of the symbols table.
    #[error("symbol reference {reference} out of range (symbols table size: {size})")]
    SymbolRefOutOfRange {
        /// The reference.
        reference: u32,
        /// Size of the symbols table.
        size: usize,
    },
}

/// Longest part of a user-supplied string echoed back in an error (Cortex's `%.200q`).
const QUOTE_LIMIT: usize = 200;

/// Shows a string quoted and escaped, cut after [`QUOTE_LIMIT`] characters.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cut = self
            .0
            .char_indices()
            .nth(QUOTE_LIMIT)
            .map_or(self.0.len(), |(i, _)| i);
        write!(f, "{:?}", &self.0[..cut])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_cuts_long_strings_on_a_char_boundary() {
        let long = "é".repeat(300);
        let shown = Quoted(&long).to_string();
        assert_eq!(shown.chars().count(), QUOTE_LIMIT + 2);
        assert_eq!(Quoted("a\"b").to_string(), r#""a\"b""#);
    }

    #[test]
    fn status_codes() {
        assert_eq!(
            DecodeError::UnsupportedMediaType("text/plain".into()).status_code(),
            415
        );
        assert_eq!(
            DecodeError::UnsupportedEncoding("gzip".into()).status_code(),
            415
        );
        assert_eq!(
            DecodeError::TooLarge {
                declared: 2,
                limit: 1
            }
            .status_code(),
            413
        );
        assert_eq!(
            DecodeError::Invalid(ValidationError::MissingMetricName).status_code(),
            400
        );
    }
}
