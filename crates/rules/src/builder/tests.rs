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
            "dormant",
            "compliance_seeker"
        ]
    );
}

#[test]
fn what_does_not_fit_is_named_by_its_text() {
    let cases = [
        (
            "count(\"Teammate Invited\", within 7d of first(\"Signed Up\")) >= 2",
            "within 7d of first(\"Signed Up\")",
        ),
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
