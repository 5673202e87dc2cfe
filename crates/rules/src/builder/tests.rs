use super::*;
use crate::parse;

/// The parser's s-expression: equal for texts that mean the same, whatever
/// their layout.
fn tree(text: &str) -> String {
    parse(text)
        .map(|e| e.to_string())
        .unwrap_or_else(|p| format!("parse error: {}", p.message))
}

/// Reads, prints, and checks that printing changed nothing but layout and
/// that the printed text reads back to the same model.
fn round_trip(text: &str) -> Node {
    let model = read(text).unwrap_or_else(|u| panic!("{text}: {u}"));
    let printed = print(&model).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(tree(&printed), tree(text), "printed: {printed}");
    assert_eq!(read(&printed), Ok(model.clone()), "printed: {printed}");
    model
}

fn example_segments() -> Vec<(String, String)> {
    let text = include_str!("../../../../examples/b2b.toml");
    let value: toml::Value = toml::from_str(text).expect("the example parses");
    value["segment"]
        .as_array()
        .expect("segments")
        .iter()
        .map(|s| {
            let field = |k: &str| s[k].as_str().unwrap_or_default().to_owned();
            (field("name"), field("when"))
        })
        .collect()
}

#[test]
fn hot_intent_reads_into_two_leaves_and_prints_back() {
    let (_, when) = example_segments()
        .into_iter()
        .find(|(name, _)| name == "hot_intent")
        .expect("hot_intent ships");
    let model = round_trip(&when);
    let pricing = Measure {
        function: MeasureFn::Count,
        event: EventPick {
            kind: SelectorKind::Page,
            name: String::new(),
            filters: vec![Filter {
                property: "path".into(),
                op: CmpOp::Eq,
                value: Literal::Str("/pricing".into()),
            }],
        },
        property: String::new(),
        window: WindowPick::Last {
            length: "7d".into(),
        },
        op: CmpOp::Ge,
        value: 2.0,
    };
    let emails = EachLeaf {
        count: 3,
        lead: EventPick {
            name: "Email Sent".into(),
            ..EventPick::default()
        },
        follower: EventPick {
            name: "Email Opened".into(),
            ..EventPick::default()
        },
        on: "email_id".into(),
        within: String::new(),
    };
    assert_eq!(
        model,
        Node::All {
            items: vec![Node::Measure(pricing), Node::Each(emails)]
        }
    );
    assert_eq!(
        print(&model).as_deref(),
        Ok("count(page where path = \"/pricing\", last 7d) >= 2\nand each(last 3 \"Email Sent\" followed_by \"Email Opened\" on email_id)")
    );
}

#[test]
fn the_shipped_segments_that_fit_round_trip_and_the_others_say_where() {
    let mut fits = Vec::new();
    for (name, when) in example_segments() {
        match read(&when) {
            Ok(_) => {
                round_trip(&when);
                fits.push(name);
            }
            Err(unfit) => {
                assert!(!unfit.text.is_empty(), "{name}: {unfit:?}");
                assert!(when.contains(&unfit.text), "{name}: {unfit:?}");
            }
        }
    }
    assert_eq!(
        fits,
        [
            "hot_intent",
            "activated_trial",
            "silent_fit_account",
            "power_user",
            "content_researcher",
            "fast_activator",
            "collaborative_team",
            "dormant",
            "compliance_seeker"
        ]
    );
}

#[test]
fn what_does_not_fit_is_named_by_its_text() {
    let cases = [
        ("count(\"Teammate Invited\", revenue) >= 2", "revenue"),
        (
            "exists(any) and trait.seats >= 3 * past(trait.seats, 60d)",
            "3 * past(trait.seats, 60d)",
        ),
        (
            "count(page where path = \"/a\" or path = \"/b\") >= 1",
            "path = \"/a\" or path = \"/b\"",
        ),
        ("exists(\"A\" then \"B\")", "\"A\" then \"B\""),
        ("count(contacts where score(\"x\") > 1) >= 3", "contacts"),
    ];
    for (text, part) in cases {
        let unfit = read(text).expect_err(text);
        assert_eq!(unfit.text, part, "{text}: {}", unfit.reason);
    }
    let broken = read("count(\"x\" >=").expect_err("does not parse");
    assert!(
        broken.reason.starts_with("the text does not parse"),
        "{broken:?}"
    );
}

#[test]
fn groups_references_and_negations_round_trip() {
    for text in [
        "score(\"intent\") >= 60 and (in_segment(\"hot_intent\") or tier(\"lifecycle\") = \"trial\")",
        "not (exists(\"A\") and exists(\"B\")) or not (count(any, last 7d) < 3)",
        "trait.plan in [\"pro\", \"enterprise\"] and account.employees >= 50",
        "sum(\"Order Completed\", revenue, between 60d and 30d ago) > 99.5 and min(\"Order Completed\", revenue) != -1",
        "days_since(screen where name starts_with \"Settings\" and beta = true) >= 1.5",
        "each(last 2 \"Email Sent\" where list = \"news\" followed_by \"Email Opened\" within 3d)",
        "exists(\"Quote \\\" and \\\\ back\")",
    ] {
        round_trip(text);
    }
    let bare = read("exists(Signed_Up)").expect("a bare event name");
    assert_eq!(print(&bare).as_deref(), Ok("exists(\"Signed_Up\")"));
}

#[test]
fn a_model_with_missing_fields_says_which_node() {
    let model = Node::All {
        items: vec![
            Node::InSegment { name: "a".into() },
            Node::Any {
                items: vec![Node::Measure(Measure::default())],
            },
        ],
    };
    let error = print(&model).expect_err("no event picked");
    assert_eq!(error.at, [1, 0]);
    assert_eq!(error.reason, "pick an event");
    let empty = Node::All {
        items: vec![Node::Any { items: vec![] }],
    };
    assert_eq!(print(&empty).as_deref(), Ok(""));
    let window = Node::Measure(Measure {
        event: EventPick {
            kind: SelectorKind::Any,
            ..EventPick::default()
        },
        window: WindowPick::Last {
            length: "2w".into(),
        },
        op: CmpOp::Ge,
        value: 1.0,
        ..Measure::default()
    });
    assert_eq!(print(&window).as_deref(), Ok("count(any, last 14d) >= 1"));
}

#[test]
fn the_model_is_json_the_script_can_write() {
    let json = serde_json::json!({
        "kind": "all",
        "items": [
            {"kind": "measure", "function": "count",
             "event": {"kind": "page", "where": [{"property": "path", "op": "=", "value": "/pricing"}]},
             "window": {"kind": "last", "length": "7d"}, "op": ">=", "value": 2},
            {"kind": "each", "count": 3, "lead": {"name": "Email Sent"},
             "follower": {"name": "Email Opened"}, "on": "email_id"}
        ]
    });
    let model: Node = serde_json::from_value(json).expect("a model");
    let text = print(&model).expect("prints");
    assert_eq!(read(&text), Ok(model.clone()));
    let back = serde_json::to_value(&model).expect("serializes");
    assert_eq!(back["items"][0]["event"]["where"][0]["value"], "/pricing");
}

mod generated {
    //! `read(print(m)) == m` for generated models (canonical: unused
    //! fields at their defaults, no group directly inside a group of its
    //! own kind, since the text has no parentheses to keep it).

    use super::*;
    use proptest::prelude::*;

    const NUMERIC: [CmpOp; 6] = [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
    ];
    const ALL_OPS: [CmpOp; 11] = [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::Contains,
        CmpOp::StartsWith,
        CmpOp::Matches,
        CmpOp::In,
        CmpOp::NotIn,
    ];

    fn number() -> impl Strategy<Value = f64> {
        (-20i32..400).prop_map(|n| f64::from(n) / 4.0)
    }

    fn scalar() -> impl Strategy<Value = Literal> {
        prop_oneof![
            any::<bool>().prop_map(Literal::Bool),
            number().prop_map(Literal::Num),
            "[a-z /\"\\\\\n]{0,6}".prop_map(Literal::Str),
        ]
    }

    fn value_for(op: CmpOp) -> BoxedStrategy<Literal> {
        match op {
            CmpOp::In | CmpOp::NotIn => prop::collection::vec(scalar(), 1..3)
                .prop_map(Literal::List)
                .boxed(),
            _ => scalar().boxed(),
        }
    }

    fn filter() -> impl Strategy<Value = Filter> {
        (
            prop::sample::select(vec!["path", "plan", "amount", "context.page.url"]),
            prop::sample::select(ALL_OPS.to_vec()),
        )
            .prop_flat_map(|(property, op)| {
                value_for(op).prop_map(move |value| Filter {
                    property: property.to_owned(),
                    op,
                    value,
                })
            })
    }

    fn event() -> impl Strategy<Value = EventPick> {
        (
            prop::sample::select(vec![
                SelectorKind::Event,
                SelectorKind::Page,
                SelectorKind::Screen,
                SelectorKind::Any,
            ]),
            prop::sample::select(vec!["Email Opened", "Deal Won", "say \"hi\""]),
            prop::collection::vec(filter(), 0..3),
        )
            .prop_map(|(kind, name, filters)| EventPick {
                kind,
                name: if kind == SelectorKind::Event {
                    name.to_owned()
                } else {
                    String::new()
                },
                filters,
            })
    }

    fn duration() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["7d", "14d", "90d", "12h", "30m", "45s"]).prop_map(str::to_owned)
    }

    fn window() -> impl Strategy<Value = WindowPick> {
        prop_oneof![
            Just(WindowPick::All),
            duration().prop_map(|length| WindowPick::Last { length }),
            (duration(), duration()).prop_map(|(from, to)| WindowPick::Ago { from, to }),
            (duration(), event())
                .prop_map(|(length, anchor)| WindowPick::WithinOf { length, anchor }),
        ]
    }

    fn measure() -> impl Strategy<Value = Node> {
        use MeasureFn::*;
        let functions = vec![
            Count, Exists, DaysSince, ActiveDays, Distinct, Sum, Avg, Min, Max,
        ];
        (
            prop::sample::select(functions),
            event(),
            window(),
            prop::sample::select(NUMERIC.to_vec()),
            number(),
        )
            .prop_map(|(function, event, window, op, value)| {
                let compared = function.compared();
                Node::Measure(Measure {
                    function,
                    event: if function.reads_event() {
                        event
                    } else {
                        EventPick::default()
                    },
                    property: if function.reads_property() {
                        "revenue".into()
                    } else {
                        String::new()
                    },
                    window: match (function, window) {
                        (DaysSince, _) => WindowPick::All,
                        (ActiveDays, WindowPick::All) => WindowPick::Last {
                            length: "30d".into(),
                        },
                        (_, window) => window,
                    },
                    op: if compared { op } else { CmpOp::default() },
                    value: if compared { value } else { 0.0 },
                })
            })
    }

    fn leaf() -> impl Strategy<Value = Node> {
        prop_oneof![
            measure(),
            (1u32..6, event(), event(), any::<bool>(), any::<bool>()).prop_map(
                |(count, lead, follower, on, within)| Node::Each(EachLeaf {
                    count,
                    lead,
                    follower,
                    on: if on { "email_id".into() } else { String::new() },
                    within: if within { "3d".into() } else { String::new() },
                })
            ),
            (prop::sample::select(NUMERIC.to_vec()), number()).prop_map(|(op, value)| {
                Node::Score {
                    name: "intent".into(),
                    op,
                    value,
                }
            }),
            Just(Node::InSegment {
                name: "hot_intent".into()
            }),
            any::<bool>().prop_map(|eq| Node::Tier {
                name: "lifecycle".into(),
                op: if eq { CmpOp::Eq } else { CmpOp::Ne },
                level: "trial".into(),
            }),
            prop::sample::select(ALL_OPS.to_vec()).prop_flat_map(|op| value_for(op).prop_map(
                move |value| Node::Trait {
                    path: "trait.plan".into(),
                    op,
                    value
                }
            )),
        ]
    }

    fn tree() -> impl Strategy<Value = Node> {
        leaf()
            .prop_recursive(3, 16, 3, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 2..4)
                        .prop_map(|items| Node::All { items }),
                    prop::collection::vec(inner.clone(), 2..4)
                        .prop_map(|items| Node::Any { items }),
                    inner.prop_map(|item| Node::Not {
                        item: Box::new(item)
                    }),
                ]
            })
            .prop_map(canonical)
    }

    /// Groups inside a group of their own kind merged into it.
    fn canonical(node: Node) -> Node {
        fn merge(items: Vec<Node>, all: bool) -> Vec<Node> {
            let mut out = Vec::new();
            for item in items.into_iter().map(canonical) {
                match item {
                    Node::All { items } if all => out.extend(items),
                    Node::Any { items } if !all => out.extend(items),
                    other => out.push(other),
                }
            }
            out
        }
        match node {
            Node::All { items } => Node::All {
                items: merge(items, true),
            },
            Node::Any { items } => Node::Any {
                items: merge(items, false),
            },
            Node::Not { item } => Node::Not {
                item: Box::new(canonical(*item)),
            },
            leaf => leaf,
        }
    }

    proptest! {
        #[test]
        fn printed_models_read_back_unchanged(model in tree()) {
            let text = print(&model).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(read(&text), Ok(model), "text: {}", text);
        }
    }
}
