//! Syntax tree of a PromQL expression. Every node carries its [`Span`] in the source text.

mod function_table;

pub use function_table::{FunctionDef, function, functions};

use std::fmt;

/// Runs `f` on a stack with room for another level of tree recursion. Parsing, checking and
/// printing recurse once per tree level and their frames are large in debug builds; `stacker`
/// moves the recursion onto a heap-allocated segment when the thread's stack runs low.
pub(crate) fn with_stack<R>(f: impl FnOnce() -> R) -> R {
    const RED_ZONE: usize = 64 * 1024;
    const SEGMENT: usize = 1024 * 1024;
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}

/// Byte range `start..end` of a node in the query text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// Creates a span from byte offsets.
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// Returns the smallest span covering both spans.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start, other.end)
    }
}

/// Type of the value an expression evaluates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// A single number.
    Scalar,
    /// One sample per series.
    InstantVector,
    /// A window of samples per series.
    RangeVector,
    /// A string literal.
    String,
}

impl ValueType {
    /// Returns Prometheus' internal name (`vector`, `matrix`, …), used in a few messages.
    pub fn internal_name(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::InstantVector => "vector",
            ValueType::RangeVector => "matrix",
            ValueType::String => "string",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueType::Scalar => "scalar",
            ValueType::InstantVector => "instant vector",
            ValueType::RangeVector => "range vector",
            ValueType::String => "string",
        })
    }
}

/// A PromQL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number such as `1`, `0x1f`, `Inf` or a duration used as a number (`5m`).
    Number(NumberLiteral),
    /// A string literal.
    String(StringLiteral),
    /// An instant vector selector: `metric{label="value"}`.
    VectorSelector(VectorSelector),
    /// A range vector selector: `metric[5m]`.
    MatrixSelector(MatrixSelector),
    /// A subquery: `expr[1h:5m]`.
    Subquery(SubqueryExpr),
    /// An aggregation: `sum by (job) (expr)`.
    Aggregate(AggregateExpr),
    /// A binary operation.
    Binary(BinaryExpr),
    /// A unary `-` or `+`.
    Unary(UnaryExpr),
    /// A parenthesized expression.
    Paren(ParenExpr),
    /// A function call.
    Call(Call),
}

impl Expr {
    /// Returns the source span of the expression.
    pub fn span(&self) -> Span {
        match self {
            Expr::Number(e) => e.span,
            Expr::String(e) => e.span,
            Expr::VectorSelector(e) => e.span,
            Expr::MatrixSelector(e) => e.span,
            Expr::Subquery(e) => e.span,
            Expr::Aggregate(e) => e.span,
            Expr::Binary(e) => e.span,
            Expr::Unary(e) => e.span,
            Expr::Paren(e) => e.span,
            Expr::Call(e) => e.span,
        }
    }

    /// Returns the type the expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        match self {
            Expr::Number(_) => ValueType::Scalar,
            Expr::String(_) => ValueType::String,
            Expr::VectorSelector(_) | Expr::Aggregate(_) => ValueType::InstantVector,
            Expr::MatrixSelector(_) | Expr::Subquery(_) => ValueType::RangeVector,
            Expr::Binary(e) => {
                if e.lhs.value_type() == ValueType::Scalar
                    && e.rhs.value_type() == ValueType::Scalar
                {
                    ValueType::Scalar
                } else {
                    ValueType::InstantVector
                }
            }
            Expr::Unary(e) => e.expr.value_type(),
            Expr::Paren(e) => e.expr.value_type(),
            Expr::Call(e) => e.func.return_type,
        }
    }

    /// Returns the direct sub-expressions, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Number(_)
            | Expr::String(_)
            | Expr::VectorSelector(_)
            | Expr::MatrixSelector(_) => Vec::new(),
            Expr::Subquery(e) => vec![&e.expr],
            Expr::Aggregate(e) => e
                .param
                .iter()
                .map(Box::as_ref)
                .chain([e.expr.as_ref()])
                .collect(),
            Expr::Binary(e) => vec![&e.lhs, &e.rhs],
            Expr::Unary(e) => vec![&e.expr],
            Expr::Paren(e) => vec![&e.expr],
            Expr::Call(e) => e.args.iter().collect(),
        }
    }

    /// Visits this expression and all sub-expressions, parents before children.
    pub fn walk<'a>(&'a self, visit: &mut impl FnMut(&'a Expr)) {
        visit(self);
        for child in self.children() {
            child.walk(visit);
        }
    }

    /// Compares two trees while ignoring source positions.
    pub fn eq_ignoring_spans(&self, other: &Expr) -> bool {
        let (mut a, mut b) = (self.clone(), other.clone());
        a.clear_spans();
        b.clear_spans();
        a == b
    }

    /// Resets every span in the tree to `0..0`.
    pub fn clear_spans(&mut self) {
        match self {
            Expr::Number(e) => e.span = Span::default(),
            Expr::String(e) => e.span = Span::default(),
            Expr::VectorSelector(e) => e.clear_spans(),
            Expr::MatrixSelector(e) => {
                e.span = Span::default();
                e.selector.clear_spans();
                e.range.clear_spans();
            }
            Expr::Subquery(e) => {
                e.span = Span::default();
                e.expr.clear_spans();
                e.range.clear_spans();
                for d in [&mut e.step, &mut e.offset].into_iter().flatten() {
                    d.clear_spans();
                }
            }
            Expr::Aggregate(e) => {
                e.span = Span::default();
                e.expr.clear_spans();
                if let Some(p) = &mut e.param {
                    p.clear_spans();
                }
            }
            Expr::Binary(e) => {
                e.span = Span::default();
                e.lhs.clear_spans();
                e.rhs.clear_spans();
            }
            Expr::Unary(e) => {
                e.span = Span::default();
                e.expr.clear_spans();
            }
            Expr::Paren(e) => {
                e.span = Span::default();
                e.expr.clear_spans();
            }
            Expr::Call(e) => {
                e.span = Span::default();
                e.args.iter_mut().for_each(Expr::clear_spans);
            }
        }
    }
}

/// A numeric literal. `duration` records that it was written as a duration (`5m`), in seconds.
#[derive(Debug, Clone)]
pub struct NumberLiteral {
    /// The value; durations are converted to seconds.
    pub value: f64,
    /// Whether the literal was written (and is printed) as a duration.
    pub duration: bool,
    /// Source position.
    pub span: Span,
}

impl PartialEq for NumberLiteral {
    fn eq(&self, other: &Self) -> bool {
        // NaN literals must compare equal so that round trips can be checked structurally.
        same_float(self.value, other.value)
            && self.duration == other.duration
            && self.span == other.span
    }
}

/// A string literal with escapes decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct StringLiteral {
    /// The decoded value. When `non_utf8` is set this holds its lossy UTF-8 form.
    pub value: String,
    /// The decoded bytes when escapes such as `\xff` produced invalid UTF-8 (PromQL strings are
    /// byte strings, as in Go); the engine rejects those where a label name is required.
    pub non_utf8: Option<Vec<u8>>,
    /// Source position.
    pub span: Span,
}

/// Label matching operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~` (fully anchored regex)
    Regex,
    /// `!~`
    NotRegex,
}

impl MatchOp {
    /// Returns the operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

/// One label matcher of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMatcher {
    /// Label name (`__name__` for the metric name).
    pub name: String,
    /// Matching operator.
    pub op: MatchOp,
    /// Value or regular expression.
    pub value: String,
}

/// The `@` modifier of a selector or subquery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtModifier {
    /// `@ <unix seconds>`, stored in milliseconds.
    Timestamp(i64),
    /// `@ start()`
    Start,
    /// `@ end()`
    End,
}

/// An instant vector selector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSelector {
    /// Metric name written before the braces, if any.
    pub name: Option<String>,
    /// All matchers; a name written before the braces is included as the last `__name__=` one.
    pub matchers: Vec<LabelMatcher>,
    /// `offset` modifier (negative values look into the future).
    pub offset: Option<DurationExpr>,
    /// `@` modifier.
    pub at: Option<AtModifier>,
    /// `anchored` range modifier (experimental).
    pub anchored: bool,
    /// `smoothed` range modifier (experimental).
    pub smoothed: bool,
    /// Source position, including modifiers.
    pub span: Span,
}

impl VectorSelector {
    fn clear_spans(&mut self) {
        self.span = Span::default();
        if let Some(o) = &mut self.offset {
            o.clear_spans();
        }
    }
}

/// A range vector selector; offset, `@` and range modifiers live on the inner selector.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixSelector {
    /// The selected series.
    pub selector: VectorSelector,
    /// The range.
    pub range: DurationExpr,
    /// Source position.
    pub span: Span,
}

/// A subquery `expr[range:step]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubqueryExpr {
    /// The inner instant-vector expression.
    pub expr: Box<Expr>,
    /// The range.
    pub range: DurationExpr,
    /// The resolution; `None` means the engine default.
    pub step: Option<DurationExpr>,
    /// `offset` modifier.
    pub offset: Option<DurationExpr>,
    /// `@` modifier.
    pub at: Option<AtModifier>,
    /// Source position.
    pub span: Span,
}

/// Aggregation operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateOp {
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `count`
    Count,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `group`
    Group,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `topk`
    Topk,
    /// `bottomk`
    Bottomk,
    /// `count_values`
    CountValues,
    /// `quantile`
    Quantile,
    /// `limitk` (experimental)
    Limitk,
    /// `limit_ratio` (experimental)
    LimitRatio,
}

impl AggregateOp {
    /// Returns the operator name.
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateOp::Sum => "sum",
            AggregateOp::Avg => "avg",
            AggregateOp::Count => "count",
            AggregateOp::Min => "min",
            AggregateOp::Max => "max",
            AggregateOp::Group => "group",
            AggregateOp::Stddev => "stddev",
            AggregateOp::Stdvar => "stdvar",
            AggregateOp::Topk => "topk",
            AggregateOp::Bottomk => "bottomk",
            AggregateOp::CountValues => "count_values",
            AggregateOp::Quantile => "quantile",
            AggregateOp::Limitk => "limitk",
            AggregateOp::LimitRatio => "limit_ratio",
        }
    }

    /// Whether the operator takes a parameter before the vector.
    pub fn has_param(self) -> bool {
        matches!(
            self,
            AggregateOp::Topk
                | AggregateOp::Bottomk
                | AggregateOp::CountValues
                | AggregateOp::Quantile
                | AggregateOp::Limitk
                | AggregateOp::LimitRatio
        )
    }

    /// Whether the operator needs `enable_experimental_functions`.
    pub fn is_experimental(self) -> bool {
        matches!(self, AggregateOp::Limitk | AggregateOp::LimitRatio)
    }
}

/// An aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateExpr {
    /// The operator.
    pub op: AggregateOp,
    /// The aggregated expression.
    pub expr: Box<Expr>,
    /// Parameter of `topk`, `quantile`, `count_values`, ….
    pub param: Option<Box<Expr>>,
    /// Labels of the `by`/`without` clause.
    pub grouping: Vec<String>,
    /// `without` rather than `by`.
    pub without: bool,
    /// Source position.
    pub span: Span,
}

/// Binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `atan2`
    Atan2,
    /// `==`
    Eql,
    /// `!=`
    Neq,
    /// `>`
    Gtr,
    /// `<`
    Lss,
    /// `>=`
    Gte,
    /// `<=`
    Lte,
    /// `</` (trim histogram buckets above the bound)
    TrimUpper,
    /// `>/` (trim histogram buckets below the bound)
    TrimLower,
    /// `and`
    And,
    /// `or`
    Or,
    /// `unless`
    Unless,
}

impl BinaryOp {
    /// Returns the operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::Eql => "==",
            BinaryOp::Neq => "!=",
            BinaryOp::Gtr => ">",
            BinaryOp::Lss => "<",
            BinaryOp::Gte => ">=",
            BinaryOp::Lte => "<=",
            BinaryOp::TrimUpper => "</",
            BinaryOp::TrimLower => ">/",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Unless => "unless",
        }
    }

    /// Whether the operator compares (`==`, `!=`, `>`, `<`, `>=`, `<=`).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eql
                | BinaryOp::Neq
                | BinaryOp::Gtr
                | BinaryOp::Lss
                | BinaryOp::Gte
                | BinaryOp::Lte
        )
    }

    /// Whether the operator is a set operator (`and`, `or`, `unless`).
    pub fn is_set_operator(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Unless)
    }

    /// Binding strength: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And | BinaryOp::Unless => 2,
            BinaryOp::Eql
            | BinaryOp::Neq
            | BinaryOp::Gtr
            | BinaryOp::Lss
            | BinaryOp::Gte
            | BinaryOp::Lte
            | BinaryOp::TrimUpper
            | BinaryOp::TrimLower => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::Atan2 => 5,
            BinaryOp::Pow => 6,
        }
    }

    /// Whether the operator groups to the right (only `^`).
    pub fn is_right_associative(self) -> bool {
        self == BinaryOp::Pow
    }
}

/// Cardinality of a vector match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cardinality {
    /// Default one-to-one matching.
    OneToOne,
    /// `group_left`
    ManyToOne,
    /// `group_right`
    OneToMany,
    /// Set operators.
    ManyToMany,
}

/// Values used for series without a match (experimental `fill` modifiers).
#[derive(Debug, Clone, Copy, Default)]
pub struct FillValues {
    /// Value used when the left-hand side has no match.
    pub lhs: Option<f64>,
    /// Value used when the right-hand side has no match.
    pub rhs: Option<f64>,
}

impl PartialEq for FillValues {
    fn eq(&self, other: &Self) -> bool {
        let same = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => same_float(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        same(self.lhs, other.lhs) && same(self.rhs, other.rhs)
    }
}

/// Float equality for tree comparison: identical bits, or both NaN.
fn same_float(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// How series of two vectors are matched.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorMatching {
    /// Match cardinality.
    pub card: Cardinality,
    /// Labels of the `on`/`ignoring` clause.
    pub matching_labels: Vec<String>,
    /// `on` rather than `ignoring`.
    pub on: bool,
    /// Extra labels of `group_left`/`group_right`.
    pub include: Vec<String>,
    /// `fill`, `fill_left`, `fill_right` values.
    pub fill: FillValues,
}

/// A binary operation.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryExpr {
    /// The operator.
    pub op: BinaryOp,
    /// Left operand.
    pub lhs: Box<Expr>,
    /// Right operand.
    pub rhs: Box<Expr>,
    /// `bool` modifier on a comparison.
    pub return_bool: bool,
    /// Vector matching; `None` when an operand is a scalar.
    pub matching: Option<VectorMatching>,
    /// Source position (left operand start to right operand end).
    pub span: Span,
}

/// Unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-`
    Neg,
    /// `+`
    Pos,
}

impl UnaryOp {
    /// Returns the operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Pos => "+",
        }
    }
}

/// A unary operation.
#[derive(Debug, Clone, PartialEq)]
pub struct UnaryExpr {
    /// The operator.
    pub op: UnaryOp,
    /// The operand.
    pub expr: Box<Expr>,
    /// Source position.
    pub span: Span,
}

/// A parenthesized expression.
#[derive(Debug, Clone, PartialEq)]
pub struct ParenExpr {
    /// The inner expression.
    pub expr: Box<Expr>,
    /// Source position, including the parentheses.
    pub span: Span,
}

/// A function call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The called function.
    pub func: &'static FunctionDef,
    /// The arguments.
    pub args: Vec<Expr>,
    /// Source position.
    pub span: Span,
}

/// Arithmetic operator of a duration expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DurationOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
}

impl DurationOp {
    /// Returns the operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            DurationOp::Add => "+",
            DurationOp::Sub => "-",
            DurationOp::Mul => "*",
            DurationOp::Div => "/",
            DurationOp::Mod => "%",
            DurationOp::Pow => "^",
        }
    }

    pub(crate) fn precedence(self) -> u8 {
        match self {
            DurationOp::Add | DurationOp::Sub => 4,
            DurationOp::Mul | DurationOp::Div | DurationOp::Mod => 5,
            DurationOp::Pow => 6,
        }
    }
}

/// A range, step or offset: a literal, or (experimental) arithmetic over durations.
/// All values are in seconds.
#[derive(Debug, Clone, PartialEq)]
pub enum DurationExpr {
    /// A number or duration literal.
    Number(NumberLiteral),
    /// `step()`: the query step.
    Step(Span),
    /// `range()`: the query range (end - start).
    Range(Span),
    /// Negation of a non-literal duration expression.
    Neg {
        /// The negated expression.
        expr: Box<DurationExpr>,
        /// Source position.
        span: Span,
    },
    /// Arithmetic.
    Binary {
        /// The operator.
        op: DurationOp,
        /// Left operand.
        lhs: Box<DurationExpr>,
        /// Right operand.
        rhs: Box<DurationExpr>,
        /// Source position.
        span: Span,
    },
    /// `min_of(a, b)`
    MinOf {
        /// First operand.
        lhs: Box<DurationExpr>,
        /// Second operand.
        rhs: Box<DurationExpr>,
        /// Source position.
        span: Span,
    },
    /// `max_of(a, b)`
    MaxOf {
        /// First operand.
        lhs: Box<DurationExpr>,
        /// Second operand.
        rhs: Box<DurationExpr>,
        /// Source position.
        span: Span,
    },
    /// A parenthesized duration expression.
    Paren {
        /// The inner expression.
        expr: Box<DurationExpr>,
        /// Source position.
        span: Span,
    },
}

impl DurationExpr {
    /// Returns the source span.
    pub fn span(&self) -> Span {
        match self {
            DurationExpr::Number(n) => n.span,
            DurationExpr::Step(span) | DurationExpr::Range(span) => *span,
            DurationExpr::Neg { span, .. }
            | DurationExpr::Binary { span, .. }
            | DurationExpr::MinOf { span, .. }
            | DurationExpr::MaxOf { span, .. }
            | DurationExpr::Paren { span, .. } => *span,
        }
    }

    /// Returns the value in seconds when the expression is a plain literal.
    pub fn as_literal(&self) -> Option<f64> {
        match self {
            DurationExpr::Number(n) => Some(n.value),
            _ => None,
        }
    }

    /// Whether evaluation needs the query's step or range.
    pub fn uses_query_params(&self) -> bool {
        match self {
            DurationExpr::Number(_) => false,
            DurationExpr::Step(_) | DurationExpr::Range(_) => true,
            DurationExpr::Neg { expr, .. } | DurationExpr::Paren { expr, .. } => {
                expr.uses_query_params()
            }
            DurationExpr::Binary { lhs, rhs, .. }
            | DurationExpr::MinOf { lhs, rhs, .. }
            | DurationExpr::MaxOf { lhs, rhs, .. } => {
                lhs.uses_query_params() || rhs.uses_query_params()
            }
        }
    }

    /// Computes the value in seconds, given the query step and range in seconds.
    pub fn evaluate(&self, step: f64, range: f64) -> f64 {
        match self {
            DurationExpr::Number(n) => n.value,
            DurationExpr::Step(_) => step,
            DurationExpr::Range(_) => range,
            DurationExpr::Neg { expr, .. } => -expr.evaluate(step, range),
            DurationExpr::Paren { expr, .. } => expr.evaluate(step, range),
            DurationExpr::MinOf { lhs, rhs, .. } => {
                lhs.evaluate(step, range).min(rhs.evaluate(step, range))
            }
            DurationExpr::MaxOf { lhs, rhs, .. } => {
                lhs.evaluate(step, range).max(rhs.evaluate(step, range))
            }
            DurationExpr::Binary { op, lhs, rhs, .. } => {
                let (a, b) = (lhs.evaluate(step, range), rhs.evaluate(step, range));
                match op {
                    DurationOp::Add => a + b,
                    DurationOp::Sub => a - b,
                    DurationOp::Mul => a * b,
                    DurationOp::Div => a / b,
                    DurationOp::Mod => a % b,
                    DurationOp::Pow => a.powf(b),
                }
            }
        }
    }

    fn clear_spans(&mut self) {
        match self {
            DurationExpr::Number(n) => n.span = Span::default(),
            DurationExpr::Step(span) | DurationExpr::Range(span) => *span = Span::default(),
            DurationExpr::Neg { expr, span } | DurationExpr::Paren { expr, span } => {
                *span = Span::default();
                expr.clear_spans();
            }
            DurationExpr::Binary { lhs, rhs, span, .. }
            | DurationExpr::MinOf { lhs, rhs, span }
            | DurationExpr::MaxOf { lhs, rhs, span } => {
                *span = Span::default();
                lhs.clear_spans();
                rhs.clear_spans();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(value: f64) -> DurationExpr {
        DurationExpr::Number(NumberLiteral {
            value,
            duration: true,
            span: Span::default(),
        })
    }

    #[test]
    fn evaluates_duration_expressions() {
        let e = DurationExpr::Binary {
            op: DurationOp::Add,
            lhs: Box::new(DurationExpr::Step(Span::default())),
            rhs: Box::new(DurationExpr::MinOf {
                lhs: Box::new(lit(60.0)),
                rhs: Box::new(DurationExpr::Range(Span::default())),
                span: Span::default(),
            }),
            span: Span::default(),
        };
        assert_eq!(e.evaluate(15.0, 30.0), 45.0);
        assert!(e.uses_query_params());
        assert_eq!(lit(5.0).as_literal(), Some(5.0));
    }

    #[test]
    fn walks_children_in_source_order() {
        let n = |value: f64| {
            Expr::Number(NumberLiteral {
                value,
                duration: false,
                span: Span::default(),
            })
        };
        let tree = Expr::Binary(BinaryExpr {
            op: BinaryOp::Add,
            lhs: Box::new(n(1.0)),
            rhs: Box::new(Expr::Paren(ParenExpr {
                expr: Box::new(n(2.0)),
                span: Span::default(),
            })),
            return_bool: false,
            matching: None,
            span: Span::default(),
        });
        let mut seen = Vec::new();
        tree.walk(&mut |e| seen.push(e.value_type()));
        assert_eq!(seen.len(), 4);
        let mut literals = Vec::new();
        tree.walk(&mut |e| {
            if let Expr::Number(lit) = e {
                literals.push(lit.value);
            }
        });
        assert_eq!(literals, [1.0, 2.0]);
    }

    #[test]
    fn value_type_names() {
        assert_eq!(ValueType::RangeVector.to_string(), "range vector");
        assert_eq!(ValueType::RangeVector.internal_name(), "matrix");
    }

    #[test]
    fn nan_literals_compare_equal() {
        let a = NumberLiteral {
            value: f64::NAN,
            duration: false,
            span: Span::default(),
        };
        assert_eq!(a, a.clone());
    }
}
