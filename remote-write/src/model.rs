//! The owned model both protocol versions decode into, so that storage handles 1.0 and 2.0 alike.

/// Bit pattern of the NaN that marks a series as stale; it must be kept bit-exact.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Protocol version of a request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Remote write 1.0, `prometheus.WriteRequest`.
    V1,
    /// Remote write 2.0, `io.prometheus.write.v2.Request`.
    V2,
}

impl Protocol {
    /// Returns the `Content-Type` a sender uses for this version.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::V1 => "application/x-protobuf",
            Self::V2 => "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        }
    }

    /// Returns the `X-Prometheus-Remote-Write-Version` header value for this version.
    pub fn version_header(self) -> &'static str {
        match self {
            Self::V1 => "0.1.0",
            Self::V2 => "2.0.0",
        }
    }
}

/// One decoded request: series and metric family metadata.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WriteBatch {
    /// Series with their data points.
    pub series: Vec<Series>,
    /// Metadata per metric family; 2.0's per-series metadata is lifted here by metric name.
    pub metadata: Vec<MetricMetadata>,
}

impl WriteBatch {
    /// Returns the number of float samples in the batch.
    pub fn sample_count(&self) -> usize {
        self.series.iter().map(|s| s.samples.len()).sum()
    }

    /// Returns the number of native histogram samples in the batch.
    pub fn histogram_count(&self) -> usize {
        self.series.iter().map(|s| s.histograms.len()).sum()
    }

    /// Returns the number of exemplars in the batch.
    pub fn exemplar_count(&self) -> usize {
        self.series.iter().map(|s| s.exemplars.len()).sum()
    }
}

/// A label pair.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    /// Label name.
    pub name: String,
    /// Label value.
    pub value: String,
}

impl Label {
    /// Builds a label pair.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// One series and the data points sent for it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Labels sorted by name (validated), including `__name__`.
    pub labels: Vec<Label>,
    /// Float samples in timestamp order.
    pub samples: Vec<Sample>,
    /// Native histogram samples in timestamp order.
    pub histograms: Vec<Histogram>,
    /// Exemplars.
    pub exemplars: Vec<Exemplar>,
    /// Creation time of the series in milliseconds (2.0 only).
    pub created_timestamp: Option<i64>,
}

impl Series {
    /// Returns the value of `__name__`, if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| l.name == "__name__")
            .map(|l| l.value.as_str())
    }
}

/// A float sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// Value; compare with [`f64::to_bits`] to tell the stale marker from other NaNs.
    pub value: f64,
}

impl Sample {
    /// Returns true when the value is the staleness marker.
    pub fn is_stale_marker(&self) -> bool {
        self.value.to_bits() == STALE_NAN_BITS
    }
}

/// An exemplar.
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    /// Exemplar labels.
    pub labels: Vec<Label>,
    /// Observed value.
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
}

/// A native histogram sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// Counts in integer or float form.
    pub counts: HistogramCounts,
    /// Sum of observations.
    pub sum: f64,
    /// Bucket resolution (−4..8 exponential, −53 custom buckets).
    pub schema: i32,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// Spans of the negative buckets.
    pub negative_spans: Vec<BucketSpan>,
    /// Spans of the positive buckets.
    pub positive_spans: Vec<BucketSpan>,
    /// Counter reset hint.
    pub reset_hint: ResetHint,
    /// Upper bounds of custom buckets (schema −53).
    pub custom_values: Vec<f64>,
}

/// The counts of a native histogram: integer histograms carry bucket deltas, float ones absolute
/// counts.
#[derive(Clone, Debug, PartialEq)]
pub enum HistogramCounts {
    /// Integer histogram.
    Int {
        /// Observation count.
        count: u64,
        /// Zero bucket count.
        zero_count: u64,
        /// Negative buckets, delta-encoded.
        negative_deltas: Vec<i64>,
        /// Positive buckets, delta-encoded.
        positive_deltas: Vec<i64>,
    },
    /// Float histogram.
    Float {
        /// Observation count.
        count: f64,
        /// Zero bucket count.
        zero_count: f64,
        /// Negative bucket counts.
        negative_counts: Vec<f64>,
        /// Positive bucket counts.
        positive_counts: Vec<f64>,
    },
}

/// A run of consecutive buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BucketSpan {
    /// Gap to the previous span (or starting index for the first).
    pub offset: i32,
    /// Number of consecutive buckets.
    pub length: u32,
}

/// Counter reset hint of a native histogram.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ResetHint {
    /// No hint.
    #[default]
    Unknown,
    /// A counter reset happened.
    Yes,
    /// No counter reset happened.
    No,
    /// A gauge histogram.
    Gauge,
}

/// Metadata of a metric family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricMetadata {
    /// Family name.
    pub metric_family_name: String,
    /// Metric type.
    pub kind: MetricKind,
    /// Help text.
    pub help: String,
    /// Unit.
    pub unit: String,
}

/// Metric type; 2.0's `UNSPECIFIED` maps to [`MetricKind::Unknown`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// Not known.
    #[default]
    Unknown,
    /// Monotonic counter.
    Counter,
    /// Gauge.
    Gauge,
    /// Histogram.
    Histogram,
    /// Gauge histogram.
    GaugeHistogram,
    /// Summary.
    Summary,
    /// Info metric.
    Info,
    /// State set.
    StateSet,
}
