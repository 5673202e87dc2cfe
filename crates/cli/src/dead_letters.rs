//! `bellwether dead-letters`: the deliveries that ran out of attempts, and
//! putting them back in the queue. Works on the store directly, so it also
//! works while the server is down; a running server's dispatcher picks the
//! replayed deliveries up within a second.

use std::process::ExitCode;

use anyhow::Context;
use bellwether_core::store::{DeliveryFilter, DeliveryState};
use bellwether_core::{Clock, SystemClock};
use bellwether_server::segment::format_timestamp;
use clap::Args;

use crate::settings::StoreArgs;

#[derive(Debug, Args)]
pub(crate) struct DeadLetterArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Only this destination's.
    #[arg(long)]
    pub(crate) destination: Option<String>,
    /// Put these dead letters (webhook ids) back in the queue.
    #[arg(long, num_args = 1.., value_name = "WEBHOOK_ID")]
    pub(crate) replay: Vec<String>,
    /// Put every dead letter back in the queue.
    #[arg(long, conflicts_with = "replay")]
    pub(crate) replay_all: bool,
    /// How many to list.
    #[arg(long, default_value_t = 50)]
    pub(crate) limit: usize,
}

pub(crate) fn run(args: DeadLetterArgs) -> anyhow::Result<ExitCode> {
    let loaded = args.store.load()?;
    let store = args.store.open_store(&loaded.config)?;
    let now = SystemClock.now_ms();
    if args.replay_all || !args.replay.is_empty() {
        let ids = (!args.replay_all).then_some(args.replay.as_slice());
        let replayed = store
            .replay_dead(ids, now)
            .context("cannot replay dead letters")?;
        println!("{replayed} dead letter(s) back in the queue");
        if replayed < args.replay.len() {
            eprintln!(
                "{} of the given ids are not dead letters",
                args.replay.len() - replayed
            );
            return Ok(ExitCode::FAILURE);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let filter = DeliveryFilter {
        destination: args.destination.clone(),
        state: Some(DeliveryState::Dead),
        ..DeliveryFilter::default()
    };
    let dead = store
        .deliveries(&filter, args.limit)
        .context("cannot read dead letters")?;
    if dead.is_empty() {
        println!("no dead letters");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<36}  {:<12}  {:<24}  {:<28}  {:>8}  last error",
        "webhook id", "destination", "subject", "change", "attempts"
    );
    for (_, delivery) in dead {
        let record = &delivery.record;
        println!(
            "{:<36}  {:<12}  {:<24}  {:<28}  {:>8}  {} ({})",
            record.id,
            record.destination,
            record.label,
            format!("{} {}", record.definition, record.change),
            delivery.attempts,
            delivery.last_error.as_deref().unwrap_or("-"),
            delivery
                .last_attempt_at
                .map_or_else(|| "-".to_owned(), format_timestamp),
        );
    }
    println!("replay with: bellwether dead-letters --replay ID … (or --replay-all)");
    Ok(ExitCode::SUCCESS)
}
