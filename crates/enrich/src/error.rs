use std::path::PathBuf;

/// Why an enrichment table could not be loaded: always names the file and,
/// for a row, its line.
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    #[error("[[enrichment]] {name:?}: cannot read {path}: {source}")]
    Read {
        name: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("[[enrichment]] {name:?}: {path} line {line}: {problem}")]
    Row {
        name: String,
        path: PathBuf,
        line: u64,
        problem: String,
    },
    #[error("[[enrichment]] {name:?}: {path}: {problem}")]
    File {
        name: String,
        path: PathBuf,
        problem: String,
    },
    #[error("[[enrichment]] {name:?}: {problem}")]
    Config { name: String, problem: String },
}
