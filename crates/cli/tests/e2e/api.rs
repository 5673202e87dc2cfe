//! The query API: shapes of SPEC section 5, paging, scopes, OpenAPI.

use serde_json::json;

use crate::harness::{unique, Server, ADMIN_TOKEN, READ_TOKEN};

#[test]
fn contact_account_and_events_have_the_spec_shapes() {
    let server = Server::start();
    let user = unique("shape");
    let group = unique("acct");
    let batch: Vec<_> = (0..25)
        .map(|i| json!({"type": "track", "userId": user, "event": "Feature Used", "messageId": format!("{user}-{i}"),
                       "properties": {"n": i}, "timestamp": format!("2024-05-01T00:00:{i:02}.000Z")}))
        .chain([
            json!({"type": "identify", "userId": user, "anonymousId": format!("{user}-a"), "traits": {"role": "champion"}}),
            json!({"type": "group", "userId": user, "groupId": group, "traits": {"industry": "Software", "employees": 50}}),
        ])
        .collect();
    let (status, body) = server.send("/v1/batch", &json!({ "batch": batch }));
    assert_eq!(status, 200, "{body}");

    let contact = server.contact(&user);
    for key in [
        "user_id",
        "anonymous_ids",
        "traits",
        "account_id",
        "scores",
        "segments",
        "tiers",
    ] {
        assert!(contact.get(key).is_some(), "missing {key}: {contact}");
    }
    assert_eq!(contact["user_id"], user.as_str());
    assert_eq!(contact["anonymous_ids"], json!([format!("{user}-a")]));
    assert_eq!(contact["account_id"], group.as_str());
    assert_eq!(contact["traits"]["role"], "champion");

    let (status, account) = server.get(&format!("/api/v1/accounts/{group}"), READ_TOKEN);
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["traits"]["employees"], 50);
    assert_eq!(account["contacts"][0]["user_id"], user.as_str());

    // Paging: 27 events (25 tracks, identify, group), newest first, no overlap.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/contacts/{user}/events?limit=10&cursor={c}"),
            None => format!("/api/v1/contacts/{user}/events?limit=10"),
        };
        let (status, page) = server.get(&path, READ_TOKEN);
        assert_eq!(status, 200, "{page}");
        for event in page["events"].as_array().unwrap() {
            for key in ["message_id", "type", "event", "timestamp", "properties"] {
                assert!(event.get(key).is_some(), "missing {key}: {event}");
            }
            seen.push(event["message_id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 27);
    let unique_ids: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique_ids.len(), 27, "pages overlap");
    let tracks: Vec<_> = seen
        .iter()
        .filter(|id| id.starts_with(&format!("{user}-")) && !id.ends_with("-a"))
        .collect();
    assert_eq!(
        tracks.first().map(|s| s.as_str()),
        Some(format!("{user}-24").as_str()),
        "newest first"
    );
}

#[test]
fn bad_paging_parameters_and_unknown_ids_are_clear() {
    let server = Server::start();
    let (status, body) = server.get("/api/v1/contacts/nobody", READ_TOKEN);
    assert_eq!(status, 404);
    assert!(body["message"].as_str().unwrap().contains("nobody"));
    server.send("/v1/identify", &json!({"userId": "someone"}));
    let (status, body) = server.get("/api/v1/contacts/someone/events?limit=0", READ_TOKEN);
    assert_eq!((status, body["field"].as_str()), (400, Some("limit")));
    let (status, body) = server.get("/api/v1/contacts/someone/events?cursor=garbage", READ_TOKEN);
    assert_eq!((status, body["field"].as_str()), (400, Some("cursor")));
    let (status, _) = server.get("/api/v1/accounts/none", READ_TOKEN);
    assert_eq!(status, 404);
}

#[test]
fn scopes_are_enforced() {
    let server = Server::start();
    let (status, body) = server.get("/api/v1/admin/config", READ_TOKEN);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("Admin"),
        "{body}"
    );
    let (status, body) = server.get("/api/v1/admin/config", ADMIN_TOKEN);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sources"][0]["name"], "web");
    assert!(
        !body.to_string().contains("tok_admin_secret"),
        "secrets must not leak: {body}"
    );
}

#[test]
fn openapi_health_and_metrics_are_served() {
    let server = Server::start();
    let (status, doc) = server.get("/api/v1/openapi.json", READ_TOKEN);
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/v1/batch",
        "/v1/track",
        "/api/v1/contacts/{user_id}",
        "/api/v1/contacts/{user_id}/events",
    ] {
        assert!(doc["paths"].get(path).is_some(), "openapi lacks {path}");
    }
    server.send("/v1/identify", &json!({"userId": "metric-user"}));
    let text = crate::harness::client()
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        text.contains("bellwether_events_ingested_total{source=\"web\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("bellwether_ingest_pending_messages"),
        "{text}"
    );
}
