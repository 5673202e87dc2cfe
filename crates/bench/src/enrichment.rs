//! Enrichment on the ingest path: the same stream (work-email identifies
//! that create accounts, page views from office addresses) through
//! `/v1/batch` without tables and with 100k domains and 1M networks
//! loaded, in the same run; and the lookup itself beside PostgreSQL doing
//! it (a primary-key read of the domain, a GiST `inet` containment probe
//! for the network).

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};

use crate::ingest::{drive, start_server_with};
use crate::stats::Spread;

#[derive(Debug, Args)]
pub(crate) struct EnrichmentArgs {
    /// Messages per run.
    #[arg(long, default_value_t = 200_000)]
    events: usize,
    /// Rows of the domain table.
    #[arg(long, default_value_t = 100_000)]
    domains: usize,
    /// Networks of the IP table.
    #[arg(long, default_value_t = 1_000_000)]
    networks: usize,
    /// Messages per `/v1/batch` request.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Runs per configuration (alternating, median reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Lookups timed in the lookup comparison.
    #[arg(long, default_value_t = 20_000)]
    lookups: usize,
    #[arg(long, default_value = "target/release/bellwether")]
    binary: PathBuf,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pg_url: String,
}

const TABLES: &str = r#"
[[enrichment]]
kind = "domains"
file = "companies.csv"

[[enrichment]]
kind = "ip"
file = "ranges.csv"
"#;

fn domain(n: usize) -> String {
    format!("company-{n}.example.com")
}

/// Network `n`: the `n`-th /24 from 11.0.0.0.
fn network(n: usize) -> Ipv4Addr {
    Ipv4Addr::from(0x0B00_0000u32 + (n as u32) * 256)
}

fn companies_csv(rows: usize) -> String {
    let mut text = String::from("domain,industry,employees,country\n");
    for n in 0..rows {
        let _ = writeln!(text, "{},software,{},US", domain(n), 10 + n % 5000);
    }
    text
}

fn ranges_csv(networks: usize, domains: usize) -> String {
    let mut text = String::from("network,domain\n");
    for n in 0..networks {
        let _ = writeln!(text, "{}/24,{}", network(n), domain(n % domains));
    }
    text
}

/// One message in ten identifies a contact with a work email (a new
/// account for the first contacts of a domain); the rest are page views,
/// half from 50,000 anonymous visitors, each at one office address. With
/// `matching` false, the domains and addresses are ones no table lists:
/// the same lookups, none of their consequences.
fn messages(args: &EnrichmentArgs, run: usize, matching: bool) -> Vec<Value> {
    let domain = |n: usize| match matching {
        true => domain(n),
        false => format!("unlisted-{n}.example.org"),
    };
    // 100.0.0.0/8 holds none of the networks (they start at 11.0.0.0).
    let shift = if matching {
        0
    } else {
        0x6400_0000 - 0x0B00_0000
    };
    (0..args.events)
        .map(|i| {
            let id = format!("r{run}-m{i}");
            let at = format!("2026-11-01T{:02}:{:02}:{:02}.{:03}Z", (i / 3_600_000) % 24, (i / 60_000) % 60, (i / 1000) % 60, i % 1000);
            // A visitor browses from one office: its address follows its id.
            let visitor = i % 50_000;
            let address = network((visitor * 7919) % args.networks).to_bits() + shift + 1 + (visitor % 250) as u32;
            let ip = Ipv4Addr::from(address).to_string();
            match i % 10 {
                0 => json!({"type": "identify", "userId": format!("u{run}-{i}"), "messageId": id, "timestamp": at,
                    "traits": {"email": format!("p{i}@{}", domain(i % args.domains))}}),
                n if n % 2 == 1 => json!({"type": "page", "anonymousId": format!("v{run}-{visitor}"), "messageId": id,
                    "timestamp": at, "name": "Pricing", "properties": {"path": "/pricing"}, "context": {"ip": ip}}),
                _ => json!({"type": "page", "userId": format!("u{run}-{}", i / 10 * 10), "messageId": id, "timestamp": at,
                    "name": "Docs", "properties": {"path": "/docs"}, "context": {"ip": ip}}),
            }
        })
        .collect()
}

pub(crate) fn run(args: &EnrichmentArgs) -> anyhow::Result<()> {
    let companies = companies_csv(args.domains);
    let ranges = ranges_csv(args.networks, args.domains);
    let with_tables = |dir: &std::path::Path| -> anyhow::Result<()> {
        std::fs::write(dir.join("companies.csv"), &companies)?;
        std::fs::write(dir.join("ranges.csv"), &ranges)?;
        Ok(())
    };
    // (label, tables loaded, stream matches them)
    let setups = [
        ("no enrichment tables", false, true),
        (
            "both tables loaded, nothing matches (the lookups alone)",
            true,
            false,
        ),
        (
            "both tables loaded, every domain and address matches",
            true,
            true,
        ),
    ];
    let mut results: Vec<Vec<crate::ingest::IngestRun>> =
        setups.iter().map(|_| Vec::new()).collect();
    let mut load_seconds = Vec::new();
    for run in 0..args.runs {
        for (index, (label, tables, matching)) in setups.iter().enumerate() {
            let stream = messages(args, run, *matching);
            let started = Instant::now();
            let server = match tables {
                true => start_server_with(&args.binary, TABLES, with_tables)?,
                false => start_server_with(&args.binary, "", |_| Ok(()))?,
            };
            if *tables {
                load_seconds.push(started.elapsed().as_secs_f64());
            }
            let result = drive(&server, &stream, args.batch, args.clients)?;
            eprintln!(
                "run {run}: {label}: {:.0} ev/s, p99 {:.1} ms",
                result.events_per_sec, result.p99_ms
            );
            results[index].push(result);
        }
    }
    let spread = |runs: &[crate::ingest::IngestRun], pick: fn(&crate::ingest::IngestRun) -> f64| {
        Spread::of(&runs.iter().map(pick).collect::<Vec<_>>())
    };
    let baseline = spread(&results[0], |r| r.events_per_sec).median;
    println!(
        "{} messages per run ({} clients, batches of {}), {} runs (min / median / max); tables: {} domains, {} networks\n",
        args.events, args.clients, args.batch, args.runs, args.domains, args.networks
    );
    println!("| ingest | throughput | ack p50 / p99 (median run) | ratio |");
    println!("|---|---|---|---|");
    for ((label, _, _), runs) in setups.iter().zip(&results) {
        let rate = spread(runs, |r| r.events_per_sec);
        println!(
            "| {label} | {} | {:.1} / {:.1} ms | {:.2}× |",
            rate.show("ev/s"),
            spread(runs, |r| r.p50_ms).median,
            spread(runs, |r| r.p99_ms).median,
            rate.median / baseline
        );
    }
    println!(
        "\nStart with both tables (read, indexed, serving): median {:.2} s.\n",
        Spread::of(&load_seconds).median
    );
    lookups(args, &companies, &ranges)
}

/// The lookups alone: Bellwether's in-process tables vs PostgreSQL.
fn lookups(args: &EnrichmentArgs, companies: &str, ranges: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("companies.csv"), companies)?;
    std::fs::write(dir.path().join("ranges.csv"), ranges)?;
    #[derive(serde::Deserialize)]
    struct File {
        enrichment: Vec<bellwether_enrich::EnrichmentConfig>,
    }
    let configs = toml::from_str::<File>(TABLES)?.enrichment;
    let started = Instant::now();
    let tables = bellwether_enrich::Enrichment::load(&configs, dir.path())?;
    let bellwether_load = started.elapsed().as_secs_f64();
    let probes: Vec<(String, Ipv4Addr)> = (0..args.lookups)
        .map(|i| {
            let n = (i * 104_729) % args.networks;
            (
                domain(i % args.domains),
                Ipv4Addr::from(network(n).to_bits() + 9),
            )
        })
        .collect();
    let started = Instant::now();
    let mut found = 0usize;
    for (domain, ip) in &probes {
        found += usize::from(tables.traits_for(domain).is_some());
        found += usize::from(tables.reveal(IpAddr::V4(*ip)).is_some());
    }
    let bellwether_us = started.elapsed().as_secs_f64() * 1e6 / probes.len() as f64;
    anyhow::ensure!(found == 2 * probes.len(), "every probe should match");

    let mut client = postgres::Client::connect(&args.pg_url, postgres::NoTls)
        .context("connect to PostgreSQL")?;
    let started = Instant::now();
    client.batch_execute(
        "DROP TABLE IF EXISTS bench_companies, bench_networks;
         CREATE TABLE bench_companies (domain text PRIMARY KEY, industry text, employees int, country text);
         CREATE TABLE bench_networks (network inet NOT NULL, domain text NOT NULL);",
    )?;
    let mut copy =
        client.copy_in("COPY bench_companies FROM STDIN WITH (FORMAT csv, HEADER true)")?;
    std::io::Write::write_all(&mut copy, companies.as_bytes())?;
    copy.finish()?;
    let mut copy =
        client.copy_in("COPY bench_networks FROM STDIN WITH (FORMAT csv, HEADER true)")?;
    std::io::Write::write_all(&mut copy, ranges.as_bytes())?;
    copy.finish()?;
    client.batch_execute(
        "CREATE INDEX ON bench_networks USING gist (network inet_ops); ANALYZE bench_networks;",
    )?;
    let postgres_load = started.elapsed().as_secs_f64();
    let company = client
        .prepare("SELECT industry, employees, country FROM bench_companies WHERE domain = $1")?;
    let containing = client.prepare(
        "SELECT domain FROM bench_networks WHERE network >>= $1::inet ORDER BY masklen(network) DESC LIMIT 1",
    )?;
    let started = Instant::now();
    let mut found = 0usize;
    for (domain, ip) in &probes {
        found += client.query_opt(&company, &[domain])?.map_or(0, |_| 1);
        let address = IpAddr::V4(*ip);
        found += client.query_opt(&containing, &[&address])?.map_or(0, |_| 1);
    }
    let postgres_us = started.elapsed().as_secs_f64() * 1e6 / probes.len() as f64;
    client.batch_execute("DROP TABLE bench_companies, bench_networks")?;
    anyhow::ensure!(
        found == 2 * probes.len(),
        "PostgreSQL should match every probe"
    );
    println!(
        "| lookup (domain traits + network of an address) | per probe | tables loaded in | ratio |"
    );
    println!("|---|---|---|---|");
    println!(
        "| Bellwether, in process | {bellwether_us:.2} µs | {bellwether_load:.2} s | {:.3}× |",
        bellwether_us / postgres_us
    );
    println!("| PostgreSQL, PK + GiST `inet`, prepared, one client | {postgres_us:.1} µs | {postgres_load:.2} s (COPY + index) | 1.00× |");
    Ok(())
}
