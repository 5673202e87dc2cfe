//! `bellwether explain` on the CLI (SPEC §7): the explanation tree of a
//! stored contact or account, as of now or an earlier instant, `--json` in
//! the API's shape, and clear errors for what does not exist.

use std::process::{Command, Output};

use serde_json::{json, Value};

use crate::harness::{binary, Backend, Server, DEFINITIONS};

fn explain(server: &Server, args: &[&str]) -> Output {
    Command::new(binary())
        .arg("explain")
        .arg("--config")
        .arg(server.config_path())
        .arg("--data")
        .arg(server.data_dir())
        .args(args)
        .output()
        .expect("run explain")
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn explains_a_stored_contact_and_account_now_and_before() {
    let mut server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    let batch = json!({"batch": [
        {"type": "identify", "userId": "cli-ann", "traits": {"email": "ann@cli-acme.com"},
         "timestamp": "2026-01-01T00:00:00Z"},
        {"type": "group", "userId": "cli-ann", "groupId": "cli-acme", "timestamp": "2026-01-01T00:00:00Z"},
        {"type": "track", "userId": "cli-ann", "event": "Demo Requested", "timestamp": "2026-01-02T00:00:00Z"},
    ]});
    let (status, body) = server.send("/v1/batch", &batch);
    assert_eq!(status, 200, "{body}");
    assert!(server.stop_gracefully().success());

    let now = explain(&server, &["contact", "ann@cli-acme.com", "demo_requesters"]);
    let (stdout, stderr) = text(&now);
    assert!(now.status.success(), "{stderr}");
    assert!(stdout.starts_with("✓ "), "holds now:\n{stdout}");
    assert!(stdout.contains("Demo Requested"), "{stdout}");

    let before = explain(
        &server,
        &[
            "--at",
            "2026-01-01T12:00:00Z",
            "contact",
            "cli-ann",
            "demo_requesters",
        ],
    );
    let (stdout, stderr) = text(&before);
    assert!(before.status.success(), "{stderr}");
    assert!(stdout.starts_with("✗ "), "not yet then:\n{stdout}");

    let json = explain(
        &server,
        &["--json", "account", "cli-acme", "engaged_accounts"],
    );
    let (stdout, stderr) = text(&json);
    assert!(json.status.success(), "{stderr}");
    let tree: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(tree["holds"], true, "{tree}");
    assert!(
        tree["summary"].as_str().is_some_and(|s| !s.is_empty()),
        "{tree}"
    );
}

#[test]
fn unknown_subjects_and_segments_are_named_in_the_error() {
    let mut server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    let (status, body) = server.send(
        "/v1/track",
        &json!({"userId": "cli-bob", "event": "Demo Requested"}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(server.stop_gracefully().success());
    for (args, expected) in [
        (
            vec!["contact", "nobody", "demo_requesters"],
            "no contact with id \"nobody\"",
        ),
        (
            vec!["contact", "cli-bob", "no_such"],
            "no segment named \"no_such\"",
        ),
        (
            vec!["account", "cli-bob", "demo_requesters"],
            "is for contacts, not accounts",
        ),
        (
            vec!["account", "no-acct", "engaged_accounts"],
            "no account with id \"no-acct\"",
        ),
        (
            vec!["--at", "yesterday", "contact", "cli-bob", "demo_requesters"],
            "--at \"yesterday\"",
        ),
    ] {
        let output = explain(&server, &args);
        let (_, stderr) = text(&output);
        assert!(!output.status.success(), "{args:?} should fail");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
