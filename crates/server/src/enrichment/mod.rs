//! Enrichment at run time (SPEC §7 "Enrichment"): the tables are applied
//! once at start, before the server answers (a table edited while it was
//! stopped), re-read on
//! `SIGHUP` or `POST /api/v1/enrichment/reload`, and the optional HTTP
//! provider answers domains the tables do not list. Every change to an
//! account's traits is written by the writer thread (`Ingestor`), at the
//! instant it happens, so scores and segments follow at once.

mod provider;

use std::future::Future;

use bellwether_core::ingest::CommitError;
use bellwether_enrich::{EnrichError, TableReport};

use crate::AppState;

/// What a reload did.
#[derive(Debug)]
pub(crate) struct Reloaded {
    pub(crate) tables: Vec<TableReport>,
    /// Domains whose rows changed in the files.
    pub(crate) domains_changed: usize,
    /// Accounts whose enriched traits changed.
    pub(crate) accounts_changed: usize,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ReloadError {
    #[error("{0}")]
    Table(#[from] EnrichError),
    #[error("applying the reloaded tables failed: {0}")]
    Commit(#[from] CommitError),
    #[error("no [[enrichment]] table is configured")]
    NotConfigured,
}

/// Re-reads every table file and applies what changed. On a file error
/// the tables in use stay.
pub(crate) async fn reload(state: &AppState) -> Result<Reloaded, ReloadError> {
    let enrichment = state.config.identity.enrichment.clone();
    if !enrichment.is_configured() {
        return Err(ReloadError::NotConfigured);
    }
    let reloading = enrichment.clone();
    let changed = tokio::task::spawn_blocking(move || reloading.reload())
        .await
        .map_err(|e| EnrichError::Config {
            name: "reload".into(),
            problem: e.to_string(),
        })??;
    let domains_changed = changed.len();
    let accounts_changed = state
        .ingestor
        .refresh_enrichment(Some(changed), state.clock.now_ms())
        .await?;
    Ok(Reloaded {
        tables: enrichment.reports(),
        domains_changed,
        accounts_changed,
    })
}

/// Applies the tables as loaded to every account with a domain (a table
/// edited while the server was stopped): run before the server answers,
/// so its first answers already reflect the tables.
pub async fn apply_at_start(state: &AppState) {
    if !state.config.identity.enrichment.is_configured() {
        return;
    }
    match state
        .ingestor
        .refresh_enrichment(None, state.clock.now_ms())
        .await
    {
        Ok(changed) => tracing::info!(accounts_changed = changed, "enrichment tables applied"),
        Err(error) => tracing::error!(%error, "applying the enrichment tables failed"),
    }
}

/// Runs the provider and reloads on `SIGHUP`, until `stop` completes.
/// Returns at once without tables.
pub async fn run(state: AppState, stop: impl Future<Output = ()>) {
    let enrichment = state.config.identity.enrichment.clone();
    if !enrichment.is_configured() {
        return;
    }
    let provider = enrichment
        .http()
        .cloned()
        .and_then(|settings| provider::start(settings, state.clone()));
    tokio::pin!(stop);
    let mut hangups = hangups();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(()) = next_hangup(&mut hangups) => match reload(&state).await {
                Ok(reloaded) => tracing::info!(
                    accounts_changed = reloaded.accounts_changed,
                    "SIGHUP: enrichment tables reloaded"
                ),
                Err(error) => tracing::error!(%error, "SIGHUP: enrichment tables not reloaded"),
            },
        }
    }
    if let Some(provider) = provider {
        provider.abort();
        let _ = provider.await;
    }
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = Option<()>;

fn hangups() -> Hangups {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::hangup()) {
            Ok(signal) => Some(signal),
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGHUP; reload through the API");
                None
            }
        }
    }
    #[cfg(not(unix))]
    None
}

/// The next `SIGHUP`; never completes where there is none to wait for.
async fn next_hangup(hangups: &mut Hangups) -> Option<()> {
    #[cfg(unix)]
    if let Some(signal) = hangups {
        return signal.recv().await;
    }
    let _ = hangups;
    std::future::pending().await
}
