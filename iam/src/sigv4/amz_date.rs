//! The SigV4 timestamp: `X-Amz-Date` (`20150830T123600Z`) or an RFC 1123 `Date` header.

use std::time::{Duration, SystemTime};

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// A request timestamp, kept both as a time and in the ISO 8601 basic form used for signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmzDate {
    time: SystemTime,
    basic: String,
}

impl AmzDate {
    /// Parses the `X-Amz-Date` form `YYYYMMDD'T'HHMMSS'Z'`.
    pub fn parse_basic(value: &str) -> Option<Self> {
        let format = format_description!("[year][month][day]T[hour][minute][second]Z");
        let parsed = PrimitiveDateTime::parse(value, format).ok()?.assume_utc();
        Some(Self {
            time: parsed.into(),
            basic: value.to_owned(),
        })
    }

    /// Parses an HTTP `Date` header (RFC 1123, e.g. `Sun, 30 Aug 2015 12:36:00 GMT`).
    pub fn parse_http_date(value: &str) -> Option<Self> {
        let time = httpdate::parse_http_date(value).ok()?;
        Some(Self {
            time,
            basic: format_basic(time),
        })
    }

    /// Returns the timestamp as a point in time.
    pub fn time(&self) -> SystemTime {
        self.time
    }

    /// Returns the `YYYYMMDD'T'HHMMSS'Z'` form that goes into the string to sign.
    pub fn basic(&self) -> &str {
        &self.basic
    }

    /// Returns the `YYYYMMDD` date part that the credential scope must repeat.
    pub fn date(&self) -> &str {
        &self.basic[..8]
    }
}

/// Formats a time as `YYYYMMDD'T'HHMMSS'Z'` (used in messages and for `Date`-header requests).
pub fn format_basic(time: SystemTime) -> String {
    let dt = OffsetDateTime::from(time);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Formats a skew window the way AWS does in its messages (`5 min.`).
pub fn format_window(window: Duration) -> String {
    let secs = window.as_secs();
    if secs.is_multiple_of(60) {
        format!("{} min.", secs / 60)
    } else {
        format!("{secs} sec.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms_to_the_same_instant() {
        let basic = AmzDate::parse_basic("20150830T123600Z").unwrap();
        let http = AmzDate::parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT").unwrap();
        assert_eq!(basic.time(), http.time());
        assert_eq!(http.basic(), "20150830T123600Z");
        assert_eq!(basic.date(), "20150830");
        assert_eq!(
            basic.time(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
        );
    }

    #[test]
    fn rejects_malformed_dates() {
        for bad in [
            "",
            "20150830",
            "20150830T123600",
            "2015-08-30T12:36:00Z",
            "20151330T123600Z",
        ] {
            assert!(AmzDate::parse_basic(bad).is_none(), "{bad}");
        }
        assert!(AmzDate::parse_http_date("yesterday").is_none());
    }

    #[test]
    fn formats_windows() {
        assert_eq!(format_window(Duration::from_secs(300)), "5 min.");
        assert_eq!(format_window(Duration::from_secs(90)), "90 sec.");
    }
}
