//! Syntax trees, as s-expressions, snapshot-tested.

use bellwether_rules::parse;

fn tree(src: &str) -> String {
    match parse(src) {
        Ok(expr) => format!("{src}\n=> {expr}"),
        Err(problem) => format!(
            "{src}\n=> error {}..{}: {}",
            problem.span.start, problem.span.end, problem.message
        ),
    }
}

#[test]
fn syntax_trees() {
    let sources = [
        r#"count(page where path = "/pricing", last 7d) >= 2"#,
        r#"not exists("Demo Requested")"#,
        "days_since(any) >= 21",
        "active_days(last 30d) >= 20",
        r#"distinct("Feature Used", feature, last 30d) >= 5"#,
        r#"sum("Order Completed", revenue, last 90d) > 1000"#,
        r#"score("intent") >= 60 and in_segment("dormant") or tier("lifecycle") = "trial""#,
        r#"count(contacts where score("intent") >= 50) >= 3"#,
        r#"trait.plan in ["pro", "enterprise"] and account.tech contains "salesforce""#,
        r#"trait.seats between 10 and 2 * past(trait.seats, 60d)"#,
        r#"path starts_with "/blog/" and title matches "(?i)pricing""#,
        r#"count("Logged In", between 60d and 30d ago) - -1 * 2 / 4"#,
        r#"exists("Campaign Created", within 48h of first("Signed Up"))"#,
        r#"first("Signed Up").time + 2d < last(page).time and last(page).context.ip = "x""#,
        r#"sequence("Signed Up" then "Campaign Created" then page where path = "/x" within 48h, last 30d)"#,
        r#"each(last 3 "Email Sent" followed_by "Email Opened" on email_id within 7d)"#,
        r#"count(page where properties.a.b == 1 and not (x != 2)) = 0"#,
        "trait.plan not in []",
        "1.5h + 30m = 2h # comments run to the end of the line",
    ];
    let out: Vec<String> = sources.iter().map(|s| tree(s)).collect();
    insta::assert_snapshot!(out.join("\n\n"));
}
