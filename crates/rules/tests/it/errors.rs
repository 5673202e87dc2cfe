//! Error messages, rendered rustc-style, snapshot-tested.

use bellwether_rules::{check_file, Definitions, RuleSet, SubjectKind};

fn condition_errors(rules: &RuleSet, subject: SubjectKind, text: &str) -> String {
    match rules.condition(subject, text) {
        Ok(_) => format!("{text}\n(no error)\n"),
        Err(diagnostics) => diagnostics
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(""),
    }
}

#[test]
fn expression_errors() {
    let rules = crate::support::example();
    let cases: &[(SubjectKind, &str)] = &[
        (SubjectKind::Contact, "cont(page, last 7d) >= 2"),
        (SubjectKind::Contact, "count(page, last 7) >= 2"),
        (SubjectKind::Contact, "count(page, last 7d, last 3d) >= 2"),
        (SubjectKind::Contact, r#"count("A") >= "3""#),
        (
            SubjectKind::Contact,
            "count(contacts where trait.role = \"vp\") >= 2",
        ),
        (SubjectKind::Contact, r#"score("intnt") > 5"#),
        (SubjectKind::Contact, r#"score("fit") > 5"#),
        (SubjectKind::Account, r#"in_segment("hot_intent")"#),
        (SubjectKind::Contact, r#"tier("lifecycle") = "custmer""#),
        (SubjectKind::Contact, "plan = \"pro\""),
        (SubjectKind::Contact, "count(page where count(any) > 1) > 1"),
        (SubjectKind::Contact, "days_since(any) >= 21d"),
        (
            SubjectKind::Contact,
            "days_since(any) * score(\"intent\") > 1",
        ),
        (SubjectKind::Contact, "trait.a matches \"(\""),
        (SubjectKind::Contact, "count(page) >= 2 && true"),
        (SubjectKind::Contact, "(count(page) >= 2"),
        (SubjectKind::Contact, "1 < 2 < 3"),
        (SubjectKind::Contact, "first(\"Signed Up\") > 1"),
        (SubjectKind::Contact, "count(last 7d)"),
        (SubjectKind::Contact, "count(page, between 30d and 60d ago)"),
        (SubjectKind::Contact, "each(last 3 \"Email Sent\")"),
        (SubjectKind::Contact, "count(page)"),
        (SubjectKind::Contact, "\"unterminated"),
    ];
    let out: Vec<String> = cases
        .iter()
        .map(|(subject, text)| condition_errors(&rules, *subject, text))
        .collect();
    insta::assert_snapshot!(out.join("\n"));
}

/// `days_since` / `days_until` tell a trait (`trait.x`, `account.x`) from
/// an event selector (every other name), and say so when neither fits.
#[test]
fn time_valued_trait_errors() {
    let rules = crate::support::example();
    let cases: &[(SubjectKind, &str)] = &[
        (SubjectKind::Contact, "days_until(renewal_date) < 30"),
        (SubjectKind::Contact, "days_until(\"Renewal\") < 30"),
        (SubjectKind::Account, "days_since(signed_up.at) > 14"),
        (SubjectKind::Account, "days_until(renewal.date) < 30"),
        (SubjectKind::Account, "days_until(account) < 30"),
        (
            SubjectKind::Account,
            "days_since(trait.renewal_date where x = 1) > 1",
        ),
        (
            SubjectKind::Account,
            "days_until(trait.renewal_date) >= 30d",
        ),
        (
            SubjectKind::Account,
            "days_until(trait.renewal_date) = \"soon\"",
        ),
        (
            SubjectKind::Account,
            "days_until(trait.a) * days_since(trait.b) > 1",
        ),
        (SubjectKind::Account, "days_until(trait.a, last 7d) > 1"),
        (
            SubjectKind::Account,
            "count(any where days_until(trait.a) > 1) > 1",
        ),
        (
            SubjectKind::Account,
            "days_until(account.renewal_date) between 0 and 180",
        ),
        (SubjectKind::Contact, "days_since(signed_up_at) > 14"),
    ];
    let out: Vec<String> = cases
        .iter()
        .map(|(subject, text)| condition_errors(&rules, *subject, text))
        .collect();
    insta::assert_snapshot!(out.join("\n"));
}

#[test]
fn nesting_is_capped() {
    let deep = format!("{}true{}", "(".repeat(200), ")".repeat(200));
    let rules =
        RuleSet::compile(&Definitions::default()).unwrap_or_else(|d| panic!("{}", d.render()));
    let error = rules
        .condition(SubjectKind::Contact, &deep)
        .err()
        .map(|d| d.diagnostics[0].code.clone());
    assert_eq!(error.as_deref(), Some("limit"));
    let long = "1 + ".repeat(5_000) + "1 > 0";
    let error = rules
        .condition(SubjectKind::Contact, &long)
        .err()
        .map(|d| d.diagnostics[0].code.clone());
    assert_eq!(error.as_deref(), Some("limit"));
}

const BAD_FILE: &str = r#"[server]
listen = "127.0.0.1:8787"

[[score]]
name = "intent"
half_life = "two weeks"
rules = [
  { on = 'page where path = "/pricing"', points = 10, cap = "lots" },
  { while = "days_since(any) >= 14" },
  { rollup = "intent" },
]

[[score]]
name = "acct"
subject = "account"
rules = [{ rollup = "intent", agg = "median" }]

[[segment]]
name = "a"
when = '''
  count(page, last 7d) >= 2
  and in_segment("b")
'''

[[segment]]
name = "b"
when = "in_segment(\"a\") and score(\"intent\") > \"x\""

[[segment]]
name = "a"
when = 'true'
holdout = 1.5

[[tier]]
name = "t"
levels = [{ name = "x", when = 'tier("t") = "x"' }]
"#;

#[test]
fn definition_file_errors() {
    let diagnostics = check_file("bad.toml", BAD_FILE);
    insta::assert_snapshot!(diagnostics.render());
}

#[test]
fn cycles_are_reported() {
    let text = "[[segment]]\nname = \"a\"\nwhen = 'in_segment(\"b\")'\n[[segment]]\nname = \"b\"\nwhen = 'in_segment(\"a\")'\n[[tier]]\nname = \"t\"\nlevels = [{ name = \"x\", when = 'tier(\"t\") = \"x\"' }]\n";
    let diagnostics = check_file("cycle.toml", text);
    insta::assert_snapshot!(diagnostics.render());
}

#[test]
fn errors_serialise_as_json() {
    let diagnostics = check_file(
        "bad.toml",
        "[[segment]]\nname = \"a\"\nwhen = 'count(page) >'\n",
    );
    insta::assert_json_snapshot!(diagnostics.to_json());
    let broken = check_file("broken.toml", "[[segment]\nname = 1");
    assert_eq!(broken.diagnostics[0].code, "toml");
    assert!(check_file("ok.toml", "[[segment]]\nname = \"a\"\nwhen = 'true'\n").is_empty());
}
