//! `bellwether gen`: deterministic, realistic B2B data as Segment NDJSON.
//!
//! Accounts with firmographics and technographics, contacts in buying
//! committees, and their behavior (web sessions, emails, trials, product
//! use, quizzes, demo requests) drawn from personas; outcomes (deals won and
//! lost, upgrades) are caused by that behavior in a documented way
//! (`docs/gen.md`), so reports show real, explainable differences.
//!
//! Same seed and flags, same bytes. Output streams: memory grows with the
//! number of contacts, never with the number of events.

mod behavior;
mod outcomes;
mod outreach;
mod world;

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use behavior::{contact_messages, Persona, Sink, Window};
use outreach::Outreach;

const DAY: i64 = 86_400_000;

#[derive(Debug, Args)]
pub(crate) struct GenArgs {
    /// Seed: the same seed and flags give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Messages to write (every line counts: identify, group and behavior).
    #[arg(long, default_value_t = 100_000)]
    pub(crate) events: usize,
    /// Contacts (default: one per 50 events).
    #[arg(long)]
    pub(crate) contacts: Option<usize>,
    /// Accounts (default: one per 6 contacts).
    #[arg(long)]
    pub(crate) accounts: Option<usize>,
    /// Days of history, ending at `--end`.
    #[arg(long, default_value_t = 180)]
    pub(crate) days: u32,
    /// The last instant (RFC 3339); default now.
    #[arg(long)]
    pub(crate) end: Option<String>,
    /// Output file (NDJSON); standard output when absent.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Also write the world's enrichment tables into this directory
    /// (`companies.csv`, `ranges.csv`): group calls then carry only name,
    /// domain and tech (the table gives the firmographics), page views carry
    /// `context.ip` from the account's network, and one contact in ten is
    /// an anonymous visitor who never identifies.
    #[arg(long)]
    pub(crate) tables: Option<PathBuf>,
    /// The contact number the store will give the first generated contact:
    /// 1 when importing into an empty store (the others follow in file
    /// order). The modelled outreach of `hot_intent` skips the contacts
    /// its holdout draw keeps back, and that draw is on the contact number.
    #[arg(long, default_value_t = 1)]
    pub(crate) first_contact: u64,
}

/// The shape of a data set, settled from the flags.
pub(crate) struct Plan {
    pub(crate) seed: u64,
    pub(crate) events: usize,
    pub(crate) contacts: usize,
    pub(crate) accounts: usize,
    pub(crate) start: i64,
    pub(crate) end: i64,
    /// Enrichment mode (`--tables`).
    pub(crate) enrichment: bool,
    /// The store's number for the first generated contact.
    pub(crate) first_contact: u64,
}

impl GenArgs {
    pub(crate) fn plan(&self, now: i64) -> anyhow::Result<Plan> {
        let end = match &self.end {
            Some(text) => bellwether_server::segment::parse_timestamp(text)
                .with_context(|| format!("--end {text:?} is not an RFC 3339 instant"))?,
            None => now,
        };
        anyhow::ensure!(self.days >= 1, "--days must be at least 1");
        let contacts = self.contacts.unwrap_or(self.events / 50).max(1);
        anyhow::ensure!(
            self.events >= contacts * 2,
            "--events {} is too few for {contacts} contacts (each needs an identify and a group call)",
            self.events
        );
        let accounts = self
            .accounts
            .unwrap_or(contacts.div_ceil(6))
            .clamp(1, contacts);
        Ok(Plan {
            seed: self.seed,
            events: self.events,
            contacts,
            accounts,
            start: end - i64::from(self.days) * DAY,
            end,
            enrichment: self.tables.is_some(),
            first_contact: self.first_contact,
        })
    }
}

pub(crate) fn run(args: GenArgs) -> anyhow::Result<ExitCode> {
    let plan = args.plan(bellwether_core::Clock::now_ms(
        &bellwether_core::SystemClock,
    ))?;
    let progress = match &args.out {
        Some(_) => indicatif::ProgressBar::new(plan.events as u64),
        None => indicatif::ProgressBar::hidden(),
    };
    let progress =
        crate::progress::styled(progress, "{bar:40} {pos}/{len} messages ({per_sec}, {eta})");
    let written = match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            generate(&plan, &mut BufWriter::new(file), &progress)?
        }
        None => generate(
            &plan,
            &mut BufWriter::new(std::io::stdout().lock()),
            &progress,
        )?,
    };
    progress.finish_and_clear();
    if let Some(dir) = &args.tables {
        write_tables(&plan, dir)?;
    }
    eprintln!(
        "{written} messages, {} contacts, {} accounts, seed {}",
        plan.contacts, plan.accounts, plan.seed
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the data set; returns the number of messages written.
pub(crate) fn generate(
    plan: &Plan,
    out: &mut dyn Write,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<usize> {
    let outreach = Outreach::new(plan.first_contact)?;
    let mut rng = ChaCha8Rng::seed_from_u64(plan.seed);
    let accounts: Vec<world::Account> = (0..plan.accounts)
        .map(|n| world::account(&mut rng, n, plan.end))
        .map(|account| match plan.enrichment {
            true => account.firmographics_left_to_enrichment(),
            false => account,
        })
        .collect();
    let mut people = Vec::with_capacity(plan.contacts);
    for index in 0..plan.contacts {
        let account = index % plan.accounts;
        let slot = index / plan.accounts;
        let contact = world::contact(&mut rng, index, slot, &accounts[account]);
        let persona = Persona::draw(&mut rng, &contact, &accounts[account]);
        let weight = persona.weight() * (0.5 + contact.intent) * (0.5 + rng.gen::<f64>());
        people.push((contact, persona, account, weight));
    }
    assign_budgets(&mut people, plan.events);
    let window = Window {
        start: plan.start,
        end: plan.end,
    };
    let mut written = 0usize;
    let mut carry = 0usize;
    let mut line = Vec::new();
    for (contact, persona, account, _) in &people {
        let mut emit = |message: Value| -> std::io::Result<()> {
            line.clear();
            serde_json::to_writer(&mut line, &message)?;
            line.push(b'\n');
            written += 1;
            out.write_all(&line)
        };
        let mut sink = Sink {
            emit: &mut emit,
            remaining: contact.budget + carry,
            next_id: 0,
            prefix: format!("g{}-c{}", plan.seed, contact.index),
            end: plan.end,
            ip: plan
                .enrichment
                .then(|| accounts[*account].address(contact.index))
                .flatten(),
            events: Vec::new(),
        };
        // Each contact's own stream: its data does not depend on the others'.
        let mut own = ChaCha8Rng::seed_from_u64(plan.seed);
        own.set_stream(contact.index as u64 + 1);
        let visitor = plan.enrichment && contact.index % 10 == 9;
        if visitor {
            behavior::visitor_messages(&mut own, contact, &window, &mut sink)?;
        } else {
            contact_messages(
                &mut own,
                contact,
                *persona,
                (&accounts[*account], &outreach),
                &window,
                &mut sink,
            )?;
        }
        // What a contact leaves unused goes to the next one.
        carry = sink.remaining;
        progress.set_position(written as u64);
    }
    out.flush()?;
    Ok(written)
}

/// Writes the world's enrichment tables: each account's firmographics by
/// domain, and one /24 network of 10.0.0.0/8 per account (the first
/// 65,536 accounts; later ones have none).
pub(crate) fn write_tables(plan: &Plan, dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut rng = ChaCha8Rng::seed_from_u64(plan.seed);
    let mut companies = String::from("domain,name,industry,employees,revenue_band,country\n");
    let mut ranges = String::from("network,domain\n");
    for n in 0..plan.accounts {
        let account = world::account(&mut rng, n, plan.end);
        let t = &account.traits;
        companies.push_str(&format!(
            "{},{},{},{},{},{}\n",
            account.domain,
            t["name"].as_str().unwrap_or_default(),
            t["industry"].as_str().unwrap_or_default(),
            t["employees"],
            t["revenue_band"].as_str().unwrap_or_default(),
            t["country"].as_str().unwrap_or_default(),
        ));
        if let Some(network) = account.network() {
            ranges.push_str(&format!("{network}/24,{}\n", account.domain));
        }
    }
    for (name, text) in [("companies.csv", companies), ("ranges.csv", ranges)] {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Splits `events` among contacts by weight, at least two each (identify
/// and group), summing exactly to `events`.
fn assign_budgets(people: &mut [(world::Contact, Persona, usize, f64)], events: usize) {
    let spare = events - 2 * people.len();
    let total: f64 = people.iter().map(|p| p.3).sum();
    let mut given = 0;
    for person in people.iter_mut() {
        let share = (spare as f64 * person.3 / total).floor() as usize;
        person.0.budget = 2 + share;
        given += 2 + share;
    }
    if let Some(last) = people.last_mut() {
        last.0.budget += events - given;
    }
}

#[cfg(test)]
mod tests;
