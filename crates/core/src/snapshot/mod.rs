//! The engine snapshot: the identity graph and every subject's state
//! (timelines with the kept properties, trait histories, account links) as
//! of one position of the store's log, in one file beside the store.
//!
//! A start reads it and replays only the messages stored after its
//! position ([`tail`]) through the writer's own staging, instead of
//! replaying the whole log twice (identity, then events). It is written
//! after a start that had to read the whole store, and when the server
//! stops. It is used only when it still describes the store: same format,
//! same `[identity]` rules, the properties the definitions read all kept,
//! and the stored events up to its position unchanged (their count and the
//! last one's id); otherwise the start reads the store as before, and says
//! why. Definitions are not part of it: values, memberships and timers are
//! recomputed from the subjects and the recorded history, as on every start.
//!
//! Layout: `BWSNAP` magic, format number (u32 LE), then a MessagePack
//! header and body each preceded by its length (u64 LE), then a CRC-32 of
//! header and body. Written to a temporary file, synced, then renamed.

mod tail;

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use bellwether_rules::PropertyKeys;
use serde::{Deserialize, Serialize};

use crate::engine::{Subjects, View};
use crate::identity::{IdentityConfig, IdentityGraph};
use crate::progress::Progress;
use crate::store::{Store, StoreError};

/// File name of the snapshot in the data directory.
pub const FILE_NAME: &str = "engine.snapshot";

const MAGIC: &[u8; 6] = b"BWSNAP";

/// Bumped whenever the layout or the meaning of what is stored changes:
/// a snapshot of another format is ignored (the store is read instead).
const FORMAT: u32 = 4;

/// What a snapshot covers, checked before its body is read.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    /// The Bellwether version that wrote it (for people; `FORMAT` decides).
    written_by: String,
    identity: IdentityConfig,
    /// The highest event sequence number it holds.
    position: i64,
    /// Stored events with a sequence number of at most `position`.
    events: u64,
    /// `(source, messageId)` of the event at `position`.
    last_message: Option<(String, String)>,
}

#[derive(Serialize)]
struct BodyRef<'a> {
    graph: &'a IdentityGraph,
    state: crate::engine::StateImage,
}

#[derive(Deserialize)]
struct Body {
    graph: IdentityGraph,
    state: crate::engine::StateImage,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot write the engine snapshot {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the engine snapshot: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a snapshot was not used (the start reads the whole store).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stale {
    #[error("no snapshot yet")]
    Missing,
    #[error("the snapshot cannot be read: {0}")]
    Unreadable(String),
    #[error("the snapshot was written in another format")]
    OtherFormat,
    #[error("the [identity] rules changed since the snapshot")]
    OtherIdentityRules,
    #[error("the definitions read event properties the snapshot did not keep")]
    PropertiesNotKept,
    #[error("the stored events up to the snapshot's position changed (deleted or replaced)")]
    StoreChanged,
}

/// Subjects and identity graph as of the end of the store's log.
pub struct Resumed {
    pub graph: IdentityGraph,
    pub subjects: Subjects,
    /// Messages replayed after the snapshot's position.
    pub tail: u64,
    /// Stored events up to the snapshot's position (checked against the
    /// store as it was read).
    pub events: u64,
}

/// The snapshot's path in a data directory.
pub fn path_in(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Writes the snapshot of `graph` and `engine`'s subjects, which must both
/// reflect exactly the store's events up to the engine's position (a
/// stopped writer, or a start before the writer runs).
pub fn save(
    path: &Path,
    store: &dyn Store,
    graph: &IdentityGraph,
    engine: &View,
) -> Result<u64, SnapshotError> {
    write(path, store, graph, engine.subjects_image())
}

/// [`save`] of subjects no engine holds yet (an import's, built from what
/// its writer committed), which with `graph` must reflect exactly the
/// store's events up to their position.
pub fn save_subjects(
    path: &Path,
    store: &dyn Store,
    graph: &IdentityGraph,
    subjects: &Subjects,
) -> Result<u64, SnapshotError> {
    write(path, store, graph, subjects.0.image())
}

/// [`save`] from an image already taken (from a published view: no engine
/// lock is held while the store is read and the image encoded and written).
pub(crate) fn write(
    path: &Path,
    store: &dyn Store,
    graph: &IdentityGraph,
    state: crate::engine::StateImage,
) -> Result<u64, SnapshotError> {
    let position = state.position();
    let header = Header {
        written_by: env!("CARGO_PKG_VERSION").to_owned(),
        identity: graph.config().clone(),
        position,
        events: store.events_through(position)?,
        last_message: message_at(store, position)?,
    };
    let header = rmp_serde::to_vec_named(&header)?;
    let body = rmp_serde::to_vec(&BodyRef { graph, state })?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header);
    crc.update(&body);
    let write_error = |source| SnapshotError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        // An import into PostgreSQL may be the first to use the data dir.
        std::fs::create_dir_all(dir).map_err(write_error)?;
    }
    let temporary = path.with_extension("snapshot.tmp");
    let mut file = BufWriter::new(File::create(&temporary).map_err(write_error)?);
    let mut write = |bytes: &[u8]| file.write_all(bytes);
    write(MAGIC)
        .and_then(|()| write(&FORMAT.to_le_bytes()))
        .and_then(|()| write(&(header.len() as u64).to_le_bytes()))
        .and_then(|()| write(&header))
        .and_then(|()| write(&(body.len() as u64).to_le_bytes()))
        .and_then(|()| write(&body))
        .and_then(|()| write(&crc.finalize().to_le_bytes()))
        .map_err(write_error)?;
    let file = file.into_inner().map_err(|e| write_error(e.into_error()))?;
    file.sync_all().map_err(write_error)?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(write_error)?;
    if let Some(dir) = path.parent() {
        // The rename itself must survive a crash.
        File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(write_error)?;
    }
    Ok((MAGIC.len() + 4 + 8 + header.len() + 8 + body.len() + 4) as u64)
}

/// Reads the snapshot at `path` and replays the store's later messages.
/// `Ok(Err(stale))` when it cannot be used; errors only for the store.
pub fn resume(
    path: &Path,
    store: &dyn Store,
    identity: &IdentityConfig,
    keep: &PropertyKeys,
    progress: &mut dyn Progress,
) -> Result<Result<Resumed, Stale>, StoreError> {
    let bytes = match read_file(path) {
        Ok(bytes) => bytes,
        Err(stale) => return Ok(Err(stale)),
    };
    let (header, body) = match parse(&bytes) {
        Ok(parts) => parts,
        Err(stale) => return Ok(Err(stale)),
    };
    if let Err(stale) = check(&header, store, identity)? {
        return Ok(Err(stale));
    }
    let phase = std::time::Instant::now();
    let body: Body = match rmp_serde::from_slice(body) {
        Ok(body) => body,
        Err(error) => return Ok(Err(Stale::Unreadable(error.to_string()))),
    };
    let subjects = match Subjects::from_image(body.state) {
        Ok(subjects) => subjects,
        Err(error) => return Ok(Err(Stale::Unreadable(error.to_string()))),
    };
    if subjects
        .kept_properties()
        .is_some_and(|kept| !kept.covers(keep))
    {
        return Ok(Err(Stale::PropertiesNotKept));
    }
    tracing::debug!(
        bytes = bytes.len(),
        elapsed_ms = phase.elapsed().as_millis() as u64,
        "engine snapshot decoded"
    );
    let mut graph = body.graph.configured(identity.clone());
    crate::ingest::restore_enrichment_answers(store, &identity.enrichment)?;
    let mut subjects = subjects;
    let tail = tail::replay(store, &mut graph, &mut subjects, progress)?;
    Ok(Ok(Resumed {
        graph,
        subjects,
        tail,
        events: header.events,
    }))
}

fn read_file(path: &Path) -> Result<Vec<u8>, Stale> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut file) => file
            .read_to_end(&mut bytes)
            .map_err(|e| Stale::Unreadable(e.to_string()))?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(Stale::Missing),
        Err(error) => return Err(Stale::Unreadable(error.to_string())),
    };
    Ok(bytes)
}

/// The header and body, after checking magic, format and checksum.
fn parse(bytes: &[u8]) -> Result<(Header, &[u8]), Stale> {
    let truncated = || Stale::Unreadable("truncated".to_owned());
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| Stale::Unreadable("not a Bellwether engine snapshot".to_owned()))?;
    let (format, rest) = split_u32(rest).ok_or_else(truncated)?;
    if format != FORMAT {
        return Err(Stale::OtherFormat);
    }
    let (header, rest) = split_sized(rest).ok_or_else(truncated)?;
    let (body, rest) = split_sized(rest).ok_or_else(truncated)?;
    let (crc, rest) = split_u32(rest).ok_or_else(truncated)?;
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(header);
    hasher.update(body);
    if !rest.is_empty() || hasher.finalize() != crc {
        return Err(Stale::Unreadable("checksum mismatch".to_owned()));
    }
    let header: Header =
        rmp_serde::from_slice(header).map_err(|e| Stale::Unreadable(e.to_string()))?;
    Ok((header, body))
}

fn split_u32(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<4>()?;
    Some((u32::from_le_bytes(*head), rest))
}

fn split_sized(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<8>()?;
    let len = usize::try_from(u64::from_le_bytes(*head)).ok()?;
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// Whether the snapshot still describes the store and the identity rules.
fn check(
    header: &Header,
    store: &dyn Store,
    identity: &IdentityConfig,
) -> Result<Result<(), Stale>, StoreError> {
    if !header.identity.same_rules(identity) {
        return Ok(Err(Stale::OtherIdentityRules));
    }
    if store.events_through(header.position)? != header.events
        || message_at(store, header.position)? != header.last_message
    {
        return Ok(Err(Stale::StoreChanged));
    }
    Ok(Ok(()))
}

/// `(source, messageId)` of the stored event numbered `seq`.
fn message_at(store: &dyn Store, seq: i64) -> Result<Option<(String, String)>, StoreError> {
    Ok(store
        .scan_events(seq - 1, 1)?
        .into_iter()
        .find(|event| event.seq == seq)
        .map(|event| (event.message.source, event.message.message_id)))
}
