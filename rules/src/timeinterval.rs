//! Time intervals for `mute_time_intervals` / `active_time_intervals`.
//!
//! `location` names an IANA time zone (default UTC), resolved from the time zone database
//! bundled into the binary so results do not depend on the host's tzdata; `Local` is refused
//! because a server's local zone is not a property of the workspace.

use serde::Deserialize;
use time::OffsetDateTime;

/// A named set of time ranges; the instant is inside if any range contains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeIntervalSet {
    /// Name routes refer to.
    pub name: String,
    /// The ranges; an empty list never contains anything.
    pub intervals: Vec<TimeInterval>,
}

impl TimeIntervalSet {
    /// Returns whether `t` falls in any of the ranges.
    pub fn contains(&self, t: OffsetDateTime) -> bool {
        self.intervals.iter().any(|i| i.contains(t))
    }
}

/// One range spec; each empty field matches everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeInterval {
    /// Minute-of-day ranges, start inclusive, end exclusive.
    pub times: Vec<(u32, u32)>,
    /// Weekday ranges, 0 = Sunday, inclusive.
    pub weekdays: Vec<(u8, u8)>,
    /// Day-of-month ranges, inclusive; negative days count back from the month's last day.
    pub days_of_month: Vec<(i8, i8)>,
    /// Month ranges, 1 = January, inclusive.
    pub months: Vec<(u8, u8)>,
    /// Year ranges, inclusive.
    pub years: Vec<(i32, i32)>,
    /// Zone the fields are evaluated in.
    pub location: jiff::tz::TimeZone,
}

impl TimeInterval {
    /// Returns whether `t`, seen in this range's time zone, falls in this range.
    pub fn contains(&self, t: OffsetDateTime) -> bool {
        let Ok(ts) = jiff::Timestamp::from_second(t.unix_timestamp()) else {
            return false;
        };
        let civil = self.location.to_datetime(ts);
        let minute =
            u32::try_from(i32::from(civil.hour()) * 60 + i32::from(civil.minute())).unwrap_or(0);
        let weekday = u8::try_from(civil.weekday().to_sunday_zero_offset()).unwrap_or(0);
        let month = u8::try_from(civil.month()).unwrap_or(0);
        let year = i32::from(civil.year());
        let day = i16::from(civil.day());
        let month_len = i16::from(civil.days_in_month());
        let day_ok = |(s, e): (i8, i8)| {
            let resolve = |d: i8| {
                if d < 0 {
                    month_len + 1 + i16::from(d)
                } else {
                    i16::from(d)
                }
            };
            let (s, e) = (resolve(s).max(1), resolve(e).min(month_len));
            s <= day && day <= e
        };
        (self.times.is_empty() || self.times.iter().any(|&(s, e)| s <= minute && minute < e))
            && (self.weekdays.is_empty()
                || self
                    .weekdays
                    .iter()
                    .any(|&(s, e)| s <= weekday && weekday <= e))
            && (self.days_of_month.is_empty() || self.days_of_month.iter().copied().any(day_ok))
            && (self.months.is_empty()
                || self.months.iter().any(|&(s, e)| s <= month && month <= e))
            && (self.years.is_empty() || self.years.iter().any(|&(s, e)| s <= year && year <= e))
    }
}

/// The YAML shape of one time range, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTimeInterval {
    #[serde(default)]
    times: Vec<RawTimeRange>,
    #[serde(default)]
    weekdays: Vec<String>,
    #[serde(default)]
    days_of_month: Vec<String>,
    #[serde(default)]
    months: Vec<String>,
    #[serde(default)]
    years: Vec<String>,
    #[serde(default)]
    location: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimeRange {
    start_time: String,
    end_time: String,
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

impl RawTimeInterval {
    /// Validates the raw range into a [`TimeInterval`]; errors name the field and value.
    pub(crate) fn validate(self) -> Result<TimeInterval, String> {
        let location = match self.location.as_deref() {
            None | Some("" | "UTC") => jiff::tz::TimeZone::UTC,
            Some("Local") => {
                return Err(
                    "location \"Local\" is not supported; name an IANA time zone".to_owned(),
                );
            }
            Some(name) => {
                jiff::tz::TimeZone::get(name).map_err(|_| format!("unknown time zone {name:?}"))?
            }
        };
        let times = self
            .times
            .iter()
            .map(|r| {
                let (s, e) = (parse_clock(&r.start_time)?, parse_clock(&r.end_time)?);
                if s >= e {
                    return Err(format!(
                        "start time {:?} must be before end time {:?}",
                        r.start_time, r.end_time
                    ));
                }
                Ok((s, e))
            })
            .collect::<Result<_, String>>()?;
        let weekdays = self
            .weekdays
            .iter()
            .map(|w| {
                named_range(w, &WEEKDAYS, 0)
                    .map(|(s, e)| (s as u8, e as u8))
                    .map_err(|e| format!("weekday: {e}"))
            })
            .collect::<Result<_, String>>()?;
        let months = self
            .months
            .iter()
            .map(|m| {
                named_range(m, &MONTHS, 1)
                    .map(|(s, e)| (s as u8, e as u8))
                    .map_err(|e| format!("month: {e}"))
            })
            .collect::<Result<_, String>>()?;
        let days_of_month = self
            .days_of_month
            .iter()
            .map(|d| day_range(d))
            .collect::<Result<_, String>>()?;
        let years = self
            .years
            .iter()
            .map(|y| {
                let (s, e) = split_range(y);
                let p = |v: &str| {
                    v.trim()
                        .parse::<i32>()
                        .map_err(|_| format!("invalid year {y:?}"))
                };
                let (s, e) = (p(s)?, p(e)?);
                if s > e {
                    return Err(format!("year range {y:?}: start is after end"));
                }
                Ok((s, e))
            })
            .collect::<Result<_, String>>()?;
        Ok(TimeInterval {
            times,
            weekdays,
            days_of_month,
            months,
            years,
            location,
        })
    }
}

fn split_range(s: &str) -> (&str, &str) {
    // A leading '-' is a negative day, not a separator.
    match s.get(1..).and_then(|r| r.find(':')) {
        Some(i) => (&s[..=i], &s[i + 2..]),
        None => (s, s),
    }
}

fn parse_clock(s: &str) -> Result<u32, String> {
    let bad = || format!("invalid time of day {s:?} (want HH:MM)");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn named_range(s: &str, names: &[&str], base: usize) -> Result<(usize, usize), String> {
    let one = |v: &str| {
        let v = v.trim().to_ascii_lowercase();
        names
            .iter()
            .position(|n| *n == v)
            .map(|i| i + base)
            .or_else(|| {
                v.parse::<usize>()
                    .ok()
                    .filter(|n| base > 0 && (base..base + names.len()).contains(n))
            })
            .ok_or_else(|| format!("{s:?} is not a valid name or number"))
    };
    let (a, b) = split_range(s);
    let (a, b) = (one(a)?, one(b)?);
    if a > b {
        return Err(format!("range {s:?}: start is after end"));
    }
    Ok((a, b))
}

fn day_range(s: &str) -> Result<(i8, i8), String> {
    let one = |v: &str| {
        v.trim()
            .parse::<i8>()
            .ok()
            .filter(|d| (-31..=31).contains(d) && *d != 0)
            .ok_or_else(|| format!("day of month {s:?} is not valid (want 1..31 or -31..-1)"))
    };
    let (a, b) = split_range(s);
    let (a, b) = (one(a)?, one(b)?);
    if (a > 0) == (b > 0) && a > b {
        return Err(format!("day of month range {s:?}: start is after end"));
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn interval(yaml: &str) -> Result<TimeInterval, String> {
        serde_norway::from_str::<RawTimeInterval>(yaml)
            .map_err(|e| e.to_string())?
            .validate()
    }

    #[test]
    fn business_hours() {
        let i = interval(
            "times: [{start_time: '09:00', end_time: '17:00'}]\nweekdays: ['monday:friday']",
        )
        .unwrap();
        assert!(i.contains(datetime!(2026-11-24 09:00 UTC))); // Tuesday
        assert!(!i.contains(datetime!(2026-11-24 17:00 UTC)));
        assert!(!i.contains(datetime!(2026-11-22 12:00 UTC))); // Sunday
    }

    #[test]
    fn negative_days_count_from_month_end() {
        let i = interval("days_of_month: ['-1']").unwrap();
        assert!(i.contains(datetime!(2028-02-29 12:00 UTC)));
        assert!(!i.contains(datetime!(2028-02-28 12:00 UTC)));
        let i = interval(
            "days_of_month: ['1:5', '-3:-1']\nmonths: ['december', '1:2']\nyears: ['2026:2027']",
        )
        .unwrap();
        assert!(i.contains(datetime!(2026-12-30 00:00 UTC)));
        assert!(i.contains(datetime!(2027-01-03 00:00 UTC)));
        assert!(!i.contains(datetime!(2027-03-03 00:00 UTC)));
        assert!(!i.contains(datetime!(2028-01-03 00:00 UTC)));
    }

    #[test]
    fn evaluates_in_the_named_zone() {
        let i =
            interval("times: [{start_time: '09:00', end_time: '17:00'}]\nlocation: Europe/Berlin")
                .unwrap();
        // 08:30 UTC is 09:30 in Berlin in winter (UTC+1) …
        assert!(i.contains(datetime!(2026-11-24 08:30 UTC)));
        assert!(!i.contains(datetime!(2026-11-24 16:30 UTC)));
        // … and 10:30 in summer (UTC+2).
        assert!(i.contains(datetime!(2026-07-01 07:30 UTC)));
        assert!(!i.contains(datetime!(2026-07-01 06:30 UTC)));
        // Weekdays follow the zone too: Saturday 23:30 UTC is Sunday in Tokyo.
        let i = interval("weekdays: [sunday]\nlocation: Asia/Tokyo").unwrap();
        assert!(i.contains(datetime!(2026-11-28 23:30 UTC)));
    }

    #[test]
    fn rejects_invalid_fields() {
        for bad in [
            "times: [{start_time: '17:00', end_time: '09:00'}]",
            "times: [{start_time: '9:00', end_time: '10:00'}]",
            "weekdays: ['funday']",
            "weekdays: ['friday:monday']",
            "days_of_month: ['0']",
            "days_of_month: ['10:2']",
            "months: ['13']",
            "years: ['2030:2020']",
            "location: 'Mars/Olympus'",
            "location: 'Local'",
            "hours: ['1']",
        ] {
            assert!(interval(bad).is_err(), "{bad} should fail");
        }
        assert!(interval("times: [{start_time: '00:00', end_time: '24:00'}]").is_ok());
    }
}
