//! `/accounts/{group_id}`: firmographics, fit and intent scores, the buying
//! committee (contacts with role and intent, most intent first), account
//! segments and tiers with explanations, and stage progression over time.

use axum::extract::{Path, Query, State};
use bellwether_rules::SubjectKind;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::auth::Viewer;
use super::layout::{self, Nav};
use super::subject::{self, Current, Memberships};
use super::{format, Page, UiState};
use crate::api::committee::{self, CommitteeMember};
use crate::api::contacts;
use crate::api::history::{history_view, HistoryView};

#[derive(Debug, Deserialize)]
pub(crate) struct AccountParams {
    /// A segment or tier whose explanation starts open.
    explain: Option<String>,
}

pub(crate) async fn page(
    State(ui): State<UiState>,
    viewer: Viewer,
    Path(group_id): Path<String>,
    Query(params): Query<AccountParams>,
) -> Page {
    let app = &ui.app;
    let account = contacts::account_view(app, &viewer.headers, group_id.clone()).await?;
    let committee = committee::buying_committee(app, &viewer.headers, &account).await?;
    let history =
        history_view(app, &viewer.headers, SubjectKind::Account, group_id.clone()).await?;
    let memberships = Memberships::load(
        &ui,
        &viewer,
        Current {
            subject: SubjectKind::Account,
            id: &group_id,
            member_of: &account.segments,
            levels: &account.tiers,
        },
        &history,
        |engine, tier, now| engine.explain_account_tier(&group_id, tier, now),
    )
    .await?;
    let now = app.engine.now();
    let name = account
        .traits
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(&group_id)
        .to_owned();
    let body = html! {
        (layout::heading(&format!("Account · {group_id}"), &name, html! {}))
        (subject::score_stats(&account.scores, &account.segments, &account.tiers))
        div.columns {
            div.wide {
                (committee_card(&committee, account.contacts.len()))
                (stages_card(&history, now))
                (memberships.segments_card(params.explain.as_deref(), now))
                (memberships.tiers_card(params.explain.as_deref(), now))
                (subject::score_charts(&history, now))
            }
            aside.side {
                (subject::traits_card("Firmographics", &account.traits))
                (subject::history_card(&history, now))
            }
        }
    };
    Ok(layout::page(&name, Nav::Detail, Some(&viewer), body))
}

fn committee_card(committee: &[CommitteeMember], contacts: usize) -> Markup {
    html! {
        section.card #committee {
            h2 { "Buying committee" }
            @if committee.is_empty() {
                (layout::empty("No contacts linked to this account yet."))
            } @else {
                table.data {
                    thead { tr {
                        th scope="col" { "Contact" }
                        th scope="col" { "Role" }
                        th scope="col" { "Title" }
                        th.num scope="col" { "Intent" }
                        th scope="col" { "Segments" }
                    } }
                    tbody {
                        @for member in committee {
                            tr {
                                td { (layout::subject_link("contact", &member.id)) }
                                td { (text_or_dash(&member.role)) }
                                td { (text_or_dash(&member.title)) }
                                td.num { @match member.intent() { Some(v) => (format::compact(v)), None => span.muted { "–" } } }
                                td { @for segment in &member.segments { (layout::pill(segment, "subject")) " " } }
                            }
                        }
                    }
                }
                @if contacts > committee.len() {
                    p.muted.small { "Showing the first " (committee.len()) " of " (contacts) " contacts." }
                }
            }
        }
    }
}

fn text_or_dash(value: &Value) -> Markup {
    match value {
        Value::Null => html! { span.muted { "–" } },
        other => html! { (format::json_text(other)) },
    }
}

/// One stretch of time at a tier level.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stage {
    pub(crate) level: String,
    pub(crate) from: i64,
    /// `None`: still at this level.
    pub(crate) until: Option<i64>,
}

/// Each account tier's levels over time, from its recorded changes.
pub(crate) fn stages(history: &HistoryView) -> Vec<(String, Vec<Stage>)> {
    let mut tiers: Vec<(String, Vec<Stage>)> = Vec::new();
    for change in &history.changes {
        if change.definition_kind != "tier" {
            continue;
        }
        let (tier, at) = (&change.definition, change.at_ms);
        let index = match tiers.iter().position(|(name, _)| name == tier) {
            Some(index) => index,
            None => {
                tiers.push((tier.to_owned(), Vec::new()));
                tiers.len() - 1
            }
        };
        let list = &mut tiers[index].1;
        if let Some(open) = list.last_mut().filter(|s| s.until.is_none()) {
            open.until = Some(at);
        }
        if change.change == "entered" {
            let level = change.level.clone().unwrap_or_default();
            list.push(Stage {
                level,
                from: at,
                until: None,
            });
        }
    }
    tiers
}

fn stages_card(history: &HistoryView, now: i64) -> Markup {
    let tiers = stages(history);
    html! {
        section.card #stages {
            h2 { "Stage progression" }
            @if tiers.is_empty() { (layout::empty("No tier changes recorded for this account yet.")) }
            @for (tier, list) in &tiers {
                @let start = list.first().map_or(now, |s| s.from);
                h3 { (format::label(tier)) }
                div.stagebar role="img" aria-label={(tier) " levels over time"} {
                    @for (i, stage) in list.iter().enumerate() {
                        @let width = (stage.until.unwrap_or(now) - stage.from).max(1);
                        span class={"seg s" (i % 6)} style={"flex-grow:" (width)} title={(stage.level) " from " (format::date_time(stage.from))} { (stage.level) }
                    }
                }
                ol.steps {
                    @for stage in list {
                        li {
                            strong { (stage.level) } " "
                            span.muted { (format::day_month(stage.from)) " – " (stage.until.map_or("now".to_owned(), format::day_month)) }
                        }
                    }
                }
                p.muted.small { "Since " (format::date_time(start)) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::api::history::HistoryChangeView;
    use crate::segment::parse_timestamp;

    use super::*;

    fn change(
        at: &str,
        change: &'static str,
        kind: &'static str,
        definition: &str,
        level: Option<&str>,
    ) -> HistoryChangeView {
        HistoryChangeView {
            at: at.to_owned(),
            at_ms: parse_timestamp(at).expect("an instant"),
            id: "acme".to_owned(),
            change,
            definition_kind: kind,
            definition: definition.to_owned(),
            level: level.map(str::to_owned),
        }
    }

    #[test]
    fn stages_follow_tier_changes_in_order() {
        let history = HistoryView {
            changes: vec![
                change(
                    "2026-01-01T00:00:00.000Z",
                    "entered",
                    "tier",
                    "stage",
                    Some("aware"),
                ),
                change(
                    "2026-01-01T00:00:00.000Z",
                    "entered",
                    "segment",
                    "hot",
                    None,
                ),
                change(
                    "2026-01-05T00:00:00.000Z",
                    "exited",
                    "tier",
                    "stage",
                    Some("aware"),
                ),
                change(
                    "2026-01-05T00:00:00.000Z",
                    "entered",
                    "tier",
                    "stage",
                    Some("engaged"),
                ),
            ],
            scores: Vec::new(),
        };
        let tiers = stages(&history);
        assert_eq!(tiers.len(), 1);
        let (name, list) = &tiers[0];
        assert_eq!(name, "stage");
        let levels: Vec<(&str, bool)> = list
            .iter()
            .map(|s| (s.level.as_str(), s.until.is_some()))
            .collect();
        assert_eq!(levels, [("aware", true), ("engaged", false)]);
        assert_eq!(list[0].until, Some(list[1].from));
    }
}
