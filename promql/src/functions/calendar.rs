//! Calendar functions (`hour`, `day_of_week`, `days_in_month`, …) in UTC.

use time::OffsetDateTime;

use crate::ast::Call;
use crate::engine::EngineError;
use crate::engine::eval::{Ctx, Stepped, Steps};
use crate::value::labels::Labels;
use crate::value::{PointValue, Sample};

/// The calendar field `name` of Unix time `secs` in UTC; NaN outside the dates the `time`
/// crate represents.
fn field(name: &str, secs: f64) -> f64 {
    let Ok(t) = OffsetDateTime::from_unix_timestamp(secs.floor() as i64) else {
        return f64::NAN;
    };
    match name {
        "day_of_month" => f64::from(t.day()),
        "day_of_week" => f64::from(t.weekday().number_days_from_sunday()),
        "day_of_year" => f64::from(t.ordinal()),
        "days_in_month" => f64::from(t.month().length(t.year())),
        "hour" => f64::from(t.hour()),
        "minute" => f64::from(t.minute()),
        "month" => f64::from(u8::from(t.month())),
        _ => f64::from(t.year()),
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
    fn calendar_fields_in_utc() {
        // 2024-02-29T13:45:00Z, a Thursday.
        let t = 1_709_214_300.0;
        let got: Vec<f64> = [
            "year",
            "month",
            "day_of_month",
            "hour",
            "minute",
            "day_of_week",
            "day_of_year",
            "days_in_month",
        ]
        .iter()
        .map(|n| field(n, t))
        .collect();
        assert_eq!(got, [2024.0, 2.0, 29.0, 13.0, 45.0, 4.0, 60.0, 29.0]);
        assert_eq!(field("day_of_week", 0.0), 4.0);
        assert!(field("year", 1e300).is_nan());
    }
}
