//! Score history over HTTP: each change of a score recorded once, with its
//! closed form, on SQLite and PostgreSQL, and not recorded again by a restart.

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
