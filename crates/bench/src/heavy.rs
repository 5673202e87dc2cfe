//! One heavy contact: the cost of an event as the contact's history grows.
//!
//! A product-led user with years of events. Its history arrives in batches
//! of 500 through `/v1/batch`, either in time order (`in order`) or behind
//! one live event (`late`: every batch is older than what is already
//! stored: history imported behind live traffic, an offline queue flushed).
//! At 1k, 10k, 60k and 200k events we report the acknowledged cost per
//! event of the next batches (median of five; durable + the contact and its account
//! re-evaluated against every definition) and the p50 of single
//! `/v1/track` calls. Bellwether's cost should not grow with the history.
//!
//! Peer: PostgreSQL doing the same work the way a database would: each
//! batch inserted durably in one transaction, then the contact's intent
//! score and pricing-view count recomputed in SQL over its history (indexed
//! on (user, time)), a lower bound for the 15 definitions.

use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};

use crate::ingest::{start_server, Server, WRITE_KEY};
use crate::stats::quantile;

#[derive(Debug, Args)]
pub(crate) struct HeavyArgs {
    /// History sizes at which the cost is measured.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,60000,200000")]
    sizes: Vec<usize>,
    /// Single `/v1/track` calls timed at each size.
    #[arg(long, default_value_t = 30)]
    singles: usize,
    /// The bellwether binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/bellwether")]
    binary: std::path::PathBuf,
    /// The definitions to run live.
    #[arg(long, default_value = "examples/b2b.toml")]
    definitions: std::path::PathBuf,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pg_url: String,
    /// Send the user id alone. By default every message also carries the
    /// browser's anonymous id, as analytics.js sends it: each one claims
    /// the browser for the user in the identity graph.
    #[arg(long)]
    user_id_only: bool,
}

const BATCH: usize = 500;
/// Batches timed at each size (the median is reported).
const TIMED_BATCHES: usize = 5;
/// One event every 5 minutes: 200k events span about two years.
const SPACING_MS: i64 = 300_000;
const USER: &str = "heavy-user";
const BROWSER: &str = "heavy-user-browser";
const FEATURES: [&str; 5] = ["campaigns", "reports", "automations", "api", "sso"];

fn stamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// With the browser's anonymous id unless `user_id_only`.
fn from_browser(mut message: Value, args: &HeavyArgs) -> Value {
    if !args.user_id_only {
        message["anonymousId"] = json!(BROWSER);
    }
    message
}

/// The i-th event of the history (a product user's mix), at `at`.
fn event(i: usize, at: i64, tag: &str, args: &HeavyArgs) -> Value {
    from_browser(history_event(i, at, tag), args)
}

fn history_event(i: usize, at: i64, tag: &str) -> Value {
    let id = format!("{tag}-{i}");
    match i % 8 {
        0 => json!({"type": "page", "userId": USER, "messageId": id, "timestamp": stamp(at),
                    "properties": {"path": if i.is_multiple_of(16) { "/pricing" } else { "/blog/post" }}}),
        1 | 2 => json!({"type": "track", "userId": USER, "event": "Email Opened", "messageId": id,
                    "timestamp": stamp(at), "properties": {"email_id": format!("e{}", i / 40)}}),
        3 => json!({"type": "track", "userId": USER, "event": "Email Sent", "messageId": id,
                    "timestamp": stamp(at), "properties": {"email_id": format!("e{}", i / 40)}}),
        4 => json!({"type": "track", "userId": USER, "event": "Logged In", "messageId": id,
                    "timestamp": stamp(at)}),
        _ => {
            let feature = FEATURES[i % FEATURES.len()];
            json!({"type": "track", "userId": USER, "event": "Feature Used", "messageId": id,
                   "timestamp": stamp(at), "properties": {"feature": feature}})
        }
    }
}

/// What one size measured.
struct Point {
    per_event_us: f64,
    single_ms: f64,
}

fn post(
    client: &reqwest::blocking::Client,
    server: &Server,
    path: &str,
    body: &Value,
) -> anyhow::Result<()> {
    loop {
        let response = client
            .post(format!("{}{path}", server.base))
            .basic_auth(WRITE_KEY, Some(""))
            .json(body)
            .send()?;
        match response.status().as_u16() {
            429 => std::thread::sleep(std::time::Duration::from_millis(5)),
            200 => return Ok(()),
            status => anyhow::bail!("{path} failed with status {status}"),
        }
    }
}

/// Feeds the history batch by batch; at each size, times the next
/// batches (per event, median) and single tracks. `late`: batches arrive newest first,
/// behind a live event.
fn bellwether_curve(args: &HeavyArgs, late: bool, now: i64) -> anyhow::Result<Vec<Point>> {
    let server = start_server(&args.binary, Some(&args.definitions))?;
    let client = reqwest::blocking::Client::new();
    let total =
        args.sizes.iter().copied().max().unwrap_or(0) + BATCH * TIMED_BATCHES * args.sizes.len();
    let start = now - total as i64 * SPACING_MS;
    // Late: a live event first, then history behind it, newest batch first.
    if late {
        post(
            &client,
            &server,
            "/v1/track",
            &from_browser(
                json!({"userId": USER, "event": "Logged In",
                       "messageId": "live-0", "timestamp": stamp(now)}),
                args,
            ),
        )?;
    }
    let time_of = |i: usize| -> i64 {
        match late {
            // Batch b holds the b-th newest slice of the history.
            true => {
                let (b, k) = (i / BATCH, i % BATCH);
                now - ((b + 1) * BATCH) as i64 * SPACING_MS + k as i64 * SPACING_MS
            }
            false => start + i as i64 * SPACING_MS,
        }
    };
    let tag = if late { "late" } else { "hist" };
    let (mut sent, mut points) = (0usize, Vec::new());
    let mut singles = 0usize;
    for &size in &args.sizes {
        while sent < size {
            let batch: Vec<Value> = (sent..(sent + BATCH).min(size))
                .map(|i| event(i, time_of(i), tag, args))
                .collect();
            post(&client, &server, "/v1/batch", &json!({ "batch": batch }))?;
            sent += batch.len();
        }
        let mut timed = Vec::with_capacity(TIMED_BATCHES);
        for _ in 0..TIMED_BATCHES {
            let batch: Vec<Value> = (sent..sent + BATCH)
                .map(|i| event(i, time_of(i), tag, args))
                .collect();
            let started = Instant::now();
            post(&client, &server, "/v1/batch", &json!({ "batch": batch }))?;
            timed.push(started.elapsed().as_secs_f64() * 1e6 / BATCH as f64);
            sent += BATCH;
        }
        let per_event_us = quantile(&mut timed, 0.5);
        let mut single = Vec::with_capacity(args.singles);
        for _ in 0..args.singles {
            singles += 1;
            // In order: right after the history; late: at the live edge.
            let at = if late {
                now + singles as i64
            } else {
                time_of(sent) + singles as i64
            };
            let body = from_browser(
                json!({"userId": USER, "event": "Feature Used", "properties": {"feature": "api"},
                       "messageId": format!("single-{singles}"), "timestamp": stamp(at)}),
                args,
            );
            let started = Instant::now();
            post(&client, &server, "/v1/track", &body)?;
            single.push(started.elapsed().as_secs_f64() * 1e3);
        }
        let single_ms = quantile(&mut single, 0.5);
        eprintln!(
            "{tag}: {size} events: {per_event_us:.1} µs/event, single track p50 {single_ms:.2} ms"
        );
        points.push(Point {
            per_event_us,
            single_ms,
        });
    }
    Ok(points)
}

/// PostgreSQL: the same in-order history, each batch inserted durably and
/// the contact's score and count recomputed over its history.
fn postgres_curve(args: &HeavyArgs, now: i64) -> anyhow::Result<Vec<Point>> {
    let mut client = postgres::Client::connect(&args.pg_url, postgres::NoTls)
        .context("connect to PostgreSQL")?;
    client.batch_execute(
        "DROP TABLE IF EXISTS bench_heavy;
         CREATE TABLE bench_heavy (seq bigserial PRIMARY KEY, message_id text UNIQUE NOT NULL,
           type text NOT NULL, event text, user_id text NOT NULL, ts bigint NOT NULL, path text);
         CREATE INDEX ON bench_heavy (user_id, ts);",
    )?;
    let insert = client.prepare(
        "INSERT INTO bench_heavy (message_id, type, event, user_id, ts, path)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[])",
    )?;
    let recompute = client.prepare(
        "SELECT coalesce(sum(CASE WHEN type = 'page' AND path = '/pricing' THEN 10
                                  WHEN event = 'Demo Requested' THEN 30 ELSE 0 END
                             * power(2::float8, (ts - $2::bigint)::float8 / 1209600000)), 0)::float8,
                count(*) FILTER (WHERE type = 'page' AND path = '/pricing' AND ts > $2::bigint - 604800000)
         FROM bench_heavy WHERE user_id = $1 AND ts <= $2::bigint",
    )?;
    let total =
        args.sizes.iter().copied().max().unwrap_or(0) + BATCH * TIMED_BATCHES * args.sizes.len();
    let start = now - total as i64 * SPACING_MS;
    let write = |client: &mut postgres::Client, from: usize, to: usize| -> anyhow::Result<()> {
        let rows: Vec<Value> = (from..to)
            .map(|i| history_event(i, start + i as i64 * SPACING_MS, "pg"))
            .collect();
        let text = |m: &Value, k: &str| m[k].as_str().map(str::to_owned);
        let ids: Vec<Option<String>> = rows.iter().map(|m| text(m, "messageId")).collect();
        let types: Vec<Option<String>> = rows.iter().map(|m| text(m, "type")).collect();
        let events: Vec<Option<String>> = rows.iter().map(|m| text(m, "event")).collect();
        let users: Vec<Option<String>> = rows.iter().map(|m| text(m, "userId")).collect();
        let times: Vec<i64> = (from..to).map(|i| start + i as i64 * SPACING_MS).collect();
        let paths: Vec<Option<String>> = rows
            .iter()
            .map(|m| m["properties"]["path"].as_str().map(str::to_owned))
            .collect();
        let mut tx = client.transaction()?;
        tx.execute(&insert, &[&ids, &types, &events, &users, &times, &paths])?;
        tx.commit()?;
        Ok(())
    };
    let (mut sent, mut points) = (0usize, Vec::new());
    for &size in &args.sizes {
        if sent < size {
            write(&mut client, sent, size)?;
            sent = size;
        }
        client.batch_execute("ANALYZE bench_heavy")?;
        let mut timed = Vec::with_capacity(TIMED_BATCHES);
        for _ in 0..TIMED_BATCHES {
            let started = Instant::now();
            write(&mut client, sent, sent + BATCH)?;
            sent += BATCH;
            let at = start + sent as i64 * SPACING_MS;
            client.query_one(&recompute, &[&USER, &at])?;
            timed.push(started.elapsed().as_secs_f64() * 1e6 / BATCH as f64);
        }
        let per_event_us = quantile(&mut timed, 0.5);
        let mut single = Vec::with_capacity(args.singles);
        for _ in 0..args.singles {
            let started = Instant::now();
            write(&mut client, sent, sent + 1)?;
            sent += 1;
            client.query_one(&recompute, &[&USER, &(start + sent as i64 * SPACING_MS)])?;
            single.push(started.elapsed().as_secs_f64() * 1e3);
        }
        let single_ms = quantile(&mut single, 0.5);
        eprintln!(
            "postgres: {size} events: {per_event_us:.1} µs/event, single p50 {single_ms:.2} ms"
        );
        points.push(Point {
            per_event_us,
            single_ms,
        });
    }
    client.batch_execute("DROP TABLE bench_heavy")?;
    Ok(points)
}

pub(crate) fn run(args: &HeavyArgs) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp_millis();
    let in_order = bellwether_curve(args, false, now)?;
    let late = bellwether_curve(args, true, now)?;
    let peer = postgres_curve(args, now)?;
    let ids = match args.user_id_only {
        true => "the user id alone",
        false => "the user id and the browser's anonymous id",
    };
    println!("One contact, history in batches of {BATCH} through /v1/batch (an event every 5 min: 200k ≈ 2 years; each message with {ids}); per-event cost of the next batch, and single /v1/track p50\n");
    println!("| events in the contact | in order µs/event | late µs/event | single track p50 | PostgreSQL µs/event (insert + recompute) | PostgreSQL single p50 | in order / PostgreSQL |");
    println!("|---|---|---|---|---|---|---|");
    for (i, size) in args.sizes.iter().enumerate() {
        let (a, b, p) = (&in_order[i], &late[i], &peer[i]);
        println!(
            "| {size} | {:.1} | {:.1} | {:.2} ms | {:.1} | {:.2} ms | {:.2}× |",
            a.per_event_us,
            b.per_event_us,
            a.single_ms,
            p.per_event_us,
            p.single_ms,
            a.per_event_us / p.per_event_us
        );
    }
    if let (Some(first), Some(last)) = (in_order.first(), in_order.last()) {
        println!(
            "\nLast / first: in order {:.2}×, late {:.2}×, single track {:.2}×",
            last.per_event_us / first.per_event_us,
            late.last().map_or(0.0, |l| l.per_event_us)
                / late.first().map_or(1.0, |f| f.per_event_us),
            last.single_ms / first.single_ms
        );
    }
    Ok(())
}
