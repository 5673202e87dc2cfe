//! Every kind of bad input: a clear JSON error naming the problem, nothing
//! stored that should not be, and the server still answering afterwards.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};

use crate::harness::{client, read, unique, Server, ADMIN_TOKEN, READ_TOKEN, WRITE_KEY};

fn post_raw(server: &Server, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let response = client()
        .post(server.url(path))
        .basic_auth(WRITE_KEY, Some(""))
        .header("content-type", content_type)
        .body(body)
        .send()
        .expect("request");
    read(response)
}

fn assert_error(result: (u16, Value), status: u16, needle: &str) {
    let (got, body) = result;
    assert_eq!(got, status, "body: {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(needle),
        "{message:?} should mention {needle:?}"
    );
    assert_eq!(body["success"], false);
    assert!(body["code"].is_string(), "{body}");
}

fn assert_no_contact(server: &Server, user_id: &str) {
    let (status, _) = server.get(&format!("/api/v1/contacts/{user_id}"), READ_TOKEN);
    assert_eq!(status, 404, "{user_id} should not exist");
}

#[test]
fn bad_requests_get_clear_errors_and_store_nothing() {
    let server = Server::start();
    let user = unique("bad");
    let json_ct = "application/json";
    assert_error(
        post_raw(&server, "/v1/track", json_ct, b"{\"userId\": ".to_vec()),
        400,
        "not valid JSON",
    );
    assert_error(
        post_raw(
            &server,
            "/v1/track",
            "application/xml",
            b"<track/>".to_vec(),
        ),
        415,
        "content-type",
    );
    assert_error(
        post_raw(
            &server,
            "/v1/track",
            json_ct,
            b"{\"userId\": \"\xff\xfe\"}".to_vec(),
        ),
        400,
        "UTF-8",
    );
    assert_error(
        server.send("/v1/track", &json!({"event": "X"})),
        400,
        "userId",
    );
    assert_error(
        server.send("/v1/track", &json!({"userId": user})),
        400,
        "event",
    );
    assert_error(
        server.send(
            "/v1/batch",
            &json!({"batch": [{"type": "launch", "userId": user}]}),
        ),
        400,
        "unknown type",
    );
    assert_error(
        server.send(
            "/v1/track",
            &json!({"userId": user, "event": "X", "properties": "nope"}),
        ),
        400,
        "properties",
    );
    assert_error(
        server.send(
            "/v1/identify",
            &json!({"userId": user, "timestamp": "tomorrow"}),
        ),
        400,
        "timestamp",
    );
    assert_error(
        server.send(
            "/v1/identify",
            &json!({"userId": user, "timestamp": "2999-01-01T00:00:00Z"}),
        ),
        400,
        "future",
    );
    assert_error(
        server.send("/v1/batch", &json!({"nothing": []})),
        400,
        "batch",
    );
    let mut nested = json!(1);
    for _ in 0..40 {
        nested = json!({ "k": nested });
    }
    assert_error(
        server.send(
            "/v1/track",
            &json!({"userId": user, "event": "X", "properties": nested}),
        ),
        400,
        "deeper",
    );
    assert_no_contact(&server, &user);
    // Still alive and still ingesting.
    let (status, _) = server.send("/v1/identify", &json!({"userId": user}));
    assert_eq!(status, 200);
}

#[test]
fn size_limits_answer_413() {
    let server = Server::start();
    let user = unique("big");
    let many: serde_json::Map<String, Value> =
        (0..10_000).map(|i| (format!("p{i}"), json!(i))).collect();
    let result = server.send(
        "/v1/track",
        &json!({"userId": user, "event": "X", "properties": many}),
    );
    assert_error(result, 413, "32 KB");
    let item = json!({"type": "track", "userId": user, "event": "X", "properties": {"pad": "x".repeat(30_000)}});
    let batch: Vec<Value> = (0..150).map(|_| item.clone()).collect();
    assert_error(
        server.send("/v1/batch", &json!({ "batch": batch })),
        413,
        "4 MB",
    );
    let oversized_item = json!({"type": "track", "userId": user, "event": "X", "properties": {"pad": "x".repeat(40_000)}});
    let ok_item = json!({"type": "track", "userId": user, "event": "Small", "messageId": "ok-1"});
    let (status, body) = server.send("/v1/batch", &json!({"batch": [oversized_item, ok_item]}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stored"], 1);
    assert_eq!(body["rejected"][0]["index"], 0);
    assert!(
        body["rejected"][0]["message"]
            .as_str()
            .unwrap()
            .contains("32 KB"),
        "{body}"
    );
    assert_eq!(server.events(&user).len(), 1);
}

#[test]
fn gzip_bodies_are_accepted_and_bombs_refused() {
    let server = Server::start();
    let user = unique("gz");
    let body = json!({"batch": [{"type": "identify", "userId": user, "traits": {"plan": "pro"}}]});
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(body.to_string().as_bytes()).unwrap();
    let response = client()
        .post(server.url("/v1/batch"))
        .basic_auth(WRITE_KEY, Some(""))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(encoder.finish().unwrap())
        .send()
        .unwrap();
    let (status, reply) = read(response);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(server.contact(&user)["traits"]["plan"], "pro");

    // 64 MB of zeros compresses to ~64 KB: must stop at the 4 MB cap.
    let mut bomb = GzEncoder::new(Vec::new(), Compression::best());
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..64 {
        bomb.write_all(&zeros).unwrap();
    }
    let response = client()
        .post(server.url("/v1/batch"))
        .basic_auth(WRITE_KEY, Some(""))
        .header("content-encoding", "gzip")
        .body(bomb.finish().unwrap())
        .send()
        .unwrap();
    assert_error(read(response), 413, "decompressed");
}

#[test]
fn partial_batches_store_the_valid_and_report_the_invalid() {
    let server = Server::start();
    let user = unique("partial");
    let (status, body) = server.send(
        "/v1/batch",
        &json!({"batch": [
            {"type": "track", "userId": user, "event": "Good", "messageId": "g1"},
            {"type": "track", "userId": user, "messageId": "b1"},
            {"type": "identify", "anonymousId": null, "userId": null, "messageId": "b2"},
            {"type": "page", "userId": user, "name": "Home", "messageId": "g2"}
        ]}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["stored"], 2);
    let rejected = body["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2);
    assert_eq!(
        (rejected[0]["index"].as_u64(), rejected[0]["field"].as_str()),
        (Some(1), Some("event"))
    );
    assert_eq!(
        (rejected[1]["index"].as_u64(), rejected[1]["field"].as_str()),
        (Some(2), Some("userId"))
    );
    assert_eq!(server.events(&user).len(), 2);
    let (status, errors) = server.get("/api/v1/ingestion/errors", READ_TOKEN);
    assert_eq!(status, 200);
    let fields: Vec<&str> = errors["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"batch[1].event") && fields.contains(&"batch[2].userId"),
        "{fields:?}"
    );
}

#[test]
fn credentials_are_checked() {
    let server = Server::start();
    let user = unique("auth");
    let response = client()
        .post(server.url("/v1/identify"))
        .basic_auth("wrong-key", Some(""))
        .json(&json!({"userId": user}))
        .send()
        .unwrap();
    assert_error(read(response), 401, "unknown write key");
    let response = client()
        .post(server.url("/v1/identify"))
        .json(&json!({"userId": user}))
        .send()
        .unwrap();
    assert_error(read(response), 401, "missing write key");
    // Write key in the body works.
    let response = client()
        .post(server.url("/v1/identify"))
        .json(&json!({"userId": user, "writeKey": WRITE_KEY}))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // Query API: no token 401, write key is not a token, read scope reads.
    let (status, _) = read(
        client()
            .get(server.url(&format!("/api/v1/contacts/{user}")))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 401);
    let (status, _) = server.get(&format!("/api/v1/contacts/{user}"), WRITE_KEY);
    assert_eq!(status, 401);
    let (status, _) = server.get(&format!("/api/v1/contacts/{user}"), ADMIN_TOKEN);
    assert_eq!(status, 200);
}
