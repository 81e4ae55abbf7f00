//! Remote write 2.0 messages (protobuf package `io.prometheus.write.v2`).
//!
//! See <https://prometheus.io/docs/specs/prw/remote_write_spec_2_0/>.

/// Native histograms keep the 1.0 message and numbering.
pub use super::v1::{BucketSpan, Histogram, histogram};

/// The body of a remote write 2.0 request (`io.prometheus.write.v2.Request`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Request {
    /// Interned strings; `symbols[0]` is always the empty string.
    #[prost(string, repeated, tag = "4")]
    pub symbols: Vec<String>,
    /// Series with their data points.
    #[prost(message, repeated, tag = "5")]
    pub timeseries: Vec<TimeSeries>,
}

/// One series, its labels given as references into [`Request::symbols`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Pairs of (name ref, value ref), sorted by name.
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    /// Float samples in timestamp order.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Native histogram samples in timestamp order.
    #[prost(message, repeated, tag = "3")]
    pub histograms: Vec<Histogram>,
    /// Exemplars attached to the series.
    #[prost(message, repeated, tag = "4")]
    pub exemplars: Vec<Exemplar>,
    /// Metadata of the series' metric.
    #[prost(message, optional, tag = "5")]
    pub metadata: Option<Metadata>,
    /// Creation time of the series in milliseconds (0 = unset).
    #[prost(int64, tag = "6")]
    pub created_timestamp: i64,
}

/// A float sample.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    /// Sample value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// An exemplar whose labels are references into [`Request::symbols`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// Pairs of (name ref, value ref).
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    /// Observed value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// Metadata of one series.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Metadata {
    /// Metric type.
    #[prost(enumeration = "MetricType", tag = "1")]
    pub r#type: i32,
    /// Reference to the help text in [`Request::symbols`].
    #[prost(uint32, tag = "3")]
    pub help_ref: u32,
    /// Reference to the unit in [`Request::symbols`].
    #[prost(uint32, tag = "4")]
    pub unit_ref: u32,
}

/// Metric type in remote write 2.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetricType {
    /// Not given.
    Unspecified = 0,
    /// Monotonic counter.
    Counter = 1,
    /// Gauge.
    Gauge = 2,
    /// Histogram.
    Histogram = 3,
    /// Gauge histogram.
    Gaugehistogram = 4,
    /// Summary.
    Summary = 5,
    /// Info metric.
    Info = 6,
    /// State set.
    Stateset = 7,
}
