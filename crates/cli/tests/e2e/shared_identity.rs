//! SPEC §7 identity rules over HTTP: a shared browser never joins two
//! users, conflicts are visible (API, contact, metric), blocked ids are
//! warnings or per-message errors, and all of it survives a restart.

use serde_json::{json, Value};

use crate::durability::drop_schema;
use crate::harness::{client, pg_url, unique, Backend, Server, READ_TOKEN};

fn at(minute: u32) -> String {
    format!("2026-01-05T10:{minute:02}:00.000Z")
}

fn share_a_browser(server: &Server, alice: &str, bob: &str, browser: &str) {
    let batch = json!({"batch": [
        {"type": "page", "anonymousId": browser, "name": "Home", "timestamp": at(0), "messageId": format!("{browser}-1")},
        {"type": "identify", "userId": alice, "anonymousId": browser, "traits": {"email": format!("{alice}@acme.com")}, "timestamp": at(1), "messageId": format!("{browser}-2")},
        {"type": "page", "anonymousId": browser, "name": "Pricing", "timestamp": at(2), "messageId": format!("{browser}-3")},
        {"type": "identify", "userId": bob, "anonymousId": browser, "traits": {"email": format!("{bob}@globex.com")}, "timestamp": at(3), "messageId": format!("{browser}-4")},
        {"type": "page", "anonymousId": browser, "name": "Docs", "timestamp": at(4), "messageId": format!("{browser}-5")},
    ]});
    let (status, body) = server.send("/v1/batch", &batch);
    assert_eq!(status, 200, "{body}");
}

fn page_names(server: &Server, user: &str) -> Vec<String> {
    let mut names: Vec<String> = server
        .events(user)
        .iter()
        .filter(|e| e["type"] == "page")
        .filter_map(|e| e["event"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

fn check_split(server: &Server, alice: &str, bob: &str, browser: &str) {
    let a = server.contact(alice);
    let b = server.contact(bob);
    assert_eq!(a["user_ids"], json!([alice]), "{a}");
    assert_eq!(b["user_ids"], json!([bob]), "{b}");
    assert_eq!(a["account_id"], "acme.com");
    assert_eq!(b["account_id"], "globex.com");
    assert_eq!(
        page_names(server, alice),
        ["Home", "Pricing"],
        "before any claim: the first claimant"
    );
    assert_eq!(page_names(server, bob), ["Docs"]);
    assert_eq!(
        server.contact(browser)["user_id"],
        bob,
        "the latest claimant holds it now"
    );
}

fn run_shared_browser(backend: Backend) {
    let mut server = Server::start_on(backend);
    let (alice, bob) = (unique("alice"), unique("bob"));
    let browser = unique("browser");
    share_a_browser(&server, &alice, &bob, &browser);
    check_split(&server, &alice, &bob, &browser);

    let (status, list) = server.get("/api/v1/identity/conflicts", READ_TOKEN);
    assert_eq!(status, 200, "{list}");
    let conflict = list["conflicts"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["value"] == browser.as_str()))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(conflict["kind"], "anonymous", "{list}");
    assert_eq!(conflict["holders"][0]["user_id"], alice.as_str());
    assert_eq!(conflict["holders"][0]["from"], at(1));
    assert_eq!(conflict["holders"][1]["user_id"], bob.as_str());
    assert!(list["refused_links"].as_u64() >= Some(1), "{list}");
    let shown = &server.contact(&alice)["identity_conflicts"];
    assert_eq!(shown[0]["value"], browser.as_str(), "{shown}");
    let page = client()
        .get(server.url(&format!("/contacts/{alice}")))
        .send()
        .and_then(|r| r.text())
        .unwrap_or_default();
    assert!(
        page.contains("Shared identifiers"),
        "the contact page shows the conflict"
    );
    assert!(page.contains(&browser));
    let metrics = client()
        .get(server.url("/metrics"))
        .send()
        .and_then(|r| r.text())
        .unwrap_or_default();
    assert!(
        metrics.contains("bellwether_identity_links_refused_total 1"),
        "{metrics}"
    );

    server.restart();
    check_split(&server, &alice, &bob, &browser);
}

#[test]
fn a_shared_browser_keeps_two_users_apart() {
    run_shared_browser(Backend::Sqlite);
}

#[test]
fn a_shared_browser_keeps_two_users_apart_on_postgres() {
    let schema = unique("bw_identity_");
    run_shared_browser(Backend::Postgres(format!("{}?schema={schema}", pg_url())));
    drop_schema(&schema);
}

#[test]
fn blocked_ids_are_warnings_or_per_message_errors() {
    let server = Server::start();
    let (alice, bob) = (unique("alice"), unique("bob"));
    let batch = json!({"batch": [
        {"type": "identify", "userId": alice, "anonymousId": "undefined", "messageId": unique("m")},
        {"type": "identify", "userId": bob, "anonymousId": "Undefined", "messageId": unique("m")},
        {"type": "track", "userId": "null", "event": "Junk", "messageId": unique("m")},
    ]});
    let (status, body) = server.send("/v1/batch", &batch);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stored"], 2, "{body}");
    assert_eq!(body["rejected"][0]["index"], 2, "{body}");
    assert_eq!(body["rejected"][0]["field"], "userId");
    assert!(body["rejected"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("blocked identifier")));
    assert_eq!(body["warnings"][0]["field"], "anonymousId", "{body}");
    assert_eq!(body["warnings"][1]["index"], 1);
    assert_eq!(server.contact(&alice)["user_ids"], json!([alice]));
    assert_eq!(server.contact(&bob)["user_ids"], json!([bob]));
    assert_eq!(server.contact(&alice)["anonymous_ids"], json!([]));

    let (status, errors) = server.get("/api/v1/ingestion/errors", READ_TOKEN);
    assert_eq!(status, 200);
    let severities: Vec<(&str, &str)> = errors["errors"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or_default(),
                        e["severity"].as_str().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(
        severities.contains(&("batch[0].anonymousId", "warning")),
        "{errors}"
    );
    assert!(
        severities.contains(&("batch[2].userId", "error")),
        "{errors}"
    );

    let (status, single) = server.send("/v1/page", &json!({"anonymousId": "[object Object]"}));
    assert_eq!(status, 400, "{single}");
    assert!(single["message"]
        .as_str()
        .is_some_and(|m| m.contains("blocked identifier")));
}
