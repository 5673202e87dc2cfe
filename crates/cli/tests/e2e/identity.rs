//! Identity over HTTP: merges, aliases, accounts, dedupe, trait history.

use serde_json::json;

use crate::harness::{unique, Server, READ_TOKEN};

#[test]
fn identify_merges_anonymous_history_into_the_known_contact() {
    let server = Server::start();
    let user = unique("u");
    let anon = format!("{user}-anon");
    server.send(
        "/v1/page",
        &json!({"anonymousId": anon, "name": "Pricing", "properties": {"path": "/pricing"}}),
    );
    server.send(
        "/v1/track",
        &json!({"anonymousId": anon, "event": "Viewed Docs"}),
    );
    server.send(
        "/v1/identify",
        &json!({"userId": user, "traits": {"plan": "trial"}}),
    );
    let (status, _) = server.send(
        "/v1/identify",
        &json!({"userId": user, "anonymousId": anon}),
    );
    assert_eq!(status, 200);
    let contact = server.contact(&user);
    assert_eq!(contact["anonymous_ids"], json!([anon]));
    assert_eq!(contact["merges"].as_array().unwrap().len(), 1, "{contact}");
    assert_eq!(contact["merges"][0]["reason"], "identify");
    assert_eq!(server.events(&user).len(), 4, "anonymous history re-homed");
    // The anonymous id now resolves to the same contact.
    assert_eq!(server.contact(&anon)["user_id"], user.as_str());
}

#[test]
fn alias_merges_and_email_links() {
    let server = Server::start();
    let user = unique("alias");
    server.send(
        "/v1/track",
        &json!({"userId": format!("{user}-old"), "event": "Logged In"}),
    );
    server.send(
        "/v1/alias",
        &json!({"previousId": format!("{user}-old"), "userId": user}),
    );
    let contact = server.contact(&user);
    assert_eq!(
        contact["user_ids"].as_array().unwrap().len(),
        2,
        "{contact}"
    );
    assert_eq!(server.events(&user).len(), 2);

    // Two anonymous visitors who give the same email become one contact.
    let a = format!("{user}-a");
    let b = format!("{user}-b");
    server.send(
        "/v1/identify",
        &json!({"anonymousId": a, "traits": {"email": "Same@Corp-Example.com"}}),
    );
    server.send(
        "/v1/identify",
        &json!({"anonymousId": b, "traits": {"email": "same@corp-example.com"}}),
    );
    let merged = server.contact(&a);
    assert_eq!(
        merged["anonymous_ids"].as_array().unwrap().len(),
        2,
        "{merged}"
    );
    assert_eq!(
        merged["account_id"], "corp-example.com",
        "account from email domain"
    );
}

#[test]
fn free_mail_domains_do_not_make_accounts_and_groups_win() {
    let server = Server::start();
    let user = unique("free");
    server.send(
        "/v1/identify",
        &json!({"userId": user, "traits": {"email": "someone@gmail.com"}}),
    );
    assert!(server.contact(&user)["account_id"].is_null());
    server.send(
        "/v1/group",
        &json!({"userId": user, "groupId": "g-1", "traits": {"domain": "grouped.io"}}),
    );
    server.send(
        "/v1/identify",
        &json!({"userId": user, "traits": {"email": "someone@other.io"}}),
    );
    assert_eq!(
        server.contact(&user)["account_id"],
        "g-1",
        "a group call outranks the email domain"
    );
    let peer = unique("peer");
    server.send(
        "/v1/identify",
        &json!({"userId": peer, "traits": {"email": "x@grouped.io"}}),
    );
    assert_eq!(
        server.contact(&peer)["account_id"],
        "g-1",
        "domain of a grouped account"
    );
}

#[test]
fn duplicate_message_ids_change_nothing() {
    let server = Server::start();
    let user = unique("dup");
    let message = json!({"userId": user, "event": "Demo Requested", "messageId": "fixed-id"});
    let (_, first) = server.send("/v1/track", &message);
    let (_, second) = server.send("/v1/track", &message);
    assert_eq!(
        (first["stored"].as_u64(), second["duplicates"].as_u64()),
        (Some(1), Some(1))
    );
    let batch = json!({"batch": [
        {"type": "track", "userId": user, "event": "Demo Requested", "messageId": "fixed-id"},
        {"type": "track", "userId": user, "event": "Other", "messageId": "other-id"},
        {"type": "track", "userId": user, "event": "Other", "messageId": "other-id"}
    ]});
    let (_, reply) = server.send("/v1/batch", &batch);
    assert_eq!(
        (reply["stored"].as_u64(), reply["duplicates"].as_u64()),
        (Some(1), Some(2)),
        "{reply}"
    );
    assert_eq!(server.events(&user).len(), 2);
}

#[test]
fn traits_are_latest_by_event_time_not_arrival() {
    let server = Server::start();
    let user = unique("traits");
    server.send("/v1/identify", &json!({"userId": user, "traits": {"plan": "enterprise"}, "timestamp": "2024-03-01T00:00:00Z"}));
    server.send("/v1/identify", &json!({"userId": user, "traits": {"plan": "trial", "seats": 3}, "timestamp": "2024-01-01T00:00:00Z"}));
    let traits = &server.contact(&user)["traits"];
    assert_eq!(
        traits["plan"], "enterprise",
        "older event arriving later must not win"
    );
    assert_eq!(traits["seats"], 3);
    let (status, _) = server.get(&format!("/api/v1/contacts/{user}"), READ_TOKEN);
    assert_eq!(status, 200);
}
