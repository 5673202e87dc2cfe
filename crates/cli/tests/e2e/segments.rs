//! The real-time engine over HTTP: live segments, scores and tiers on
//! contacts and accounts, members, explanations, a time-driven exit, restart,
//! and `bellwether eval` agreeing with the live state.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{binary, unique, Backend, Server, DEFINITIONS, READ_TOKEN};

fn start() -> Server {
    Server::start_with(Backend::Sqlite, DEFINITIONS)
}

#[test]
fn segments_scores_and_tiers_are_live_on_contacts_and_accounts() {
    let server = start();
    let user = unique("live");
    let group = unique("acct");
    server.send(
        "/v1/group",
        &json!({"userId": user, "groupId": group, "traits": {"name": "Acme"}}),
    );
    server.send(
        "/v1/page",
        &json!({"userId": user, "name": "Pricing", "properties": {"path": "/pricing"}}),
    );
    let contact = server.contact(&user);
    assert_eq!(contact["segments"], json!([]));
    assert_eq!(contact["tiers"]["intent_level"], "low");
    assert!(
        (contact["scores"]["intent"].as_f64().unwrap() - 10.0).abs() < 0.01,
        "{contact}"
    );

    server.send(
        "/v1/track",
        &json!({"userId": user, "event": "Demo Requested"}),
    );
    let contact = server.contact(&user);
    assert_eq!(contact["segments"], json!(["demo_requesters"]));
    assert_eq!(contact["tiers"]["intent_level"], "high");
    let (_, account) = server.get(&format!("/api/v1/accounts/{group}"), READ_TOKEN);
    assert_eq!(
        account["segments"],
        json!(["engaged_accounts"]),
        "{account}"
    );
    assert_eq!(
        server.members("demo_requesters"),
        std::slice::from_ref(&user)
    );
    assert_eq!(
        server.members("engaged_accounts"),
        std::slice::from_ref(&group)
    );

    let (status, list) = server.get("/api/v1/segments", READ_TOKEN);
    assert_eq!(status, 200);
    let demo = list["segments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "demo_requesters")
        .unwrap();
    assert_eq!(
        (demo["size"].as_u64(), demo["owner"].as_str()),
        (Some(1), Some("sdr-pool"))
    );

    let (status, explanation) = server.get(
        &format!("/api/v1/contacts/{user}/explain/demo_requesters"),
        READ_TOKEN,
    );
    assert_eq!(status, 200, "{explanation}");
    assert!(
        explanation.to_string().contains("Demo Requested"),
        "{explanation}"
    );
    let (status, _) = server.get(
        &format!("/api/v1/contacts/{user}/explain/engaged_accounts"),
        READ_TOKEN,
    );
    assert_eq!(status, 400, "an account segment asked of a contact");
    let (status, _) = server.get(&format!("/api/v1/contacts/{user}/explain/nope"), READ_TOKEN);
    assert_eq!(status, 404);
    let (status, _) = server.get("/api/v1/segments/nope/members", READ_TOKEN);
    assert_eq!(status, 404);

    let (status, health) = server.get("/api/v1/health", READ_TOKEN);
    assert_eq!(status, 200, "{health}");
    let demo = health["definitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "demo_requesters")
        .unwrap();
    assert!(demo["evaluations"].as_u64().unwrap() >= 2, "{demo}");
    assert!(
        demo["last_change"].is_string() && demo["size"] == 1,
        "{demo}"
    );
    assert_eq!(health["subjects"]["contacts"], 1);
    assert!(
        health["evaluation_us"]["p99"].as_f64().unwrap() > 0.0,
        "{health}"
    );
    let metrics = crate::harness::client()
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("bellwether_evaluation_seconds{quantile=\"0.99\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("bellwether_timers_pending"), "{metrics}");
}

#[test]
fn a_window_expiry_exits_on_its_own_at_the_exact_instant() {
    let server = start();
    let user = unique("click");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let at = bellwether_timestamp(now);
    server.send(
        "/v1/track",
        &json!({"userId": user, "event": "Clicked", "timestamp": at}),
    );
    assert_eq!(server.members("just_clicked"), std::slice::from_ref(&user));
    // `last 1s` stops covering the click at now + 1s; no event arrives.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.members("just_clicked").is_empty() {
        assert!(Instant::now() < deadline, "the timer never fired");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, changes) = server.get("/api/v1/changes?limit=1000", READ_TOKEN);
    let exit = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["id"] == user.as_str() && c["definition"] == "just_clicked" && c["change"] == "exited"
        })
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(
        exit["at"],
        bellwether_timestamp(now + 1000).as_str(),
        "{changes}"
    );
}

#[test]
fn memberships_survive_a_restart_and_eval_agrees_with_the_live_state() {
    let mut server = start();
    let users: Vec<String> = (0..5).map(|_| unique("eval")).collect();
    for (i, user) in users.iter().enumerate() {
        let event = if i % 2 == 0 {
            "Demo Requested"
        } else {
            "Logged In"
        };
        server.send("/v1/track", &json!({"userId": user, "event": event}));
    }
    let live = server.members("demo_requesters");
    assert_eq!(live.len(), 3);
    server.restart();
    assert_eq!(
        server.members("demo_requesters"),
        live,
        "state rebuilt from the store"
    );
    server.kill9();

    let out = server.dir.path().join("members.csv");
    let output = Command::new(binary())
        .args(["eval", "--at", "2999-01-01T00:00:00Z", "--out"])
        .arg(&out)
        .arg("--config")
        .arg(server.config_path())
        .arg("--data")
        .arg(server.data_dir())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("kind,id,segment"));
    let mut from_eval: Vec<String> = lines
        .filter(|l| l.ends_with(",demo_requesters"))
        .map(|l| l.split(',').nth(1).unwrap().to_owned())
        .collect();
    from_eval.sort();
    assert_eq!(from_eval, live);
    assert!(
        csv.contains("contact,") && !csv.contains("just_clicked"),
        "{csv}"
    );

    let output = Command::new(binary())
        .args(["eval", "--at", "yesterday", "--out"])
        .arg(&out)
        .arg("--config")
        .arg(server.config_path())
        .arg("--data")
        .arg(server.data_dir())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("RFC 3339"));
}

fn bellwether_timestamp(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let output = Command::new("date")
        .args(["-u", "-d", &format!("@{seconds}"), "+%Y-%m-%dT%H:%M:%S"])
        .output()
        .unwrap();
    format!(
        "{}.{millis:03}Z",
        String::from_utf8_lossy(&output.stdout).trim()
    )
}

#[test]
fn membership_changes_stream_as_server_sent_events() {
    use std::io::BufRead;
    let server = start();
    let user = unique("sse");
    let response = reqwest::blocking::Client::new()
        .get(server.url("/api/v1/stream?definition=demo_requesters"))
        .bearer_auth(READ_TOKEN)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(response)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    server.send("/v1/track", &json!({"userId": user, "event": "Logged In"}));
    server.send(
        "/v1/track",
        &json!({"userId": user, "event": "Demo Requested"}),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let data = loop {
        let line = received
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("no change streamed");
        if let Some(data) = line.strip_prefix("data:") {
            break data.trim().to_owned();
        }
    };
    let change: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(
        (change["id"].as_str(), change["change"].as_str()),
        (Some(user.as_str()), Some("entered")),
        "{change}"
    );
    assert_eq!(
        change["definition"], "demo_requesters",
        "the filter keeps other definitions out"
    );
}

fn put_definitions(server: &Server, query: &str, body: &str, token: &str) -> (u16, Value) {
    let response = reqwest::blocking::Client::new()
        .put(server.url(&format!("/api/v1/definitions{query}")))
        .bearer_auth(token)
        .header("content-type", "text/plain")
        .body(body.to_owned())
        .send()
        .unwrap();
    crate::harness::read(response)
}

#[test]
fn definitions_change_with_a_dry_run_first_and_survive_a_restart() {
    use crate::harness::ADMIN_TOKEN;
    let mut server = start();
    let (a, b) = (unique("defa"), unique("defb"));
    server.send(
        "/v1/track",
        &json!({"userId": a, "event": "Demo Requested"}),
    );
    server.send("/v1/track", &json!({"userId": b, "event": "Logged In"}));
    let new_definitions = DEFINITIONS.replace(
        r#"when = 'exists("Demo Requested")'"#,
        r#"when = 'exists("Logged In")'"#,
    );
    assert_ne!(new_definitions, DEFINITIONS);

    let (status, _) = put_definitions(&server, "?dry_run=true", &new_definitions, READ_TOKEN);
    assert_eq!(status, 403, "changing definitions needs the admin scope");
    let (status, dry) = put_definitions(&server, "?dry_run=true", &new_definitions, ADMIN_TOKEN);
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["applied"], false);
    assert_eq!(dry["segments"]["demo_requesters"]["enter"], json!([b]));
    assert_eq!(dry["segments"]["demo_requesters"]["exit"], json!([a]));
    assert_eq!(
        server.members("demo_requesters"),
        std::slice::from_ref(&a),
        "a dry run changes nothing"
    );

    let broken =
        new_definitions.replace(r#"exists("Logged In")"#, r#"exists("Logged In", last 3x)"#);
    let (status, error) = put_definitions(&server, "", &broken, ADMIN_TOKEN);
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("invalid_definitions")),
        "{error}"
    );
    assert!(error["errors"][0]["line"].as_u64().is_some(), "{error}");
    assert_eq!(
        server.members("demo_requesters"),
        std::slice::from_ref(&a),
        "a rejected change changes nothing"
    );

    let (status, applied) = put_definitions(&server, "", &new_definitions, ADMIN_TOKEN);
    assert_eq!(
        (status, applied["applied"].as_bool()),
        (200, Some(true)),
        "{applied}"
    );
    assert_eq!(server.members("demo_requesters"), std::slice::from_ref(&b));
    server.restart();
    assert_eq!(
        server.members("demo_requesters"),
        std::slice::from_ref(&b),
        "applied definitions persist"
    );
}

#[test]
fn a_transition_due_while_the_server_was_down_is_recorded_at_its_instant_once() {
    let mut server = start();
    let user = unique("down");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    server.send(
        "/v1/track",
        &json!({"userId": user, "event": "Clicked", "timestamp": bellwether_timestamp(now)}),
    );
    server.kill9();
    // The click leaves `last 1s` at now + 1s, while nothing is running.
    std::thread::sleep(Duration::from_millis(1300));
    server.restart();
    assert!(server.members("just_clicked").is_empty());
    let exits = |server: &Server| -> Vec<Value> {
        let (_, changes) = server.get("/api/v1/changes?limit=1000", READ_TOKEN);
        changes["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                c["id"] == user.as_str()
                    && c["definition"] == "just_clicked"
                    && c["change"] == "exited"
            })
            .cloned()
            .collect()
    };
    let recorded = exits(&server);
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0]["at"], bellwether_timestamp(now + 1000).as_str());
    server.restart();
    assert!(
        exits(&server).is_empty(),
        "not recorded again on the next start"
    );
}

#[test]
fn a_tier_dropped_while_the_server_was_stopped_exits_at_the_next_start_once() {
    let mut server = start();
    let user = unique("tiered");
    server.send(
        "/v1/track",
        &json!({"userId": user, "event": "Demo Requested"}),
    );
    let tier_changes = |server: &Server| -> Vec<(String, String)> {
        let (status, history) = server.get(&format!("/api/v1/contacts/{user}/history"), READ_TOKEN);
        assert_eq!(status, 200, "{history}");
        history["changes"]
            .as_array()
            .expect("a changes list")
            .iter()
            .filter(|c| c["definition"] == "intent_level")
            .map(|c| {
                let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
                (text(&c["change"]), text(&c["level"]))
            })
            .collect()
    };
    assert_eq!(
        tier_changes(&server),
        [("entered".to_owned(), "high".to_owned())]
    );
    let config = std::fs::read_to_string(server.config_path()).expect("config");
    let tier = config.find("[[tier]]").expect("the test config has a tier");
    let end = config[tier..]
        .find("\n\n")
        .map_or(config.len(), |n| tier + n);
    let without_tier = format!("{}{}", &config[..tier], &config[end..]);
    std::fs::write(server.config_path(), without_tier).expect("config written");
    server.restart();
    let exits = [
        ("entered".to_owned(), "high".to_owned()),
        ("exited".to_owned(), "high".to_owned()),
    ];
    let mut seen = tier_changes(&server);
    seen.sort();
    assert_eq!(seen, exits, "the level exits at the start");
    server.restart();
    let mut seen = tier_changes(&server);
    seen.sort();
    assert_eq!(seen, exits, "not recorded again on the next start");
}
