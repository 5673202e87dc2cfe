//! `bellwether serve`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bellwether_core::actions::config::reference_problems;
use bellwether_core::engine::{Engine, LoadOptions, Recorded, Subjects, View};
use bellwether_core::identity::IdentityGraph;
use bellwether_core::ingest::Ingestor;
use bellwether_core::pipeline::ActionRouter;
use bellwether_core::pipeline::EngineHandle;
use bellwether_core::snapshot;
use bellwether_core::{Clock, SystemClock};
use bellwether_server::metrics::Metrics;
use bellwether_server::AppState;
use clap::Args;

use crate::settings::{Loaded, StoreArgs, DEFAULT_LISTEN};
use crate::subjects;

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Address to listen on.
    #[arg(long, env = "BELLWETHER_LISTEN")]
    pub(crate) listen: Option<String>,
}

pub(crate) fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let loaded = args.store.load()?;
    let listen = args
        .listen
        .clone()
        .or_else(|| loaded.config.server.listen.clone())
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    serve_loaded(&args.store, loaded, &listen, |_| {})
}

/// Opens the store, starts the writer and serves until Ctrl-C or SIGTERM.
/// `on_ready` gets the bound address once the server accepts connections.
pub(crate) fn serve_loaded(
    store_args: &StoreArgs,
    loaded: Loaded,
    listen: &str,
    on_ready: impl FnOnce(std::net::SocketAddr),
) -> anyhow::Result<ExitCode> {
    let config_path = loaded.path.clone();
    let running = Running::start(store_args, loaded)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let state = running.state.clone();
    runtime.block_on(async {
        bellwether_server::enrichment::apply_at_start(&state).await;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        tracing::info!(%address, config = %config_path.display(), "bellwether is listening");
        let (stop_dispatcher, dispatcher_stopped) = tokio::sync::oneshot::channel::<()>();
        let dispatcher = tokio::spawn(bellwether_server::actions::run_dispatcher(
            dispatcher_parts(&state),
            async {
                let _ = dispatcher_stopped.await;
            },
        ));
        let (stop_retention, retention_stopped) = tokio::sync::oneshot::channel::<()>();
        let retention = tokio::spawn(bellwether_server::retention::run(
            state.ingestor.clone(),
            state.config.retention.clone(),
            state.clock.clone(),
            state.metrics.clone(),
            async {
                let _ = retention_stopped.await;
            },
        ));
        let (stop_enrichment, enrichment_stopped) = tokio::sync::oneshot::channel::<()>();
        let enrichment = tokio::spawn(bellwether_server::enrichment::run(state.clone(), async {
            let _ = enrichment_stopped.await;
        }));
        let (stop_digests, digests_stopped) = tokio::sync::oneshot::channel::<()>();
        let digests = tokio::spawn(bellwether_server::digest::run(
            bellwether_server::digest::DigestParts {
                state: state.clone(),
                poll: bellwether_server::digest::DEFAULT_POLL,
            },
            async {
                let _ = digests_stopped.await;
            },
        ));
        let (stop_conversions, conversions_stopped) = tokio::sync::oneshot::channel::<()>();
        let conversions = tokio::spawn(bellwether_server::conversion_cache::run(
            state.clone(),
            async {
                let _ = conversions_stopped.await;
            },
        ));
        on_ready(address);
        bellwether_server::serve(listener, state, shutdown_signal()).await?;
        let _ = stop_dispatcher.send(());
        let _ = stop_retention.send(());
        let _ = stop_enrichment.send(());
        let _ = stop_digests.send(());
        let _ = stop_conversions.send(());
        let _ = conversions.await;
        let _ = digests.await;
        let _ = dispatcher.await;
        let _ = retention.await;
        let _ = enrichment.await;
        anyhow::Ok(())
    })?;
    drop(runtime);
    running.stop()?;
    tracing::info!("stopped cleanly");
    Ok(ExitCode::SUCCESS)
}

/// What the webhook dispatcher works with.
fn dispatcher_parts(state: &AppState) -> bellwether_server::actions::DispatcherParts {
    bellwether_server::actions::DispatcherParts {
        store: state.store.clone(),
        destinations: state.config.destination.clone(),
        clock: state.clock.clone(),
        metrics: state.metrics.clone(),
        wake: state.engine.outbox_written(),
    }
}

/// Everything behind the interfaces: store, engine, writer, timers.
pub(crate) struct Running {
    pub(crate) state: AppState,
    engine: EngineHandle,
    writer: std::thread::JoinHandle<IdentityGraph>,
    timers: std::thread::JoinHandle<()>,
    snapshot: std::path::PathBuf,
    /// What the snapshot on disk covers.
    saved: Option<Saved>,
}

/// What a snapshot covers: the engine's position, the stored events up to
/// it (a deletion changes them, not the position) and the kept properties.
type Saved = (i64, Option<u64>, Option<bellwether_rules::PropertyKeys>);

impl Running {
    pub(crate) fn start(store_args: &StoreArgs, loaded: Loaded) -> anyhow::Result<Self> {
        let definitions = store_args.definitions(&loaded)?;
        tracing::info!(
            definitions = definitions.order().len(),
            "definitions loaded"
        );
        let config = Arc::new(loaded.config);
        let store = store_args.open_writer_store(&config, "serve")?;
        let definitions_file = store_args.definitions_file(&config);
        std::fs::create_dir_all(store_args.data_dir(&config))
            .context("cannot create the data directory")?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let mut problems = reference_problems(&config.destination, &definitions);
        problems.extend(bellwether_core::digest::reference_problems(
            &config.digest,
            &definitions,
        ));
        problems.extend(config.reports.reference_problems(&definitions));
        if !problems.is_empty() {
            anyhow::bail!("invalid configuration:\n  {}", problems.join("\n  "));
        }
        let router = ActionRouter::new(config.destination.clone(), config.pool.clone());
        let data_dir = store_args.data_dir(&config);
        let started = std::time::Instant::now();
        let start = subjects::start(
            store.as_ref(),
            &data_dir,
            &config.identity,
            subjects::kept_properties(&config, &definitions),
            subjects::Reads::GraphAndHistory,
        )?;
        let (snapshot_events, tail) = (start.snapshot_events, start.tail);
        let graph = start.graph.context("the identity graph was not rebuilt")?;
        let engine = load_engine(
            store.clone(),
            definitions,
            start.subjects,
            start.recorded,
            clock.clone(),
            router,
        )?;
        let metrics = Arc::new(Metrics::new());
        let elapsed = started.elapsed().as_secs_f64();
        metrics.record_start(snapshot_events.is_some(), tail, elapsed);
        let snapshot = snapshot::path_in(&data_dir);
        engine.write_snapshots_to(snapshot.clone(), store.clone());
        let saved = match snapshot_events {
            // Resumed with nothing after it: the snapshot on disk covers
            // what the engine holds (its event count was checked as it was
            // read; counting again takes a second at 10M events).
            Some(events) if tail == 0 => Some(covering(&engine.view(), Some(events))),
            // The next start skips what this one read (even after a crash).
            _ => save_snapshot(&snapshot, store.as_ref(), &graph, &engine),
        };
        let (ingestor, writer) = Ingestor::start_with(
            store.clone(),
            graph,
            config.ingest.clone(),
            Some(Box::new(engine.listener())),
        )
        .context("cannot start the writer")?;
        let timers = engine
            .spawn_timers()
            .context("cannot start the timer thread")?;
        let state = AppState {
            config,
            store,
            ingestor,
            engine: engine.clone(),
            definitions_file: Some(definitions_file),
            clock,
            metrics,
            inbox: Arc::default(),
            report_slots: Default::default(),
            conversion_cache: Default::default(),
        };
        Ok(Self {
            state,
            engine,
            writer,
            timers,
            snapshot,
            saved,
        })
    }

    /// Lets the writer drain (once every other handle to it is gone), then
    /// records what fell due, stops the timers and writes the snapshot the
    /// next start resumes from.
    pub(crate) fn stop(self) -> anyhow::Result<()> {
        let store = self.state.store.clone();
        drop(self.state);
        let Ok(graph) = self.writer.join() else {
            anyhow::bail!("the writer thread panicked");
        };
        self.engine.stop();
        if self.timers.join().is_err() {
            anyhow::bail!("the timer thread panicked");
        }
        if self.saved != Some(covered(store.as_ref(), &self.engine)) {
            save_snapshot(&self.snapshot, store.as_ref(), &graph, &self.engine);
        }
        Ok(())
    }
}

/// What a snapshot of the engine now would cover.
fn covered(store: &dyn bellwether_core::Store, engine: &EngineHandle) -> Saved {
    let view = engine.view();
    let events = store.events_through(view.position()).ok();
    covering(&view, events)
}

/// What a snapshot of `view` covers, `events` being the stored events up
/// to its position.
fn covering(view: &View, events: Option<u64>) -> Saved {
    (view.position(), events, view.kept_properties().cloned())
}

/// Writes the engine snapshot; returns what it covers. A failure costs only
/// the next start's time.
fn save_snapshot(
    path: &std::path::Path,
    store: &dyn bellwether_core::Store,
    graph: &IdentityGraph,
    engine: &EngineHandle,
) -> Option<Saved> {
    let started = std::time::Instant::now();
    let engine = engine.view();
    match snapshot::save(path, store, graph, &engine) {
        Ok(bytes) => {
            tracing::info!(
                snapshot = %path.display(),
                bytes,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "engine snapshot written"
            );
            let events = store.events_through(engine.position()).ok();
            Some(covering(&engine, events))
        }
        Err(error) => {
            tracing::warn!(%error, "engine snapshot not written");
            None
        }
    }
}

/// Starts the engine from `subjects` (and the `recorded` history, when
/// read already) and evaluates the definitions as of now.
pub(crate) fn load_engine(
    store: Arc<dyn bellwether_core::Store>,
    definitions: bellwether_rules::RuleSet,
    subjects: Subjects,
    recorded: Option<Recorded>,
    clock: Arc<dyn Clock>,
    mut router: ActionRouter,
) -> anyhow::Result<EngineHandle> {
    let started = std::time::Instant::now();
    let assignments = store
        .assignments()
        .context("cannot read owner assignments")?;
    router.restore(assignments);
    let options = LoadOptions {
        watches: router.watches(),
        backfill_history: true,
        recorded,
    };
    // Only a first start walks history; the bar stays hidden otherwise.
    let bar = crate::progress::bar(
        0,
        "{spinner} history [{bar:40}] {pos}/{len} accounts and lone contacts (eta {eta})",
    );
    let engine = Engine::start(
        store.as_ref(),
        Arc::new(definitions),
        subjects,
        options,
        clock.now_ms(),
        &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )
    .context("cannot load the engine state")?;
    bar.finish_and_clear();
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        timers = engine.pending_timers(),
        "engine loaded"
    );
    EngineHandle::recording_with(engine, clock, store, router)
        .context("cannot start the recorder thread")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
