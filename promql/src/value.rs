//! The values PromQL works with: labels, native histograms, samples, vectors, matrices,
//! scalars, strings, and the annotations a query returns.

pub(crate) mod annotations;
pub(crate) mod histogram;
pub(crate) mod labels;

use histogram::FloatHistogram;
use labels::Labels;

/// Bit pattern of the NaN that marks a series as stale.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Returns the staleness marker value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Tells whether `v` is the staleness marker (not merely any NaN).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// The value of a stored sample or a vector element.
#[derive(Debug, Clone, PartialEq)]
pub enum PointValue {
    /// A float sample.
    Float(f64),
    /// A native histogram sample.
    Histogram(FloatHistogram),
}

impl PointValue {
    /// Tells whether this is the float staleness marker.
    pub fn is_stale(&self) -> bool {
        matches!(self, Self::Float(v) if is_stale_nan(*v))
    }
}

/// A timestamped value (timestamp in ms).
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Timestamp in milliseconds since the epoch.
    pub t: i64,
    /// The value.
    pub value: PointValue,
}

/// A timestamped float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FPoint {
    /// Timestamp in milliseconds since the epoch.
    pub t: i64,
    /// The value.
    pub f: f64,
}

/// A timestamped native histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct HPoint {
    /// Timestamp in milliseconds since the epoch.
    pub t: i64,
    /// The histogram.
    pub h: FloatHistogram,
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series labels.
    pub labels: Labels,
    /// Timestamp in milliseconds since the epoch.
    pub t: i64,
    /// The value.
    pub value: PointValue,
    /// Whether `__name__` is to be dropped once evaluation finishes (delayed name removal).
    pub drop_name: bool,
}

/// An instant vector.
pub type Vector = Vec<Sample>;

/// One series of a range vector or a range query result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// The series labels.
    pub labels: Labels,
    /// Float points in time order.
    pub floats: Vec<FPoint>,
    /// Histogram points in time order.
    pub histograms: Vec<HPoint>,
    /// Whether `__name__` is to be dropped once evaluation finishes (delayed name removal).
    pub drop_name: bool,
}

impl Series {
    /// Returns all points merged in time order.
    pub fn points(&self) -> Vec<Point> {
        let mut out: Vec<Point> = self
            .floats
            .iter()
            .map(|p| Point {
                t: p.t,
                value: PointValue::Float(p.f),
            })
            .chain(self.histograms.iter().map(|p| Point {
                t: p.t,
                value: PointValue::Histogram(p.h.clone()),
            }))
            .collect();
        out.sort_by_key(|p| p.t);
        out
    }
}

/// A range vector or a range query result.
pub type Matrix = Vec<Series>;

/// A scalar result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scalar {
    /// Timestamp in milliseconds since the epoch.
    pub t: i64,
    /// The value.
    pub v: f64,
}

/// A string result.
#[derive(Debug, Clone, PartialEq)]
pub struct StringValue {
    /// Timestamp in milliseconds since the epoch.
    pub t: i64,
    /// The value.
    pub v: String,
}

/// The result of evaluating an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar.
    Scalar(Scalar),
    /// A string.
    String(StringValue),
    /// An instant vector.
    Vector(Vector),
    /// A range vector (instant query) or a range query result.
    Matrix(Matrix),
}

impl Value {
    /// Returns the PromQL type name, as used in API responses and error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Scalar(_) => "scalar",
            Self::String(_) => "string",
            Self::Vector(_) => "vector",
            Self::Matrix(_) => "matrix",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_nan_is_distinct_from_nan() {
        assert!(is_stale_nan(stale_nan()));
        assert!(!is_stale_nan(f64::NAN));
        assert!(stale_nan().is_nan());
        assert!(PointValue::Float(stale_nan()).is_stale());
    }

    #[test]
    fn series_points_merge_in_time_order() {
        let s = Series {
            labels: Labels::empty(),
            floats: vec![FPoint { t: 0, f: 1.0 }, FPoint { t: 20, f: 2.0 }],
            histograms: vec![HPoint {
                t: 10,
                h: FloatHistogram::default(),
            }],
            drop_name: false,
        };
        let ts: Vec<_> = s.points().iter().map(|p| p.t).collect();
        assert_eq!(ts, [0, 10, 20]);
        assert_eq!(Value::Matrix(vec![s]).type_name(), "matrix");
    }
}
