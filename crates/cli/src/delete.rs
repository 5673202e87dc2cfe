//! `bellwether delete --user-id ID`: deletes and suppresses one contact
//! (SPEC §7) while no server runs, exactly as `DELETE
//! /api/v1/contacts/{id}` does: through the single writer, in one
//! transaction, logged as done by `cli`. The contact's accounts are
//! re-evaluated when the server next starts (it evaluates everything from
//! the last checkpoint).

use std::process::ExitCode;

use anyhow::Context;
use bellwether_core::ingest::{rebuild_identity, Ingestor, PrivacyError};
use bellwether_core::{Clock, SystemClock};
use clap::Args;

use crate::settings::StoreArgs;

#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// The contact to delete: a user id (an anonymous id or an email
    /// resolves too).
    #[arg(long, value_name = "ID")]
    pub(crate) user_id: String,
}

pub(crate) fn run(args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let loaded = args.store.load()?;
    let config = loaded.config;
    let store = args.store.open_writer_store(&config, "delete")?;
    let graph = rebuild_identity(store.as_ref(), config.identity.clone(), &mut |_, _| {})
        .context("cannot rebuild the identity graph")?;
    let (ingestor, writer) =
        Ingestor::start_with(store.clone(), graph, config.ingest.clone(), None)?;
    let answer = ingestor
        .delete_contact(&args.user_id, "cli", SystemClock.now_ms())
        .blocking_recv()
        .map_err(|_| PrivacyError::WriterGone);
    drop(ingestor);
    if writer.join().is_err() {
        anyhow::bail!("the writer thread panicked");
    }
    let report = match answer.and_then(|result| result) {
        Ok(report) => report,
        Err(PrivacyError::UnknownContact(id)) => {
            eprintln!("no contact with id {id:?}");
            return Ok(ExitCode::FAILURE);
        }
        Err(error) => return Err(error).context("cannot delete the contact"),
    };
    // No engine here to purge recorded history after it: finish now.
    rebuild_identity(store.as_ref(), config.identity.clone(), &mut |_, _| {})
        .context("cannot finish the deletion")?;
    let counts = report.record.counts;
    println!(
        "deleted contact {:?} ({}): {} events, {} trait values, {} identities, {} membership changes, \
         {} score changes, {} deliveries, {} assignments",
        args.user_id,
        report.record.id,
        counts.events,
        counts.traits,
        counts.identities,
        counts.memberships,
        counts.scores,
        counts.deliveries,
        counts.assignments
    );
    let values: Vec<&str> = report.suppressed.iter().map(|s| s.value.as_str()).collect();
    println!("suppressed: {}", values.join(", "));
    Ok(ExitCode::SUCCESS)
}
