//! Reports over a small engine fed through real identity resolution, with
//! every instant chosen so each subject's group and outcome is known.

use std::sync::Arc;

use bellwether_rules::{RuleSet, SubjectKind, DAY, HOUR};
use serde_json::Map;

use super::*;
use crate::engine::Engine;
use crate::identity::{IdentityConfig, IdentityGraph};
use crate::message::{Message, MessageKind, StoredEvent};
use crate::store::{MembershipRecord, WriteOp};

const T0: i64 = 1_700_000_000_000;

const RULES: &str = r#"
[[score]]
name = "intent"
subject = "contact"
rules = [ { on = '"Demo Requested"', points = 10 } ]

[[segment]]
name = "pricing_twice"
subject = "contact"
when = 'count("Pricing Viewed", last 7d) >= 2'
owner = "sdr"
action = "call"
holdout = 0.5

[[segment]]
name = "pricing_again"
subject = "contact"
when = 'count("Pricing Viewed", last 7d) >= 2'

[[segment]]
name = "never"
subject = "contact"
when = 'exists("No Such Event")'
owner = "x"
action = "y"
"#;

struct World {
    engine: Engine,
    history: Vec<MembershipRecord>,
    graph: IdentityGraph,
    seq: i64,
}

impl World {
    fn new() -> Self {
        Self::with(RULES)
    }

    fn with(definitions: &str) -> Self {
        let rules = RuleSet::from_toml("t.toml", definitions).expect("valid rules");
        Self {
            engine: Engine::new(Arc::new(rules)),
            history: Vec::new(),
            graph: IdentityGraph::new(IdentityConfig::default()),
            seq: 0,
        }
    }

    /// Feeds one track event at its own instant (timers fired up to it).
    fn track(&mut self, user: &str, event: &str, at: i64) {
        self.feed(user, event, None, Map::new(), at);
    }

    /// A track event with properties.
    fn track_with(&mut self, user: &str, event: &str, properties: serde_json::Value, at: i64) {
        let properties = properties.as_object().cloned().unwrap_or_default();
        self.feed(user, event, None, properties, at);
    }

    /// Puts `user` in the account `group_id`.
    fn group(&mut self, user: &str, group_id: &str, at: i64) {
        self.feed(user, "", Some(group_id), Map::new(), at);
    }

    fn feed(
        &mut self,
        user: &str,
        event: &str,
        group_id: Option<&str>,
        properties: Map<String, serde_json::Value>,
        at: i64,
    ) {
        let message = Message {
            source: "web".into(),
            message_id: format!("{user}-{event}-{group_id:?}-{at}"),
            kind: match group_id {
                Some(_) => MessageKind::Group,
                None => MessageKind::Track,
            },
            user_id: Some(user.into()),
            anonymous_id: None,
            previous_id: None,
            group_id: group_id.map(str::to_owned),
            event: group_id.is_none().then(|| event.to_owned()),
            properties,
            traits: Map::new(),
            context: Map::new(),
            timestamp: at,
            received_at: at,
            sent_at: None,
            original_timestamp: None,
        };
        let due = self.engine.process_due(at);
        self.history.extend(due.iter().map(|c| c.to_record()));
        let mut ops = Vec::new();
        self.seq += 1;
        let contact_id = self.graph.resolve(&message, self.seq, &mut ops);
        ops.push(WriteOp::Event(StoredEvent {
            seq: self.seq,
            contact_id,
            message,
        }));
        let changes = self.engine.apply(&ops, at);
        self.history.extend(changes.iter().map(|c| c.to_record()));
    }

    fn finish(&mut self, at: i64) {
        let due = self.engine.process_due(at);
        self.history.extend(due.iter().map(|c| c.to_record()));
    }
}

/// u1, u2 enter in the period (u1 wins within the horizon, u2 after it);
/// u3, u4 are active non-members (u3 wins); u5 was a member at `from`.
fn scenario() -> World {
    let mut world = World::new();
    world.track("u5", "Pricing Viewed", T0);
    world.track("u5", "Pricing Viewed", T0 + HOUR);
    for (user, day) in [("u1", 1), ("u2", 2)] {
        world.track(user, "Pricing Viewed", T0 + day * DAY);
        world.track(user, "Pricing Viewed", T0 + day * DAY + HOUR);
    }
    world.track("u3", "Logged In", T0 + 3 * DAY);
    world.track("u4", "Logged In", T0 + 3 * DAY);
    world.track("u1", "Deal Won", T0 + 5 * DAY);
    world.track("u5", "Deal Won", T0 + 6 * DAY);
    world.track("u3", "Deal Won", T0 + 10 * DAY);
    world.track("u2", "Deal Won", T0 + 60 * DAY);
    world.finish(T0 + 70 * DAY);
    world
}

fn params(segment: &str) -> ConversionParams {
    ConversionParams {
        segment: segment.into(),
        outcome: OutcomeSpec::new("\"Deal Won\"", 30 * DAY),
        period: Period {
            from: T0 + 12 * HOUR,
            to: T0 + 20 * DAY,
        },
        as_of: T0 + 70 * DAY,
    }
}

#[test]
fn members_convert_after_entry_and_non_members_after_first_activity() {
    let world = scenario();
    let report = conversion(&world.engine, &params("pricing_twice")).unwrap();
    assert_eq!(report.subject, "contact");
    let members = report.members.conversion;
    let non_members = report.non_members.conversion;
    assert_eq!((members.count, members.total), (1, 2), "u1 of u1, u2");
    assert_eq!(
        (non_members.count, non_members.total),
        (1, 2),
        "u3 of u3, u4"
    );
    assert_eq!(report.lift, Some(1.0));
    assert_eq!(report.difference, Some(0.0));
    assert_eq!(report.members.open, 0);
    let p = report.p_value.expect("defined");
    assert!((p - 1.0).abs() < 1e-12, "{p}");
    // A plain event name, as typed in a URL, means the same selector.
    let mut plain = params("pricing_twice");
    plain.outcome.selector = "Deal Won".into();
    assert_eq!(conversion(&world.engine, &plain).unwrap(), report);
}

#[test]
fn revenue_pipeline_and_days_to_outcome_per_group() {
    use serde_json::json;
    let mut world = World::new();
    for (user, day) in [("u1", 1), ("u2", 2)] {
        world.track(user, "Pricing Viewed", T0 + day * DAY);
        world.track(user, "Pricing Viewed", T0 + day * DAY + HOUR);
    }
    world.track("u3", "Logged In", T0 + 3 * DAY);
    world.track("u4", "Logged In", T0 + 3 * DAY);
    // u1 (entered at 1d 1h) wins twice and loses once within its window.
    world.track_with("u1", "Deal Won", json!({"amount": 1000}), T0 + 5 * DAY);
    world.track_with("u1", "Deal Lost", json!({"amount": 300}), T0 + 7 * DAY);
    world.track_with(
        "u1",
        "Deal Won",
        json!({"amount": 500, "note": "upsell"}),
        T0 + 8 * DAY,
    );
    // u2's win is after its 30-day window: worth nothing here.
    world.track_with("u2", "Deal Won", json!({"amount": 9_999}), T0 + 60 * DAY);
    // u3 (first active at 3d) wins; an amount that is not a number adds nothing.
    world.track_with("u3", "Deal Won", json!({"amount": 2000}), T0 + 10 * DAY);
    world.track_with("u3", "Deal Won", json!({"amount": "lots"}), T0 + 11 * DAY);
    world.finish(T0 + 70 * DAY);

    let mut valued = params("pricing_twice");
    valued.outcome.value = Some("amount".into());
    valued.outcome.pipeline = Some("any where amount > 0".into());
    let report = conversion(&world.engine, &valued).unwrap();
    let members = report.members.value.clone().expect("valued");
    assert_eq!(members.revenue, 1500.0);
    assert_eq!(members.revenue_per_subject, Some(750.0), "over u1 and u2");
    assert_eq!(members.revenue_per_conversion, Some(1500.0));
    assert_eq!(members.pipeline, Some(1800.0), "both wins and the loss");
    assert_eq!(members.pipeline_per_subject, Some(900.0));
    let non_members = report.non_members.value.clone().expect("valued");
    assert_eq!(non_members.revenue, 2000.0);
    assert_eq!(
        non_members.revenue_per_subject,
        Some(1000.0),
        "over u3 and u4"
    );
    assert_eq!(non_members.pipeline, Some(2000.0));
    // From entry (1d 1h) to the first win (5d): 3 days 23 hours.
    let days = report.members.days_to_outcome.expect("u1 converted");
    let expected = (4 * DAY - HOUR) as f64 / DAY as f64;
    assert_eq!(
        (days.p25, days.median, days.p75),
        (expected, expected, expected)
    );
    assert_eq!(
        report.non_members.days_to_outcome.map(|d| d.median),
        Some(7.0)
    );

    // Without a value: counts only, the same conversion.
    let counted = conversion(&world.engine, &params("pricing_twice")).unwrap();
    assert_eq!(counted.members.value, None);
    assert_eq!(counted.members.conversion, report.members.conversion);
    // The holdout report values treated and held-out entrants alike.
    let holdout = holdout_lift(&world.engine, &valued).unwrap();
    let revenue = |g: &Group| g.value.as_ref().map_or(0.0, |v| v.revenue);
    assert_eq!(
        revenue(&holdout.treated) + revenue(&holdout.held_out),
        1500.0
    );
}

#[test]
fn a_bad_value_or_a_pipeline_without_one_names_the_parameter() {
    let world = scenario();
    let mut bad = params("pricing_twice");
    bad.outcome.value = Some("amount > 3".into());
    let error = conversion(&world.engine, &bad).unwrap_err();
    assert!(
        matches!(error, ReportError::InvalidParameter { field: "value", .. }),
        "{error}"
    );
    let mut lone = params("pricing_twice");
    lone.outcome.pipeline = Some("any".into());
    let error = conversion(&world.engine, &lone).unwrap_err();
    assert!(
        matches!(
            error,
            ReportError::InvalidParameter {
                field: "pipeline",
                ..
            }
        ),
        "{error}"
    );
    let mut broken = params("pricing_twice");
    broken.outcome.value = Some("amount".into());
    broken.outcome.pipeline = Some("any where (".into());
    let error = conversion(&world.engine, &broken).unwrap_err();
    assert!(
        matches!(
            error,
            ReportError::InvalidExpression {
                field: "pipeline",
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn windows_are_cut_short_at_the_report_instant() {
    let world = scenario();
    let mut early = params("pricing_twice");
    early.as_of = T0 + 4 * DAY;
    let report = conversion(&world.engine, &early).unwrap();
    assert_eq!(
        report.members.conversion.count, 0,
        "u1's win is after as_of"
    );
    assert_eq!(report.members.open, 2);
}

#[test]
fn holdout_lift_splits_entrants_by_the_actions_draw() {
    let world = scenario();
    let report = holdout_lift(&world.engine, &params("pricing_twice")).unwrap();
    assert_eq!(report.share, 0.5);
    // u1 is contact 2, u2 is contact 3 (u5 came first).
    let held = |key: &str| crate::actions::holdout::is_held_out("pricing_twice", key, 0.5);
    let expected_held = u64::from(held("2")) + u64::from(held("3"));
    assert_eq!(report.held_out.conversion.total, expected_held);
    assert_eq!(report.treated.conversion.total, 2 - expected_held);
    let won_held = u64::from(held("2"));
    assert_eq!(report.held_out.conversion.count, won_held);
    assert_eq!(report.treated.conversion.count, 1 - won_held);
    let error = holdout_lift(&world.engine, &params("pricing_again")).unwrap_err();
    assert!(matches!(error, ReportError::NoHoldout(_)), "{error}");
}

#[test]
fn bad_parameters_are_typed_errors() {
    let world = scenario();
    let mut bad = params("nope");
    assert!(matches!(
        conversion(&world.engine, &bad),
        Err(ReportError::UnknownSegment(_))
    ));
    bad = params("pricing_twice");
    bad.outcome.selector = "\"Deal Won\" where (".into();
    let error = conversion(&world.engine, &bad).unwrap_err();
    assert!(
        matches!(
            error,
            ReportError::InvalidExpression {
                field: "outcome",
                ..
            }
        ),
        "{error}"
    );
    bad = params("pricing_twice");
    bad.outcome.horizon = 0;
    assert!(matches!(
        conversion(&world.engine, &bad),
        Err(ReportError::InvalidParameter {
            field: "horizon",
            ..
        })
    ));
    bad = params("pricing_twice");
    bad.period.to = bad.period.from;
    assert!(matches!(
        conversion(&world.engine, &bad),
        Err(ReportError::InvalidParameter { field: "from", .. })
    ));
}

#[test]
fn score_quality_ranks_converters_by_the_score_at_the_reference_instant() {
    let mut world = World::new();
    for i in 0..20 {
        let user = format!("q{i}");
        world.track(&user, "Logged In", T0);
        if i % 2 == 0 {
            world.track(&user, "Demo Requested", T0 + HOUR);
        }
        if i % 4 == 0 {
            world.track(&user, "Deal Won", T0 + 3 * DAY);
        }
        // A demo after the reference instant must not count.
        if i == 1 {
            world.track(&user, "Demo Requested", T0 + 2 * DAY);
        }
    }
    let report = score_quality(
        &world.engine,
        &QualityParams {
            score: "intent".into(),
            outcome: OutcomeSpec::new("\"Deal Won\"", 7 * DAY),
            at: T0 + DAY,
            as_of: T0 + 30 * DAY,
        },
    )
    .unwrap();
    assert_eq!((report.overall.count, report.overall.total), (5, 20));
    // Converters all scored 10; non-converters: 5 with 10, 10 with 0.
    // AUC = (5·5·0.5 + 5·10·1) / (5·15).
    let auc = report.auc.expect("both outcomes");
    assert!((auc - 62.5 / 75.0).abs() < 1e-12, "{auc}");
    assert_eq!(report.deciles.len(), 10);
    assert_eq!(report.deciles[0].max_score, 10.0);
    assert_eq!(report.deciles[9].max_score, 0.0);
    assert!(!report.open);
}

#[test]
fn overlap_and_lint_find_duplicates_small_and_dead_segments() {
    let world = scenario();
    let report = overlap(&world.engine, &[]).unwrap();
    assert_eq!(report.pairs.len(), 3, "every pair of contact segments");
    assert!(
        report.pairs.iter().all(|p| p.jaccard.is_none()),
        "all empty by the end: {report:?}"
    );
    let mut asked = Vec::new();
    let findings = lint(&world.engine, LintParams::default(), &mut |name| {
        asked.push(name.to_owned());
        Ok(name != "never")
    })
    .unwrap()
    .findings;
    let has = |code: &str, definition: &str| {
        findings
            .iter()
            .any(|f| f.code == code && f.definition == definition)
    };
    assert!(has("too_small", "pricing_twice"));
    assert!(has("no_owner", "pricing_again") && has("no_action", "pricing_again"));
    assert!(!has("no_owner", "pricing_twice"));
    assert!(has("never_changed", "never") && !has("never_changed", "pricing_twice"));
    assert!(has("unknown_event", "never"));
    assert!(!has("unknown_event", "pricing_twice"), "{findings:?}");
    assert_eq!(asked.len(), 3, "only empty segments are looked up");
}

#[test]
fn lint_names_segments_a_subject_with_no_events_is_in() {
    let definitions = format!(
        "{RULES}
[[segment]]
name = \"dormant\"
subject = \"contact\"
when = 'days_since(any) >= 90'

[[segment]]
name = \"gone_quiet\"
subject = \"contact\"
when = 'exists(any) and days_since(any) >= 90'

[[segment]]
name = \"silent_fit\"
subject = \"account\"
when = 'not exists(any, last 60d)'
"
    );
    let world = World::with(&definitions);
    let findings = lint(&world.engine, LintParams::default(), &mut |_| Ok(true))
        .unwrap()
        .findings;
    let idle: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| f.code == "holds_without_activity")
        .map(|f| (f.definition.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(idle.len(), 2, "{idle:?}");
    assert_eq!(idle[0].0, "dormant");
    assert!(idle[0]
        .1
        .contains("every new contact (created by an `identify`"));
    assert!(idle[0].1.contains("require past activity"));
    assert_eq!(idle[1].0, "silent_fit");
    assert!(idle[1]
        .1
        .contains("every new account (created by a `group` call"));
}

#[test]
fn near_duplicates_are_found_among_live_members() {
    let mut world = World::new();
    for i in 0..3 {
        let user = format!("d{i}");
        world.track(&user, "Pricing Viewed", T0);
        world.track(&user, "Pricing Viewed", T0 + HOUR);
    }
    let findings = lint(
        &world.engine,
        LintParams {
            min_size: 2,
            max_overlap: 0.9,
        },
        &mut |_| Ok(true),
    )
    .unwrap()
    .findings;
    let duplicate = findings
        .iter()
        .find(|f| f.code == "near_duplicate")
        .expect("identical segments");
    assert_eq!(duplicate.definition, "pricing_twice");
    assert!(duplicate.message.contains("100%"), "{}", duplicate.message);
    assert!(!findings
        .iter()
        .any(|f| f.code == "too_small" && f.definition == "pricing_twice"));
}

#[test]
fn a_draft_backtest_counts_entrants_and_their_conversion() {
    let world = scenario();
    let report = backtest(
        &world.engine,
        &BacktestParams {
            target: BacktestTarget::Draft {
                when: "count(\"Pricing Viewed\", last 7d) >= 2".into(),
                subject: SubjectKind::Contact,
            },
            from: T0 + 12 * HOUR,
            to: T0 + 3 * DAY,
            every: DAY,
            outcome: Some(OutcomeSpec::new("\"Deal Won\"", 30 * DAY)),
            as_of: T0 + 70 * DAY,
            keep_members: false,
        },
    )
    .unwrap();
    let sizes: Vec<(u64, u64)> = report.points.iter().map(|p| (p.size, p.entered)).collect();
    // +12h: u5; +36h: u5, u1; +60h: u5, u1, u2.
    assert_eq!(sizes, [(1, 0), (2, 1), (3, 1)]);
    assert_eq!(report.entrants, 2);
    let conversion = report.conversion.expect("an outcome was given");
    assert_eq!(
        (conversion.count, conversion.total),
        (1, 2),
        "u1 won within 30 days"
    );
    let bad = backtest(
        &world.engine,
        &BacktestParams {
            target: BacktestTarget::Draft {
                when: "count(".into(),
                subject: SubjectKind::Contact,
            },
            from: T0,
            to: T0,
            every: DAY,
            outcome: None,
            as_of: T0,
            keep_members: false,
        },
    );
    assert!(matches!(
        bad,
        Err(ReportError::InvalidExpression { field: "when", .. })
    ));
}

#[test]
fn an_accounts_outcome_may_come_from_any_of_its_contacts() {
    let definitions = format!(
        "{RULES}\n[[segment]]\nname = \"pricing_accounts\"\nsubject = \"account\"\nwhen = 'count(contacts where in_segment(\"pricing_twice\")) >= 1'\n"
    );
    let mut world = World::with(&definitions);
    for (user, group) in [
        ("a1", "acme"),
        ("a2", "acme"),
        ("b1", "beta"),
        ("c1", "cold"),
    ] {
        world.group(user, group, T0);
    }
    // a1 brings acme in; a2, another contact, wins the deal.
    world.track("a1", "Pricing Viewed", T0 + DAY);
    world.track("a1", "Pricing Viewed", T0 + DAY + HOUR);
    world.track("a2", "Deal Won", T0 + 3 * DAY);
    // beta is active but never a member, and wins too; cold wins nothing.
    world.track("b1", "Logged In", T0 + DAY);
    world.track("b1", "Deal Won", T0 + 4 * DAY);
    world.track("c1", "Logged In", T0 + DAY);
    world.finish(T0 + 40 * DAY);
    let report = conversion(&world.engine, &params("pricing_accounts")).unwrap();
    assert_eq!(report.subject, "account");
    let members = report.members.conversion;
    let others = report.non_members.conversion;
    assert_eq!((members.count, members.total), (1, 1), "{report:?}");
    assert_eq!((others.count, others.total), (1, 2), "{report:?}");
    assert_eq!(report.lift, Some(2.0));
}
