//! Fuzzing the parser and checker: token soups and mutated valid expressions
//! may only produce clean errors (or evaluate), never panic.

use bellwether_rules::{RuleSet, SubjectKind};
use proptest::prelude::*;

use crate::support::{day, example, sample_contact};

const TOKENS: &[&str] = &[
    "count",
    "exists",
    "days_since",
    "active_days",
    "distinct",
    "sum",
    "avg",
    "min",
    "max",
    "first",
    "last",
    "score",
    "in_segment",
    "tier",
    "past",
    "sequence",
    "each",
    "contacts",
    "page",
    "screen",
    "any",
    "where",
    "and",
    "or",
    "not",
    "in",
    "between",
    "ago",
    "within",
    "of",
    "then",
    "followed_by",
    "on",
    "contains",
    "starts_with",
    "matches",
    "trait",
    "account",
    ".",
    ",",
    "(",
    ")",
    "[",
    "]",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "7d",
    "48h",
    "0",
    "3",
    "2.5",
    "\"Email Opened\"",
    "\"intent\"",
    "\"/pricing\"",
    "path",
    "plan",
    "time",
    "true",
    "false",
    "#",
    "\"",
    "'",
    "\\",
    "é",
    "∞",
    "last 7d",
    "1e9",
    "99999999999999999999d",
];

const VALID: &[&str] = &[
    r#"count(page where path = "/pricing", last 7d) >= 2 and each(last 3 "Email Sent" followed_by "Email Opened" on email_id)"#,
    r#"count(contacts where score("intent") >= 50) >= 3"#,
    r#"trait.seats >= 3 * past(trait.seats, 60d) and account.tech contains "salesforce""#,
    r#"exists("Campaign Created", within 48h of first("Signed Up")) or days_since(any) >= 21"#,
    r#"sequence("A" then "B" where x in [1, 2] within 2d, between 60d and 30d ago)"#,
    r#"first("Signed Up").time + 2d < last(page).time and tier("lifecycle") = "trial""#,
];

fn check_and_run(rules: &RuleSet, text: &str) {
    for subject in [SubjectKind::Contact, SubjectKind::Account] {
        match rules.condition(subject, text) {
            Ok(condition) => {
                let contact = sample_contact();
                let _ = condition.evaluate(&contact, day(10.0));
                let _ = condition.explain(&contact, day(10.0));
            }
            Err(diagnostics) => {
                for diagnostic in &diagnostics.diagnostics {
                    let _ = diagnostic.to_string();
                }
                prop_assert_no_empty(&diagnostics.render());
            }
        }
    }
}

fn prop_assert_no_empty(rendered: &str) {
    assert!(
        rendered.contains("error"),
        "an error without a message: {rendered}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn token_soups_never_panic(tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..30)) {
        let rules = example();
        check_and_run(&rules, &tokens.join(" "));
        check_and_run(&rules, &tokens.concat());
    }

    #[test]
    fn mutated_expressions_never_panic(
        which in 0..VALID.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, prop::sample::select(TOKENS)), 1..4),
    ) {
        let rules = example();
        let mut text: Vec<char> = VALID[which].chars().collect();
        for (index, action, token) in edits {
            let at = index.index(text.len() + 1);
            match action {
                0 if at < text.len() => { text.remove(at); }
                1 => text.splice(at..at, token.chars()).for_each(drop),
                _ => text.truncate(at),
            }
        }
        check_and_run(&rules, &text.into_iter().collect::<String>());
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC{0,80}") {
        let rules = example();
        check_and_run(&rules, &text);
        let _ = bellwether_rules::check_file("f.toml", &text);
        let _ = bellwether_rules::check_file("f.toml", &format!("[[segment]]\nname = \"x\"\nwhen = '{text}'\n"));
    }
}
