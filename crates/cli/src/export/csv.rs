//! CSV with a header. A missing value is an empty unquoted field and every
//! text is quoted, so an empty string (`""`) differs from it: PostgreSQL's
//! `COPY ... CSV` and DuckDB's `read_csv(..., allow_quoted_nulls = false)`
//! read the table back exactly.

use std::io::{BufWriter, Write};

use bellwether_core::export::EventRow;

use super::Sink;

/// The table's columns, in order.
const HEADER: &str = "contact_id,account_id,type,event,properties,traits,ts,seq";

pub(super) struct CsvSink {
    out: BufWriter<std::fs::File>,
}

impl CsvSink {
    pub(super) fn new(file: std::fs::File) -> anyhow::Result<Self> {
        let mut out = BufWriter::new(file);
        writeln!(out, "{HEADER}")?;
        Ok(CsvSink { out })
    }
}

impl Sink for CsvSink {
    fn write(&mut self, row: &EventRow) -> anyhow::Result<()> {
        let text = |value: &Option<String>| value.as_deref().map_or(String::new(), quote);
        writeln!(
            self.out,
            "{},{},{},{},{},{},{},{}",
            text(&row.contact_id),
            text(&row.account_id),
            row.kind.as_str(),
            text(&row.event),
            quote(&serde_json::to_string(&row.properties)?),
            quote(&serde_json::to_string(&row.traits)?),
            bellwether_rules::format_time(row.ts),
            row.seq
        )?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> anyhow::Result<()> {
        self.out.flush()?;
        Ok(())
    }
}

/// Always quoted, so that an empty string differs from a missing value.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}
