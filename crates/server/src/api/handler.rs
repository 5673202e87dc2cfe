//! What every handler shares: store work off the async runtime, and the
//! one rule for page sizes.

use bellwether_core::Store;

use crate::error::ApiError;
use crate::AppState;

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 1_000;

/// The page size a `limit` parameter asks for: 50 when absent, at most
/// 1,000.
pub(crate) fn page_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::InvalidField {
            field: "limit".into(),
            reason: format!("{n} is out of range 1..={MAX_PAGE}"),
        }),
    }
}

/// Runs a store call off the async runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&dyn Store) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let store = state.store.clone();
    Ok(tokio::task::spawn_blocking(move || work(store.as_ref())).await?)
}
