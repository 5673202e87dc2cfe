//! From an ingested event to the webhook it causes, received by a local
//! receiver: sustained deliveries per second and the latency from sending
//! the event to receiving its signed delivery (p50/p99), at a fixed event
//! rate. Every event is a new contact requesting a demo, so every event
//! causes exactly one segment entry and one delivery.
//!
//! Peer: what a team builds instead, a PostgreSQL transactional outbox.
//! Each batch inserts its events and their outbox rows in one transaction
//! and `NOTIFY`s; a worker `LISTEN`s, takes due rows `FOR UPDATE SKIP
//! LOCKED`, posts them signed (same HMAC, same concurrency) and deletes
//! them in the same transaction. Both deliver to the same receiver.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use parking_lot::Mutex;
use serde_json::{json, Value};

use crate::ingest::{start_server, WRITE_KEY};
use crate::stats::{quantile, Spread};

#[derive(Debug, Args)]
pub(crate) struct WebhookArgs {
    /// Event rates to measure (events per second).
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    rates: Vec<usize>,
    /// Seconds of sending per run.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The bellwether binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/bellwether")]
    binary: PathBuf,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pg_url: String,
}

const SECRET_KEY: &[u8] = b"bench-secret-key-32-bytes-long!!";
/// Batches sent per second (each carries rate/100 events).
const BATCHES_PER_SECOND: u64 = 100;
const SENDERS: usize = 4;
const CONCURRENCY: usize = 32;

/// When each contact's event was sent, and when its delivery arrived.
#[derive(Default)]
struct Clocks {
    sent: HashMap<String, Instant>,
    received: HashMap<String, Instant>,
}

type Shared = Arc<Mutex<Clocks>>;

/// A local receiver on its own runtime: records the arrival of each
/// delivery by the contact it names.
fn start_receiver(clocks: Shared) -> anyhow::Result<(u16, std::thread::JoinHandle<()>)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    let handle = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            let app = axum::Router::new().route(
                "/hook",
                axum::routing::post(move |body: axum::body::Bytes| {
                    let clocks = Arc::clone(&clocks);
                    async move {
                        let at = Instant::now();
                        if let Ok(value) = serde_json::from_slice::<Value>(&body) {
                            let who = value["data"]["subject"]["id"].as_str().unwrap_or("");
                            clocks.lock().received.entry(who.to_owned()).or_insert(at);
                        }
                        axum::http::StatusCode::NO_CONTENT
                    }
                }),
            );
            let _ = axum::serve(listener, app).await;
        });
    });
    Ok((port, handle))
}

/// One run's figures.
struct Outcome {
    /// Events per second the senders achieved (acknowledged).
    sent_per_second: f64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Sends `rate` events/s for `seconds` through `send_batch`, then waits for
/// every delivery (30 s at most).
fn drive(
    args: &WebhookArgs,
    rate: usize,
    run: usize,
    clocks: &Shared,
    send_batch: impl Fn(&[String]) -> anyhow::Result<()> + Sync,
) -> anyhow::Result<Outcome> {
    *clocks.lock() = Clocks::default();
    let per_batch = (rate as u64 / BATCHES_PER_SECOND).max(1) as usize;
    let batches = (args.seconds * BATCHES_PER_SECOND) as usize;
    let started = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let mut workers = Vec::new();
        for sender in 0..SENDERS {
            let send_batch = &send_batch;
            workers.push(scope.spawn(move || -> anyhow::Result<()> {
                for batch in (sender..batches).step_by(SENDERS) {
                    let due =
                        started + Duration::from_millis(batch as u64 * 1000 / BATCHES_PER_SECOND);
                    std::thread::sleep(due.saturating_duration_since(Instant::now()));
                    let users: Vec<String> = (0..per_batch)
                        .map(|i| format!("wh-{run}-{batch}-{i}"))
                        .collect();
                    let now = Instant::now();
                    clocks
                        .lock()
                        .sent
                        .extend(users.iter().map(|u| (u.clone(), now)));
                    send_batch(&users)?;
                }
                Ok(())
            }));
        }
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("a sender panicked"))??;
        }
        Ok(())
    })?;
    let expected = batches * per_batch;
    let sent_in = started.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(30);
    while clocks.lock().received.len() < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let clocks = clocks.lock();
    anyhow::ensure!(
        clocks.received.len() == expected,
        "{} of {expected} deliveries arrived",
        clocks.received.len()
    );
    let mut latencies: Vec<f64> = clocks
        .received
        .iter()
        .filter_map(|(who, at)| Some(at.duration_since(*clocks.sent.get(who)?).as_secs_f64() * 1e3))
        .collect();
    let last = clocks.received.values().max().copied().unwrap_or(started);
    Ok(Outcome {
        sent_per_second: expected as f64 / sent_in,
        per_second: expected as f64 / last.duration_since(started).as_secs_f64(),
        p50_ms: quantile(&mut latencies, 0.5),
        p99_ms: quantile(&mut latencies, 0.99),
    })
}

fn demo_requests(users: &[String]) -> Value {
    let batch: Vec<Value> = users
        .iter()
        .map(|u| json!({"type": "track", "userId": u, "event": "Demo Requested", "messageId": u}))
        .collect();
    json!({ "batch": batch })
}

fn bellwether_run(
    args: &WebhookArgs,
    rate: usize,
    run: usize,
    clocks: &Shared,
    port: u16,
) -> anyhow::Result<Outcome> {
    use base64::Engine as _;
    let dir = tempfile::tempdir()?;
    let definitions = dir.path().join("definitions.toml");
    let secret = base64::engine::general_purpose::STANDARD.encode(SECRET_KEY);
    std::fs::write(
        &definitions,
        format!(
            "[[segment]]\nname = 'demo'\nsubject = 'contact'\nwhen = 'exists(\"Demo Requested\")'\n\
             [[destination]]\nname = 'bench'\nurl = 'http://127.0.0.1:{port}/hook'\n\
             secret = 'whsec_{secret}'\nsegments = ['demo']\n"
        ),
    )?;
    let server = start_server(&args.binary, Some(&definitions))?;
    let client = reqwest::blocking::Client::new();
    let url = format!("{}/v1/batch", server.base);
    drive(args, rate, run, clocks, |users| {
        let response = client
            .post(&url)
            .basic_auth(WRITE_KEY, Some(""))
            .json(&demo_requests(users))
            .send()?;
        anyhow::ensure!(
            response.status().is_success(),
            "ingest answered {}",
            response.status()
        );
        Ok(())
    })
}

fn postgres_run(
    args: &WebhookArgs,
    rate: usize,
    run: usize,
    clocks: &Shared,
    port: u16,
) -> anyhow::Result<Outcome> {
    let mut setup = postgres::Client::connect(&args.pg_url, postgres::NoTls)
        .context("connect to PostgreSQL")?;
    setup.batch_execute(
        "DROP TABLE IF EXISTS bench_wh_events, bench_wh_outbox;
         CREATE TABLE bench_wh_events (seq bigserial PRIMARY KEY, message_id text UNIQUE NOT NULL,
            user_id text NOT NULL, event text NOT NULL, ts bigint NOT NULL);
         CREATE TABLE bench_wh_outbox (id bigserial PRIMARY KEY, user_id text NOT NULL, body text NOT NULL);",
    )?;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let worker = {
        let (url, stop) = (args.pg_url.clone(), Arc::clone(&stop));
        std::thread::spawn(move || outbox_worker(&url, port, &stop))
    };
    let senders: Vec<Mutex<postgres::Client>> = (0..SENDERS)
        .map(|_| postgres::Client::connect(&args.pg_url, postgres::NoTls).map(Mutex::new))
        .collect::<Result<_, _>>()?;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let outcome = drive(args, rate, run, clocks, |users| {
        let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % SENDERS;
        let mut client = senders[index].lock();
        let mut tx = client.transaction()?;
        let now = chrono::Utc::now().timestamp_millis();
        let bodies: Vec<String> = users
            .iter()
            .map(|u| json!({"type": "segment.entered", "data": {"subject": {"id": u}}}).to_string())
            .collect();
        tx.execute(
            "INSERT INTO bench_wh_events (message_id, user_id, event, ts)
             SELECT u, u, 'Demo Requested', $2 FROM UNNEST($1::text[]) AS u",
            &[&users, &now],
        )?;
        tx.execute(
            "INSERT INTO bench_wh_outbox (user_id, body) SELECT * FROM UNNEST($1::text[], $2::text[])",
            &[&users, &bodies],
        )?;
        tx.batch_execute("NOTIFY bench_wh_outbox")?;
        tx.commit()?;
        Ok(())
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    worker
        .join()
        .map_err(|_| anyhow::anyhow!("the outbox worker panicked"))??;
    setup.batch_execute("DROP TABLE bench_wh_events, bench_wh_outbox")?;
    outcome
}

/// The peer's dispatcher: on each notification (or every 100 ms), take up
/// to 500 rows, post them signed with bounded concurrency, delete them.
fn outbox_worker(url: &str, port: u16, stop: &std::sync::atomic::AtomicBool) -> anyhow::Result<()> {
    use futures_util::StreamExt as _;
    let mut listen = postgres::Client::connect(url, postgres::NoTls)?;
    listen.batch_execute("LISTEN bench_wh_outbox")?;
    let mut work = postgres::Client::connect(url, postgres::NoTls)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let http = reqwest::Client::new();
    let target = format!("http://127.0.0.1:{port}/hook");
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        use postgres::fallible_iterator::FallibleIterator as _;
        let _ = listen
            .notifications()
            .timeout_iter(Duration::from_millis(100))
            .next();
        loop {
            let mut tx = work.transaction()?;
            let rows = tx.query(
                "SELECT id, body FROM bench_wh_outbox ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED",
                &[],
            )?;
            if rows.is_empty() {
                break;
            }
            let posts = rows.iter().map(|row| {
                let (id, body): (i64, String) = (row.get(0), row.get(1));
                let timestamp = chrono::Utc::now().timestamp();
                let signature = sign(&format!("msg_{id}"), timestamp, &body);
                http.post(&target)
                    .header("webhook-id", format!("msg_{id}"))
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", signature)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
            });
            let results: Vec<_> = runtime.block_on(
                futures_util::stream::iter(posts)
                    .buffer_unordered(CONCURRENCY)
                    .collect::<Vec<_>>(),
            );
            anyhow::ensure!(results.iter().all(Result::is_ok), "a peer delivery failed");
            let ids: Vec<i64> = rows.iter().map(|row| row.get(0)).collect();
            tx.execute("DELETE FROM bench_wh_outbox WHERE id = ANY($1)", &[&ids])?;
            tx.commit()?;
        }
    }
    Ok(())
}

fn sign(id: &str, timestamp: i64, body: &str) -> String {
    use base64::Engine as _;
    use hmac::{KeyInit, Mac};
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET_KEY) else {
        return String::new();
    };
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

pub(crate) fn run(args: &WebhookArgs) -> anyhow::Result<()> {
    let clocks: Shared = Arc::default();
    let (port, _receiver) = start_receiver(Arc::clone(&clocks))?;
    println!(
        "{} s of sending per run at each rate, {} runs (min / median / max); every event causes one delivery\n",
        args.seconds, args.runs
    );
    println!("| events/s | measure | Bellwether (outbox + dispatcher) | PostgreSQL outbox + LISTEN worker | ratio |");
    println!("|---|---|---|---|---|");
    for &rate in &args.rates {
        let mut ours = (Vec::new(), Vec::new(), Vec::new());
        let mut peer = (Vec::new(), Vec::new(), Vec::new());
        for run in 0..args.runs {
            let b = bellwether_run(args, rate, run, &clocks, port)?;
            let p = postgres_run(args, rate, run + 1_000, &clocks, port)?;
            eprintln!(
                "{rate}/s run {run}: bellwether sent {:.0}/s delivered {:.0}/s p50 {:.1} ms p99 {:.1} ms; postgres sent {:.0}/s delivered {:.0}/s p50 {:.1} ms p99 {:.1} ms",
                b.sent_per_second, b.per_second, b.p50_ms, b.p99_ms,
                p.sent_per_second, p.per_second, p.p50_ms, p.p99_ms
            );
            for (into, from) in [(&mut ours, b), (&mut peer, p)] {
                into.0.push(from.per_second);
                into.1.push(from.p50_ms);
                into.2.push(from.p99_ms);
            }
        }
        let rows = [
            (
                "deliveries/s",
                Spread::of(&ours.0),
                Spread::of(&peer.0),
                "/s",
            ),
            (
                "p50 event → webhook",
                Spread::of(&ours.1),
                Spread::of(&peer.1),
                "ms",
            ),
            (
                "p99 event → webhook",
                Spread::of(&ours.2),
                Spread::of(&peer.2),
                "ms",
            ),
        ];
        for (measure, a, b, unit) in rows {
            println!(
                "| {rate} | {measure} | {} | {} | {:.2}× |",
                a.show(unit),
                b.show(unit),
                a.median / b.median
            );
        }
    }
    Ok(())
}
