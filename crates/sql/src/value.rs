//! A compiled expression: SQL text and the language type it carries.

/// The language's value kinds as the SQL represents them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    /// A boolean that is never `NULL` (missing counts as false).
    Bool,
    /// A double; `NULL` is missing.
    Num,
    /// A string; `NULL` is missing.
    Str,
    /// An instant in ms (BIGINT); `NULL` is missing.
    Time,
    /// A duration in ms (BIGINT).
    Dur,
    /// A JSON value of unknown kind (a trait or property); `NULL` is missing.
    Dyn,
    /// A list literal (`items`).
    List,
}

/// SQL text with its type.
#[derive(Clone, Debug)]
pub(crate) struct Sql {
    pub(crate) text: String,
    pub(crate) ty: Ty,
    /// The elements of a list literal.
    pub(crate) items: Vec<Sql>,
}

impl Sql {
    pub(crate) fn new(ty: Ty, text: impl Into<String>) -> Self {
        Sql {
            text: text.into(),
            ty,
            items: Vec::new(),
        }
    }

    pub(crate) fn list(items: Vec<Sql>) -> Self {
        Sql {
            text: String::new(),
            ty: Ty::List,
            items,
        }
    }

    pub(crate) fn condition(text: impl Into<String>) -> Self {
        Sql::new(Ty::Bool, text)
    }
}
