//! What an attacker tried against the web edge (issue 19): redirects after
//! sign-in, cross-origin forms, framing, definition names, query-string
//! errors and the OpenAPI document, small overflows.

use std::time::Duration;

use serde_json::Value;

use crate::harness::{client, read, Backend, Server, ADMIN_TOKEN, DEFINITIONS, READ_TOKEN};

fn no_redirects() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn sign_in(server: &Server, next: &str) -> reqwest::blocking::Response {
    no_redirects()
        .post(server.url("/signin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={ADMIN_TOKEN}&next={next}"))
        .send()
        .expect("sign in")
}

#[test]
fn sign_in_returns_only_to_paths_on_this_server() {
    let server = Server::start();
    for next in [
        "/%09/evil.example",
        "/%0A",
        "%2F%2Fevil.example",
        "/%5Cevil.example",
        "/%0D%0ASet-Cookie:%20x=1",
    ] {
        let response = sign_in(&server, next);
        assert_eq!(response.status().as_u16(), 303, "next={next}");
        assert_eq!(response.headers()["location"], "/", "next={next}");
    }
    let response = sign_in(&server, "/segments/demo_requesters%3Fx%3D1");
    assert_eq!(
        response.headers()["location"],
        "/segments/demo_requesters?x=1"
    );
    let page = no_redirects()
        .get(server.url("/signin?next=/%0A"))
        .send()
        .expect("get");
    assert_eq!(page.status().as_u16(), 200);
}

fn admin_cookie(server: &Server) -> String {
    let response = sign_in(server, "/");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    cookie.split(';').next().unwrap_or_default().to_owned()
}

fn save_segment(server: &Server, cookie: &str, headers: &[(&str, &str)]) -> u16 {
    let mut request = no_redirects()
        .post(server.url("/editor"))
        .header("cookie", cookie)
        .form(&[
            ("name", "csrf_made"),
            ("subject", "contact"),
            ("when", "exists(any)"),
            ("intent", "save"),
        ]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().expect("post").status().as_u16()
}

#[test]
fn forms_from_other_origins_are_refused_and_pages_cannot_be_framed() {
    let server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    let cookie = admin_cookie(&server);
    let own = server.base.clone();
    for headers in [
        vec![("origin", "http://127.0.0.1:1")],
        vec![("origin", "null")],
        vec![
            ("sec-fetch-site", "same-site"),
            ("origin", "http://localhost:1"),
        ],
        vec![("sec-fetch-site", "cross-site")],
    ] {
        assert_eq!(save_segment(&server, &cookie, &headers), 403, "{headers:?}");
    }
    let (_, segments) = server.get("/api/v1/segments", READ_TOKEN);
    assert!(!segments.to_string().contains("csrf_made"), "{segments}");
    assert_eq!(
        save_segment(
            &server,
            &cookie,
            &[("origin", own.as_str()), ("sec-fetch-site", "same-origin")]
        ),
        303
    );

    let page = client()
        .get(server.url("/editor"))
        .header("cookie", &cookie)
        .send()
        .expect("get");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(!sign_in(&server, "/").headers()["set-cookie"]
        .to_str()
        .unwrap_or_default()
        .contains("Secure"));
}

#[test]
fn the_cookie_is_secure_behind_a_declared_https_proxy() {
    let server = Server::start_with(Backend::Sqlite, "[server]\nbehind_https_proxy = true\n");
    let cookie = sign_in(&server, "/").headers()["set-cookie"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
}

fn put_definitions(server: &Server, query: &str, body: &str) -> (u16, Value) {
    read(
        client()
            .put(server.url(&format!("/api/v1/definitions{query}")))
            .bearer_auth(ADMIN_TOKEN)
            .body(body.to_owned())
            .send()
            .expect("put"),
    )
}

#[test]
fn definitions_follow_one_name_rule_and_emptying_needs_a_flag() {
    let server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    let (status, body) = put_definitions(&server, "", "[\"\"]");
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("allow_empty")),
        "{body}"
    );
    let long = "a".repeat(70_000);
    for name in ["a/b", "<b>x</b>", "", long.as_str()] {
        let text = format!("[[segment]]\nname = '{name}'\nsubject = 'contact'\nwhen = 'true'\n");
        let (status, body) = put_definitions(&server, "", &text);
        assert_eq!(status, 400, "{name:.20}: {body}");
    }
    let (_, segments) = server.get("/api/v1/segments", READ_TOKEN);
    assert!(
        segments.to_string().contains("demo_requesters"),
        "nothing was deleted: {segments}"
    );
    let (status, body) = put_definitions(&server, "?dry_run=true", "");
    assert_eq!(
        (status, body["applied"].as_bool()),
        (200, Some(false)),
        "a dry run needs no flag: {body}"
    );
    let (status, body) = put_definitions(&server, "?allow_empty=true", "# none\n");
    assert_eq!(
        (status, body["applied"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
}

#[test]
fn query_string_errors_are_json_naming_the_parameter() {
    let server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    for (path, field) in [
        (
            "/api/v1/segments/demo_requesters/members?limit=abc",
            "limit",
        ),
        ("/api/v1/changes?limit=-3", "limit"),
    ] {
        let (status, body) = server.get(path, READ_TOKEN);
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some(field)),
            "{path}: {body}"
        );
        assert_eq!(body["code"], "invalid_field");
    }
    let (status, body) = put_definitions(&server, "?dry_run=maybe", DEFINITIONS);
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("dry_run")),
        "{body}"
    );
}

#[test]
fn the_openapi_document_matches_what_the_server_does() {
    let server = Server::start();
    let (status, doc) = server.get("/api/v1/openapi.json", READ_TOKEN);
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/v1/import") && paths.contains_key("/api/v1/inbox"));
    for (path, item) in paths {
        for (method, operation) in item.as_object().into_iter().flatten() {
            assert!(
                operation["responses"]["401"].is_object(),
                "{method} {path} documents no 401"
            );
        }
    }
    let errors = &doc["components"]["schemas"]["ErrorBody"]["properties"]["errors"];
    assert!(errors.to_string().contains("array"), "{errors}");
    let limit = paths["/api/v1/changes"]["get"]["parameters"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "limit"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(limit["schema"]["minimum"], 1, "{limit}");
}

#[test]
fn small_overflows_and_lookups_are_refused_clearly() {
    let server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    let text = "[[score]]\nname = 'huge'\nsubject = 'contact'\nrules = [ { on = 'any', points = 1.7e308 } ]\n";
    let (status, body) = put_definitions(&server, "", text);
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("points"), "{body}");
    let (status, _) = server.get("/api/v1/stream?definition=nope", READ_TOKEN);
    assert_eq!(status, 404);
    let response = client()
        .get(server.url("/api/v1/segments"))
        .header("authorization", format!("BEARER {READ_TOKEN}"))
        .send()
        .expect("get");
    assert_eq!(response.status().as_u16(), 200);
}

fn open_mcp_session(server: &Server) -> (u16, Option<String>) {
    let response = client()
        .post(server.url("/mcp"))
        .bearer_auth(READ_TOKEN)
        .header("accept", "application/json, text/event-stream")
        .json(
            &serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-03-26", "capabilities": {},
            "clientInfo": {"name": "e2e", "version": "1"}}}),
        )
        .send()
        .expect("initialize");
    let id = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (response.status().as_u16(), id)
}

#[test]
fn mcp_sessions_are_capped_and_idle_ones_expire() {
    let server = Server::start_with(
        Backend::Sqlite,
        "[server]\nmax_mcp_sessions = 3\nmcp_session_idle_secs = 1\n",
    );
    for _ in 0..3 {
        let (status, id) = open_mcp_session(&server);
        assert_eq!(status, 200);
        assert!(id.is_some(), "a session id");
    }
    assert_eq!(
        open_mcp_session(&server).0,
        503,
        "a fourth session is refused"
    );
    std::thread::sleep(Duration::from_millis(1_500));
    let (status, id) = open_mcp_session(&server);
    assert_eq!(status, 200, "idle sessions were closed");
    let closed = client()
        .delete(server.url("/mcp"))
        .bearer_auth(READ_TOKEN)
        .header("mcp-session-id", id.unwrap_or_default())
        .send()
        .expect("delete");
    assert!(closed.status().is_success(), "{}", closed.status());
}
