//! `GET /api/v1/segments/{name}/members.csv` (SPEC §7): every member as a
//! CSV row `id,entered_at` then one column per score of the segment's
//! subject kind, in definition order, streamed.
//!
//! The body is produced a chunk of members at a time
//! ([`bellwether_core::engine::View::member_chunk`], off the async
//! runtime) as the client reads it: the rows held stay at one chunk
//! whatever the segment's size. Every chunk is read from the view taken
//! when the request came, without the engine lock, so the file lists the
//! members of one instant however long the download takes (the writer's
//! edits meanwhile copy what they touch instead).

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use bellwether_core::config::Scope;
use std::sync::Arc;

use bellwether_core::engine::{MemberChunk, SubjectKey, View};

use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

/// Members read (and held) per chunk.
const CHUNK: usize = 2_000;

/// Every member of a segment as CSV.
#[utoipa::path(get, path = "/api/v1/segments/{name}/members.csv", tag = "query",
    params(("name" = String, Path, description = "segment name")),
    responses((status = 200, description = "`id,entered_at` then one column per score of the segment's subject kind (definition order); values now, 2 decimals, empty when absent",
               content_type = "text/csv", body = String),
              (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn members_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let view = state.engine.view_async().await;
    let scores: Vec<String> = {
        let Some(subject) = view.segment_subject(&name) else {
            return Err(ApiError::NotFound(format!("no segment named {name:?}")));
        };
        view.rules()
            .definitions()
            .score
            .iter()
            .filter(|s| s.subject == subject)
            .map(|s| s.name.clone())
            .collect()
    };
    let head = header_line(&scores);
    let chunks = Chunks {
        view,
        now: state.engine.now(),
        segment: name.clone(),
        scores,
        after: None,
        done: false,
    };
    let rows = futures_util::stream::unfold(chunks, |mut chunks| async move {
        let bytes = chunks.next().await?;
        Some((Ok::<Bytes, Infallible>(bytes), chunks))
    });
    let first = futures_util::stream::once(async move { Ok::<Bytes, Infallible>(head.into()) });
    let body = Body::from_stream(futures_util::StreamExt::chain(first, rows));
    let disposition = format!("attachment; filename=\"{}-members.csv\"", file_name(&name));
    let mut response = body.into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response_headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Where the export stands between chunks.
struct Chunks {
    /// The engine as of the request, and that instant.
    view: Arc<View>,
    now: bellwether_core::Millis,
    segment: String,
    scores: Vec<String>,
    after: Option<SubjectKey>,
    done: bool,
}

impl Chunks {
    /// The next chunk's CSV text, `None` at the end.
    async fn next(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        let (view, now) = (Arc::clone(&self.view), self.now);
        let (segment, scores, after) =
            (self.segment.clone(), self.scores.clone(), self.after.take());
        let chunk = tokio::task::spawn_blocking(move || {
            let chunk = view.member_chunk(&segment, after.as_ref(), CHUNK, &scores, now);
            (csv_rows(&chunk), chunk.next)
        })
        .await;
        let Ok((text, next)) = chunk else {
            // The blocking task panicked: end the body early (the client
            // sees a truncated download rather than a hung one).
            tracing::error!(segment = %self.segment, "members.csv chunk failed");
            self.done = true;
            return None;
        };
        self.done = next.is_none();
        self.after = next;
        Some(Bytes::from(text))
    }
}

fn header_line(scores: &[String]) -> String {
    let mut line = String::from("id,entered_at");
    for score in scores {
        line.push(',');
        line.push_str(&csv_field(score));
    }
    line.push('\n');
    line
}

fn csv_rows(chunk: &MemberChunk) -> String {
    let mut text = String::new();
    for row in &chunk.rows {
        text.push_str(&csv_field(&row.id));
        text.push(',');
        text.push_str(&format_timestamp(row.entered_at));
        for score in &row.scores {
            text.push(',');
            if let Some(value) = score {
                text.push_str(&format!("{:.2}", value));
            }
        }
        text.push('\n');
    }
    text
}

/// Quotes a CSV field when it needs it (RFC 4180). A leading `=`, `+`,
/// `-` or `@` is prefixed with `'` so spreadsheets do not run it as a
/// formula (ids come from SDKs: anyone can send one).
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The segment name as a download file name (segment names are letters,
/// digits and underscores; anything else is replaced to be safe).
fn file_name(segment: &str) -> String {
    segment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bellwether_core::engine::MemberRow;

    #[test]
    fn rows_are_quoted_and_formula_safe() {
        let chunk = MemberChunk {
            rows: vec![
                MemberRow {
                    id: "a,\"b\"".into(),
                    entered_at: 0,
                    scores: vec![Some(1.234), None],
                },
                MemberRow {
                    id: "=cmd()".into(),
                    entered_at: 1_000,
                    scores: vec![None, Some(-2.0)],
                },
            ],
            next: None,
        };
        assert_eq!(
            csv_rows(&chunk),
            "\"a,\"\"b\"\"\",1970-01-01T00:00:00.000Z,1.23,\n'=cmd(),1970-01-01T00:00:01.000Z,,-2.00\n"
        );
        assert_eq!(
            header_line(&["intent".into(), "fit".into()]),
            "id,entered_at,intent,fit\n"
        );
        assert_eq!(file_name("hot intent/x"), "hot_intent_x");
    }
}
