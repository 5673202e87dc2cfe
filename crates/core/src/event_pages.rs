//! Every stored event, read in pages by a thread of its own and handed to
//! the passes that need them all ([`read_beside`]). A start that reads the
//! whole store runs two such passes side by side (the identity replay and
//! the subjects load, [`crate::whole_store`]): reading and decoding the
//! events is most of each, so one read feeds both.

use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};

use crate::message::StoredEvent;
use crate::store::{EventParts, Store, StoreError};

/// Stored events in sequence order, shared by every pass reading them.
pub type Page = Arc<Vec<StoredEvent>>;

/// Events per page.
const EVENTS_PER_PAGE: usize = 10_000;

/// Pages decoded ahead of the slowest pass.
const PAGES_AHEAD: usize = 2;

/// The thread that reads the pages.
const READER_THREAD: &str = "event reader";

/// What a pass receives: the pages in order, until the reader is done.
pub type PageReceiver = Receiver<Page>;

/// A read of every stored event, to any number of passes.
struct EventPages {
    sinks: Vec<Sender<Page>>,
}

impl EventPages {
    /// Reads every stored event up to `upto` (all when `None`) with `parts`
    /// and sends each page to every pass still listening; returns when
    /// the store has no more or no pass listens.
    fn read(
        self,
        store: &dyn Store,
        parts: &EventParts<'_>,
        upto: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut sinks = self.sinks;
        let mut after = 0;
        while !sinks.is_empty() {
            let mut page = store.scan_event_parts(after, EVENTS_PER_PAGE, parts)?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = last.seq;
            if let Some(upto) = upto {
                page.retain(|event| event.seq <= upto);
            }
            let page = Arc::new(page);
            // A pass that stopped (it failed: its caller reports why)
            // hangs up; the others go on.
            sinks.retain(|sink| sink.send(Arc::clone(&page)).is_ok());
            if upto.is_some_and(|upto| after >= upto) {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// Runs `passes` over the stored events up to `upto` while a thread of
/// its own reads and decodes them once, keeping the properties and context
/// keys the two filters accept; each of the `N` receivers gets every page.
/// The passes' own error wins: a pass that fails stops listening, which
/// ends the read once no pass listens.
pub fn read_beside<const N: usize, T>(
    store: &dyn Store,
    property: &(dyn Fn(&str) -> bool + Sync),
    context: &(dyn Fn(&str) -> bool + Sync),
    upto: Option<i64>,
    passes: impl FnOnce([PageReceiver; N]) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let channels: [(Sender<Page>, PageReceiver); N] =
        std::array::from_fn(|_| crossbeam_channel::bounded(PAGES_AHEAD));
    let read = EventPages {
        sinks: channels.iter().map(|(sink, _)| sink.clone()).collect(),
    };
    let receivers = channels.map(|(_, pages)| pages);
    std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name("bellwether-events".into())
            .spawn_scoped(scope, move || {
                let parts = EventParts {
                    properties: Some(property),
                    context: Some(context),
                };
                read.read(store, &parts, upto)
            })
            .map_err(|source| StoreError::Thread {
                name: READER_THREAD,
                source,
            })?;
        let passed = passes(receivers);
        let read = reader.join().unwrap_or(Err(StoreError::ThreadPanicked {
            name: READER_THREAD,
        }));
        let passed = passed?;
        read.map(|()| passed)
    })
}
