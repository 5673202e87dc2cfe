//! PostHog capture compatibility (issue 16): the official `posthog`
//! Python client pointed at a real server, and the raw `/capture/` and
//! `/e/` shapes posthog-js sends.

use std::io::Write;
use std::process::Command;

use serde_json::{json, Value};

use crate::harness::{client, read, repo_root, unique, Server, WRITE_KEY};

fn python() -> String {
    std::env::var("BELLWETHER_TEST_PYTHON")
        .unwrap_or_else(|_| repo_root().join(".venv/bin/python").display().to_string())
}

fn kinds(server: &Server, id: &str) -> Vec<String> {
    let mut kinds: Vec<String> = server
        .events(id)
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["type"].as_str().unwrap_or(""),
                e["event"].as_str().unwrap_or("")
            )
        })
        .collect();
    kinds.sort();
    kinds
}

#[test]
fn the_posthog_python_client_lands_events_on_one_contact() {
    let server = Server::start();
    let prefix = unique("ph");
    let output = Command::new(python())
        .arg(repo_root().join("tests/sdk/python/posthog_scenario.py"))
        .args([&server.base, WRITE_KEY, &prefix])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run the posthog client: {e} (run scripts/test to install it)")
        });
    assert!(
        output.status.success(),
        "posthog client failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let user = format!("{prefix}-user");
    let contact = server.contact(&user);
    assert_eq!(contact["user_id"], user.as_str(), "{contact}");
    let anonymous: Vec<&str> = contact["anonymous_ids"]
        .as_array()
        .map(|ids| ids.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        anonymous.contains(&format!("{prefix}-anon").as_str()),
        "{contact}"
    );
    assert_eq!(contact["traits"]["plan"], "trial");
    assert_eq!(contact["traits"]["role"], "cto");
    assert_eq!(
        kinds(&server, &user),
        [
            "identify:",
            "identify:",
            "identify:",
            "page:",
            "track:Demo Requested",
            "track:Quiz Answered"
        ]
    );
    let page = server
        .events(&user)
        .into_iter()
        .find(|e| e["type"] == "page")
        .expect("the page view");
    assert_eq!(page["properties"]["path"], "/pricing");
    assert_eq!(
        page["properties"]["url"],
        "https://shop.example/pricing?ref=ad"
    );
    assert!(page["properties"].get("token").is_none());
}

#[test]
fn capture_and_e_accept_single_events_arrays_and_gzip_js() {
    let server = Server::start();
    let anon = unique("phjs");
    let single = json!({"api_key": WRITE_KEY, "event": "Pricing Viewed", "distinct_id": anon,
                        "uuid": format!("{anon}-1"), "properties": {"plan": "pro"}});
    let (status, body) = read(
        client()
            .post(server.url("/capture/"))
            .json(&single)
            .send()
            .expect("capture"),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["status"].as_u64(), body["stored"].as_u64()),
        (Some(1), Some(1)),
        "{body}"
    );
    // The same uuid again changes nothing.
    let (_, again) = read(
        client()
            .post(server.url("/capture"))
            .json(&single)
            .send()
            .expect("capture"),
    );
    assert_eq!(again["duplicates"], 1, "{again}");

    // posthog-js: an array, the key in properties.token, gzip named in the URL.
    let events = json!([
        {"event": "$pageview", "properties": {"distinct_id": anon, "token": WRITE_KEY,
            "$current_url": "https://shop.example/quiz", "$pathname": "/quiz"}, "offset": 1500},
        {"event": "x", "properties": {"token": WRITE_KEY}},
    ]);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(events.to_string().as_bytes()).expect("gzip");
    let compressed = gzip.finish().expect("gzip");
    let (status, body) = read(
        client()
            .post(server.url("/e/?compression=gzip-js&ver=1.0"))
            .header("content-type", "text/plain")
            .body(compressed)
            .send()
            .expect("e"),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stored"], 1, "{body}");
    assert_eq!(body["rejected"][0]["index"], 1);
    assert_eq!(body["rejected"][0]["field"], "distinct_id");
    assert_eq!(kinds(&server, &anon), ["page:", "track:Pricing Viewed"]);

    // A blocked identifier is dropped and reported as a warning, as on /v1.
    let user = unique("phuser");
    let identify = json!({"api_key": WRITE_KEY, "event": "$identify", "distinct_id": user,
                          "properties": {"$anon_distinct_id": "undefined"}});
    let (status, body) = read(
        client()
            .post(server.url("/capture/"))
            .json(&identify)
            .send()
            .expect("capture"),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body["stored"].as_u64() >= Some(1), "{body}");
    assert_eq!(body["warnings"][0]["index"], 0, "{body}");
    assert_eq!(body["warnings"][0]["field"], "anonymousId", "{body}");

    let (status, body) = read(
        client()
            .post(server.url("/batch/"))
            .json(&json!({"api_key": "wk_wrong", "batch": [single]}))
            .send()
            .expect("batch"),
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthorized")),
        "{body}"
    );
    let (status, body) = read(
        client()
            .post(server.url("/batch/"))
            .json(&json!({"api_key": WRITE_KEY, "batch": [{"distinct_id": "d"}]}))
            .send()
            .expect("batch"),
    );
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("batch[0].event")),
        "{body}"
    );
}
