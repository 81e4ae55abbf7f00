//! Tokenizer for PromQL expressions.
//!
//! The lexer is a small state machine that mirrors the token rules of the Prometheus reference
//! lexer: it tracks whether it is inside `{…}` (where keywords are plain identifiers) or inside
//! `[…]` (where only duration arithmetic is allowed), so the parser can stay context free.
//! Errors are returned as [`TokenKind::Error`] tokens carrying the message Prometheus reports.

use crate::ast::Span;

/// Kind of a lexed token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TokenKind {
    Eof,
    Error,
    Comment,
    Identifier,
    MetricIdentifier,
    Number,
    Duration,
    String,
    LeftParen,
    RightParen,
    LeftBrace,
    RightBrace,
    LeftBracket,
    RightBracket,
    Comma,
    Colon,
    Assign,
    // Operators.
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    EqlC,
    Neq,
    Lte,
    Lss,
    Gte,
    Gtr,
    TrimUpper,
    TrimLower,
    EqlRegex,
    NeqRegex,
    At,
    And,
    Or,
    Unless,
    Atan2,
    // Aggregators.
    Avg,
    Bottomk,
    Count,
    CountValues,
    Group,
    Max,
    Min,
    Quantile,
    Stddev,
    Stdvar,
    Sum,
    Topk,
    Limitk,
    LimitRatio,
    // Keywords.
    Bool,
    By,
    GroupLeft,
    GroupRight,
    Fill,
    FillLeft,
    FillRight,
    Ignoring,
    Offset,
    Smoothed,
    Anchored,
    On,
    Without,
    // Preprocessors.
    Start,
    End,
    Step,
    Range,
    MaxOf,
    MinOf,
}

impl TokenKind {
    /// Returns the keyword token for a lower-cased word, if it is one.
    fn keyword(word: &str) -> Option<TokenKind> {
        use TokenKind::*;
        Some(match word {
            "and" => And,
            "or" => Or,
            "unless" => Unless,
            "atan2" => Atan2,
            "sum" => Sum,
            "avg" => Avg,
            "count" => Count,
            "min" => Min,
            "max" => Max,
            "group" => Group,
            "stddev" => Stddev,
            "stdvar" => Stdvar,
            "topk" => Topk,
            "bottomk" => Bottomk,
            "count_values" => CountValues,
            "quantile" => Quantile,
            "limitk" => Limitk,
            "limit_ratio" => LimitRatio,
            "offset" => Offset,
            "smoothed" => Smoothed,
            "anchored" => Anchored,
            "by" => By,
            "without" => Without,
            "on" => On,
            "ignoring" => Ignoring,
            "group_left" => GroupLeft,
            "group_right" => GroupRight,
            "fill" => Fill,
            "fill_left" => FillLeft,
            "fill_right" => FillRight,
            "bool" => Bool,
            "start" => Start,
            "end" => End,
            "step" => Step,
            "range" => Range,
            "max_of" => MaxOf,
            "min_of" => MinOf,
            "inf" | "nan" => Number,
            _ => return None,
        })
    }

    pub(crate) fn is_operator(self) -> bool {
        use TokenKind::*;
        matches!(
            self,
            Add | Sub
                | Mul
                | Div
                | Mod
                | Pow
                | EqlC
                | Neq
                | Lte
                | Lss
                | Gte
                | Gtr
                | TrimUpper
                | TrimLower
                | EqlRegex
                | NeqRegex
                | At
                | And
                | Or
                | Unless
                | Atan2
        )
    }

    pub(crate) fn is_aggregator(self) -> bool {
        use TokenKind::*;
        matches!(
            self,
            Avg | Bottomk
                | Count
                | CountValues
                | Group
                | Max
                | Min
                | Quantile
                | Stddev
                | Stdvar
                | Sum
                | Topk
                | Limitk
                | LimitRatio
        )
    }

    pub(crate) fn is_keyword(self) -> bool {
        use TokenKind::*;
        matches!(
            self,
            Bool | By
                | GroupLeft
                | GroupRight
                | Fill
                | FillLeft
                | FillRight
                | Ignoring
                | Offset
                | Smoothed
                | Anchored
                | On
                | Without
        )
    }

    fn is_preprocessor(self) -> bool {
        use TokenKind::*;
        matches!(self, Start | End | Step | Range | MaxOf | MinOf)
    }

    /// Whether the token type has a fixed spelling (Prometheus' `ItemTypeStr` table).
    fn has_fixed_text(self) -> bool {
        use TokenKind::*;
        self.is_operator()
            || self.is_aggregator()
            || self.is_keyword()
            || self.is_preprocessor()
            || matches!(
                self,
                LeftParen
                    | RightParen
                    | LeftBrace
                    | RightBrace
                    | LeftBracket
                    | RightBracket
                    | Comma
                    | Colon
                    | Assign
            )
    }

    fn type_desc(self) -> &'static str {
        use TokenKind::*;
        match self {
            Error => "error",
            Eof => "end of input",
            Comment => "comment",
            Identifier => "identifier",
            MetricIdentifier => "metric identifier",
            String => "string",
            Number => "number",
            Duration => "duration",
            _ => "token",
        }
    }
}

/// One lexed token; `text` is the source slice, or the message for [`TokenKind::Error`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) start: usize,
    pub(crate) text: String,
}

impl Token {
    pub(crate) fn span(&self) -> Span {
        Span::new(self.start, self.start + self.text.len())
    }

    /// Renders the token the way Prometheus' `Item.String()` does.
    fn render(&self) -> String {
        match self.kind {
            TokenKind::Eof => "EOF".to_string(),
            TokenKind::Error => self.text.clone(),
            TokenKind::Identifier | TokenKind::MetricIdentifier => go_quote(&self.text),
            k if k.is_keyword() => format!("<{}>", self.text),
            k if k.is_operator() => format!("<op:{}>", self.text),
            k if k.is_aggregator() => format!("<aggr:{}>", self.text),
            // Go compares the byte length but truncates to 10 runes.
            _ if self.text.len() > 10 => {
                let head: String = self.text.chars().take(10).collect();
                format!("{}...", go_quote(&head))
            }
            _ => go_quote(&self.text),
        }
    }

    /// Describes the token for "unexpected …" messages (Prometheus' `Item.desc()`).
    pub(crate) fn describe(&self) -> String {
        if self.kind.has_fixed_text() {
            return self.render();
        }
        if self.kind == TokenKind::Eof {
            return self.kind.type_desc().to_string();
        }
        format!("{} {}", self.kind.type_desc(), self.render())
    }
}

/// Quotes a string with Go's `%q` rules (used in error messages and by the printer).
pub(crate) fn go_quote(s: &str) -> String {
    go_quote_bytes(s.as_bytes())
}

/// Quotes bytes with Go's `strconv.Quote` rules; invalid UTF-8 bytes become `\xNN`.
pub(crate) fn go_quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{7}' => out.push_str("\\a"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{b}' => out.push_str("\\v"),
                c if is_go_printable(c) => out.push(c),
                c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
                c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push_str(&format!("\\U{:08x}", c as u32)),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

/// Approximates Go's `strconv.IsPrint`: everything but control, separator and format runes.
fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Statements,
    InsideBraces,
    DurationExpr,
    Done,
}

/// Splits an expression into tokens, ending with an `Eof` or `Error` token.
pub(crate) fn tokenize(input: &str) -> Vec<Token> {
    let mut lexer = Lexer::new(input);
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token();
        let last = matches!(token.kind, TokenKind::Eof | TokenKind::Error);
        tokens.push(token);
        if last {
            return tokens;
        }
    }
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    state: State,
    paren_depth: i64,
    brace_open: bool,
    bracket_open: bool,
    got_colon: bool,
    got_duration: bool,
}

const EOF: char = '\u{0}';

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_alpha(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

fn is_alphanumeric(c: char) -> bool {
    is_alpha(c) || is_digit(c)
}

impl<'a> Lexer<'a> {
    fn new(input: &'a str) -> Self {
        Lexer {
            input,
            pos: 0,
            start: 0,
            state: State::Statements,
            paren_depth: 0,
            brace_open: false,
            bracket_open: false,
            got_colon: false,
            got_duration: false,
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    /// Returns the next char without consuming it; `EOF` at the end of input.
    fn peek(&self) -> char {
        self.input[self.pos..].chars().next().unwrap_or(EOF)
    }

    fn next(&mut self) -> char {
        match self.input[self.pos..].chars().next() {
            Some(c) => {
                self.pos += c.len_utf8();
                c
            }
            None => EOF,
        }
    }

    fn backup(&mut self, c: char) {
        self.pos -= c.len_utf8();
    }

    fn accept(&mut self, valid: &str) -> bool {
        let c = self.peek();
        if !self.at_end() && valid.contains(c) {
            self.next();
            return true;
        }
        false
    }

    fn is(&self, valid: &str) -> bool {
        !self.at_end() && valid.contains(self.peek())
    }

    fn emit(&mut self, kind: TokenKind) -> Token {
        let token = Token {
            kind,
            start: self.start,
            text: self.input[self.start..self.pos].to_string(),
        };
        self.start = self.pos;
        token
    }

    fn error(&mut self, message: String) -> Token {
        self.state = State::Done;
        Token {
            kind: TokenKind::Error,
            start: self.start,
            text: message,
        }
    }

    fn skip_spaces(&mut self) {
        while !self.at_end() && is_space(self.peek()) {
            self.next();
        }
        self.start = self.pos;
    }

    fn next_token(&mut self) -> Token {
        loop {
            let step = match self.state {
                State::Done => {
                    return Token {
                        kind: TokenKind::Eof,
                        start: self.pos,
                        text: String::new(),
                    };
                }
                State::Statements => self.lex_statements(),
                State::InsideBraces => self.lex_inside_braces(),
                State::DurationExpr => self.lex_duration_expr(),
            };
            if let Some(token) = step {
                return token;
            }
        }
    }

    fn lex_comment(&mut self) -> Token {
        while !self.at_end() && !matches!(self.peek(), '\r' | '\n') {
            self.next();
        }
        self.emit(TokenKind::Comment)
    }

    fn lex_statements(&mut self) -> Option<Token> {
        if self.brace_open {
            self.state = State::InsideBraces;
            return None;
        }
        if self.input[self.pos..].starts_with('#') {
            return Some(self.lex_comment());
        }
        if self.at_end() {
            if self.paren_depth != 0 {
                return Some(self.error("unclosed left parenthesis".into()));
            }
            if self.bracket_open {
                return Some(self.error("unclosed left bracket".into()));
            }
            self.state = State::Done;
            return Some(self.emit(TokenKind::Eof));
        }
        let c = self.next();
        let token = match c {
            ',' => self.emit(TokenKind::Comma),
            c if is_space(c) => {
                self.skip_spaces();
                return None;
            }
            '*' => self.emit(TokenKind::Mul),
            '/' => self.emit(TokenKind::Div),
            '%' => self.emit(TokenKind::Mod),
            '+' => self.emit(TokenKind::Add),
            '-' => self.emit(TokenKind::Sub),
            '^' => self.emit(TokenKind::Pow),
            '=' => match self.peek() {
                '=' => {
                    self.next();
                    self.emit(TokenKind::EqlC)
                }
                '~' => return Some(self.error("unexpected character after '=': '~'".into())),
                _ => self.emit(TokenKind::Assign),
            },
            '!' => {
                let t = self.next();
                if t != '=' {
                    return Some(
                        self.error(format!("unexpected character after '!': {}", go_char(t))),
                    );
                }
                self.emit(TokenKind::Neq)
            }
            '<' => match self.peek() {
                '=' => {
                    self.next();
                    self.emit(TokenKind::Lte)
                }
                '/' => {
                    self.next();
                    self.emit(TokenKind::TrimUpper)
                }
                _ => self.emit(TokenKind::Lss),
            },
            '>' => match self.peek() {
                '=' => {
                    self.next();
                    self.emit(TokenKind::Gte)
                }
                '/' => {
                    self.next();
                    self.emit(TokenKind::TrimLower)
                }
                _ => self.emit(TokenKind::Gtr),
            },
            c if is_digit(c) || (c == '.' && is_digit(self.peek())) => {
                self.backup(c);
                return Some(self.lex_number_or_duration());
            }
            '"' | '\'' => return Some(self.lex_string(c)),
            '`' => return Some(self.lex_raw_string()),
            c if is_alpha(c) || c == ':' => {
                if !self.bracket_open {
                    self.backup(c);
                    return Some(self.lex_keyword_or_identifier());
                }
                if c == ':' {
                    if self.got_colon {
                        return Some(self.error("unexpected colon ':'".into()));
                    }
                    self.got_colon = true;
                    return Some(self.emit(TokenKind::Colon));
                }
                if let Some(token) = self.scan_duration_keyword() {
                    return Some(token);
                }
                return Some(self.error(format!(
                    "unexpected character: {}, expected ':'",
                    go_char(c)
                )));
            }
            '(' => {
                self.paren_depth += 1;
                self.emit(TokenKind::LeftParen)
            }
            ')' => {
                let token = self.emit(TokenKind::RightParen);
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return Some(self.error("unexpected right parenthesis ')'".into()));
                }
                token
            }
            '{' => {
                self.brace_open = true;
                self.state = State::InsideBraces;
                self.emit(TokenKind::LeftBrace)
            }
            '[' => {
                if self.bracket_open {
                    return Some(self.error("unexpected left bracket '['".into()));
                }
                self.got_colon = false;
                let token = self.emit(TokenKind::LeftBracket);
                self.skip_spaces();
                self.bracket_open = true;
                self.state = State::DurationExpr;
                token
            }
            ']' => {
                if !self.bracket_open {
                    return Some(self.error("unexpected right bracket ']'".into()));
                }
                self.bracket_open = false;
                self.emit(TokenKind::RightBracket)
            }
            '@' => self.emit(TokenKind::At),
            c => return Some(self.error(format!("unexpected character: {}", go_char(c)))),
        };
        Some(token)
    }

    fn lex_inside_braces(&mut self) -> Option<Token> {
        if self.input[self.pos..].starts_with('#') {
            return Some(self.lex_comment());
        }
        if self.at_end() {
            return Some(self.error("unexpected end of input inside braces".into()));
        }
        let c = self.next();
        let token = match c {
            c if is_space(c) => {
                self.skip_spaces();
                return None;
            }
            c if is_alpha(c) => {
                while is_alphanumeric(self.peek()) && !self.at_end() {
                    self.next();
                }
                self.emit(TokenKind::Identifier)
            }
            ',' => self.emit(TokenKind::Comma),
            '"' | '\'' => return Some(self.lex_string(c)),
            '`' => return Some(self.lex_raw_string()),
            '=' => {
                if self.peek() == '~' {
                    self.next();
                    self.emit(TokenKind::EqlRegex)
                } else {
                    self.emit(TokenKind::Assign)
                }
            }
            '!' => match self.next() {
                '~' => self.emit(TokenKind::NeqRegex),
                '=' => self.emit(TokenKind::Neq),
                t => {
                    return Some(self.error(format!(
                        "unexpected character after '!' inside braces: {}",
                        go_char(t)
                    )));
                }
            },
            '{' => return Some(self.error("unexpected left brace '{'".into())),
            '}' => {
                self.brace_open = false;
                self.state = State::Statements;
                self.emit(TokenKind::RightBrace)
            }
            c => {
                return Some(self.error(format!(
                    "unexpected character inside braces: {}",
                    go_char(c)
                )));
            }
        };
        Some(token)
    }

    fn lex_duration_expr(&mut self) -> Option<Token> {
        if self.at_end() {
            return Some(self.error("unexpected end of input in duration expression".into()));
        }
        let c = self.next();
        let token =
            match c {
                ']' => {
                    self.bracket_open = false;
                    self.got_colon = false;
                    self.state = State::Statements;
                    self.emit(TokenKind::RightBracket)
                }
                ':' => {
                    // Prometheus replaces the colon by the error token, placed right after it.
                    let token = self.emit(TokenKind::Colon);
                    if !self.got_duration {
                        return Some(self.error(
                            "unexpected colon before duration in duration expression".into(),
                        ));
                    }
                    if self.got_colon {
                        return Some(
                            self.error("unexpected repeated colon in duration expression".into()),
                        );
                    }
                    self.got_colon = true;
                    token
                }
                '(' => {
                    self.paren_depth += 1;
                    self.emit(TokenKind::LeftParen)
                }
                ')' => {
                    let token = self.emit(TokenKind::RightParen);
                    self.paren_depth -= 1;
                    if self.paren_depth < 0 {
                        return Some(self.error("unexpected right parenthesis ')'".into()));
                    }
                    token
                }
                c if is_space(c) => {
                    self.skip_spaces();
                    return None;
                }
                '+' => self.emit(TokenKind::Add),
                '-' => self.emit(TokenKind::Sub),
                '*' => self.emit(TokenKind::Mul),
                '/' => self.emit(TokenKind::Div),
                '%' => self.emit(TokenKind::Mod),
                '^' => self.emit(TokenKind::Pow),
                ',' => self.emit(TokenKind::Comma),
                c if matches!(c.to_ascii_lowercase(), 's' | 'r' | 'm') => {
                    match self.scan_duration_keyword() {
                        Some(token) => token,
                        None => {
                            return Some(self.error(format!(
                                "unexpected character in duration expression: {}",
                                go_char(c)
                            )));
                        }
                    }
                }
                c if is_digit(c) || (c == '.' && is_digit(self.peek())) => {
                    self.backup(c);
                    self.got_duration = true;
                    let token = self.lex_number_or_duration();
                    if token.kind != TokenKind::Error {
                        self.state = State::Statements;
                    }
                    return Some(token);
                }
                c => {
                    return Some(self.error(format!(
                        "unexpected character in duration expression: {}",
                        go_char(c)
                    )));
                }
            };
        Some(token)
    }

    /// Scans `step`, `range`, `min_of` or `max_of` (any case) inside brackets.
    fn scan_duration_keyword(&mut self) -> Option<Token> {
        while is_alpha(self.peek()) && !self.at_end() {
            self.next();
        }
        let kind = match self.input[self.start..self.pos]
            .to_ascii_lowercase()
            .as_str()
        {
            "step" => TokenKind::Step,
            "range" => TokenKind::Range,
            "max_of" => TokenKind::MaxOf,
            "min_of" => TokenKind::MinOf,
            _ => return None,
        };
        Some(self.emit(kind))
    }

    fn lex_keyword_or_identifier(&mut self) -> Token {
        while !self.at_end() && (is_alphanumeric(self.peek()) || self.peek() == ':') {
            self.next();
        }
        let word = &self.input[self.start..self.pos];
        match TokenKind::keyword(&word.to_ascii_lowercase()) {
            Some(kind @ (TokenKind::Fill | TokenKind::FillLeft | TokenKind::FillRight)) => {
                // `fill` is only a keyword before `(`, so it stays usable as a metric name.
                if self.followed_by_left_paren() {
                    self.emit(kind)
                } else {
                    self.emit(TokenKind::Identifier)
                }
            }
            Some(kind) => self.emit(kind),
            None if word.contains(':') => self.emit(TokenKind::MetricIdentifier),
            None => self.emit(TokenKind::Identifier),
        }
    }

    fn followed_by_left_paren(&self) -> bool {
        self.input[self.pos..]
            .trim_start_matches(is_space)
            .starts_with('(')
    }

    fn lex_string(&mut self, quote: char) -> Token {
        loop {
            if self.at_end() {
                return self.error("unterminated quoted string".into());
            }
            match self.next() {
                '\\' => {
                    if let Err(message) = self.lex_escape(quote) {
                        return self.error(message);
                    }
                }
                '\n' => return self.error("unterminated quoted string".into()),
                c if c == quote => break,
                _ => {}
            }
        }
        self.emit(TokenKind::String)
    }

    fn lex_escape(&mut self, quote: char) -> Result<(), String> {
        if self.at_end() {
            return Err("escape sequence not terminated".into());
        }
        let c = self.next();
        let (mut n, base, max, mut ch) = match c {
            'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\' => return Ok(()),
            c if c == quote => return Ok(()),
            '0'..='7' => (3, 8, 255, Some(c)),
            'x' => (2, 16, 255, self.next_or_eof()),
            'u' => (4, 16, 0x10ffff, self.next_or_eof()),
            'U' => (8, 16, 0x10ffff, self.next_or_eof()),
            c => return Err(format!("unknown escape sequence {}", go_unicode(c))),
        };
        let mut x: u32 = 0;
        while n > 0 {
            let d = ch.and_then(|c| c.to_digit(16)).filter(|d| *d < base);
            let Some(d) = d else {
                return Err(match ch {
                    None => "escape sequence not terminated".into(),
                    Some(c) => format!("illegal character {} in escape sequence", go_unicode(c)),
                });
            };
            x = x.wrapping_mul(base).wrapping_add(d);
            n -= 1;
            if n > 0 {
                ch = self.next_or_eof();
            }
        }
        if x > max || (0xd800..0xe000).contains(&x) {
            return Err("escape sequence is an invalid Unicode code point".into());
        }
        Ok(())
    }

    fn next_or_eof(&mut self) -> Option<char> {
        if self.at_end() {
            None
        } else {
            Some(self.next())
        }
    }

    fn lex_raw_string(&mut self) -> Token {
        loop {
            if self.at_end() {
                return self.error("unterminated raw string".into());
            }
            if self.next() == '`' {
                break;
            }
        }
        self.emit(TokenKind::String)
    }

    fn lex_number_or_duration(&mut self) -> Token {
        if self.scan_number() {
            return self.emit(TokenKind::Number);
        }
        if self.accept_remaining_duration() {
            return self.emit(TokenKind::Duration);
        }
        let text = self.input[self.start..self.pos].to_string();
        self.error(format!(
            "bad number or duration syntax: {}",
            go_quote(&text)
        ))
    }

    fn accept_remaining_duration(&mut self) -> bool {
        if !self.accept("smhdwy") {
            return false;
        }
        self.accept("s");
        while self.accept("0123456789") {
            while self.accept("0123456789") {}
            if !self.accept("smhdw") {
                return false;
            }
            self.accept("s");
        }
        if self.at_end() || !is_alphanumeric(self.peek()) {
            return true;
        }
        // A bad trailing char becomes part of the error text, as in Prometheus.
        self.next();
        false
    }

    fn scan_number(&mut self) -> bool {
        let initial = self.pos;
        let mut digits = "0123456789";
        if self.accept("0") && self.accept("xX") {
            self.accept("_");
            digits = "0123456789abcdefABCDEF";
        }
        let hex = digits.len() > 10;
        self.accept(".");
        self.accept(digits);
        let mut dot_seen = false;
        let mut exp_seen = false;
        let any = format!("{digits}._eE");
        while self.is(&any) {
            if (self.is(".") && dot_seen) || (self.is("eE") && exp_seen) {
                self.next();
                return false;
            }
            if self.accept(".") {
                dot_seen = true;
                if self.accept("_.") || hex {
                    return false;
                }
                continue;
            }
            if self.accept("eE") {
                exp_seen = true;
                self.accept("+-");
                if self.accept("._eE") || self.at_end() {
                    return false;
                }
                continue;
            }
            if self.accept("_") {
                if self.accept("._eE") || self.at_end() {
                    return false;
                }
                continue;
            }
            while self.accept(digits) {}
        }
        if self.pos == initial {
            return false;
        }
        self.at_end() || !is_alphanumeric(self.peek())
    }
}

/// Formats a char like Go's `%q` on a rune.
fn go_char(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '\\' => "'\\\\'".to_string(),
        c => {
            let quoted = go_quote(&c.to_string());
            let inner = &quoted[1..quoted.len() - 1];
            let inner = if inner == "\\\"" { "\"" } else { inner };
            format!("'{inner}'")
        }
    }
}

/// Formats a char like Go's `%#U`.
fn go_unicode(c: char) -> String {
    if is_go_printable(c) {
        format!("U+{:04X} '{c}'", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<TokenKind> {
        tokenize(input).into_iter().map(|t| t.kind).collect()
    }

    fn texts(input: &str) -> Vec<String> {
        tokenize(input).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn lexes_operators_and_selectors() {
        use TokenKind::*;
        assert_eq!(
            kinds(r#"rate(http_total{job=~"a.*", x!="y"}[5m]) >/ 2 </ 1"#),
            vec![
                Identifier,
                LeftParen,
                Identifier,
                LeftBrace,
                Identifier,
                EqlRegex,
                String,
                Comma,
                Identifier,
                Neq,
                String,
                RightBrace,
                LeftBracket,
                Duration,
                RightBracket,
                RightParen,
                TrimLower,
                Number,
                TrimUpper,
                Number,
                Eof
            ]
        );
    }

    #[test]
    fn keywords_are_identifiers_inside_braces() {
        use TokenKind::*;
        assert_eq!(
            kinds("{by='x'}"),
            vec![LeftBrace, Identifier, Assign, String, RightBrace, Eof]
        );
        assert_eq!(kinds("by"), vec![By, Eof]);
        assert_eq!(kinds("SUM"), vec![Sum, Eof]);
    }

    #[test]
    fn fill_is_keyword_only_before_paren() {
        use TokenKind::*;
        assert_eq!(
            kinds("fill + fill_left"),
            vec![Identifier, Add, Identifier, Eof]
        );
        assert_eq!(
            kinds("fill (0)"),
            vec![Fill, LeftParen, Number, RightParen, Eof]
        );
    }

    #[test]
    fn numbers_and_durations() {
        assert_eq!(
            texts("1_000 0x1F 1e3 .5 1h30m 5ms Inf"),
            ["1_000", "0x1F", "1e3", ".5", "1h30m", "5ms", "Inf", ""]
        );
        assert_eq!(kinds("1h30m")[0], TokenKind::Duration);
        assert_eq!(kinds("NaN")[0], TokenKind::Number);
    }

    #[test]
    fn number_errors() {
        let tokens = tokenize("2.5.");
        assert_eq!(tokens[0].text, "bad number or duration syntax: \"2.5.\"");
        let tokens = tokenize("0deadbeef");
        assert_eq!(tokens[0].text, "bad number or duration syntax: \"0de\"");
        let tokens = tokenize("1_");
        assert_eq!(tokens[0].kind, TokenKind::Error);
    }

    #[test]
    fn bracket_mode() {
        use TokenKind::*;
        assert_eq!(
            kinds("x[ step() * 2 : 1m]"),
            vec![
                Identifier,
                LeftBracket,
                Step,
                LeftParen,
                RightParen,
                Mul,
                Number,
                Colon,
                Duration,
                RightBracket,
                Eof
            ]
        );
        let tokens = tokenize("x[foo]");
        assert_eq!(
            tokens.last().unwrap().text,
            "unexpected character in duration expression: 'f'"
        );
        let tokens = tokenize("x[5m x]");
        assert_eq!(
            tokens.last().unwrap().text,
            "unexpected character: 'x', expected ':'"
        );
    }

    #[test]
    fn string_errors() {
        assert_eq!(
            tokenize("\"abc").last().unwrap().text,
            "unterminated quoted string"
        );
        assert_eq!(
            tokenize("`abc").last().unwrap().text,
            "unterminated raw string"
        );
        assert_eq!(
            tokenize(r#""\q""#).last().unwrap().text,
            "unknown escape sequence U+0071 'q'"
        );
        assert_eq!(
            kinds(r#"'it\'s' "a\x41\u00e9\101""#)[..2],
            [TokenKind::String, TokenKind::String]
        );
    }

    #[test]
    fn paren_and_comment_errors() {
        assert_eq!(
            tokenize("(1").last().unwrap().text,
            "unclosed left parenthesis"
        );
        assert_eq!(
            tokenize("1)").last().unwrap().text,
            "unexpected right parenthesis ')'"
        );
        assert_eq!(kinds("1 # note\n+ 2")[1], TokenKind::Comment);
        assert_eq!(
            tokenize("1 !~ 1").last().unwrap().text,
            "unexpected character after '!': '~'"
        );
    }

    #[test]
    fn describes_tokens_like_prometheus() {
        let tokens = tokenize("sum by foo \"a long string value\" + 5m )");
        let described: Vec<String> = tokens.iter().map(Token::describe).collect();
        assert_eq!(described[0], "<aggr:sum>");
        assert_eq!(described[1], "<by>");
        assert_eq!(described[2], "identifier \"foo\"");
        assert_eq!(described[3], "string \"\\\"a long st\"...");
        assert_eq!(described[4], "<op:+>");
        assert_eq!(described[5], "duration \"5m\"");
    }
}
