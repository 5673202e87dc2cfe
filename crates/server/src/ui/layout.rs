//! The page shell every page shares: head, the nav bar with who is signed
//! in, and small building blocks (stat tiles, empty states, pills).

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::auth::Viewer;
use super::format;

/// Which nav entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Dashboard,
    Contacts,
    Accounts,
    Editor,
    Ingestion,
    /// A page reached from the others (segment, contact, account).
    Detail,
    /// No nav links (sign-in).
    None,
}

const LINKS: [(Nav, &str, &str); 5] = [
    (Nav::Dashboard, "/", "Dashboard"),
    (Nav::Contacts, "/contacts", "Contacts"),
    (Nav::Accounts, "/accounts", "Accounts"),
    (Nav::Editor, "/editor", "Segment editor"),
    (Nav::Ingestion, "/ingestion", "Ingestion"),
];

/// A whole HTML page.
pub(crate) fn page(title: &str, nav: Nav, viewer: Option<&Viewer>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Bellwether" }
                link rel="icon" href=(FAVICON);
                link rel="stylesheet" href=(super::assets::CSS_PATH);
                script src=(super::assets::JS_PATH) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    nav aria-label="Main" {
                        a.brand href="/" { (PreEscaped(LOGO)) span { "Bellwether" } }
                        @if nav != Nav::None {
                            ul {
                                @for (entry, href, text) in LINKS {
                                    li {
                                        @if entry == nav {
                                            a href=(href) aria-current="page" { (text) }
                                        } @else {
                                            a href=(href) { (text) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(viewer) = viewer {
                        (who(viewer))
                    }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    }
}

fn who(viewer: &Viewer) -> Markup {
    html! {
        div.who {
            @match &viewer.signed_in {
                Some(name) => {
                    span { "Signed in as " strong { (name) } }
                    form method="post" action="/signout" { button.link type="submit" { "Sign out" } }
                }
                None => {
                    span.muted title="This server listens on a loopback address: pages open without sign-in." { "Local, read-only" }
                    a href="/signin" { "Sign in" }
                }
            }
        }
    }
}

const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'%3E%3Cpath fill='%234f46e5' d='M12 2c-3.3 0-6 2.7-6 6v5l-2 3v1h16v-1l-2-3V8c0-3.3-2.7-6-6-6zm0 21a2.5 2.5 0 0 0 2.4-2h-4.8A2.5 2.5 0 0 0 12 23z'/%3E%3C/svg%3E";

const LOGO: &str = r#"<svg aria-hidden="true" width="22" height="22" viewBox="0 0 24 24"><path d="M12 2c-3.3 0-6 2.7-6 6v5l-2 3v1h16v-1l-2-3V8c0-3.3-2.7-6-6-6zm0 21a2.5 2.5 0 0 0 2.4-2h-4.8A2.5 2.5 0 0 0 12 23z" fill="currentColor"/></svg>"#;

/// The title block of a page: a heading, a kicker above it, extras beside it.
pub(crate) fn heading(kicker: &str, title: &str, extra: Markup) -> Markup {
    html! {
        div.heading {
            div {
                p.kicker { (kicker) }
                h1 { (title) }
            }
            div.heading-extra { (extra) }
        }
    }
}

/// A big number with its label.
pub(crate) fn stat(label: &str, value: &str, detail: Option<&str>) -> Markup {
    html! {
        div.stat {
            span.stat-label { (label) }
            span.stat-value { (value) }
            @if let Some(detail) = detail {
                span.stat-detail { (detail) }
            }
        }
    }
}

/// A line saying there is nothing to show, and why.
pub(crate) fn empty(text: &str) -> Markup {
    html! { p.empty { (text) } }
}

/// A small rounded label.
pub(crate) fn pill(text: &str, tone: &str) -> Markup {
    html! { span class={"pill " (tone)} { (text) } }
}

/// An instant as `3 days ago` with the exact time on hover.
pub(crate) fn when(at: i64, now: i64) -> Markup {
    html! {
        time datetime=(crate::segment::format_timestamp(at)) title=(format::date_time(at)) {
            (format::relative(at, now))
        }
    }
}

/// A link to a contact or account page.
pub(crate) fn subject_link(subject: &str, id: &str) -> Markup {
    let href = subject_href(subject, id, None);
    html! { a href=(href) { (id) } }
}

/// `/contacts/{id}` or `/accounts/{id}`, optionally opening one explanation.
pub(crate) fn subject_href(subject: &str, id: &str, explain: Option<&str>) -> String {
    let collection = if subject == "account" {
        "accounts"
    } else {
        "contacts"
    };
    let mut href = format!("/{collection}/{}", encode(id));
    if let Some(segment) = explain {
        href.push_str(&format!(
            "?explain={}#explain-{}",
            encode(segment),
            encode(segment)
        ));
    }
    href
}

/// Percent-encodes a path segment or query value.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_encode_ids_and_open_the_explanation() {
        assert_eq!(
            subject_href("contact", "a b@x.io", None),
            "/contacts/a%20b%40x.io"
        );
        assert_eq!(
            subject_href("account", "acme", Some("hot_intent")),
            "/accounts/acme?explain=hot_intent#explain-hot_intent"
        );
    }

    #[test]
    fn the_current_page_is_marked_for_screen_readers() {
        let html = page("Dashboard", Nav::Dashboard, None, html! { p { "x" } }).into_string();
        assert!(
            html.contains(r#"<a href="/" aria-current="page">Dashboard</a>"#),
            "{html}"
        );
        assert!(html.contains(r#"<a href="/editor">Segment editor</a>"#));
        assert!(html.contains(r#"<a href="/contacts">Contacts</a>"#));
        assert!(html.contains(r#"<a href="/accounts">Accounts</a>"#));
        assert!(html.contains(r##"<a class="skip" href="#main">"##));
        assert!(html.starts_with("<!DOCTYPE html>"));
    }
}
