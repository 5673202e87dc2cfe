//! Parquet: one row group per 65,536 rows; `ts` is a UTC timestamp in
//! milliseconds, the JSON columns are UTF-8 text, `seq` a 64-bit integer.

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use bellwether_core::export::EventRow;
use parquet::arrow::ArrowWriter;

use super::Sink;

/// Rows buffered before a batch is written.
const BATCH: usize = 65_536;

pub(super) struct ParquetSink {
    writer: ArrowWriter<std::fs::File>,
    schema: Arc<Schema>,
    columns: Columns,
}

#[derive(Default)]
struct Columns {
    contact_id: StringBuilder,
    account_id: StringBuilder,
    kind: StringBuilder,
    event: StringBuilder,
    properties: StringBuilder,
    traits: StringBuilder,
    ts: TimestampMillisecondBuilder,
    seq: Int64Builder,
    rows: usize,
}

fn schema() -> Arc<Schema> {
    let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        text("contact_id", true),
        text("account_id", true),
        text("type", false),
        text("event", true),
        text("properties", false),
        text("traits", false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        Field::new("seq", DataType::Int64, false),
    ]))
}

impl ParquetSink {
    pub(super) fn new(file: std::fs::File) -> anyhow::Result<Self> {
        let schema = schema();
        let writer = ArrowWriter::try_new(file, schema.clone(), None)?;
        Ok(ParquetSink {
            writer,
            schema,
            columns: Columns::default(),
        })
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if self.columns.rows == 0 {
            return Ok(());
        }
        let mut columns = std::mem::take(&mut self.columns);
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(columns.contact_id.finish()),
            Arc::new(columns.account_id.finish()),
            Arc::new(columns.kind.finish()),
            Arc::new(columns.event.finish()),
            Arc::new(columns.properties.finish()),
            Arc::new(columns.traits.finish()),
            Arc::new(columns.ts.finish().with_timezone("UTC")),
            Arc::new(columns.seq.finish()),
        ];
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)?;
        self.writer.write(&batch)?;
        Ok(())
    }
}

impl Sink for ParquetSink {
    fn write(&mut self, row: &EventRow) -> anyhow::Result<()> {
        let columns = &mut self.columns;
        columns.contact_id.append_option(row.contact_id.as_deref());
        columns.account_id.append_option(row.account_id.as_deref());
        columns.kind.append_value(row.kind.as_str());
        columns.event.append_option(row.event.as_deref());
        columns
            .properties
            .append_value(serde_json::to_string(&row.properties)?);
        columns
            .traits
            .append_value(serde_json::to_string(&row.traits)?);
        columns.ts.append_value(row.ts);
        columns.seq.append_value(row.seq);
        columns.rows += 1;
        if columns.rows >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> anyhow::Result<()> {
        self.flush()?;
        self.writer.close()?;
        Ok(())
    }
}
