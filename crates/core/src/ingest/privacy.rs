//! Deleting a contact and suppressing its identifiers (SPEC §7), on the
//! writer thread: a deletion is ordered with every message around it, so
//! a message committed before it is deleted with the contact and one after
//! it is dropped as suppressed. Concurrent ingestion for the same contact
//! therefore cannot bring it back.
//!
//! One transaction deletes the contact's rows, adds the suppressions and
//! logs the deletion; the identity graph is then rebuilt from the store
//! (the contact's identifiers are gone from it), and the commit goes to the
//! listener like any other: the engine forgets the contact and re-evaluates
//! its account, then purges what it recorded about it before
//! (`WriteOp::PurgeContactRecords`). A purge cut short by a crash is
//! finished at the next start ([`finish_deletions`]), before the engine
//! loads: after a restart, either all of the contact is gone or the
//! deletion was never acknowledged.

use tokio::sync::oneshot;

use super::{Committed, Ingestor, Writer};
use crate::identity::IdentityGraph;
use crate::message::{ContactId, Message, Millis};
use crate::store::{
    ContactDeletion, DeletionRecord, IdKind, Store, StoreError, Suppression, WriteOp,
};

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("no contact with id {0:?}")]
    UnknownContact(String),
    #[error("{0:?} is not suppressed")]
    NotSuppressed(String),
    #[error("storing the change failed: {0}")]
    Store(#[from] StoreError),
    #[error("the writer stopped before finishing")]
    WriterGone,
}

/// What a deletion did: the audit log entry and the identifiers suppressed.
#[derive(Debug, Clone, PartialEq)]
pub struct DeletionReport {
    pub record: DeletionRecord,
    pub suppressed: Vec<Suppression>,
}

type Answer<T> = oneshot::Sender<Result<T, PrivacyError>>;

pub(super) enum PrivacyJob {
    Delete {
        /// A user id, anonymous id or email of the contact.
        id: String,
        actor: String,
        at: Millis,
        reply: Answer<DeletionReport>,
    },
    Unsuppress {
        value: String,
        reply: Answer<()>,
    },
}

impl Ingestor {
    /// Deletes the contact `id` names (user id, anonymous id or email) and
    /// suppresses its identifiers; answered once the engine forgot it.
    pub fn delete_contact(
        &self,
        id: &str,
        actor: &str,
        at: Millis,
    ) -> oneshot::Receiver<Result<DeletionReport, PrivacyError>> {
        let (reply, answer) = oneshot::channel();
        let job = PrivacyJob::Delete {
            id: id.to_owned(),
            actor: actor.to_owned(),
            at,
            reply,
        };
        // A stopped writer drops the job: the receiver then reports it.
        let _ = self.jobs.send(super::Work::Privacy(job));
        answer
    }

    /// Lets messages carrying `value` in again.
    pub fn unsuppress(&self, value: &str) -> oneshot::Receiver<Result<(), PrivacyError>> {
        let (reply, answer) = oneshot::channel();
        let job = PrivacyJob::Unsuppress {
            value: value.to_owned(),
            reply,
        };
        let _ = self.jobs.send(super::Work::Privacy(job));
        answer
    }
}

impl Writer {
    pub(super) fn privacy(&mut self, job: PrivacyJob) {
        match job {
            PrivacyJob::Delete {
                id,
                actor,
                at,
                reply,
            } => match self.delete(&id, &actor, at) {
                Ok((report, ops)) => {
                    // Stored history changed: a snapshot from before it
                    // would be refused at the next start.
                    let graph = self.graph_copy();
                    self.hand_over(Committed {
                        ops,
                        replies: Vec::new(),
                        after: Some(Box::new(move || {
                            let _ = reply.send(Ok(report));
                        })),
                        graph,
                    })
                }
                Err(error) => {
                    let _ = reply.send(Err(error));
                }
            },
            PrivacyJob::Unsuppress { value, reply } => {
                let _ = reply.send(self.unsuppress(value));
            }
        }
    }

    /// Whether a message carries a suppressed identifier.
    pub(super) fn is_suppressed(&self, message: &Message) -> bool {
        if self.suppressed.is_empty() {
            return false;
        }
        let email = (!self.identity.email_trait.is_empty())
            .then(|| message.traits.get(&self.identity.email_trait))
            .flatten()
            .and_then(serde_json::Value::as_str)
            .map(|email| email.trim().to_lowercase());
        let hit = |value: Option<&str>| value.is_some_and(|v| self.suppressed.contains(v));
        hit(message.user_id.as_deref())
            || hit(message.anonymous_id.as_deref())
            || hit(message.previous_id.as_deref())
            || hit(email.as_deref())
    }

    /// Commits the deletion and rebuilds the identity graph; returns the
    /// report and the ops the listener must see.
    fn delete(
        &mut self,
        id: &str,
        actor: &str,
        at: Millis,
    ) -> Result<(DeletionReport, Vec<WriteOp>), PrivacyError> {
        let contact = [IdKind::User, IdKind::Anonymous, IdKind::Email]
            .into_iter()
            .find_map(|kind| {
                let value = match kind {
                    IdKind::Email => id.trim().to_lowercase(),
                    _ => id.to_owned(),
                };
                self.graph.lookup(kind, &value)
            })
            .ok_or_else(|| PrivacyError::UnknownContact(id.to_owned()))?;
        let contacts = absorbed(self.store.as_ref(), contact)?;
        let record = self
            .store
            .contact(contact)?
            .ok_or_else(|| PrivacyError::UnknownContact(id.to_owned()))?;
        let suppress: Vec<Suppression> = [
            (IdKind::User, record.user_ids),
            (IdKind::Anonymous, record.anonymous_ids),
            (IdKind::Email, record.emails),
        ]
        .into_iter()
        .flat_map(|(kind, values)| {
            values
                .into_iter()
                .map(move |value| Suppression { value, kind, at })
        })
        .collect();
        let deletion = ContactDeletion {
            id: format!("del_{at}_{contact}"),
            at,
            actor: actor.to_owned(),
            contacts,
            suppress: suppress.clone(),
        };
        let deletion_id = deletion.id.clone();
        let mut ops = vec![WriteOp::DeleteContact(deletion)];
        if let Err(error) = self.store.apply(&ops) {
            self.reload();
            return Err(error.into());
        }
        self.suppressed
            .extend(suppress.iter().map(|s| s.value.clone()));
        ops.extend(self.rebuild_graph());
        let record = self
            .store
            .deletions(16)?
            .into_iter()
            .find(|d| d.id == deletion_id)
            .ok_or_else(|| StoreError::Corrupt(format!("deletion {deletion_id} not logged")))?;
        tracing::info!(deletion = %deletion_id, actor, events = record.counts.events, "contact deleted");
        Ok((
            DeletionReport {
                record,
                suppressed: suppress,
            },
            ops,
        ))
    }

    /// The graph from the store after a deletion (its identifiers and
    /// messages are gone); returns the corrections it applied, which the
    /// engine must see too (a shared identifier now held by someone else).
    fn rebuild_graph(&mut self) -> Vec<WriteOp> {
        let refused = self.graph.refused_links();
        let rebuilt =
            IdentityGraph::rebuild(self.identity.clone(), self.store.as_ref(), &mut |_, _| {});
        match rebuilt {
            Ok((graph, corrections)) => {
                if !corrections.is_empty() {
                    if let Err(error) = self.store.apply(&corrections) {
                        tracing::error!(%error, "cannot store identity corrections after a deletion");
                        self.reload();
                        return Vec::new();
                    }
                }
                self.graph = graph;
                self.graph.count_refused(refused);
                corrections
            }
            Err(error) => {
                tracing::error!(%error, "cannot rebuild the identity graph after a deletion");
                self.reload();
                Vec::new()
            }
        }
    }

    fn unsuppress(&mut self, value: String) -> Result<(), PrivacyError> {
        if !self.suppressed.contains(&value) {
            return Err(PrivacyError::NotSuppressed(value));
        }
        self.store.apply(&[WriteOp::Unsuppress {
            value: value.clone(),
        }])?;
        self.suppressed.remove(&value);
        Ok(())
    }
}

/// The contact and every contact merged into it, directly or through a
/// chain of merges.
fn absorbed(store: &dyn Store, contact: ContactId) -> Result<Vec<ContactId>, StoreError> {
    let mut found = vec![contact];
    let mut index = 0;
    while let Some(next) = found.get(index).copied() {
        for merge in store.merges_into(next)? {
            if !found.contains(&merge.from) {
                found.push(merge.from);
            }
        }
        index += 1;
    }
    Ok(found)
}

/// Finishes deletions whose recorded history was not purged yet (a crash
/// between the deletion and its purge): run at start-up by the writer,
/// before the engine loads that history, whether it resumes from the
/// snapshot or reads the whole store.
pub fn finish_deletions(store: &dyn Store) -> Result<(), StoreError> {
    let purges: Vec<WriteOp> = store
        .deletions(usize::MAX)?
        .into_iter()
        .filter(|d| !d.complete)
        .map(|d| WriteOp::PurgeContactRecords {
            deletion: d.id,
            contacts: d.contacts,
        })
        .collect();
    if !purges.is_empty() {
        tracing::info!(deletions = purges.len(), "finishing interrupted deletions");
        store.apply(&purges)?;
    }
    Ok(())
}
