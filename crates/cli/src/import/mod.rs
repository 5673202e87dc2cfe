//! `bellwether import FILE`: bulk-load NDJSON Segment messages through the
//! same validation, deduplication and identity resolution as the HTTP API,
//! leaving the engine snapshot the next start resumes from ([`snapshot`]).

mod snapshot;

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bellwether_core::clock::{Clock, SystemClock};
use bellwether_core::ingest::{Ingestor, PendingReceipt, Receipt};
use bellwether_core::message::Rejection;
use bellwether_core::{Message, Store};
use bellwether_server::segment::{parse_message, ParseContext};
use clap::Args;
use indicatif::ProgressBar;

use crate::settings::StoreArgs;
use snapshot::KeptSubjects;

const CHUNK: usize = 5_000;
const IN_FLIGHT: usize = 8;

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// NDJSON file, one Segment message per line; `-` reads stdin.
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Source name recorded on the messages (default: the first `[[source]]`).
    #[arg(long)]
    pub(crate) source: Option<String>,
    /// Do not keep the subjects in memory for the engine snapshot: the
    /// import's memory stays bounded, and the next start reads every
    /// stored event instead.
    #[arg(long)]
    pub(crate) no_snapshot: bool,
}

/// What an import did.
#[derive(Debug, Default)]
pub(crate) struct ImportSummary {
    pub(crate) lines: u64,
    pub(crate) stored: u64,
    pub(crate) duplicates: u64,
    pub(crate) rejected: u64,
    pub(crate) reasons: BTreeMap<String, u64>,
}

pub(crate) fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let loaded = args.store.load()?;
    let store = args.store.open_writer_store(&loaded.config, "import")?;
    let source = args
        .source
        .clone()
        .or_else(|| loaded.config.source.first().map(|s| s.name.clone()))
        .unwrap_or_else(|| "import".to_owned());
    let (reader, total) = open_input(&args.file)?;
    let snapshot = match args.no_snapshot {
        true => None,
        false => snapshot_target(&args.store, &loaded),
    };
    let summary = import_reader(store, &loaded.config, &source, reader, total, snapshot)?;
    print_summary(&summary);
    Ok(
        if summary.stored + summary.duplicates == 0 && summary.rejected > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        },
    )
}

fn open_input(path: &PathBuf) -> anyhow::Result<(Box<dyn Read + Send>, Option<u64>)> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(std::io::stdin()), None));
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().ok().map(|m| m.len());
    Ok((Box::new(file), size))
}

/// Where an import leaves the engine snapshot, and the event properties
/// it keeps (what the definitions in force read).
pub(crate) struct SnapshotTarget {
    pub(crate) data_dir: PathBuf,
    pub(crate) keep: bellwether_rules::PropertyKeys,
}

/// The snapshot target of `store`'s data directory, unless the
/// definitions cannot be read (the import goes on without it).
pub(crate) fn snapshot_target(
    store: &StoreArgs,
    loaded: &crate::settings::Loaded,
) -> Option<SnapshotTarget> {
    match store.definitions(loaded) {
        Ok(definitions) => Some(SnapshotTarget {
            data_dir: store.data_dir(&loaded.config),
            keep: crate::subjects::kept_properties(&loaded.config, &definitions),
        }),
        Err(error) => {
            tracing::warn!(%error, "no engine snapshot: the definitions cannot be read");
            None
        }
    }
}

/// Streams `reader` into the store; memory stays bounded by the chunks in
/// flight, plus the subjects when a `snapshot` is kept.
pub(crate) fn import_reader(
    store: Arc<dyn Store>,
    config: &bellwether_core::config::Config,
    source: &str,
    reader: Box<dyn Read + Send>,
    total_bytes: Option<u64>,
    snapshot: Option<SnapshotTarget>,
) -> anyhow::Result<ImportSummary> {
    let kept = match snapshot {
        Some(target) => KeptSubjects::prepare(
            store.as_ref(),
            &target.data_dir,
            &config.identity,
            target.keep,
        )?,
        None => None,
    };
    let ingest = config.ingest.clone();
    let (ingestor, writer, kept) = match kept {
        Some((graph, kept)) => {
            let listener = Some(kept.listener());
            let (ingestor, writer) = Ingestor::start_with(store.clone(), graph, ingest, listener)?;
            (ingestor, writer, Some(kept))
        }
        None => {
            let identity = config.identity.clone();
            let (ingestor, writer) = Ingestor::start(store.clone(), identity, ingest, None)?;
            (ingestor, writer, None)
        }
    };
    let progress = progress_bar(total_bytes);
    let mut summary = ImportSummary::default();
    let mut in_flight: VecDeque<PendingReceipt> = VecDeque::new();
    let mut chunk = Chunk::default();
    let clock = SystemClock;
    for line in BufReader::with_capacity(1 << 20, reader).lines() {
        let line = line.context("cannot read input")?;
        progress.inc(line.len() as u64 + 1);
        summary.lines += 1;
        if line.trim().is_empty() {
            continue;
        }
        chunk.add(
            &line,
            summary.lines,
            source,
            clock.now_ms(),
            config,
            &mut summary,
        );
        if chunk.len() >= CHUNK {
            submit(
                &ingestor,
                std::mem::take(&mut chunk),
                &mut in_flight,
                &mut summary,
            )?;
        }
    }
    submit(&ingestor, chunk, &mut in_flight, &mut summary)?;
    while let Some(pending) = in_flight.pop_front() {
        settle(pending, &mut summary)?;
    }
    progress.finish_and_clear();
    drop(ingestor);
    let graph = writer
        .join()
        .map_err(|_| anyhow::anyhow!("the writer thread panicked"))?;
    if let Some(kept) = kept {
        kept.save(store.as_ref(), &graph);
    }
    Ok(summary)
}

#[derive(Default)]
struct Chunk {
    messages: Vec<Message>,
    rejections: Vec<Rejection>,
}

impl Chunk {
    fn len(&self) -> usize {
        self.messages.len() + self.rejections.len()
    }

    fn add(
        &mut self,
        line: &str,
        line_number: u64,
        source: &str,
        now: i64,
        config: &bellwether_core::config::Config,
        summary: &mut ImportSummary,
    ) {
        let skew = i64::from(config.server.max_future_skew_hours.unwrap_or(24)) * 3_600_000;
        let identity = &config.identity;
        let ctx = ParseContext {
            source,
            received_at: now,
            max_future_skew_ms: skew,
            ..ParseContext::default()
        };
        let parsed = serde_json::from_str(line)
            .map_err(|e| (String::new(), format!("not valid JSON: {e}")))
            .and_then(|value| {
                parse_message(value, &ctx, || format!("import-{now}-{line_number}"))
                    .map_err(|e| (e.field, e.reason))
            })
            .and_then(|message| {
                // Blocked ids are ignored by the identity rules; a message
                // left without any id is refused, as over HTTP.
                identity.screen_ids(&message)?;
                Ok(message)
            });
        match parsed {
            Ok(message) => self.messages.push(message),
            Err((field, reason)) => {
                *summary
                    .reasons
                    .entry(format!("{field}: {reason}"))
                    .or_default() += 1;
                self.rejections.push(Rejection {
                    received_at: now,
                    source: Some(source.to_owned()),
                    message_id: None,
                    index: Some(line_number as usize),
                    field: format!(
                        "line {line_number}{}{field}",
                        if field.is_empty() { "" } else { "." }
                    ),
                    reason,
                    excerpt: line.chars().take(200).collect(),
                    warning: false,
                });
            }
        }
    }
}

fn submit(
    ingestor: &Ingestor,
    chunk: Chunk,
    in_flight: &mut VecDeque<PendingReceipt>,
    summary: &mut ImportSummary,
) -> anyhow::Result<()> {
    if chunk.len() == 0 {
        return Ok(());
    }
    while in_flight.len() >= IN_FLIGHT {
        if let Some(pending) = in_flight.pop_front() {
            settle(pending, summary)?;
        }
    }
    loop {
        match ingestor.submit(chunk.messages.clone(), chunk.rejections.clone()) {
            Ok(pending) => {
                in_flight.push_back(pending);
                return Ok(());
            }
            Err(bellwether_core::ingest::SubmitError::Overloaded) => match in_flight.pop_front() {
                Some(pending) => settle(pending, summary)?,
                None => std::thread::sleep(std::time::Duration::from_millis(10)),
            },
            Err(error) => return Err(error.into()),
        }
    }
}

fn settle(pending: PendingReceipt, summary: &mut ImportSummary) -> anyhow::Result<()> {
    let receipt: Receipt = pending
        .blocking_recv()
        .context("the writer stopped")?
        .context("storing a chunk failed")?;
    summary.stored += receipt.stored as u64;
    summary.duplicates += receipt.duplicates as u64;
    summary.rejected += receipt.rejected as u64;
    Ok(())
}

fn progress_bar(total: Option<u64>) -> ProgressBar {
    let bar = match total {
        Some(total) => ProgressBar::new(total),
        None => ProgressBar::new_spinner(),
    };
    let template = if total.is_some() {
        "{spinner} importing [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})"
    } else {
        "{spinner} importing {bytes} ({bytes_per_sec})"
    };
    crate::progress::styled(bar, template)
}

fn print_summary(summary: &ImportSummary) {
    println!(
        "imported {} lines: {} stored, {} duplicates, {} rejected",
        summary.lines, summary.stored, summary.duplicates, summary.rejected
    );
    for (reason, count) in &summary.reasons {
        println!("  {count:>8} × {reason}");
    }
}
