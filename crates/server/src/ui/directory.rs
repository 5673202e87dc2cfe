//! `/contacts` and `/accounts`: every contact or account, searched by id,
//! email, name or domain, filtered by a segment or a tier level, ordered by
//! id or by a score, a page at a time (through `GET /api/v1/contacts` and
//! `/api/v1/accounts` with the viewer's token).

use axum::extract::State;
use axum::Json;
use bellwether_rules::SubjectKind;
use maud::{html, Markup};
use serde::Deserialize;

use super::auth::Viewer;
use super::layout::{self, Nav};
use super::{format, Page, UiState};
use crate::api::directory::{self, AccountList, ContactList, DirectoryParams};
use crate::api::Query;

const PAGE_SIZE: usize = 50;

/// The page's query string; empty form fields mean "any".
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DirectoryForm {
    q: Option<String>,
    segment: Option<String>,
    tier: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
}

impl DirectoryForm {
    fn params(&self) -> DirectoryParams {
        let given = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        DirectoryParams {
            q: given(&self.q),
            segment: given(&self.segment),
            tier: given(&self.tier),
            sort: given(&self.sort),
            limit: Some(PAGE_SIZE),
            cursor: given(&self.cursor),
        }
    }
}

/// One row, whichever kind of subject.
struct Row {
    id: String,
    name: Option<String>,
    /// A contact's email; an account's domain.
    detail: Option<String>,
    /// A contact's account.
    account: Option<String>,
    score: Option<f64>,
    segments: Vec<String>,
}

/// What the filters offer: segments, `tier:level` pairs and scores of the kind.
struct Choices {
    segments: Vec<String>,
    tier_levels: Vec<String>,
    scores: Vec<String>,
}

pub(crate) async fn contacts(
    State(ui): State<UiState>,
    viewer: Viewer,
    Query(form): Query<DirectoryForm>,
) -> Page {
    let params = form.params();
    let score = sorted_score(&params);
    let Json(list): Json<ContactList> = directory::list_contacts(
        State(ui.app.clone()),
        viewer.headers.clone(),
        Query(params.clone()),
    )
    .await?;
    let rows = list
        .contacts
        .into_iter()
        .map(|c| Row {
            score: score.as_deref().and_then(|s| c.scores.get(s).copied()),
            id: c.id,
            name: c.name,
            detail: c.email,
            account: c.account_id,
            segments: c.segments,
        })
        .collect();
    let listing = Listing {
        kind: SubjectKind::Contact,
        rows,
        matched: list.matched,
        next_cursor: list.next_cursor,
        form: &form,
        score: score.as_deref(),
        choices: choices(&ui, SubjectKind::Contact),
    };
    Ok(render(&listing, &viewer))
}

pub(crate) async fn accounts(
    State(ui): State<UiState>,
    viewer: Viewer,
    Query(form): Query<DirectoryForm>,
) -> Page {
    let params = form.params();
    let score = sorted_score(&params);
    let Json(list): Json<AccountList> = directory::list_accounts(
        State(ui.app.clone()),
        viewer.headers.clone(),
        Query(params.clone()),
    )
    .await?;
    let rows = list
        .accounts
        .into_iter()
        .map(|a| Row {
            score: score.as_deref().and_then(|s| a.scores.get(s).copied()),
            id: a.id,
            name: a.name,
            detail: a.domain,
            account: None,
            segments: a.segments,
        })
        .collect();
    let listing = Listing {
        kind: SubjectKind::Account,
        rows,
        matched: list.matched,
        next_cursor: list.next_cursor,
        form: &form,
        score: score.as_deref(),
        choices: choices(&ui, SubjectKind::Account),
    };
    Ok(render(&listing, &viewer))
}

fn sorted_score(params: &DirectoryParams) -> Option<String> {
    params
        .sort
        .as_deref()
        .and_then(|s| s.strip_prefix("score:"))
        .map(str::to_owned)
}

fn choices(ui: &UiState, kind: SubjectKind) -> Choices {
    let rules = ui.app.engine.rules();
    let definitions = rules.definitions();
    Choices {
        segments: definitions
            .segment
            .iter()
            .filter(|s| s.subject == kind)
            .map(|s| s.name.clone())
            .collect(),
        tier_levels: definitions
            .tier
            .iter()
            .filter(|t| t.subject == kind)
            .flat_map(|t| {
                t.levels
                    .iter()
                    .map(move |l| format!("{}:{}", t.name, l.name))
            })
            .collect(),
        scores: definitions
            .score
            .iter()
            .filter(|s| s.subject == kind)
            .map(|s| s.name.clone())
            .collect(),
    }
}

struct Listing<'a> {
    kind: SubjectKind,
    rows: Vec<Row>,
    matched: usize,
    next_cursor: Option<String>,
    form: &'a DirectoryForm,
    score: Option<&'a str>,
    choices: Choices,
}

impl Listing<'_> {
    fn path(&self) -> &'static str {
        match self.kind {
            SubjectKind::Contact => "/contacts",
            SubjectKind::Account => "/accounts",
        }
    }

    /// This listing's filters with another cursor (`None`: the first page).
    fn href(&self, cursor: Option<&str>) -> String {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for (name, value) in [
            ("q", &self.form.q),
            ("segment", &self.form.segment),
            ("tier", &self.form.tier),
            ("sort", &self.form.sort),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                pairs.push((name, value));
            }
        }
        if let Some(cursor) = cursor {
            pairs.push(("cursor", cursor));
        }
        let query: Vec<String> = pairs
            .iter()
            .map(|(name, value)| format!("{name}={}", layout::encode(value)))
            .collect();
        match query.is_empty() {
            true => self.path().to_owned(),
            false => format!("{}?{}", self.path(), query.join("&")),
        }
    }
}

fn render(listing: &Listing<'_>, viewer: &Viewer) -> maud::Markup {
    let (title, nav) = match listing.kind {
        SubjectKind::Contact => ("Contacts", Nav::Contacts),
        SubjectKind::Account => ("Accounts", Nav::Accounts),
    };
    let body = html! {
        (layout::heading("Directory", title, html! {}))
        section.card #directory {
            (filters(listing))
            p.muted.small #matched { (format::grouped(listing.matched as u64)) " " (title.to_lowercase()) " match" }
            (table(listing))
            nav.pager aria-label="Pages" {
                @if listing.form.cursor.as_deref().is_some_and(|c| !c.is_empty()) {
                    a href=(listing.href(None)) { "← First page" }
                } @else { span {} }
                @if let Some(cursor) = &listing.next_cursor {
                    a href=(listing.href(Some(cursor))) rel="next" { "Next →" }
                }
            }
        }
    };
    layout::page(title, nav, Some(viewer), body)
}

fn filters(listing: &Listing<'_>) -> Markup {
    let form = listing.form;
    let chosen = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    let search_hint = match listing.kind {
        SubjectKind::Contact => "id, email, name or domain",
        SubjectKind::Account => "group id, name or domain",
    };
    html! {
        form.toolbar method="get" action=(listing.path()) role="search" {
            label for="q" { "Search" }
            input #q type="search" name="q" value=(form.q.as_deref().unwrap_or("")) placeholder=(search_hint);
            label for="segment" { "Segment" }
            select #segment name="segment" {
                option value="" { "any" }
                @for name in &listing.choices.segments {
                    option value=(name) selected[chosen(&form.segment, name)] { (name) }
                }
            }
            @if !listing.choices.tier_levels.is_empty() {
                label for="tier" { "Tier" }
                select #tier name="tier" {
                    option value="" { "any" }
                    @for pair in &listing.choices.tier_levels {
                        option value=(pair) selected[chosen(&form.tier, pair)] { (pair.replace(':', " = ")) }
                    }
                }
            }
            label for="sort" { "Order" }
            select #sort name="sort" {
                option value="id" { "by id" }
                @for name in &listing.choices.scores {
                    @let value = format!("score:{name}");
                    option value=(value) selected[chosen(&form.sort, &value)] { "by " (name) ", highest first" }
                }
            }
            button type="submit" { "Apply" }
        }
    }
}

fn table(listing: &Listing<'_>) -> Markup {
    let subject = listing.kind.as_str();
    if listing.rows.is_empty() {
        return layout::empty("Nothing matches. Try a shorter search or fewer filters.");
    }
    let detail = match listing.kind {
        SubjectKind::Contact => "Email",
        SubjectKind::Account => "Domain",
    };
    html! {
        table.data {
            thead { tr {
                th scope="col" { (format::label(subject)) }
                th scope="col" { "Name" }
                th scope="col" { (detail) }
                @if listing.kind == SubjectKind::Contact { th scope="col" { "Account" } }
                @if let Some(score) = listing.score { th.num scope="col" { (score) } }
                th scope="col" { "Segments" }
            } }
            tbody {
                @for row in &listing.rows {
                    tr {
                        td { (layout::subject_link(subject, &row.id)) }
                        td { (row.name.as_deref().unwrap_or("–")) }
                        td { (row.detail.as_deref().unwrap_or("–")) }
                        @if listing.kind == SubjectKind::Contact {
                            td { @match &row.account { Some(a) => (layout::subject_link("account", a)), None => span.muted { "–" } } }
                        }
                        @if listing.score.is_some() {
                            td.num { @match row.score { Some(v) => (format::compact(v)), None => span.muted { "–" } } }
                        }
                        td { @for segment in &row.segments { (layout::pill(segment, "subject")) " " } }
                    }
                }
            }
        }
    }
}
