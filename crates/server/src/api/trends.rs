//! `GET /api/v1/segments/{name}/trend?days=`: a segment's entries and exits
//! per UTC day and its size at the end of each day, from the recorded
//! history, for charts and reports.

use super::Query;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use bellwether_core::store::MembershipRecord;
use bellwether_core::subject::Transition;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::handler::blocking;
use crate::auth::require_token;
use crate::error::ApiError;
use crate::AppState;

const DAY_MS: i64 = 86_400_000;
const MAX_DAYS: u32 = 400;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct TrendParams {
    /// Days back, today included: 1 to 400 (default 30).
    #[param(minimum = 1, maximum = 400)]
    pub(crate) days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub(crate) struct DayTrend {
    /// The UTC date, `YYYY-MM-DD`.
    pub(crate) date: String,
    pub(crate) entered: u64,
    pub(crate) exited: u64,
    /// Members at the end of the day (now, for today).
    pub(crate) size: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SegmentTrend {
    pub(crate) segment: String,
    pub(crate) size: u64,
    /// Oldest first.
    pub(crate) days: Vec<DayTrend>,
}

/// Entries, exits and size per day over the last `days` days.
#[utoipa::path(get, path = "/api/v1/segments/{name}/trend", tag = "query", params(TrendParams),
    responses((status = 200, body = SegmentTrend), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn segment_trend(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(params): Query<TrendParams>,
) -> Result<Json<SegmentTrend>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let days = params.days.unwrap_or(30);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::InvalidField {
            field: "days".into(),
            reason: format!("must be from 1 to {MAX_DAYS}"),
        });
    }
    let (size, now) = {
        let engine = state.engine.view_async().await;
        let size = engine.segment_sizes().into_iter().find(|(n, _)| *n == name);
        let Some((_, size)) = size else {
            return Err(ApiError::NotFound(format!("no segment named {name:?}")));
        };
        (size as u64, state.engine.now())
    };
    let first_day = now.div_euclid(DAY_MS) - i64::from(days) + 1;
    let engine = state.engine.clone();
    let definition = name.clone();
    let records = blocking(&state, move |store| {
        engine.flush_records();
        store.definition_history(&definition, first_day * DAY_MS)
    })
    .await??;
    Ok(Json(SegmentTrend {
        segment: name,
        size,
        days: daily(&records, first_day, days, size),
    }))
}

/// Buckets changes by UTC day (`first_day` in days since the epoch), and
/// walks back from today's size to each day's closing size.
fn daily(records: &[MembershipRecord], first_day: i64, days: u32, size_now: u64) -> Vec<DayTrend> {
    let mut counts = vec![(0u64, 0u64); days as usize];
    for record in records {
        let Ok(index) = usize::try_from(record.at.div_euclid(DAY_MS) - first_day) else {
            continue;
        };
        if let Some(day) = counts.get_mut(index) {
            match record.change {
                Transition::Entered => day.0 += 1,
                _ => day.1 += 1,
            }
        }
    }
    let mut out = Vec::with_capacity(counts.len());
    let mut size = size_now as i64;
    for (index, (entered, exited)) in counts.iter().enumerate().rev() {
        let date = chrono::DateTime::from_timestamp_millis((first_day + index as i64) * DAY_MS)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        out.push(DayTrend {
            date,
            entered: *entered,
            exited: *exited,
            size: size.max(0) as u64,
        });
        size += *exited as i64 - *entered as i64;
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bellwether_core::subject::{DefKind, SubjectKey};

    fn change(at: i64, change: &str) -> MembershipRecord {
        MembershipRecord {
            at,
            subject: SubjectKey::Contact(1),
            label: "u".into(),
            change: Transition::parse(change).expect("a transition"),
            definition_kind: DefKind::Segment,
            definition: "hot".into(),
            level: None,
        }
    }

    #[test]
    fn days_close_with_the_size_walked_back_from_now() {
        // Days 100..=102; today (102) ends with 3 members.
        let records = [
            change(100 * DAY_MS + 5, "entered"),
            change(100 * DAY_MS + 6, "entered"),
            change(101 * DAY_MS, "exited"),
            change(102 * DAY_MS + 1, "entered"),
            change(102 * DAY_MS + 2, "entered"),
            change(99 * DAY_MS, "entered"),
        ];
        let days = daily(&records, 100, 3, 3);
        let summary: Vec<(u64, u64, u64)> =
            days.iter().map(|d| (d.entered, d.exited, d.size)).collect();
        assert_eq!(summary, [(2, 0, 2), (0, 1, 1), (2, 0, 3)]);
        assert_eq!(days[0].date, "1970-04-11");
    }
}
