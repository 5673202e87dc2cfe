//! The durable write path: bounded admission, one writer thread, group commit.
//!
//! Callers submit validated messages; the writer drains every job waiting in
//! the queue (up to `max_batch_messages`), deduplicates by `(source,
//! messageId)`, resolves identities, and applies the whole lot to the store in
//! one transaction. Only then does each caller get its receipt, so an
//! acknowledgement always means "durably stored". Admission is bounded by a
//! semaphore counted in messages: when it is exhausted, callers are told
//! [`SubmitError::Overloaded`] at once (HTTP 429) instead of queueing without
//! limit.

mod enrichment;
mod privacy;
mod retention;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use crate::identity::{EnrichmentCoverage, IdentityConfig, IdentityGraph, IdentityReport};
use crate::message::{Message, MessageKind, Rejection, StoredEvent};
use crate::store::{Store, StoreError, WriteOp};

pub use enrichment::restore_enrichment_answers;
pub use privacy::{finish_deletions, DeletionReport, PrivacyError};
pub use retention::{RetentionError, RetentionStep, RETENTION_STEP};

/// Sizes of the write path (`[ingest]` in the config).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Messages admitted but not yet committed; beyond it, submissions are refused.
    pub max_pending_messages: usize,
    /// Most messages one group commit takes.
    pub max_batch_messages: usize,
    /// A running server writes the engine snapshot after this many stored
    /// messages (0: only at start and stop), so a start after a crash
    /// replays at most about this many.
    pub snapshot_every_messages: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            max_pending_messages: 200_000,
            max_batch_messages: 20_000,
            snapshot_every_messages: 1_000_000,
        }
    }
}

/// Rejected messages kept for the ingestion view: at most this many ...
pub const KEEP_REJECTIONS: u64 = 10_000;
/// ... and none received more than this long before the newest (30 days).
pub const KEEP_REJECTIONS_MS: i64 = 30 * 24 * 3_600_000;

/// What happened to one submission.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Receipt {
    pub stored: usize,
    /// Already stored before (same source and `messageId`): no effect.
    pub duplicates: usize,
    pub rejected: usize,
    /// Carried an identifier of a deleted contact (SPEC §7): dropped.
    pub suppressed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the write path is saturated, retry shortly")]
    Overloaded,
    #[error("the server is shutting down")]
    ShuttingDown,
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("storing the batch failed: {0}")]
    Store(#[from] StoreError),
    #[error("the writer stopped before committing")]
    WriterGone,
}

/// Called on the listener thread after each successful commit, in commit
/// order, with everything the commit wrote (events are the
/// `WriteOp::Event`s), while the writer commits the next group.
pub trait CommitListener: Send {
    fn committed(&mut self, ops: &[WriteOp]);

    /// Called right after `committed` for a group when a snapshot is due,
    /// with the identity graph as of the end of that group (the writer has
    /// moved on): what the listener holds now matches it exactly.
    fn snapshot(&mut self, _graph: &IdentityGraph) {}
}

struct Job {
    messages: Vec<Message>,
    rejections: Vec<Rejection>,
    /// Duplicates and suppressed messages found in an earlier attempt of
    /// this job (see [`Writer::commit`]): its messages were dropped, the
    /// counts are kept.
    duplicates: usize,
    suppressed: usize,
    reply: Reply,
    _permit: OwnedSemaphorePermit,
}

/// Handle to the writer. Cheap to clone; the writer stops when every handle
/// is dropped and the queue is drained.
#[derive(Clone)]
pub struct Ingestor {
    jobs: Sender<Work>,
    admission: Arc<Semaphore>,
    max_pending: usize,
    identity: PublishedIdentity,
    coverage: PublishedCoverage,
}

/// The identity graph's report, replaced after each commit that changed it.
type PublishedIdentity = Arc<parking_lot::RwLock<Arc<IdentityReport>>>;

/// The enrichment tables' coverage, replaced after each commit that changed
/// it (readers never wait on the writer).
type PublishedCoverage = Arc<parking_lot::RwLock<EnrichmentCoverage>>;

/// Receipt of a submission, resolved once the batch is committed.
pub type PendingReceipt = oneshot::Receiver<Result<Receipt, CommitError>>;

impl Ingestor {
    /// Rebuilds the identity graph from the stored messages (applying the
    /// corrections a store written under older identity rules needs) and
    /// starts the writer thread.
    pub fn start(
        store: Arc<dyn Store>,
        identity: IdentityConfig,
        config: IngestConfig,
        listener: Option<Box<dyn CommitListener>>,
    ) -> Result<(Self, JoinHandle<IdentityGraph>), StoreError> {
        let graph = rebuild_identity(store.as_ref(), identity, &mut |_, _| {})?;
        Self::start_with(store, graph, config, listener)
    }

    /// Starts the writer thread with a graph already rebuilt (see
    /// [`rebuild_identity`]).
    pub fn start_with(
        store: Arc<dyn Store>,
        graph: IdentityGraph,
        config: IngestConfig,
        listener: Option<Box<dyn CommitListener>>,
    ) -> Result<(Self, JoinHandle<IdentityGraph>), StoreError> {
        let mut graph = graph;
        graph.set_applied_enrichment(store.account_enrichments()?);
        let max_seq = store.max_seq()?;
        let suppressed = store.suppressions()?.into_iter().map(|s| s.value).collect();
        let published: PublishedIdentity =
            Arc::new(parking_lot::RwLock::new(Arc::new(graph.report())));
        let coverage: PublishedCoverage =
            Arc::new(parking_lot::RwLock::new(graph.enrichment_coverage()));
        let writer = Writer {
            identity: graph.config().clone(),
            graph,
            next_seq: max_seq + 1,
            store,
            max_batch: config.max_batch_messages.max(1),
            listener: listener.map(ListenerStage::start).transpose()?,
            published: published.clone(),
            coverage: coverage.clone(),
            suppressed,
            snapshot_every: config.snapshot_every_messages,
            since_snapshot: 0,
            expired_since_snapshot: 0,
        };
        let (jobs, queue) = crossbeam_channel::unbounded();
        let handle = std::thread::Builder::new()
            .name("bellwether-writer".into())
            .spawn(move || writer.run(queue))
            .map_err(|source| StoreError::Thread {
                name: "writer",
                source,
            })?;
        let max_pending = config.max_pending_messages.max(1);
        let ingestor = Self {
            jobs,
            admission: Arc::new(Semaphore::new(max_pending)),
            max_pending,
            identity: published,
            coverage,
        };
        Ok((ingestor, handle))
    }

    /// Shared identifiers and refused links, as of the last commit.
    pub fn identity_report(&self) -> Arc<IdentityReport> {
        self.identity.read().clone()
    }

    /// Coverage of the enrichment tables, as of the last commit.
    pub fn enrichment_coverage(&self) -> EnrichmentCoverage {
        self.coverage.read().clone()
    }

    /// Queues messages (and the rejections found while validating them) for
    /// the next group commit. Refuses at once when the queue is full.
    pub fn submit(
        &self,
        messages: Vec<Message>,
        rejections: Vec<Rejection>,
    ) -> Result<PendingReceipt, SubmitError> {
        let weight = (messages.len() + rejections.len()).clamp(1, self.max_pending);
        let permit = Arc::clone(&self.admission)
            .try_acquire_many_owned(weight as u32)
            .map_err(|_| SubmitError::Overloaded)?;
        let (reply, receipt) = oneshot::channel();
        let job = Job {
            messages,
            rejections,
            duplicates: 0,
            suppressed: 0,
            reply,
            _permit: permit,
        };
        self.jobs
            .send(Work::Messages(job))
            .map_err(|_| SubmitError::ShuttingDown)?;
        Ok(receipt)
    }

    /// Messages admitted and not yet committed.
    pub fn pending(&self) -> usize {
        self.max_pending - self.admission.available_permits()
    }
}

struct Writer {
    graph: IdentityGraph,
    identity: IdentityConfig,
    next_seq: i64,
    store: Arc<dyn Store>,
    max_batch: usize,
    listener: Option<ListenerStage>,
    published: PublishedIdentity,
    coverage: PublishedCoverage,
    /// Identifiers of deleted contacts: messages carrying one are dropped.
    suppressed: HashSet<String>,
    /// `[ingest] snapshot_every_messages` (0: never while running).
    snapshot_every: u64,
    /// Messages stored since the last snapshot was asked for.
    since_snapshot: u64,
    /// Events deleted by retention since the last snapshot was asked for.
    expired_since_snapshot: usize,
}

/// What the writer thread is asked to do, in order.
enum Work {
    Messages(Job),
    Privacy(privacy::PrivacyJob),
    Retention(retention::RetentionJob),
    Enrichment(enrichment::EnrichmentJob),
}

/// Replays the stored messages into a fresh identity graph and applies the
/// corrections it finds (contacts that older rules merged are split), in
/// one transaction. `progress` is told `(replayed, total)` messages.
pub fn rebuild_identity(
    store: &dyn Store,
    identity: IdentityConfig,
    progress: &mut dyn crate::progress::Progress,
) -> Result<IdentityGraph, StoreError> {
    prepare_identity_rebuild(store, &identity)?;
    let (graph, corrections) = IdentityGraph::rebuild(identity, store, progress)?;
    apply_identity_corrections(store, graph, &corrections)
}

/// What a rebuild needs done before it reads the messages: deletions a
/// crash interrupted are finished, the enrichment provider's answers
/// restored.
pub(crate) fn prepare_identity_rebuild(
    store: &dyn Store,
    identity: &IdentityConfig,
) -> Result<(), StoreError> {
    privacy::finish_deletions(store)?;
    restore_enrichment_answers(store, &identity.enrichment)
}

pub(crate) fn apply_identity_corrections(
    store: &dyn Store,
    graph: IdentityGraph,
    corrections: &[WriteOp],
) -> Result<IdentityGraph, StoreError> {
    if !corrections.is_empty() {
        tracing::info!(
            writes = corrections.len(),
            "identity rules: correcting contacts stored under older rules"
        );
        store.apply(corrections)?;
    }
    Ok(graph)
}

/// A committed group on its way to the listener, with the replies that wait
/// for it.
struct Committed {
    ops: Vec<WriteOp>,
    replies: Vec<(Reply, Receipt)>,
    /// Run once the listener saw the group (a deletion's reply).
    after: Option<Box<dyn FnOnce() + Send>>,
    /// The identity graph as of this group, when a snapshot is due.
    graph: Option<IdentityGraph>,
}

type Reply = oneshot::Sender<Result<Receipt, CommitError>>;

/// Committed groups waiting for the listener: enough for the writer to
/// commit the next group while the listener handles this one, few enough to
/// push back when the listener is the slower stage.
const LISTENER_BACKLOG: usize = 2;

/// Runs the listener on its own thread, so the writer commits the next group
/// (waiting on the disk) while the listener handles the last one (CPU).
/// Replies are sent after the listener saw the group: a 2xx still means
/// durable, and what the group changed is visible to the next query.
struct ListenerStage {
    groups: Option<Sender<Committed>>,
    thread: Option<JoinHandle<()>>,
}

impl ListenerStage {
    fn start(mut listener: Box<dyn CommitListener>) -> Result<Self, StoreError> {
        let (groups, queue) = crossbeam_channel::bounded::<Committed>(LISTENER_BACKLOG);
        let thread = std::thread::Builder::new()
            .name("bellwether-listener".into())
            .spawn(move || {
                for group in queue {
                    listener.committed(&group.ops);
                    for (reply, receipt) in group.replies {
                        let _ = reply.send(Ok(receipt));
                    }
                    if let Some(after) = group.after {
                        after();
                    }
                    if let Some(graph) = group.graph {
                        listener.snapshot(&graph);
                    }
                }
            })
            .map_err(|source| StoreError::Thread {
                name: "listener",
                source,
            })?;
        Ok(Self {
            groups: Some(groups),
            thread: Some(thread),
        })
    }

    /// Hands a committed group over; replies directly if the stage is gone.
    fn send(&self, group: Committed) {
        let Some(groups) = &self.groups else {
            return finish(group);
        };
        if let Err(returned) = groups.send(group) {
            finish(returned.into_inner());
        }
    }
}

impl Drop for ListenerStage {
    /// Lets the listener finish every group handed over (and answer its
    /// requests) before the writer counts as stopped.
    fn drop(&mut self) {
        self.groups.take();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the commit listener panicked");
            }
        }
    }
}

/// Returns a failed group's messages and rejections to the jobs they came
/// from (`ends[i]`: the end of job `i`'s ops).
fn give_back(jobs: &mut [Job], ops: Vec<WriteOp>, ends: &[usize], receipts: &[Receipt]) {
    let mut job = 0;
    for (index, op) in ops.into_iter().enumerate() {
        while ends.get(job).is_some_and(|end| index >= *end) {
            job += 1;
        }
        let Some(target) = jobs.get_mut(job) else {
            return;
        };
        match op {
            WriteOp::Event(event) => target.messages.push(event.message),
            WriteOp::Rejection(rejection) => target.rejections.push(rejection),
            _ => {}
        }
    }
    for (target, receipt) in jobs.iter_mut().zip(receipts) {
        target.duplicates = receipt.duplicates;
        target.suppressed = receipt.suppressed;
    }
}

/// Answers a group without a listener.
fn finish(group: Committed) {
    reply_all(group.replies);
    if let Some(after) = group.after {
        after();
    }
}

fn reply_all(replies: Vec<(Reply, Receipt)>) {
    for (reply, receipt) in replies {
        let _ = reply.send(Ok(receipt));
    }
}

impl Writer {
    fn run(mut self, queue: Receiver<Work>) -> IdentityGraph {
        // Work taken from the queue while gathering a group, done next.
        let mut next: Option<Work> = None;
        loop {
            let work = match next.take() {
                Some(work) => work,
                None => match queue.recv() {
                    Ok(work) => work,
                    Err(_) => break,
                },
            };
            let first = match work {
                Work::Messages(job) => job,
                Work::Privacy(job) => {
                    self.privacy(job);
                    continue;
                }
                Work::Retention(job) => {
                    self.expire(job);
                    continue;
                }
                Work::Enrichment(job) => {
                    self.enrichment(job);
                    continue;
                }
            };
            let mut size = first.messages.len();
            let mut jobs = vec![first];
            // A privacy job ends the group: messages queued after a
            // deletion are screened with its suppressions.
            while size < self.max_batch {
                match queue.try_recv() {
                    Ok(Work::Messages(job)) => {
                        size += job.messages.len();
                        jobs.push(job);
                    }
                    Ok(other) => {
                        next = Some(other);
                        break;
                    }
                    Err(_) => break,
                }
            }
            self.commit(jobs);
        }
        // Every committed group reaches the listener before the graph is
        // handed back: together they are the state a snapshot captures.
        let Writer {
            graph, listener, ..
        } = self;
        drop(listener);
        tracing::info!("writer stopped: queue closed and drained");
        graph
    }

    /// Commits a group. If the store refuses it, the group is split: each
    /// job is committed on its own, so one request the store cannot take
    /// (a value it refuses) fails alone instead of failing every other
    /// sender's messages with it.
    fn commit(&mut self, mut jobs: Vec<Job>) {
        let outcome = self.build_and_apply(&mut jobs);
        match outcome {
            Ok((ops, receipts)) => {
                self.publish_identity();
                let replies = jobs
                    .into_iter()
                    .map(|job| job.reply)
                    .zip(receipts)
                    .collect();
                let graph = self.snapshot_due(&ops);
                let group = Committed {
                    ops,
                    replies,
                    after: None,
                    graph,
                };
                self.hand_over(group);
            }
            Err(error) if jobs.len() > 1 => {
                tracing::warn!(%error, jobs = jobs.len(), "group commit failed; committing its requests one by one");
                self.reload();
                for job in jobs {
                    self.commit(vec![job]);
                }
            }
            Err(error) => {
                tracing::error!(%error, "commit failed; reloading identity graph");
                self.reload();
                let message = error.to_string();
                for job in jobs {
                    let _ = job.reply.send(Err(CommitError::Store(StoreError::Database(
                        message.clone(),
                    ))));
                }
            }
        }
    }

    /// Stores the jobs' messages in one transaction: the ops applied and
    /// each job's receipt. On failure every job gets its messages and
    /// rejections back (minus duplicates, which it counts), ready to be
    /// committed again.
    fn build_and_apply(
        &mut self,
        jobs: &mut [Job],
    ) -> Result<(Vec<WriteOp>, Vec<Receipt>), StoreError> {
        let mut seen = self.already_stored(jobs)?;
        let mut ops = Vec::new();
        let mut receipts = Vec::with_capacity(jobs.len());
        let mut ends = Vec::with_capacity(jobs.len());
        for job in jobs.iter_mut() {
            let mut receipt = Receipt {
                rejected: job.rejections.iter().filter(|r| !r.warning).count(),
                duplicates: job.duplicates,
                suppressed: job.suppressed,
                ..Receipt::default()
            };
            for message in std::mem::take(&mut job.messages) {
                if self.is_suppressed(&message) {
                    receipt.suppressed += 1;
                    continue;
                }
                let key = (message.source.clone(), message.message_id.clone());
                if !seen.insert(key) {
                    receipt.duplicates += 1;
                    continue;
                }
                self.stage(message, &mut ops);
                receipt.stored += 1;
            }
            ops.extend(
                std::mem::take(&mut job.rejections)
                    .into_iter()
                    .map(WriteOp::Rejection),
            );
            receipts.push(receipt);
            ends.push(ops.len());
        }
        let newest_rejection = ops
            .iter()
            .filter_map(|op| match op {
                WriteOp::Rejection(rejection) => Some(rejection.received_at),
                _ => None,
            })
            .max();
        if let Some(newest) = newest_rejection {
            ops.push(WriteOp::PruneRejections {
                keep_newest: KEEP_REJECTIONS,
                before: newest - KEEP_REJECTIONS_MS,
            });
        }
        if !ops.is_empty() {
            if let Err(error) = self.store.apply(&ops) {
                give_back(jobs, ops, &ends, &receipts);
                return Err(error);
            }
        }
        Ok((ops, receipts))
    }

    /// `(source, messageId)` pairs of this batch that the store already has.
    fn already_stored(&self, jobs: &[Job]) -> Result<HashSet<(String, String)>, StoreError> {
        let mut by_source: HashMap<&str, Vec<&str>> = HashMap::new();
        for message in jobs.iter().flat_map(|job| &job.messages) {
            by_source
                .entry(message.source.as_str())
                .or_default()
                .push(message.message_id.as_str());
        }
        let mut stored = HashSet::new();
        for (source, ids) in by_source {
            for id in self.store.seen_message_ids(source, &ids)? {
                stored.insert((source.to_owned(), id));
            }
        }
        Ok(stored)
    }

    /// A copy of the graph for the listener's snapshot when `ops` bring the
    /// messages stored since the last one to `[ingest]
    /// snapshot_every_messages`.
    fn snapshot_due(&mut self, ops: &[WriteOp]) -> Option<IdentityGraph> {
        let stored = ops
            .iter()
            .filter(|op| matches!(op, WriteOp::Event(_)))
            .count();
        self.since_snapshot += stored as u64;
        if self.snapshot_every == 0 || self.since_snapshot < self.snapshot_every {
            return None;
        }
        self.graph_copy()
    }

    /// A copy of the graph for a snapshot, when there is a listener to take
    /// one and snapshots are on.
    fn graph_copy(&mut self) -> Option<IdentityGraph> {
        if self.snapshot_every == 0 {
            return None;
        }
        self.graph_copy_now()
    }

    /// A copy of the graph for a snapshot even with snapshots off while
    /// running: for a commit that is not a message (a snapshot's tail
    /// replays only messages, so one from before it would miss it).
    fn graph_copy_now(&mut self) -> Option<IdentityGraph> {
        self.listener.as_ref()?;
        self.since_snapshot = 0;
        Some(self.graph.clone())
    }

    /// Resolves identity and appends the message's writes.
    fn stage(&mut self, message: Message, ops: &mut Vec<WriteOp>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        stage_message(&mut self.graph, message, seq, ops);
    }

    /// Hands a committed group to the listener (answered once it saw it),
    /// or answers it at once without one.
    fn hand_over(&self, group: Committed) {
        match &self.listener {
            Some(stage) if !group.ops.is_empty() => stage.send(group),
            _ => finish(group),
        }
    }

    /// Publishes the graph's report when it changed (a link was refused).
    fn publish_identity(&self) {
        let refused = self.graph.refused_links();
        if self.published.read().refused_links != refused {
            *self.published.write() = Arc::new(self.graph.report());
        }
        let coverage = self.graph.enrichment_coverage();
        if *self.coverage.read() != coverage {
            *self.coverage.write() = coverage;
        }
    }

    /// After a failed commit the graph may hold uncommitted changes: rebuild
    /// it from the store, the source of truth.
    fn reload(&mut self) {
        let refused = self.graph.refused_links();
        let rebuilt = rebuild_identity(self.store.as_ref(), self.identity.clone(), &mut |_, _| {})
            .and_then(|graph| Ok((graph, self.store.max_seq()?)));
        let rebuilt = rebuilt.and_then(|(mut graph, max_seq)| {
            graph.set_applied_enrichment(self.store.account_enrichments()?);
            Ok((graph, max_seq))
        });
        match rebuilt {
            Ok((graph, max_seq)) => {
                self.graph = graph;
                self.graph.count_refused(refused);
                self.next_seq = max_seq + 1;
            }
            Err(error) => tracing::error!(%error, "cannot reload identity graph"),
        }
    }
}

/// Resolves the identity of message number `seq` and appends its writes:
/// what the writer commits, and what a snapshot's tail replays.
pub(crate) fn stage_message(
    graph: &mut IdentityGraph,
    message: Message,
    seq: i64,
    ops: &mut Vec<WriteOp>,
) {
    let contact_id = graph.resolve(&message, seq, ops);
    let has_traits = !message.traits.is_empty();
    let trait_op = match (message.kind, contact_id, &message.group_id) {
        (MessageKind::Identify, Some(contact), _) if has_traits => Some(WriteOp::ContactTraits {
            contact,
            traits: message.traits.clone(),
            at: message.timestamp,
            seq,
        }),
        (MessageKind::Group, _, Some(group_id)) if has_traits => Some(WriteOp::AccountTraits {
            group_id: group_id.clone(),
            traits: message.traits.clone(),
            at: message.timestamp,
            seq,
        }),
        _ => None,
    };
    ops.push(WriteOp::Event(StoredEvent {
        seq,
        contact_id,
        message,
    }));
    ops.extend(trait_op);
}
