//! The UTC time formats CloudTrail uses in records, digests and object keys.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// `2025-01-02T03:04:05Z`: records and digests carry second precision.
const ISO_SECONDS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
/// `20250102T0304Z`: the write time in a log file name.
const KEY_MINUTES: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute]Z");
/// `20250102T030405Z`: the end time in a digest file name.
const KEY_SECONDS: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");
/// `2025/01/02`: the date folders of an object key.
const KEY_DATE: &[FormatItem<'static>] = format_description!("[year]/[month]/[day]");

fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(UtcOffset::UTC)
}

fn format(t: OffsetDateTime, items: &[FormatItem<'static>]) -> String {
    // Formatting a UTC date with only numeric components cannot fail for years 0..=9999,
    // the only years a clock or a parsed record can hold here.
    utc(t).format(items).unwrap_or_default()
}

fn parse(s: &str, items: &[FormatItem<'static>]) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(s, items)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Formats `t` as `2025-01-02T03:04:05Z`.
pub(crate) fn iso(t: OffsetDateTime) -> String {
    format(t, ISO_SECONDS)
}

/// Parses `2025-01-02T03:04:05Z`.
pub(crate) fn parse_iso(s: &str) -> Option<OffsetDateTime> {
    parse(s, ISO_SECONDS)
}

/// Formats `t` as `20250102T0304Z`.
pub(crate) fn key_minutes(t: OffsetDateTime) -> String {
    format(t, KEY_MINUTES)
}

/// Parses `20250102T0304Z`.
pub(crate) fn parse_key_minutes(s: &str) -> Option<OffsetDateTime> {
    parse(s, KEY_MINUTES)
}

/// Formats `t` as `20250102T030405Z`.
pub(crate) fn key_seconds(t: OffsetDateTime) -> String {
    format(t, KEY_SECONDS)
}

/// Parses `20250102T030405Z`.
pub(crate) fn parse_key_seconds(s: &str) -> Option<OffsetDateTime> {
    parse(s, KEY_SECONDS)
}

/// Formats `t` as `2025/01/02`.
pub(crate) fn key_date(t: OffsetDateTime) -> String {
    format(t, KEY_DATE)
}

/// Serde adapter for record and digest times (`2025-01-02T03:04:05Z`).
pub(crate) mod iso_seconds {
    use serde::{Deserialize, Deserializer, Serializer, de};
    use time::OffsetDateTime;

    /// Serializes `t` at second precision.
    pub(crate) fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::iso(*t))
    }

    /// Deserializes a time written by [`serialize`].
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_iso(&s).ok_or_else(|| de::Error::custom(format!("invalid time {s:?}")))
    }

    /// The same for optional times (`null` when absent).
    pub(crate) mod option {
        use serde::{Deserialize, Deserializer, Serializer, de};
        use time::OffsetDateTime;

        /// Serializes `t` at second precision, or `null`.
        pub(crate) fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::super::iso(*t)),
                None => s.serialize_none(),
            }
        }

        /// Deserializes a time written by [`serialize`].
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| {
                    super::super::parse_iso(&s)
                        .ok_or_else(|| de::Error::custom(format!("invalid time {s:?}")))
                })
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn formats_round_trip() {
        let t = datetime!(2025-01-02 03:04:05.678 UTC);
        assert_eq!(iso(t), "2025-01-02T03:04:05Z");
        assert_eq!(
            parse_iso("2025-01-02T03:04:05Z"),
            Some(datetime!(2025-01-02 03:04:05 UTC))
        );
        assert_eq!(key_minutes(t), "20250102T0304Z");
        assert_eq!(
            parse_key_minutes("20250102T0304Z"),
            Some(datetime!(2025-01-02 03:04 UTC))
        );
        assert_eq!(key_seconds(t), "20250102T030405Z");
        assert_eq!(
            parse_key_seconds("20250102T030405Z"),
            Some(datetime!(2025-01-02 03:04:05 UTC))
        );
        assert_eq!(key_date(t), "2025/01/02");
        assert_eq!(parse_iso("2025-01-02 03:04:05"), None);
    }
}
