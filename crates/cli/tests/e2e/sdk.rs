//! The official Segment and RudderStack SDKs (Python from PyPI, Node from
//! npm) pointed at a real server: contacts, merges and accounts come out right.
//! `scripts/test` installs the clients; these tests fail if they are missing.

use std::process::Command;

use serde_json::Value;

use crate::harness::{repo_root, unique, Server, WRITE_KEY};

fn python() -> String {
    std::env::var("BELLWETHER_TEST_PYTHON")
        .unwrap_or_else(|_| repo_root().join(".venv/bin/python").display().to_string())
}

fn node_dir() -> std::path::PathBuf {
    std::env::var("BELLWETHER_TEST_NODE_DIR")
        .map_or_else(|_| repo_root().join("tests/sdk/node"), Into::into)
}

fn run_client(mut command: Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| {
        panic!("cannot run the {what} client: {e} (run scripts/test to install it)")
    });
    assert!(
        output.status.success(),
        "{what} client failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn python_sdk(server: &Server, sdk: &str, prefix: &str) {
    let mut command = Command::new(python());
    command
        .arg(repo_root().join("tests/sdk/python/send_scenario.py"))
        .args([sdk, &server.base, WRITE_KEY, prefix]);
    run_client(command, &format!("python {sdk}"));
}

fn node_sdk(server: &Server, sdk: &str, prefix: &str) {
    let mut command = Command::new("node");
    command
        .current_dir(node_dir())
        .arg("send_scenario.mjs")
        .args([sdk, &server.base, WRITE_KEY, prefix]);
    run_client(command, &format!("node {sdk}"));
}

/// What the scenario must produce, whichever SDK sent it.
fn assert_scenario(server: &Server, prefix: &str) {
    let user = format!("{prefix}-user");
    let contact = server.contact(&user);
    let mut anonymous: Vec<&str> = contact["anonymous_ids"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    anonymous.sort_unstable();
    assert_eq!(
        anonymous,
        [format!("{prefix}-anon"), format!("{prefix}-legacy")],
        "{contact}"
    );
    assert_eq!(contact["traits"]["plan"], "trial");
    assert_eq!(contact["account_id"], format!("{prefix}-acct").as_str());
    let events = server.events(&user);
    let mut kinds: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["type"].as_str().unwrap(),
                e["event"].as_str().unwrap_or("")
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "alias:",
            "group:",
            "identify:",
            "page:Pricing",
            "screen:Dashboard",
            "track:Demo Requested",
            "track:Email Opened"
        ],
        "{events:?}"
    );
    let (status, account) = server.get(
        &format!("/api/v1/accounts/{prefix}-acct"),
        crate::harness::READ_TOKEN,
    );
    assert_eq!(status, 200);
    assert_eq!(account["traits"]["employees"], 420);
}

#[test]
fn segment_python_sdk() {
    let server = Server::start();
    let prefix = unique("segpy");
    python_sdk(&server, "segment", &prefix);
    assert_scenario(&server, &prefix);
}

#[test]
fn rudderstack_python_sdk_with_gzip() {
    let server = Server::start();
    let prefix = unique("rudpy");
    python_sdk(&server, "rudder", &prefix);
    assert_scenario(&server, &prefix);
}

#[test]
fn segment_node_sdk() {
    let server = Server::start();
    let prefix = unique("segnode");
    node_sdk(&server, "segment", &prefix);
    assert_scenario(&server, &prefix);
}

#[test]
fn rudderstack_node_sdk() {
    let server = Server::start();
    let prefix = unique("rudnode");
    node_sdk(&server, "rudder", &prefix);
    assert_scenario(&server, &prefix);
}
