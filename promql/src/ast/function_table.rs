//! The PromQL function catalog: argument types, variadic arity, return type and whether the
//! function is experimental, matching Prometheus 3.x.

use super::ValueType;

/// Signature of a PromQL function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionDef {
    /// Function name as written in queries.
    pub name: &'static str,
    /// Types of the declared arguments; with `variadic != 0` the last one may repeat or be omitted.
    pub arg_types: &'static [ValueType],
    /// `0`: exactly `arg_types`; `n > 0`: the last argument is optional and may occur up to `n`
    /// times; `-1`: the last argument may occur any number of times (at least once).
    pub variadic: i32,
    /// Type of the result.
    pub return_type: ValueType,
    /// Whether the function needs `enable_experimental_functions`.
    pub experimental: bool,
}

use ValueType::{InstantVector as V, RangeVector as M, Scalar as S, String as Str};

const fn def(
    name: &'static str,
    arg_types: &'static [ValueType],
    variadic: i32,
    return_type: ValueType,
    experimental: bool,
) -> FunctionDef {
    FunctionDef {
        name,
        arg_types,
        variadic,
        return_type,
        experimental,
    }
}

/// Every function Prometheus 3.x knows, sorted by name.
static FUNCTIONS: &[FunctionDef] = &[
    def("abs", &[V], 0, V, false),
    def("absent", &[V], 0, V, false),
    def("absent_over_time", &[M], 0, V, false),
    def("acos", &[V], 0, V, false),
    def("acosh", &[V], 0, V, false),
    def("asin", &[V], 0, V, false),
    def("asinh", &[V], 0, V, false),
    def("atan", &[V], 0, V, false),
    def("atanh", &[V], 0, V, false),
    def("avg_over_time", &[M], 0, V, false),
    def("ceil", &[V], 0, V, false),
    def("changes", &[M], 0, V, false),
    def("clamp", &[V, S, S], 0, V, false),
    def("clamp_max", &[V, S], 0, V, false),
    def("clamp_min", &[V, S], 0, V, false),
    def("cos", &[V], 0, V, false),
    def("cosh", &[V], 0, V, false),
    def("count_over_time", &[M], 0, V, false),
    def("day_of_month", &[V], 1, V, false),
    def("day_of_week", &[V], 1, V, false),
    def("day_of_year", &[V], 1, V, false),
    def("days_in_month", &[V], 1, V, false),
    def("deg", &[V], 0, V, false),
    def("delta", &[M], 0, V, false),
    def("deriv", &[M], 0, V, false),
    def("double_exponential_smoothing", &[M, S, S], 0, V, true),
    def("end", &[], 0, S, true),
    def("exp", &[V], 0, V, false),
    def("first_over_time", &[M], 0, V, false),
    def("floor", &[V], 0, V, false),
    def("histogram_avg", &[V], 0, V, false),
    def("histogram_count", &[V], 0, V, false),
    def("histogram_fraction", &[S, S, V], 0, V, false),
    def("histogram_quantile", &[S, V], 0, V, false),
    def("histogram_quantiles", &[V, Str, S, S], 9, V, true),
    def("histogram_stddev", &[V], 0, V, false),
    def("histogram_stdvar", &[V], 0, V, false),
    def("histogram_sum", &[V], 0, V, false),
    def("hour", &[V], 1, V, false),
    def("idelta", &[M], 0, V, false),
    def("increase", &[M], 0, V, false),
    def("info", &[V, V], 1, V, true),
    def("irate", &[M], 0, V, false),
    def("label_join", &[V, Str, Str, Str], -1, V, false),
    def("label_replace", &[V, Str, Str, Str, Str], 0, V, false),
    def("last_over_time", &[M], 0, V, false),
    def("ln", &[V], 0, V, false),
    def("log10", &[V], 0, V, false),
    def("log2", &[V], 0, V, false),
    def("mad_over_time", &[M], 0, V, true),
    def("max_of", &[S, S], 0, S, true),
    def("max_over_time", &[M], 0, V, false),
    def("min_of", &[S, S], 0, S, true),
    def("min_over_time", &[M], 0, V, false),
    def("minute", &[V], 1, V, false),
    def("month", &[V], 1, V, false),
    def("pi", &[], 0, S, false),
    def("predict_linear", &[M, S], 0, V, false),
    def("present_over_time", &[M], 0, V, false),
    def("quantile_over_time", &[S, M], 0, V, false),
    def("rad", &[V], 0, V, false),
    def("range", &[], 0, S, true),
    def("rate", &[M], 0, V, false),
    def("resets", &[M], 0, V, false),
    def("round", &[V, S], 1, V, false),
    def("scalar", &[V], 0, S, false),
    def("sgn", &[V], 0, V, false),
    def("sin", &[V], 0, V, false),
    def("sinh", &[V], 0, V, false),
    def("sort", &[V], 0, V, false),
    def("sort_by_label", &[V, Str], -1, V, true),
    def("sort_by_label_desc", &[V, Str], -1, V, true),
    def("sort_desc", &[V], 0, V, false),
    def("sqrt", &[V], 0, V, false),
    def("start", &[], 0, S, true),
    def("start_timestamp", &[V], 0, V, true),
    def("stddev_over_time", &[M], 0, V, false),
    def("stdvar_over_time", &[M], 0, V, false),
    def("step", &[], 0, S, true),
    def("sum_over_time", &[M], 0, V, false),
    def("tan", &[V], 0, V, false),
    def("tanh", &[V], 0, V, false),
    def("time", &[], 0, S, false),
    def("timestamp", &[V], 0, V, false),
    def("ts_of_first_over_time", &[M], 0, V, true),
    def("ts_of_last_over_time", &[M], 0, V, true),
    def("ts_of_max_over_time", &[M], 0, V, true),
    def("ts_of_min_over_time", &[M], 0, V, true),
    def("vector", &[S], 0, V, false),
    def("year", &[V], 1, V, false),
];

/// Looks up a function by its exact (case-sensitive) name.
pub fn function(name: &str) -> Option<&'static FunctionDef> {
    FUNCTIONS
        .binary_search_by(|f| f.name.cmp(name))
        .ok()
        .map(|i| &FUNCTIONS[i])
}

/// Returns the whole function catalog, sorted by name.
pub fn functions() -> &'static [FunctionDef] {
    FUNCTIONS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_sorted_and_unique() {
        assert!(FUNCTIONS.windows(2).all(|w| w[0].name < w[1].name));
    }

    #[test]
    fn looks_up_functions() {
        let rate = function("rate").unwrap();
        assert_eq!(rate.arg_types, &[ValueType::RangeVector]);
        assert!(!rate.experimental);
        assert!(function("info").unwrap().experimental);
        assert_eq!(function("label_join").unwrap().variadic, -1);
        assert!(function("Rate").is_none());
        assert!(function("nope").is_none());
    }
}
