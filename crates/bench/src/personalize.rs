//! `GET /v1/personalize` on a loaded server (issue 16): the lookup a web
//! page makes to adapt to its visitor, timed from request to parsed answer
//! over a kept-alive loopback connection (so an upper bound of the time
//! the server spends). Peer, in the same run: PostgreSQL answering the
//! same question from a table holding each visitor's answer, by primary
//! key, prepared statement, same kind of connection: the floor of any
//! lookup of a stored answer. The answers are checked equal.

use std::collections::HashMap;
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
pub(crate) struct PersonalizeArgs {
    /// Visitors (contacts) loaded before measuring.
    #[arg(long, default_value_t = 100_000)]
    contacts: usize,
    /// Contacts per account.
    #[arg(long, default_value_t = 10)]
    contacts_per_account: usize,
    /// Lookups measured per run, on each side.
    #[arg(long, default_value_t = 10_000)]
    samples: usize,
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The bellwether binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/bellwether")]
    binary: PathBuf,
    /// The definitions to run live (their `expose = true` ones answer).
    #[arg(long, default_value = "examples/b2b.toml")]
    definitions: PathBuf,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pg_url: String,
}

const DAY_MS: i64 = 86_400_000;

/// Per visitor: an identify tying its anonymous id to its user, its
/// account, pricing views; a third answered the quiz for compliance, a
/// quarter read four blog posts: the example's exposed segments and
/// lifecycle tier vary across visitors.
fn history(args: &PersonalizeArgs, now: i64) -> Vec<Value> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(16);
    let stamp = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default()
    };
    let mut out = Vec::with_capacity(args.contacts * 6);
    for c in 0..args.contacts {
        let (user, anon) = (format!("user-{c}"), format!("anon-{c}"));
        let account = format!("acct-{}", c / args.contacts_per_account.max(1));
        let mut at = || stamp(now - rng.gen_range(0..7 * DAY_MS));
        out.push(
            json!({"type": "identify", "userId": user, "anonymousId": anon,
            "messageId": format!("i-{c}"), "timestamp": at()}),
        );
        out.push(json!({"type": "group", "userId": user, "groupId": account,
            "messageId": format!("g-{c}"), "timestamp": at()}));
        out.push(
            json!({"type": "page", "anonymousId": anon, "properties": {"path": "/pricing"},
            "messageId": format!("p-{c}"), "timestamp": at()}),
        );
        if c % 3 == 0 {
            out.push(json!({"type": "track", "anonymousId": anon, "event": "Quiz Answered",
                "properties": {"benefit": "compliance"}, "messageId": format!("q-{c}"), "timestamp": at()}));
        }
        if c % 4 == 0 {
            for post in 0..4 {
                out.push(json!({"type": "page", "anonymousId": anon,
                    "properties": {"path": format!("/blog/post-{post}")},
                    "messageId": format!("b-{c}-{post}"), "timestamp": at()}));
            }
        }
    }
    out
}

fn lookup(
    client: &reqwest::blocking::Client,
    server: &Server,
    anon: &str,
) -> anyhow::Result<String> {
    let response = client
        .get(format!("{}/v1/personalize?anonymousId={anon}", server.base))
        .basic_auth(WRITE_KEY, Some(""))
        .send()?;
    anyhow::ensure!(
        response.status().is_success(),
        "status {}",
        response.status()
    );
    Ok(response.text()?)
}

struct Run {
    ours: Vec<f64>,
    peer: Vec<f64>,
}

fn one_run(args: &PersonalizeArgs, history: &[Value], run: usize) -> anyhow::Result<Run> {
    // The benchmark is one client address: lift the per-address limit.
    let definitions = std::fs::read_to_string(&args.definitions)
        .with_context(|| format!("cannot read {}", args.definitions.display()))?;
    let config = tempfile::NamedTempFile::new()?;
    std::fs::write(
        config.path(),
        format!("{definitions}\n[personalize]\nrate_per_minute = 4000000000\n"),
    )?;
    let server = start_server(&args.binary, Some(&config.path().to_path_buf()))?;
    let loading = Instant::now();
    server.load(history, 1000)?;
    eprintln!(
        "run {run}: loaded {} messages in {:.1} s",
        history.len(),
        loading.elapsed().as_secs_f64()
    );
    // Every visitor's answer (also the warm-up), into PostgreSQL.
    let client = reqwest::blocking::Client::new();
    let mut answers = HashMap::with_capacity(args.contacts);
    for c in 0..args.contacts {
        let anon = format!("anon-{c}");
        let answer = lookup(&client, &server, &anon)?;
        answers.insert(anon, answer);
    }
    let exposed = answers
        .values()
        .filter(|a| a.contains("compliance_seeker"))
        .count();
    anyhow::ensure!(
        exposed > 0,
        "no visitor in an exposed segment: check the definitions"
    );
    let mut pg = postgres::Client::connect(&args.pg_url, postgres::NoTls)
        .context("connect to PostgreSQL")?;
    pg.batch_execute(
        "DROP TABLE IF EXISTS bench_personalize;
         CREATE TABLE bench_personalize (anonymous_id text PRIMARY KEY, answer text NOT NULL);",
    )?;
    let mut text = Vec::new();
    for (anon, answer) in &answers {
        writeln!(text, "{anon}\t{}", answer.replace('\\', "\\\\"))?;
    }
    let mut copy = pg.copy_in("COPY bench_personalize (anonymous_id, answer) FROM STDIN")?;
    copy.write_all(&text)?;
    copy.finish()?;
    pg.batch_execute("ANALYZE bench_personalize")?;
    let select = pg.prepare("SELECT answer FROM bench_personalize WHERE anonymous_id = $1")?;

    let mut rng = rand::rngs::StdRng::seed_from_u64(run as u64);
    let visitors: Vec<String> = (0..args.samples)
        .map(|_| format!("anon-{}", rng.gen_range(0..args.contacts)))
        .collect();
    let mut ours = Vec::with_capacity(args.samples);
    for anon in &visitors {
        let started = Instant::now();
        let answer: Value = serde_json::from_str(&lookup(&client, &server, anon)?)?;
        ours.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(answer["segments"].is_array(), "bad answer {answer}");
    }
    let mut peer = Vec::with_capacity(args.samples);
    for anon in &visitors {
        let started = Instant::now();
        let row = pg.query_one(&select, &[anon])?;
        let answer: Value = serde_json::from_str(row.get::<_, &str>(0))?;
        peer.push(started.elapsed().as_secs_f64() * 1000.0);
        let expected: Value = serde_json::from_str(&answers[anon])?;
        anyhow::ensure!(answer == expected, "different answers for {anon}");
    }
    pg.batch_execute("DROP TABLE bench_personalize")?;
    Ok(Run { ours, peer })
}

pub(crate) fn run(args: &PersonalizeArgs) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp_millis();
    let history = history(args, now);
    let mut rows: [Vec<f64>; 4] = Default::default();
    for run in 0..args.runs {
        let Run { mut ours, mut peer } = one_run(args, &history, run)?;
        let row = [
            quantile(&mut ours, 0.5),
            quantile(&mut ours, 0.99),
            quantile(&mut peer, 0.5),
            quantile(&mut peer, 0.99),
        ];
        eprintln!(
            "run {run}: bellwether p50 {:.3} ms p99 {:.3} ms; postgres p50 {:.3} ms p99 {:.3} ms",
            row[0], row[1], row[2], row[3]
        );
        for (column, value) in rows.iter_mut().zip(row) {
            column.push(value);
        }
    }
    let [p50, p99, peer50, peer99] = rows.map(|column| Spread::of(&column));
    println!(
        "{} visitors ({} per account), {} messages loaded, {} lookups per run and side, {} runs (min / median / max)\n",
        args.contacts, args.contacts_per_account, history.len(), args.samples, args.runs
    );
    println!("| measure | Bellwether `GET /v1/personalize` (HTTP, write key, live values) | PostgreSQL primary-key lookup of the stored answer | ratio |");
    println!("|---|---|---|---|");
    for (name, ours, peer) in [("p50", p50, peer50), ("p99", p99, peer99)] {
        println!(
            "| {name} | {} | {} | {:.2}× |",
            show(ours),
            show(peer),
            ours.median / peer.median
        );
    }
    Ok(())
}

fn show(spread: Spread) -> String {
    format!(
        "{:.3} / {:.3} / {:.3} ms",
        spread.min, spread.median, spread.max
    )
}
