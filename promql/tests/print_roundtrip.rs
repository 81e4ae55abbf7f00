//! Property test: random well-typed trees print to PromQL that parses back to the same tree.
//!
//! The generator builds trees in the shapes the parser produces: parentheses are explicit
//! nodes, so an operand that binds looser than its parent is wrapped in [`Expr::Paren`], and
//! a signed literal is never the left operand of `^` (it would parse as a unary minus).

#[cfg(test)]
mod roundtrip {
    use ampd_promql::{
        AggregateExpr, AggregateOp, AtModifier, BinaryExpr, BinaryOp, Call, Cardinality,
        DurationExpr, DurationOp, Expr, FillValues, LabelMatcher, MatchOp, MatrixSelector,
        NumberLiteral, ParenExpr, ParserOptions, Span, StringLiteral, SubqueryExpr, UnaryExpr,
        UnaryOp, ValueType, VectorMatching, VectorSelector, functions, parse_with,
    };
    use proptest::prelude::*;

    const NO_SPAN: Span = Span::new(0, 0);

    fn number(value: f64, duration: bool) -> NumberLiteral {
        NumberLiteral {
            value,
            duration,
            span: NO_SPAN,
        }
    }

    fn boxed(e: Expr) -> Box<Expr> {
        Box::new(e)
    }

    fn paren(e: Expr) -> Expr {
        Expr::Paren(ParenExpr {
            expr: boxed(e),
            span: NO_SPAN,
        })
    }

    fn plain_number() -> impl Strategy<Value = f64> {
        prop_oneof![
            (0u32..10_000).prop_map(f64::from),
            (-1000i32..1000).prop_map(|v| f64::from(v) / 8.0),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::NAN),
            Just(1e21),
            Just(2.5e-7),
        ]
    }

    /// Positive whole milliseconds, in seconds computed as the parser does (whole + fraction).
    fn duration_secs() -> impl Strategy<Value = f64> {
        prop_oneof![
            (1u64..100_000),
            (1u64..500).prop_map(|m| m * 60_000),
            (1u64..20).prop_map(|d| d * 86_400_000)
        ]
        .prop_map(|ms| (ms / 1000) as f64 + ((ms % 1000) * 1_000_000) as f64 / 1e9)
    }

    fn number_expr() -> impl Strategy<Value = Expr> {
        prop_oneof![
            plain_number().prop_map(|v| Expr::Number(number(v, false))),
            duration_secs().prop_map(|v| Expr::Number(number(v, true))),
        ]
    }

    fn string_value() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z ]{0,8}",
            "\\PC{0,6}",
            "[\"'`\\\\\n\t\u{7f}\u{85}é☺]{0,5}"
        ]
    }

    fn label_name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_][a-z0-9_]{0,6}",
            Just("service.name".to_string()),
            Just("ü".to_string()),
            Just("on".to_string()),
            Just("by".to_string()),
        ]
    }

    fn metric_name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_][a-z0-9_:]{0,8}".prop_filter("not a reserved word", |n| !matches!(
                n.as_str(),
                "bool" | "on" | "ignoring" | "group_left" | "group_right" | "atan2" | "inf" | "nan"
            )),
            Just("sum".to_string()),
            Just("offset".to_string()),
            Just("step".to_string()),
            Just("fill".to_string()),
        ]
    }

    fn matcher() -> impl Strategy<Value = LabelMatcher> {
        let op = prop_oneof![
            Just(MatchOp::Equal),
            Just(MatchOp::NotEqual),
            Just(MatchOp::Regex),
            Just(MatchOp::NotRegex)
        ];
        (
            label_name().prop_filter("not the name label", |n| n != "__name__"),
            op,
            string_value(),
        )
            .prop_map(|(name, op, value)| {
                let value = if matches!(op, MatchOp::Regex | MatchOp::NotRegex) {
                    format!("a{}.*", value.len())
                } else {
                    value
                };
                LabelMatcher { name, op, value }
            })
    }

    fn at_modifier() -> impl Strategy<Value = Option<AtModifier>> {
        prop_oneof![
            3 => Just(None),
            1 => (-1_000_000_000_000i64..1_000_000_000_000).prop_map(|ms| Some(AtModifier::Timestamp(ms))),
            1 => Just(Some(AtModifier::Start)),
            1 => Just(Some(AtModifier::End)),
        ]
    }

    /// Duration arithmetic as it may appear inside brackets.
    fn duration_expr(depth: u32) -> BoxedStrategy<DurationExpr> {
        let leaf = prop_oneof![
            duration_secs().prop_map(|v| DurationExpr::Number(number(v, true))),
            (1u32..100).prop_map(|v| DurationExpr::Number(number(f64::from(v), false))),
            Just(DurationExpr::Step(NO_SPAN)),
            Just(DurationExpr::Range(NO_SPAN)),
        ];
        if depth == 0 {
            return leaf.boxed();
        }
        let sub = duration_expr(depth - 1);
        let op = prop_oneof![
            Just(DurationOp::Add),
            Just(DurationOp::Sub),
            Just(DurationOp::Mul),
            Just(DurationOp::Div),
            Just(DurationOp::Mod),
            Just(DurationOp::Pow),
        ];
        prop_oneof![
            2 => leaf,
            1 => sub.clone().prop_map(|e| DurationExpr::Paren { expr: Box::new(e), span: NO_SPAN }),
            1 => (sub.clone(), sub.clone(), any::<bool>()).prop_map(|(l, r, min)| {
                let (lhs, rhs) = (Box::new(l), Box::new(r));
                if min { DurationExpr::MinOf { lhs, rhs, span: NO_SPAN } } else { DurationExpr::MaxOf { lhs, rhs, span: NO_SPAN } }
            }),
            1 => sub.clone().prop_map(|e| DurationExpr::Neg { expr: Box::new(duration_atom(e)), span: NO_SPAN }),
            2 => (op, sub.clone(), sub).prop_map(|(op, l, r)| duration_binary(op, l, r)),
        ]
        .boxed()
    }

    /// Wraps an expression unless it is an atom a unary minus can apply to.
    fn duration_atom(e: DurationExpr) -> DurationExpr {
        match e {
            DurationExpr::Step(_)
            | DurationExpr::Range(_)
            | DurationExpr::MinOf { .. }
            | DurationExpr::MaxOf { .. }
            | DurationExpr::Paren { .. } => e,
            other => DurationExpr::Paren {
                expr: Box::new(other),
                span: NO_SPAN,
            },
        }
    }

    fn duration_precedence(e: &DurationExpr) -> u8 {
        match e {
            DurationExpr::Binary {
                op: DurationOp::Add | DurationOp::Sub,
                ..
            } => 4,
            DurationExpr::Binary {
                op: DurationOp::Mul | DurationOp::Div | DurationOp::Mod,
                ..
            } => 5,
            DurationExpr::Binary {
                op: DurationOp::Pow,
                ..
            } => 6,
            _ => 7,
        }
    }

    fn duration_binary(op: DurationOp, lhs: DurationExpr, rhs: DurationExpr) -> DurationExpr {
        let p = duration_precedence(&DurationExpr::Binary {
            op,
            lhs: Box::new(DurationExpr::Step(NO_SPAN)),
            rhs: Box::new(DurationExpr::Step(NO_SPAN)),
            span: NO_SPAN,
        });
        let wrap = |e: DurationExpr| DurationExpr::Paren {
            expr: Box::new(e),
            span: NO_SPAN,
        };
        let right_assoc = op == DurationOp::Pow;
        let lhs_neg = matches!(lhs, DurationExpr::Neg { .. });
        let lp = duration_precedence(&lhs);
        let lhs = if lp < p || (right_assoc && (lp == p || lhs_neg)) {
            wrap(lhs)
        } else {
            lhs
        };
        let rp = duration_precedence(&rhs);
        let rhs = if rp < p || (!right_assoc && rp == p) {
            wrap(rhs)
        } else {
            rhs
        };
        DurationExpr::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
            span: NO_SPAN,
        }
    }

    /// A range or step: a positive literal or any duration expression.
    fn range_expr() -> BoxedStrategy<DurationExpr> {
        prop_oneof![
            2 => duration_secs().prop_map(|v| DurationExpr::Number(number(v, true))),
            // A bare literal range is always printed as a duration.
            1 => duration_expr(2).prop_map(|e| match e {
                DurationExpr::Number(n) => DurationExpr::Number(number(n.value, true)),
                other => other,
            }),
        ]
        .boxed()
    }

    /// Offsets the parser accepts without absorbing a following binary operator.
    fn offset_expr() -> BoxedStrategy<Option<DurationExpr>> {
        prop_oneof![
            3 => Just(None),
            2 => (duration_secs(), any::<bool>())
                .prop_map(|(v, neg)| Some(DurationExpr::Number(number(if neg { -v } else { v }, true)))),
            1 => duration_expr(1).prop_map(|e| Some(DurationExpr::Neg { expr: Box::new(duration_atom(e)), span: NO_SPAN })),
            1 => Just(Some(DurationExpr::Step(NO_SPAN))),
        ]
        .boxed()
    }

    fn vector_selector() -> BoxedStrategy<VectorSelector> {
        let extended = prop_oneof![
            Just((false, false)),
            Just((true, false)),
            Just((false, true))
        ];
        (
            proptest::option::of(metric_name()),
            proptest::collection::vec(matcher(), 0..3),
            string_value().prop_filter("non-empty", |v| !v.is_empty()),
            offset_expr(),
            at_modifier(),
            extended,
        )
            .prop_map(
                |(name, mut matchers, required, offset, at, (anchored, smoothed))| {
                    match &name {
                        Some(n) => matchers.push(LabelMatcher {
                            name: "__name__".into(),
                            op: MatchOp::Equal,
                            value: n.clone(),
                        }),
                        // Without a name, one matcher must reject the empty value.
                        None => matchers.push(LabelMatcher {
                            name: "job".into(),
                            op: MatchOp::Equal,
                            value: required,
                        }),
                    }
                    VectorSelector {
                        name,
                        matchers,
                        offset,
                        at,
                        anchored,
                        smoothed,
                        span: NO_SPAN,
                    }
                },
            )
            .boxed()
    }

    fn range_vector(depth: u32) -> BoxedStrategy<Expr> {
        let matrix = (vector_selector(), range_expr()).prop_map(|(selector, range)| {
            Expr::MatrixSelector(MatrixSelector {
                selector,
                range,
                span: NO_SPAN,
            })
        });
        if depth == 0 {
            return matrix.boxed();
        }
        let subquery = (
            expr(ValueType::InstantVector, depth - 1),
            range_expr(),
            proptest::option::of(range_expr()),
            offset_expr(),
            at_modifier(),
        )
            .prop_map(|(inner, range, step, offset, at)| {
                // Like Prometheus' lexer, ours rejects the colon unless a number was seen in brackets.
                let range = if has_number(&range) {
                    range
                } else {
                    DurationExpr::Number(number(60.0, true))
                };
                let inner = match inner {
                    e @ (Expr::VectorSelector(_)
                    | Expr::Call(_)
                    | Expr::Aggregate(_)
                    | Expr::Paren(_)) => e,
                    other => paren(other),
                };
                Expr::Subquery(SubqueryExpr {
                    expr: boxed(inner),
                    range,
                    step,
                    offset,
                    at,
                    span: NO_SPAN,
                })
            });
        prop_oneof![2 => matrix, 1 => subquery].boxed()
    }

    fn has_number(e: &DurationExpr) -> bool {
        match e {
            DurationExpr::Number(_) => true,
            DurationExpr::Step(_) | DurationExpr::Range(_) => false,
            DurationExpr::Neg { expr, .. } | DurationExpr::Paren { expr, .. } => has_number(expr),
            DurationExpr::Binary { lhs, rhs, .. }
            | DurationExpr::MinOf { lhs, rhs, .. }
            | DurationExpr::MaxOf { lhs, rhs, .. } => has_number(lhs) || has_number(rhs),
        }
    }

    fn precedence(e: &Expr) -> u8 {
        match e {
            Expr::Binary(b) => b.op.precedence(),
            _ => 7,
        }
    }

    /// Whether the printed form starts with a sign, which `^` would capture.
    fn starts_signed(e: &Expr) -> bool {
        match e {
            Expr::Unary(_) => true,
            Expr::Number(n) => n.value.is_sign_negative(),
            Expr::Binary(b) => starts_signed(&b.lhs),
            _ => false,
        }
    }

    fn binary(
        op: BinaryOp,
        lhs: Expr,
        rhs: Expr,
        return_bool: bool,
        matching: Option<VectorMatching>,
    ) -> Expr {
        let p = op.precedence();
        let right_assoc = op.is_right_associative();
        let lp = precedence(&lhs);
        let lhs = if lp < p || (right_assoc && (lp == p || starts_signed(&lhs))) {
            paren(lhs)
        } else {
            lhs
        };
        let rp = precedence(&rhs);
        let rhs = if rp < p || (!right_assoc && rp == p) {
            paren(rhs)
        } else {
            rhs
        };
        Expr::Binary(BinaryExpr {
            op,
            lhs: boxed(lhs),
            rhs: boxed(rhs),
            return_bool,
            matching,
            span: NO_SPAN,
        })
    }

    fn arithmetic_op() -> impl Strategy<Value = BinaryOp> {
        prop_oneof![
            Just(BinaryOp::Add),
            Just(BinaryOp::Sub),
            Just(BinaryOp::Mul),
            Just(BinaryOp::Div),
            Just(BinaryOp::Mod),
            Just(BinaryOp::Pow),
            Just(BinaryOp::Atan2),
            Just(BinaryOp::Eql),
            Just(BinaryOp::Neq),
            Just(BinaryOp::Gtr),
            Just(BinaryOp::Lss),
            Just(BinaryOp::Gte),
            Just(BinaryOp::Lte),
            Just(BinaryOp::TrimUpper),
            Just(BinaryOp::TrimLower),
        ]
    }

    fn labels() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(label_name(), 0..3)
    }

    fn vector_matching() -> impl Strategy<Value = VectorMatching> {
        let card = prop_oneof![
            Just(Cardinality::OneToOne),
            Just(Cardinality::ManyToOne),
            Just(Cardinality::OneToMany)
        ];
        let fill_value = proptest::option::of(prop_oneof![
            Just(0.0),
            Just(-1.5),
            Just(f64::NAN),
            Just(42.0)
        ]);
        (
            card,
            labels(),
            any::<bool>(),
            labels(),
            fill_value.clone(),
            fill_value,
        )
            .prop_map(|(card, matching_labels, on, include, lhs, rhs)| {
                let grouped = card != Cardinality::OneToOne;
                // `on`/`ignoring` must come first for `group_*`, and a label may not be in both lists.
                let on = on || (grouped && matching_labels.is_empty());
                let include = if grouped {
                    include
                        .into_iter()
                        .filter(|l| !matching_labels.contains(l))
                        .collect()
                } else {
                    Vec::new()
                };
                VectorMatching {
                    card,
                    matching_labels,
                    on,
                    include,
                    fill: FillValues { lhs, rhs },
                }
            })
    }

    fn scalar(depth: u32) -> BoxedStrategy<Expr> {
        if depth == 0 {
            return number_expr().boxed();
        }
        let sub = expr(ValueType::Scalar, depth - 1);
        let call = prop_oneof![
            Just(("time", vec![])),
            Just(("pi", vec![])),
            Just(("step", vec![])),
        ]
        .prop_map(|(name, args)| make_call(name, args));
        let scalar_of_vector =
            expr(ValueType::InstantVector, depth - 1).prop_map(|v| make_call("scalar", vec![v]));
        prop_oneof![
            3 => number_expr(),
            1 => sub.clone().prop_map(paren),
            1 => sub.clone().prop_map(|e| unary(UnaryOp::Neg, e)),
            2 => (arithmetic_op(), sub.clone(), sub).prop_map(|(op, l, r)| binary(op, l, r, op.is_comparison(), None)),
            1 => call,
            1 => scalar_of_vector,
        ]
        .boxed()
    }

    fn unary(op: UnaryOp, e: Expr) -> Expr {
        // Literals fold their sign, and only `^` binds tighter than a unary operator.
        let e = match e {
            Expr::Number(_) => paren(e),
            Expr::Binary(ref b) if b.op != BinaryOp::Pow => paren(e),
            other => other,
        };
        Expr::Unary(UnaryExpr {
            op,
            expr: boxed(e),
            span: NO_SPAN,
        })
    }

    fn make_call(name: &str, args: Vec<Expr>) -> Expr {
        let func = functions()
            .iter()
            .find(|f| f.name == name)
            .expect("known function");
        Expr::Call(Call {
            func,
            args,
            span: NO_SPAN,
        })
    }

    fn vector_call(depth: u32) -> BoxedStrategy<Expr> {
        let candidates: Vec<_> = functions()
            .iter()
            .filter(|f| f.return_type == ValueType::InstantVector && f.name != "info")
            .collect();
        proptest::sample::select(candidates)
            .prop_flat_map(move |func| {
                let extra = match func.variadic {
                    0 => 0..1usize,
                    -1 => 0..3usize,
                    n => 0..(n as usize).min(3) + 1,
                };
                (Just(func), extra)
            })
            .prop_flat_map(move |(func, extra)| {
                let n = func.arg_types.len();
                let count = if func.variadic == 0 { n } else { n - 1 + extra };
                let args: Vec<BoxedStrategy<Expr>> = (0..count)
                    .map(|i| expr(func.arg_types[i.min(n - 1)], depth.saturating_sub(1)))
                    .collect();
                (Just(func), args)
            })
            .prop_map(|(func, args)| {
                Expr::Call(Call {
                    func,
                    args,
                    span: NO_SPAN,
                })
            })
            .boxed()
    }

    fn aggregate(depth: u32) -> BoxedStrategy<Expr> {
        let op = prop_oneof![
            Just(AggregateOp::Sum),
            Just(AggregateOp::Avg),
            Just(AggregateOp::Count),
            Just(AggregateOp::Min),
            Just(AggregateOp::Max),
            Just(AggregateOp::Group),
            Just(AggregateOp::Stddev),
            Just(AggregateOp::Stdvar),
            Just(AggregateOp::Topk),
            Just(AggregateOp::Bottomk),
            Just(AggregateOp::CountValues),
            Just(AggregateOp::Quantile),
            Just(AggregateOp::Limitk),
            Just(AggregateOp::LimitRatio),
        ];
        let grouping = proptest::collection::vec(label_name(), 0..3);
        (
            op,
            expr(ValueType::InstantVector, depth - 1),
            scalar(depth - 1),
            string_value(),
            grouping,
            any::<bool>(),
        )
            .prop_map(
                |(op, inner, scalar_param, string_param, grouping, without)| {
                    let param = match op {
                        AggregateOp::CountValues => Some(boxed(Expr::String(StringLiteral {
                            value: string_param,
                            non_utf8: None,
                            span: NO_SPAN,
                        }))),
                        op if op.has_param() => Some(boxed(scalar_param)),
                        _ => None,
                    };
                    Expr::Aggregate(AggregateExpr {
                        op,
                        expr: boxed(inner),
                        param,
                        grouping,
                        without,
                        span: NO_SPAN,
                    })
                },
            )
            .boxed()
    }

    fn instant_vector(depth: u32) -> BoxedStrategy<Expr> {
        let selector = vector_selector().prop_map(Expr::VectorSelector);
        if depth == 0 {
            return selector.boxed();
        }
        let sub = expr(ValueType::InstantVector, depth - 1);
        let scalar_side = scalar(depth - 1);
        let vector_vector = (
            arithmetic_op(),
            sub.clone(),
            sub.clone(),
            any::<bool>(),
            vector_matching(),
        )
            .prop_map(|(op, l, r, b, matching)| {
                binary(op, l, r, b && op.is_comparison(), Some(matching))
            });
        let set_op = prop_oneof![
            Just(BinaryOp::And),
            Just(BinaryOp::Or),
            Just(BinaryOp::Unless)
        ];
        let set = (set_op, sub.clone(), sub.clone(), labels(), any::<bool>()).prop_map(
            |(op, l, r, matching_labels, on)| {
                let matching = VectorMatching {
                    card: Cardinality::ManyToMany,
                    matching_labels,
                    on,
                    include: Vec::new(),
                    fill: FillValues::default(),
                };
                binary(op, l, r, false, Some(matching))
            },
        );
        let with_scalar = (
            arithmetic_op(),
            sub.clone(),
            scalar_side,
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(op, v, s, swap, b)| {
                let (l, r) = if swap { (s, v) } else { (v, s) };
                binary(op, l, r, b && op.is_comparison(), None)
            });
        prop_oneof![
            3 => selector,
            2 => aggregate(depth),
            2 => vector_call(depth),
            1 => vector_vector,
            1 => set,
            1 => with_scalar,
            1 => sub.clone().prop_map(paren),
            1 => (sub, any::<bool>()).prop_map(|(e, neg)| unary(if neg { UnaryOp::Neg } else { UnaryOp::Pos }, e)),
        ]
        .boxed()
    }

    fn expr(ty: ValueType, depth: u32) -> BoxedStrategy<Expr> {
        match ty {
            ValueType::Scalar => scalar(depth),
            ValueType::InstantVector => instant_vector(depth),
            ValueType::RangeVector => range_vector(depth),
            ValueType::String => string_value()
                .prop_map(|value| {
                    Expr::String(StringLiteral {
                        value,
                        non_utf8: None,
                        span: NO_SPAN,
                    })
                })
                .boxed(),
        }
    }

    fn any_expr() -> BoxedStrategy<Expr> {
        prop_oneof![
            4 => expr(ValueType::InstantVector, 3),
            2 => expr(ValueType::Scalar, 3),
            1 => expr(ValueType::RangeVector, 2),
            1 => expr(ValueType::String, 0),
        ]
        .boxed()
    }

    /// Query-like text: PromQL fragments mixed with arbitrary characters.
    fn noisy_query() -> impl Strategy<Value = String> {
        let fragment = prop_oneof![
            3 => proptest::sample::select(vec![
                "sum", "by", "(", ")", "{", "}", "[", "]", ":", ",", "=", "=~", "!=", "!~", "offset", "@", "-", "+",
                "*", "/", "^", "%", "==", "<", ">/", "</", "and", "or", "bool", "on", "group_left", "fill", "rate",
                "x", "\"a\"", "'b'", "`c`", "5m", "1h30m", "0x1f", "1e3", "1_000", ".5", "Inf", "NaN", "step()",
                "min_of", "start()", "anchored", "smoothed", "# c\n", " ", "\n", "\\", "\"",
            ])
            .prop_map(str::to_string),
            1 => "\\PC{1,3}",
        ];
        proptest::collection::vec(fragment, 0..24).prop_map(|parts| parts.join(""))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_input_fails_cleanly_or_round_trips(input in noisy_query()) {
            match parse_with(&input, &ParserOptions::all_enabled()) {
                Err(e) => {
                    prop_assert!(e.position.start <= input.len(), "{input:?}: {e}");
                    prop_assert!(e.to_string().contains("parse error: "));
                }
                // Whatever parses also survives a print/parse round trip.
                Ok(tree) => {
                    let printed = tree.to_string();
                    let reparsed = parse_with(&printed, &ParserOptions::all_enabled());
                    prop_assert!(reparsed.as_ref().is_ok_and(|r| r.eq_ignoring_spans(&tree)), "{input:?} printed as {printed:?}: {reparsed:?}");
                }
            }
        }

        #[test]
        fn printed_trees_parse_back(tree in any_expr()) {
            let printed = tree.to_string();
            let parsed = parse_with(&printed, &ParserOptions::all_enabled());
            prop_assert!(parsed.is_ok(), "{printed:?} failed: {:?}", parsed.err());
            let parsed = parsed.unwrap();
            prop_assert!(parsed.eq_ignoring_spans(&tree), "{printed:?} parsed to a different tree: {parsed:?}");
            // Printing is stable: the reparsed tree prints identically.
            prop_assert_eq!(parsed.to_string(), printed);
        }
    }
}
