//! An account's events are its contacts' timelines read as one. Events of
//! one contact arriving behind another contact's newest are late for the
//! account though not for their contact; contacts joining, leaving and
//! merging edit the merge. Whatever the order, the account's values equal
//! a from-scratch evaluation.

use super::*;

const ACCOUNT_RULES: &str = r#"
[[score]]
name = "account_activity"
subject = "account"
half_life = "7d"
rules = [
  { on = '"Pricing Viewed"', points = 5, cap = "10 per day" },
  { on = 'any', points = 1 },
]

[[segment]]
name = "busy"
subject = "account"
when = 'count(any, last 3d) >= 3 and active_days(last 14d) >= 2'

[[segment]]
name = "researching"
subject = "account"
when = 'sequence("Pricing Viewed" then "Demo Requested" within 5d) or distinct(any, plan) >= 2'

[[segment]]
name = "quiet"
subject = "account"
when = 'exists(any) and days_since(any) >= 4 and last(any).plan != "pro"'

[[segment]]
name = "hot"
subject = "account"
when = 'score("account_activity") >= 12'
"#;

fn account_rules() -> Arc<RuleSet> {
    Arc::new(RuleSet::from_toml("accounts.toml", ACCOUNT_RULES).expect("valid rules"))
}

/// (user, kind, group, offset in hours): users 0..6 over groups g0 and g1.
fn arb_account_message() -> impl Strategy<Value = (u8, u8, u8, i64)> {
    (0u8..6, 0u8..6, 0u8..2, 0i64..(20 * 24))
}

fn to_account_message((user, kind, group, hours): (u8, u8, u8, i64)) -> Message {
    let at = T0 + hours * HOUR;
    let user_id = format!("u{user}");
    match kind {
        // Contacts move between the two accounts.
        0 => {
            let mut call = message(MessageKind::Group, Some(&user_id), None, "", at);
            call.group_id = Some(format!("g{group}"));
            call
        }
        // Two users share a browser: claims move its anonymous events.
        1 => message(
            MessageKind::Identify,
            Some(&user_id),
            Some(&format!("a{}", user % 3)),
            "",
            at,
        ),
        2 => message(
            MessageKind::Track,
            None,
            Some(&format!("a{}", user % 3)),
            "Pricing Viewed",
            at,
        ),
        3 => track(&user_id, "Demo Requested", at),
        4 => {
            let mut viewed = track(&user_id, "Pricing Viewed", at);
            let plan = ["pro", "team"][usize::from(group)];
            viewed.properties.insert("plan".into(), json!(plan));
            viewed
        }
        _ => track(&user_id, "Logged In", at),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn accounts_read_their_contacts_events_exactly_in_any_arrival_order(
        raw in proptest::collection::vec(arb_account_message(), 1..48),
        batch in 1usize..6,
        extra_hours in 0i64..(10 * 24),
    ) {
        // Everyone belongs to an account from the start.
        let joins: Vec<Message> = (0..6u8).map(|user| to_account_message((user, 0, user % 2, 0))).collect();
        let messages: Vec<Message> = joins.into_iter().chain(raw.into_iter().map(to_account_message)).collect();
        let mut engine = Engine::new(account_rules());
        let now = apply_in_batches(&mut engine, &messages, batch, |engine, now| {
            prop_assert_eq!(engine.live_memberships(), engine.evaluate_all(now));
            Ok(())
        })?;
        let at = now + extra_hours * HOUR;
        engine.process_due(at);
        prop_assert_eq!(engine.live_memberships(), engine.evaluate_all(at));
        for (group_id, _) in engine.state.accounts.iter() {
            let key = SubjectKey::Account(group_id.clone());
            let live = engine.view.values.get(&key).and_then(|v| v.score("account_activity"));
            let fresh = engine.evaluate_values(at).into_iter()
                .find(|s| s.kind == SubjectKind::Account && *s.id == **group_id)
                .and_then(|s| s.values.score("account_activity"));
            let same = match (live, fresh) {
                (Some(live), Some(fresh)) => live.same_form(&fresh),
                (live, fresh) => live.is_none() && fresh.is_none(),
            };
            prop_assert!(same, "{group_id}: live {live:?}, from scratch {fresh:?}");
        }
    }
}

/// History arriving at one contact behind another contact's newest event
/// is late for their account: its tracker takes it in place, without a
/// pass over the account's whole history.
#[test]
fn a_contacts_history_behind_the_accounts_newest_is_taken_in_place() {
    let mut engine = Engine::new(account_rules());
    let mut feed = Feed::new();
    let live = T0 + 10 * DAY;
    let join = |user: u8| to_account_message((user, 0, 0, 0));
    engine.apply(&feed.ops(&[join(1), join(2)]), T0);
    engine.apply(&feed.ops(&[track("u1", "Logged In", live)]), live);
    let now = live + HOUR;
    for day in 1..6 {
        // Newest for u2, behind u1's login for the account.
        let late = track("u2", "Logged In", live - (6 - day) * DAY);
        engine.apply(&feed.ops(&[late]), now);
    }
    let tracker = engine.trackers.get(&SubjectKey::Account(Arc::from("g0")));
    assert_eq!(tracker.map(|t| t.starts()), Some(1), "started once");
    assert_eq!(engine.live_memberships(), engine.evaluate_all(now));
    engine.process_due(now + 5 * DAY);
    assert_eq!(
        engine.live_memberships(),
        engine.evaluate_all(now + 5 * DAY)
    );
}
