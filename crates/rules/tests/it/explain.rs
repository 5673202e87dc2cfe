//! Explanations, snapshot-tested (rendered text and JSON).

use bellwether_rules::{Definitions, RuleSet, SubjectKind};

use crate::support::{day, example, sample_contact};

#[test]
fn explains_a_condition() {
    let rules =
        RuleSet::compile(&Definitions::default()).unwrap_or_else(|d| panic!("{}", d.render()));
    let text = r#"count(page where path = "/pricing", last 7d) >= 2
        and each(last 3 "Email Sent" followed_by "Email Opened" on email_id)
        and not exists("Demo Requested")
        and days_since("Order Completed") < 3"#;
    let condition = rules
        .condition(SubjectKind::Contact, text)
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let explanation = condition.explain(&sample_contact(), day(10.0));
    let explanation = explanation.unwrap_or_else(|| panic!("no explanation"));
    insta::assert_snapshot!("condition_text", explanation.render());
    insta::assert_json_snapshot!("condition_json", explanation.children[0]);
}

#[test]
fn explains_scores_and_tiers() {
    let rules = example();
    let mut contact = sample_contact();
    let intent = rules
        .explain_score("intent", &contact, day(10.0))
        .unwrap_or_else(|| panic!("no score"));
    contact.scores.insert("intent".into(), intent.form);
    let tier = rules
        .explain_tier("lifecycle", &contact, day(10.0))
        .unwrap_or_default();
    let tiers: Vec<String> = tier
        .iter()
        .map(|l| format!("[{}]\n{}", l.level, l.explanation.render()))
        .collect();
    insta::assert_snapshot!(
        "score_and_tier",
        format!("{}\n{}", intent.render(), tiers.join("\n"))
    );
}
