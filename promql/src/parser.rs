//! Recursive-descent parser for PromQL.
//!
//! Prometheus generates its parser with goyacc; this one is written by hand so it can carry
//! positions and typed nodes, but it follows the same grammar: operator precedence, the
//! postfix modifiers (`[…]`, `offset`, `@`, `anchored`, `smoothed`) binding tightest, and the
//! same error texts, including the `in <context>, expected …` suffixes that the yacc error
//! productions add. Only the first error is reported, as Prometheus does.

mod check;
mod literals;

pub use literals::parse_duration_ms;

use crate::ast::{
    AggregateExpr, AggregateOp, AtModifier, BinaryExpr, BinaryOp, Call, Cardinality, DurationExpr,
    DurationOp, Expr, FillValues, LabelMatcher, MatchOp, MatrixSelector, NumberLiteral, ParenExpr,
    Span, StringLiteral, SubqueryExpr, UnaryExpr, UnaryOp, VectorMatching, VectorSelector,
    function, with_stack,
};
use crate::lexer::{Token, TokenKind, tokenize};

/// Parser switches for experimental syntax, named after Prometheus' `parser.Options`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParserOptions {
    /// Allows experimental functions and the `limitk`/`limit_ratio` aggregations.
    pub enable_experimental_functions: bool,
    /// Allows duration arithmetic (`[5m * 2]`, `offset (1h + 5m)`, `step()`, `min_of`, …).
    pub experimental_duration_expr: bool,
    /// Allows the `anchored` and `smoothed` range modifiers.
    pub enable_extended_range_selectors: bool,
    /// Allows `fill`, `fill_left` and `fill_right` on binary operators.
    pub enable_binop_fill_modifiers: bool,
}

impl ParserOptions {
    /// Returns options with every experimental feature enabled.
    pub fn all_enabled() -> Self {
        ParserOptions {
            enable_experimental_functions: true,
            experimental_duration_expr: true,
            enable_extended_range_selectors: true,
            enable_binop_fill_modifiers: true,
        }
    }
}

/// A parse or type error, displayed as Prometheus does: `1:5: parse error: unexpected …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: parse error: {message}", self.location())]
pub struct ParseError {
    /// The message without the position prefix.
    pub message: String,
    /// Byte range the error refers to.
    pub position: Span,
    /// 1-based line of `position.start`; 0 when the query was empty.
    pub line: usize,
    /// 1-based byte column of `position.start` within its line.
    pub column: usize,
}

impl ParseError {
    fn new(input: &str, position: Span, message: String) -> Self {
        if input.is_empty() {
            return ParseError {
                message,
                position,
                line: 0,
                column: 0,
            };
        }
        let start = position.start.min(input.len());
        let before = &input.as_bytes()[..start];
        let line = 1 + before.iter().filter(|b| **b == b'\n').count();
        let column = match before.iter().rposition(|b| *b == b'\n') {
            Some(i) => start - i,
            None => start + 1,
        };
        ParseError {
            message,
            position,
            line,
            column,
        }
    }

    fn location(&self) -> String {
        if self.line == 0 {
            "unknown position".to_string()
        } else {
            format!("{}:{}", self.line, self.column)
        }
    }
}

/// Parses a PromQL expression with the default (non-experimental) options.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    parse_with(input, &ParserOptions::default())
}

/// Parses and type-checks a PromQL expression.
pub fn parse_with(input: &str, options: &ParserOptions) -> Result<Expr, ParseError> {
    let mut parser = Parser::new(input, options);
    match parser.parse_top() {
        Ok(mut expr) => match check::check(input, &mut expr) {
            Ok(()) => Ok(expr),
            Err((span, message)) => Err(ParseError::new(input, span, message)),
        },
        Err(Stop) => Err(parser.into_error()),
    }
}

/// Parses a series selector such as `up{job="api"}` (the `match[]` parameter of the HTTP API)
/// into its matchers; a name before the braces becomes the last `__name__` matcher.
/// Like Prometheus, it does not require a non-empty matcher.
pub fn parse_metric_selector(input: &str) -> Result<Vec<LabelMatcher>, ParseError> {
    let options = ParserOptions::default();
    let mut parser = Parser::new(input, &options);
    match parser.parse_selector_top() {
        Ok(matchers) => Ok(matchers),
        Err(Stop) => Err(parser.into_error()),
    }
}

/// Marker returned once an error has been recorded; parsing stops at the first error.
struct Stop;

type PResult<T> = Result<T, Stop>;

/// Error production that is active while a construct is being parsed; it decides the
/// "in …, expected …" suffix of an "unexpected token" error.
#[derive(Debug, Clone, Copy)]
enum Context {
    Aggregation,
    Offset,
    At,
    RangeStart,
    StepStart,
    /// Only reported directly, never pushed: it applies once the step is complete.
    StepEnd,
    /// Only reported directly, like `StepEnd`.
    RangeEnd,
}

impl Context {
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            Context::Aggregation => ("aggregation", ""),
            Context::Offset => ("offset", "number, duration, step(), or range()"),
            Context::At => ("@", "timestamp"),
            Context::RangeStart => (
                "subquery or range selector",
                "number, duration, step(), or range()",
            ),
            Context::RangeEnd => ("subquery or range", "\":\" or \"]\""),
            Context::StepStart => (
                "subquery selector",
                "number, duration, step(), range(), or \"]\"",
            ),
            Context::StepEnd => ("subquery selector", "\"]\""),
        }
    }
}

/// Deepest tree the parser builds. The parser, checker and printer recurse over the tree, so
/// the limit keeps hostile queries from exhausting the stack; real queries stay far below it.
const MAX_DEPTH: usize = 256;

/// Largest duration literal (in seconds) that fits Go's `time.Duration`.
const MAX_DURATION_SECS: f64 = 9_223_372_036_854_775_808.0 / 1e9;

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    options: &'a ParserOptions,
    contexts: Vec<Context>,
    error: Option<ParseError>,
    /// End offset of the last consumed token.
    prev_end: usize,
    /// Current nesting depth, counting every level of the tree being built.
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str, options: &'a ParserOptions) -> Self {
        let tokens = tokenize(input)
            .into_iter()
            .filter(|t| t.kind != TokenKind::Comment)
            .collect();
        Parser {
            input,
            tokens,
            pos: 0,
            options,
            contexts: Vec::new(),
            error: None,
            prev_end: 0,
            depth: 0,
        }
    }

    fn into_error(self) -> ParseError {
        let input = self.input;
        self.error
            .unwrap_or_else(|| ParseError::new(input, Span::default(), "unexpected error".into()))
    }

    // ---- token helpers -------------------------------------------------------------------

    fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_kind(&self) -> TokenKind {
        self.peek().kind
    }

    fn peek_nth_kind(&self, n: usize) -> TokenKind {
        self.tokens[(self.pos + n).min(self.tokens.len() - 1)].kind
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        self.prev_end = token.start + token.text.len();
        token
    }

    fn fail(&mut self, span: Span, message: impl Into<String>) -> Stop {
        if self.error.is_none() {
            self.error = Some(ParseError::new(self.input, span, message.into()));
        }
        Stop
    }

    /// Reports the current token as unexpected, with an explicit context.
    fn unexpected_in(&mut self, context: &str, expected: &str) -> Stop {
        let token = self.peek().clone();
        if token.kind == TokenKind::Error {
            // Lexer errors are reported as they are, spanning to the end of input.
            return self.fail(Span::new(token.start, self.input.len()), token.text);
        }
        let mut message = format!("unexpected {}", token.describe());
        if !context.is_empty() {
            message.push_str(" in ");
            message.push_str(context);
        }
        if !expected.is_empty() {
            message.push_str(", expected ");
            message.push_str(expected);
        }
        self.fail(token.span(), message)
    }

    /// Reports the current token as unexpected within the innermost error context.
    fn unexpected(&mut self) -> Stop {
        let (context, expected) = self.contexts.last().map_or(("", ""), |c| c.describe());
        self.unexpected_in(context, expected)
    }

    fn expect(&mut self, kind: TokenKind) -> PResult<Token> {
        if self.peek_kind() == kind {
            Ok(self.advance())
        } else {
            Err(self.unexpected())
        }
    }

    fn with_context<T>(
        &mut self,
        context: Context,
        f: impl FnOnce(&mut Self) -> PResult<T>,
    ) -> PResult<T> {
        self.contexts.push(context);
        let result = f(self);
        self.contexts.pop();
        result
    }

    // ---- expressions ---------------------------------------------------------------------

    fn parse_selector_top(&mut self) -> PResult<Vec<LabelMatcher>> {
        let name = match self.peek_kind() {
            TokenKind::LeftBrace => None,
            kind if is_metric_identifier(kind) => Some(self.advance()),
            _ => return Err(self.unexpected()),
        };
        let selector = self.parse_vector_selector(name)?;
        if self.peek_kind() != TokenKind::Eof {
            return Err(self.unexpected());
        }
        Ok(selector.matchers)
    }

    fn parse_top(&mut self) -> PResult<Expr> {
        if self.peek_kind() == TokenKind::Eof {
            return Err(self.fail(Span::default(), "no expression found in input"));
        }
        let expr = self.parse_expr(0)?;
        if self.peek_kind() != TokenKind::Eof {
            return Err(self.unexpected());
        }
        Ok(expr)
    }

    /// Enters one more tree level, failing past [`MAX_DEPTH`].
    fn deeper(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.peek().span();
            return Err(self.fail(
                span,
                format!("expression nesting is deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn parse_expr(&mut self, min_precedence: u8) -> PResult<Expr> {
        with_stack(|| self.parse_expr_levels(min_precedence))
    }

    fn parse_expr_levels(&mut self, min_precedence: u8) -> PResult<Expr> {
        let entry_depth = self.depth;
        self.deeper()?;
        let mut lhs = self.parse_unary()?;
        while let Some(op) = binary_op(self.peek_kind()) {
            let precedence = op.precedence();
            if precedence < min_precedence {
                break;
            }
            // Each operator of a chain adds a level to the (left-deep) tree.
            self.deeper()?;
            self.advance();
            let (return_bool, matching) = self.parse_bin_modifiers()?;
            let next = if op.is_right_associative() {
                precedence
            } else {
                precedence + 1
            };
            let rhs = self.parse_expr(next)?;
            let span = lhs.span().to(rhs.span());
            if !self.options.enable_binop_fill_modifiers
                && (matching.fill.lhs.is_some() || matching.fill.rhs.is_some())
            {
                return Err(self.fail(
                    span,
                    "binop fill modifiers are experimental and not enabled",
                ));
            }
            lhs = Expr::Binary(BinaryExpr {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                return_bool,
                matching: Some(matching),
                span,
            });
        }
        self.depth = entry_depth;
        Ok(lhs)
    }

    fn parse_unary(&mut self) -> PResult<Expr> {
        let op = match self.peek_kind() {
            TokenKind::Sub => UnaryOp::Neg,
            TokenKind::Add => UnaryOp::Pos,
            _ => {
                let primary = self.parse_primary()?;
                return self.parse_postfix(primary);
            }
        };
        let op_token = self.advance();
        // Unary operators bind like `*`: only `^` and the postfix modifiers bind tighter.
        let operand = self.parse_expr(BinaryOp::Pow.precedence())?;
        let span = Span::new(op_token.start, operand.span().end);
        Ok(match operand {
            Expr::Number(mut n) => {
                if op == UnaryOp::Neg {
                    n.value = -n.value;
                }
                n.span = span;
                Expr::Number(n)
            }
            operand => Expr::Unary(UnaryExpr {
                op,
                expr: Box::new(operand),
                span,
            }),
        })
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        use TokenKind as K;
        let kind = self.peek_kind();
        let next = self.peek_nth_kind(1);
        match kind {
            K::Number | K::Duration => {
                let token = self.advance();
                self.number_literal(&token).map(Expr::Number)
            }
            K::String => {
                let token = self.advance();
                self.string_literal(&token).map(Expr::String)
            }
            K::LeftParen => {
                let open = self.advance();
                let inner = self.parse_expr(0)?;
                let close = self.expect(K::RightParen)?;
                Ok(Expr::Paren(ParenExpr {
                    expr: Box::new(inner),
                    span: open.span().to(close.span()),
                }))
            }
            K::LeftBrace => self.parse_vector_selector(None).map(Expr::VectorSelector),
            K::Identifier if next == K::LeftParen => self.parse_call(),
            K::Start | K::End | K::Step | K::Range | K::MaxOf | K::MinOf
                if next == K::LeftParen =>
            {
                self.parse_call()
            }
            k if k.is_aggregator() && matches!(next, K::LeftParen | K::By | K::Without) => {
                self.parse_aggregate()
            }
            k if is_metric_identifier(k) => {
                let token = self.advance();
                self.parse_vector_selector(Some(token))
                    .map(Expr::VectorSelector)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn number_literal(&mut self, token: &Token) -> PResult<NumberLiteral> {
        let duration = token.kind == TokenKind::Duration;
        let value = if duration {
            literals::parse_duration(&token.text)
        } else {
            literals::parse_number(&token.text).map_err(|e| format!("error parsing number: {e}"))
        };
        match value {
            Ok(value) => Ok(NumberLiteral {
                value,
                duration,
                span: token.span(),
            }),
            Err(message) => Err(self.fail(token.span(), message)),
        }
    }

    fn string_literal(&mut self, token: &Token) -> PResult<StringLiteral> {
        let unquoted = self.unquote(token)?;
        Ok(StringLiteral {
            value: unquoted.text,
            non_utf8: unquoted.non_utf8,
            span: token.span(),
        })
    }

    fn unquote(&mut self, token: &Token) -> PResult<literals::Unquoted> {
        literals::unquote(&token.text).map_err(|e| {
            let message = format!(
                "error unquoting string {}: {e}",
                crate::lexer::go_quote(&token.text)
            );
            self.fail(token.span(), message)
        })
    }

    // ---- binary operator modifiers --------------------------------------------------------

    fn parse_bin_modifiers(&mut self) -> PResult<(bool, VectorMatching)> {
        use TokenKind as K;
        let mut matching = VectorMatching {
            card: Cardinality::OneToOne,
            matching_labels: Vec::new(),
            on: false,
            include: Vec::new(),
            fill: FillValues::default(),
        };
        let return_bool = self.peek_kind() == K::Bool;
        if return_bool {
            self.advance();
        }
        if matches!(self.peek_kind(), K::On | K::Ignoring) {
            matching.on = self.advance().kind == K::On;
            matching.matching_labels = self.parse_grouping_labels()?;
            if matches!(self.peek_kind(), K::GroupLeft | K::GroupRight) {
                let left = self.advance().kind == K::GroupLeft;
                matching.card = if left {
                    Cardinality::ManyToOne
                } else {
                    Cardinality::OneToMany
                };
                if self.peek_kind() == K::LeftParen {
                    matching.include = self.parse_grouping_labels()?;
                }
            }
        }
        match self.peek_kind() {
            K::Fill => {
                self.advance();
                let value = self.parse_fill_value()?;
                matching.fill = FillValues {
                    lhs: Some(value),
                    rhs: Some(value),
                };
            }
            K::FillLeft => {
                self.advance();
                matching.fill.lhs = Some(self.parse_fill_value()?);
                if self.peek_kind() == K::FillRight {
                    self.advance();
                    matching.fill.rhs = Some(self.parse_fill_value()?);
                }
            }
            K::FillRight => {
                self.advance();
                matching.fill.rhs = Some(self.parse_fill_value()?);
                if self.peek_kind() == K::FillLeft {
                    self.advance();
                    matching.fill.lhs = Some(self.parse_fill_value()?);
                }
            }
            _ => {}
        }
        Ok((return_bool, matching))
    }

    fn parse_fill_value(&mut self) -> PResult<f64> {
        use TokenKind as K;
        self.expect(K::LeftParen)?;
        let negate = match self.peek_kind() {
            K::Sub => {
                self.advance();
                true
            }
            K::Add => {
                self.advance();
                false
            }
            _ => false,
        };
        if !matches!(self.peek_kind(), K::Number | K::Duration) {
            return Err(self.unexpected());
        }
        let token = self.advance();
        let value = self.number_literal(&token)?.value;
        self.expect(K::RightParen)?;
        Ok(if negate { -value } else { value })
    }

    /// Parses `( label, … )` after `by`, `without`, `on`, `ignoring`, `group_left`/`group_right`.
    fn parse_grouping_labels(&mut self) -> PResult<Vec<String>> {
        use TokenKind as K;
        if self.peek_kind() != K::LeftParen {
            return Err(self.unexpected_in("grouping opts", "\"(\""));
        }
        self.advance();
        let mut labels = Vec::new();
        if self.peek_kind() == K::RightParen {
            self.advance();
            return Ok(labels);
        }
        loop {
            labels.push(self.parse_grouping_label()?);
            match self.peek_kind() {
                K::RightParen => {
                    self.advance();
                    return Ok(labels);
                }
                K::Comma => {
                    self.advance();
                    if self.peek_kind() == K::RightParen {
                        self.advance();
                        return Ok(labels);
                    }
                }
                _ => return Err(self.unexpected_in("grouping opts", "\",\" or \")\"")),
            }
        }
    }

    fn parse_grouping_label(&mut self) -> PResult<String> {
        let kind = self.peek_kind();
        if kind == TokenKind::String {
            let token = self.advance();
            let label = self.unquote(&token)?;
            if label.text.is_empty() || label.non_utf8.is_some() {
                let message = format!(
                    "invalid label name for grouping: {}",
                    crate::lexer::go_quote(&label.text)
                );
                return Err(self.fail(token.span(), message));
            }
            return Ok(label.text);
        }
        if is_maybe_label(kind) {
            return Ok(self.advance().text);
        }
        Err(self.unexpected_in("grouping opts", "label"))
    }

    // ---- function calls and aggregations --------------------------------------------------

    fn parse_call(&mut self) -> PResult<Expr> {
        let name = self.advance();
        let (args, close) = self.parse_call_body()?;
        let Some(func) = function(&name.text) else {
            let message = format!(
                "unknown function with name {}",
                crate::lexer::go_quote(&name.text)
            );
            return Err(self.fail(name.span(), message));
        };
        if func.experimental && !self.options.enable_experimental_functions {
            let message = format!(
                "function {} is not enabled",
                crate::lexer::go_quote(&name.text)
            );
            return Err(self.fail(name.span(), message));
        }
        Ok(Expr::Call(Call {
            func,
            args,
            span: name.span().to(close),
        }))
    }

    /// Parses `( arg, … )`, returning the arguments and the span of the closing parenthesis.
    fn parse_call_body(&mut self) -> PResult<(Vec<Expr>, Span)> {
        use TokenKind as K;
        self.expect(K::LeftParen)?;
        let mut args = Vec::new();
        if self.peek_kind() == K::RightParen {
            return Ok((args, self.advance().span()));
        }
        loop {
            args.push(self.parse_expr(0)?);
            match self.peek_kind() {
                K::RightParen => return Ok((args, self.advance().span())),
                K::Comma => {
                    let comma = self.advance();
                    if self.peek_kind() == K::RightParen {
                        return Err(self.fail(
                            comma.span(),
                            "trailing commas not allowed in function call args",
                        ));
                    }
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn parse_aggregate(&mut self) -> PResult<Expr> {
        let op_token = self.advance();
        self.with_context(Context::Aggregation, |p| p.parse_aggregate_rest(op_token))
    }

    fn parse_aggregate_rest(&mut self, op_token: Token) -> PResult<Expr> {
        use TokenKind as K;
        let op = aggregate_op(op_token.kind).ok_or_else(|| self.unexpected())?;
        let mut grouping = None;
        if matches!(self.peek_kind(), K::By | K::Without) {
            let without = self.advance().kind == K::Without;
            grouping = Some((without, self.parse_grouping_labels()?));
        }
        let (args, close) = self.parse_call_body()?;
        let mut end = close.end;
        if grouping.is_none() && matches!(self.peek_kind(), K::By | K::Without) {
            let without = self.advance().kind == K::Without;
            grouping = Some((without, self.parse_grouping_labels()?));
            end = self.prev_end;
        }
        let span = Span::new(op_token.start, end);
        let (without, grouping) = grouping.unwrap_or((false, Vec::new()));
        if args.is_empty() {
            return Err(self.fail(span, "no arguments for aggregate expression provided"));
        }
        let mut args = args.into_iter();
        let param = if op.has_param() {
            if op.is_experimental() && !self.options.enable_experimental_functions {
                let message = format!(
                    "{}() is experimental and must be enabled with --enable-feature=promql-experimental-functions",
                    op_token.text
                );
                return Err(self.fail(span, message));
            }
            args.next().map(Box::new)
        } else {
            None
        };
        let desired = if op.has_param() { 2 } else { 1 };
        let given = args.len() + usize::from(param.is_some());
        let Some(expr) = args.next().filter(|_| given == desired) else {
            let message = format!(
                "wrong number of arguments for aggregate expression provided, expected {desired}, got {given}"
            );
            return Err(self.fail(span, message));
        };
        Ok(Expr::Aggregate(AggregateExpr {
            op,
            expr: Box::new(expr),
            param,
            grouping,
            without,
            span,
        }))
    }

    // ---- selectors ----------------------------------------------------------------------

    fn parse_vector_selector(&mut self, name: Option<Token>) -> PResult<VectorSelector> {
        let mut matchers = Vec::new();
        let mut span = name.as_ref().map(Token::span);
        if self.peek_kind() == TokenKind::LeftBrace {
            let open = self.advance();
            matchers = self.parse_label_matchers()?;
            let whole = Span::new(open.start, self.prev_end);
            span = Some(span.map_or(whole, |s| s.to(whole)));
        }
        let name = name.map(|t| t.text);
        if let Some(name) = &name {
            matchers.push(LabelMatcher {
                name: "__name__".into(),
                op: MatchOp::Equal,
                value: name.clone(),
            });
        }
        Ok(VectorSelector {
            name,
            matchers,
            offset: None,
            at: None,
            anchored: false,
            smoothed: false,
            span: span.unwrap_or_default(),
        })
    }

    /// Parses the matchers after `{`, up to and including `}`.
    fn parse_label_matchers(&mut self) -> PResult<Vec<LabelMatcher>> {
        use TokenKind as K;
        let mut matchers = Vec::new();
        if self.peek_kind() == K::RightBrace {
            self.advance();
            return Ok(matchers);
        }
        loop {
            matchers.push(self.parse_label_matcher()?);
            match self.peek_kind() {
                K::RightBrace => {
                    self.advance();
                    return Ok(matchers);
                }
                K::Comma => {
                    self.advance();
                    if self.peek_kind() == K::RightBrace {
                        self.advance();
                        return Ok(matchers);
                    }
                }
                _ => return Err(self.unexpected_in("label matching", "\",\" or \"}\"")),
            }
        }
    }

    fn parse_label_matcher(&mut self) -> PResult<LabelMatcher> {
        use TokenKind as K;
        let label = match self.peek_kind() {
            K::Identifier => self.advance(),
            K::String => self.advance(),
            _ => return Err(self.unexpected_in("label matching", "identifier or \"}\"")),
        };
        let quoted = label.kind == K::String;
        let name = if quoted {
            self.unquote(&label)?.text
        } else {
            label.text.clone()
        };
        let op = match self.peek_kind() {
            K::Assign => MatchOp::Equal,
            K::Neq => MatchOp::NotEqual,
            K::EqlRegex => MatchOp::Regex,
            K::NeqRegex => MatchOp::NotRegex,
            _ if quoted => {
                // A lone quoted string is the metric name: `{"my.metric"}`.
                return Ok(LabelMatcher {
                    name: "__name__".into(),
                    op: MatchOp::Equal,
                    value: name,
                });
            }
            _ => return Err(self.unexpected_in("label matching", "label matching operator")),
        };
        self.advance();
        if self.peek_kind() != K::String {
            return Err(self.unexpected_in("label matching", "string"));
        }
        let value_token = self.advance();
        let value = self.unquote(&value_token)?.text;
        if matches!(op, MatchOp::Regex | MatchOp::NotRegex)
            && let Err(message) = check::compile_anchored(&value)
        {
            return Err(self.fail(label.span().to(value_token.span()), message));
        }
        Ok(LabelMatcher { name, op, value })
    }

    // ---- postfix modifiers ----------------------------------------------------------------

    fn parse_postfix(&mut self, mut expr: Expr) -> PResult<Expr> {
        use TokenKind as K;
        loop {
            expr = match self.peek_kind() {
                K::LeftBracket => self.parse_range_or_subquery(expr)?,
                K::Offset => {
                    self.advance();
                    let offset = self.with_context(Context::Offset, Self::parse_offset_value)?;
                    self.apply_offset(expr, offset)?
                }
                K::At => {
                    self.advance();
                    let at = self.with_context(Context::At, Self::parse_at_value)?;
                    self.apply_at(expr, at)?
                }
                K::Anchored => {
                    self.advance();
                    self.apply_extended(expr, true)?
                }
                K::Smoothed => {
                    self.advance();
                    self.apply_extended(expr, false)?
                }
                _ => return Ok(expr),
            };
        }
    }

    fn parse_range_or_subquery(&mut self, expr: Expr) -> PResult<Expr> {
        use TokenKind as K;
        let open = self.advance();
        let range = self.with_context(Context::RangeStart, |p| p.parse_duration_expr(0))?;
        let range = self.positive_duration(range)?;
        match self.peek_kind() {
            K::RightBracket => {
                let close = self.advance();
                self.make_matrix(expr, range, open.span().to(close.span()))
            }
            K::Colon => {
                self.advance();
                let step = if self.peek_kind() == K::RightBracket {
                    None
                } else {
                    let step =
                        self.with_context(Context::StepStart, |p| p.parse_duration_expr(0))?;
                    Some(self.positive_duration(step)?)
                };
                if self.peek_kind() != K::RightBracket {
                    let (context, expected) = Context::StepEnd.describe();
                    return Err(self.unexpected_in(context, expected));
                }
                let close = self.advance();
                let span = expr.span().to(close.span());
                Ok(Expr::Subquery(SubqueryExpr {
                    expr: Box::new(expr),
                    range,
                    step,
                    offset: None,
                    at: None,
                    span,
                }))
            }
            _ => {
                let (context, expected) = Context::RangeEnd.describe();
                Err(self.unexpected_in(context, expected))
            }
        }
    }

    fn make_matrix(&mut self, expr: Expr, range: DurationExpr, brackets: Span) -> PResult<Expr> {
        let Expr::VectorSelector(selector) = expr else {
            return Err(self.fail(brackets, "ranges only allowed for vector selectors"));
        };
        if selector.offset.is_some() {
            return Err(self.fail(brackets, "no offset modifiers allowed before range"));
        }
        if selector.at.is_some() {
            return Err(self.fail(brackets, "no @ modifiers allowed before range"));
        }
        let span = selector.span.to(brackets);
        Ok(Expr::MatrixSelector(MatrixSelector {
            selector,
            range,
            span,
        }))
    }

    /// Rejects non-positive literal ranges and steps; marks literals for duration printing.
    fn positive_duration(&mut self, expr: DurationExpr) -> PResult<DurationExpr> {
        match expr {
            DurationExpr::Number(mut n) => {
                if n.value <= 0.0 || n.value.is_nan() {
                    return Err(self.fail(n.span, "duration must be greater than 0"));
                }
                n.duration = true;
                Ok(DurationExpr::Number(n))
            }
            other => Ok(other),
        }
    }

    fn apply_offset(&mut self, mut expr: Expr, offset: Option<DurationExpr>) -> PResult<Expr> {
        let end = self.prev_end;
        let span = expr.span();
        let (slot, expr_span) = match &mut expr {
            Expr::VectorSelector(vs) => (&mut vs.offset, &mut vs.span),
            Expr::MatrixSelector(ms) => (&mut ms.selector.offset, &mut ms.span),
            Expr::Subquery(sq) => (&mut sq.offset, &mut sq.span),
            _ => {
                return Err(self.fail(
                    span,
                    "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                ));
            }
        };
        if slot.is_some() {
            return Err(self.fail(span, "offset may not be set multiple times"));
        }
        *slot = offset;
        expr_span.end = end;
        Ok(expr)
    }

    /// Parses what follows `offset`; a literal zero yields `None`, as Prometheus drops it.
    fn parse_offset_value(&mut self) -> PResult<Option<DurationExpr>> {
        use TokenKind as K;
        let start = self.peek().start;
        let value = match self.peek_kind() {
            K::Number | K::Duration => {
                let token = self.advance();
                let n = self.number_literal(&token)?;
                self.duration_literal(n, token.span())?
            }
            K::Add | K::Sub => {
                let negate = self.peek_kind() == K::Sub;
                match self.peek_nth_kind(1) {
                    K::Number | K::Duration => {
                        let op = self.advance();
                        let token = self.advance();
                        let mut n = self.number_literal(&token)?;
                        if negate {
                            n.value = -n.value;
                        }
                        n.span.start = op.start;
                        self.duration_literal(n, op.span())?
                    }
                    K::Step | K::Range | K::MinOf | K::MaxOf => {
                        self.advance();
                        // Prometheus checks the signed form as a whole: the error points at the sign.
                        let inner = self.parse_duration_atom(false)?;
                        let span = Span::new(start, inner.span().end);
                        self.experimental_duration(span)?;
                        if negate {
                            DurationExpr::Neg {
                                expr: Box::new(inner),
                                span,
                            }
                        } else {
                            inner
                        }
                    }
                    K::LeftParen => {
                        self.advance();
                        let open = self.advance();
                        let inner = self.parse_duration_expr(0)?;
                        let close = self.expect(K::RightParen)?;
                        let paren = DurationExpr::Paren {
                            expr: Box::new(inner),
                            span: open.span().to(close.span()),
                        };
                        if negate {
                            DurationExpr::Neg {
                                expr: Box::new(paren),
                                span: Span::new(start, close.span().end),
                            }
                        } else {
                            paren
                        }
                    }
                    _ => self.parse_duration_expr(0)?,
                }
            }
            K::Step | K::Range | K::MinOf | K::MaxOf => self.parse_duration_atom(true)?,
            K::LeftParen => {
                // After a parenthesized operand the duration arithmetic continues (`offset (1m) + 5s`).
                let first = self.parse_duration_atom(true)?;
                self.parse_duration_binary(first, 0)?
            }
            _ => return Err(self.unexpected()),
        };
        Ok(match value {
            DurationExpr::Number(n) if n.value == 0.0 => None,
            DurationExpr::Number(mut n) => {
                n.duration = true;
                Some(DurationExpr::Number(n))
            }
            other => Some(other),
        })
    }

    fn duration_literal(&mut self, n: NumberLiteral, error_span: Span) -> PResult<DurationExpr> {
        if n.value > MAX_DURATION_SECS || n.value < -MAX_DURATION_SECS {
            return Err(self.fail(error_span, "duration out of range"));
        }
        Ok(DurationExpr::Number(n))
    }

    fn experimental_duration(&mut self, span: Span) -> PResult<()> {
        if self.options.experimental_duration_expr {
            Ok(())
        } else {
            Err(self.fail(span, "experimental duration expression is not enabled"))
        }
    }

    /// Parses a duration expression (inside brackets, or after `offset`).
    fn parse_duration_expr(&mut self, min_precedence: u8) -> PResult<DurationExpr> {
        with_stack(|| self.parse_duration_levels(min_precedence))
    }

    fn parse_duration_levels(&mut self, min_precedence: u8) -> PResult<DurationExpr> {
        let entry_depth = self.depth;
        self.deeper()?;
        let lhs = self.parse_duration_unary()?;
        let expr = self.parse_duration_binary(lhs, min_precedence)?;
        self.depth = entry_depth;
        Ok(expr)
    }

    fn parse_duration_binary(
        &mut self,
        mut lhs: DurationExpr,
        min_precedence: u8,
    ) -> PResult<DurationExpr> {
        let entry_depth = self.depth;
        loop {
            let op = match self.peek_kind() {
                TokenKind::Add => DurationOp::Add,
                TokenKind::Sub => DurationOp::Sub,
                TokenKind::Mul => DurationOp::Mul,
                TokenKind::Div => DurationOp::Div,
                TokenKind::Mod => DurationOp::Mod,
                TokenKind::Pow => DurationOp::Pow,
                _ => break,
            };
            let precedence = op.precedence();
            if precedence < min_precedence {
                break;
            }
            self.deeper()?;
            let op_token = self.advance();
            let next = if op == DurationOp::Pow {
                precedence
            } else {
                precedence + 1
            };
            let rhs = self.parse_duration_expr(next)?;
            self.experimental_duration(lhs.span())?;
            if let DurationExpr::Number(n) = &rhs
                && n.value == 0.0
            {
                match op {
                    DurationOp::Div => return Err(self.fail(op_token.span(), "division by zero")),
                    DurationOp::Mod => return Err(self.fail(op_token.span(), "modulo by zero")),
                    _ => {}
                }
            }
            let span = lhs.span().to(rhs.span());
            lhs = DurationExpr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                span,
            };
        }
        self.depth = entry_depth;
        Ok(lhs)
    }

    fn parse_duration_unary(&mut self) -> PResult<DurationExpr> {
        let negate = match self.peek_kind() {
            TokenKind::Sub => true,
            TokenKind::Add => false,
            _ => return self.parse_duration_atom(true),
        };
        let op = self.advance();
        let operand = self.parse_duration_expr(DurationOp::Pow.precedence())?;
        match operand {
            DurationExpr::Number(mut n) => {
                if negate {
                    n.value = -n.value;
                }
                n.span.start = op.start;
                self.duration_literal(n, op.span())
            }
            other if negate => {
                let span = Span::new(op.start, other.span().end);
                Ok(DurationExpr::Neg {
                    expr: Box::new(other),
                    span,
                })
            }
            other => Ok(other),
        }
    }

    /// Parses a literal, `step()`, `range()`, `min_of`/`max_of` or a parenthesized expression;
    /// `gate` applies the experimental-feature check to the atom itself.
    fn parse_duration_atom(&mut self, gate: bool) -> PResult<DurationExpr> {
        use TokenKind as K;
        match self.peek_kind() {
            K::Number | K::Duration => {
                let token = self.advance();
                let n = self.number_literal(&token)?;
                self.duration_literal(n, token.span())
            }
            K::Step | K::Range => {
                let keyword = self.advance();
                self.expect(K::LeftParen)?;
                let close = self.expect(K::RightParen)?;
                let span = keyword.span().to(close.span());
                if gate {
                    self.experimental_duration(span)?;
                }
                Ok(if keyword.kind == K::Step {
                    DurationExpr::Step(span)
                } else {
                    DurationExpr::Range(span)
                })
            }
            K::MinOf | K::MaxOf => {
                let keyword = self.advance();
                self.expect(K::LeftParen)?;
                let lhs = self.parse_duration_expr(0)?;
                self.expect(K::Comma)?;
                let rhs = self.parse_duration_expr(0)?;
                let close = self.expect(K::RightParen)?;
                let span = keyword.span().to(close.span());
                if gate {
                    self.experimental_duration(span)?;
                }
                let (lhs, rhs) = (Box::new(lhs), Box::new(rhs));
                Ok(if keyword.kind == K::MinOf {
                    DurationExpr::MinOf { lhs, rhs, span }
                } else {
                    DurationExpr::MaxOf { lhs, rhs, span }
                })
            }
            K::LeftParen => {
                let open = self.advance();
                let inner = self.parse_duration_expr(0)?;
                let close = self.expect(K::RightParen)?;
                self.experimental_duration(inner.span())?;
                Ok(DurationExpr::Paren {
                    expr: Box::new(inner),
                    span: open.span().to(close.span()),
                })
            }
            _ => Err(self.unexpected()),
        }
    }

    fn parse_at_value(&mut self) -> PResult<AtValue> {
        use TokenKind as K;
        match self.peek_kind() {
            K::Start | K::End => {
                let keyword = self.advance();
                self.expect(K::LeftParen)?;
                self.expect(K::RightParen)?;
                Ok(AtValue::Modifier(if keyword.kind == K::Start {
                    AtModifier::Start
                } else {
                    AtModifier::End
                }))
            }
            K::Add | K::Sub if matches!(self.peek_nth_kind(1), K::Number | K::Duration) => {
                let negate = self.advance().kind == K::Sub;
                let token = self.advance();
                let value = self.number_literal(&token)?.value;
                Ok(AtValue::Seconds(if negate { -value } else { value }))
            }
            K::Number | K::Duration => {
                let token = self.advance();
                Ok(AtValue::Seconds(self.number_literal(&token)?.value))
            }
            _ => Err(self.unexpected()),
        }
    }

    fn apply_at(&mut self, mut expr: Expr, at: AtValue) -> PResult<Expr> {
        let span = expr.span();
        let end = self.prev_end;
        let modifier = match at {
            AtValue::Modifier(m) => m,
            AtValue::Seconds(ts) => {
                if !ts.is_finite() || ts >= i64::MAX as f64 || ts <= i64::MIN as f64 {
                    let shown = if ts.is_nan() {
                        "NaN".to_string()
                    } else if ts.is_infinite() {
                        if ts > 0.0 {
                            "+Inf".into()
                        } else {
                            "-Inf".into()
                        }
                    } else {
                        format!("{ts:.6}")
                    };
                    return Err(self.fail(
                        span,
                        format!("timestamp out of bounds for @ modifier: {shown}"),
                    ));
                }
                AtModifier::Timestamp((ts * 1000.0).round() as i64)
            }
        };
        let (slot, expr_span) = match &mut expr {
            Expr::VectorSelector(vs) => (&mut vs.at, &mut vs.span),
            Expr::MatrixSelector(ms) => (&mut ms.selector.at, &mut ms.span),
            Expr::Subquery(sq) => (&mut sq.at, &mut sq.span),
            _ => {
                return Err(self.fail(
                    span,
                    "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                ));
            }
        };
        if slot.is_some() {
            return Err(self.fail(span, "@ <timestamp> may not be set multiple times"));
        }
        *slot = Some(modifier);
        expr_span.end = end;
        Ok(expr)
    }

    fn apply_extended(&mut self, mut expr: Expr, anchored: bool) -> PResult<Expr> {
        let name = if anchored { "anchored" } else { "smoothed" };
        let span = expr.span();
        if !self.options.enable_extended_range_selectors {
            return Err(self.fail(
                span,
                format!("{name} modifier is experimental and not enabled"),
            ));
        }
        let selector = match &mut expr {
            Expr::VectorSelector(vs) => vs,
            Expr::MatrixSelector(ms) => &mut ms.selector,
            Expr::Subquery(_) => {
                return Err(self.fail(
                    span,
                    format!("{name} modifier is not supported for subqueries"),
                ));
            }
            _ => return Err(self.fail(span, format!("{name} modifier not implemented"))),
        };
        if anchored {
            selector.anchored = true;
        } else {
            selector.smoothed = true;
        }
        if selector.anchored && selector.smoothed {
            return Err(self.fail(
                span,
                "anchored and smoothed modifiers cannot be used together",
            ));
        }
        Ok(expr)
    }
}

/// Operand of `@`.
enum AtValue {
    Seconds(f64),
    Modifier(AtModifier),
}

fn binary_op(kind: TokenKind) -> Option<BinaryOp> {
    use TokenKind as K;
    Some(match kind {
        K::Add => BinaryOp::Add,
        K::Sub => BinaryOp::Sub,
        K::Mul => BinaryOp::Mul,
        K::Div => BinaryOp::Div,
        K::Mod => BinaryOp::Mod,
        K::Pow => BinaryOp::Pow,
        K::Atan2 => BinaryOp::Atan2,
        K::EqlC => BinaryOp::Eql,
        K::Neq => BinaryOp::Neq,
        K::Gtr => BinaryOp::Gtr,
        K::Lss => BinaryOp::Lss,
        K::Gte => BinaryOp::Gte,
        K::Lte => BinaryOp::Lte,
        K::TrimUpper => BinaryOp::TrimUpper,
        K::TrimLower => BinaryOp::TrimLower,
        K::And => BinaryOp::And,
        K::Or => BinaryOp::Or,
        K::Unless => BinaryOp::Unless,
        _ => return None,
    })
}

fn aggregate_op(kind: TokenKind) -> Option<AggregateOp> {
    use TokenKind as K;
    Some(match kind {
        K::Sum => AggregateOp::Sum,
        K::Avg => AggregateOp::Avg,
        K::Count => AggregateOp::Count,
        K::Min => AggregateOp::Min,
        K::Max => AggregateOp::Max,
        K::Group => AggregateOp::Group,
        K::Stddev => AggregateOp::Stddev,
        K::Stdvar => AggregateOp::Stdvar,
        K::Topk => AggregateOp::Topk,
        K::Bottomk => AggregateOp::Bottomk,
        K::CountValues => AggregateOp::CountValues,
        K::Quantile => AggregateOp::Quantile,
        K::Limitk => AggregateOp::Limitk,
        K::LimitRatio => AggregateOp::LimitRatio,
        _ => return None,
    })
}

/// Tokens that may name a metric (Prometheus' `metric_identifier` rule).
fn is_metric_identifier(kind: TokenKind) -> bool {
    use TokenKind as K;
    kind.is_aggregator()
        || matches!(
            kind,
            K::Identifier
                | K::MetricIdentifier
                | K::By
                | K::Without
                | K::Fill
                | K::FillLeft
                | K::FillRight
                | K::And
                | K::Or
                | K::Unless
                | K::Offset
                | K::Start
                | K::End
                | K::Step
                | K::Range
                | K::Anchored
                | K::Smoothed
                | K::MaxOf
                | K::MinOf
        )
}

/// Tokens that may be a label in a grouping list (Prometheus' `maybe_label` rule).
fn is_maybe_label(kind: TokenKind) -> bool {
    use TokenKind as K;
    kind.is_aggregator()
        || matches!(
            kind,
            K::Identifier
                | K::MetricIdentifier
                | K::Bool
                | K::By
                | K::GroupLeft
                | K::GroupRight
                | K::Fill
                | K::FillLeft
                | K::FillRight
                | K::Ignoring
                | K::And
                | K::Or
                | K::Unless
                | K::Offset
                | K::On
                | K::Start
                | K::End
                | K::Atan2
                | K::Step
                | K::Range
                | K::Anchored
                | K::Smoothed
                | K::MaxOf
                | K::MinOf
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::ValueType;

    fn all() -> ParserOptions {
        ParserOptions::all_enabled()
    }

    fn ok(input: &str) -> Expr {
        parse_with(input, &all()).unwrap_or_else(|e| panic!("{input:?}: {e}"))
    }

    fn err(input: &str) -> String {
        err_with(input, &all())
    }

    fn err_with(input: &str, options: &ParserOptions) -> String {
        match parse_with(input, options) {
            Ok(expr) => panic!("{input:?} parsed as {expr:?}"),
            Err(e) => e.to_string(),
        }
    }

    /// Prints the tree with explicit grouping so precedence can be asserted.
    fn shape(expr: &Expr) -> String {
        match expr {
            Expr::Binary(b) => format!("({} {} {})", shape(&b.lhs), b.op.as_str(), shape(&b.rhs)),
            Expr::Unary(u) => format!("({}{})", u.op.as_str(), shape(&u.expr)),
            other => other.to_string(),
        }
    }

    #[test]
    fn binary_precedence_and_associativity() {
        assert_eq!(shape(&ok("a + b * c ^ d ^ e")), "(a + (b * (c ^ (d ^ e))))");
        assert_eq!(shape(&ok("a - b - c")), "((a - b) - c)");
        assert_eq!(
            shape(&ok("a or b and c unless d")),
            "(a or ((b and c) unless d))"
        );
        assert_eq!(shape(&ok("a > b + c atan2 d")), "(a > (b + (c atan2 d)))");
        assert_eq!(shape(&ok("a </ 1 >/ 2")), "((a </ 1) >/ 2)");
    }

    #[test]
    fn unary_binds_like_multiplication() {
        assert_eq!(shape(&ok("-a ^ b")), "(-(a ^ b))");
        assert_eq!(shape(&ok("-a * b")), "((-a) * b)");
        assert_eq!(shape(&ok("2 ^ -1 * 3")), "((2 ^ -1) * 3)");
        let Expr::Number(n) = ok("- -1") else {
            panic!("expected a folded literal")
        };
        assert_eq!((n.value, n.span), (1.0, Span::new(0, 4)));
        assert!(matches!(
            ok("+foo"),
            Expr::Unary(UnaryExpr {
                op: UnaryOp::Pos,
                ..
            })
        ));
    }

    #[test]
    fn numbers_and_strings() {
        let value = |s: &str| match ok(s) {
            Expr::Number(n) => n.value,
            other => panic!("{other:?}"),
        };
        assert_eq!(value("1_000_000"), 1e6);
        assert_eq!(value("0x10"), 16.0);
        assert_eq!(value("1e3"), 1000.0);
        assert_eq!(value("1h30m"), 5400.0);
        assert!(value("NaN").is_nan());
        assert_eq!(value("-Inf"), f64::NEG_INFINITY);
        let Expr::String(s) = ok(r#""tab\there \u263a""#) else {
            panic!()
        };
        assert_eq!(s.value, "tab\there ☺");
        let Expr::String(s) = ok(r"`raw\n`") else {
            panic!()
        };
        assert_eq!(s.value, "raw\\n");
        let Expr::String(s) = ok(r#""\xff""#) else {
            panic!()
        };
        assert_eq!(s.non_utf8, Some(vec![0xff]));
        assert_eq!(ok(r#""\xff""#).to_string(), r#""\xff""#);
    }

    #[test]
    fn selectors() {
        let Expr::VectorSelector(vs) =
            ok(r#"http_requests{job="api", "service.name"=~"a|b", code!~"5.."}"#)
        else {
            panic!()
        };
        assert_eq!(vs.name.as_deref(), Some("http_requests"));
        assert_eq!(vs.matchers.len(), 4);
        assert_eq!(vs.matchers[1].name, "service.name");
        assert_eq!(
            vs.matchers[3],
            LabelMatcher {
                name: "__name__".into(),
                op: MatchOp::Equal,
                value: "http_requests".into()
            }
        );
        assert_eq!(vs.span, Span::new(0, 60));

        let Expr::VectorSelector(vs) = ok(r#"{"my.metric", le="0.5",}"#) else {
            panic!()
        };
        assert_eq!(vs.name, None);
        assert_eq!(vs.matchers[0].name, "__name__");
        assert_eq!(vs.matchers[0].value, "my.metric");

        // Keywords are metric names where an expression is expected.
        assert!(matches!(ok("sum + offset"), Expr::Binary(_)));
        assert!(matches!(ok("fill"), Expr::VectorSelector(_)));
    }

    #[test]
    fn modifiers() {
        let Expr::MatrixSelector(ms) = ok("rate_total[5m] offset -1h @ 100.5") else {
            panic!()
        };
        assert_eq!(ms.range.as_literal(), Some(300.0));
        assert_eq!(
            ms.selector
                .offset
                .as_ref()
                .and_then(DurationExpr::as_literal),
            Some(-3600.0)
        );
        assert_eq!(ms.selector.at, Some(AtModifier::Timestamp(100_500)));
        assert_eq!(ms.span, Span::new(0, 33));

        let Expr::Subquery(sq) = ok("max_over_time(x[1m])[1h:5m] @ end()") else {
            panic!()
        };
        assert_eq!(
            sq.step.as_ref().and_then(DurationExpr::as_literal),
            Some(300.0)
        );
        assert_eq!(sq.at, Some(AtModifier::End));
        assert!(ok("x[1h:]").to_string().ends_with("[1h:]"));

        // A literal zero offset is dropped, as in Prometheus.
        let Expr::VectorSelector(vs) = ok("x offset 0s") else {
            panic!()
        };
        assert!(vs.offset.is_none());
    }

    #[test]
    fn aggregations() {
        for input in ["sum by (job) (x)", "sum(x) by (job)", "SUM BY (job,) (x)"] {
            let Expr::Aggregate(agg) = ok(input) else {
                panic!()
            };
            assert_eq!(
                (agg.op, agg.grouping.as_slice(), agg.without),
                (AggregateOp::Sum, &["job".to_string()][..], false)
            );
        }
        let Expr::Aggregate(agg) = ok(r#"count_values without ("a.b", on) ("v", x)"#) else {
            panic!()
        };
        assert!(agg.without);
        assert_eq!(agg.grouping, ["a.b", "on"]);
        assert!(matches!(agg.param.as_deref(), Some(Expr::String(_))));
        assert!(matches!(ok("limitk(2, x)"), Expr::Aggregate(_)));
    }

    #[test]
    fn vector_matching() {
        let Expr::Binary(b) = ok("a / on (x) group_left (y) b") else {
            panic!()
        };
        let vm = b.matching.unwrap();
        assert_eq!((vm.on, vm.card), (true, Cardinality::ManyToOne));
        assert_eq!(
            (vm.matching_labels, vm.include),
            (vec!["x".to_string()], vec!["y".to_string()])
        );

        let Expr::Binary(b) = ok("a and b") else {
            panic!()
        };
        assert_eq!(b.matching.unwrap().card, Cardinality::ManyToMany);
        let Expr::Binary(b) = ok("a > bool 1") else {
            panic!()
        };
        assert!(b.return_bool && b.matching.is_none());

        let Expr::Binary(b) = ok("a + ignoring (z) fill_right (-1) fill_left (2) b") else {
            panic!()
        };
        assert_eq!(
            b.matching.unwrap().fill,
            FillValues {
                lhs: Some(2.0),
                rhs: Some(-1.0)
            }
        );
    }

    #[test]
    fn duration_expressions() {
        let Expr::MatrixSelector(ms) = ok("x[5m * 2 + step()]") else {
            panic!()
        };
        assert_eq!(ms.range.evaluate(10.0, 0.0), 610.0);
        // Without parentheses the offset takes only the literal; `* 2` multiplies the result.
        assert!(matches!(ok("x offset 1m * 2"), Expr::Binary(_)));
        let Expr::VectorSelector(vs) = ok("x offset (1m) * 2") else {
            panic!()
        };
        assert_eq!(vs.offset.unwrap().evaluate(0.0, 0.0), 120.0);
        let Expr::VectorSelector(vs) = ok("x offset -min_of(step(), 1s)") else {
            panic!()
        };
        assert_eq!(vs.offset.unwrap().evaluate(5.0, 0.0), -1.0);
        assert!(matches!(ok("x offset -step() ^ 0"), Expr::Binary(_)));
    }

    #[test]
    fn type_of_calls() {
        assert_eq!(ok("scalar(x)").value_type(), ValueType::Scalar);
        assert_eq!(ok("time() + 1").value_type(), ValueType::Scalar);
        assert_eq!(
            ok("label_join(x, \"d\", \",\", \"a\", \"b\", \"c\")").value_type(),
            ValueType::InstantVector
        );
        assert!(matches!(ok("step()"), Expr::Call(_)));
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(
            err(""),
            "unknown position: parse error: no expression found in input"
        );
        assert_eq!(
            err("# only a comment"),
            "1:1: parse error: no expression found in input"
        );
        assert_eq!(err("1 +"), "1:4: parse error: unexpected end of input");
        assert_eq!(err("x\n  * / y"), "2:5: parse error: unexpected <op:/>");
        assert_eq!(
            err("a + group_left b"),
            "1:5: parse error: unexpected <group_left>"
        );
        assert_eq!(
            err("sum(x) by y"),
            "1:11: parse error: unexpected identifier \"y\" in grouping opts, expected \"(\""
        );
        assert_eq!(
            err("sum(x +)"),
            "1:8: parse error: unexpected \")\" in aggregation"
        );
        assert_eq!(
            err("avg by (a b) (x)"),
            "1:11: parse error: unexpected identifier \"b\" in grouping opts, expected \",\" or \")\""
        );
        assert_eq!(
            err("x{a=1}"),
            "1:5: parse error: unexpected character inside braces: '1'"
        );
        assert_eq!(
            err("x{a b}"),
            "1:5: parse error: unexpected identifier \"b\" in label matching, expected label matching operator"
        );
        assert_eq!(
            err("x{a=\"b\" c}"),
            "1:9: parse error: unexpected identifier \"c\" in label matching, expected \",\" or \"}\""
        );
        assert_eq!(err("x[5m"), "1:5: parse error: unclosed left bracket");
        assert_eq!(
            err("x[5m +]"),
            "1:7: parse error: unexpected \"]\" in subquery or range selector, expected number, duration, step(), or range()"
        );
        assert_eq!(
            err("x[1h:5m +]"),
            "1:10: parse error: unexpected \"]\" in subquery selector, expected number, duration, step(), range(), or \"]\""
        );
        assert_eq!(
            err("x offset"),
            "1:9: parse error: unexpected end of input in offset, expected number, duration, step(), or range()"
        );
        assert_eq!(
            err("x @ foo"),
            "1:5: parse error: unexpected identifier \"foo\" in @, expected timestamp"
        );
        assert_eq!(
            err("rate(x[5m],)"),
            "1:11: parse error: trailing commas not allowed in function call args"
        );
        assert_eq!(
            err("x[0s]"),
            "1:3: parse error: duration must be greater than 0"
        );
        assert_eq!(err("x[1h / 0]"), "1:6: parse error: division by zero");
        assert_eq!(
            err("x{a=~\"(\"}"),
            "1:3: parse error: error parsing regexp: unclosed group: `(`"
        );
    }

    #[test]
    fn semantic_errors() {
        assert_eq!(
            err("nope(x)"),
            "1:1: parse error: unknown function with name \"nope\""
        );
        assert_eq!(
            err("(x + y)[5m]"),
            "1:8: parse error: ranges only allowed for vector selectors"
        );
        assert_eq!(
            err("x offset 5m[1m]"),
            "1:12: parse error: no offset modifiers allowed before range"
        );
        assert_eq!(
            err("x offset 1m offset 2m"),
            "1:1: parse error: offset may not be set multiple times"
        );
        assert_eq!(
            err("x @ 1 @ 2"),
            "1:1: parse error: @ <timestamp> may not be set multiple times"
        );
        assert_eq!(
            err("x @ Inf"),
            "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"
        );
        assert_eq!(
            err("sum()"),
            "1:1: parse error: no arguments for aggregate expression provided"
        );
        assert_eq!(
            err("quantile(x)"),
            "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"
        );
        assert_eq!(
            err("x[1m:] anchored"),
            "1:1: parse error: anchored modifier is not supported for subqueries"
        );
        assert_eq!(
            err("x anchored smoothed"),
            "1:1: parse error: anchored and smoothed modifiers cannot be used together"
        );
    }

    #[test]
    fn type_errors() {
        assert_eq!(
            err("rate(x)"),
            "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"
        );
        assert_eq!(
            err("abs(x, y)"),
            "1:1: parse error: expected 1 argument(s) in call to \"abs\", got 2"
        );
        assert_eq!(
            err("round()"),
            "1:1: parse error: expected at least 1 argument(s) in call to \"round\", got 0"
        );
        assert_eq!(
            err("round(x, 1, 2)"),
            "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3"
        );
        assert_eq!(
            err("topk(x, y)"),
            "1:6: parse error: expected type scalar in aggregation parameter, got instant vector"
        );
        assert_eq!(
            err("sum(1)"),
            "1:5: parse error: expected type instant vector in aggregation expression, got scalar"
        );
        assert_eq!(
            err("1 < 2"),
            "1:3: parse error: comparisons between scalars must use BOOL modifier"
        );
        assert_eq!(
            err("x + bool y"),
            "1:3: parse error: bool modifier can only be used on comparison operators"
        );
        assert_eq!(
            err("x or 1"),
            "1:1: parse error: set operator \"or\" not allowed in binary scalar expression"
        );
        assert_eq!(
            err("x and on (a) group_left b"),
            "1:1: parse error: no grouping allowed for \"and\" operation"
        );
        assert_eq!(
            err("x * on (a) group_right (a) y"),
            "1:3: parse error: label \"a\" must not occur in ON and GROUP clause at once"
        );
        assert_eq!(
            err("1 + on (a) x"),
            "1:1: parse error: vector matching only allowed between instant vectors"
        );
        assert_eq!(
            err("-\"s\""),
            "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"string\""
        );
        assert_eq!(
            err("x[5m][1h:]"),
            "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"
        );
        assert_eq!(
            err("{a=~\".*\"}"),
            "1:1: parse error: vector selector must contain at least one non-empty matcher"
        );
        assert_eq!(
            err("x{__name__=\"y\"}"),
            "1:1: parse error: metric name must not be set twice: \"x\" or \"y\""
        );
        assert_eq!(
            err("info(x, y)"),
            "1:9: parse error: expected label selectors only, got vector selector instead"
        );
        assert!(ok("info(x, {a=~\".*\"})").to_string().starts_with("info("));
    }

    #[test]
    fn metric_selectors() {
        let matchers = parse_metric_selector(r#"up{job=~"a|b"}"#).unwrap();
        assert_eq!(matchers.len(), 2);
        assert_eq!(matchers[1].value, "up");
        assert_eq!(parse_metric_selector("{}").unwrap(), []);
        assert_eq!(
            parse_metric_selector("up + 1").unwrap_err().to_string(),
            "1:4: parse error: unexpected <op:+>"
        );
        assert_eq!(
            parse_metric_selector("").unwrap_err().to_string(),
            "unknown position: parse error: unexpected end of input"
        );
    }

    #[test]
    fn nesting_depth_is_bounded() {
        let depth = MAX_DEPTH - 10;
        let nested = format!("{}x{}", "(".repeat(depth), ")".repeat(depth));
        let chain = vec!["x"; depth].join(" + ");
        let durations = format!("x[{}]", vec!["1m"; depth].join(" + "));
        // Deep but allowed trees are parsed, checked and printed without exhausting the stack.
        for input in [&nested, &chain, &durations] {
            assert_eq!(ok(input).to_string(), *input);
        }
        let too_deep = format!(
            "{}x{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert!(err(&too_deep).ends_with(&format!(
            "parse error: expression nesting is deeper than {MAX_DEPTH} levels"
        )));
        assert!(err(&vec!["x"; MAX_DEPTH + 1].join(" or ")).contains("nesting is deeper"));
        assert!(err(&format!("{}1", "-".repeat(MAX_DEPTH + 1))).contains("nesting is deeper"));
    }

    #[test]
    fn experimental_features_are_gated() {
        let off = ParserOptions::default();
        assert_eq!(
            err_with("mad_over_time(x[5m])", &off),
            "1:1: parse error: function \"mad_over_time\" is not enabled"
        );
        assert_eq!(
            err_with("limitk(1, x)", &off),
            "1:1: parse error: limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions"
        );
        assert_eq!(
            err_with("x[5m + 1m]", &off),
            "1:3: parse error: experimental duration expression is not enabled"
        );
        assert_eq!(
            err_with("x[step()]", &off),
            "1:3: parse error: experimental duration expression is not enabled"
        );
        assert_eq!(
            err_with("x[5m] anchored", &off),
            "1:1: parse error: anchored modifier is experimental and not enabled"
        );
        assert_eq!(
            err_with("x + fill (0) y", &off),
            "1:1: parse error: binop fill modifiers are experimental and not enabled"
        );
        assert!(parse("x[5m] offset -1m").is_ok());
    }
}
