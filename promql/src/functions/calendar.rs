//! Calendar functions (`hour`, `day_of_week`, `days_in_month`, …) in UTC.

use crate::ast::Call;
use crate::engine::EngineError;
use crate::engine::eval::{Ctx, Stepped, Steps};
use crate::value::labels::Labels;
use crate::value::{PointValue, Sample};

/// A UTC date and time split into fields.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: i64,
    minute: i64,
    weekday: i64,
    yday: i64,
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Splits Unix seconds into UTC fields. The date arithmetic is the well-known days-to-civil
/// conversion; no date crate is needed for these few fields.
fn civil(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    let yday = (1..month).map(|m| i64::from(days_in(year, m))).sum::<i64>() + i64::from(day);
    Civil {
        year,
        month,
        day,
        hour: rem / 3600,
        minute: rem % 3600 / 60,
        weekday: (days + 4).rem_euclid(7),
        yday,
    }
}

fn field(name: &str, secs: f64) -> f64 {
    let c = civil(secs.floor() as i64);
    match name {
        "day_of_month" => f64::from(c.day),
        "day_of_week" => c.weekday as f64,
        "day_of_year" => c.yday as f64,
        "days_in_month" => f64::from(days_in(c.year, c.month)),
        "hour" => c.hour as f64,
        "minute" => c.minute as f64,
        "month" => f64::from(c.month),
        _ => c.year as f64,
    }
}

pub(super) fn eval(cx: &mut Ctx<'_>, c: &Call, steps: Steps) -> Result<Stepped, EngineError> {
    let name = c.func.name;
    let Some(arg) = c.args.first() else {
        return Ok(Stepped::Vector(
            (0..steps.len())
                .map(|i| {
                    vec![Sample {
                        labels: Labels::empty(),
                        t: 0,
                        value: PointValue::Float(field(name, steps.ts(i) as f64 / 1000.0)),
                        drop_name: false,
                    }]
                })
                .collect(),
        ));
    };
    let input = cx.eval_vector(arg, steps)?;
    Ok(Stepped::Vector(
        input
            .into_iter()
            .map(|vec| {
                vec.into_iter()
                    .filter_map(|mut s| match s.value {
                        PointValue::Float(v) => {
                            s.value = PointValue::Float(if v.is_finite() {
                                field(name, v)
                            } else {
                                f64::NAN
                            });
                            s.drop_name = true;
                            Some(s)
                        }
                        PointValue::Histogram(_) => None,
                    })
                    .collect()
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_fields() {
        // 2024-02-29T13:45:00Z, a Thursday.
        let c = civil(1_709_214_300);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute),
            (2024, 2, 29, 13, 45)
        );
        assert_eq!((c.weekday, c.yday), (4, 60));
        assert_eq!(field("days_in_month", 1_709_214_300.0), 29.0);
        let epoch = civil(0);
        assert_eq!(
            (epoch.year, epoch.month, epoch.day, epoch.weekday),
            (1970, 1, 1, 4)
        );
    }
}
