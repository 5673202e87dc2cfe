//! Data operations over HTTP (SPEC §7): the contacts and accounts
//! directories (search, filters, score order, cursor pages), a segment's
//! members as streamed CSV, and one contact's subject-access export.

use serde_json::{json, Value};

use crate::harness::{client, read, Backend, Server, ADMIN_TOKEN, DEFINITIONS, READ_TOKEN};

/// ann, bob and cyd at acme (group) with emails and names; dee anonymous.
fn people(server: &Server) {
    let batch: Vec<Value> = vec![
        json!({"type": "identify", "userId": "ann", "traits": {"email": "ann@acme.io", "name": "Ann Archer"}}),
        json!({"type": "identify", "userId": "bob", "traits": {"email": "bob@globex.com", "firstName": "Bob", "lastName": "Stone"}}),
        json!({"type": "group", "userId": "ann", "groupId": "acme", "traits": {"name": "Acme Corp", "domain": "acme.io"}}),
        json!({"type": "track", "userId": "ann", "event": "Demo Requested"}),
        json!({"type": "track", "userId": "bob", "event": "Demo Requested"}),
        json!({"type": "page", "userId": "bob", "name": "Pricing", "properties": {"path": "/pricing"}}),
        json!({"type": "page", "userId": "cyd", "name": "Pricing", "properties": {"path": "/pricing"}}),
        json!({"type": "page", "anonymousId": "dee-anon", "name": "Home", "properties": {"path": "/"}}),
    ];
    let (status, body) = server.send("/v1/batch", &json!({"batch": batch}));
    assert_eq!(status, 200, "{body}");
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    list[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field} in {list}"))
        .iter()
        .map(|row| row["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn contacts_and_accounts_are_searched_filtered_ordered_and_paged() {
    let server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    people(&server);
    let list = |query: &str| {
        let (status, body) = server.get(&format!("/api/v1/contacts?{query}"), READ_TOKEN);
        assert_eq!(status, 200, "{query}: {body}");
        body
    };
    assert_eq!(
        ids(&list(""), "contacts"),
        ["ann", "bob", "cyd", "dee-anon"]
    );
    assert_eq!(
        ids(&list("q=ACME"), "contacts"),
        ["ann"],
        "email and account"
    );
    assert_eq!(ids(&list("q=stone"), "contacts"), ["bob"], "last name");
    assert_eq!(
        ids(&list("q=globex.com"), "contacts"),
        ["bob"],
        "email domain"
    );
    let found = list("q=ann");
    assert_eq!(found["contacts"][0]["email"], "ann@acme.io");
    assert_eq!(found["contacts"][0]["name"], "Ann Archer");
    assert_eq!(found["contacts"][0]["account_id"], "acme");
    assert_eq!(found["contacts"][0]["segments"], json!(["demo_requesters"]));
    assert_eq!(found["matched"], 1);
    assert_eq!(
        ids(&list("segment=demo_requesters"), "contacts"),
        ["ann", "bob"]
    );
    assert_eq!(
        ids(&list("tier=intent_level:high"), "contacts"),
        ["ann", "bob"]
    );
    // bob 40 (demo + pricing), ann 30, cyd 10, dee none: highest first.
    let first = list("sort=score:intent&limit=2");
    assert_eq!(ids(&first, "contacts"), ["bob", "ann"]);
    assert_eq!(first["matched"], 4);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = list(&format!("sort=score:intent&limit=2&cursor={cursor}"));
    assert_eq!(ids(&second, "contacts"), ["cyd", "dee-anon"]);
    assert_eq!(second["next_cursor"], Value::Null);

    let (status, accounts) = server.get("/api/v1/accounts?q=corp", READ_TOKEN);
    assert_eq!(status, 200, "{accounts}");
    assert_eq!(ids(&accounts, "accounts"), ["acme"]);
    assert_eq!(accounts["accounts"][0]["name"], "Acme Corp");
    assert_eq!(
        accounts["accounts"][0]["segments"],
        json!(["engaged_accounts"])
    );
    assert_eq!(accounts["accounts"][0]["domain"], "acme.io");
    // bob's account comes from his work email's domain.
    let (_, accounts) = server.get("/api/v1/accounts?segment=engaged_accounts", READ_TOKEN);
    assert_eq!(ids(&accounts, "accounts"), ["acme", "globex.com"]);
}

#[test]
fn bad_directory_parameters_are_clear_4xx_in_the_error_shape() {
    let server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    people(&server);
    for (query, field) in [
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=%7B%7D", "cursor"),
        ("segment=nope", "segment"),
        ("segment=engaged_accounts", "segment"),
        ("tier=intent_level", "tier"),
        ("tier=intent_level:nope", "tier"),
        ("sort=score:nope", "sort"),
        ("sort=name", "sort"),
        ("limit=0", "limit"),
    ] {
        let (status, body) = server.get(&format!("/api/v1/contacts?{query}"), READ_TOKEN);
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["code"], "invalid_field", "{query}: {body}");
        assert_eq!(body["field"], field, "{query}: {body}");
        assert_eq!(body["success"], false);
    }
    // A cursor made for another order is refused, not misread.
    let (_, page) = server.get("/api/v1/contacts?limit=1", READ_TOKEN);
    let cursor = page["next_cursor"].as_str().expect("a cursor").to_owned();
    let (status, body) = server.get(
        &format!("/api/v1/contacts?sort=score:intent&cursor={cursor}"),
        READ_TOKEN,
    );
    assert_eq!(
        (status, body["field"].clone()),
        (400, json!("cursor")),
        "{body}"
    );
    let (status, _) = server.get("/api/v1/contacts", "nope");
    assert_eq!(status, 401);
}

#[test]
fn a_segment_streams_every_member_as_csv_with_its_scores() {
    let server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    people(&server);
    let response = client()
        .get(server.url("/api/v1/segments/demo_requesters/members.csv"))
        .bearer_auth(READ_TOKEN)
        .send()
        .expect("get csv");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let text = response.text().expect("body");
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.remove(0), "id,entered_at,intent");
    lines.sort_unstable();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("ann,") && lines[0].ends_with(",30.00"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("bob,") && lines[1].ends_with(",40.00"),
        "{text}"
    );
    let (status, body) = read(
        client()
            .get(server.url("/api/v1/segments/nope/members.csv"))
            .bearer_auth(READ_TOKEN)
            .send()
            .expect("get"),
    );
    assert_eq!((status, body["code"].clone()), (404, json!("not_found")));
}

#[test]
fn a_contact_exports_as_one_json_document_for_admins_only() {
    let server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    people(&server);
    // ann's anonymous history merges into her: the export holds it too.
    server.send(
        "/v1/page",
        &json!({"anonymousId": "ann-laptop", "name": "Blog", "properties": {"path": "/blog"}}),
    );
    server.send(
        "/v1/identify",
        &json!({"userId": "ann", "anonymousId": "ann-laptop", "traits": {"name": "Ann A. Archer"}}),
    );
    let (status, _) = server.get("/api/v1/contacts/ann/export", READ_TOKEN);
    assert_eq!(status, 403, "a read token cannot export");
    let (status, export) = server.get("/api/v1/contacts/ann/export", ADMIN_TOKEN);
    assert_eq!(status, 200, "{export}");
    assert_eq!(export["contact"]["user_id"], "ann");
    assert_eq!(export["contact"]["anonymous_ids"], json!(["ann-laptop"]));
    assert_eq!(export["contact"]["traits"]["name"], "Ann A. Archer");
    let names: Vec<&str> = export["trait_history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["key"] == "name")
        .filter_map(|t| t["value"].as_str())
        .collect();
    assert_eq!(names, ["Ann Archer", "Ann A. Archer"]);
    let events: Vec<&str> = export["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(events.len(), 5, "{events:?}");
    assert!(events.contains(&"page") && events.contains(&"group"));
    let entered = export["membership_history"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["definition"] == "demo_requesters" && c["change"] == "entered");
    assert!(entered, "{export}");
    assert!(!export["score_history"].as_array().unwrap().is_empty());
    assert!(export["deliveries"].is_array());
    let (status, body) = server.get("/api/v1/contacts/nobody/export", ADMIN_TOKEN);
    assert_eq!((status, body["code"].clone()), (404, json!("not_found")));
}
