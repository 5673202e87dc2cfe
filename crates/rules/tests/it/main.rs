//! Integration tests of the rule language, one binary.

mod constructs;
mod errors;
mod example;
mod explain;
mod fuzz;
mod incremental;
mod parse;
mod properties;
mod scores;
mod support;
mod trait_days;
