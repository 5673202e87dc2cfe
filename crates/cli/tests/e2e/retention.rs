//! Retention (`[retention] events`): track, page and screen events older
//! than the policy are deleted from the store and forgotten by the engine
//! (memberships that needed them end), identify messages and traits stay,
//! the ingestion API reports the policy and the oldest event kept, a
//! restart agrees, and `check` warns about windows reaching past it.

use std::process::Command;

use serde_json::{json, Value};

use crate::durability::drop_schema;
use crate::harness::{
    binary, client, pg_url, unique, wait_for, Backend, Server, DEFINITIONS, READ_TOKEN,
};

const RETENTION: &str = r#"
[retention]
events = "30d"
every = "1s"
"#;

fn ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[test]
fn old_events_are_deleted_and_forgotten_on_sqlite() {
    deletes_and_forgets(Backend::Sqlite);
}

#[test]
fn old_events_are_deleted_and_forgotten_on_postgres() {
    let schema = unique("bw_retention_");
    deletes_and_forgets(Backend::Postgres(format!("{}?schema={schema}", pg_url())));
    drop_schema(&schema);
}

fn deletes_and_forgets(backend: Backend) {
    let mut server = Server::start_with(backend, &format!("{DEFINITIONS}{RETENTION}"));
    let batch: Vec<Value> = vec![
        json!({"type": "identify", "userId": "ret-old", "traits": {"plan": "pro"}, "timestamp": ago(45)}),
        json!({"type": "track", "userId": "ret-old", "event": "Demo Requested", "timestamp": ago(40)}),
        json!({"type": "page", "userId": "ret-old", "name": "Pricing", "properties": {"path": "/pricing"}, "timestamp": ago(1)}),
        json!({"type": "track", "userId": "ret-new", "event": "Demo Requested", "timestamp": ago(2)}),
    ];
    let (status, body) = server.send("/v1/batch", &json!({ "batch": batch }));
    assert_eq!(status, 200, "{body}");
    wait_for("the 40-day-old demo request to be deleted", || {
        server.events("ret-old").len() == 2
    });
    let kinds: Vec<String> = server
        .events("ret-old")
        .iter()
        .filter_map(|e| e["type"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        kinds,
        vec!["page", "identify"],
        "newest first; identify kept"
    );
    assert_eq!(server.contact("ret-old")["traits"]["plan"], "pro");
    assert_eq!(
        server.members("demo_requesters"),
        vec!["ret-new"],
        "forgotten at once"
    );

    let (status, view) = server.get("/api/v1/ingestion/retention", READ_TOKEN);
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["events"], "30d");
    assert_eq!(view["every"], "1s");
    assert!(view["deleted_since_start"].as_u64() >= Some(1), "{view}");
    let oldest = view["oldest_event"].as_str().unwrap_or_default().to_owned();
    let cutoff = view["cutoff"].as_str().unwrap_or_default().to_owned();
    assert!(!oldest.is_empty() && oldest > cutoff, "{view}");

    // The ingestion page (loopback: read-only without sign-in) shows it.
    let page = client()
        .get(server.url("/ingestion"))
        .send()
        .and_then(|r| r.text())
        .expect("ingestion page");
    assert!(
        page.contains("Retention") && page.contains("kept for"),
        "{page}"
    );
    assert!(
        page.contains("30d") && page.contains("Oldest event kept"),
        "{page}"
    );

    // A restart (from the snapshot written after the pass) agrees, and
    // the store agrees with it: nothing comes back.
    server.restart();
    assert_eq!(server.members("demo_requesters"), vec!["ret-new"]);
    assert_eq!(server.events("ret-old").len(), 2);
}

#[test]
fn check_warns_about_windows_longer_than_the_retention() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("defs.toml");
    let text = format!(
        "{RETENTION}
[[segment]]
name = \"quarter_buyers\"
subject = \"contact\"
when = 'count(\"Order Completed\", last 90d) >= 1'

[[segment]]
name = \"ever_signed_up\"
subject = \"contact\"
when = 'exists(\"Signed Up\")'

[[segment]]
name = \"recent\"
subject = \"contact\"
when = 'exists(any, last 7d)'
"
    );
    std::fs::write(&file, text).expect("write");
    let output = Command::new(binary())
        .arg("check")
        .arg(&file)
        .output()
        .expect("run check");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "warnings do not fail: {stdout}");
    assert!(
        stdout.contains(
            "segment `quarter_buyers` reads 90d back, longer than [retention] events = 30d"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("segment `ever_signed_up` reads all history"),
        "{stdout}"
    );
    assert!(!stdout.contains("`recent`"), "7d fits in 30d: {stdout}");
}
