//! Persisting what the engine recorded (membership changes, score history,
//! the checkpoint) on a thread of its own, so neither ingestion nor timers
//! wait for that write. Batches are written in the order the engine made
//! them, several per transaction when they queue up.
//!
//! What is queued and not yet written when the process dies is not lost for
//! good: it is derived data, and the checkpoint only moves with it, so the
//! next start recomputes it (`Engine::load`).

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

use crate::store::{Store, WriteOp};

/// Batches waiting to be written before the engine itself waits.
const BACKLOG: usize = 256;

enum Job {
    Write(Vec<WriteOp>),
    /// Answer once everything queued before is written.
    Flush(Sender<()>),
}

pub(super) struct Recorder {
    batches: Mutex<Option<Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Recorder {
    /// `outbox_written` is notified after each write that held outbox rows.
    pub(super) fn start(
        store: Arc<dyn Store>,
        outbox_written: Arc<tokio::sync::Notify>,
    ) -> std::io::Result<Self> {
        let (batches, queue) = crossbeam_channel::bounded(BACKLOG);
        let thread = std::thread::Builder::new()
            .name("bellwether-recorder".into())
            .spawn(move || write_batches(store.as_ref(), &queue, &outbox_written))?;
        Ok(Self {
            batches: Mutex::new(Some(batches)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues one batch; call in the engine's order.
    pub(super) fn record(&self, ops: Vec<WriteOp>) {
        if let Some(batches) = self.batches.lock().as_ref() {
            if batches.send(Job::Write(ops)).is_err() {
                tracing::error!(
                    "the recorder stopped; changes will be recomputed at the next start"
                );
            }
        }
    }

    /// Waits until everything queued so far is written (readers of the
    /// recorded history call this first, to see their own changes).
    pub(super) fn flush(&self) {
        let (done, wait) = crossbeam_channel::bounded(1);
        let sent = self
            .batches
            .lock()
            .as_ref()
            .is_some_and(|batches| batches.send(Job::Flush(done)).is_ok());
        if sent {
            let _ = wait.recv();
        }
    }

    /// Writes everything queued, then stops.
    pub(super) fn finish(&self) {
        self.batches.lock().take();
        if let Some(thread) = self.thread.lock().take() {
            if thread.join().is_err() {
                tracing::error!("the recorder panicked");
            }
        }
    }
}

fn write_batches(store: &dyn Store, queue: &Receiver<Job>, outbox_written: &tokio::sync::Notify) {
    while let Ok(first) = queue.recv() {
        let mut ops = Vec::new();
        let mut flushes = Vec::new();
        for job in std::iter::once(first).chain(queue.try_iter()) {
            match job {
                Job::Write(more) => ops.extend(more),
                Job::Flush(done) => flushes.push(done),
            }
        }
        let has_outbox = ops.iter().any(|op| matches!(op, WriteOp::Outbox(_)));
        write(store, ops);
        if has_outbox {
            outbox_written.notify_one();
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Writes queued batches in one transaction, keeping the last checkpoint.
fn write(store: &dyn Store, mut ops: Vec<WriteOp>) {
    if ops.is_empty() {
        return;
    }
    let last = ops
        .iter()
        .rposition(|op| matches!(op, WriteOp::Checkpoint { .. }));
    let mut index = 0;
    ops.retain(|op| {
        let keep = !matches!(op, WriteOp::Checkpoint { .. }) || Some(index) == last;
        index += 1;
        keep
    });
    if let Err(error) = store.apply(&ops) {
        // Derived data: the next start recomputes it from the checkpoint.
        tracing::error!(%error, "cannot record membership changes");
    }
}
