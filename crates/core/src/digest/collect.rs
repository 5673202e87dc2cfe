//! Reads what a digest is built from: the recorded membership changes of
//! its segments, the delivered entry webhooks, the lint findings; then
//! builds it. Blocking (store reads): the server calls it off the async
//! runtime, on a published view.

use std::collections::{BTreeMap, HashSet};

use super::config::DigestConfig;
use super::content::{build, segment_names, Digest, Inputs};
use super::schedule::Window;
use crate::engine::View;
use crate::message::Millis;
use crate::reports::{self, LintParams, ReportError};
use crate::store::{DeliveryFilter, DeliveryState, Store};
use crate::subject::{DefKind, SubjectKey, SubjectKind, Transition};

/// Delivered rows read per page, and pages at most per segment: the
/// newest 20,000 delivered webhooks of a segment are looked at.
const PAGE: usize = 1_000;
const MAX_PAGES: usize = 20;

/// The digest of `window`, computed at `now`.
pub fn compute(
    config: &DigestConfig,
    view: &View,
    store: &dyn Store,
    window: Window,
    now: Millis,
) -> Result<Digest, ReportError> {
    let mut history = BTreeMap::new();
    let mut delivered = HashSet::new();
    for name in segment_names(config, view) {
        let records = store.definition_history(&name, window.from)?;
        let has_entries = records
            .iter()
            .any(|r| r.change == Transition::Entered && (window.from..window.to).contains(&r.at));
        if has_entries {
            delivered_entries(store, &name, window, &mut delivered)?;
        }
        history.insert(name, records);
    }
    let lint = reports::lint(view, LintParams::default(), &mut |name| {
        Ok(!store.definition_history(name, Millis::MIN)?.is_empty())
    })?
    .findings;
    build(
        config,
        window,
        Inputs {
            view,
            now,
            history: &history,
            delivered: &delivered,
            lint,
        },
    )
}

/// Adds the delivered `segment.entered` webhooks of `segment` in the
/// period: (segment, subject, instant). Newest first by
/// commit order; stops at a page entirely older than the period.
fn delivered_entries(
    store: &dyn Store,
    segment: &str,
    window: Window,
    out: &mut HashSet<(String, SubjectKey, Millis)>,
) -> Result<(), ReportError> {
    let mut filter = DeliveryFilter {
        definition: Some(segment.to_owned()),
        state: Some(DeliveryState::Delivered),
        ..DeliveryFilter::default()
    };
    for _ in 0..MAX_PAGES {
        let page = store.deliveries(&filter, PAGE)?;
        let mut any_in_or_after = false;
        for (_, delivery) in &page {
            let record = &delivery.record;
            any_in_or_after |= record.at >= window.from;
            let subject = SubjectKind::parse(&record.subject_kind)
                .and_then(|kind| SubjectKey::from_store(kind, &record.subject_key));
            if let Some(subject) = subject.filter(|_| {
                record.definition_kind == DefKind::Segment.as_str()
                    && record.change == Transition::Entered.as_str()
                    && (window.from..window.to).contains(&record.at)
            }) {
                out.insert((segment.to_owned(), subject, record.at));
            }
        }
        match page.last() {
            Some((seq, _)) if page.len() == PAGE && any_in_or_after => filter.before = Some(*seq),
            _ => break,
        }
    }
    Ok(())
}
