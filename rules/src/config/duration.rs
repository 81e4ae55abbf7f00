//! Prometheus-style durations (`1h30m`, `90s`, `2d`, `1w`, `1y`).

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A non-negative duration written the way Prometheus and Alertmanager configs write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct PromDuration(pub std::time::Duration);

impl PromDuration {
    /// Builds a duration from whole seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Self(std::time::Duration::from_secs(secs))
    }

    /// Returns the duration as a `time::Duration`.
    pub fn as_time(self) -> time::Duration {
        time::Duration::try_from(self.0).unwrap_or(time::Duration::MAX)
    }

    /// Parses `s`; units must appear largest first, each at most once, as in Prometheus.
    pub fn parse(s: &str) -> Result<Self, String> {
        const UNITS: [(&str, u64); 8] = [
            ("y", 365 * 24 * 3_600_000),
            ("w", 7 * 24 * 3_600_000),
            ("d", 24 * 3_600_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1_000),
            ("ms", 1),
            ("", 0),
        ];
        let bad = || format!("not a valid duration string: {s:?}");
        if s == "0" {
            return Ok(Self::default());
        }
        if s.is_empty() {
            return Err(bad());
        }
        let mut rest = s;
        let mut total: u64 = 0;
        let mut last_unit = 0usize;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad());
            }
            let value: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let idx = UNITS[..7]
                .iter()
                .position(|(u, _)| *u == unit)
                .ok_or_else(bad)?;
            // "ms" sorts after "s" in the table, so order is checked on table position.
            if idx < last_unit || (total > 0 && idx == last_unit) {
                return Err(bad());
            }
            last_unit = idx;
            let ms = value.checked_mul(UNITS[idx].1).ok_or_else(bad)?;
            total = total.checked_add(ms).ok_or_else(bad)?;
        }
        Ok(Self(std::time::Duration::from_millis(total)))
    }
}

impl fmt::Display for PromDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX);
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in [
            ("y", 365 * 24 * 3_600_000u64),
            ("w", 7 * 24 * 3_600_000),
            ("d", 24 * 3_600_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1_000),
            ("ms", 1),
        ] {
            if ms >= size {
                write!(f, "{}{unit}", ms / size)?;
                ms %= size;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for PromDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compound_durations() {
        assert_eq!(
            PromDuration::parse("1h30m").unwrap(),
            PromDuration::from_secs(5400)
        );
        assert_eq!(
            PromDuration::parse("30s").unwrap(),
            PromDuration::from_secs(30)
        );
        assert_eq!(
            PromDuration::parse("2d").unwrap(),
            PromDuration::from_secs(172_800)
        );
        assert_eq!(PromDuration::parse("1s500ms").unwrap().0.as_millis(), 1500);
        assert_eq!(PromDuration::parse("0").unwrap(), PromDuration::default());
    }

    #[test]
    fn rejects_malformed_durations() {
        for bad in ["", "5", "1x", "30m1h", "1h1h", "-1s", "h", "1.5h"] {
            assert!(PromDuration::parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn displays_like_prometheus() {
        assert_eq!(PromDuration::from_secs(5400).to_string(), "1h30m");
        assert_eq!(PromDuration::from_secs(0).to_string(), "0s");
        assert_eq!(PromDuration::from_secs(4 * 3600).to_string(), "4h");
    }
}
