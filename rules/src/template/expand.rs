//! Rule templates: alert label and annotation values expanded the way Prometheus does.
//!
//! A rule template sees `.Labels`, `.ExternalLabels`, `.ExternalURL` and `.Value`, and the
//! variables `$labels`, `$externalLabels`, `$externalURL` and `$value` bound to them. It may
//! declare variables (`$x := …`, `$x = …`), branch (`if`/`else if`/`else`), iterate (`range`,
//! with `$k, $v :=`), scope (`with`) and call Go's builtins (`and or not len index print printf
//! println eq ne lt le gt ge html js urlquery`) and Prometheus' template functions (`query
//! first label value strvalue sortByLabel humanize humanize1024 humanizeDuration
//! humanizePercentage humanizeTimestamp toTime title toUpper toLower match reReplaceAll args
//! safeHtml externalURL pathPrefix tableLink graphLink stripPort stripDomain parseDuration`).
//!
//! `query` needs the metrics backend, which is async while expansion is not: an expansion that
//! meets a query it has no result for reports it in [`Expansion::missing`], the caller runs it
//! and expands again with the result (see [`expand`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Item, lex};
use crate::matchers::LabelSet;

/// One sample of a `query` result.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySample {
    /// Series labels.
    pub labels: LabelSet,
    /// Value.
    pub value: f64,
}

/// What a template is expanded with.
#[derive(Debug, Clone, Default)]
pub struct TemplateData {
    /// The alert's labels (`$labels`).
    pub labels: LabelSet,
    /// The external labels (`$externalLabels`).
    pub external_labels: LabelSet,
    /// The external URL (`$externalURL`).
    pub external_url: String,
    /// The sample value (`$value`).
    pub value: f64,
}

/// The outcome of one expansion pass.
#[derive(Debug, Clone, PartialEq)]
pub enum Expansion {
    /// The expanded text.
    Done(String),
    /// The template calls `query` with these expressions, which have no result yet.
    Missing(Vec<String>),
}

/// Expands `text` with `data`; `queries` holds the results of `query` calls made so far.
///
/// Errors read like Prometheus' (`error executing template …: …`); a template that is not
/// valid is an error too, so the caller can keep the raw text as Prometheus does.
pub fn expand(
    name: &str,
    text: &str,
    data: &TemplateData,
    queries: &BTreeMap<String, Vec<QuerySample>>,
) -> Result<Expansion, String> {
    if !text.contains("{{") {
        return Ok(Expansion::Done(text.to_owned()));
    }
    let nodes = parse(text).map_err(|e| format!("error parsing template {name}: {e}"))?;
    let mut ev = Eval {
        data,
        queries,
        missing: Vec::new(),
        vars: vec![
            ("$".into(), V::Dot),
            ("$labels".into(), V::Map(data.labels.clone())),
            (
                "$externalLabels".into(),
                V::Map(data.external_labels.clone()),
            ),
            ("$externalURL".into(), V::Str(data.external_url.clone())),
            ("$value".into(), V::Float(data.value)),
        ],
        steps: 0,
    };
    let mut out = String::new();
    let result = ev.nodes(&nodes, &V::Dot, &mut out);
    if !ev.missing.is_empty() {
        return Ok(Expansion::Missing(ev.missing));
    }
    result.map_err(|e| format!("error executing template {name}: {e}"))?;
    Ok(Expansion::Done(out))
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Action(Pipe),
    If(Pipe, Vec<Node>, Vec<Node>),
    Range(Vec<String>, Pipe, Vec<Node>, Vec<Node>),
    With(Pipe, Vec<Node>, Vec<Node>),
}

/// A pipeline, optionally assigned: `$x := …` declares, `$x = …` assigns.
#[derive(Debug, Clone, PartialEq)]
struct Pipe {
    assign: Option<(String, bool)>,
    cmds: Vec<Vec<Arg>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Field(Option<String>, Vec<String>),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    Func(String),
    Sub(Pipe),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Num(String),
    Field(Option<String>, Vec<String>),
    Ident(String),
    Declare,
    Assign,
    Comma,
    Pipe,
    Open,
    Close,
}

const FUNCS: &[&str] = &[
    "and",
    "or",
    "not",
    "len",
    "index",
    "print",
    "printf",
    "println",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "html",
    "js",
    "urlquery",
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "sortByLabel",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "title",
    "toUpper",
    "toLower",
    "match",
    "reReplaceAll",
    "args",
    "safeHtml",
    "externalURL",
    "pathPrefix",
    "tableLink",
    "graphLink",
    "stripPort",
    "stripDomain",
    "parseDuration",
];

fn tokens(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let word_char = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '|' => {
                out.push(Tok::Pipe);
                i += 1;
            }
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            ':' if chars.get(i + 1) == Some(&'=') => {
                out.push(Tok::Declare);
                i += 2;
            }
            '=' => {
                out.push(Tok::Assign);
                i += 1;
            }
            '"' | '`' => {
                let mut v = String::new();
                i += 1;
                loop {
                    let ch = *chars.get(i).ok_or("unterminated quoted string")?;
                    i += 1;
                    match ch {
                        _ if ch == c => break,
                        '\\' if c == '"' => {
                            let e = *chars.get(i).ok_or("unterminated quoted string")?;
                            i += 1;
                            v.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                other => other,
                            });
                        }
                        _ => v.push(ch),
                    }
                }
                out.push(Tok::Str(v));
            }
            '.' | '$' => {
                let start = i;
                i += 1;
                while i < chars.len() && (word_char(chars[i]) || chars[i] == '.') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let (var, rest) = if c == '$' {
                    let end = word[1..].find('.').map_or(word.len(), |p| p + 1);
                    (Some(word[..end].to_owned()), &word[end..])
                } else {
                    (None, word.as_str())
                };
                let path = rest
                    .split('.')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect();
                out.push(Tok::Field(var, path));
            }
            c if c.is_ascii_digit() || ((c == '-' || c == '+') && i + 1 < chars.len()) => {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric()
                        || chars[i] == '.'
                        || ((chars[i] == '-' || chars[i] == '+')
                            && matches!(chars[i - 1], 'e' | 'E')))
                {
                    i += 1;
                }
                out.push(Tok::Num(chars[start..i].iter().collect()));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && word_char(chars[i]) {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected {other:?} in command")),
        }
    }
    Ok(out)
}

fn number(s: &str) -> Result<Arg, String> {
    if let Ok(i) = s.parse::<i64>() {
        return Ok(Arg::Int(i));
    }
    if let Some(hex) = s.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Ok(Arg::Int(i));
    }
    s.parse::<f64>()
        .map(Arg::Float)
        .map_err(|_| format!("bad number syntax: {s:?}"))
}

fn parse_pipe(toks: &[Tok]) -> Result<Pipe, String> {
    let (assign, rest) = match toks {
        [Tok::Field(Some(v), p), Tok::Declare, rest @ ..] if p.is_empty() => {
            (Some((v.clone(), true)), rest)
        }
        [Tok::Field(Some(v), p), Tok::Assign, rest @ ..] if p.is_empty() => {
            (Some((v.clone(), false)), rest)
        }
        _ => (None, toks),
    };
    let mut pos = 0;
    let cmds = cmds_at(rest, &mut pos)?;
    if pos != rest.len() {
        return Err("unexpected right paren".to_owned());
    }
    if cmds.is_empty() || cmds.iter().any(Vec::is_empty) {
        return Err("missing value for command".to_owned());
    }
    Ok(Pipe { assign, cmds })
}

fn cmds_at(toks: &[Tok], pos: &mut usize) -> Result<Vec<Vec<Arg>>, String> {
    let mut cmds = vec![Vec::new()];
    while let Some(t) = toks.get(*pos) {
        *pos += 1;
        let arg = match t {
            Tok::Close => {
                *pos -= 1;
                break;
            }
            Tok::Pipe => {
                cmds.push(Vec::new());
                continue;
            }
            Tok::Open => {
                let sub = cmds_at(toks, pos)?;
                if toks.get(*pos) != Some(&Tok::Close) {
                    return Err("unclosed left paren".to_owned());
                }
                *pos += 1;
                Arg::Sub(Pipe {
                    assign: None,
                    cmds: sub,
                })
            }
            Tok::Str(s) => Arg::Str(s.clone()),
            Tok::Num(n) => number(n)?,
            Tok::Field(v, p) => Arg::Field(v.clone(), p.clone()),
            Tok::Ident(id) => match id.as_str() {
                "true" => Arg::Bool(true),
                "false" => Arg::Bool(false),
                "nil" => Arg::Nil,
                f if FUNCS.contains(&f) => Arg::Func(id.clone()),
                _ => return Err(format!("function {id:?} not defined")),
            },
            Tok::Declare | Tok::Assign | Tok::Comma => {
                return Err("unexpected assignment in command".to_owned());
            }
        };
        if let Some(cmd) = cmds.last_mut() {
            cmd.push(arg);
        }
    }
    Ok(cmds)
}

fn parse(src: &str) -> Result<Vec<Node>, String> {
    let items = lex(src)?;
    let mut pos = 0;
    let (nodes, end) = block(&items, &mut pos)?;
    match end {
        None => Ok(nodes),
        Some(e) => Err(format!("unexpected {{{{{e}}}}}")),
    }
}

/// Parses nodes until `end` or an `else…`, returning which action stopped the block.
fn block(items: &[Item], pos: &mut usize) -> Result<(Vec<Node>, Option<String>), String> {
    let mut nodes = Vec::new();
    while let Some(item) = items.get(*pos) {
        *pos += 1;
        let body = match item {
            Item::Text(t) => {
                nodes.push(Node::Text(t.clone()));
                continue;
            }
            Item::Action(a) => a.as_str(),
        };
        let (word, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
        match word {
            "end" | "else" => return Ok((nodes, Some(body.to_owned()))),
            "if" | "with" | "range" => nodes.push(control(word, rest, items, pos)?),
            "define" | "template" | "block" | "break" | "continue" => {
                return Err(format!("{{{{{word}}}}} is not supported in rule templates"));
            }
            _ => nodes.push(Node::Action(parse_pipe(&tokens(body)?)?)),
        }
    }
    Ok((nodes, None))
}

fn control(word: &str, rest: &str, items: &[Item], pos: &mut usize) -> Result<Node, String> {
    let toks = tokens(rest)?;
    let (vars, pipe) = if word == "range" {
        range_vars(&toks)?
    } else {
        (Vec::new(), parse_pipe(&toks)?)
    };
    let (then, end) = block(items, pos)?;
    let otherwise = match end.as_deref() {
        Some("end") => Vec::new(),
        Some("else") => match block(items, pos)? {
            (n, Some(e)) if e == "end" => n,
            _ => return Err(format!("{word} without end")),
        },
        // `else if …` / `else with …` nest a block that shares the outer `end`.
        Some(e) if e.starts_with("else ") => {
            let inner = e["else ".len()..].trim_start();
            let (w, r) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
            if w != "if" && w != "with" {
                return Err(format!("unexpected {{{{{e}}}}}"));
            }
            vec![control(w, r, items, pos)?]
        }
        _ => return Err(format!("{word} without end")),
    };
    Ok(match word {
        "if" => Node::If(pipe, then, otherwise),
        "with" => Node::With(pipe, then, otherwise),
        _ => Node::Range(vars, pipe, then, otherwise),
    })
}

fn range_vars(toks: &[Tok]) -> Result<(Vec<String>, Pipe), String> {
    let var = |t: &Tok| match t {
        Tok::Field(Some(v), p) if p.is_empty() => Some(v.clone()),
        _ => None,
    };
    match toks {
        [a, Tok::Comma, b, Tok::Declare, rest @ ..] => {
            let (Some(a), Some(b)) = (var(a), var(b)) else {
                return Err("range can only initialize variables".to_owned());
            };
            Ok((vec![a, b], parse_pipe(rest)?))
        }
        [a, Tok::Declare, rest @ ..] => {
            let a = var(a).ok_or("range can only initialize variables")?;
            Ok((vec![a], parse_pipe(rest)?))
        }
        _ => Ok((Vec::new(), parse_pipe(toks)?)),
    }
}

/// A template value.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Dot,
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Map(LabelSet),
    Samples(Vec<QuerySample>),
    Sample(QuerySample),
}

impl V {
    fn truthy(&self) -> bool {
        match self {
            Self::Dot | Self::Sample(_) => true,
            Self::Nil => false,
            Self::Bool(b) => *b,
            Self::Int(i) => *i != 0,
            Self::Float(f) => *f != 0.0,
            Self::Str(s) => !s.is_empty(),
            Self::Map(m) => !m.is_empty(),
            Self::Samples(v) => !v.is_empty(),
        }
    }

    fn print(&self) -> String {
        match self {
            Self::Dot => "{}".to_owned(),
            Self::Nil => "<no value>".to_owned(),
            Self::Bool(b) => b.to_string(),
            Self::Int(i) => i.to_string(),
            Self::Float(f) => go_float(*f, 'g', None),
            Self::Str(s) => s.clone(),
            Self::Map(m) => format!(
                "map[{}]",
                m.iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Self::Sample(s) => format!("{{{} {}}}", V::Map(s.labels.clone()).print(), s.value),
            Self::Samples(v) => format!(
                "[{}]",
                v.iter()
                    .map(|s| V::Sample(s.clone()).print())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        }
    }

    fn float(&self) -> Result<f64, String> {
        match self {
            Self::Float(f) => Ok(*f),
            #[allow(clippy::cast_precision_loss)]
            Self::Int(i) => Ok(*i as f64),
            Self::Str(s) => s
                .trim()
                .parse()
                .map_err(|_| format!("strconv.ParseFloat: parsing {s:?}: invalid syntax")),
            other => Err(format!("cannot convert {} to a number", other.print())),
        }
    }
}

struct Eval<'a> {
    data: &'a TemplateData,
    queries: &'a BTreeMap<String, Vec<QuerySample>>,
    missing: Vec<String>,
    vars: Vec<(String, V)>,
    steps: usize,
}

/// Bound on evaluated nodes, so a template cannot loop a rule evaluation forever.
const MAX_STEPS: usize = 100_000;

impl Eval<'_> {
    fn nodes(&mut self, nodes: &[Node], dot: &V, out: &mut String) -> Result<(), String> {
        let scope = self.vars.len();
        let r = self.nodes_in_scope(nodes, dot, out);
        self.vars.truncate(scope);
        r
    }

    fn nodes_in_scope(&mut self, nodes: &[Node], dot: &V, out: &mut String) -> Result<(), String> {
        for n in nodes {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return Err("template evaluation takes too many steps".to_owned());
            }
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Action(p) => {
                    let v = self.pipe(p, dot)?;
                    if p.assign.is_none() {
                        out.push_str(&v.print());
                    }
                }
                Node::If(p, then, otherwise) => {
                    let branch = if self.pipe(p, dot)?.truthy() {
                        then
                    } else {
                        otherwise
                    };
                    self.nodes(branch, dot, out)?;
                }
                Node::With(p, then, otherwise) => {
                    let v = self.pipe(p, dot)?;
                    if v.truthy() {
                        self.nodes(then, &v, out)?;
                    } else {
                        self.nodes(otherwise, dot, out)?;
                    }
                }
                Node::Range(vars, p, body, otherwise) => {
                    let items: Vec<(V, V)> = match self.pipe(p, dot)? {
                        V::Map(m) => m.into_iter().map(|(k, v)| (V::Str(k), V::Str(v))).collect(),
                        V::Samples(s) => enumerate(s.into_iter().map(V::Sample)),
                        V::Int(n) => enumerate((0..n.max(0)).map(V::Int)),
                        V::Nil => Vec::new(),
                        other => return Err(format!("range can't iterate over {}", other.print())),
                    };
                    if items.is_empty() {
                        self.nodes(otherwise, dot, out)?;
                    }
                    for (k, v) in items {
                        let scope = self.vars.len();
                        match vars.as_slice() {
                            [one] => self.vars.push((one.clone(), v.clone())),
                            [a, b] => {
                                self.vars.push((a.clone(), k));
                                self.vars.push((b.clone(), v.clone()));
                            }
                            _ => {}
                        }
                        let r = self.nodes(body, &v, out);
                        self.vars.truncate(scope);
                        r?;
                    }
                }
            }
        }
        Ok(())
    }

    fn var(&self, name: &str) -> Result<V, String> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("undefined variable: {name}"))
    }

    fn pipe(&mut self, pipe: &Pipe, dot: &V) -> Result<V, String> {
        let mut prev = None;
        for cmd in &pipe.cmds {
            prev = Some(self.command(cmd, dot, prev)?);
        }
        let v = prev.ok_or("missing value for command")?;
        if let Some((name, declare)) = &pipe.assign {
            if *declare {
                self.vars.push((name.clone(), v.clone()));
            } else {
                let slot = self
                    .vars
                    .iter_mut()
                    .rev()
                    .find(|(n, _)| n == name)
                    .ok_or_else(|| format!("undefined variable: {name}"))?;
                slot.1 = v.clone();
            }
        }
        Ok(v)
    }

    fn field(&self, v: V, name: &str) -> Result<V, String> {
        Ok(match v {
            V::Dot => match name {
                "Labels" => V::Map(self.data.labels.clone()),
                "ExternalLabels" => V::Map(self.data.external_labels.clone()),
                "ExternalURL" => V::Str(self.data.external_url.clone()),
                "Value" => V::Float(self.data.value),
                _ => return Err(format!("can't evaluate field {name}")),
            },
            V::Map(m) => m.get(name).cloned().map_or(V::Nil, V::Str),
            V::Sample(s) => match name {
                "Labels" => V::Map(s.labels),
                "Value" => V::Float(s.value),
                _ => return Err(format!("can't evaluate field {name} in sample")),
            },
            V::Nil => V::Nil,
            other => return Err(format!("can't evaluate field {name} in {}", other.print())),
        })
    }

    fn arg(&mut self, a: &Arg, dot: &V) -> Result<V, String> {
        Ok(match a {
            Arg::Str(s) => V::Str(s.clone()),
            Arg::Int(i) => V::Int(*i),
            Arg::Float(f) => V::Float(*f),
            Arg::Bool(b) => V::Bool(*b),
            Arg::Nil => V::Nil,
            Arg::Sub(p) => self.pipe(p, dot)?,
            Arg::Field(var, path) => {
                let mut v = match var {
                    Some(name) => self.var(name)?,
                    None => dot.clone(),
                };
                for part in path {
                    v = self.field(v, part)?;
                }
                v
            }
            Arg::Func(f) => self.call(f, Vec::new())?,
        })
    }

    fn command(&mut self, cmd: &[Arg], dot: &V, piped: Option<V>) -> Result<V, String> {
        let Some(Arg::Func(func)) = cmd.first() else {
            if cmd.len() != 1 || piped.is_some() {
                return Err(format!("can't give argument to non-function {:?}", cmd[0]));
            }
            return self.arg(&cmd[0], dot);
        };
        // `and`/`or` stop at the first deciding argument, as in Go.
        if func == "and" || func == "or" {
            let mut last = V::Nil;
            for a in &cmd[1..] {
                last = self.arg(a, dot)?;
                if last.truthy() == (func == "or") {
                    return Ok(last);
                }
            }
            if let Some(p) = piped {
                last = p;
            }
            return Ok(last);
        }
        let mut args = Vec::with_capacity(cmd.len());
        for a in &cmd[1..] {
            args.push(self.arg(a, dot)?);
        }
        args.extend(piped);
        self.call(func, args)
    }

    fn call(&mut self, func: &str, args: Vec<V>) -> Result<V, String> {
        let want = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!(
                    "wrong number of args for {func}: want {n} got {}",
                    args.len()
                ))
            }
        };
        let s = |i: usize| args[i].print();
        Ok(match func {
            "not" => {
                want(1)?;
                V::Bool(!args[0].truthy())
            }
            "len" => {
                want(1)?;
                V::Int(
                    i64::try_from(match &args[0] {
                        V::Str(s) => s.len(),
                        V::Map(m) => m.len(),
                        V::Samples(v) => v.len(),
                        other => return Err(format!("len of {}", other.print())),
                    })
                    .map_err(|e| e.to_string())?,
                )
            }
            "index" => {
                want(2)?;
                match (&args[0], &args[1]) {
                    (V::Map(m), k) => m.get(&k.print()).cloned().map_or(V::Nil, V::Str),
                    (V::Samples(v), V::Int(i)) => usize::try_from(*i)
                        .ok()
                        .and_then(|i| v.get(i))
                        .cloned()
                        .map(V::Sample)
                        .ok_or("index out of range")?,
                    _ => return Err("can't index item".to_owned()),
                }
            }
            "print" => V::Str(go_print(&args, false)),
            "println" => V::Str(go_print(&args, true) + "\n"),
            "printf" => {
                let (fmt, rest) = args.split_first().ok_or("printf needs a format")?;
                V::Str(sprintf(&fmt.print(), rest))
            }
            "eq" | "ne" | "lt" | "le" | "gt" | "ge" => {
                if args.len() < 2 {
                    return Err(format!("missing argument for comparison {func}"));
                }
                let ord = |a: &V, b: &V| -> Result<std::cmp::Ordering, String> {
                    match (a, b) {
                        (V::Str(x), V::Str(y)) => Ok(x.cmp(y)),
                        (V::Bool(x), V::Bool(y)) => Ok(x.cmp(y)),
                        (V::Int(x), V::Int(y)) => Ok(x.cmp(y)),
                        (V::Nil, V::Nil) => Ok(std::cmp::Ordering::Equal),
                        (x, y) => x
                            .float()
                            .and_then(|x| Ok((x, y.float()?)))
                            .map_err(|_| "incompatible types for comparison".to_owned())?
                            .0
                            .partial_cmp(&y.float()?)
                            .ok_or_else(|| "NaN is not comparable".to_owned()),
                    }
                };
                use std::cmp::Ordering as O;
                if func == "eq" {
                    let mut any = false;
                    for b in &args[1..] {
                        any |= ord(&args[0], b)? == O::Equal;
                    }
                    V::Bool(any)
                } else {
                    want(2)?;
                    let o = ord(&args[0], &args[1])?;
                    V::Bool(match func {
                        "ne" => o != O::Equal,
                        "lt" => o == O::Less,
                        "le" => o != O::Greater,
                        "gt" => o == O::Greater,
                        _ => o != O::Less,
                    })
                }
            }
            "html" | "safeHtml" => {
                want(1)?;
                V::Str(if func == "html" {
                    s(0).replace('&', "&amp;")
                        .replace('<', "&lt;")
                        .replace('>', "&gt;")
                        .replace('"', "&#34;")
                        .replace('\'', "&#39;")
                } else {
                    s(0)
                })
            }
            "js" => {
                want(1)?;
                V::Str(
                    s(0).replace('\\', "\\\\")
                        .replace('\'', "\\'")
                        .replace('"', "\\\"")
                        .replace('<', "\\u003C")
                        .replace('>', "\\u003E"),
                )
            }
            "urlquery" => {
                want(1)?;
                V::Str(
                    serde_urlencoded::to_string([("", s(0))])
                        .map_or_else(|_| String::new(), |q| q.trim_start_matches('=').to_owned()),
                )
            }
            "query" => {
                want(1)?;
                let q = s(0);
                match self.queries.get(&q) {
                    Some(r) => V::Samples(r.clone()),
                    None => {
                        if !self.missing.contains(&q) {
                            self.missing.push(q);
                        }
                        V::Samples(Vec::new())
                    }
                }
            }
            "first" => {
                want(1)?;
                match &args[0] {
                    V::Samples(v) => v
                        .first()
                        .cloned()
                        .map(V::Sample)
                        .ok_or("first() called on vector with no elements")?,
                    _ => return Err("first() needs a query result".to_owned()),
                }
            }
            "label" => {
                want(2)?;
                match &args[1] {
                    V::Sample(x) => V::Str(x.labels.get(&s(0)).cloned().unwrap_or_default()),
                    _ => return Err("label() needs a sample".to_owned()),
                }
            }
            "value" => {
                want(1)?;
                match &args[0] {
                    V::Sample(x) => V::Float(x.value),
                    _ => return Err("value() needs a sample".to_owned()),
                }
            }
            "strvalue" => {
                want(1)?;
                match &args[0] {
                    V::Sample(x) => V::Str(x.labels.get("__value__").cloned().unwrap_or_default()),
                    _ => return Err("strvalue() needs a sample".to_owned()),
                }
            }
            "sortByLabel" => {
                want(2)?;
                let key = s(0);
                let V::Samples(mut v) = args[1].clone() else {
                    return Err("sortByLabel() needs a query result".to_owned());
                };
                v.sort_by(|a, b| a.labels.get(&key).cmp(&b.labels.get(&key)));
                V::Samples(v)
            }
            "humanize" | "humanize1024" | "humanizeDuration" | "humanizePercentage"
            | "humanizeTimestamp" | "toTime" => {
                want(1)?;
                let v = args[0].float()?;
                match func {
                    "humanize" => V::Str(humanize(v)),
                    "humanize1024" => V::Str(humanize1024(v)),
                    "humanizeDuration" => V::Str(humanize_duration(v)),
                    "humanizePercentage" => {
                        V::Str(format!("{}%", go_float(v * 100.0, 'g', Some(4))))
                    }
                    _ => V::Str(go_time(v)?),
                }
            }
            "title" | "toUpper" | "toLower" => {
                want(1)?;
                V::Str(match func {
                    "title" => super::title(&s(0)),
                    "toUpper" => s(0).to_uppercase(),
                    _ => s(0).to_lowercase(),
                })
            }
            "match" => {
                want(2)?;
                let re = regex::Regex::new(&s(0)).map_err(|e| e.to_string())?;
                V::Bool(re.is_match(&s(1)))
            }
            "reReplaceAll" => {
                want(3)?;
                let re = regex::Regex::new(&s(0)).map_err(|e| e.to_string())?;
                // Go's `$1` / `${name}` replacement syntax is the regex crate's too.
                V::Str(re.replace_all(&s(2), s(1).as_str()).into_owned())
            }
            "args" => V::Map(
                args.iter()
                    .enumerate()
                    .map(|(i, a)| (format!("arg{i}"), a.print()))
                    .collect(),
            ),
            "externalURL" => V::Str(self.data.external_url.clone()),
            "pathPrefix" => V::Str(
                url_path(&self.data.external_url)
                    .trim_end_matches('/')
                    .to_owned(),
            ),
            "tableLink" | "graphLink" => {
                want(1)?;
                let expr = serde_urlencoded::to_string([("g0.expr", s(0))]).unwrap_or_default();
                let tab = if func == "tableLink" { 1 } else { 0 };
                V::Str(format!("/graph?{expr}&g0.tab={tab}"))
            }
            "stripPort" => {
                want(1)?;
                let h = s(0);
                V::Str(match h.rsplit_once(':') {
                    Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_owned(),
                    _ => h,
                })
            }
            "stripDomain" => {
                want(1)?;
                let h = s(0);
                let (host, port) = match h.rsplit_once(':') {
                    Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => {
                        (host.to_owned(), format!(":{port}"))
                    }
                    _ => (h.clone(), String::new()),
                };
                if host.parse::<std::net::IpAddr>().is_ok() {
                    V::Str(h)
                } else {
                    V::Str(format!("{}{port}", host.split('.').next().unwrap_or("")))
                }
            }
            "parseDuration" => {
                want(1)?;
                let ms = ampd_promql::parse_duration_ms(&s(0))?;
                #[allow(clippy::cast_precision_loss)]
                V::Float(ms as f64 / 1000.0)
            }
            other => return Err(format!("function {other:?} not defined")),
        })
    }
}

fn enumerate(items: impl Iterator<Item = V>) -> Vec<(V, V)> {
    items
        .enumerate()
        .map(|(i, v)| (V::Int(i64::try_from(i).unwrap_or(i64::MAX)), v))
        .collect()
}

fn url_path(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
    after_scheme.find('/').map_or("", |p| &after_scheme[p..])
}

/// Go's `fmt.Sprint`/`Sprintln` spacing: `Sprint` adds spaces between operands when neither
/// is a string, `Sprintln` always does.
fn go_print(args: &[V], always_space: bool) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && (always_space || !(matches!(a, V::Str(_)) || matches!(args[i - 1], V::Str(_))))
        {
            out.push(' ');
        }
        out.push_str(&a.print());
    }
    out
}

/// A subset of Go's `fmt.Sprintf`: verbs `v s q d f F e E g G x X t %` with flags `-+ 0#`,
/// width and precision.
fn sprintf(fmt: &str, args: &[V]) -> String {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    let mut next = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&f) = chars.peek() {
            if "-+ 0#".contains(f) {
                flags.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(p.parse::<usize>().unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        next += 1;
        let body = match (verb, arg) {
            ('d', V::Int(i)) => i.to_string(),
            #[allow(clippy::cast_possible_truncation)]
            ('d', V::Float(f)) => format!("%!d(float64={})", go_float(*f, 'g', None)),
            ('x' | 'X', V::Int(i)) => {
                let h = format!("{i:x}");
                if verb == 'X' { h.to_uppercase() } else { h }
            }
            ('x' | 'X', v) => {
                let h: String = v.print().bytes().map(|b| format!("{b:02x}")).collect();
                if verb == 'X' { h.to_uppercase() } else { h }
            }
            ('f' | 'F' | 'e' | 'E' | 'g' | 'G', v) => match v.float() {
                Ok(f) => {
                    let lower = verb.to_ascii_lowercase();
                    let p = precision.or(if lower == 'g' { None } else { Some(6) });
                    let mut s = go_float(f, lower, p);
                    if verb.is_ascii_uppercase() {
                        s = s.to_uppercase();
                    }
                    if flags.contains('+') && f >= 0.0 {
                        s.insert(0, '+');
                    }
                    s
                }
                Err(_) => format!("%!{verb}({})", v.print()),
            },
            ('q', v) => format!("{:?}", v.print()),
            ('t', V::Bool(b)) => b.to_string(),
            ('s' | 'v', v) => {
                let s = v.print();
                match precision {
                    Some(p) if verb == 's' => s.chars().take(p).collect(),
                    _ => s,
                }
            }
            (verb, v) => format!("%!{verb}({})", v.print()),
        };
        let width: usize = width.parse().unwrap_or(0);
        let pad = width.saturating_sub(body.chars().count());
        if flags.contains('-') {
            out.push_str(&body);
            out.extend(std::iter::repeat_n(' ', pad));
        } else if flags.contains('0') && matches!(arg, V::Int(_) | V::Float(_)) {
            let (sign, digits) = match body.strip_prefix('-') {
                Some(d) => ("-", d),
                None => ("", body.as_str()),
            };
            out.push_str(sign);
            out.extend(std::iter::repeat_n('0', pad));
            out.push_str(digits);
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&body);
        }
    }
    if next < args.len() {
        let extra: Vec<String> = args[next..].iter().map(V::print).collect();
        let _ = write!(out, "%!(EXTRA {})", extra.join(", "));
    }
    out
}

/// Formats `f` like Go's `strconv.FormatFloat(f, verb, precision, 64)` for `e`, `f` and `g`;
/// `None` precision means the shortest representation that reads back exactly.
pub(crate) fn go_float(f: f64, verb: char, precision: Option<usize>) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    match verb {
        'f' => match precision {
            Some(p) => format!("{f:.p$}"),
            None => format!("{f}"),
        },
        'e' => {
            let s = match precision {
                Some(p) => format!("{f:.p$e}"),
                None => format!("{f:e}"),
            };
            go_exponent(&s)
        }
        _ => {
            let Some(p) = precision else {
                return ampd_promql::go_float(f);
            };
            // Go's %.Ng: N significant digits, trailing zeros dropped, exponent form when the
            // exponent is < -4 or >= the precision (capped at the digit count).
            let sci = format!("{:.*e}", p.max(1) - 1, f);
            let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
            let exp: i64 = exp.parse().unwrap_or(0);
            let neg = mantissa.starts_with('-');
            let digits = mantissa.trim_start_matches('-').replace('.', "");
            let digits = digits.trim_end_matches('0');
            let digits = if digits.is_empty() { "0" } else { digits };
            let nd = i64::try_from(digits.len()).unwrap_or(1);
            let dp = exp + 1;
            let mut eprec = i64::try_from(p.max(1)).unwrap_or(1);
            if eprec > nd && nd >= dp {
                eprec = nd;
            }
            let sign = if neg { "-" } else { "" };
            if exp < -4 || exp >= eprec {
                let frac = if digits.len() > 1 {
                    format!(".{}", &digits[1..])
                } else {
                    String::new()
                };
                go_exponent(&format!("{sign}{}{frac}e{exp}", &digits[..1]))
            } else {
                let decimals = usize::try_from((nd - dp).max(0)).unwrap_or(0);
                format!("{f:.decimals$}")
            }
        }
    }
}

/// Rewrites Rust's `1.5e3` exponent as Go's `1.5e+03`.
fn go_exponent(s: &str) -> String {
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s.to_owned(),
    }
}

fn humanize(v: f64) -> String {
    if v == 0.0 || v.is_nan() || v.is_infinite() {
        return go_float(v, 'g', Some(4));
    }
    let (mut v, mut prefix) = (v, "");
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", go_float(v, 'g', Some(4)))
}

fn humanize1024(v: f64) -> String {
    if v.abs() <= 1.0 || v.is_nan() || v.is_infinite() {
        return go_float(v, 'g', Some(4));
    }
    let (mut v, mut prefix) = (v, "");
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", go_float(v, 'g', Some(4)))
}

#[allow(clippy::cast_possible_truncation)]
fn humanize_duration(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return go_float(v, 'g', Some(4));
    }
    if v == 0.0 {
        return "0s".to_owned();
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let v = v.abs();
        let whole = v as i64;
        let (days, hours, minutes) = (whole / 86_400, whole / 3600 % 24, whole / 60 % 60);
        let seconds = go_float(v % 60.0, 'g', Some(4));
        return if days != 0 {
            format!("{sign}{days}d {hours}h {minutes}m {seconds}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {minutes}m {seconds}s")
        } else if minutes != 0 {
            format!("{sign}{minutes}m {seconds}s")
        } else {
            format!("{sign}{seconds}s")
        };
    }
    let (mut v, mut prefix) = (v, "");
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", go_float(v, 'g', Some(4)))
}

/// Formats unix seconds as Go's `time.Time` prints in UTC.
#[allow(clippy::cast_possible_truncation)]
fn go_time(v: f64) -> Result<String, String> {
    if v.is_nan() || v.is_infinite() {
        return Ok(go_float(v, 'g', Some(4)));
    }
    let nanos = (v * 1e9).round() as i128;
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|e| e.to_string())?;
    let mut s = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if t.nanosecond() != 0 {
        let frac = format!("{:09}", t.nanosecond());
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push_str(" +0000 UTC");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> TemplateData {
        TemplateData {
            labels: LabelSet::from([
                ("instance".to_owned(), "host-1:9100".to_owned()),
                ("job".to_owned(), "node".to_owned()),
            ]),
            external_labels: LabelSet::from([("cluster".to_owned(), "eu".to_owned())]),
            external_url: "http://ampd.example/prom".to_owned(),
            value: 1234.5678,
        }
    }

    fn run(text: &str) -> String {
        match expand("t", text, &data(), &BTreeMap::new()).unwrap() {
            Expansion::Done(s) => s,
            Expansion::Missing(q) => panic!("missing {q:?}"),
        }
    }

    #[test]
    fn variables_fields_and_humanize() {
        assert_eq!(
            run("{{ $labels.instance }} is {{ $value }}"),
            "host-1:9100 is 1234.5678"
        );
        assert_eq!(
            run("{{ .Labels.job }}/{{ $externalLabels.cluster }}"),
            "node/eu"
        );
        assert_eq!(run("{{ $value | humanize }}"), "1.235k");
        assert_eq!(run("{{ humanize1024 2048 }}"), "2ki");
        assert_eq!(run("{{ humanize 0.0012 }}"), "1.2m");
        assert_eq!(run("{{ humanizeDuration 90061 }}"), "1d 1h 1m 1s");
        assert_eq!(run("{{ humanizeDuration 0.25 }}"), "250ms");
        assert_eq!(run("{{ humanizePercentage 0.1234 }}"), "12.34%");
        assert_eq!(
            run("{{ humanizeTimestamp 1435065584.128 }}"),
            "2015-06-23 13:19:44.128 +0000 UTC"
        );
        assert_eq!(run("{{ printf \"%.2f\" $value }}"), "1234.57");
        assert_eq!(run("{{ printf \"%s=%d\" \"a\" 3 }}"), "a=3");
        assert_eq!(run("{{ $labels.instance | stripPort }}"), "host-1");
        assert_eq!(
            run("{{ reReplaceAll \"(.*):.*\" \"$1\" $labels.instance }}"),
            "host-1"
        );
        assert_eq!(run("{{ pathPrefix }}"), "/prom");
    }

    #[test]
    fn control_flow_and_declarations() {
        assert_eq!(
            run(
                "{{ if gt $value 1000.0 }}big{{ else if gt $value 10.0 }}mid{{ else }}small{{ end }}"
            ),
            "big"
        );
        assert_eq!(run("{{ $x := \"a\" }}{{ $x = \"b\" }}{{ $x }}"), "b");
        assert_eq!(
            run("{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}"),
            "instance=host-1:9100;job=node;"
        );
        assert_eq!(
            run("{{ with $labels.missing }}x{{ else }}none{{ end }}"),
            "none"
        );
        assert_eq!(run("{{ and 1 0 }} {{ or 0 \"y\" }}"), "0 y");
        assert!(expand("t", "{{ nosuch }}", &data(), &BTreeMap::new()).is_err());
        assert!(expand("t", "{{ if 1 }}", &data(), &BTreeMap::new()).is_err());
    }

    #[test]
    fn query_results_come_in_a_second_pass() {
        let text = "{{ with query \"up\" }}{{ . | first | value | humanize }} on {{ . | first | label \"job\" }}{{ end }}";
        let first = expand("t", text, &data(), &BTreeMap::new()).unwrap();
        assert_eq!(first, Expansion::Missing(vec!["up".to_owned()]));
        let results = BTreeMap::from([(
            "up".to_owned(),
            vec![QuerySample {
                labels: LabelSet::from([("job".to_owned(), "api".to_owned())]),
                value: 1.0,
            }],
        )]);
        assert_eq!(
            expand("t", text, &data(), &results).unwrap(),
            Expansion::Done("1 on api".to_owned())
        );
    }

    #[test]
    fn go_float_formats() {
        assert_eq!(go_float(1.0, 'e', None), "1e+00");
        assert_eq!(go_float(0.000123, 'e', None), "1.23e-04");
        assert_eq!(go_float(1e21, 'g', None), "1e+21");
        assert_eq!(go_float(123456.0, 'g', Some(4)), "1.235e+05");
        assert_eq!(go_float(12.5, 'g', Some(4)), "12.5");
        assert_eq!(go_float(0.5, 'g', None), "0.5");
        assert_eq!(go_float(f64::INFINITY, 'g', None), "+Inf");
    }
}
