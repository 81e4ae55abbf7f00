//! PromQL: lexer, parser with source positions, printer and evaluation engine over a Queryable.
//!
//! The front end parses the full Prometheus 3.x grammar into an [`Expr`] tree whose nodes carry
//! byte [`Span`]s, type-checks it with Prometheus' error messages, and prints it back
//! (`Display`) in a form that parses to the same tree.
//!
//! - [`parse`] / [`parse_with`]: text to [`Expr`], or a [`ParseError`] that displays exactly as
//!   Prometheus' (`1:5: parse error: unexpected <op:+>`).
//! - [`ParserOptions`]: the experimental syntax switches (functions, duration expressions,
//!   `anchored`/`smoothed`, `fill` modifiers), off by default as in Prometheus.
//! - [`function`]: the function catalog ([`FunctionDef`]: argument types, variadic arity,
//!   return type, experimental flag).
//! - [`DurationExpr`]: ranges, steps and offsets; [`DurationExpr::evaluate`] resolves `step()`
//!   and `range()`.
//! - [`parse_metric_selector`]: a bare series selector, as in the HTTP API's `match[]`.
//!
//! Trees deeper than 256 levels are rejected, so recursive passes over an [`Expr`] stay within
//! the stack.
//!
//! ```
//! use ampd_promql::{parse, Expr};
//!
//! let expr = parse("sum by (job) (rate(http_requests_total[5m]))").unwrap();
//! assert!(matches!(expr, Expr::Aggregate(_)));
//! assert_eq!(expr.to_string(), "sum by (job) (rate(http_requests_total[5m]))");
//! assert_eq!(parse("1 +").unwrap_err().to_string(), "1:4: parse error: unexpected end of input");
//! ```

mod ast;
mod lexer;
mod parser;
mod printer;

pub use ast::{
    AggregateExpr, AggregateOp, AtModifier, BinaryExpr, BinaryOp, Call, Cardinality, DurationExpr,
    DurationOp, Expr, FillValues, FunctionDef, LabelMatcher, MatchOp, MatrixSelector,
    NumberLiteral, ParenExpr, Span, StringLiteral, SubqueryExpr, UnaryExpr, UnaryOp, ValueType,
    VectorMatching, VectorSelector, function, functions,
};
pub use parser::{ParseError, ParserOptions, parse, parse_metric_selector, parse_with};
