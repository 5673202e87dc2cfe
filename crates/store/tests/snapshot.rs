//! The engine snapshot against a real SQLite store and the real writer: a
//! start that resumes from a snapshot and replays the messages stored after
//! it reaches exactly the subjects a start reading the whole store reaches,
//! and its identity graph resolves later messages exactly as one that never
//! stopped. A snapshot the store no longer matches is refused. Subjects
//! applied from the writer's commits (what `import` keeps for its
//! snapshot) equal a full read too.

use std::sync::Arc;

use bellwether_core::engine::{Engine, Subjects};
use bellwether_core::event_pages::read_beside;
use bellwether_core::identity::{IdentityConfig, IdentityGraph, IdentityReport};
use bellwether_core::ingest::{CommitListener, IngestConfig, Ingestor};
use bellwether_core::snapshot::{self, Stale};
use bellwether_core::store::{IdKind, WriteOp};
use bellwether_core::whole_store::{replay_and_load, WholeStore};
use bellwether_core::{Message, MessageKind, Store};
use bellwether_rules::RuleSet;
use bellwether_store::SqliteStore;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const T0: i64 = 1_700_000_000_000;
const HOUR: i64 = 3_600_000;

const RULES: &str = r#"
[[segment]]
name = "pro_pricing"
subject = "contact"
when = 'count("Pricing Viewed" where plan = "pro", last 30d) >= 1 and trait.role = "admin"'

[[segment]]
name = "busy_account"
subject = "account"
when = 'count(contacts where in_segment("pro_pricing")) >= 1 or trait.tier = "gold"'
"#;

fn rules() -> Arc<RuleSet> {
    Arc::new(RuleSet::from_toml("snapshot.toml", RULES).expect("valid rules"))
}

/// `(kind, user, anonymous id, hours after T0, variant)`.
type Raw = (u8, u8, u8, i64, u8);

fn arb_message() -> impl Strategy<Value = Raw> {
    (0u8..6, 0u8..4, 0u8..4, 0i64..200, 0u8..3)
}

fn to_message(index: usize, (kind, user, anon, hours, variant): Raw) -> Message {
    let user_id = format!("user-{user}");
    let anonymous_id = format!("anon-{anon}");
    let mut message = Message {
        source: "web".into(),
        message_id: format!("m{index}"),
        kind: MessageKind::Track,
        user_id: Some(user_id),
        anonymous_id: None,
        previous_id: None,
        group_id: None,
        event: Some("Pricing Viewed".into()),
        properties: object(json!({"plan": pick(["free", "pro", "team"], variant), "noise": index})),
        traits: Map::new(),
        context: Map::new(),
        timestamp: T0 + hours * HOUR,
        received_at: T0 + hours * HOUR,
        sent_at: None,
        original_timestamp: None,
    };
    match kind {
        // A visitor before they sign in.
        0 => {
            message.user_id = None;
            message.anonymous_id = Some(anonymous_id);
        }
        // Signing in claims the browser (shared browsers included).
        1 => {
            message.kind = MessageKind::Identify;
            message.event = None;
            message.anonymous_id = Some(anonymous_id);
            message.traits = object(json!({"role": pick(["admin", "viewer", "admin"], variant)}));
        }
        // An anonymous identify with an email ties ids together.
        2 => {
            message.kind = MessageKind::Identify;
            message.event = None;
            message.user_id = None;
            message.anonymous_id = Some(anonymous_id);
            message.traits = object(json!({"email": format!("p{user}@acme{variant}.com")}));
        }
        3 => {
            message.kind = MessageKind::Group;
            message.event = None;
            message.group_id = Some(format!("g{}", variant % 2));
            message.traits = object(json!({"tier": pick(["gold", "silver", "gold"], variant)}));
        }
        4 => message.event = Some("Logged In".into()),
        _ => {}
    }
    message
}

fn pick(values: [&'static str; 3], variant: u8) -> &'static str {
    values[usize::from(variant) % 3]
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Commits `messages` through the real writer, in batches, starting from
/// `graph`; returns the graph the writer hands back when it stops.
fn ingest(
    store: &Arc<SqliteStore>,
    graph: IdentityGraph,
    messages: &[Message],
    batch: usize,
) -> IdentityGraph {
    ingest_heard(store, graph, messages, batch, None)
}

/// [`ingest`], with `listener` told of every commit.
fn ingest_heard(
    store: &Arc<SqliteStore>,
    graph: IdentityGraph,
    messages: &[Message],
    batch: usize,
    listener: Option<Box<dyn CommitListener>>,
) -> IdentityGraph {
    let (ingestor, writer) = Ingestor::start_with(
        store.clone() as Arc<dyn Store>,
        graph,
        IngestConfig::default(),
        listener,
    )
    .expect("writer starts");
    for chunk in messages.chunks(batch.max(1)) {
        let receipt = ingestor
            .submit(chunk.to_vec(), Vec::new())
            .expect("admitted");
        receipt
            .blocking_recv()
            .expect("answered")
            .expect("committed");
    }
    drop(ingestor);
    writer.join().expect("writer stops cleanly")
}

/// `messages` written by a fresh writer to a new store, `batch` at a time.
fn stored(messages: &[Message], batch: usize) -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteStore::open(dir.path()).expect("store opens"));
    ingest(
        &store,
        IdentityGraph::new(IdentityConfig::default()),
        messages,
        batch,
    );
    (dir, store)
}

/// Generated messages, numbered from `first`.
fn numbered(raw: Vec<Raw>, first: usize) -> Vec<Message> {
    raw.into_iter()
        .enumerate()
        .map(|(i, r)| to_message(first + i, r))
        .collect()
}

/// Applies every commit to subjects it shares (what `import` keeps).
struct Applier(Arc<parking_lot::Mutex<Subjects>>);

impl CommitListener for Applier {
    fn committed(&mut self, ops: &[WriteOp]) {
        self.0.lock().apply(ops);
    }
}

fn full_load(store: &SqliteStore) -> Subjects {
    Subjects::load(store, rules().property_keys()).expect("loads")
}

fn save(dir: &std::path::Path, store: &SqliteStore, graph: &IdentityGraph) {
    let engine = Engine::with_subjects(rules(), full_load(store));
    snapshot::save(&snapshot::path_in(dir), store, graph, &engine).expect("snapshot written");
}

fn resume(dir: &std::path::Path, store: &SqliteStore) -> Result<snapshot::Resumed, Stale> {
    snapshot::resume(
        &snapshot::path_in(dir),
        store,
        &IdentityConfig::default(),
        &rules().property_keys(),
        &mut |_, _| {},
    )
    .expect("store readable")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn resuming_from_a_snapshot_equals_reading_the_whole_store(
        raw in proptest::collection::vec(arb_message(), 1..60),
        split in 0usize..60,
        later in proptest::collection::vec(arb_message(), 0..20),
        batch in 1usize..9,
    ) {
        let messages = numbered(raw, 0);
        let split = split.min(messages.len());
        let later = numbered(later, 1_000);

        // Stopped after `split` messages with a snapshot, then the rest
        // arrived (the snapshot is now behind: a crash, or an import).
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let graph = ingest(&store, IdentityGraph::new(IdentityConfig::default()), &messages[..split], batch);
        save(dir.path(), &store, &graph);
        ingest(&store, graph, &messages[split..], batch);

        let resumed = resume(dir.path(), &store).expect("snapshot usable");
        prop_assert_eq!(resumed.tail, (messages.len() - split) as u64);
        let reference = full_load(&store);
        prop_assert!(resumed.subjects == reference, "resumed subjects differ from a full load:\n{:#?}\n{:#?}", resumed.subjects.describe(), reference.describe());
        let at = T0 + 300 * HOUR;
        prop_assert_eq!(
            Engine::with_subjects(rules(), resumed.subjects).evaluate_all(at),
            Engine::with_subjects(rules(), reference).evaluate_all(at)
        );

        // The resumed graph goes on exactly like one that never stopped.
        ingest(&store, resumed.graph, &later, batch);
        let straight_dir = tempfile::tempdir().unwrap();
        let straight = Arc::new(SqliteStore::open(straight_dir.path()).unwrap());
        let kept = ingest(&straight, IdentityGraph::new(IdentityConfig::default()), &messages, batch);
        ingest(&straight, kept, &later, batch);
        prop_assert!(full_load(&store) == full_load(&straight), "the resumed writer resolved later messages differently:\n{}\n{}", full_load(&store).describe(), full_load(&straight).describe());
    }

    #[test]
    fn subjects_applied_from_the_writers_commits_equal_a_full_read(
        raw in proptest::collection::vec(arb_message(), 1..60),
        batch in 1usize..9,
    ) {
        let messages = numbered(raw, 0);
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let kept = Arc::new(parking_lot::Mutex::new(Subjects::empty(rules().property_keys())));
        let listener: Box<dyn CommitListener> = Box::new(Applier(Arc::clone(&kept)));
        let graph = ingest_heard(&store, IdentityGraph::new(IdentityConfig::default()), &messages, batch, Some(listener));
        let kept = std::mem::take(&mut *kept.lock());
        let reference = full_load(&store);
        prop_assert!(kept == reference, "applied subjects differ from a full load:\n{:#?}\n{:#?}", kept.describe(), reference.describe());

        // Their snapshot, in a directory nobody created yet, resumes to the
        // same subjects with nothing to replay.
        let fresh = dir.path().join("not-yet");
        snapshot::save_subjects(&snapshot::path_in(&fresh), store.as_ref(), &graph, &kept).expect("snapshot written");
        let resumed = resume(&fresh, &store).expect("snapshot usable");
        prop_assert_eq!(resumed.tail, 0);
        prop_assert!(resumed.subjects == reference);
    }
}

#[test]
fn a_snapshot_is_refused_when_the_store_or_the_rules_changed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let messages: Vec<Message> = (0..5)
        .map(|i| to_message(i, (5, 0, 0, i as i64, 1)))
        .collect();
    let graph = ingest(
        &store,
        IdentityGraph::new(IdentityConfig::default()),
        &messages,
        2,
    );
    assert!(matches!(resume(dir.path(), &store), Err(Stale::Missing)));
    save(dir.path(), &store, &graph);
    assert!(resume(dir.path(), &store).is_ok());

    // Other identity rules.
    let other = IdentityConfig {
        account_from_email_domain: false,
        ..IdentityConfig::default()
    };
    let refused = snapshot::resume(
        &snapshot::path_in(dir.path()),
        store.as_ref(),
        &other,
        &rules().property_keys(),
        &mut |_, _| {},
    )
    .unwrap();
    assert!(matches!(refused, Err(Stale::OtherIdentityRules)));

    // Definitions reading a property the snapshot did not keep.
    let wider = RuleSet::from_toml(
        "wider.toml",
        "[[segment]]\nname = \"s\"\nsubject = \"contact\"\nwhen = 'count(\"Pricing Viewed\" where seats > 3) >= 1'\n",
    )
    .unwrap();
    let refused = snapshot::resume(
        &snapshot::path_in(dir.path()),
        store.as_ref(),
        &IdentityConfig::default(),
        &wider.property_keys(),
        &mut |_, _| {},
    )
    .unwrap();
    assert!(matches!(refused, Err(Stale::PropertiesNotKept)));

    // Another store with as many events (a restored backup, a copy).
    let other_dir = tempfile::tempdir().unwrap();
    let other_store = Arc::new(SqliteStore::open(other_dir.path()).unwrap());
    let renamed: Vec<Message> = messages
        .iter()
        .cloned()
        .map(|mut m| {
            m.message_id.push_str("-copy");
            m
        })
        .collect();
    ingest(
        &other_store,
        IdentityGraph::new(IdentityConfig::default()),
        &renamed,
        2,
    );
    std::fs::copy(
        snapshot::path_in(dir.path()),
        snapshot::path_in(other_dir.path()),
    )
    .unwrap();
    assert!(matches!(
        resume(other_dir.path(), &other_store),
        Err(Stale::StoreChanged)
    ));

    // A torn or corrupted file.
    let path = snapshot::path_in(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        resume(dir.path(), &store),
        Err(Stale::Unreadable(_))
    ));
    std::fs::write(&path, &bytes[..10]).unwrap();
    assert!(matches!(
        resume(dir.path(), &store),
        Err(Stale::Unreadable(_))
    ));
}

/// A start that reads the whole store: the identity replay and the
/// subjects load on one shared read.
fn whole_read(store: &SqliteStore) -> WholeStore {
    replay_and_load(
        store,
        &IdentityConfig::default(),
        rules().property_keys(),
        &mut |_, _| {},
    )
    .expect("the whole store read")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn one_shared_read_rebuilds_the_graph_and_loads_the_subjects_as_two_reads_do(
        raw in proptest::collection::vec(arb_message(), 1..60),
        batch in 1usize..9,
    ) {
        let (_dir, store) = stored(&numbered(raw, 0), batch);

        let (graph, corrections) =
            IdentityGraph::rebuild(IdentityConfig::default(), store.as_ref(), &mut |_, _| {}).unwrap();
        let shared = whole_read(&store);
        // Loaded after the shared read: the store as it corrected it.
        let reference = full_load(&store);
        prop_assert!(shared.subjects == reference, "shared read:\n{}\nown read:\n{}", shared.subjects.describe(), reference.describe());
        prop_assert_eq!(shared.corrections, corrections.len());
        prop_assert_eq!(resolution(&shared.graph), resolution(&graph));
    }
}

/// What a graph answers for every id and email the generated messages
/// use, and each contact's account.
fn resolution(
    graph: &IdentityGraph,
) -> (usize, IdentityReport, Vec<Option<i64>>, Vec<Option<String>>) {
    let ids = (0..4).flat_map(|n| {
        let emails = (0..3).map(move |v| (IdKind::Email, format!("p{n}@acme{v}.com")));
        [
            (IdKind::User, format!("user-{n}")),
            (IdKind::Anonymous, format!("anon-{n}")),
        ]
        .into_iter()
        .chain(emails)
    });
    let contacts = ids
        .map(|(kind, value)| graph.lookup(kind, &value))
        .collect();
    let accounts = (1..=64)
        .map(|contact| graph.account_of(contact).map(str::to_owned))
        .collect();
    (graph.live_contacts(), graph.report(), contacts, accounts)
}

#[test]
fn a_pass_that_stops_listening_leaves_the_other_every_page() {
    let messages: Vec<Message> = (0..40)
        .map(|i| {
            to_message(
                i,
                ((i % 6) as u8, (i % 4) as u8, (i % 3) as u8, i as i64, 1),
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    ingest(
        &store,
        IdentityGraph::new(IdentityConfig::default()),
        &messages,
        4,
    );
    let keep = rules().property_keys();
    let property = |key: &str| keep.contains(key);
    let context = |key: &str| key == "page";
    let subjects = read_beside(store.as_ref(), &property, &context, None, |[left, pages]| {
        drop(left);
        Subjects::load_pages(store.as_ref(), keep.clone(), pages)
    })
    .expect("read");
    assert!(subjects == full_load(&store));
    assert_eq!(subjects.position(), 40);
}

/// Alice, then Bob, signed in on one shared browser, and an older identity
/// rule merged them into contact 1. A start reading the whole store splits
/// them (the replay writes the corrections as it ends) and must hold the
/// subjects of the corrected store, not those of the rows it read beside
/// the replay.
#[test]
fn a_start_that_corrects_the_store_holds_the_corrected_subjects() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let identity = |kind, value: &str, first_seen| WriteOp::Identity {
        kind,
        value: value.to_owned(),
        contact: 1,
        first_seen,
    };
    let event = |seq: i64, kind: u8, user: u8| {
        let message = to_message(usize::try_from(seq).unwrap(), (kind, user, 0, seq, 0));
        WriteOp::Event(bellwether_core::message::StoredEvent {
            seq,
            contact_id: Some(1),
            message,
        })
    };
    store
        .apply(&[
            WriteOp::NewContact {
                id: 1,
                created_at: T0,
            },
            identity(IdKind::User, "user-0", T0),
            identity(IdKind::Anonymous, "anon-0", T0),
            identity(IdKind::User, "user-1", T0 + 3 * HOUR),
            event(1, 1, 0),
            event(2, 5, 0),
            event(3, 1, 1),
            event(4, 0, 1),
            event(5, 5, 1),
        ])
        .unwrap();
    let as_stored = full_load(&store);

    let whole = whole_read(&store);

    assert!(whole.corrections > 0, "the older rule's merge is split");
    let corrected = full_load(&store);
    assert!(
        corrected != as_stored,
        "the corrections moved events:\n{}",
        corrected.describe()
    );
    assert!(
        whole.subjects == corrected,
        "the start holds:\n{}\nthe corrected store:\n{}",
        whole.subjects.describe(),
        corrected.describe()
    );
    assert_eq!(
        whole_read(&store).corrections,
        0,
        "a corrected store needs nothing"
    );
}
