//! One new event to its updated membership, on a loaded server: the time
//! from sending one `track` call to its acknowledgement, which Bellwether
//! sends only once the event is durable *and* every affected segment, score
//! and tier of the contact and its account is re-evaluated (a read right
//! after sees the change; the harness checks it). Peer: PostgreSQL doing the
//! durable insert of the same event plus a per-contact recomputation of one
//! score and one segment in SQL: a lower bound for the 15 definitions.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::ingest::{start_server, Server, WRITE_KEY};
use crate::stats::{quantile, Spread};

#[derive(Debug, Args)]
pub(crate) struct LatencyArgs {
    /// Contacts loaded before measuring.
    #[arg(long, default_value_t = 100_000)]
    contacts: usize,
    /// Contacts per account.
    #[arg(long, default_value_t = 10)]
    contacts_per_account: usize,
    /// Single events measured per run.
    #[arg(long, default_value_t = 1_000)]
    samples: usize,
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The bellwether binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/bellwether")]
    binary: PathBuf,
    /// The definitions to run live.
    #[arg(long, default_value = "examples/b2b.toml")]
    definitions: PathBuf,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pg_url: String,
}

const DAY_MS: i64 = 86_400_000;
/// The admin token of `examples/b2b.toml`.
const TOKEN: &str = "demo-admin-token";

/// Four weeks of history per contact: a group call, a pricing view, email
/// opens, feature use and a login, spread over the last 28 days.
pub(crate) fn history(contacts: usize, contacts_per_account: usize, now: i64) -> Vec<Value> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let stamp = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default()
    };
    let mut out = Vec::with_capacity(contacts * 6);
    for c in 0..contacts {
        let user = format!("user-{c}");
        let account = format!("acct-{}", c / contacts_per_account.max(1));
        out.push(json!({"type": "group", "userId": user, "groupId": account,
            "traits": {"employees": 50 + c % 500, "industry": "software"},
            "messageId": format!("g-{c}"), "timestamp": stamp(now - 28 * DAY_MS)}));
        for (k, (kind, event, properties)) in [
            ("page", "", json!({"path": "/pricing"})),
            ("track", "Email Opened", json!({"email_id": "e1"})),
            ("track", "Feature Used", json!({"feature": "reports"})),
            ("track", "Logged In", json!({})),
        ]
        .into_iter()
        .enumerate()
        {
            let at = now - rng.gen_range(0..28 * DAY_MS);
            let mut message = json!({"type": kind, "userId": user, "properties": properties,
                "messageId": format!("h-{c}-{k}"), "timestamp": stamp(at)});
            if kind == "track" {
                message["event"] = json!(event);
            }
            out.push(message);
        }
    }
    out
}

struct Samples {
    ack_ms: Vec<f64>,
}

fn bellwether_run(args: &LatencyArgs, history: &[Value], run: usize) -> anyhow::Result<Samples> {
    let server = start_server(&args.binary, Some(&args.definitions))?;
    let loading = Instant::now();
    server.load(history, 1000)?;
    eprintln!(
        "run {run}: loaded {} messages in {:.1} s",
        history.len(),
        loading.elapsed().as_secs_f64()
    );
    let client = reqwest::blocking::Client::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(run as u64);
    let mut ack_ms = Vec::with_capacity(args.samples);
    for i in 0..args.samples {
        let user = format!("user-{}", rng.gen_range(0..args.contacts));
        let body =
            json!({"userId": user, "event": "Demo Requested", "messageId": format!("s-{run}-{i}")});
        let sent = Instant::now();
        let response = client
            .post(format!("{}/v1/track", server.base))
            .basic_auth(WRITE_KEY, Some(""))
            .json(&body)
            .send()?;
        let elapsed = sent.elapsed().as_secs_f64() * 1000.0;
        anyhow::ensure!(
            response.status().is_success(),
            "status {}",
            response.status()
        );
        ack_ms.push(elapsed);
        if i % 50 == 0 {
            check_effect(&client, &server, &user)?;
        }
    }
    Ok(Samples { ack_ms })
}

/// Right after the acknowledgement, the contact has left the segment a
/// demo request ends and carries the tier it moves to.
fn check_effect(
    client: &reqwest::blocking::Client,
    server: &Server,
    user: &str,
) -> anyhow::Result<()> {
    let contact: Value = client
        .get(format!("{}/api/v1/contacts/{user}", server.base))
        .bearer_auth(TOKEN)
        .send()?
        .json()?;
    let intent = contact["scores"]["intent"].as_f64().unwrap_or(0.0);
    anyhow::ensure!(
        intent >= 30.0 && contact["tiers"]["lifecycle"] == "engaged_lead",
        "the acknowledged event is not visible yet: {contact}"
    );
    Ok(())
}

/// `history` `COPY`ed into a new indexed table (`seq`, `message_id`,
/// `type`, `event`, `user_id`, `ts` in ms, `path`), analyzed.
pub(crate) fn copy_history(
    client: &mut postgres::Client,
    table: &str,
    history: &[Value],
) -> anyhow::Result<()> {
    client.batch_execute(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table} (seq bigserial PRIMARY KEY, message_id text UNIQUE NOT NULL,
           type text NOT NULL, event text, user_id text NOT NULL, ts bigint NOT NULL, path text);
         CREATE INDEX ON {table} (user_id, ts);"
    ))?;
    let mut text = Vec::new();
    for m in history {
        let ts = chrono::DateTime::parse_from_rfc3339(m["timestamp"].as_str().unwrap_or_default())?
            .timestamp_millis();
        writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}",
            m["messageId"].as_str().unwrap_or_default(),
            m["type"].as_str().unwrap_or_default(),
            m["event"].as_str().unwrap_or("\\N"),
            m["userId"].as_str().unwrap_or_default(),
            ts,
            m["properties"]["path"].as_str().unwrap_or("\\N"),
        )?;
    }
    let mut copy = client.copy_in(&format!(
        "COPY {table} (message_id, type, event, user_id, ts, path) FROM STDIN"
    ))?;
    copy.write_all(&text)?;
    copy.finish()?;
    client.batch_execute(&format!("ANALYZE {table}"))?;
    Ok(())
}

/// PostgreSQL: the same history `COPY`ed into an indexed table, then per
/// sample one durable insert and the contact's decayed intent score and
/// pricing-view count recomputed in SQL.
fn postgres_run(
    args: &LatencyArgs,
    history: &[Value],
    run: usize,
    now: i64,
) -> anyhow::Result<Vec<f64>> {
    let mut client = postgres::Client::connect(&args.pg_url, postgres::NoTls)
        .context("connect to PostgreSQL")?;
    copy_history(&mut client, "bench_latency", history)?;
    let insert = client.prepare("INSERT INTO bench_latency (message_id, type, event, user_id, ts) VALUES ($1, 'track', 'Demo Requested', $2, $3)")?;
    let recompute = client.prepare(
        "SELECT coalesce(sum(CASE WHEN type = 'page' AND path = '/pricing' THEN 10
                                  WHEN event = 'Demo Requested' THEN 30 ELSE 0 END
                             * power(2::float8, (ts - $2::bigint)::float8 / 1209600000)), 0)::float8 AS intent,
                count(*) FILTER (WHERE type = 'page' AND path = '/pricing' AND ts > $2::bigint - 604800000) AS pricing
         FROM bench_latency WHERE user_id = $1 AND ts <= $2::bigint",
    )?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(run as u64);
    let mut samples = Vec::with_capacity(args.samples);
    for i in 0..args.samples {
        let user = format!("user-{}", rng.gen_range(0..args.contacts));
        let started = Instant::now();
        let mut tx = client.transaction()?;
        tx.execute(&insert, &[&format!("s-{run}-{i}"), &user, &now])?;
        tx.commit()?;
        let row = client.query_one(&recompute, &[&user, &now])?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
        let intent: f64 = row.get(0);
        anyhow::ensure!(intent >= 30.0, "the peer does not see its insert");
    }
    client.batch_execute("DROP TABLE bench_latency")?;
    Ok(samples)
}

pub(crate) fn run(args: &LatencyArgs) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp_millis();
    let history = history(args.contacts, args.contacts_per_account, now);
    let (mut p50, mut p99, mut peer50, mut peer99) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..args.runs {
        let mut peer = postgres_run(args, &history, run, now)?;
        let mut ours = bellwether_run(args, &history, run)?.ack_ms;
        let row = [
            quantile(&mut ours, 0.5),
            quantile(&mut ours, 0.99),
            quantile(&mut peer, 0.5),
            quantile(&mut peer, 0.99),
        ];
        eprintln!(
            "run {run}: bellwether p50 {:.2} ms p99 {:.2} ms; postgres p50 {:.2} ms p99 {:.2} ms",
            row[0], row[1], row[2], row[3]
        );
        p50.push(row[0]);
        p99.push(row[1]);
        peer50.push(row[2]);
        peer99.push(row[3]);
    }
    let (p50, p99, peer50, peer99) = (
        Spread::of(&p50),
        Spread::of(&p99),
        Spread::of(&peer50),
        Spread::of(&peer99),
    );
    println!(
        "{} contacts ({} per account), {} messages loaded, {} single events per run, {} runs (min / median / max)\n",
        args.contacts, args.contacts_per_account, history.len(), args.samples, args.runs
    );
    println!("| measure | Bellwether (ack = durable + re-evaluated) | PostgreSQL (durable insert + 2 definitions in SQL) | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| p50 | {} | {} | {:.2}× |",
        p50.show("ms"),
        peer50.show("ms"),
        p50.median / peer50.median
    );
    println!(
        "| p99 | {} | {} | {:.2}× |",
        p99.show("ms"),
        peer99.show("ms"),
        p99.median / peer99.median
    );
    Ok(())
}
