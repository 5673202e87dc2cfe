//! Reports end to end. On generated data (`bellwether gen`), the causal
//! effects `docs/gen.md` documents show up: `hot_intent` members win deals
//! significantly more often than non-members, and the intent score ranks
//! winners. Over HTTP: conversion, holdout lift, backtests, overlap and
//! lint with their errors.

use std::process::Command;

use serde_json::{json, Value};

use crate::harness::{binary, repo_root, unique, Backend, Server, DEFINITIONS, READ_TOKEN};

const END: &str = "2026-11-01T00:00:00Z";
const START: &str = "2026-05-05T00:00:00Z";

fn bellwether(args: &[&str]) -> (bool, Value, String) {
    let output = Command::new(binary())
        .args(args)
        .env("BELLWETHER_LOG", "warn")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (output.status.success(), json, stderr)
}

#[test]
fn generated_causes_show_up_in_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.ndjson").display().to_string();
    let store = dir.path().join("store").display().to_string();
    let config = repo_root().join("examples/b2b.toml").display().to_string();
    let (ok, _, err) = bellwether(&[
        "gen", "--seed", "5", "--events", "60000", "--end", END, "--out", &data,
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = bellwether(&["import", &data, "--config", &config, "--data", &store]);
    assert!(ok, "{err}");
    let common = [
        "--config", &config, "--data", &store, "--as-of", END, "--json",
    ];

    let mut args = vec!["report", "conversion", "--segment", "hot_intent"];
    args.extend([
        "--outcome",
        "\"Deal Won\"",
        "--horizon",
        "90d",
        "--from",
        START,
    ]);
    args.extend(common);
    let (ok, report, err) = bellwether(&args);
    assert!(ok, "{err}");
    let members = &report["members"]["conversion"];
    let others = &report["non_members"]["conversion"];
    assert!(members["total"].as_u64().unwrap() >= 30, "{report}");
    // Pricing views cause wins: the intervals do not even overlap.
    assert!(
        members["low"].as_f64().unwrap() > others["high"].as_f64().unwrap(),
        "{report}"
    );
    assert!(report["lift"].as_f64().unwrap() > 2.0, "{report}");
    assert!(report["p_value"].as_f64().unwrap() < 1e-6, "{report}");

    let mut args = vec!["report", "score-quality", "--score", "intent"];
    args.extend(["--outcome", "Deal Won", "--horizon", "60d"]);
    args.extend(common);
    let (ok, quality, err) = bellwether(&args);
    assert!(ok, "{err}");
    assert!(quality["auc"].as_f64().unwrap() > 0.5, "{quality}");
    let top = quality["deciles"][0]["conversion"]["rate"]
        .as_f64()
        .unwrap();
    let overall = quality["overall"]["rate"].as_f64().unwrap();
    assert!(
        top > 1.5 * overall,
        "the top decile converts best: {quality}"
    );

    let mut args = vec![
        "backtest",
        "--segment",
        "hot_intent",
        "--from",
        START,
        "--to",
        END,
    ];
    args.extend(["--every", "7d", "--outcome", "Deal Won", "--horizon", "90d"]);
    args.extend(common);
    let (ok, saved, err) = bellwether(&args);
    assert!(ok, "{err}");
    let points = saved["points"].as_array().unwrap();
    assert_eq!(points.len(), 26, "every 7 days over 180 days");
    assert!(saved["entrants"].as_u64().unwrap() > 0, "{saved}");
    // A draft with the same condition backtests the same.
    let when = r#"count(page where path = "/pricing", last 7d) >= 2 and each(last 3 "Email Sent" followed_by "Email Opened" on email_id)"#;
    let mut args = vec!["backtest", "--when", when, "--from", START, "--to", END];
    args.extend(["--every", "7d", "--outcome", "Deal Won", "--horizon", "90d"]);
    args.extend(common);
    let (ok, draft, err) = bellwether(&args);
    assert!(ok, "{err}");
    assert_eq!(draft["points"], saved["points"]);
    assert_eq!(draft["conversion"], saved["conversion"]);

    let (ok, checked, _) = bellwether(&["check", &config, "--lint", "--data", &store, "--json"]);
    assert!(!ok, "lint findings fail the check");
    let codes: Vec<&str> = checked["lint"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(codes.contains(&"too_small"), "{checked}");
}

const HOLDOUT: &str = r#"
[[segment]]
name = "demo_holdout"
subject = "contact"
when = 'exists("Demo Requested")'
owner = "sdr-pool"
action = "call"
holdout = 0.5
"#;

#[test]
fn reports_over_http_with_their_errors() {
    let server = Server::start_with(Backend::Sqlite, &format!("{DEFINITIONS}{HOLDOUT}"));
    let users: Vec<String> = (0..20).map(|_| unique("rep")).collect();
    // Logins 3 hours ago, demo requests 2 hours ago, wins 1 hour ago.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let hours_ago = |h: i64| bellwether_server::segment::format_timestamp(now - h * 3_600_000);
    let track = |user: &str, event: &str, h: i64| {
        let body = json!({"userId": user, "event": event, "timestamp": hours_ago(h)});
        assert_eq!(server.send("/v1/track", &body).0, 200);
    };
    for (i, user) in users.iter().enumerate() {
        track(user, "Logged In", 3);
        if i % 2 == 0 {
            track(user, "Demo Requested", 2);
        }
        if i % 4 == 0 || i == 1 {
            track(user, "Deal Won", 1);
        }
    }
    let get = |path: &str| server.get(path, READ_TOKEN);
    let (status, report) =
        get("/api/v1/reports/conversion?segment=demo_requesters&outcome=Deal%20Won");
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["members"]["total"], 10, "{report}");
    assert_eq!(report["members"]["converted"], 5, "{report}");
    assert_eq!(report["non_members"]["total"], 10, "{report}");
    assert_eq!(report["non_members"]["converted"], 1, "{report}");
    assert_eq!(report["horizon"], "30d");
    assert!(report["p_value"].as_f64().is_some(), "{report}");

    let (status, lift) =
        get("/api/v1/reports/holdout?segment=demo_holdout&outcome=%22Deal%20Won%22");
    assert_eq!(status, 200, "{lift}");
    let treated = lift["treated"]["total"].as_u64().unwrap();
    let held = lift["held_out"]["total"].as_u64().unwrap();
    assert_eq!(treated + held, 10, "{lift}");
    assert_eq!(lift["share"], 0.5);

    let (status, quality) = get(
        "/api/v1/reports/score-quality?score=intent&outcome=Deal%20Won&at=2020-01-01T00:00:00Z",
    );
    assert_eq!(status, 200, "{quality}");
    assert_eq!(
        quality["overall"]["total"], 0,
        "nobody was known in 2020: {quality}"
    );

    let (status, backtest) = get(
        "/api/v1/reports/backtest?when=exists(%22Demo%20Requested%22)&every=1h&outcome=Deal%20Won",
    );
    assert_eq!(status, 200, "{backtest}");
    let points = backtest["points"].as_array().unwrap();
    assert_eq!(points.len(), 30 * 24 + 1);
    assert_eq!(points.last().unwrap()["size"], 10, "{backtest}");
    assert_eq!(
        backtest["entrants"], 10,
        "all entered within the last hour of points"
    );
    assert_eq!(backtest["conversion"]["converted"], 5, "{backtest}");

    let (status, overlap) = get("/api/v1/reports/overlap?segments=demo_requesters,demo_holdout");
    assert_eq!(status, 200, "{overlap}");
    assert_eq!(overlap["pairs"][0]["jaccard"], 1.0, "{overlap}");

    let (status, lint) = get("/api/v1/reports/lint?min_size=5");
    assert_eq!(status, 200, "{lint}");
    let findings = lint["findings"].as_array().unwrap();
    let has = |code: &str, definition: &str| {
        findings
            .iter()
            .any(|f| f["code"] == code && f["definition"] == definition)
    };
    assert!(has("near_duplicate", "demo_requesters"), "{lint}");
    assert!(
        has("no_owner", "just_clicked") && has("unknown_event", "just_clicked"),
        "{lint}"
    );
    assert!(has("never_changed", "just_clicked"), "{lint}");
    assert!(!has("too_small", "demo_requesters"), "{lint}");

    for (path, status, field) in [
        (
            "/api/v1/reports/conversion?segment=demo_requesters",
            400,
            Some("outcome"),
        ),
        (
            "/api/v1/reports/conversion?segment=demo_requesters&outcome=%22Deal%22%20where%20(",
            400,
            Some("outcome"),
        ),
        (
            "/api/v1/reports/conversion?segment=demo_requesters&outcome=x&horizon=soon",
            400,
            Some("horizon"),
        ),
        (
            "/api/v1/reports/conversion?segment=demo_requesters&outcome=x&from=yesterday",
            400,
            Some("from"),
        ),
        (
            "/api/v1/reports/conversion?segment=nope&outcome=x",
            404,
            None,
        ),
        (
            "/api/v1/reports/holdout?segment=demo_requesters&outcome=x",
            400,
            None,
        ),
        (
            "/api/v1/reports/score-quality?score=nope&outcome=x",
            404,
            None,
        ),
        (
            "/api/v1/reports/backtest?segment=demo_requesters&when=true",
            400,
            Some("segment"),
        ),
        ("/api/v1/reports/backtest?when=count(", 400, Some("when")),
        (
            "/api/v1/reports/backtest?segment=demo_requesters&every=1m",
            400,
            Some("every"),
        ),
        ("/api/v1/reports/overlap?segments=nope", 404, None),
        (
            "/api/v1/reports/lint?max_overlap=2",
            400,
            Some("max_overlap"),
        ),
    ] {
        let (got, error) = get(path);
        assert_eq!(got, status, "{path}: {error}");
        assert_eq!(error["success"], false, "{path}: {error}");
        if let Some(field) = field {
            assert_eq!(error["field"], field, "{path}: {error}");
        }
    }
    let (_, syntax) = get("/api/v1/reports/backtest?when=count(");
    assert_eq!(syntax["code"], "invalid_expression", "{syntax}");
    assert!(syntax["errors"][0]["column"].as_u64().is_some(), "{syntax}");
    let (status, _) = server.get("/api/v1/reports/lint", "wrong-token");
    assert_eq!(status, 401);
    let (_, doc) = get("/api/v1/openapi.json");
    for report in [
        "conversion",
        "holdout",
        "score-quality",
        "overlap",
        "backtest",
        "lint",
    ] {
        let path = format!("/api/v1/reports/{report}");
        assert!(doc["paths"].get(&path).is_some(), "openapi lacks {path}");
    }
}

#[test]
fn the_default_outcome_shows_on_the_dashboard_and_the_segment_page() {
    let reports = "\n[reports]\noutcome = '\"Deal Won\"'\nvalue = 'amount'\nrefresh = '1s'\n";
    let server = Server::start_with(Backend::Sqlite, &format!("{DEFINITIONS}{reports}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let hours_ago = |h: i64| bellwether_server::segment::format_timestamp(now - h * 3_600_000);
    let track = |user: &str, event: &str, properties: Value, h: i64| {
        let body = json!({"userId": user, "event": event, "properties": properties, "timestamp": hours_ago(h)});
        assert_eq!(server.send("/v1/track", &body).0, 200);
    };
    let users: Vec<String> = (0..4).map(|_| unique("rev")).collect();
    for user in &users {
        track(user, "Logged In", json!({}), 3);
    }
    // Members (demo requesters): users 0 and 2; user 0 wins 1,200.
    // Non-members: users 1 and 3; user 1 wins 800.
    track(&users[0], "Demo Requested", json!({}), 2);
    track(&users[2], "Demo Requested", json!({}), 2);
    track(&users[0], "Deal Won", json!({"amount": 1200}), 1);
    track(&users[1], "Deal Won", json!({"amount": 800}), 1);

    let (status, report) = server.get(
        "/api/v1/reports/conversion?segment=demo_requesters&outcome=Deal%20Won&value=amount",
        READ_TOKEN,
    );
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["value"], "amount");
    assert_eq!(report["members"]["value"]["revenue"], 1200.0, "{report}");
    assert_eq!(
        report["members"]["value"]["revenue_per_member"], 600.0,
        "{report}"
    );
    assert_eq!(report["non_members"]["value"]["revenue"], 800.0, "{report}");
    let median = report["members"]["days_to_outcome"]["median"]
        .as_f64()
        .unwrap();
    assert!(
        (median - 1.0 / 24.0).abs() < 1e-6,
        "an hour after entry: {report}"
    );
    let (status, error) = server.get(
        "/api/v1/reports/conversion?segment=demo_requesters&outcome=Deal%20Won&pipeline=any",
        READ_TOKEN,
    );
    assert_eq!(status, 400, "{error}");
    assert!(error.to_string().contains("pipeline"), "{error}");

    let page = |path: &str| {
        crate::harness::client()
            .get(server.url(path))
            .send()
            .and_then(|r| r.text())
            .unwrap_or_default()
    };
    // Computed in the background (first while the store was empty, then
    // again a refresh interval after the events): pages never wait on it.
    crate::harness::wait_for("the dashboard's conversion column", || {
        let html = page("/");
        html.contains("Conversion (Deal Won, 30d)")
            && html.contains("members 1 of 2 (50.0%)")
            && html.contains("600 per member")
    });
    let segment = page("/segments/demo_requesters");
    assert!(segment.contains("Days to outcome"), "{segment}");
    assert!(segment.contains("Per member"), "{segment}");
    assert!(segment.contains(">600<"), "revenue per member: {segment}");
    assert!(segment.contains("Default outcome, computed"), "{segment}");

    // New data: refreshed within the refresh interval.
    track(&users[2], "Deal Won", json!({"amount": 3000}), 0);
    crate::harness::wait_for("the refreshed conversion", || {
        let html = page("/");
        html.contains("members 2 of 2 (100.0%)") && html.contains("2.1k per member")
    });
}
