//! Deleting and suppressing a contact (SPEC §7) on the real binary: every
//! trace gone and its account re-evaluated, later messages answered 200
//! and dropped as `suppressed`, on SQLite and PostgreSQL, across restarts,
//! against concurrent ingestion for the same contact, with `kill -9` in
//! the middle, and offline with `bellwether delete`.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::durability::drop_schema;
use crate::harness::{
    binary, client, pg_url, read, unique, Backend, Server, ADMIN_TOKEN, DEFINITIONS, READ_TOKEN,
};

fn delete(server: &Server, path: &str, token: &str) -> (u16, Value) {
    read(
        client()
            .delete(server.url(path))
            .bearer_auth(token)
            .send()
            .expect("delete"),
    )
}

/// ann (demo requester, email, anonymous history) is acme's only member;
/// bob stays.
fn ann_and_bob(server: &Server) {
    let batch = json!({"batch": [
        {"type": "page", "anonymousId": "ann-laptop", "name": "Pricing", "properties": {"path": "/pricing"}},
        {"type": "identify", "userId": "ann", "anonymousId": "ann-laptop", "traits": {"email": "Ann@Acme.io"}},
        {"type": "group", "userId": "ann", "groupId": "acme"},
        {"type": "track", "userId": "ann", "event": "Demo Requested"},
        {"type": "track", "userId": "bob", "event": "Demo Requested"},
    ]});
    let (status, body) = server.send("/v1/batch", &batch);
    assert_eq!(status, 200, "{body}");
}

fn segments_of_account(server: &Server, id: &str) -> Value {
    let (status, account) = server.get(&format!("/api/v1/accounts/{id}"), READ_TOKEN);
    assert_eq!(status, 200, "{account}");
    account["segments"].clone()
}

fn assert_gone(server: &Server, ids: &[&str]) {
    for id in ids {
        let (status, body) = server.get(&format!("/api/v1/contacts/{id}"), READ_TOKEN);
        assert_eq!(status, 404, "{id}: {body}");
    }
    let (_, members) = server.get("/api/v1/segments/demo_requesters/members", READ_TOKEN);
    assert_eq!(
        members["members"],
        json!([{"id": "bob", "entered_at": members["members"][0]["entered_at"]}])
    );
    let (_, changes) = server.get("/api/v1/changes?limit=1000", READ_TOKEN);
    assert!(
        !changes.to_string().contains("\"ann\""),
        "no recent change names ann: {changes}"
    );
    let (_, listed) = server.get("/api/v1/contacts?q=ann", READ_TOKEN);
    assert_eq!(listed["matched"], 0, "{listed}");
}

fn forgets_a_contact(backend: Backend) {
    let mut server = Server::start_with(backend, DEFINITIONS);
    ann_and_bob(&server);
    assert_eq!(
        segments_of_account(&server, "acme"),
        json!(["engaged_accounts"])
    );

    let (status, _) = delete(&server, "/api/v1/contacts/ann", READ_TOKEN);
    assert_eq!(status, 403, "deleting needs an admin token");
    let (status, body) = delete(&server, "/api/v1/contacts/nobody", ADMIN_TOKEN);
    assert_eq!(
        (status, body["code"].clone()),
        (404, json!("not_found")),
        "{body}"
    );

    let (status, deleted) = delete(&server, "/api/v1/contacts/ann@acme.io", ADMIN_TOKEN);
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["deletion"]["actor"], "admin");
    assert_eq!(deleted["deletion"]["counts"]["events"], 4, "{deleted}");
    assert_eq!(deleted["deletion"]["counts"]["identities"], 3, "{deleted}");
    let suppressed: Vec<&str> = deleted["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["value"].as_str())
        .collect();
    assert_eq!(suppressed, ["ann", "ann-laptop", "ann@acme.io"]);
    assert_gone(&server, &["ann", "ann-laptop", "ann@acme.io"]);
    assert_eq!(
        segments_of_account(&server, "acme"),
        json!([]),
        "acme re-evaluated"
    );

    // SDK retries and new messages carrying any of its ids are dropped.
    for message in [
        json!({"type": "track", "userId": "ann", "event": "Demo Requested", "messageId": "retry-1"}),
        json!({"type": "page", "anonymousId": "ann-laptop", "name": "Home"}),
        json!({"type": "identify", "userId": "ann-2", "traits": {"email": "ANN@acme.io"}}),
    ] {
        let (status, body) = server.send("/v1/batch", &json!({"batch": [message]}));
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (body["stored"].clone(), body["suppressed"].clone()),
            (json!(0), json!(1)),
            "{body}"
        );
    }
    let (_, log) = server.get("/api/v1/deletions", ADMIN_TOKEN);
    assert_eq!(log["deletions"].as_array().map(Vec::len), Some(1), "{log}");
    assert!(
        !log.to_string().contains("ann"),
        "the log holds no deleted data: {log}"
    );

    server.restart();
    assert_gone(&server, &["ann", "ann-laptop", "ann@acme.io"]);
    let (_, body) = server.send("/v1/track", &json!({"userId": "ann", "event": "Clicked"}));
    assert_eq!(body["suppressed"], 1, "suppressed across restarts: {body}");
    let (_, log) = server.get("/api/v1/deletions", ADMIN_TOKEN);
    assert_eq!(log["deletions"][0]["complete"], true, "{log}");
    let (_, history) = server.get("/api/v1/accounts/acme/history", READ_TOKEN);
    assert!(!history.to_string().contains("\"ann\""), "{history}");

    let (status, body) = delete(&server, "/api/v1/suppressions/null", ADMIN_TOKEN);
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!("invalid_field")),
        "{body}"
    );
    let (status, _) = delete(&server, "/api/v1/suppressions/someone-else", ADMIN_TOKEN);
    assert_eq!(status, 404);
    let (status, body) = delete(&server, "/api/v1/suppressions/ann", ADMIN_TOKEN);
    assert_eq!(status, 200, "{body}");
    let (_, listed) = server.get("/api/v1/suppressions", ADMIN_TOKEN);
    assert_eq!(
        listed["suppressions"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    let (_, body) = server.send("/v1/track", &json!({"userId": "ann", "event": "Clicked"}));
    assert_eq!(body["stored"], 1, "unsuppressed: stored again, {body}");
}

#[test]
fn a_deleted_contact_is_forgotten_and_suppressed_on_sqlite() {
    forgets_a_contact(Backend::Sqlite);
}

#[test]
fn a_deleted_contact_is_forgotten_and_suppressed_on_postgres() {
    let schema = unique("bw_delete_");
    forgets_a_contact(Backend::Postgres(format!("{}?schema={schema}", pg_url())));
    drop_schema(&schema);
}

/// Messages for the same contact keep arriving from several threads while
/// it is deleted: whatever was acknowledged before the deletion is deleted
/// with it, whatever comes after is suppressed; nothing of it survives.
#[test]
fn a_deletion_racing_ingestion_for_the_same_contact_leaves_nothing() {
    let mut server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    let (status, _) = server.send(
        "/v1/track",
        &json!({"userId": "racer", "event": "Demo Requested"}),
    );
    assert_eq!(status, 200);
    let stop = Arc::new(AtomicBool::new(false));
    let base = server.base.clone();
    let senders: Vec<_> = (0..3)
        .map(|thread| {
            let stop = Arc::clone(&stop);
            let base = base.clone();
            std::thread::spawn(move || {
                let mut suppressed = 0;
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let batch = json!({"batch": [
                        {"type": "track", "userId": "racer", "event": "Clicked", "messageId": format!("{thread}-{n}")},
                        {"type": "page", "anonymousId": format!("racer-device-{thread}"), "userId": "racer", "name": "Home"},
                    ]});
                    let response = client()
                        .post(format!("{base}/v1/batch"))
                        .basic_auth(crate::harness::WRITE_KEY, Some(""))
                        .json(&batch)
                        .send()
                        .expect("send");
                    let (status, body) = read(response);
                    assert_eq!(status, 200, "{body}");
                    suppressed += body["suppressed"].as_u64().unwrap_or(0);
                }
                suppressed
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (status, deleted) = delete(&server, "/api/v1/contacts/racer", ADMIN_TOKEN);
    assert_eq!(status, 200, "{deleted}");
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    let suppressed: u64 = senders.into_iter().map(|s| s.join().expect("sender")).sum();
    assert!(
        suppressed > 0,
        "messages after the deletion were suppressed"
    );
    let check = |server: &Server| {
        for id in [
            "racer",
            "racer-device-0",
            "racer-device-1",
            "racer-device-2",
        ] {
            let (status, body) = server.get(&format!("/api/v1/contacts/{id}"), READ_TOKEN);
            assert_eq!(status, 404, "{id}: {body}");
        }
        let (_, members) = server.get("/api/v1/segments/demo_requesters/members", READ_TOKEN);
        assert_eq!(members["members"], json!([]), "{members}");
    };
    check(&server);
    server.restart();
    check(&server);
}

/// `kill -9` while a deletion is on its way: after the restart either all
/// of the contact is gone (and the deletion logged complete) or the
/// deletion did not happen and the contact is whole.
#[test]
fn a_deletion_cut_by_kill_9_is_all_or_nothing() {
    for delay_ms in [0, 2, 5, 20] {
        let mut server = Server::start_with(Backend::Sqlite, DEFINITIONS);
        ann_and_bob(&server);
        let events_before = server.events("ann").len();
        let url = server.url("/api/v1/contacts/ann");
        let request = std::thread::spawn(move || {
            client()
                .delete(url)
                .bearer_auth(ADMIN_TOKEN)
                .send()
                .map(|r| r.status().as_u16())
        });
        std::thread::sleep(Duration::from_millis(delay_ms));
        server.kill9();
        let acknowledged = request
            .join()
            .expect("request thread")
            .is_ok_and(|status| status == 200);
        server.restart();
        let (status, _) = server.get("/api/v1/contacts/ann", READ_TOKEN);
        if status == 404 {
            assert_gone(&server, &["ann", "ann-laptop"]);
            let (_, log) = server.get("/api/v1/deletions", ADMIN_TOKEN);
            assert_eq!(log["deletions"][0]["complete"], true, "{log}");
            let (_, body) = server.send("/v1/track", &json!({"userId": "ann", "event": "Clicked"}));
            assert_eq!(body["suppressed"], 1, "{body}");
        } else {
            assert!(
                !acknowledged,
                "an acknowledged deletion must hold after kill -9"
            );
            assert_eq!(status, 200);
            assert_eq!(server.events("ann").len(), events_before, "ann whole");
        }
    }
}

#[test]
fn bellwether_delete_works_offline() {
    let mut server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    ann_and_bob(&server);
    server.stop_gracefully();
    let output = Command::new(binary())
        .arg("delete")
        .arg("--config")
        .arg(server.config_path())
        .arg("--data")
        .arg(server.data_dir())
        .args(["--user-id", "ann"])
        .output()
        .expect("run bellwether delete");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("4 events"), "{stdout}");
    let unknown = Command::new(binary())
        .arg("delete")
        .arg("--config")
        .arg(server.config_path())
        .arg("--data")
        .arg(server.data_dir())
        .args(["--user-id", "ann"])
        .output()
        .expect("run bellwether delete");
    assert!(!unknown.status.success(), "already deleted");
    server.restart();
    assert_gone(&server, &["ann", "ann-laptop"]);
    assert_eq!(segments_of_account(&server, "acme"), json!([]));
    let (_, body) = server.send("/v1/track", &json!({"userId": "ann", "event": "Clicked"}));
    assert_eq!(body["suppressed"], 1, "{body}");
    let (_, log) = server.get("/api/v1/deletions", ADMIN_TOKEN);
    assert_eq!(
        (
            log["deletions"][0]["actor"].clone(),
            log["deletions"][0]["complete"].clone()
        ),
        (json!("cli"), json!(true))
    );
}
