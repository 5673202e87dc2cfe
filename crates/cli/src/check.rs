//! `bellwether check FILE`: validate a configuration and definitions file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The definitions file to validate.
    pub(crate) file: PathBuf,
    /// Print diagnostics as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[allow(clippy::print_stdout)]
pub(crate) fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let loaded = crate::settings::load_config(&args.file)?;
    println!(
        "{}: ok ({} sources, {} tokens)",
        loaded.path.display(),
        loaded.config.source.len(),
        loaded.config.token.len()
    );
    Ok(ExitCode::SUCCESS)
}
