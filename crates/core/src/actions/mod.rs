//! The action layer: what a membership change triggers. Holdouts decide
//! who is withheld from actions; destinations, the outbox and owner
//! assignment build on them.

pub mod holdout;
