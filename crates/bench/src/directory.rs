//! The contacts directory and the members CSV on 100k contacts: search
//! (`GET /api/v1/contacts?q=`) and the top of a score order
//! (`?sort=score:intent`), answered from the engine's memory, beside
//! PostgreSQL answering the same questions from an indexed table (trigram
//! GIN indexes for the search, a btree for the order) in the same run;
//! then `members.csv` of a segment holding every contact, with the
//! server's resident memory sampled during the download.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::ingest::{start_server, Server};
use crate::stats::quantile;

#[derive(Debug, Args)]
pub(crate) struct DirectoryArgs {
    #[arg(long, default_value_t = 100_000)]
    contacts: usize,
    /// Requests measured per question.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// The bellwether binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/bellwether")]
    binary: std::path::PathBuf,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pg_url: String,
}

const TOKEN: &str = "bench-read-token";

const DEFINITIONS: &str = r#"
[[token]]
name = "bench"
secret = "bench-read-token"
scopes = ["read"]

[[score]]
name = "intent"
subject = "contact"
half_life = "14d"
rules = [ { on = '"Demo Requested"', points = 30 }, { on = 'page where path = "/pricing"', points = 10 } ]

[[segment]]
name = "known"
subject = "contact"
when = 'true'

[[segment]]
name = "demo_requesters"
subject = "contact"
when = 'exists("Demo Requested")'
"#;

struct Person {
    id: String,
    email: String,
    name: String,
    account: String,
    intent: f64,
}

fn people(count: usize) -> Vec<Person> {
    let firsts = ["ada", "bob", "chen", "dara", "eli", "fatima", "gus", "hana"];
    let lasts = [
        "archer", "stone", "kim", "okafor", "roy", "silva", "novak", "muller",
    ];
    (0..count)
        .map(|c| {
            let (first, last) = (firsts[c % 8], lasts[(c / 8) % 8]);
            let account = format!("company-{}.example", c / 10);
            Person {
                id: format!("user-{c}"),
                email: format!("{first}.{last}{c}@{account}"),
                name: format!("{first} {last} {c}"),
                account,
                intent: f64::from(u8::from(c % 3 == 0)) * 30.0
                    + f64::from(u8::from(c % 2 == 0)) * 10.0,
            }
        })
        .collect()
}

fn messages(people: &[Person]) -> Vec<Value> {
    let mut out = Vec::with_capacity(people.len() * 3);
    for (c, p) in people.iter().enumerate() {
        out.push(
            json!({"type": "identify", "userId": p.id, "messageId": format!("i-{c}"),
            "traits": {"email": p.email, "name": p.name}}),
        );
        if c % 3 == 0 {
            out.push(json!({"type": "track", "userId": p.id, "event": "Demo Requested", "messageId": format!("d-{c}")}));
        }
        if c % 2 == 0 {
            out.push(json!({"type": "page", "userId": p.id, "name": "Pricing",
                "properties": {"path": "/pricing"}, "messageId": format!("p-{c}")}));
        }
    }
    out
}

/// A needle that finds a few people: part of an id, email or name.
fn needle(rng: &mut rand::rngs::StdRng, count: usize) -> String {
    let c = rng.gen_range(0..count);
    match c % 3 {
        0 => format!("user-{c}"),
        1 => format!("{}@", c),
        _ => format!("company-{}.", c / 10),
    }
}

fn p50_p99(mut samples: Vec<f64>) -> String {
    let p50 = quantile(&mut samples, 0.5);
    let p99 = quantile(&mut samples, 0.99);
    format!("{p50:.1} / {p99:.1} ms")
}

fn timed(
    samples: usize,
    mut one: impl FnMut(usize) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<f64>> {
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        let started = Instant::now();
        one(i)?;
        out.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(out)
}

fn bellwether(args: &DirectoryArgs, messages: &[Value]) -> anyhow::Result<[Vec<f64>; 2]> {
    let definitions = tempfile::NamedTempFile::new()?;
    std::fs::write(definitions.path(), DEFINITIONS)?;
    let server = start_server(&args.binary, Some(&definitions.path().to_path_buf()))?;
    let loading = Instant::now();
    server.load(messages, 2000)?;
    eprintln!(
        "loaded {} messages in {:.1} s",
        messages.len(),
        loading.elapsed().as_secs_f64()
    );
    let client = reqwest::blocking::Client::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let get = |path: String| -> anyhow::Result<Value> {
        let response = client
            .get(format!("{}{path}", server.base))
            .bearer_auth(TOKEN)
            .send()?;
        anyhow::ensure!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        Ok(response.json()?)
    };
    let search = timed(args.samples, |_| {
        let found = get(format!(
            "/api/v1/contacts?limit=50&q={}",
            needle(&mut rng, args.contacts)
        ))?;
        anyhow::ensure!(
            found["matched"].as_u64().unwrap_or(0) >= 1,
            "nothing found: {found}"
        );
        Ok(())
    })?;
    let top = timed(args.samples, |_| {
        let page = get("/api/v1/contacts?limit=50&sort=score:intent".to_owned())?;
        anyhow::ensure!(page["contacts"].as_array().map_or(0, Vec::len) == 50);
        Ok(())
    })?;
    // A third of the members, then all of them: what memory a download
    // takes should not grow with the segment.
    csv_download(
        &server,
        &client,
        "demo_requesters",
        args.contacts.div_ceil(3),
    )?;
    csv_download(&server, &client, "known", args.contacts)?;
    Ok([search, top])
}

/// Resident memory of a process, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn csv_download(
    server: &Server,
    client: &reqwest::blocking::Client,
    segment: &str,
    members: usize,
) -> anyhow::Result<()> {
    let pid = server.pid();
    let before = rss_mib(pid);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = std::sync::Arc::clone(&done);
        std::thread::spawn(move || {
            let mut peak: f64 = 0.0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                peak = peak.max(rss_mib(pid));
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        })
    };
    let started = Instant::now();
    let mut response = client
        .get(format!(
            "{}/api/v1/segments/{segment}/members.csv",
            server.base
        ))
        .bearer_auth(TOKEN)
        .send()?;
    let mut body = Vec::new();
    response.read_to_end(&mut body)?;
    let elapsed = started.elapsed().as_secs_f64();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let peak = sampler
        .join()
        .map_err(|_| anyhow::anyhow!("sampler panicked"))?;
    let rows = body
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        .saturating_sub(1);
    anyhow::ensure!(rows == members, "{rows} CSV rows for {members} members");
    println!(
        "| members.csv, {members} members | {:.2} s, {:.1} MB | server RSS {before:.0} MiB before, peak {peak:.0} MiB during (+{:.1} MiB) |",
        elapsed,
        body.len() as f64 / 1e6,
        (peak - before).max(0.0)
    );
    Ok(())
}

fn postgres(args: &DirectoryArgs, people: &[Person]) -> anyhow::Result<[Vec<f64>; 2]> {
    let mut client = postgres::Client::connect(&args.pg_url, postgres::NoTls)
        .context("connect to PostgreSQL")?;
    client.batch_execute(
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;
         DROP TABLE IF EXISTS bench_directory;
         CREATE TABLE bench_directory (id text PRIMARY KEY, email text, name text,
           account_id text, intent double precision NOT NULL);",
    )?;
    let mut text = Vec::new();
    for p in people {
        writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}",
            p.id, p.email, p.name, p.account, p.intent
        )?;
    }
    let mut copy = client.copy_in("COPY bench_directory FROM STDIN")?;
    copy.write_all(&text)?;
    copy.finish()?;
    client.batch_execute(
        "CREATE INDEX ON bench_directory USING gin (id gin_trgm_ops);
         CREATE INDEX ON bench_directory USING gin (email gin_trgm_ops);
         CREATE INDEX ON bench_directory USING gin (name gin_trgm_ops);
         CREATE INDEX ON bench_directory USING gin (account_id gin_trgm_ops);
         CREATE INDEX ON bench_directory (intent DESC, id);
         ANALYZE bench_directory;",
    )?;
    let search_sql = client.prepare(
        "SELECT id, email, name, account_id, intent FROM bench_directory
         WHERE id ILIKE $1 OR email ILIKE $1 OR name ILIKE $1 OR account_id ILIKE $1
         ORDER BY id LIMIT 50",
    )?;
    let top_sql = client.prepare(
        "SELECT id, email, name, account_id, intent FROM bench_directory
         ORDER BY intent DESC, id LIMIT 50",
    )?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let search = timed(args.samples, |_| {
        let pattern = format!("%{}%", needle(&mut rng, args.contacts));
        let rows = client.query(&search_sql, &[&pattern])?;
        anyhow::ensure!(!rows.is_empty(), "nothing found for {pattern}");
        Ok(())
    })?;
    let top = timed(args.samples, |_| {
        anyhow::ensure!(client.query(&top_sql, &[])?.len() == 50);
        Ok(())
    })?;
    client.batch_execute("DROP TABLE bench_directory")?;
    Ok([search, top])
}

pub(crate) fn run(args: &DirectoryArgs) -> anyhow::Result<()> {
    let people = people(args.contacts);
    let messages = messages(&people);
    let [b_search, b_top] = bellwether(args, &messages)?;
    let [p_search, p_top] = postgres(args, &people)?;
    println!(
        "| question ({} contacts, {} requests) | Bellwether p50 / p99 (HTTP, engine memory) | PostgreSQL p50 / p99 (indexed table, no HTTP) |",
        args.contacts, args.samples
    );
    println!("|---|---|---|");
    println!(
        "| search id, email, name, domain (`q=`) | {} | {} |",
        p50_p99(b_search),
        p50_p99(p_search)
    );
    println!(
        "| top 50 by intent (`sort=score:intent`) | {} | {} |",
        p50_p99(b_top),
        p50_p99(p_top)
    );
    Ok(())
}
