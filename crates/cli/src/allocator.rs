//! The process's allocator: mimalloc, told to give freed memory back soon.
//!
//! The engine allocates many small, short-lived values while loading and
//! evaluating (JSON objects decoded then projected, per-evaluation maps);
//! mimalloc serves them much faster than the system allocator. (Built with
//! the `system-allocator` feature, the binary uses the system's instead, so
//! heap profilers that hook `malloc` see every allocation.)

#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long freed pages stay resident before they go back to the system,
/// in milliseconds. mimalloc 3 waits a second, and it only purges when it
/// is called again: a server that loaded its engine and then sat idle
/// kept everything the load had freed (1M events: 242 MiB resident
/// against 157 MiB; the snapshot's decoded image, the store's read
/// buffers). Ten milliseconds is mimalloc 2's default; the first start's
/// CPU did not move with it.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// Sets the allocator's options; called first thing in `main`.
pub(crate) fn configure() {
    #[cfg(not(feature = "system-allocator"))]
    set_purge_delay(PURGE_DELAY_MS);
}

/// `mi_option_purge_delay` in mimalloc.h's `mi_option_e` (the same place
/// in mimalloc 2 and 3; the Rust bindings leave it out).
#[cfg(not(feature = "system-allocator"))]
const PURGE_DELAY_OPTION: libmimalloc_sys::mi_option_t = 15;

#[cfg(not(feature = "system-allocator"))]
#[allow(unsafe_code)]
fn set_purge_delay(ms: std::ffi::c_long) {
    // SAFETY: `mi_option_set` stores an integer option; it may be called
    // at any time, from any thread, and reads no pointer.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY_OPTION, ms) }
}

#[cfg(all(test, not(feature = "system-allocator")))]
mod tests {
    #[test]
    #[allow(unsafe_code)]
    fn configure_sets_the_purge_delay() {
        super::configure();
        // SAFETY: reads an integer option, like `mi_option_set` above.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY_OPTION) };
        assert_eq!(delay, super::PURGE_DELAY_MS);
    }
}
