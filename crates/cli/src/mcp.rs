//! `bellwether mcp`: an MCP session on stdin/stdout for a local agent, over
//! the data directory (logs go to stderr). Run it on a data directory no
//! server is using; agents reach a running server at `/mcp` instead.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::serve::Running;
use crate::settings::StoreArgs;

#[derive(Debug, Args)]
pub(crate) struct McpArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

pub(crate) fn run(args: McpArgs) -> anyhow::Result<ExitCode> {
    let loaded = args.store.load()?;
    let running = Running::start(&args.store, loaded)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let served = runtime.block_on(bellwether_server::mcp::serve_stdio(running.state.clone()));
    drop(runtime);
    running.stop()?;
    served.context("the MCP session failed")?;
    Ok(ExitCode::SUCCESS)
}
