//! `bellwether explain` (SPEC §7): why a contact or account is in or out of
//! a segment as of an instant (now by default), from the stored events:
//! the explanation tree people read, or with `--json` the API's shape
//! (`GET /api/v1/{kind}/{id}/explain/{segment}`).

use std::process::ExitCode;

use anyhow::Context;
use bellwether_core::engine::SubjectKey;
use bellwether_core::store::IdKind;
use bellwether_core::{Clock, SystemClock};
use bellwether_rules::{DefKind, SubjectKind};
use clap::{Args, ValueEnum};

use crate::settings::StoreArgs;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Subject {
    Contact,
    Account,
}

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// The instant, RFC 3339 (default: now).
    #[arg(long)]
    pub(crate) at: Option<String>,
    /// Print the API's JSON instead of the tree.
    #[arg(long)]
    pub(crate) json: bool,
    /// What `id` names.
    #[arg(value_enum)]
    pub(crate) kind: Subject,
    /// A contact's user id, anonymous id or email; an account's group id.
    pub(crate) id: String,
    /// The segment to explain.
    pub(crate) segment: String,
}

pub(crate) fn run(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let at = match &args.at {
        Some(text) => bellwether_server::segment::parse_timestamp(text)
            .with_context(|| format!("--at {text:?} is not an RFC 3339 instant"))?,
        None => SystemClock.now_ms(),
    };
    let wanted = match args.kind {
        Subject::Contact => SubjectKind::Contact,
        Subject::Account => SubjectKind::Account,
    };
    let loaded = args.store.load()?;
    let definitions = args.store.definitions(&loaded)?;
    let defined = definitions
        .order()
        .iter()
        .find(|d| d.kind == DefKind::Segment && *d.name == *args.segment)
        .map(|d| d.subject)
        .with_context(|| format!("no segment named {:?}", args.segment))?;
    if defined != wanted {
        anyhow::bail!(
            "segment {:?} is for {}s, not {}s",
            args.segment,
            defined.as_str(),
            wanted.as_str()
        );
    }
    let store = args.store.open_store(&loaded.config)?;
    let key = match wanted {
        SubjectKind::Contact => {
            let mut found = None;
            for kind in [IdKind::User, IdKind::Anonymous, IdKind::Email] {
                if let Some(record) = store.contact_by_identity(kind, &args.id)? {
                    found = Some(record.id);
                    break;
                }
            }
            SubjectKey::Contact(found.with_context(|| format!("no contact with id {:?}", args.id))?)
        }
        SubjectKind::Account => SubjectKey::Account(args.id.as_str().into()),
    };
    let engine = crate::subjects::engine_as_of(
        store.as_ref(),
        &args.store.data_dir(&loaded.config),
        &loaded.config.identity,
        definitions,
        at,
    )?;
    let missing = || format!("no {} with id {:?}", wanted.as_str(), args.id);
    if args.json {
        let explanation = match &key {
            SubjectKey::Contact(id) => engine.explain_contact(*id, &args.segment, at),
            SubjectKey::Account(group_id) => engine.explain_account(group_id, &args.segment, at),
        }
        .with_context(missing)?;
        println!("{}", serde_json::to_string_pretty(&explanation)?);
    } else {
        let text = engine
            .explain_text(&key, &args.segment, at)
            .with_context(missing)?;
        print!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}
