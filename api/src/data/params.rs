//! Request parameters of the Prometheus HTTP API and their value syntaxes.
//!
//! Parameters come from the URL and, for POST, from an `application/x-www-form-urlencoded`
//! body; both are merged, URL first, as Prometheus does.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ampd_backends::TimeRange;
use axum::http::header;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Admitted;
use super::envelope::ApiError;

/// Request parameters, URL ones first.
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    /// Collects the parameters of an admitted request.
    pub fn of(req: &Admitted) -> Self {
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(req.parts.uri.query().unwrap_or_default())
                .unwrap_or_default();
        let form = req
            .parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        if form {
            pairs.extend(
                serde_urlencoded::from_bytes::<Vec<(String, String)>>(&req.body)
                    .unwrap_or_default(),
            );
        }
        Self(pairs)
    }

    /// Returns the first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Returns the first value of `name` unless it is absent or empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Returns every value of `name` (for `match[]`).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Returns `start` and `end` as a range; absent bounds are open, as in Prometheus.
    pub fn time_range(&self) -> Result<TimeRange, ApiError> {
        let start_ms = match self.non_empty("start") {
            Some(v) => timestamp("start", v)?,
            None => TimeRange::ALL.start_ms,
        };
        let end_ms = match self.non_empty("end") {
            Some(v) => timestamp("end", v)?,
            None => TimeRange::ALL.end_ms,
        };
        if end_ms < start_ms {
            return Err(ApiError::bad_data(
                "invalid parameter \"end\": end timestamp must not be before start time",
            ));
        }
        Ok(TimeRange { start_ms, end_ms })
    }

    /// Returns the `limit` parameter; absent or 0 means no limit.
    pub fn limit(&self) -> Result<Option<usize>, ApiError> {
        match self.non_empty("limit") {
            None => Ok(None),
            Some(v) => match v.parse::<usize>() {
                Ok(0) => Ok(None),
                Ok(n) => Ok(Some(n)),
                Err(_) => Err(ApiError::bad_data(format!(
                    "invalid parameter \"limit\": cannot parse \"{v}\" to a valid limit"
                ))),
            },
        }
    }

    /// Returns the `timeout` parameter.
    pub fn timeout(&self) -> Result<Option<Duration>, ApiError> {
        match self.non_empty("timeout") {
            Some(t) => {
                let ms = duration("timeout", t)?;
                Ok(Some(Duration::from_millis(u64::try_from(ms).unwrap_or(0))))
            }
            None => Ok(None),
        }
    }
}

/// Returns the wall clock in ms since the epoch.
pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Parses a time given as Unix seconds (fractions allowed) or RFC 3339, into ms.
pub(super) fn timestamp(name: &str, value: &str) -> Result<i64, ApiError> {
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
    {
        return Ok((secs * 1000.0).round() as i64);
    }
    OffsetDateTime::parse(value, &Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
        .ok_or_else(|| {
            ApiError::bad_data(format!(
                "invalid parameter \"{name}\": cannot parse \"{value}\" to a valid timestamp"
            ))
        })
}

/// Parses a duration given as float seconds or in Prometheus syntax (`5m`), into ms.
pub(super) fn duration(name: &str, value: &str) -> Result<i64, ApiError> {
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
    {
        return Ok((secs * 1000.0).round() as i64);
    }
    ampd_promql::parse_duration_ms(value).map_err(|_| {
        ApiError::bad_data(format!(
            "invalid parameter \"{name}\": cannot parse \"{value}\" to a valid duration"
        ))
    })
}

#[cfg(test)]
impl Params {
    /// Builds parameters from pairs.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations_parse_both_forms() {
        assert_eq!(timestamp("t", "1700000000.5").unwrap(), 1_700_000_000_500);
        assert_eq!(
            timestamp("t", "2023-11-14T22:13:20.5Z").unwrap(),
            1_700_000_000_500
        );
        assert_eq!(
            timestamp("start", "yesterday").unwrap_err().message,
            "invalid parameter \"start\": cannot parse \"yesterday\" to a valid timestamp"
        );
        assert_eq!(duration("step", "15").unwrap(), 15_000);
        assert_eq!(duration("step", "1m30s").unwrap(), 90_000);
        assert!(duration("step", "soon").is_err());
    }

    #[test]
    fn ranges_limits_and_repeated_parameters() {
        let p = Params::from_pairs(&[
            ("match[]", "up"),
            ("match[]", "down"),
            ("start", "10"),
            ("limit", "0"),
        ]);
        assert_eq!(p.all("match[]"), ["up", "down"]);
        assert_eq!(
            p.time_range().unwrap(),
            TimeRange {
                start_ms: 10_000,
                end_ms: i64::MAX
            }
        );
        assert_eq!(p.limit().unwrap(), None);
        assert_eq!(
            Params::from_pairs(&[("limit", "3")]).limit().unwrap(),
            Some(3)
        );
        assert!(Params::from_pairs(&[("limit", "-1")]).limit().is_err());
        let backwards = Params::from_pairs(&[("start", "10"), ("end", "5")]);
        assert!(backwards.time_range().is_err());
    }
}
