//! An acknowledged event survives `kill -9`, on both stores.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{client, pg_url, unique, Backend, Server, READ_TOKEN, WRITE_KEY};

const SENDERS: usize = 4;
const BATCH: usize = 100;

/// Sends batches from several threads until told to stop; returns acked ids per user.
fn load(
    server: &Server,
    users: &[String],
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<String>>> {
    users
        .iter()
        .cloned()
        .map(|user| {
            let url = server.url("/v1/batch");
            let stop = Arc::clone(stop);
            std::thread::spawn(move || {
                let http = client();
                let mut acked = Vec::new();
                for round in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let ids: Vec<String> = (0..BATCH).map(|i| format!("{user}-{round}-{i}")).collect();
                    let batch: Vec<_> = ids
                        .iter()
                        .map(|id| json!({"type": "track", "userId": user, "event": "Load", "messageId": id}))
                        .collect();
                    let sent = http.post(&url).basic_auth(WRITE_KEY, Some("")).json(&json!({ "batch": batch })).send();
                    match sent {
                        Ok(response) if response.status().is_success() => acked.extend(ids),
                        Ok(response) if response.status().as_u16() == 429 => continue,
                        _ => break,
                    }
                }
                acked
            })
        })
        .collect()
}

fn stored_ids(server: &Server, user: &str) -> std::collections::HashSet<String> {
    let mut ids = std::collections::HashSet::new();
    let mut cursor = None::<String>;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/contacts/{user}/events?limit=1000&cursor={c}"),
            None => format!("/api/v1/contacts/{user}/events?limit=1000"),
        };
        let (status, page) = server.get(&path, READ_TOKEN);
        if status == 404 {
            return ids;
        }
        assert_eq!(status, 200, "{page}");
        for event in page["events"].as_array().unwrap() {
            ids.insert(event["message_id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
}

fn kill_under_load(backend: Backend) {
    let mut server = Server::start_on(backend);
    let users: Vec<String> = (0..SENDERS).map(|_| unique("durable")).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let senders = load(&server, &users, &stop);
    // Let acknowledged writes pile up, then pull the plug mid-stream.
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(1500) {
        std::thread::sleep(Duration::from_millis(50));
    }
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<Vec<String>> = senders.into_iter().map(|h| h.join().unwrap()).collect();
    let total: usize = acked.iter().map(Vec::len).sum();
    assert!(total >= BATCH, "the load never got an acknowledgement");
    server.restart();
    let lost = Mutex::new(Vec::new());
    for (user, acked) in users.iter().zip(&acked) {
        let stored = stored_ids(&server, user);
        lost.lock()
            .unwrap()
            .extend(acked.iter().filter(|id| !stored.contains(*id)).cloned());
    }
    let lost = lost.into_inner().unwrap();
    assert!(
        lost.is_empty(),
        "{} of {total} acknowledged messages lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
}

#[test]
fn acknowledged_events_survive_kill_9_on_sqlite() {
    kill_under_load(Backend::Sqlite);
}

#[test]
fn acknowledged_events_survive_kill_9_on_postgres() {
    let schema = unique("bw_durable_");
    let url = format!("{}?schema={schema}", pg_url());
    kill_under_load(Backend::Postgres(url));
    drop_schema(&schema);
}

#[test]
fn graceful_shutdown_exits_cleanly_and_keeps_data() {
    let mut server = Server::start();
    let user = unique("graceful");
    server.send("/v1/identify", &json!({"userId": user}));
    let status = server.stop_gracefully();
    assert!(status.success(), "exit status {status}");
    server.restart();
    assert_eq!(server.contact(&user)["user_id"], user.as_str());
}

pub(crate) fn drop_schema(schema: &str) {
    let _ = std::process::Command::new("psql")
        .args([
            &pg_url(),
            "-q",
            "-c",
            &format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"),
        ])
        .output();
}
