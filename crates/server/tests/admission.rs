//! Back-pressure and commit failures on the real write path, with a failure
//! point injected in front of a real SQLite store: a saturated queue answers
//! 429 with `Retry-After` at once, a failed commit answers 503 (SDKs retry)
//! and stores nothing, and the next commit works.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use bellwether_core::config::Config;
use bellwether_core::engine::{Engine, SubjectKey};
use bellwether_core::identity::IdentityConfig;
use bellwether_core::ingest::{IngestConfig, Ingestor};
use bellwether_core::message::{ContactId, Millis, Rejection, StoredEvent};
use bellwether_core::pipeline::EngineHandle;
use bellwether_core::store::{
    AccountRecord, AttemptOutcome, ContactRecord, Delivery, DeliveryFilter, IdKind,
    IdentitySnapshot, MembershipRecord, MergeRecord, RecordedAssignments, ScoreRecord, TraitChange,
    WriteOp,
};
use bellwether_core::{ManualClock, Store, StoreError};
use bellwether_rules::RuleSet;
use bellwether_server::metrics::Metrics;
use bellwether_server::AppState;
use bellwether_store::SqliteStore;
use serde_json::{json, Value};

/// A real store behind two failure points: a gate that holds commits, and a
/// switch that makes the next commit fail.
struct Faulty {
    inner: SqliteStore,
    gate_open: Mutex<bool>,
    gate: Condvar,
    fail_next: AtomicBool,
    /// A track event name the store refuses (as PostgreSQL refuses a NUL).
    poison: Mutex<Option<String>>,
}

impl Faulty {
    fn open_gate(&self) {
        *self.gate_open.lock().unwrap() = true;
        self.gate.notify_all();
    }
}

impl Store for Faulty {
    fn backend(&self) -> &'static str {
        "faulty-sqlite"
    }
    fn apply(&self, ops: &[WriteOp]) -> Result<(), StoreError> {
        let mut open = self.gate_open.lock().unwrap();
        while !*open {
            open = self.gate.wait(open).unwrap();
        }
        drop(open);
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Database("injected: disk full".into()));
        }
        if let Some(poison) = self.poison.lock().unwrap().as_deref() {
            let refused = ops.iter().any(|op| {
                matches!(op, WriteOp::Event(event) if event.message.event.as_deref() == Some(poison))
            });
            if refused {
                return Err(StoreError::Database("injected: value refused".into()));
            }
        }
        self.inner.apply(ops)
    }
    fn seen_message_ids(&self, source: &str, ids: &[&str]) -> Result<HashSet<String>, StoreError> {
        self.inner.seen_message_ids(source, ids)
    }
    fn load_identity(&self) -> Result<IdentitySnapshot, StoreError> {
        self.inner.load_identity()
    }
    fn contact_by_identity(
        &self,
        kind: IdKind,
        value: &str,
    ) -> Result<Option<ContactRecord>, StoreError> {
        self.inner.contact_by_identity(kind, value)
    }
    fn contact(&self, id: ContactId) -> Result<Option<ContactRecord>, StoreError> {
        self.inner.contact(id)
    }
    fn account(&self, group_id: &str) -> Result<Option<AccountRecord>, StoreError> {
        self.inner.account(group_id)
    }
    fn contact_events(
        &self,
        contact: ContactId,
        limit: usize,
        before: Option<(Millis, i64)>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.inner.contact_events(contact, limit, before)
    }
    fn scan_events(&self, after_seq: i64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        self.inner.scan_events(after_seq, limit)
    }
    fn contact_trait_history(&self, contact: ContactId) -> Result<Vec<TraitChange>, StoreError> {
        self.inner.contact_trait_history(contact)
    }
    fn account_trait_history(&self, group_id: &str) -> Result<Vec<TraitChange>, StoreError> {
        self.inner.account_trait_history(group_id)
    }
    fn merges_into(&self, contact: ContactId) -> Result<Vec<MergeRecord>, StoreError> {
        self.inner.merges_into(contact)
    }
    fn recent_rejections(&self, limit: usize) -> Result<Vec<Rejection>, StoreError> {
        self.inner.recent_rejections(limit)
    }
    fn expired_events(
        &self,
        before: i64,
        seqs: std::ops::RangeInclusive<i64>,
    ) -> Result<Vec<bellwether_core::store::ExpiredEvent>, StoreError> {
        self.inner.expired_events(before, seqs)
    }

    fn events_through(&self, seq: i64) -> Result<u64, StoreError> {
        self.inner.events_through(seq)
    }

    fn enriched_traits(&self) -> Result<Vec<bellwether_core::store::EnrichedTraitRow>, StoreError> {
        self.inner.enriched_traits()
    }

    fn account_enrichments(
        &self,
    ) -> Result<Vec<bellwether_core::store::AccountEnrichmentRecord>, StoreError> {
        self.inner.account_enrichments()
    }

    fn enrichment_answers(
        &self,
    ) -> Result<Vec<bellwether_core::store::EnrichmentAnswerRecord>, StoreError> {
        self.inner.enrichment_answers()
    }

    fn event_count(&self) -> Result<u64, StoreError> {
        self.inner.event_count()
    }
    fn latest_memberships(&self) -> Result<(Vec<MembershipRecord>, Option<Millis>), StoreError> {
        self.inner.latest_memberships()
    }
    fn discard_unconfirmed_history(&self) -> Result<u64, StoreError> {
        self.inner.discard_unconfirmed_history()
    }
    fn subject_history(&self, subject: &SubjectKey) -> Result<Vec<MembershipRecord>, StoreError> {
        self.inner.subject_history(subject)
    }
    fn definition_history(
        &self,
        definition: &str,
        since: Millis,
    ) -> Result<Vec<MembershipRecord>, StoreError> {
        self.inner.definition_history(definition, since)
    }
    fn score_history(&self, subject: &SubjectKey) -> Result<Vec<ScoreRecord>, StoreError> {
        self.inner.score_history(subject)
    }
    fn latest_scores(&self) -> Result<Vec<ScoreRecord>, StoreError> {
        self.inner.latest_scores()
    }
    fn due_deliveries(
        &self,
        now: Millis,
        skip: &[String],
        limit: usize,
    ) -> Result<Vec<(i64, Delivery)>, StoreError> {
        self.inner.due_deliveries(now, skip, limit)
    }
    fn record_attempts(&self, attempts: &[(String, AttemptOutcome)]) -> Result<(), StoreError> {
        self.inner.record_attempts(attempts)
    }
    fn deliveries(
        &self,
        filter: &DeliveryFilter,
        limit: usize,
    ) -> Result<Vec<(i64, Delivery)>, StoreError> {
        self.inner.deliveries(filter, limit)
    }
    fn replay_dead(&self, ids: Option<&[String]>, now: Millis) -> Result<usize, StoreError> {
        self.inner.replay_dead(ids, now)
    }
    fn outbox_depth(&self) -> Result<Vec<(String, u64, u64)>, StoreError> {
        self.inner.outbox_depth()
    }
    fn set_destination_disabled(
        &self,
        destination: &str,
        disabled: Option<(Millis, &str)>,
    ) -> Result<(), StoreError> {
        self.inner.set_destination_disabled(destination, disabled)
    }
    fn disabled_destinations(&self) -> Result<Vec<(String, Millis, String)>, StoreError> {
        self.inner.disabled_destinations()
    }
    fn assignments(&self) -> Result<RecordedAssignments, StoreError> {
        self.inner.assignments()
    }
    fn suppressions(&self) -> Result<Vec<bellwether_core::store::Suppression>, StoreError> {
        self.inner.suppressions()
    }
    fn deletions(
        &self,
        limit: usize,
    ) -> Result<Vec<bellwether_core::store::DeletionRecord>, StoreError> {
        self.inner.deletions(limit)
    }
    fn digests_sent(&self) -> Result<Vec<bellwether_core::store::DigestSentRecord>, StoreError> {
        self.inner.digests_sent()
    }
}

struct Harness {
    base: String,
    ingestor: Ingestor,
    store: Arc<Faulty>,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

fn start(max_pending_messages: usize) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Faulty {
        inner: SqliteStore::open(dir.path()).unwrap(),
        gate_open: Mutex::new(true),
        gate: Condvar::new(),
        fail_next: AtomicBool::new(false),
        poison: Mutex::new(None),
    });
    let config = Config::from_toml("[[source]]\nname='web'\nwrite_key='wk'\n").unwrap();
    let ingest = IngestConfig {
        max_pending_messages,
        ..IngestConfig::default()
    };
    let (ingestor, _writer) =
        Ingestor::start(store.clone(), IdentityConfig::default(), ingest, None).unwrap();
    let state = AppState {
        config: Arc::new(config),
        store: store.clone(),
        ingestor: ingestor.clone(),
        engine: EngineHandle::new(
            Engine::new(Arc::new(RuleSet::from_toml("empty.toml", "").unwrap())),
            Arc::new(ManualClock::new(1_700_000_000_000)),
        ),
        definitions_file: None,
        clock: Arc::new(ManualClock::new(1_700_000_000_000)),
        metrics: Arc::new(Metrics::new()),
        inbox: Arc::default(),
        report_slots: Default::default(),
        conversion_cache: Default::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(bellwether_server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    Harness {
        base,
        ingestor,
        store,
        _dir: dir,
        _runtime: runtime,
    }
}

fn batch(user: &str, count: usize) -> Value {
    let messages: Vec<_> = (0..count)
        .map(|i| json!({"type": "track", "userId": user, "event": "X", "messageId": format!("{user}-{i}")}))
        .collect();
    json!({ "batch": messages })
}

fn post(base: &str, body: &Value) -> reqwest::blocking::Response {
    reqwest::blocking::Client::new()
        .post(format!("{base}/v1/batch"))
        .basic_auth("wk", Some(""))
        .json(body)
        .send()
        .unwrap()
}

fn wait_pending(ingestor: &Ingestor, expected: usize) {
    for _ in 0..500 {
        if ingestor.pending() == expected {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!(
        "{} messages pending, expected {expected}",
        ingestor.pending()
    );
}

#[test]
fn a_message_the_store_refuses_fails_alone_not_its_group() {
    let harness = start(1_000);
    *harness.store.poison.lock().unwrap() = Some("Poison".into());
    *harness.store.gate_open.lock().unwrap() = false;
    // The first request holds the writer at the gate, so the next two wait
    // in the queue and are committed as one group.
    let post_in_thread = |body: Value| {
        let base = harness.base.clone();
        std::thread::spawn(move || post(&base, &body).status().as_u16())
    };
    let blocker = post_in_thread(batch("blocker", 1));
    wait_pending(&harness.ingestor, 1);
    let good = post_in_thread(batch("good", 3));
    wait_pending(&harness.ingestor, 4);
    let poisoned = post_in_thread(json!({"batch": [
        {"type": "track", "userId": "bad", "event": "Poison", "messageId": "p1"}
    ]}));
    wait_pending(&harness.ingestor, 5);
    harness.store.open_gate();
    assert_eq!(blocker.join().unwrap(), 200);
    assert_eq!(
        good.join().unwrap(),
        200,
        "a good request shared a commit with a refused one"
    );
    assert_eq!(poisoned.join().unwrap(), 503);
    assert_eq!(harness.store.event_count().unwrap(), 4);
    // Nothing of the refused request was kept in the identity graph.
    assert!(harness
        .store
        .contact_by_identity(IdKind::User, "bad")
        .unwrap()
        .is_none());
    assert_eq!(
        post(&harness.base, &batch("after", 1)).status().as_u16(),
        200
    );
}

#[test]
fn saturated_write_path_answers_429_with_retry_after() {
    let harness = start(10);
    *harness.store.gate_open.lock().unwrap() = false;
    let base = harness.base.clone();
    let first = std::thread::spawn(move || post(&base, &batch("held", 10)).status().as_u16());
    // Wait until the first request holds every admission permit.
    for _ in 0..500 {
        if harness.ingestor.pending() == 10 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        harness.ingestor.pending(),
        10,
        "the held batch was never admitted"
    );
    let refused = post(&harness.base, &batch("late", 1));
    assert_eq!(
        refused.status().as_u16(),
        429,
        "a saturated queue must refuse at once"
    );
    assert_eq!(refused.headers().get("retry-after").unwrap(), "1");
    let body: Value = refused.json().unwrap();
    assert_eq!(body["code"], "overloaded");
    harness.store.open_gate();
    assert_eq!(first.join().unwrap(), 200);
    assert_eq!(
        post(&harness.base, &batch("late", 1)).status().as_u16(),
        200,
        "accepted once drained"
    );
}

#[test]
fn failed_commit_answers_503_stores_nothing_and_recovers() {
    let harness = start(1_000);
    harness.store.fail_next.store(true, Ordering::SeqCst);
    let response = post(&harness.base, &batch("retry", 3));
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(harness.store.event_count().unwrap(), 0);
    // The SDK retries the same batch: now it is stored, exactly once, and the
    // identity graph did not keep the contact from the failed attempt.
    let response = post(&harness.base, &batch("retry", 3));
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(harness.store.event_count().unwrap(), 3);
    let contact = harness
        .store
        .contact_by_identity(IdKind::User, "retry")
        .unwrap()
        .unwrap();
    assert_eq!(contact.id, 1, "contact numbering restarted from the store");
}
