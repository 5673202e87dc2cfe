//! What `GET /v1/personalize` reads: only exposed definitions, the
//! contact's own and its account's.

use std::collections::BTreeMap;

use super::*;

const EXPOSED_RULES: &str = r#"
[[segment]]
name = "pricing_twice"
when = 'count("Pricing Viewed", last 7d) >= 2'
expose = true

[[segment]]
name = "hidden_twice"
when = 'count("Pricing Viewed", last 7d) >= 2'

[[segment]]
name = "active_account"
subject = "account"
when = 'count(contacts where in_segment("pricing_twice")) >= 1'
expose = true

[[tier]]
name = "stage"
expose = true
levels = [ { name = "evaluating", when = 'in_segment("pricing_twice")' }, { name = "visitor", when = 'true' } ]

[[tier]]
name = "hidden_stage"
levels = [ { name = "any", when = 'true' } ]
"#;

#[test]
fn only_exposed_definitions_of_the_contact_and_its_account_show() {
    let rules = Arc::new(RuleSet::from_toml("t.toml", EXPOSED_RULES).expect("valid rules"));
    let mut engine = Engine::new(rules);
    let mut feed = Feed::new();
    let mut ann_joins = message(MessageKind::Group, Some("ann"), None, "", T0);
    ann_joins.group_id = Some("acme".into());
    let mut bob_joins = message(MessageKind::Group, Some("bob"), None, "", T0);
    bob_joins.group_id = Some("acme".into());
    let ops = feed.ops(&[
        ann_joins,
        bob_joins,
        track("ann", "Pricing Viewed", T0 + 1),
        track("ann", "Pricing Viewed", T0 + 2),
        track("bob", "Signed Up", T0 + 3),
        track("cyd", "Signed Up", T0 + 4),
    ]);
    engine.apply(&ops, T0 + 10);

    let ann = engine.exposed(contact_of(&ops, "ann"));
    assert_eq!(ann.segments, ["active_account", "pricing_twice"]);
    assert_eq!(
        ann.tiers,
        BTreeMap::from([("stage".to_owned(), "evaluating".to_owned())])
    );
    let bob = engine.exposed(contact_of(&ops, "bob"));
    assert_eq!(bob.segments, ["active_account"], "the account's segment");
    assert_eq!(
        bob.tiers,
        BTreeMap::from([("stage".to_owned(), "visitor".to_owned())])
    );
    let cyd = engine.exposed(contact_of(&ops, "cyd"));
    assert!(cyd.segments.is_empty(), "no account, no exposed segment");
    assert_eq!(engine.exposed(ContactId::MAX), Exposed::default());
}
