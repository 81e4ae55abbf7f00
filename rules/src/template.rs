//! Notification templates: a subset of Go `text/template` over Alertmanager's data model.
//!
//! No maintained Rust crate implements Go templates with the functions Alertmanager adds, so
//! this module interprets the subset notification templates use:
//! - actions `{{ pipeline }}` with trim markers `{{-` / `-}}` and `{{/* comments */}}`;
//! - `if` / `else` / `end`, `range` (over alerts, label pairs, lists) with `else`, `with`;
//! - `define "name"` in template files and `template "name" pipeline`;
//! - fields `.Status .Receiver .ExternalURL .GroupLabels .CommonLabels .CommonAnnotations
//!   .Alerts .Alerts.Firing .Alerts.Resolved`, per alert `.Status .Labels .Annotations
//!   .StartsAt .EndsAt .GeneratorURL .Fingerprint`, label maps `.name .SortedPairs .Names
//!   .Values`, pairs `.Name .Value`, and `$` for the top-level data;
//! - functions `len toUpper toLower title join eq ne lt le gt ge not and or`, pipes `|` and
//!   parenthesised sub-pipelines; string and integer literals.
//!
//! Anything else is refused when the definition is validated, never at send time.
//! `sns.default.subject`, `sns.default.message` and `__subject` are built in.

pub(crate) mod expand;

use std::collections::BTreeMap;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::config::Definition;
use crate::matchers::LabelSet;
use crate::notify::{NotificationData, NotifiedAlert};

/// A template that does not parse or cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template {name:?}: {message}")]
pub struct TemplateError {
    /// Template (file or field) name.
    pub name: String,
    /// What is wrong.
    pub message: String,
}

/// The compiled `define`s of a definition's template files.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    defines: Arc<BTreeMap<String, Vec<Node>>>,
}

impl Templates {
    /// Compiles the template files and checks every SNS subject and message template.
    pub fn compile(def: &Definition) -> Result<Self, TemplateError> {
        let mut defines = BTreeMap::new();
        for (file, text) in &def.template_files {
            let nodes = parse(text).map_err(|message| TemplateError {
                name: file.clone(),
                message,
            })?;
            collect_defines(nodes, &mut defines);
        }
        let templates = Self {
            defines: Arc::new(defines),
        };
        for r in &def.config.receivers {
            for sns in &r.sns_configs {
                for (field, text) in [("subject", &sns.subject), ("message", &sns.message)] {
                    if let Some(text) = text {
                        parse(text).map_err(|message| TemplateError {
                            name: format!("{}: sns {field}", r.name),
                            message,
                        })?;
                    }
                }
            }
        }
        Ok(templates)
    }

    /// Renders an SNS subject: the configured template or `sns.default.subject`.
    pub fn render_sns_subject(
        &self,
        text: Option<&str>,
        data: &NotificationData,
    ) -> Result<String, TemplateError> {
        self.render_or(text, data, "subject", default_subject)
    }

    /// Renders an SNS message: the configured template or `sns.default.message`.
    pub fn render_sns_message(
        &self,
        text: Option<&str>,
        data: &NotificationData,
    ) -> Result<String, TemplateError> {
        self.render_or(text, data, "message", default_message)
    }

    fn render_or(
        &self,
        text: Option<&str>,
        data: &NotificationData,
        name: &str,
        default: fn(&NotificationData) -> String,
    ) -> Result<String, TemplateError> {
        let Some(text) = text else {
            return Ok(default(data));
        };
        let err = |message| TemplateError {
            name: name.to_owned(),
            message,
        };
        let nodes = parse(text).map_err(err)?;
        let mut out = String::new();
        Eval {
            t: self,
            root: data,
            depth: 0,
        }
        .nodes(&nodes, &Val::Data(data), &mut out)
        .map_err(err)?;
        Ok(out)
    }
}

fn collect_defines(nodes: Vec<Node>, into: &mut BTreeMap<String, Vec<Node>>) {
    for n in nodes {
        if let Node::Define(name, body) = n {
            into.insert(name, body);
        }
    }
}

/// `[FIRING:2] <group label values> (<other common label values>)`.
fn default_subject(d: &NotificationData) -> String {
    let mut s = format!("[{}", d.status.to_uppercase());
    if d.status == "firing" {
        s.push_str(&format!(":{}", d.alerts_with("firing").count()));
    }
    s.push_str("] ");
    s.push_str(
        &d.group_labels
            .values()
            .cloned()
            .collect::<Vec<_>>()
            .join(" "),
    );
    let extra: Vec<&String> = d
        .common_labels
        .iter()
        .filter(|(k, _)| !d.group_labels.contains_key(*k))
        .map(|(_, v)| v)
        .collect();
    if !extra.is_empty() {
        s.push_str(&format!(
            " ({})",
            extra
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    s.trim_end().to_owned()
}

/// Common annotations, then each firing and resolved alert with labels, annotations and source.
fn default_message(d: &NotificationData) -> String {
    let mut s = d
        .common_annotations
        .values()
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    s.push('\n');
    for (status, title) in [
        ("firing", "Alerts Firing:"),
        ("resolved", "Alerts Resolved:"),
    ] {
        let alerts: Vec<&NotifiedAlert> = d.alerts_with(status).collect();
        if alerts.is_empty() {
            continue;
        }
        s.push_str(title);
        s.push('\n');
        for a in alerts {
            s.push_str("Labels:\n");
            for (k, v) in &a.labels {
                s.push_str(&format!(" - {k} = {v}\n"));
            }
            s.push_str("Annotations:\n");
            for (k, v) in &a.annotations {
                s.push_str(&format!(" - {k} = {v}\n"));
            }
            s.push_str(&format!("Source: {}\n\n", a.generator_url));
        }
    }
    s
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Action(Pipe),
    If(Pipe, Vec<Node>, Vec<Node>),
    Range(Pipe, Vec<Node>, Vec<Node>),
    With(Pipe, Vec<Node>, Vec<Node>),
    Template(String, Option<Pipe>),
    Define(String, Vec<Node>),
}

type Pipe = Vec<Vec<Arg>>;

#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Field { root: bool, path: Vec<String> },
    Str(String),
    Int(i64),
    Ident(String),
    Sub(Pipe),
}

const FUNCS: &[&str] = &[
    "len", "toUpper", "toLower", "title", "join", "eq", "ne", "lt", "le", "gt", "ge", "not", "and",
    "or",
];

enum Item {
    Text(String),
    Action(String),
}

/// Splits `src` into text and action bodies, applying trim markers and dropping comments.
fn lex(src: &str) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    let mut rest = src;
    let mut trim_next = false;
    while let Some(open) = rest.find("{{") {
        let mut text = &rest[..open];
        if trim_next {
            text = text.trim_start();
        }
        let after = &rest[open + 2..];
        let (after, trim_prev) = match after.strip_prefix("- ") {
            Some(a) => (a, true),
            None => (after, false),
        };
        if trim_prev {
            text = text.trim_end();
        }
        if !text.is_empty() {
            items.push(Item::Text(text.to_owned()));
        }
        let close = after.find("}}").ok_or("unclosed action")?;
        let mut body = &after[..close];
        trim_next = false;
        if let Some(b) = body.strip_suffix(" -") {
            body = b;
            trim_next = true;
        }
        let body = body.trim();
        if !(body.starts_with("/*") && body.ends_with("*/")) {
            items.push(Item::Action(body.to_owned()));
        }
        rest = &after[close + 2..];
    }
    let text = if trim_next { rest.trim_start() } else { rest };
    if !text.is_empty() {
        items.push(Item::Text(text.to_owned()));
    }
    Ok(items)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Int(i64),
    Field { root: bool, path: Vec<String> },
    Ident(String),
    Pipe,
    Open,
    Close,
}

fn tokens(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
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
            '"' | '`' => {
                let mut v = String::new();
                i += 1;
                loop {
                    let ch = *chars.get(i).ok_or("unterminated string")?;
                    i += 1;
                    match ch {
                        _ if ch == c => break,
                        '\\' if c == '"' => {
                            let e = *chars.get(i).ok_or("unterminated string")?;
                            i += 1;
                            v.push(match e {
                                'n' => '\n',
                                't' => '\t',
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
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let root = word.starts_with('$');
                let rest = word.trim_start_matches('$');
                let path: Vec<String> = rest
                    .split('.')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect();
                if root && !(rest.is_empty() || rest.starts_with('.')) {
                    return Err(format!("variables are not supported: {word}"));
                }
                out.push(Tok::Field { root, path });
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                out.push(Tok::Int(
                    word.parse().map_err(|_| format!("bad number {word}"))?,
                ));
            }
            c if c.is_alphabetic() => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character {other:?} in action")),
        }
    }
    Ok(out)
}

fn parse_pipe(toks: &[Tok]) -> Result<Pipe, String> {
    let mut pos = 0;
    let pipe = pipe_at(toks, &mut pos)?;
    if pos != toks.len() {
        return Err("unexpected ')'".to_owned());
    }
    if pipe.is_empty() || pipe.iter().any(Vec::is_empty) {
        return Err("empty pipeline".to_owned());
    }
    Ok(pipe)
}

fn pipe_at(toks: &[Tok], pos: &mut usize) -> Result<Pipe, String> {
    let mut pipe = vec![Vec::new()];
    while let Some(t) = toks.get(*pos) {
        *pos += 1;
        let arg = match t {
            Tok::Close => {
                *pos -= 1;
                break;
            }
            Tok::Pipe => {
                pipe.push(Vec::new());
                continue;
            }
            Tok::Open => {
                let sub = pipe_at(toks, pos)?;
                if toks.get(*pos) != Some(&Tok::Close) {
                    return Err("missing ')'".to_owned());
                }
                *pos += 1;
                Arg::Sub(sub)
            }
            Tok::Str(s) => Arg::Str(s.clone()),
            Tok::Int(i) => Arg::Int(*i),
            Tok::Field { root, path } => Arg::Field {
                root: *root,
                path: path.clone(),
            },
            Tok::Ident(id) if FUNCS.contains(&id.as_str()) => Arg::Ident(id.clone()),
            Tok::Ident(id) => return Err(format!("function {id:?} not supported")),
        };
        if let Some(cmd) = pipe.last_mut() {
            cmd.push(arg);
        }
    }
    Ok(pipe)
}

/// Parses a template into nodes.
fn parse(src: &str) -> Result<Vec<Node>, String> {
    let items = lex(src)?;
    let mut pos = 0;
    let (nodes, end) = parse_block(&items, &mut pos)?;
    match end {
        None => Ok(nodes),
        Some(e) => Err(format!("unexpected {{{{{e}}}}}")),
    }
}

/// Parses nodes until `end`/`else`, returning which one stopped the block.
fn parse_block(items: &[Item], pos: &mut usize) -> Result<(Vec<Node>, Option<String>), String> {
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
            "if" | "range" | "with" => {
                if rest.trim_start().starts_with('$') {
                    return Err("variables are not supported".to_owned());
                }
                let pipe = parse_pipe(&tokens(rest)?)?;
                let (then, end) = parse_block(items, pos)?;
                let otherwise = match end.as_deref() {
                    Some("end") => Vec::new(),
                    Some("else") => match parse_block(items, pos)? {
                        (n, Some(e)) if e == "end" => n,
                        _ => return Err(format!("{word} without end")),
                    },
                    Some(other) => return Err(format!("{{{{{other}}}}} is not supported")),
                    None => return Err(format!("{word} without end")),
                };
                nodes.push(match word {
                    "if" => Node::If(pipe, then, otherwise),
                    "range" => Node::Range(pipe, then, otherwise),
                    _ => Node::With(pipe, then, otherwise),
                });
            }
            "define" | "template" => {
                let toks = tokens(rest)?;
                let Some(Tok::Str(name)) = toks.first() else {
                    return Err(format!("{word} needs a quoted name"));
                };
                if word == "define" {
                    let (body, end) = parse_block(items, pos)?;
                    if end.as_deref() != Some("end") {
                        return Err(format!("define {name:?} without end"));
                    }
                    nodes.push(Node::Define(name.clone(), body));
                } else {
                    let arg = if toks.len() > 1 {
                        Some(parse_pipe(&toks[1..])?)
                    } else {
                        None
                    };
                    nodes.push(Node::Template(name.clone(), arg));
                }
            }
            _ => nodes.push(Node::Action(parse_pipe(&tokens(body)?)?)),
        }
    }
    Ok((nodes, None))
}

#[derive(Debug, Clone)]
enum Val<'a> {
    Data(&'a NotificationData),
    Alerts(Vec<&'a NotifiedAlert>),
    Alert(&'a NotifiedAlert),
    Map(LabelSet),
    Pairs(Vec<(String, String)>),
    Pair(String, String),
    List(Vec<String>),
    Str(String),
    Int(i64),
    Bool(bool),
    Time(OffsetDateTime),
}

impl Val<'_> {
    fn truthy(&self) -> bool {
        match self {
            Self::Data(_) | Self::Alert(_) | Self::Pair(..) | Self::Time(_) => true,
            Self::Alerts(v) => !v.is_empty(),
            Self::Map(m) => !m.is_empty(),
            Self::Pairs(v) => !v.is_empty(),
            Self::List(v) => !v.is_empty(),
            Self::Str(s) => !s.is_empty(),
            Self::Int(i) => *i != 0,
            Self::Bool(b) => *b,
        }
    }

    fn print(&self) -> Result<String, String> {
        Ok(match self {
            Self::Str(s) => s.clone(),
            Self::Int(i) => i.to_string(),
            Self::Bool(b) => b.to_string(),
            Self::List(v) => format!("[{}]", v.join(" ")),
            Self::Map(m) => format!(
                "map[{}]",
                m.iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Self::Time(t) => format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} +0000 UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            _ => return Err("value cannot be printed".to_owned()),
        })
    }

    fn len(&self) -> Result<i64, String> {
        let n = match self {
            Self::Alerts(v) => v.len(),
            Self::Map(m) => m.len(),
            Self::Pairs(v) => v.len(),
            Self::List(v) => v.len(),
            Self::Str(s) => s.len(),
            _ => return Err("len of a value without length".to_owned()),
        };
        i64::try_from(n).map_err(|e| e.to_string())
    }

    fn field(self, name: &str) -> Result<Self, String> {
        let bad = || format!("no field {name:?}");
        Ok(match self {
            Self::Data(d) => match name {
                "Status" => Self::Str(d.status.to_owned()),
                "Receiver" => Self::Str(d.receiver.clone()),
                "ExternalURL" => Self::Str(d.external_url.clone()),
                "GroupLabels" => Self::Map(d.group_labels.clone()),
                "CommonLabels" => Self::Map(d.common_labels.clone()),
                "CommonAnnotations" => Self::Map(d.common_annotations.clone()),
                "Alerts" => Self::Alerts(d.alerts.iter().collect()),
                _ => return Err(bad()),
            },
            Self::Alerts(v) => match name {
                "Firing" | "Resolved" => {
                    let want = if name == "Firing" {
                        "firing"
                    } else {
                        "resolved"
                    };
                    Self::Alerts(v.into_iter().filter(|a| a.status == want).collect())
                }
                _ => return Err(bad()),
            },
            Self::Alert(a) => match name {
                "Status" => Self::Str(a.status.to_owned()),
                "Labels" => Self::Map(a.labels.clone()),
                "Annotations" => Self::Map(a.annotations.clone()),
                "StartsAt" => Self::Time(a.starts_at),
                "EndsAt" => Self::Time(a.ends_at),
                "GeneratorURL" => Self::Str(a.generator_url.clone()),
                "Fingerprint" => Self::Str(a.fingerprint.clone()),
                _ => return Err(bad()),
            },
            Self::Map(m) => match name {
                "SortedPairs" => Self::Pairs(m.into_iter().collect()),
                "Names" => Self::List(m.into_keys().collect()),
                "Values" => Self::List(m.into_values().collect()),
                // A missing key reads as the empty string, like a Go map.
                key => Self::Str(m.get(key).cloned().unwrap_or_default()),
            },
            Self::Pairs(p) => match name {
                "Names" => Self::List(p.into_iter().map(|(k, _)| k).collect()),
                "Values" => Self::List(p.into_iter().map(|(_, v)| v).collect()),
                _ => return Err(bad()),
            },
            Self::Pair(k, v) => match name {
                "Name" => Self::Str(k),
                "Value" => Self::Str(v),
                _ => return Err(bad()),
            },
            _ => return Err(bad()),
        })
    }
}

struct Eval<'a> {
    t: &'a Templates,
    root: &'a NotificationData,
    depth: usize,
}

impl<'a> Eval<'a> {
    fn nodes(&mut self, nodes: &[Node], dot: &Val<'a>, out: &mut String) -> Result<(), String> {
        for n in nodes {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Action(p) => out.push_str(&self.pipe(p, dot)?.print()?),
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
                        self.nodes(then, &v, out)?
                    } else {
                        self.nodes(otherwise, dot, out)?
                    }
                }
                Node::Range(p, body, otherwise) => {
                    let items: Vec<Val<'a>> = match self.pipe(p, dot)? {
                        Val::Alerts(v) => v.into_iter().map(Val::Alert).collect(),
                        Val::Pairs(v) => v.into_iter().map(|(k, v)| Val::Pair(k, v)).collect(),
                        Val::List(v) => v.into_iter().map(Val::Str).collect(),
                        Val::Map(m) => m.into_values().map(Val::Str).collect(),
                        _ => return Err("range over a value that is not a list".to_owned()),
                    };
                    if items.is_empty() {
                        self.nodes(otherwise, dot, out)?;
                    }
                    for item in &items {
                        self.nodes(body, item, out)?;
                    }
                }
                Node::Template(name, arg) => {
                    let v = match arg {
                        Some(p) => self.pipe(p, dot)?,
                        None => dot.clone(),
                    };
                    self.call(name, &v, out)?;
                }
                // Definitions inside a rendered template take effect only in template files.
                Node::Define(..) => {}
            }
        }
        Ok(())
    }

    fn call(&mut self, name: &str, dot: &Val<'a>, out: &mut String) -> Result<(), String> {
        if self.depth > 32 {
            return Err("template calls nest too deep".to_owned());
        }
        if let Some(body) = self.t.defines.get(name) {
            self.depth += 1;
            let r = self.nodes(body, dot, out);
            self.depth -= 1;
            return r;
        }
        let builtin: fn(&NotificationData) -> String = match name {
            "sns.default.subject" | "__subject" => default_subject,
            "sns.default.message" => default_message,
            _ => return Err(format!("no such template {name:?}")),
        };
        match dot {
            Val::Data(d) => out.push_str(&builtin(d)),
            _ => {
                return Err(format!(
                    "template {name:?} needs the notification data as argument"
                ));
            }
        }
        Ok(())
    }

    fn pipe(&self, pipe: &Pipe, dot: &Val<'a>) -> Result<Val<'a>, String> {
        let mut prev: Option<Val<'a>> = None;
        for cmd in pipe {
            prev = Some(self.command(cmd, dot, prev)?);
        }
        prev.ok_or_else(|| "empty pipeline".to_owned())
    }

    fn arg(&self, a: &Arg, dot: &Val<'a>) -> Result<Val<'a>, String> {
        Ok(match a {
            Arg::Str(s) => Val::Str(s.clone()),
            Arg::Int(i) => Val::Int(*i),
            Arg::Sub(p) => self.pipe(p, dot)?,
            Arg::Field { root, path } => {
                let mut v = if *root {
                    Val::Data(self.root)
                } else {
                    dot.clone()
                };
                for part in path {
                    v = v.field(part)?;
                }
                v
            }
            Arg::Ident(f) => return Err(format!("function {f} used as a value")),
        })
    }

    fn command(
        &self,
        cmd: &[Arg],
        dot: &Val<'a>,
        piped: Option<Val<'a>>,
    ) -> Result<Val<'a>, String> {
        let Some(Arg::Ident(func)) = cmd.first() else {
            if cmd.len() != 1 || piped.is_some() {
                return Err("only functions take arguments".to_owned());
            }
            return self.arg(&cmd[0], dot);
        };
        let mut args = cmd[1..]
            .iter()
            .map(|a| self.arg(a, dot))
            .collect::<Result<Vec<_>, _>>()?;
        args.extend(piped);
        let want = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!("{func} wants {n} arguments"))
            }
        };
        let text = |v: &Val<'_>| v.print();
        Ok(match func.as_str() {
            "len" => {
                want(1)?;
                Val::Int(args[0].len()?)
            }
            "toUpper" | "toLower" | "title" => {
                want(1)?;
                let s = text(&args[0])?;
                Val::Str(match func.as_str() {
                    "toUpper" => s.to_uppercase(),
                    "toLower" => s.to_lowercase(),
                    _ => title(&s),
                })
            }
            "join" => {
                want(2)?;
                let Val::List(items) = &args[1] else {
                    return Err("join needs a list".to_owned());
                };
                Val::Str(items.join(&text(&args[0])?))
            }
            "eq" | "ne" => {
                want(2)?;
                let same = text(&args[0])? == text(&args[1])?;
                Val::Bool(same == (func == "eq"))
            }
            "lt" | "le" | "gt" | "ge" => {
                want(2)?;
                let (Val::Int(a), Val::Int(b)) = (&args[0], &args[1]) else {
                    return Err(format!("{func} compares integers"));
                };
                Val::Bool(match func.as_str() {
                    "lt" => a < b,
                    "le" => a <= b,
                    "gt" => a > b,
                    _ => a >= b,
                })
            }
            "not" => {
                want(1)?;
                Val::Bool(!args[0].truthy())
            }
            "and" => Val::Bool(args.iter().all(Val::truthy)),
            "or" => Val::Bool(args.iter().any(Val::truthy)),
            other => return Err(format!("function {other:?} not supported")),
        })
    }
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    out
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::alert::Alert;
    use crate::config::validate_definition;
    use crate::wire::PostableAlert;

    fn data() -> NotificationData {
        let now = datetime!(2026-11-24 10:00 UTC);
        let mk = |pairs: &[(&str, &str)], ends: Option<OffsetDateTime>| {
            let p = PostableAlert {
                labels: pairs
                    .iter()
                    .map(|(k, v)| ((*k).into(), (*v).into()))
                    .collect(),
                annotations: [("summary".to_owned(), "disk full".to_owned())].into(),
                starts_at: Some(now - time::Duration::hours(1)),
                ends_at: ends,
                generator_url: Some("http://prom/graph".into()),
            };
            Alert::from_postable(p, now, time::Duration::minutes(5)).unwrap()
        };
        let a = mk(
            &[("alertname", "Disk"), ("instance", "a"), ("sev", "page")],
            None,
        );
        let b = mk(
            &[("alertname", "Disk"), ("instance", "b"), ("sev", "page")],
            Some(now - time::Duration::minutes(1)),
        );
        let group = [("alertname".to_owned(), "Disk".to_owned())].into();
        NotificationData::new(
            "team",
            "{}:{alertname=\"Disk\"}".into(),
            group,
            &[&a, &b],
            now,
            "http://am",
        )
    }

    fn render(files: &str, text: &str) -> Result<String, TemplateError> {
        let yaml = format!(
            "alertmanager_config: 'route: {{receiver: r}}\n\n  receivers: [{{name: r}}]'\ntemplate_files:\n{files}"
        );
        let def = validate_definition(yaml.as_bytes()).unwrap();
        Templates::compile(&def)?.render_sns_message(Some(text), &data())
    }

    #[test]
    fn defaults() {
        let t = Templates::default();
        assert_eq!(
            t.render_sns_subject(None, &data()).unwrap(),
            "[FIRING:1] Disk (page)"
        );
        let msg = t.render_sns_message(None, &data()).unwrap();
        assert!(
            msg.starts_with("disk full\nAlerts Firing:\nLabels:\n - alertname = Disk\n"),
            "{msg}"
        );
        assert!(msg.contains("Alerts Resolved:"));
        assert!(msg.contains("Source: http://prom/graph"));
    }

    #[test]
    fn fields_functions_and_control_flow() {
        let text = r#"{{ .Status | toUpper }} {{ len .Alerts.Firing }}/{{ .Alerts | len }} {{ .CommonLabels.sev }}{{ .CommonLabels.nope }}
{{- range .Alerts }}
{{ .Labels.instance }}={{ .Status }}{{ if eq .Status "firing" }}!{{ else }}.{{ end }}
{{- end }}
{{ range .GroupLabels.SortedPairs }}{{ .Name }}:{{ .Value }}{{ end }} {{ join "," .CommonLabels.Names }} {{ if gt (len .Alerts) 1 }}many{{ end }}"#;
        assert_eq!(
            render("  {}", text).unwrap(),
            "FIRING 1/2 page\na=firing!\nb=resolved.\nalertname:Disk alertname,sev many"
        );
    }

    #[test]
    fn defines_from_template_files() {
        let files = "  a.tmpl: '{{ define \"my.msg\" }}{{ .Receiver }}: {{ template \"sns.default.subject\" . }}{{ end }}'";
        assert_eq!(
            render(files, r#"{{ template "my.msg" . }} {{/* note */}}"#).unwrap(),
            "team: [FIRING:1] Disk (page) "
        );
        assert!(render("  {}", r#"{{ template "missing" . }}"#).is_err());
    }

    #[test]
    fn unsupported_constructs_are_refused_at_validation() {
        for bad in [
            "{{ printf \"%s\" .Status }}",
            "{{ $x := 1 }}",
            "{{ if .Status }}",
            "{{ .Status",
            "{{ end }}",
        ] {
            let yaml = format!(
                "alertmanager_config: |\n  route: {{receiver: r}}\n  receivers: [{{name: r, sns_configs: [{{topic_arn: 'arn:aws:sns:us-east-1:1:t', message: '{bad}'}}]}}]\n"
            );
            assert!(
                validate_definition(yaml.as_bytes()).is_err(),
                "{bad} should be refused"
            );
        }
    }
}
