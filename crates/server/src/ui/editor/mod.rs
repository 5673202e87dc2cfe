//! `/editor`: write or edit a segment definition with inline errors (caret
//! positions from the checker) and a live preview (a dry run: how many
//! would match now, a sample of members, who would enter and exit compared
//! with the saved version, and a 90-day backtest line); save through
//! `PUT /api/v1/definitions` with an admin token.
//!
//! Works without JavaScript (the Preview button re-renders the page); the
//! script previews as you type through `POST /editor/preview`, and
//! `builder.js` adds the visual builder (`builder`: its round trip through
//! `POST /editor/builder`; `catalog`: what it offers to pick).

mod backtest;
mod builder;
mod catalog;
mod draft;
mod preview;

pub(crate) use builder::round_trip as builder_round_trip;

use crate::api::Query;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use maud::{html, Markup};
use serde::Deserialize;

use self::catalog::Catalog;
pub(crate) use self::catalog::CatalogCache;
use self::draft::EditorForm;
use self::preview::Preview;
use super::auth::{self, Viewer};
use super::layout::{self, Nav};
use super::{highlight, Page, PageError, UiState};
use crate::api::definitions::{self, PutParams};
use crate::error::ApiError;

const EXAMPLE: &str = r#"count(page where path = "/pricing", last 7d) >= 2"#;

#[derive(Debug, Deserialize)]
pub(crate) struct EditorParams {
    /// A saved segment to edit.
    segment: Option<String>,
}

/// `GET /editor`: a blank form, or a saved segment's.
pub(crate) async fn page(
    State(ui): State<UiState>,
    viewer: Viewer,
    Query(params): Query<EditorParams>,
) -> Page {
    let form = match params.segment.as_deref() {
        None => EditorForm {
            subject: "contact".into(),
            ..EditorForm::default()
        },
        Some(name) => {
            let rules = ui.app.engine.rules();
            let found = rules
                .definitions()
                .segment
                .iter()
                .find(|s| s.name == name)
                .map(EditorForm::from_segment);
            found.ok_or_else(|| {
                PageError(ApiError::NotFound(format!("no segment named {name:?}")))
            })?
        }
    };
    let catalog = catalog::load_or_empty(&ui).await;
    Ok(render(&viewer, &form, &catalog, None, None))
}

/// `POST /editor/preview`: the preview panel as an HTML fragment. The
/// backtest line replays 90 days, ten times the dry run's cost, so it is
/// only a placeholder here that the script fills from `POST
/// /editor/backtest`: the count and sample show as soon as they are ready.
pub(crate) async fn preview(
    State(ui): State<UiState>,
    _viewer: Viewer,
    Form(form): Form<EditorForm>,
) -> Result<Markup, PageError> {
    let checked = preview::run(&ui, &form).await?;
    let ready = matches!(checked, Preview::Ready { .. });
    Ok(html! {
        (preview::render(&checked))
        @if ready { (backtest::placeholder()) }
    })
}

/// `POST /editor/backtest`: the preview's backtest line as an HTML fragment.
pub(crate) async fn backtest_line(
    State(ui): State<UiState>,
    _viewer: Viewer,
    Form(form): Form<EditorForm>,
) -> Markup {
    let line = match form.subject_kind() {
        Ok(subject) => backtest::run(&ui, form.when.trim(), subject).await,
        Err(error) => Err(ApiError::BadRequest(error.to_string())),
    };
    backtest::render(&line)
}

/// `POST /editor`: Preview (re-render with the preview) or Save.
pub(crate) async fn save(
    State(ui): State<UiState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<EditorForm>,
) -> Result<Response, PageError> {
    let mut checked = preview::run(&ui, &form).await?;
    if form.intent != "save" || !matches!(checked, Preview::Ready { .. }) {
        preview::add_backtest(&ui, &form, &mut checked).await;
        let status = match checked {
            Preview::Ready { .. } | Preview::Empty => StatusCode::OK,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let catalog = catalog::load_or_empty(&ui).await;
        let page = render(&viewer, &form, &catalog, Some(&checked), None);
        return Ok((status, page).into_response());
    }
    let Some(secret) = auth::admin_secret(&ui, &headers, Some(&form.token)) else {
        let notice = "Saving changes the definitions in force: enter an admin token.";
        let catalog = catalog::load_or_empty(&ui).await;
        let page = render(&viewer, &form, &catalog, Some(&checked), Some(notice));
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    };
    let text = {
        let rules = ui.app.engine.rules();
        form.apply_to(rules.definitions())
            .map_err(|e| PageError(ApiError::BadRequest(e.to_string())))
            .and_then(|draft| {
                toml::to_string(&draft).map_err(|e| {
                    PageError(ApiError::Internal(format!("cannot encode the draft: {e}")))
                })
            })?
    };
    let Json(_) = definitions::put_definitions(
        State(ui.app.clone()),
        auth::bearer(&secret),
        Query(PutParams {
            dry_run: false,
            allow_empty: false,
        }),
        axum::body::Body::from(text),
    )
    .await?;
    let name = form.name.trim();
    let mut response = Redirect::to(&format!("/?saved={}", layout::encode(name))).into_response();
    if !form.token.trim().is_empty() {
        if let Ok(cookie) = HeaderValue::from_str(&auth::sign_in_cookie(
            &secret,
            ui.app.config.server.behind_https_proxy,
        )) {
            response.headers_mut().insert(header::SET_COOKIE, cookie);
        }
    }
    Ok(response)
}

fn render(
    viewer: &Viewer,
    form: &EditorForm,
    catalog: &Catalog,
    checked: Option<&Preview>,
    notice: Option<&str>,
) -> Markup {
    let editing = !form.original.is_empty();
    let title = if editing {
        format!("Edit {}", form.original)
    } else {
        "New segment".to_owned()
    };
    let reference = reference(catalog);
    let body = html! {
        (layout::heading("Segment editor", &title, html! {
            @if editing { a.button href={"/segments/" (layout::encode(&form.original))} { "Back to the segment" } }
        }))
        div.columns.editor {
            div.wide {
                form.card #editor method="post" action="/editor" {
                    input type="hidden" name="original" value=(form.original);
                    div.grid2 {
                        div.field {
                            label for="name" { "Name" }
                            input #name name="name" value=(form.name) required pattern="[A-Za-z][A-Za-z0-9_]*" placeholder="pricing_lovers" autocomplete="off";
                        }
                        div.field {
                            label for="subject" { "Who it groups" }
                            select #subject name="subject" {
                                option value="contact" selected[form.subject != "account"] { "Contacts (people)" }
                                option value="account" selected[form.subject == "account"] { "Accounts (companies)" }
                            }
                        }
                    }
                    (builder_panel(catalog))
                    div.field {
                        label for="when" { "Condition" }
                        textarea #when name="when" rows="6" spellcheck="false" placeholder=(EXAMPLE) aria-describedby="preview" { (form.when) }
                    }
                    section.preview #preview-card aria-label="Preview" {
                        div #preview aria-live="polite" data-preview="/editor/preview" {
                            @match checked {
                                Some(checked) => (preview::render(checked)),
                                None => p.muted { "Write a condition to see who matches." },
                            }
                        }
                    }
                    div.grid2 {
                        div.field { label for="owner" { "Owner" } input #owner name="owner" value=(form.owner) placeholder="sdr-pool"; }
                        div.field { label for="action" { "Action" } input #action name="action" value=(form.action) placeholder="SDR outreach within 1 hour"; }
                    }
                    div.field { label for="description" { "Description" } input #description name="description" value=(form.description); }
                    @if !viewer.admin {
                        div.field {
                            label for="token" { "Admin token (needed to save)" }
                            input #token type="password" name="token" autocomplete="current-password";
                        }
                    }
                    @if let Some(notice) = notice { p.error role="alert" { (notice) } }
                    div.actions {
                        button type="submit" name="intent" value="preview" { "Preview" }
                        button.primary #save type="submit" name="intent" value="save" { "Save segment" }
                    }
                }
            }
            aside.side {
                (reference)
            }
        }
    };
    layout::page(&title, Nav::Editor, Some(viewer), body)
}

/// The visual builder's place: hidden until `builder.js` renders the
/// condition into it (without JavaScript the text area is the editor).
fn builder_panel(catalog: &Catalog) -> Markup {
    html! {
        section.builder #builder hidden aria-label="Builder" data-endpoint="/editor/builder" {
            h3 { "Builder" }
            p.small.muted { "Click a condition together; the text below follows, and editing the text updates the builder." }
            div #builder-tree {}
            p.small #builder-status role="status" aria-live="polite" {}
        }
        script #builder-data type="application/json" { (catalog.json()) }
        script src=(super::assets::BUILDER_JS_PATH) defer {}
    }
}

/// The names a condition can refer to, and an example.
fn reference(catalog: &Catalog) -> Markup {
    let (scores, segments) = (catalog.scores(), catalog.segments());
    html! {
        section.card {
            h2 { "Reference" }
            p.small { "Example:" }
            (highlight::expression(EXAMPLE))
            p.small.muted { "Scores: " @for (i, s) in scores.iter().enumerate() { @if i > 0 { ", " } code { (s) } } }
            p.small.muted { "Segments: " @for (i, s) in segments.iter().enumerate() { @if i > 0 { ", " } code { (s) } } }
            p.small.muted { "The full language is in docs/language.md." }
        }
    }
}
