//! Restarts resume from the engine snapshot: after a clean stop with
//! nothing to replay, after `kill -9` with the messages stored since
//! replayed, after a contact was deleted, after an import, and the members
//! (with their entry instants) agree with a start that reads the whole
//! store.

use std::path::Path;

use serde_json::{json, Value};

use crate::harness::{client, import_lines, Backend, Server, ADMIN_TOKEN, DEFINITIONS, READ_TOKEN};

const SEGMENTS: [&str; 2] = ["demo_requesters", "engaged_accounts"];

/// Every member of the served segments with its entry instant.
fn members(server: &Server) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for segment in SEGMENTS {
        let (status, page) = server.get(
            &format!("/api/v1/segments/{segment}/members?limit=1000"),
            READ_TOKEN,
        );
        assert_eq!(status, 200, "{page}");
        for member in page["members"].as_array().expect("members") {
            out.push((
                segment.to_owned(),
                member["id"].as_str().unwrap_or_default().to_owned(),
                member["entered_at"].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    out.sort();
    out
}

/// `(from snapshot, messages replayed after it)` of the last start.
fn start_figures(server: &Server) -> (i64, i64) {
    let text = client()
        .get(server.url("/metrics"))
        .send()
        .expect("metrics")
        .text()
        .expect("text");
    let gauge = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse::<i64>().ok())
            .unwrap_or_else(|| panic!("{name} missing in:\n{text}"))
    };
    (
        gauge("bellwether_start_from_snapshot"),
        gauge("bellwether_start_tail_messages"),
    )
}

/// A visitor who requests a demo, then signs in (the anonymous contact
/// folds into the user), in an account.
fn visitor(n: usize) -> Vec<Value> {
    let user = format!("snap-user-{n}");
    let anonymous = format!("snap-anon-{n}");
    vec![
        json!({"type": "track", "anonymousId": anonymous, "event": "Demo Requested"}),
        json!({"type": "identify", "anonymousId": anonymous, "userId": user, "traits": {"plan": "trial"}}),
        json!({"type": "group", "userId": user, "groupId": format!("snap-acct-{}", n % 3), "traits": {"name": "Acme"}}),
        json!({"type": "page", "userId": user, "name": "Pricing", "properties": {"path": "/pricing"}}),
    ]
}

/// Sends [`visitor`] `n`'s messages; returns how many.
fn visit(server: &Server, n: usize) -> usize {
    let messages = visitor(n);
    let count = messages.len();
    let (status, body) = server.send("/v1/batch", &json!({ "batch": messages }));
    assert_eq!(status, 200, "{body}");
    count
}

#[test]
fn restarts_resume_from_the_snapshot_and_agree_with_the_whole_store() {
    let mut server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    assert_eq!(
        start_figures(&server).0,
        0,
        "an empty store has no snapshot"
    );
    for n in 0..6 {
        visit(&server, n);
    }
    let before = members(&server);
    assert!(before.len() >= 7, "{before:?}");

    // A clean stop writes the snapshot; the next start replays nothing.
    assert!(server.stop_gracefully().success());
    let snapshot = server.data_dir().join("engine.snapshot");
    assert!(snapshot.exists(), "no snapshot after a clean stop");
    server.restart();
    assert_eq!(start_figures(&server), (1, 0));
    assert_eq!(members(&server), before);

    // A crash: what was stored since the snapshot is replayed on top.
    let sent: usize = (6..9).map(|n| visit(&server, n)).sum();
    // Changes still on their way to the store when the process dies are
    // re-derived at the event's instant, which under load is a few ms
    // before the instant applied live: read the history (which waits for
    // the recorder) so the comparison below is of written changes.
    let (status, history) = server.get("/api/v1/contacts/snap-user-8/history", READ_TOKEN);
    assert_eq!(status, 200, "{history}");
    let live = members(&server);
    server.kill9();
    server.restart();
    assert_eq!(start_figures(&server), (1, sent as i64));
    assert_eq!(members(&server), live);

    // A deletion changes stored history without new messages: the clean
    // stop after it writes a snapshot without the contact.
    let deleted = client()
        .delete(server.url("/api/v1/contacts/snap-user-0"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .expect("delete");
    assert_eq!(deleted.status(), 200);
    let remaining = members(&server);
    assert!(
        remaining.len() < live.len() && !remaining.iter().any(|(_, id, _)| id == "snap-user-0"),
        "{remaining:?}"
    );
    assert!(server.stop_gracefully().success());
    server.restart();
    assert_eq!(start_figures(&server), (1, 0));
    assert_eq!(members(&server), remaining);

    // The same after a start that resumed with nothing to replay (which
    // takes the snapshot's own event count instead of counting again).
    let deleted = client()
        .delete(server.url("/api/v1/contacts/snap-user-1"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .expect("delete");
    assert_eq!(deleted.status(), 200);
    let (was, remaining) = (remaining, members(&server));
    assert!(
        remaining.len() < was.len() && !remaining.iter().any(|(_, id, _)| id == "snap-user-1"),
        "{remaining:?}"
    );
    assert!(server.stop_gracefully().success());
    server.restart();
    assert_eq!(start_figures(&server), (1, 0));
    assert_eq!(members(&server), remaining);

    // The reference: a start that reads the whole store.
    assert!(server.stop_gracefully().success());
    std::fs::remove_file(&snapshot).expect("snapshot removed");
    server.restart();
    assert_eq!(start_figures(&server), (0, 0));
    assert_eq!(members(&server), remaining);
}

#[test]
fn a_running_server_snapshots_so_a_crash_replays_only_what_came_after() {
    let config = format!("\n[ingest]\nsnapshot_every_messages = 10\n{DEFINITIONS}");
    let mut server = Server::start_with(Backend::Sqlite, &config);
    // Five commits of five messages: snapshots are due after the second
    // and the fourth (10 messages each time).
    for batch in 0..5 {
        let messages: Vec<Value> = (0..5)
            .map(|i| {
                json!({"type": "track", "userId": format!("runner-{i}"), "event": "Demo Requested",
                       "messageId": format!("run-{batch}-{i}")})
            })
            .collect();
        let (status, body) = server.send("/v1/batch", &json!({ "batch": messages }));
        assert_eq!(status, 200, "{body}");
    }
    let live = members(&server);
    server.kill9();
    server.restart();
    assert_eq!(
        start_figures(&server),
        (1, 5),
        "only the last commit replayed"
    );
    assert_eq!(members(&server), live);
}

/// Copies the files of a data directory (a stopped store).
fn copy_data(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create data dir");
    for entry in std::fs::read_dir(from).expect("read data dir") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("file type").is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
}

#[test]
fn an_import_leaves_the_snapshot_the_first_start_resumes_from() {
    let whole = tempfile::tempdir().expect("tempdir");
    let server = Server::start_prepared(Backend::Sqlite, DEFINITIONS, |config, data| {
        let visitors =
            |range: std::ops::Range<usize>| -> Vec<Value> { range.flat_map(visitor).collect() };
        import_lines(config, data, &visitors(0..4));
        let snapshot = data.join("engine.snapshot");
        let first = std::fs::metadata(&snapshot).expect("an import leaves a snapshot");
        // A second import resumes it and leaves it covering both.
        import_lines(config, data, &visitors(4..9));
        let second = std::fs::metadata(&snapshot).expect("snapshot kept");
        assert!(second.len() > first.len(), "{first:?} {second:?}");
        // The reference: the same store without a snapshot.
        copy_data(data, whole.path());
        std::fs::remove_file(whole.path().join("engine.snapshot")).expect("removed");
    });
    assert_eq!(start_figures(&server), (1, 0), "resumed, nothing replayed");
    let resumed = members(&server);
    assert_eq!(resumed.len(), 9 + 3, "{resumed:?}");

    let reference = Server::start_prepared(Backend::Sqlite, DEFINITIONS, |_, data| {
        copy_data(whole.path(), data);
    });
    assert_eq!(start_figures(&reference), (0, 0), "read the whole store");
    assert_eq!(members(&reference), resumed);
}
