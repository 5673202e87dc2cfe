//! The MCP server driven by the official Python MCP client (`mcp` on PyPI),
//! over Streamable HTTP at `/mcp` (with read and admin tokens) and over
//! stdio (`bellwether mcp`): every tool called on scenario data, scopes
//! enforced, malformed arguments answered as tool errors.

use std::process::Command;

use serde_json::{json, Value};

use crate::harness::{
    binary, repo_root, unique, Backend, Server, ADMIN_TOKEN, DEFINITIONS, READ_TOKEN,
};

const TOOLS: [&str; 9] = [
    "apply_definitions",
    "check_definition",
    "digest_preview",
    "explain_membership",
    "find_subjects",
    "get_account",
    "get_contact",
    "list_segments",
    "segment_report",
];

fn python() -> String {
    std::env::var("BELLWETHER_TEST_PYTHON")
        .unwrap_or_else(|_| repo_root().join(".venv/bin/python").display().to_string())
}

fn agent(args: &[&str]) -> Value {
    let output = Command::new(python())
        .arg(repo_root().join("tests/mcp/agent.py"))
        .args(args)
        .output()
        .expect("cannot run the MCP client (run scripts/test to install it)");
    assert!(
        output.status.success(),
        "MCP client failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the client prints one JSON report")
}

/// The engine tests' definitions and a weekly review digest (to a
/// destination that receives nothing else; no send falls due in a test).
fn config() -> String {
    format!(
        "{DEFINITIONS}\n[[destination]]\nname = \"revops\"\nurl = \"http://127.0.0.1:9/hooks\"\n\
         secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
         [[digest]]\nname = \"weekly-review\"\nevery = \"week\"\ndestination = \"revops\"\n"
    )
}

/// A contact who requested a demo, in an account.
fn scenario(server: &Server) -> String {
    let user = unique("mcp");
    server.send(
        "/v1/identify",
        &json!({"userId": user, "traits": {"email": format!("{user}@example.org"), "role": "champion"}}),
    );
    server.send(
        "/v1/group",
        &json!({"userId": user, "groupId": "mcp-acme", "traits": {"name": "Acme"}}),
    );
    server.send(
        "/v1/track",
        &json!({"userId": user, "event": "Demo Requested"}),
    );
    user
}

fn error_code(report: &Value, call: &str) -> String {
    assert_eq!(report[call]["is_error"], true, "{call}: {}", report[call]);
    report[call]["structured"]["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// What every transport must answer the same way.
fn assert_read_tools(report: &Value, user: &str) {
    let tools: Vec<&str> = report["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(tools, TOOLS);
    // The newest revision the official client speaks, dated YYYY-MM-DD.
    let version = report["protocol_version"].as_str().unwrap_or_default();
    assert!(
        version.len() == 10 && version.as_bytes()[4] == b'-',
        "{version}"
    );
    assert!(
        version >= "2025-06-18",
        "an old protocol revision: {version}"
    );
    assert_eq!(report["schemas_have_required"], true);
    assert_eq!(
        report["resources"],
        json!(["bellwether://definitions", "bellwether://docs/language"])
    );
    assert_eq!(report["language_mentions_count"], true);
    assert_eq!(report["definitions_mentions_segment"], true);

    let ok = |call: &str| {
        assert_eq!(report[call]["is_error"], false, "{call}: {}", report[call]);
        &report[call]["structured"]
    };
    let segments = ok("list_segments")["segments"].as_array().unwrap();
    let demo = segments
        .iter()
        .find(|s| s["name"] == "demo_requesters")
        .unwrap();
    assert!(demo["size"].as_u64().unwrap() >= 1, "{demo}");
    assert_eq!(demo["owner"], "sdr-pool");

    let contact = ok("get_contact");
    assert_eq!(contact["user_id"], user);
    assert!(contact["segments"]
        .as_array()
        .unwrap()
        .contains(&json!("demo_requesters")));
    assert_eq!(contact["recent_events"][0]["event"], "Demo Requested");

    assert!(ok("explain_membership")
        .to_string()
        .contains("Demo Requested"));
    let found = ok("find_subjects");
    assert!(found["matched"].as_u64().unwrap() >= 1, "{found}");
    assert!(found["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["user_id"] == user));
    let report_ = ok("segment_report");
    assert_eq!(report_["segment"]["name"], "demo_requesters");
    let conversion = &report_["conversion"];
    assert_eq!(conversion["segment"], "demo_requesters", "{report_}");
    assert!(
        conversion["members"]["total"].as_u64().unwrap() >= 1,
        "{report_}"
    );
    assert_eq!(conversion["members"]["converted"], 0, "no deal was won");
    let days = report_["trend"]["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert!(days[29]["entered"].as_u64().unwrap() >= 1, "{report_}");

    let digest = ok("digest_preview");
    assert_eq!(digest["name"], "weekly-review", "{digest}");
    let demo_summary = digest["digest"]["segments"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == "demo_requesters"))
        .unwrap_or_else(|| panic!("{digest}"));
    assert!(demo_summary["entered"].as_u64() >= Some(1), "{digest}");
    assert_eq!(digest["body"]["type"], "digest.sent");
    let listed = ok("digest_preview_list");
    assert_eq!(listed["digests"][0]["name"], "weekly-review", "{listed}");

    let check = ok("check_definition");
    assert_eq!(check["valid"], true);
    assert!(check["would_match_now"].as_u64().unwrap() >= 1, "{check}");
    let bad = ok("check_definition_bad");
    assert_eq!(bad["valid"], false);
    assert_eq!(bad["errors"][0]["line"], 1, "{bad}");
    assert!(bad["errors"][0]["column"].as_u64().unwrap() > 1, "{bad}");

    let account = ok("get_account");
    assert_eq!(account["group_id"], "mcp-acme");
    let committee = account["buying_committee"].as_array().unwrap();
    let member = committee
        .iter()
        .find(|c| c["user_id"] == user)
        .expect("the contact is on the committee");
    assert!(
        member["scores"]["intent"].as_f64().unwrap() >= 30.0,
        "{member}"
    );
    assert_eq!(member["role"], "champion");

    assert_eq!(
        error_code(report, "get_contact_missing_argument"),
        "invalid_arguments"
    );
    assert_eq!(
        error_code(report, "get_contact_wrong_type"),
        "invalid_arguments"
    );
    assert_eq!(
        error_code(report, "find_subjects_unknown_segment"),
        "invalid_arguments"
    );
}

#[test]
fn agents_use_every_tool_over_streamable_http_within_their_scopes() {
    let server = Server::start_with(Backend::Sqlite, &config());
    let user = scenario(&server);
    let url = server.url("/mcp");

    let reader = agent(&["http", &url, READ_TOKEN, &user]);
    assert_read_tools(&reader, &user);
    let refused = error_code(&reader, "apply_definitions_dry_run");
    assert!(
        refused.contains("forbidden") || refused.contains("scope"),
        "{refused}"
    );

    let admin = agent(&["http", &url, ADMIN_TOKEN, &user]);
    assert_read_tools(&admin, &user);
    let dry_run = &admin["apply_definitions_dry_run"];
    assert_eq!(dry_run["is_error"], false, "{dry_run}");
    assert_eq!(dry_run["structured"]["applied"], false);

    // No token: no MCP at all.
    let response = reqwest::blocking::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[test]
fn a_local_agent_uses_every_tool_over_stdio() {
    let mut server = Server::start_with(Backend::Sqlite, &config());
    let user = scenario(&server);
    // The data directory is the stdio session's alone.
    server.stop_gracefully();
    let report = agent(&[
        "stdio",
        &binary().display().to_string(),
        &server.config_path().display().to_string(),
        &server.data_dir().display().to_string(),
        &user,
    ]);
    assert_read_tools(&report, &user);
    assert_eq!(report["apply_definitions_dry_run"]["is_error"], false);
}
