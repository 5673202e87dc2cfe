//! `bellwether demo`: a working Bellwether in one command. Writes the example
//! definitions into a data directory, loads the built-in personas (hand-made
//! stories, one per shipped segment) plus a generated population
//! (`bellwether gen`, seeded, 180 days), and serves it.

use std::io::{Cursor, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::settings::{load_config, StoreArgs};

/// The shipped example definitions (the same file as `examples/b2b.toml`).
const EXAMPLE_CONFIG: &str = include_str!("../../../../examples/b2b.toml");

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = crate::settings::DEFAULT_LISTEN)]
    pub(crate) listen: String,
    /// Data directory (wiped and refilled).
    #[arg(long, default_value = "bellwether-demo")]
    pub(crate) data: PathBuf,
    /// Admin token to create (random when absent).
    #[arg(long)]
    pub(crate) token: Option<String>,
    /// Seed of the built-in data set.
    #[arg(long, default_value_t = 7)]
    pub(crate) seed: u64,
    /// Generated messages loaded besides the personas (0 for none).
    #[arg(long, default_value_t = 250_000)]
    pub(crate) events: usize,
}

pub(crate) fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    if args.data.exists() {
        std::fs::remove_dir_all(&args.data)
            .with_context(|| format!("cannot clear {}", args.data.display()))?;
    }
    std::fs::create_dir_all(&args.data)?;
    let token = args.token.clone().unwrap_or_else(random_token);
    let config_path = args.data.join("bellwether.toml");
    // The generated world's enrichment tables sit beside the config.
    let enrichment = args.events > 0;
    std::fs::write(&config_path, demo_config(&token, &args.listen, enrichment))
        .context("cannot write the demo config")?;
    let store_args = StoreArgs {
        config: config_path.clone(),
        data: Some(args.data.clone()),
        database: None,
    };
    let started = std::time::Instant::now();
    let personas = crate::demo::data::events(args.seed);
    let generated = generate_population(&args)?;
    let loaded = load_config(&config_path)?;
    let store = store_args.open_store(&loaded.config)?;
    let source = loaded
        .config
        .source
        .first()
        .map_or("web".to_owned(), |s| s.name.clone());
    let population = std::fs::File::open(&generated).context("cannot read the generated data")?;
    let summary = crate::import::import_reader(
        store,
        &loaded.config,
        &source,
        // The population first: the store numbers its contacts 1, 2, … in
        // file order, the numbers `gen`'s holdout draw assumed.
        Box::new(population.chain(Cursor::new(personas))),
        None,
        crate::import::snapshot_target(&store_args, &loaded),
    )?;
    drop(loaded);
    println!(
        "loaded {} demo events into {} in {:.1} s",
        summary.stored,
        args.data.display(),
        started.elapsed().as_secs_f64()
    );
    let loaded = load_config(&config_path)?;
    crate::serve::serve_loaded(&store_args, loaded, &args.listen, |address| {
        println!("Bellwether demo is running at http://{address}/");
        println!("API token (admin): {token}");
        println!(
            "try: curl -H 'Authorization: Bearer {token}' http://{address}/api/v1/contacts/user-1"
        );
    })
}

/// Writes the generated population into the data directory.
fn generate_population(args: &DemoArgs) -> anyhow::Result<PathBuf> {
    let path = args.data.join("generated.ndjson");
    let gen_args = crate::gen::GenArgs {
        seed: args.seed,
        events: args.events,
        contacts: None,
        accounts: None,
        days: 180,
        end: None,
        out: Some(path.clone()),
        tables: (args.events > 0).then(|| args.data.clone()),
        // The population is imported first, into an empty store.
        first_contact: 1,
    };
    let file = std::fs::File::create(&path).context("cannot write the generated data")?;
    if args.events > 0 {
        let now = bellwether_core::Clock::now_ms(&bellwether_core::SystemClock);
        let plan = gen_args.plan(now)?;
        let progress = indicatif::ProgressBar::new(plan.events as u64);
        crate::gen::generate(&plan, &mut std::io::BufWriter::new(file), &progress)?;
        progress.finish_and_clear();
        crate::gen::write_tables(&plan, &args.data)?;
    }
    Ok(path)
}

/// The example config with the admin token replaced by the demo's, and a
/// destination to the server's own built-in inbox (`POST /inbox`), so the
/// routing of hot accounts and churn risks can be watched at
/// `/api/v1/inbox` with nothing else running; with `enrichment`, the
/// generated world's company and network tables (`bellwether gen --tables`).
const EXAMPLE_INBOX_URL: &str = "http://127.0.0.1:8787/inbox";
const EXAMPLE_INBOX_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn demo_config(token: &str, listen: &str, enrichment: bool) -> String {
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD.encode(random_token());
    let secret = format!("whsec_{key}");
    // The example's digest destination is the inbox: the demo's address
    // and signing secret.
    let mut config = EXAMPLE_CONFIG
        .replace("demo-admin-token", token)
        .replace(EXAMPLE_INBOX_URL, &format!("http://{listen}/inbox"))
        .replace(EXAMPLE_INBOX_SECRET, &secret);
    config.push_str(&format!(
        r#"
[server]
inbox_secret = "{secret}"
demo_site = true

[[destination]]
name = "demo-inbox"
url = "http://{listen}/inbox"
secret = "{secret}"
segments = ["hot_intent", "churn_risk", "buying_committee_active"]
tiers = ["intent_level"]
scores = [{{ score = "intent", threshold = 50 }}]
"#
    ));
    if enrichment {
        config.push_str(
            r#"
[[enrichment]]
name = "companies"
kind = "domains"
file = "companies.csv"

[[enrichment]]
name = "office networks"
kind = "ip"
file = "ranges.csv"
"#,
        );
    }
    config
}

fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut text = String::from("bw_");
    for _ in 0..2 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        text.push_str(&format!("{:016x}", hasher.finish()));
    }
    text
}

mod data;
