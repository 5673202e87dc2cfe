//! Where the config file, data directory and database come from: flags, then
//! `BELLWETHER_*` environment variables, then the `[server]` table, then
//! defaults (`./bellwether.toml`, `./bellwether-data`, `127.0.0.1:8787`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use bellwether_core::config::Config;
use bellwether_core::Store;
use clap::Args;

pub(crate) const DEFAULT_CONFIG: &str = "bellwether.toml";
pub(crate) const DEFAULT_DATA_DIR: &str = "bellwether-data";
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// Flags shared by every command that opens the store.
#[derive(Debug, Clone, Args)]
pub(crate) struct StoreArgs {
    /// Configuration file.
    #[arg(long, env = "BELLWETHER_CONFIG", default_value = DEFAULT_CONFIG)]
    pub(crate) config: PathBuf,
    /// Data directory of the embedded SQLite store.
    #[arg(long, env = "BELLWETHER_DATA")]
    pub(crate) data: Option<PathBuf>,
    /// `postgres://…` to use PostgreSQL instead of the embedded store.
    #[arg(long, env = "BELLWETHER_DATABASE")]
    pub(crate) database: Option<String>,
}

/// The loaded configuration plus the file's text (definitions are read from it).
pub(crate) struct Loaded {
    pub(crate) config: Config,
    pub(crate) text: String,
    pub(crate) path: PathBuf,
}

impl StoreArgs {
    pub(crate) fn load(&self) -> anyhow::Result<Loaded> {
        load_config(&self.config)
    }

    pub(crate) fn data_dir(&self, config: &Config) -> PathBuf {
        self.data
            .clone()
            .or_else(|| config.server.data_dir.as_ref().map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    }

    pub(crate) fn open_store(&self, config: &Config) -> anyhow::Result<Arc<dyn Store>> {
        let database = self
            .database
            .clone()
            .or_else(|| config.server.database.clone());
        let data_dir = self.data_dir(config);
        bellwether_store::open_store(database.as_deref(), &data_dir)
            .with_context(|| format!("cannot open the store (data dir {})", data_dir.display()))
    }

    /// Opens the store for `command` (`serve`, `import`), the one process
    /// that writes to it: fails at once, naming the holder, when another
    /// process already does (SPEC section 7, "One writer").
    pub(crate) fn open_writer_store(
        &self,
        config: &Config,
        command: &str,
    ) -> anyhow::Result<Arc<dyn Store>> {
        let database = self
            .database
            .clone()
            .or_else(|| config.server.database.clone());
        let data_dir = self.data_dir(config);
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_owned())
            .unwrap_or_else(|_| "this host".to_owned());
        let holder = format!("bellwether {command}, pid {} on {host}", std::process::id());
        match bellwether_store::open_store_as_writer(database.as_deref(), &data_dir, &holder) {
            Ok(store) => Ok(store),
            Err(error @ bellwether_core::StoreError::Locked { .. }) => Err(error.into()),
            Err(error) => Err(anyhow::Error::new(error).context(format!(
                "cannot open the store (data dir {})",
                data_dir.display()
            ))),
        }
    }
}

/// Definitions applied through the API live here, beside the data, and take
/// precedence over the config file's tables.
const API_DEFINITIONS: &str = "definitions.toml";

impl StoreArgs {
    pub(crate) fn definitions_file(&self, config: &Config) -> PathBuf {
        self.data_dir(config).join(API_DEFINITIONS)
    }

    /// The definitions in force: the last ones applied through the API, else
    /// the config file's.
    pub(crate) fn definitions(&self, loaded: &Loaded) -> anyhow::Result<bellwether_rules::RuleSet> {
        let file = self.definitions_file(&loaded.config);
        let (name, text) = match std::fs::read_to_string(&file) {
            Ok(text) => {
                tracing::info!(file = %file.display(), "using definitions applied through the API");
                (file.display().to_string(), text)
            }
            Err(_) => (loaded.path.display().to_string(), loaded.text.clone()),
        };
        bellwether_rules::RuleSet::from_toml(&name, &text).map_err(|diagnostics| {
            anyhow::anyhow!("invalid definitions:\n{}", diagnostics.render())
        })
    }
}

pub(crate) fn load_config(path: &Path) -> anyhow::Result<Loaded> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let mut config = Config::from_toml(&text)
        .with_context(|| format!("invalid config file {}", path.display()))?;
    let base = path.parent().unwrap_or_else(|| Path::new("."));
    config
        .load_enrichment(base)
        .with_context(|| format!("invalid config file {}", path.display()))?;
    Ok(Loaded {
        config,
        text,
        path: path.to_owned(),
    })
}
