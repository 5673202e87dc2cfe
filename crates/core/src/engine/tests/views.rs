//! The read side: views published by the writer are immutable, see every
//! write released before they were asked for, and never need the engine
//! lock to be read.

use std::time::Duration;

use super::*;
use crate::clock::ManualClock;
use crate::pipeline::EngineHandle;

fn handle() -> (EngineHandle, Feed) {
    let clock = Arc::new(ManualClock::new(T0));
    (EngineHandle::new(Engine::new(rules()), clock), Feed::new())
}

fn size(view: &View, segment: &str) -> usize {
    view.segment_sizes()
        .into_iter()
        .find(|(name, _)| name == segment)
        .map_or(0, |(_, size)| size)
}

#[test]
fn a_view_sees_every_write_released_before_it_and_keeps_what_it_saw() {
    let (handle, mut feed) = handle();
    let ops = feed.ops(&[
        track("u", "Pricing Viewed", T0),
        track("u", "Pricing Viewed", T0 + HOUR),
    ]);
    let before = handle.view();
    handle.lock().apply(&ops, T0 + HOUR);
    let after = handle.view();
    assert_eq!(size(&after, "pricing_twice"), 1);
    assert_eq!(after.position(), 2);
    // The earlier view is a snapshot: the writer's edits did not reach it.
    assert_eq!(size(&before, "pricing_twice"), 0);
    assert_eq!(before.position(), 0);
    // Nothing changed since: the same view is handed out again.
    assert!(Arc::ptr_eq(&after, &handle.view()));
}

#[test]
fn a_view_keeps_its_timelines_while_the_writer_edits_them() {
    let (handle, mut feed) = handle();
    let first = feed.ops(&[track("u", "Pricing Viewed", T0 + HOUR)]);
    handle.lock().apply(&first, T0 + HOUR);
    let view = handle.view();
    // A late event lands before the one the view holds, an on-time one after.
    let more = feed.ops(&[
        track("u", "Pricing Viewed", T0),
        track("u", "Pricing Viewed", T0 + 2 * HOUR),
    ]);
    handle.lock().apply(&more, T0 + 2 * HOUR);
    let events = |view: &View| -> Vec<i64> {
        let contact = view.state.contacts.values().next().expect("one contact");
        contact.timeline.iter().map(|e| e.time).collect()
    };
    assert_eq!(events(&view), [T0 + HOUR]);
    assert_eq!(events(&handle.view()), [T0, T0 + HOUR, T0 + 2 * HOUR]);
}

#[test]
fn a_reader_does_not_wait_for_a_write_in_progress() {
    let (handle, mut feed) = handle();
    let ops = feed.ops(&[
        track("u", "Pricing Viewed", T0),
        track("u", "Pricing Viewed", T0 + HOUR),
    ]);
    let mut writer = handle.lock();
    writer.apply(&ops, T0 + HOUR);
    // Not released (not acknowledged): the published view is current.
    let reader = {
        let handle = handle.clone();
        std::thread::spawn(move || size(&handle.view(), "pricing_twice"))
    };
    assert_eq!(reader.join().expect("reader"), 0);
    drop(writer);
    assert_eq!(size(&handle.view(), "pricing_twice"), 1);
}

#[test]
fn a_reader_behind_a_released_write_gets_it_when_the_writer_next_releases() {
    let (handle, mut feed) = handle();
    let ops = feed.ops(&[
        track("u", "Pricing Viewed", T0),
        track("u", "Pricing Viewed", T0 + HOUR),
    ]);
    // Released with no reader asking: nothing was published.
    handle.lock().apply(&ops, T0 + HOUR);
    let writer = handle.lock();
    let reader = {
        let handle = handle.clone();
        std::thread::spawn(move || size(&handle.view(), "pricing_twice"))
    };
    std::thread::sleep(Duration::from_millis(30));
    assert!(!reader.is_finished(), "it waits for the busy writer");
    drop(writer);
    assert_eq!(reader.join().expect("reader"), 1);
}

#[test]
fn an_async_reader_waits_without_blocking_the_runtime() {
    let (handle, mut feed) = handle();
    let ops = feed.ops(&[
        track("u", "Pricing Viewed", T0),
        track("u", "Pricing Viewed", T0 + HOUR),
    ]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    handle.lock().apply(&ops, T0 + HOUR);
    let writer = handle.lock();
    let view = runtime.block_on(async {
        let reader = tokio::spawn({
            let handle = handle.clone();
            async move { handle.view_async().await }
        });
        // The one runtime thread is free while the reader waits.
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!reader.is_finished(), "it waits for the busy writer");
        drop(writer);
        reader.await.expect("reader")
    });
    assert_eq!(size(&view, "pricing_twice"), 1);
}

#[test]
fn new_definitions_are_published_as_they_are_applied() {
    let (handle, _) = handle();
    let text = RULES.replace("name = \"dormant\"", "name = \"asleep\"");
    let replaced = Arc::new(RuleSet::from_toml("test.toml", &text).expect("valid rules"));
    handle.replace_rules(replaced);
    assert!(handle
        .rules()
        .definitions()
        .segment
        .iter()
        .any(|s| s.name == "asleep"));
}
