//! Website activation (SPEC §7, issue 16): CORS on `/v1/*` for a source's
//! allowed origins, and the public `GET /v1/personalize` lookup with its
//! write key, exposed definitions only, read-your-writes, 401, 400 and
//! the per-(key, address) rate limit.

use serde_json::{json, Value};

use crate::harness::{client, read, unique, Backend, Server};

const SITE_KEY: &str = "wk_site_public";
const SHOP: &str = "https://shop.example";

const SITE: &str = r#"
[[source]]
name = "site"
write_key = "wk_site_public"
allowed_origins = ["https://shop.example", "http://127.0.0.1:9"]

[[segment]]
name = "compliance_seeker"
when = 'exists("Quiz Answered" where benefit = "compliance")'
expose = true

[[segment]]
name = "internal_compliance_flag"
when = 'exists("Quiz Answered" where benefit = "compliance")'

[[segment]]
name = "evaluating_account"
subject = "account"
when = 'count(contacts where in_segment("compliance_seeker")) >= 1'
expose = true

[[tier]]
name = "stage"
expose = true
levels = [ { name = "evaluating", when = 'in_segment("compliance_seeker")' }, { name = "visitor", when = 'true' } ]

[[tier]]
name = "internal_stage"
levels = [ { name = "any", when = 'true' } ]
"#;

fn start(extra: &str) -> Server {
    Server::start_with(Backend::Sqlite, &format!("{SITE}{extra}"))
}

fn send_as_site(server: &Server, path: &str, body: &Value) -> (u16, Value) {
    let response = client()
        .post(server.url(path))
        .basic_auth(SITE_KEY, Some(""))
        .header("origin", SHOP)
        .json(body)
        .send()
        .expect("request");
    read(response)
}

fn personalize(server: &Server, key: &str, query: &str) -> reqwest::blocking::Response {
    client()
        .get(server.url(&format!("/v1/personalize?{query}")))
        .basic_auth(key, Some(""))
        .header("origin", SHOP)
        .send()
        .expect("request")
}

fn personalized(server: &Server, query: &str) -> Value {
    let (status, body) = read(personalize(server, SITE_KEY, query));
    assert_eq!(status, 200, "{query}: {body}");
    body
}

fn preflight(server: &Server, path: &str, origin: &str) -> reqwest::blocking::Response {
    client()
        .request(reqwest::Method::OPTIONS, server.url(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .expect("preflight")
}

fn header<'r>(response: &'r reqwest::blocking::Response, name: &str) -> Option<&'r str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[test]
fn v1_answers_cors_for_allowed_origins_only() {
    let server = start("");
    for path in ["/v1/track", "/v1/batch", "/v1/page", "/v1/personalize"] {
        let allowed = preflight(&server, path, SHOP);
        assert_eq!(allowed.status().as_u16(), 204, "{path}");
        assert_eq!(header(&allowed, "access-control-allow-origin"), Some(SHOP));
        let methods = header(&allowed, "access-control-allow-methods").unwrap_or("");
        assert!(
            methods.contains("POST") && methods.contains("GET"),
            "{methods}"
        );
        let headers = header(&allowed, "access-control-allow-headers").unwrap_or("");
        assert!(headers.contains("authorization") && headers.contains("content-type"));
        assert!(header(&allowed, "vary").is_some_and(|v| v.contains("origin")));

        let refused = preflight(&server, path, "https://evil.example");
        assert_eq!(
            header(&refused, "access-control-allow-origin"),
            None,
            "{path}"
        );
        assert_eq!(header(&refused, "access-control-allow-methods"), None);
    }
    // Default ports and case do not matter, as browsers normalize them.
    let allowed = preflight(&server, "/v1/track", "HTTPS://SHOP.example:443");
    assert!(header(&allowed, "access-control-allow-origin").is_some());

    // The actual request: stored, and labelled for the page to read.
    let anonymous = unique("cors-anon");
    let response = client()
        .post(server.url("/v1/page"))
        .basic_auth(SITE_KEY, Some(""))
        .header("origin", SHOP)
        .json(&json!({"anonymousId": anonymous, "properties": {"path": "/pricing"}}))
        .send()
        .expect("page");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(header(&response, "access-control-allow-origin"), Some(SHOP));
    assert_eq!(
        server.contact(&anonymous)["anonymous_ids"][0],
        anonymous.as_str()
    );

    // analytics.js: the type's first letter as the path, the key in the
    // body, text/plain (a "simple" request, no preflight).
    let response = client()
        .post(server.url("/v1/t"))
        .header("origin", SHOP)
        .header("content-type", "text/plain")
        .body(
            json!({"writeKey": SITE_KEY, "anonymousId": anonymous, "event": "Quiz Started"})
                .to_string(),
        )
        .send()
        .expect("t");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(header(&response, "access-control-allow-origin"), Some(SHOP));
    assert!(server
        .events(&anonymous)
        .iter()
        .any(|e| e["event"] == "Quiz Started"));

    let response = client()
        .post(server.url("/v1/track"))
        .basic_auth(SITE_KEY, Some(""))
        .header("origin", "https://evil.example")
        .json(&json!({"anonymousId": anonymous, "event": "x"}))
        .send()
        .expect("track");
    assert_eq!(header(&response, "access-control-allow-origin"), None);
}

#[test]
fn personalize_shows_exposed_definitions_and_reads_its_writes() {
    let server = start("");
    let visitor = unique("visitor");
    let fresh = personalized(&server, &format!("anonymousId={visitor}"));
    assert_eq!(
        fresh,
        json!({"segments": [], "tiers": {}}),
        "never seen: empty, not 404"
    );

    let (status, body) = send_as_site(
        &server,
        "/v1/page",
        &json!({"anonymousId": visitor, "properties": {"path": "/quiz"}}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        personalized(&server, &format!("anonymousId={visitor}")),
        json!({"segments": [], "tiers": {"stage": "visitor"}})
    );

    // The quiz answer is acknowledged after the engine applied it, so the
    // very next lookup sees the new segment.
    let (status, body) = send_as_site(
        &server,
        "/v1/track",
        &json!({"anonymousId": visitor, "event": "Quiz Answered", "properties": {"benefit": "compliance"}}),
    );
    assert_eq!(status, 200, "{body}");
    let response = personalize(&server, SITE_KEY, &format!("anonymousId={visitor}"));
    assert_eq!(header(&response, "access-control-allow-origin"), Some(SHOP));
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    let (_, answer) = read(response);
    assert_eq!(
        answer,
        json!({"segments": ["compliance_seeker"], "tiers": {"stage": "evaluating"}}),
        "only exposed definitions, never traits, scores or ids"
    );

    // An account's exposed segment reaches its other contacts' visitors.
    let colleague = unique("colleague");
    let colleague_browser = unique("browser");
    for message in [
        json!({"type": "identify", "userId": visitor, "anonymousId": visitor, "traits": {"plan": "trial"}}),
        json!({"type": "group", "userId": visitor, "groupId": "acme-site"}),
        json!({"type": "identify", "userId": colleague, "anonymousId": colleague_browser}),
        json!({"type": "group", "userId": colleague, "groupId": "acme-site"}),
    ] {
        let (status, body) = send_as_site(&server, "/v1/batch", &json!({"batch": [message]}));
        assert_eq!(status, 200, "{body}");
    }
    for query in [
        format!("userId={colleague}"),
        format!("anonymousId={colleague_browser}"),
    ] {
        assert_eq!(
            personalized(&server, &query),
            json!({"segments": ["evaluating_account"], "tiers": {"stage": "visitor"}}),
            "{query}"
        );
    }
    let visitor_answer = personalized(&server, &format!("userId={visitor}"));
    assert_eq!(
        visitor_answer["segments"],
        json!(["compliance_seeker", "evaluating_account"])
    );
}

#[test]
fn personalize_refuses_bad_keys_and_missing_ids() {
    let server = start("");
    for key in ["wk_wrong", ""] {
        let response = if key.is_empty() {
            client()
                .get(server.url("/v1/personalize?anonymousId=a"))
                .send()
                .expect("request")
        } else {
            personalize(&server, key, "anonymousId=a")
        };
        let (status, body) = read(response);
        assert_eq!(status, 401, "{key:?}: {body}");
        assert_eq!(body["code"], "unauthorized");
        assert!(
            body["message"].as_str().unwrap_or("").contains("write key"),
            "{body}"
        );
    }
    for query in ["", "anonymousId=", "userId=%20"] {
        let (status, body) = read(personalize(&server, SITE_KEY, query));
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["code"], "invalid_field");
        assert_eq!(body["field"], "anonymousId");
        assert!(
            body["message"].as_str().unwrap_or("").contains("userId"),
            "{body}"
        );
    }
    let (status, body) = read(personalize(&server, SITE_KEY, "anonymousId=a&email=x"));
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("email")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("unknown field"),
        "{body}"
    );
    let long = "x".repeat(600);
    let (status, body) = read(personalize(&server, SITE_KEY, &format!("userId={long}")));
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("userId")),
        "{body}"
    );
}

#[test]
fn personalize_is_rate_limited_per_write_key_and_address() {
    let server = start("\n[personalize]\nrate_per_minute = 3\n");
    for _ in 0..3 {
        assert_eq!(
            personalize(&server, SITE_KEY, "anonymousId=a")
                .status()
                .as_u16(),
            200
        );
    }
    let refused = personalize(&server, SITE_KEY, "anonymousId=a");
    assert_eq!(refused.status().as_u16(), 429);
    let retry_after: u64 = header(&refused, "retry-after")
        .and_then(|v| v.parse().ok())
        .expect("a numeric Retry-After");
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    assert_eq!(header(&refused, "access-control-allow-origin"), Some(SHOP));
    let (_, body) = read(refused);
    assert_eq!(body["code"], "rate_limited");
    // Another write key from the same address has its own budget.
    assert_eq!(
        personalize(&server, crate::harness::WRITE_KEY, "anonymousId=a")
            .status()
            .as_u16(),
        200
    );
    let metrics = client()
        .get(server.url("/metrics"))
        .send()
        .and_then(|r| r.text())
        .expect("metrics");
    assert!(
        metrics.contains("bellwether_personalize_requests_total{status=\"429\"} 1"),
        "{metrics}"
    );
    // Ingestion is not limited by it.
    let (status, _) = send_as_site(
        &server,
        "/v1/track",
        &json!({"anonymousId": "a", "event": "x"}),
    );
    assert_eq!(status, 200);
}

fn site_dir() -> std::path::PathBuf {
    std::env::var("BELLWETHER_TEST_SITE_DIR").map_or_else(
        |_| crate::harness::repo_root().join("tests/site"),
        Into::into,
    )
}

/// Starts a server allowing a site origin on a free port, then the node
/// scenario serving that site on it. The port is free when picked but
/// not held (node binds it), so another process can take it in between:
/// then the scenario is run again on another port.
fn run_site_scenario(script: &str) -> (Server, std::process::Output) {
    const TRIES: usize = 3;
    let mut attempt = 1;
    loop {
        let site_port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("a free port");
        let origin = format!("http://127.0.0.1:{site_port}");
        let server = Server::start_with(
            Backend::Sqlite,
            &format!("{}\n", SITE.replace("http://127.0.0.1:9", &origin)),
        );
        let output = std::process::Command::new("node")
            .current_dir(site_dir())
            .arg(script)
            .args([&server.base, SITE_KEY, &site_port.to_string()])
            .output()
            .unwrap_or_else(|e| panic!("cannot run node: {e} (run scripts/test to install it)"));
        let taken = String::from_utf8_lossy(&output.stderr).contains("EADDRINUSE");
        if !taken || attempt == TRIES {
            return (server, output);
        }
        attempt += 1;
    }
}

/// analytics.js from npm in headless Chromium, on its own origin: a page
/// view and a quiz answer reach Bellwether through CORS, and the page
/// reads its visitor's new segment (tests/site/analytics_scenario.mjs).
#[test]
fn analytics_js_in_chromium_sends_and_personalizes_across_origins() {
    let (server, output) = run_site_scenario("analytics_scenario.mjs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser scenario failed:\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = stdout
        .lines()
        .last()
        .and_then(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("no JSON report in {stdout}"));
    assert_eq!(
        report["personalize"],
        json!({"segments": ["compliance_seeker"], "tiers": {"stage": "evaluating"}})
    );
    assert_eq!(report["result"], "SOC 2 and GDPR, handled for you");
    let anonymous_id = report["anonymousId"].as_str().expect("the anonymous id");
    let mut kinds: Vec<String> = server
        .events(anonymous_id)
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
    assert_eq!(kinds, ["page:Quiz", "track:Quiz Answered"]);
}

/// The demo's example website in Chromium: the hero and the quiz result
/// follow the visitor's exposed segment (tests/site/demo_site_scenario.mjs).
#[test]
fn the_demo_site_adapts_to_the_quiz_answer() {
    let server = start("\n[server]\ndemo_site = true\n");
    let screenshots = server.dir.path().join("screenshots");
    let output = std::process::Command::new("node")
        .current_dir(site_dir())
        .arg("demo_site_scenario.mjs")
        .arg(&server.base)
        .arg(&screenshots)
        .output()
        .unwrap_or_else(|e| panic!("cannot run node: {e} (run scripts/test to install it)"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the demo site scenario failed:\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = stdout
        .lines()
        .last()
        .and_then(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("no JSON report in {stdout}"));
    let anonymous_id = report["anonymousId"].as_str().expect("the anonymous id");
    let mut kinds: Vec<String> = server
        .events(anonymous_id)
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
    assert_eq!(
        kinds,
        [
            "page:home",
            "page:home",
            "page:pricing",
            "page:quiz",
            "track:Quiz Answered"
        ]
    );
    let (status, _) = read(client().get(server.url("/demo-site/")).send().expect("get"));
    assert_eq!(status, 200);
    let off = start("");
    let (status, _) = read(client().get(off.url("/demo-site/")).send().expect("get"));
    assert_eq!(status, 404, "only when [server] demo_site is on");
}
