//! Time-driven transitions: `contacts` contacts each click once, so each has
//! a pending timer for the instant its click leaves `last 5s`; the engine's
//! timer thread fires them on the wall clock. Lag = when the change was
//! published − its exact instant. Peer: a polling system can do no better
//! than one full rescan, so PostgreSQL times the same expiry query over the
//! same contacts. Also reports resident memory per contact and per event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bellwether_core::clock::{Clock, SystemClock};
use bellwether_core::engine::{Engine, Transition};
use bellwether_core::identity::{IdentityConfig, IdentityGraph};
use bellwether_core::message::{Message, MessageKind, StoredEvent};
use bellwether_core::pipeline::EngineHandle;
use bellwether_core::store::WriteOp;
use bellwether_rules::RuleSet;
use clap::Args;

use crate::stats::{quantile, Spread};

const DEFINITIONS: &str = r#"
[[segment]]
name = "just_clicked"
subject = "contact"
when = 'count("Clicked", last 5s) >= 1'
"#;

#[derive(Debug, Args)]
pub(crate) struct TimersArgs {
    /// Contacts, each with one pending timer.
    #[arg(long, default_value_t = 100_000)]
    contacts: usize,
    /// Events per contact (for the memory figure).
    #[arg(long, default_value_t = 20)]
    events_per_contact: usize,
    #[arg(long, default_value_t = 3)]
    runs: usize,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pg_url: String,
}

fn message(user: usize, n: usize, event: &str, at: i64) -> Message {
    Message {
        source: "bench".into(),
        message_id: format!("{user}-{n}"),
        kind: MessageKind::Track,
        user_id: Some(format!("user-{user}")),
        anonymous_id: None,
        previous_id: None,
        group_id: None,
        event: Some(event.to_owned()),
        properties: serde_json::Map::new(),
        traits: serde_json::Map::new(),
        context: serde_json::Map::new(),
        timestamp: at,
        received_at: at,
        sent_at: None,
        original_timestamp: None,
    }
}

/// Writes for `contacts` contacts with `events_per_contact − 1` old page
/// views each; the graph is kept to resolve the clicks later.
fn history(args: &TimersArgs, now: i64, graph: &mut IdentityGraph) -> Vec<WriteOp> {
    let mut ops = Vec::new();
    for user in 0..args.contacts {
        for n in 1..args.events_per_contact {
            let message = message(user, n, "Page Viewed", now - 86_400_000 + n as i64);
            let seq = (user * args.events_per_contact + n) as i64;
            let contact_id = graph.resolve(&message, seq, &mut ops);
            ops.push(WriteOp::Event(StoredEvent {
                seq,
                contact_id,
                message,
            }));
        }
    }
    ops
}

/// One click per contact, spread over the second after `now`.
fn clicks(args: &TimersArgs, now: i64, graph: &mut IdentityGraph) -> Vec<WriteOp> {
    let mut ops = Vec::new();
    for user in 0..args.contacts {
        let message = message(
            user,
            0,
            "Clicked",
            now + (user as i64 * 1000) / args.contacts as i64,
        );
        let seq = (user * args.events_per_contact) as i64;
        let contact_id = graph.resolve(&message, seq, &mut ops);
        ops.push(WriteOp::Event(StoredEvent {
            seq,
            contact_id,
            message,
        }));
    }
    ops
}

fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

struct Run {
    sampled: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    bytes_per_contact: f64,
}

fn bellwether_run(args: &TimersArgs) -> anyhow::Result<Run> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut graph = IdentityGraph::new(IdentityConfig::default());
    let old = history(args, clock.now_ms(), &mut graph);
    // Clicks stamped now: their exits fall 5 s to 6 s from now.
    let new = clicks(args, clock.now_ms(), &mut graph);
    // Both batches of writes exist before the baseline: only the engine's
    // own growth is measured.
    let before = resident_bytes();
    let rules =
        RuleSet::from_toml("bench.toml", DEFINITIONS).map_err(|d| anyhow::anyhow!(d.render()))?;
    let mut engine = Engine::new(Arc::new(rules));
    engine.apply(&old, clock.now_ms());
    engine.apply(&new, clock.now_ms());
    // Measured before the writes are freed, so freed pages cannot hide engine memory.
    let bytes_per_contact = resident_bytes().saturating_sub(before) as f64 / args.contacts as f64;
    drop((old, new));
    anyhow::ensure!(
        engine.pending_timers() == args.contacts,
        "expected one timer per contact"
    );
    let handle = EngineHandle::new(engine, clock.clone());
    let mut changes = handle.subscribe();
    let timers = handle.spawn_timers()?;
    let mut lags = Vec::with_capacity(args.contacts);
    let mut missed_changes = 0u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while lags.len() + (missed_changes as usize) < args.contacts && Instant::now() < deadline {
        match changes.try_recv() {
            Ok(change) if change.change == Transition::Exited => {
                lags.push((clock.now_ms() - change.at) as f64)
            }
            Ok(_) => {}
            // A burst overflowed the stream buffer: measure the exits received.
            Err(tokio::sync::broadcast::error::TryRecvError::Lagged(missed)) => {
                missed_changes += missed
            }
            Err(_) => std::thread::sleep(Duration::from_micros(200)),
        }
    }
    handle.stop();
    timers
        .join()
        .map_err(|_| anyhow::anyhow!("timer thread panicked"))?;
    anyhow::ensure!(
        lags.len() >= args.contacts / 10,
        "only {} exits observed",
        lags.len()
    );
    let sampled = lags.len();
    Ok(Run {
        sampled,
        p50_ms: quantile(&mut lags, 0.5),
        p99_ms: quantile(&mut lags, 0.99),
        max_ms: quantile(&mut lags, 1.0),
        bytes_per_contact,
    })
}

/// One rescan: which contacts' last click left the window, over all contacts.
fn postgres_rescan_ms(args: &TimersArgs) -> anyhow::Result<Vec<f64>> {
    let mut client = postgres::Client::connect(&args.pg_url, postgres::NoTls)
        .context("connect to PostgreSQL")?;
    client.batch_execute(
        "DROP TABLE IF EXISTS bench_clicks;
         CREATE TABLE bench_clicks (user_id text NOT NULL, event text NOT NULL, timestamp_ms bigint NOT NULL);",
    )?;
    let now = SystemClock.now_ms();
    let mut writer =
        client.copy_in("COPY bench_clicks (user_id, event, timestamp_ms) FROM STDIN")?;
    for user in 0..args.contacts {
        std::io::Write::write_all(
            &mut writer,
            format!("user-{user}\tClicked\t{}\n", now + user as i64 % 1000).as_bytes(),
        )?;
    }
    writer.finish()?;
    client.batch_execute(
        "CREATE INDEX ON bench_clicks (user_id, timestamp_ms); ANALYZE bench_clicks;",
    )?;
    let mut times = Vec::new();
    for _ in 0..args.runs {
        let started = Instant::now();
        let rows = client.query(
            "SELECT user_id FROM bench_clicks WHERE event = 'Clicked' GROUP BY user_id
             HAVING max(timestamp_ms) <= $1::bigint - 5000",
            &[&(now + 6000)],
        )?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            rows.len() == args.contacts,
            "the rescan found {} expiries",
            rows.len()
        );
    }
    client.batch_execute("DROP TABLE bench_clicks")?;
    Ok(times)
}

pub(crate) fn run(args: &TimersArgs) -> anyhow::Result<()> {
    let rescans = postgres_rescan_ms(args)?;
    let mut runs = Vec::new();
    for run in 0..args.runs {
        let result = bellwether_run(args)?;
        eprintln!(
            "run {run}: {} exits sampled; lag p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {:.0} B per contact",
            result.sampled,
            result.p50_ms, result.p99_ms, result.max_ms, result.bytes_per_contact
        );
        runs.push(result);
    }
    let pick = |f: fn(&Run) -> f64| Spread::of(&runs.iter().map(f).collect::<Vec<_>>());
    let rescan = Spread::of(&rescans);
    println!(
        "{} contacts with one pending timer each, {} runs (min / median / max)\n",
        args.contacts, args.runs
    );
    println!(
        "| measure | Bellwether timers | PostgreSQL full rescan (best case for polling) | ratio |"
    );
    println!("|---|---|---|---|");
    println!(
        "| p99 lag of a time-driven exit | {} | {} | {:.3}× |",
        pick(|r| r.p99_ms).show("ms"),
        rescan.show("ms"),
        pick(|r| r.p99_ms).median / rescan.median
    );
    println!("| p50 lag | {} | | |", pick(|r| r.p50_ms).show("ms"));
    println!("| max lag | {} | | |", pick(|r| r.max_ms).show("ms"));
    // Only the first run starts from a fresh heap; later runs reuse freed pages.
    let per_contact = runs.first().map_or(0.0, |r| r.bytes_per_contact);
    println!(
        "\nEngine resident memory (first run, fresh heap): {:.0} B per contact with {} events ({:.0} B per contact-event)",
        per_contact,
        args.events_per_contact,
        per_contact / args.events_per_contact as f64
    );
    Ok(())
}
