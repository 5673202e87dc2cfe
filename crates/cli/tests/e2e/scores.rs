//! Score history over HTTP: each change of a score recorded once, with its
//! closed form, on SQLite and PostgreSQL, and not recorded again by a restart.

use bellwether_core::store::{ScoreRecord, ScoreRun, Store, WriteOp};
use bellwether_core::subject::SubjectKey;
use serde_json::{json, Value};

use crate::durability::drop_schema;
use crate::harness::{pg_url, unique, Backend, Server, DEFINITIONS, READ_TOKEN};

fn score_history(server: &Server, user: &str) -> Vec<Value> {
    let (status, body) = server.get(&format!("/api/v1/contacts/{user}/history"), READ_TOKEN);
    assert_eq!(status, 200, "{body}");
    body["scores"].as_array().expect("a scores list").clone()
}

fn score_history_is_recorded_once_per_change(backend: Backend) {
    let mut server = Server::start_with(backend, DEFINITIONS);
    let user = unique("scored");
    server.send(
        "/v1/track",
        &json!({"userId": user, "event": "Demo Requested"}),
    );
    server.send(
        "/v1/page",
        &json!({"userId": user, "properties": {"path": "/pricing"}}),
    );
    server.send("/v1/track", &json!({"userId": user, "event": "Logged In"}));
    let history = score_history(&server, &user);
    let values: Vec<f64> = history
        .iter()
        .map(|r| r["value"].as_f64().expect("a value"))
        .collect();
    // 30 points, then 10 more (a moment of decay apart); `Logged In` scores nothing.
    assert_eq!(values.len(), 2, "{history:?}");
    assert!((values[0] - 30.0).abs() < 1e-3, "{values:?}");
    assert!((values[1] - 40.0).abs() < 1e-3, "{values:?}");
    assert_eq!(history[1]["score"], "intent");
    assert_eq!(history[1]["half_life_ms"], 14 * 24 * 3600 * 1000);
    assert!(history[1]["anchor"].is_string(), "{history:?}");

    let (_, contact) = server.get(&format!("/api/v1/contacts/{user}"), READ_TOKEN);
    let current = contact["scores"]["intent"]
        .as_f64()
        .expect("a current score");
    assert!(
        (current - values[1]).abs() < 0.01,
        "the current value follows the last record: {current}"
    );

    server.restart();
    assert_eq!(
        score_history(&server, &user),
        history,
        "a restart recomputes the same forms and records nothing new"
    );
}

#[test]
fn score_history_on_sqlite() {
    score_history_is_recorded_once_per_change(Backend::Sqlite);
}

#[test]
fn score_history_on_postgres() {
    let schema = unique("bw_scores_");
    let url = format!("{}?schema={schema}", pg_url());
    score_history_is_recorded_once_per_change(Backend::Postgres(url));
    drop_schema(&schema);
}

fn eval_rows(path: &std::path::Path, header: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).expect("eval wrote the file");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(header), "{text}");
    lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn eval_writes_every_score_value_and_tier_level_at_the_instant() {
    let mut server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    let (decayed, fresh) = (unique("decayed"), unique("fresh"));
    let day0 = "2026-01-01T00:00:00.000Z";
    server.send(
        "/v1/track",
        &json!({"userId": decayed, "event": "Demo Requested", "timestamp": day0}),
    );
    server.send(
        "/v1/page",
        &json!({"userId": decayed, "properties": {"path": "/pricing"}, "timestamp": day0}),
    );
    server.send(
        "/v1/track",
        &json!({"userId": fresh, "event": "Demo Requested", "timestamp": "2026-01-15T00:00:00.000Z"}),
    );
    assert!(server.stop_gracefully().success());

    let dir = tempfile::tempdir().unwrap();
    let (members, scores, tiers) = (
        dir.path().join("members.csv"),
        dir.path().join("scores.csv"),
        dir.path().join("tiers.csv"),
    );
    let output = std::process::Command::new(crate::harness::binary())
        .args(["eval", "--at", "2026-01-15T00:00:00Z", "--out"])
        .arg(&members)
        .arg("--scores")
        .arg(&scores)
        .arg("--tiers")
        .arg(&tiers)
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
    let score_of = |user: &str| -> f64 {
        let rows = eval_rows(&scores, "kind,id,score,value");
        let row = rows
            .iter()
            .find(|r| r[0] == "contact" && r[1] == user && r[2] == "intent")
            .unwrap_or_else(|| panic!("no intent row for {user}: {rows:?}"));
        row[3].parse().expect("a number")
    };
    // 40 points 14 days (one half-life) ago, and 30 points right now.
    assert!((score_of(&decayed) - 20.0).abs() < 1e-9);
    assert!((score_of(&fresh) - 30.0).abs() < 1e-9);
    let levels = eval_rows(&tiers, "kind,id,tier,level");
    let level_of = |user: &str| {
        levels
            .iter()
            .find(|r| r[1] == user && r[2] == "intent_level")
            .map(|r| r[3].clone())
    };
    assert_eq!(level_of(&decayed).as_deref(), Some("low"), "{levels:?}");
    assert_eq!(level_of(&fresh).as_deref(), Some("high"), "{levels:?}");
    let memberships = eval_rows(&members, "kind,id,segment");
    assert!(memberships
        .iter()
        .any(|r| r[1] == fresh && r[2] == "demo_requesters"));
}

/// A first start writes score history while it walks the imported events,
/// before its checkpoint. One that stopped half way left rows without a
/// checkpoint: the next start discards them and records the same history
/// as a clean first start.
#[test]
fn a_first_start_discards_the_history_an_interrupted_one_left() {
    let user = unique("walked");
    let lines = [
        json!({"type": "track", "userId": user, "event": "Demo Requested", "messageId": "m1", "timestamp": "2026-01-10T10:00:00.000Z"}),
        json!({"type": "page", "userId": user, "properties": {"path": "/pricing"}, "messageId": "m2", "timestamp": "2026-01-15T10:00:00.000Z"}),
    ];
    let import = |config: &std::path::Path, data: &std::path::Path| {
        crate::harness::import_lines(config, data, &lines)
    };
    let clean = Server::start_prepared(Backend::Sqlite, DEFINITIONS, import);
    let interrupted = Server::start_prepared(Backend::Sqlite, DEFINITIONS, |config, data| {
        import(config, data);
        let store = bellwether_store::SqliteStore::open_as_writer(data, "test")
            .expect("open the imported store");
        let left = |at: i64| ScoreRecord {
            at,
            subject: SubjectKey::Contact(1),
            label: user.clone(),
            score: "intent".into(),
            value: 999.0,
            constant: 999.0,
            decaying: 0.0,
            anchor: at,
            half_life: None,
        };
        store
            .apply(&[WriteOp::ScoreRun(
                ScoreRun::split(vec![left(1_768_000_000_000), left(1_768_500_000_000)]).remove(0),
            )])
            .expect("write what an interrupted walk left");
    });
    let history = |server: &Server| {
        let (status, body) = server.get(&format!("/api/v1/contacts/{user}/history"), READ_TOKEN);
        assert_eq!(status, 200, "{body}");
        body
    };
    let recorded = history(&clean);
    assert_eq!(
        recorded["scores"].as_array().map(Vec::len),
        Some(2),
        "{recorded}"
    );
    assert_eq!(history(&interrupted), recorded);
}
