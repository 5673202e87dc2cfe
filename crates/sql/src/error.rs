//! Why a rule set does not compile to SQL.

use crate::Dialect;

/// A definition uses something the dialect cannot express exactly.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SqlError {
    /// The construct has no exact translation in this dialect; the statement
    /// is refused rather than approximated.
    #[error("{definition}: {construct} cannot be compiled to {dialect} SQL: {reason}")]
    Unsupported {
        /// `segment hot_intent`.
        definition: String,
        /// The construct, as users write it.
        construct: String,
        /// The dialect asked for.
        dialect: Dialect,
        /// Why, and what to write instead when there is a way.
        reason: String,
    },
}

impl SqlError {
    /// A stable code for the edge (`sql_unsupported`).
    pub fn code(&self) -> &'static str {
        match self {
            SqlError::Unsupported { .. } => "sql_unsupported",
        }
    }
}
