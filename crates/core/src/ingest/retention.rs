//! Retention (`[retention] events`, SPEC §7) on the writer thread. One step
//! deletes the behavior events past the retention among a bounded range of
//! sequence numbers, in a transaction of its own, and hands the deletion to
//! the engine like any commit: at the pass's first deletion the engine
//! forgets every event before the cutoff (what the pass will delete), so
//! each timeline drops its prefix once, not once per step. Messages queued meanwhile are committed between steps, so a
//! pass over years of history never holds a long lock or pauses ingestion.
//! A pass that deleted anything ends with an engine snapshot (the stored
//! events it covers changed).

use tokio::sync::oneshot;

use super::{Committed, Ingestor, Writer};
use crate::message::Millis;
use crate::store::{StoreError, WriteOp};

/// Sequence numbers one step reads (a primary-key range).
pub const RETENTION_STEP: i64 = 20_000;

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionStep {
    pub deleted: usize,
    /// Where the next step starts.
    pub next: i64,
    /// Whether this step reached the newest stored message.
    pub done: bool,
}

pub(super) struct RetentionJob {
    before: Millis,
    from: i64,
    reply: oneshot::Sender<Result<RetentionStep, StoreError>>,
}

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error("deleting expired events failed: {0}")]
    Store(#[from] StoreError),
    #[error("the writer stopped before finishing")]
    WriterGone,
}

impl Ingestor {
    /// One retention step from sequence number `from`: deletes the track,
    /// page and screen events with a timestamp before `before`.
    pub fn expire_step(
        &self,
        before: Millis,
        from: i64,
    ) -> oneshot::Receiver<Result<RetentionStep, StoreError>> {
        let (reply, answer) = oneshot::channel();
        let job = RetentionJob {
            before,
            from,
            reply,
        };
        let _ = self.jobs.send(super::Work::Retention(job));
        answer
    }

    /// A whole pass, step by step; returns how many events it deleted.
    pub async fn expire_before(&self, before: Millis) -> Result<usize, RetentionError> {
        let (mut from, mut deleted) = (1, 0);
        loop {
            let step = self
                .expire_step(before, from)
                .await
                .map_err(|_| RetentionError::WriterGone)??;
            deleted += step.deleted;
            if step.done {
                return Ok(deleted);
            }
            from = step.next;
        }
    }
}

impl Writer {
    pub(super) fn expire(&mut self, job: RetentionJob) {
        let RetentionJob {
            before,
            from,
            reply,
        } = job;
        let newest = self.next_seq - 1;
        let to = from.saturating_add(RETENTION_STEP - 1).min(newest);
        let events = match self.store.expired_events(before, from..=to) {
            Ok(events) => events,
            Err(error) => {
                let _ = reply.send(Err(error));
                return;
            }
        };
        let step = RetentionStep {
            deleted: events.len(),
            next: to.saturating_add(1),
            done: to >= newest,
        };
        self.expired_since_snapshot += events.len();
        let snapshot_due = step.done && self.expired_since_snapshot > 0;
        if events.is_empty() && !snapshot_due {
            let _ = reply.send(Ok(step));
            return;
        }
        let op = WriteOp::ExpireEvents { before, events };
        if let Err(error) = self.store.apply(std::slice::from_ref(&op)) {
            let _ = reply.send(Err(error));
            return;
        }
        let graph = match snapshot_due {
            true => {
                self.expired_since_snapshot = 0;
                self.graph_copy()
            }
            false => None,
        };
        if step.deleted > 0 {
            tracing::debug!(deleted = step.deleted, from, to, "expired events deleted");
        }
        self.hand_over(Committed {
            ops: vec![op],
            replies: Vec::new(),
            after: Some(Box::new(move || {
                let _ = reply.send(Ok(step));
            })),
            graph,
        });
    }
}
