//! Acknowledgements while readers work: the `/v1/track` ack latency on a
//! loaded server, idle, then while two clients loop on heavy reads (a
//! backtest and a conversion report), in the same run. Readers work on a
//! published view of the engine, so they must not hold up the writer
//! (issue #20: loaded p99 ≤ max(2 × idle p99, 20 ms)). Peer: PostgreSQL,
//! whose readers never block its writers (MVCC), doing a durable insert
//! plus the contact's recomputation, idle and while two clients loop on a
//! conversion query over the same events.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::ingest::{start_server, Server, WRITE_KEY};
use crate::latency::{copy_history, history};
use crate::stats::quantile;

#[derive(Debug, Args)]
pub(crate) struct ReadsArgs {
    /// Contacts loaded before measuring (5 messages each).
    #[arg(long, default_value_t = 40_000)]
    contacts: usize,
    /// Single events measured per phase.
    #[arg(long, default_value_t = 500)]
    samples: usize,
    /// The bellwether binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/bellwether")]
    binary: PathBuf,
    /// The definitions to run live.
    #[arg(long, default_value = "examples/b2b.toml")]
    definitions: PathBuf,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pg_url: String,
}

/// The admin token of `examples/b2b.toml`.
const TOKEN: &str = "demo-admin-token";
const CONTACTS_PER_ACCOUNT: usize = 10;

/// The two reads the loaded phase loops on.
const READS: [&str; 2] = [
    "/api/v1/reports/backtest?segment=hot_intent&every=1d",
    "/api/v1/reports/conversion?segment=power_user&outcome=%22Demo%20Requested%22&horizon=30d",
];

/// Ack latencies of one phase, and how many reads finished meanwhile.
struct Phase {
    ack_ms: Vec<f64>,
    reads: usize,
    seconds: f64,
}

/// Two reader threads looping until `stop`; each run of `read` is counted.
fn with_readers<T>(
    read: impl Fn(usize) -> anyhow::Result<()> + Send + Sync + 'static,
    measure: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<(T, usize)> {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let read = Arc::new(read);
    let readers: Vec<_> = (0..2)
        .map(|reader| {
            let (stop, done, read) = (stop.clone(), done.clone(), read.clone());
            std::thread::spawn(move || -> anyhow::Result<()> {
                while !stop.load(Ordering::Relaxed) {
                    read(reader)?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    // Let both readers get going before measuring.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let measured = measure();
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader
            .join()
            .map_err(|_| anyhow::anyhow!("a reader panicked"))??;
    }
    Ok((measured?, done.load(Ordering::Relaxed)))
}

fn track_acks(
    server: &Server,
    samples: usize,
    contacts: usize,
    tag: &str,
) -> anyhow::Result<Vec<f64>> {
    let client = reqwest::blocking::Client::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(samples as u64);
    let mut acks = Vec::with_capacity(samples);
    for i in 0..samples {
        let user = format!("user-{}", rng.gen_range(0..contacts));
        let body =
            json!({"userId": user, "event": "Demo Requested", "messageId": format!("{tag}-{i}")});
        let sent = Instant::now();
        let response = client
            .post(format!("{}/v1/track", server.base))
            .basic_auth(WRITE_KEY, Some(""))
            .json(&body)
            .send()?;
        acks.push(sent.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            response.status().is_success(),
            "status {}",
            response.status()
        );
    }
    Ok(acks)
}

fn bellwether(args: &ReadsArgs, history: &[Value]) -> anyhow::Result<[Phase; 2]> {
    let server = Arc::new(start_server(&args.binary, Some(&args.definitions))?);
    let loading = Instant::now();
    server.load(history, 1000)?;
    eprintln!(
        "bellwether: loaded {} messages in {:.1} s",
        history.len(),
        loading.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let idle = track_acks(&server, args.samples, args.contacts, "idle")?;
    let idle = Phase {
        ack_ms: idle,
        reads: 0,
        seconds: started.elapsed().as_secs_f64(),
    };
    let base = server.base.clone();
    let client = reqwest::blocking::Client::new();
    let started = Instant::now();
    let (loaded, reads) = with_readers(
        move |reader| {
            let response = client
                .get(format!("{base}{}", READS[reader % READS.len()]))
                .bearer_auth(TOKEN)
                .send()?;
            anyhow::ensure!(
                response.status().is_success(),
                "read {} answered {}: {}",
                READS[reader % READS.len()],
                response.status(),
                response.text().unwrap_or_default()
            );
            Ok(())
        },
        || track_acks(&server, args.samples, args.contacts, "loaded"),
    )?;
    let loaded = Phase {
        ack_ms: loaded,
        reads,
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok([idle, loaded])
}

/// PostgreSQL: the same events in an indexed table; per sample a durable
/// insert and the contact's score recomputed; the readers run a
/// conversion query (pricing viewers who requested a demo within 30 days).
fn postgres(args: &ReadsArgs, history: &[Value], now: i64) -> anyhow::Result<[Phase; 2]> {
    let mut client = postgres::Client::connect(&args.pg_url, postgres::NoTls)
        .context("connect to PostgreSQL")?;
    copy_history(&mut client, "bench_reads", history)?;
    let measure = |tag: &str| -> anyhow::Result<Vec<f64>> {
        let mut client = postgres::Client::connect(&args.pg_url, postgres::NoTls)?;
        let insert = client.prepare("INSERT INTO bench_reads (message_id, type, event, user_id, ts) VALUES ($1, 'track', 'Demo Requested', $2, $3)")?;
        let recompute = client.prepare(
            "SELECT count(*) FILTER (WHERE event = 'Demo Requested') FROM bench_reads
             WHERE user_id = $1 AND ts <= $2::bigint",
        )?;
        let mut rng = rand::rngs::StdRng::seed_from_u64(args.samples as u64);
        let mut samples = Vec::with_capacity(args.samples);
        for i in 0..args.samples {
            let user = format!("user-{}", rng.gen_range(0..args.contacts));
            let started = Instant::now();
            let mut tx = client.transaction()?;
            tx.execute(&insert, &[&format!("{tag}-{i}"), &user, &now])?;
            tx.commit()?;
            client.query_one(&recompute, &[&user, &now])?;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        Ok(samples)
    };
    let started = Instant::now();
    let idle = Phase {
        ack_ms: measure("idle")?,
        reads: 0,
        seconds: started.elapsed().as_secs_f64(),
    };
    let url = args.pg_url.clone();
    let started = Instant::now();
    let (loaded, reads) = with_readers(
        move |_| {
            let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
            client.query(
                "WITH entered AS (
                   SELECT user_id, min(ts) AS at FROM bench_reads
                   WHERE type = 'page' AND path = '/pricing' GROUP BY user_id)
                 SELECT count(*), count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM bench_reads o WHERE o.user_id = e.user_id
                     AND o.event = 'Demo Requested' AND o.ts > e.at AND o.ts <= e.at + 2592000000))
                 FROM entered e",
                &[],
            )?;
            Ok(())
        },
        || measure("loaded"),
    )?;
    let loaded = Phase {
        ack_ms: loaded,
        reads,
        seconds: started.elapsed().as_secs_f64(),
    };
    client.batch_execute("DROP TABLE bench_reads")?;
    Ok([idle, loaded])
}

pub(crate) fn run(args: &ReadsArgs) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp_millis();
    let history = history(args.contacts, CONTACTS_PER_ACCOUNT, now);
    let peer = postgres(args, &history, now)?;
    let ours = bellwether(args, &history)?;
    println!(
        "{} contacts, {} messages loaded, {} single events per phase; readers: two clients looping\n",
        args.contacts,
        history.len(),
        args.samples
    );
    println!("| engine | phase | ack p50 | ack p99 | reads finished during the phase | loaded p99 / idle p99 |");
    println!("|---|---|---|---|---|---|");
    for (name, [idle, loaded]) in [("Bellwether", ours), ("PostgreSQL", peer)] {
        let mut idle_acks = idle.ack_ms;
        let idle_p99 = quantile(&mut idle_acks, 0.99);
        let mut loaded_acks = loaded.ack_ms;
        let loaded_p99 = quantile(&mut loaded_acks, 0.99);
        println!(
            "| {name} | idle | {:.2} ms | {idle_p99:.2} ms | | |",
            quantile(&mut idle_acks, 0.5)
        );
        println!(
            "| {name} | two readers looping | {:.2} ms | {loaded_p99:.2} ms | {} in {:.1} s | {:.2}× |",
            quantile(&mut loaded_acks, 0.5),
            loaded.reads,
            loaded.seconds,
            loaded_p99 / idle_p99
        );
        eprintln!("{name}: idle phase took {:.1} s", idle.seconds);
    }
    Ok(())
}
