//! Every stored event, read in pages by a thread of its own and handed to
//! the passes that need them all. A start that reads the whole store runs
//! two such passes side by side (the identity replay and the subjects
//! load): reading and decoding the events is most of each, so one read
//! feeds both ([`EventPages::read`] with two readers, [`crate::whole_store`]).

use std::sync::Arc;

use bellwether_rules::PropertyKeys;
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
pub struct EventPages {
    sinks: Vec<Sender<Page>>,
}

impl EventPages {
    /// A read with `N` receivers, one per pass.
    pub fn with_passes<const N: usize>() -> (Self, [PageReceiver; N]) {
        let channels: [(Sender<Page>, PageReceiver); N] =
            std::array::from_fn(|_| crossbeam_channel::bounded(PAGES_AHEAD));
        let sinks = channels.iter().map(|(sink, _)| sink.clone()).collect();
        (Self { sinks }, channels.map(|(_, pages)| pages))
    }

    /// Reads every stored event up to `upto` (all when `None`) with `parts`
    /// and sends each page to every pass still listening; returns when
    /// the store has no more or no pass listens.
    pub fn read(
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

    /// [`EventPages::read`] of the whole store for a start's passes: the
    /// properties the definitions read (`keep`; all when `None`), and of
    /// each context the page (the rules' page fields) and the address
    /// (the identity replay's `reveal_by_ip`).
    pub fn read_for_start(
        self,
        store: &dyn Store,
        keep: Option<&PropertyKeys>,
    ) -> Result<(), StoreError> {
        let property = |key: &str| keep.is_none_or(|keep| keep.contains(key));
        let context = |key: &str| key == "page" || key == "ip";
        let parts = EventParts {
            properties: Some(&property),
            context: Some(&context),
        };
        self.read(store, &parts, None)
    }
}

/// Runs one `pass` over the stored events up to `upto` while a thread of
/// its own reads and decodes them, keeping the properties and context
/// keys the two filters accept. The pass's own error wins: when it fails
/// it stops listening, which ends the read.
pub(crate) fn read_beside<T>(
    store: &dyn Store,
    property: &(dyn Fn(&str) -> bool + Sync),
    context: &(dyn Fn(&str) -> bool + Sync),
    upto: Option<i64>,
    pass: impl FnOnce(PageReceiver) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let (sink, pages) = crossbeam_channel::bounded(PAGES_AHEAD);
    let read = EventPages { sinks: vec![sink] };
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
        let passed = pass(pages);
        let read = reader.join().unwrap_or(Err(StoreError::ThreadPanicked {
            name: READER_THREAD,
        }));
        let passed = passed?;
        read.map(|()| passed)
    })
}
