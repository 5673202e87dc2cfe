//! Review cadence: `[[digest]]` sends a scheduled summary of the segments
//! (sizes and their change, entries and exits, conversion against the
//! period before, lint warnings, segments nobody acted on) to a
//! destination, weekly or monthly at a local hour.
//!
//! `config`: the table and its checks; `schedule`: the send instants
//! (DST-correct) and the period each covers; `content`: the summary,
//! pure over a view and the history read for it; `collect`: the store
//! reads; `body`: the standard and Slack bodies and the outbox row. The
//! server's scheduler (`bellwether_server::digest`) decides when, and
//! commits the outbox row with the period sent (`WriteOp::DigestSent`).

pub mod body;
pub mod collect;
pub mod config;
pub mod content;
pub mod schedule;

pub use body::{encode, outbox_record, EVENT_TYPE};
pub use collect::compute;
pub use config::{reference_problems, Cadence, DayConfig, DigestConfig};
pub use content::{ConversionSummary, Digest, SegmentSummary};
pub use schedule::{Every, Schedule, Window};
