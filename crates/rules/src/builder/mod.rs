//! The visual builder's model of a condition: a tree of `and`/`or`/`not`
//! groups whose leaves are the forms people click together (an aggregate
//! over an event with `where` filters, a window and a comparison; `each`;
//! a score, segment, tier or trait reference).
//!
//! [`read`] maps text to the model, or says which part of the text the
//! model cannot show ([`Unfit`]); [`print`] maps the model to text. Both
//! live here so there is one printer and one reader: the editor's script
//! only renders the model and posts it. For a model that [`read`] produced,
//! `read(print(m)) == m` (tested).

mod model;
mod print;
mod read;
#[cfg(test)]
mod tests;

pub use model::{
    CmpOp, EachLeaf, EventPick, Filter, Literal, Measure, MeasureFn, Node, SelectorKind, WindowPick,
};
pub use print::{print, BuildError};
pub use read::{read, Unfit};
