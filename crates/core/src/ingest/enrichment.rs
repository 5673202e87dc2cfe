//! Enrichment on the writer thread (SPEC §7 "Enrichment"). Staging a
//! message enriches the accounts it makes or names; what is not a message
//! comes here as work between commits: re-applying the tables after a
//! reload (and once at start, for a table that changed while stopped), and
//! the HTTP provider's answers. Each writes only the traits that differ
//! from what enrichment gave before, at the instant it runs, in a commit of
//! its own that the engine sees like any other; a commit that changed
//! traits ends with an engine snapshot (the snapshot's tail replays
//! messages, and these writes are not messages).

use std::collections::HashSet;

use tokio::sync::oneshot;

use super::{CommitError, Committed, Ingestor, Work, Writer};
use crate::message::Millis;
use crate::store::{Store, StoreError, WriteOp};

pub(super) enum EnrichmentJob {
    /// Apply the tables as loaded now to the accounts with these domains
    /// (`None`: every account with a domain).
    Refresh {
        domains: Option<HashSet<String>>,
        at: Millis,
        reply: oneshot::Sender<Result<usize, CommitError>>,
    },
    /// The provider answered for `domain`.
    Answer {
        domain: String,
        traits: serde_json::Map<String, serde_json::Value>,
        at: Millis,
        reply: oneshot::Sender<Result<usize, CommitError>>,
    },
}

impl Ingestor {
    /// Re-applies the enrichment tables at `at` to the accounts of
    /// `domains` (what a reload changed; `None` at start: every account);
    /// answers how many accounts' traits changed.
    pub async fn refresh_enrichment(
        &self,
        domains: Option<HashSet<String>>,
        at: Millis,
    ) -> Result<usize, CommitError> {
        let (reply, answer) = oneshot::channel();
        self.send_enrichment(EnrichmentJob::Refresh { domains, at, reply })?;
        answer.await.map_err(|_| CommitError::WriterGone)?
    }

    /// Records the provider's answer for `domain` (fetched at `at`) and
    /// applies it to the accounts with that domain.
    pub async fn enrichment_answer(
        &self,
        domain: String,
        traits: serde_json::Map<String, serde_json::Value>,
        at: Millis,
    ) -> Result<usize, CommitError> {
        let (reply, answer) = oneshot::channel();
        self.send_enrichment(EnrichmentJob::Answer {
            domain,
            traits,
            at,
            reply,
        })?;
        answer.await.map_err(|_| CommitError::WriterGone)?
    }

    fn send_enrichment(&self, job: EnrichmentJob) -> Result<(), CommitError> {
        self.jobs
            .send(Work::Enrichment(job))
            .map_err(|_| CommitError::WriterGone)
    }
}

/// Reads back what the provider answered before, so a restart neither asks
/// again nor resolves the stored messages differently.
pub fn restore_enrichment_answers(
    store: &dyn Store,
    enrichment: &bellwether_enrich::Enrichment,
) -> Result<(), StoreError> {
    if enrichment.http().is_none() {
        return Ok(());
    }
    for record in store.enrichment_answers()? {
        enrichment.set_answer(
            &record.domain,
            bellwether_enrich::Answer {
                traits: record.traits,
                fetched_at: record.fetched_at,
            },
        );
    }
    Ok(())
}

impl Writer {
    pub(super) fn enrichment(&mut self, job: EnrichmentJob) {
        let (ops, reply) = match job {
            EnrichmentJob::Refresh { domains, at, reply } => {
                let mut ops = Vec::new();
                self.graph
                    .refresh_enrichment(domains.as_ref(), at, self.next_seq - 1, &mut ops);
                (ops, reply)
            }
            EnrichmentJob::Answer {
                domain,
                traits,
                at,
                reply,
            } => {
                self.identity.enrichment.set_answer(
                    &domain,
                    bellwether_enrich::Answer {
                        traits: traits.clone(),
                        fetched_at: at,
                    },
                );
                let mut ops = vec![WriteOp::EnrichmentAnswer {
                    domain: domain.clone(),
                    traits,
                    fetched_at: at,
                }];
                let only = HashSet::from([domain]);
                self.graph
                    .refresh_enrichment(Some(&only), at, self.next_seq - 1, &mut ops);
                (ops, reply)
            }
        };
        let changed = ops
            .iter()
            .filter(|op| matches!(op, WriteOp::AccountEnrichment { changes, .. } if !changes.is_empty()))
            .count();
        if ops.is_empty() {
            let _ = reply.send(Ok(0));
            return;
        }
        if let Err(error) = self.store.apply(&ops) {
            tracing::error!(%error, "storing enrichment failed; reloading identity graph");
            self.reload();
            let _ = reply.send(Err(CommitError::Store(error)));
            return;
        }
        self.publish_identity();
        let graph = if changed > 0 {
            self.graph_copy_now()
        } else {
            None
        };
        self.hand_over(Committed {
            ops,
            replies: Vec::new(),
            after: Some(Box::new(move || {
                let _ = reply.send(Ok(changed));
            })),
            graph,
        });
    }
}
