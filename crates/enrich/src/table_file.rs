//! One table file being read: opening it, and errors that name it (and,
//! for a CSV row, its line).

use std::io::Read;
use std::path::Path;

use crate::EnrichError;

/// A CSV row with its line number, or why it could not be read.
pub(crate) type CsvRow = Result<(u64, csv::StringRecord), EnrichError>;

#[derive(Clone, Copy)]
pub(crate) struct TableFile<'a> {
    pub(crate) name: &'a str,
    pub(crate) path: &'a Path,
}

impl<'a> TableFile<'a> {
    pub(crate) fn open(&self) -> Result<std::fs::File, EnrichError> {
        std::fs::File::open(self.path).map_err(|source| self.unreadable(source))
    }

    pub(crate) fn read(&self) -> Result<Vec<u8>, EnrichError> {
        std::fs::read(self.path).map_err(|source| self.unreadable(source))
    }

    fn unreadable(&self, source: std::io::Error) -> EnrichError {
        EnrichError::Read {
            name: self.name.to_owned(),
            path: self.path.to_owned(),
            source,
        }
    }

    pub(crate) fn row_error(&self, line: u64, problem: String) -> EnrichError {
        EnrichError::Row {
            name: self.name.to_owned(),
            path: self.path.to_owned(),
            line,
            problem,
        }
    }

    pub(crate) fn file_error(&self, problem: String) -> EnrichError {
        EnrichError::File {
            name: self.name.to_owned(),
            path: self.path.to_owned(),
            problem,
        }
    }

    /// A CSV's header and its rows with their line numbers (cells trimmed;
    /// a row with another number of cells than the header is an error).
    pub(crate) fn csv<R: Read + 'a>(
        self,
        input: R,
    ) -> Result<(csv::StringRecord, impl Iterator<Item = CsvRow> + 'a), EnrichError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(input);
        let header = reader
            .headers()
            .map_err(|e| self.row_error(1, e.to_string()))?
            .clone();
        let rows = reader.into_records().map(move |record| match record {
            Ok(record) => Ok((record.position().map_or(0, |p| p.line()), record)),
            Err(e) => Err(self.row_error(e.position().map_or(0, |p| p.line()), e.to_string())),
        });
        Ok((header, rows))
    }
}
