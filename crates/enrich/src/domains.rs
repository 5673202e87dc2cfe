//! `kind = "domains"`: company traits by domain, from CSV (header `domain`
//! then one column per trait) or Parquet (a `domain` column, typed trait
//! columns).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use serde_json::Value;

use crate::table_file::TableFile;
use crate::{normalize_domain, EnrichError, Traits};

/// Domain → traits. A domain listed twice keeps its last row.
#[derive(Debug, Default)]
pub struct DomainTable {
    rows: HashMap<Box<str>, Arc<Traits>>,
}

impl DomainTable {
    pub fn get(&self, domain: &str) -> Option<&Arc<Traits>> {
        self.rows.get(domain)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Every domain with its traits (for diffs between two loads).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<Traits>)> {
        self.rows.iter().map(|(domain, traits)| (&**domain, traits))
    }

    /// Reads a `.parquet` file as Parquet and anything else as CSV.
    pub fn load(name: &str, path: &Path) -> Result<Self, EnrichError> {
        let parquet = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("parquet"));
        if parquet {
            Self::load_parquet(name, path)
        } else {
            Self::load_csv(name, path)
        }
    }

    fn load_csv(name: &str, path: &Path) -> Result<Self, EnrichError> {
        let file = TableFile { name, path };
        Self::read_csv(name, path, file.open()?)
    }

    /// Parses CSV text: values that parse as numbers become numbers, empty
    /// cells are left out (the company has no such trait).
    pub fn read_csv(
        name: &str,
        path: &Path,
        input: impl std::io::Read,
    ) -> Result<Self, EnrichError> {
        let file = TableFile { name, path };
        let (header, rows) = file.csv(input)?;
        let domain_column = header.iter().position(|h| h == "domain").ok_or_else(|| {
            file.row_error(
                1,
                "the header has no `domain` column (header: domain,<trait>,…)".into(),
            )
        })?;
        let mut table = Self::default();
        for row in rows {
            let (line, record) = row?;
            let raw = record.get(domain_column).unwrap_or("");
            let domain = normalize_domain(raw)
                .ok_or_else(|| file.row_error(line, format!("{raw:?} is not a domain")))?;
            let traits: Traits = header
                .iter()
                .zip(record.iter())
                .enumerate()
                .filter(|(column, (_, cell))| *column != domain_column && !cell.is_empty())
                .map(|(_, (key, cell))| (key.to_owned(), cell_value(cell)))
                .collect();
            table.rows.insert(domain.into(), Arc::new(traits));
        }
        Ok(table)
    }

    fn load_parquet(name: &str, path: &Path) -> Result<Self, EnrichError> {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let table_file = TableFile { name, path };
        let file_error = |problem: String| table_file.file_error(problem);
        let file = table_file.open()?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|builder| builder.build())
            .map_err(|e| file_error(e.to_string()))?;
        let mut table = Self::default();
        let mut row_number = 0u64;
        for batch in reader {
            let batch = batch.map_err(|e| file_error(e.to_string()))?;
            let schema = batch.schema();
            let domain_column = schema
                .index_of("domain")
                .map_err(|_| file_error("no `domain` column".into()))?;
            let domains = batch.column(domain_column);
            let columns: Vec<(&str, &ArrayRef)> = schema
                .fields()
                .iter()
                .zip(batch.columns())
                .enumerate()
                .filter(|(index, _)| *index != domain_column)
                .map(|(_, (field, column))| (field.name().as_str(), column))
                .collect();
            for row in 0..batch.num_rows() {
                row_number += 1;
                let raw = match parquet_value(domains, row).map_err(&file_error)? {
                    Some(Value::String(text)) => text,
                    other => {
                        return Err(file_error(format!(
                            "row {row_number}: domain {other:?} is not text"
                        )))
                    }
                };
                let domain = normalize_domain(&raw).ok_or_else(|| {
                    file_error(format!("row {row_number}: {raw:?} is not a domain"))
                })?;
                let mut traits = Traits::new();
                for (key, column) in &columns {
                    if let Some(value) = parquet_value(column, row).map_err(&file_error)? {
                        traits.insert((*key).to_owned(), value);
                    }
                }
                table.rows.insert(domain.into(), Arc::new(traits));
            }
        }
        Ok(table)
    }
}

/// A CSV cell: a number when it reads as one, else text.
fn cell_value(cell: &str) -> Value {
    if let Ok(integer) = cell.parse::<i64>() {
        return Value::from(integer);
    }
    match cell.parse::<f64>() {
        Ok(number) if number.is_finite() => Value::from(number),
        _ => Value::String(cell.to_owned()),
    }
}

/// One Parquet cell as JSON; `None` for a null.
fn parquet_value(column: &ArrayRef, row: usize) -> Result<Option<Value>, String> {
    if column.is_null(row) {
        return Ok(None);
    }
    let value = match column.data_type() {
        DataType::Utf8 => Value::from(column.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Value::from(column.as_string::<i64>().value(row)),
        DataType::Utf8View => Value::from(column.as_string_view().value(row)),
        DataType::Boolean => Value::from(column.as_boolean().value(row)),
        DataType::Int8 => Value::from(column.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => Value::from(column.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => Value::from(column.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => Value::from(column.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => Value::from(column.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => Value::from(column.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => Value::from(column.as_primitive::<UInt32Type>().value(row)),
        DataType::UInt64 => Value::from(column.as_primitive::<UInt64Type>().value(row)),
        DataType::Float32 => Value::from(column.as_primitive::<Float32Type>().value(row) as f64),
        DataType::Float64 => Value::from(column.as_primitive::<Float64Type>().value(row)),
        other => {
            return Err(format!(
                "column type {other} is not supported (text, numbers, booleans)"
            ))
        }
    };
    // NaN and infinities have no JSON form: the cell counts as empty.
    Ok((!value.is_null()).then_some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<DomainTable, EnrichError> {
        DomainTable::read_csv("companies", Path::new("companies.csv"), text.as_bytes())
    }

    #[test]
    fn numbers_are_numbers_and_empty_cells_are_absent() {
        let table =
            read("domain,industry,employees,arr\nAcme.com,Software,250,1.5e6\nglobex.io,,12,\n")
                .unwrap();
        let acme = table.get("acme.com").unwrap();
        assert_eq!(acme["industry"], "Software");
        assert_eq!(acme["employees"], 250);
        assert_eq!(acme["arr"], 1.5e6);
        let globex = table.get("globex.io").unwrap();
        assert!(!globex.contains_key("industry"));
        assert!(!globex.contains_key("arr"));
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn a_bad_row_names_its_line() {
        let error = read("domain,industry\nacme.com,Software\nnot a domain,Retail\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("companies.csv line 3"), "{error}");
        assert!(error.contains("\"not a domain\""), "{error}");
    }

    #[test]
    fn parquet_columns_keep_their_types() {
        use arrow_array::{BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
        use arrow_schema::{Field, Schema};
        let schema = Arc::new(Schema::new(vec![
            Field::new("domain", DataType::Utf8, false),
            Field::new("employees", DataType::Int64, true),
            Field::new("public", DataType::Boolean, true),
            Field::new("revenue", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["www.Acme.com", "globex.io"])),
                Arc::new(Int64Array::from(vec![Some(250), None])),
                Arc::new(BooleanArray::from(vec![Some(true), Some(false)])),
                Arc::new(Float64Array::from(vec![Some(1.5e6), None])),
            ],
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("companies.parquet");
        let mut writer = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&path).unwrap(),
            schema,
            None,
        )
        .unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let table = DomainTable::load("companies", &path).unwrap();
        let acme = table.get("acme.com").unwrap();
        assert_eq!(acme["employees"], 250);
        assert_eq!(acme["public"], true);
        assert_eq!(acme["revenue"], 1.5e6);
        let globex = table.get("globex.io").unwrap();
        assert!(!globex.contains_key("employees") && !globex.contains_key("revenue"));
        assert_eq!(globex["public"], false);
    }

    #[test]
    fn a_header_without_domain_is_refused() {
        let error = read("company,industry\nacme.com,Software\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("no `domain` column"), "{error}");
    }
}
