//! Durable ingest: Bellwether's `/v1/batch` vs PostgreSQL `COPY`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};

use crate::stats::{quantile, Spread};

#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    /// Events per run.
    #[arg(long, default_value_t = 200_000)]
    events: usize,
    /// Messages per `/v1/batch` request (comma-separated to compare sizes).
    #[arg(long, default_value = "100,1000", value_delimiter = ',')]
    batch: Vec<usize>,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Runs per configuration.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The bellwether binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/bellwether")]
    binary: PathBuf,
    /// Definitions to run live while ingesting (e.g. examples/b2b.toml).
    #[arg(long)]
    definitions: Option<PathBuf>,
    /// PostgreSQL for the COPY peer.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pg_url: String,
}

pub(crate) const WRITE_KEY: &str = "bench-write-key";
const FEATURES: [&str; 3] = ["campaigns", "reports", "api"];

fn messages(count: usize, run: usize) -> Vec<Value> {
    let base = 1_700_000_000_000i64;
    (0..count)
        .map(|i| {
            let user = i % 10_000;
            let event = ["Page Viewed", "Email Opened", "Feature Used", "Logged In", "Demo Requested"][i % 5];
            json!({"type": "track", "userId": format!("user-{user}"), "event": event,
                   "messageId": format!("r{run}-m{i}"),
                   "timestamp": format!("2023-11-14T22:{:02}:{:02}.{:03}Z", (i / 60_000) % 60, (i / 1000) % 60, i % 1000),
                   "properties": {"path": "/pricing", "plan": "pro", "feature": FEATURES[i % 3],
                                  "n": i, "ts": base}})
        })
        .collect()
}

pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Sends `messages` through `/v1/batch`, `chunk` per request, waiting
    /// out 429s (the write queue full): a history to measure against.
    pub(crate) fn load(&self, messages: &[Value], chunk: usize) -> anyhow::Result<()> {
        let client = reqwest::blocking::Client::new();
        for batch in messages.chunks(chunk) {
            loop {
                let response = client
                    .post(format!("{}/v1/batch", self.base))
                    .basic_auth(WRITE_KEY, Some(""))
                    .json(&json!({ "batch": batch }))
                    .send()?;
                match response.status().as_u16() {
                    429 => std::thread::sleep(Duration::from_millis(5)),
                    200 => break,
                    status => anyhow::bail!("loading failed with status {status}"),
                }
            }
        }
        Ok(())
    }

    /// The server process, for sampling its memory.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start_server(
    binary: &PathBuf,
    definitions: Option<&PathBuf>,
) -> anyhow::Result<Server> {
    let text = match definitions {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None => String::new(),
    };
    start_server_with(binary, &text, |_| Ok(()))
}

/// Starts a server whose config is the bench source plus `extra`, after
/// `prepare` wrote what it needs into the config's directory.
pub(crate) fn start_server_with(
    binary: &PathBuf,
    extra: &str,
    prepare: impl FnOnce(&std::path::Path) -> anyhow::Result<()>,
) -> anyhow::Result<Server> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("bellwether.toml");
    let mut text = format!("[[source]]\nname='bench'\nwrite_key='{WRITE_KEY}'\n");
    text.push_str(extra);
    std::fs::write(&config, text)?;
    prepare(dir.path())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(binary)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(&config)
        .arg("--data")
        .arg(dir.path().join("data"))
        .env("BELLWETHER_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| {
            format!(
                "cannot start {} (run cargo build --release first)",
                binary.display()
            )
        })?;
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let client = reqwest::blocking::Client::new();
    // Loading large enrichment tables takes a few seconds.
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if client
            .get(format!("{}/healthz", server.base))
            .send()
            .is_ok()
        {
            return Ok(server);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    anyhow::bail!("server did not start")
}

pub(crate) struct IngestRun {
    pub(crate) events_per_sec: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
}

fn bellwether_run(args: &IngestArgs, batch_size: usize, run: usize) -> anyhow::Result<IngestRun> {
    let server = start_server(&args.binary, args.definitions.as_ref())?;
    drive(
        &server,
        &messages(args.events, run),
        batch_size,
        args.clients,
    )
}

/// Sends `messages` through `/v1/batch`, `batch_size` per request, from
/// `clients` threads; the throughput and ack latencies.
pub(crate) fn drive(
    server: &Server,
    messages: &[Value],
    batch_size: usize,
    clients: usize,
) -> anyhow::Result<IngestRun> {
    let bodies: Vec<Vec<u8>> = messages
        .chunks(batch_size)
        .map(|chunk| json!({ "batch": chunk }).to_string().into_bytes())
        .collect();
    let bodies = Arc::new(bodies);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (bodies, next, url) = (
                Arc::clone(&bodies),
                Arc::clone(&next),
                format!("{}/v1/batch", server.base),
            );
            std::thread::spawn(move || -> anyhow::Result<Vec<f64>> {
                let client = reqwest::blocking::Client::new();
                let mut latencies = Vec::new();
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(body) = bodies.get(index) else {
                        return Ok(latencies);
                    };
                    loop {
                        let sent = Instant::now();
                        let response = client
                            .post(&url)
                            .basic_auth(WRITE_KEY, Some(""))
                            .header("content-type", "application/json")
                            .body(body.clone())
                            .send()?;
                        if response.status().as_u16() == 429 {
                            std::thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                        anyhow::ensure!(
                            response.status().is_success(),
                            "status {}",
                            response.status()
                        );
                        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                        break;
                    }
                }
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("client panicked"))??,
        );
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(IngestRun {
        events_per_sec: messages.len() as f64 / elapsed,
        p50_ms: quantile(&mut latencies, 0.5),
        p99_ms: quantile(&mut latencies, 0.99),
    })
}

/// The same events into an indexed table through `COPY`, committed (the
/// peer's fastest durable bulk path).
fn postgres_copy_run(args: &IngestArgs, run: usize) -> anyhow::Result<f64> {
    let mut client = postgres::Client::connect(&args.pg_url, postgres::NoTls)
        .context("connect to PostgreSQL")?;
    client.batch_execute(
        "DROP TABLE IF EXISTS bench_events;
         CREATE TABLE bench_events (seq bigserial PRIMARY KEY, source text NOT NULL, message_id text NOT NULL,
           type text NOT NULL, event text, user_id text, timestamp_ms bigint NOT NULL, properties jsonb NOT NULL,
           UNIQUE (source, message_id));
         CREATE INDEX ON bench_events (user_id, timestamp_ms);",
    )?;
    let mut text = Vec::new();
    for message in messages(args.events, run) {
        let properties = message["properties"].to_string().replace('\\', "\\\\");
        writeln!(
            text,
            "bench\t{}\ttrack\t{}\t{}\t{}\t{}",
            message["messageId"].as_str().unwrap_or_default(),
            message["event"].as_str().unwrap_or_default(),
            message["userId"].as_str().unwrap_or_default(),
            1_700_000_000_000i64,
            properties
        )?;
    }
    let started = Instant::now();
    let mut transaction = client.transaction()?;
    let mut writer = transaction.copy_in(
        "COPY bench_events (source, message_id, type, event, user_id, timestamp_ms, properties) FROM STDIN",
    )?;
    writer.write_all(&text)?;
    writer.finish()?;
    transaction.commit()?;
    let elapsed = started.elapsed().as_secs_f64();
    client.batch_execute("DROP TABLE bench_events")?;
    Ok(args.events as f64 / elapsed)
}

pub(crate) fn run(args: &IngestArgs) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let mut copy = Vec::new();
    for run in 0..args.runs {
        copy.push(postgres_copy_run(args, run)?);
        eprintln!("run {run}: postgres COPY {:.0} ev/s", copy[run]);
    }
    let copy_spread = Spread::of(&copy);
    for &batch in &args.batch {
        let mut rates = Vec::new();
        let (mut p50s, mut p99s) = (Vec::new(), Vec::new());
        for run in 0..args.runs {
            let result = bellwether_run(args, batch, run)?;
            eprintln!(
                "run {run}: batch {batch}: {:.0} ev/s, p50 {:.1} ms, p99 {:.1} ms",
                result.events_per_sec, result.p50_ms, result.p99_ms
            );
            rates.push(result.events_per_sec);
            p50s.push(result.p50_ms);
            p99s.push(result.p99_ms);
        }
        let spread = Spread::of(&rates);
        rows.push(format!(
            "| `/v1/batch` × {batch}, {} clients | {} | {:.1} / {:.1} ms | {:.2}× |",
            args.clients,
            spread.show("ev/s"),
            Spread::of(&p50s).median,
            Spread::of(&p99s).median,
            spread.median / copy_spread.median
        ));
    }
    let live = match &args.definitions {
        Some(path) => format!("definitions of {} live", path.display()),
        None => "no definitions".to_owned(),
    };
    println!(
        "{} events per run, {} runs (min / median / max), {live}\n",
        args.events, args.runs
    );
    println!("| path | throughput | latency p50 / p99 (median run) | ratio to PostgreSQL COPY |");
    println!("|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    println!(
        "| PostgreSQL `COPY` into an indexed table, one transaction | {} | n/a | 1.00× |",
        copy_spread.show("ev/s")
    );
    Ok(())
}
