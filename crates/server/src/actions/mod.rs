//! The action layer's HTTP side: Standard Webhooks signing and the
//! dispatcher that delivers the outbox.

pub mod dispatcher;
pub(crate) mod inbox;
mod signing;

pub use dispatcher::{run as run_dispatcher, DispatcherParts};
pub use inbox::Inbox;
