//! The demo's example website at `/demo-site/` (`[server] demo_site =
//! true`, which `bellwether demo` sets): a home page whose hero fits the
//! visitor's exposed segment, a pricing page, and the quiz whose result
//! depends on the segment the answer puts the visitor in. Every page
//! sends a page view to `/v1/page` and reads `GET /v1/personalize` with
//! the first source's write key (public, like any analytics.js key).
//!
//! Static markup plus `site.js`; the segments it adapts to are those of
//! `examples/b2b.toml` marked `expose = true`.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, DOCTYPE};

use crate::AppState;

const SCRIPT: &str = include_str!("site.js");
const STYLE: &str = include_str!("site.css");
/// Scripts and styles from this server only.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'";

/// The site's routes (merged only when `[server] demo_site` is on).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/demo-site", get(home))
        .route("/demo-site/", get(home))
        .route("/demo-site/pricing", get(pricing))
        .route("/demo-site/quiz", get(quiz))
        .route("/demo-site/site.js", get(script))
        .route("/demo-site/site.css", get(style))
}

async fn home(State(state): State<AppState>) -> Response {
    let body = html! {
        section.hero data-personalized {
            div data-when-segment="compliance_seeker" hidden {
                h1 { "SOC 2 Type II and GDPR, built in" }
                p { "Your quiz said compliance matters most: here is our security pack, and a call with the team that wrote it." }
                a.cta href="/demo-site/pricing" { "See the Enterprise plan" }
            }
            div data-when-segment="hot_intent" hidden {
                h1 { "Ready when you are" }
                p { "You have been comparing plans. Book 20 minutes with an engineer, no slides." }
                a.cta href="/demo-site/pricing" { "Book a demo" }
            }
            div data-when-segment="content_researcher" hidden {
                h1 { "How Initech cut churn by 30 %" }
                p { "The case study our readers ask for most, with the segments they used." }
                a.cta href="/demo-site/quiz" { "Find what fits you" }
            }
            div data-default {
                h1 { "Know who is ready to buy, the moment they are" }
                p { "Real-time segments and scores from the events you already send." }
                a.cta href="/demo-site/quiz" { "Take the 10-second quiz" }
            }
        }
    };
    page(&state, "home", "Acme Analytics", body)
}

async fn pricing(State(state): State<AppState>) -> Response {
    let body = html! {
        h1 { "Pricing" }
        div.plans {
            @for (name, price, pitch) in [
                ("Starter", "$0", "Up to 10,000 events a month"),
                ("Team", "$490", "Segments, scores and webhooks"),
                ("Enterprise", "Talk to us", "SSO, SOC 2 report, DPA"),
            ] {
                div.plan { h2 { (name) } p { strong { (price) } } p { (pitch) } }
            }
        }
        p { "Viewing this page twice in a week (and opening the last three emails) puts a visitor in " code { "hot_intent" } "." }
    };
    page(&state, "pricing", "Pricing · Acme Analytics", body)
}

async fn quiz(State(state): State<AppState>) -> Response {
    let body = html! {
        h1 { "What matters most to your team?" }
        div.answers {
            button type="button" data-benefit="compliance" { "Compliance and security" }
            button type="button" data-benefit="speed" { "Speed to launch" }
            button type="button" data-benefit="cost" { "Cost" }
        }
        section.result data-personalized {
            div data-when-segment="compliance_seeker" hidden {
                h2 { "Your fit: Enterprise" }
                p { "SOC 2 Type II, GDPR DPA and SSO: the compliance pack is on its way." }
            }
            div data-default {
                p { "Pick an answer: the result comes from the segment your answer puts you in." }
            }
        }
    };
    page(&state, "quiz", "Quiz · Acme Analytics", body)
}

fn page(state: &AppState, name: &str, title: &str, body: Markup) -> Response {
    let write_key = state
        .config
        .source
        .first()
        .map(|source| source.write_key.expose().to_owned())
        .unwrap_or_default();
    let markup = html! {
        (DOCTYPE)
        html lang="en" data-page=(name) data-write-key=(write_key) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/demo-site/site.css";
                script src="/demo-site/site.js" defer {}
            }
            body {
                header {
                    a.brand href="/demo-site/" { "Acme Analytics" }
                    a href="/demo-site/pricing" { "Pricing" }
                    a href="/demo-site/quiz" { "Quiz" }
                }
                main { (body) }
                footer {
                    "A demo site for Bellwether: every page view and quiz answer goes to "
                    code { "/v1" } ", and the page adapts with " code { "GET /v1/personalize" } ". "
                    "Your visitor data: " code #stage { "…" }
                }
            }
        }
    };
    let mut response = markup.into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

fn asset(content_type: &'static str, text: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        text,
    )
        .into_response()
}
