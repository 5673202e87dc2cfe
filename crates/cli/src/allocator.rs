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

/// Sets the allocator's options; called first thing in `main`.
pub(crate) fn configure() {
    #[cfg(not(feature = "system-allocator"))]
    options::set_purge_delay(options::PURGE_DELAY_MS);
}

#[cfg(not(feature = "system-allocator"))]
mod options {
    use std::ffi::c_long;

    /// How long freed pages stay resident before they go back to the
    /// system, in milliseconds. mimalloc 3 waits a second, and it only
    /// purges when it is called again: a server that loaded its engine
    /// and then sat idle kept everything the load had freed (1M events:
    /// 242 MiB resident against 157 MiB; the snapshot's decoded image,
    /// the store's read buffers). Ten milliseconds is mimalloc 2's
    /// default; the first start's CPU did not move with it.
    pub(super) const PURGE_DELAY_MS: c_long = 10;

    /// `mi_option_purge_delay` in mimalloc.h's `mi_option_e` (the same
    /// place in mimalloc 2 and 3; the Rust bindings leave it out).
    const PURGE_DELAY_OPTION: libmimalloc_sys::mi_option_t = 15;

    #[allow(unsafe_code)]
    pub(super) fn set_purge_delay(ms: c_long) {
        // SAFETY: `mi_option_set` stores an integer option; it may be
        // called at any time, from any thread, and reads no pointer.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY_OPTION, ms) }
    }

    #[cfg(test)]
    mod tests {
        use std::ffi::c_long;

        #[allow(unsafe_code)]
        fn purge_delay() -> c_long {
            // SAFETY: reads an integer option, like `mi_option_set` above.
            unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY_OPTION) }
        }

        /// The option at that place is the purge delay: untouched, it holds
        /// mimalloc 3's default for it (a second), which no neighbouring
        /// option has; then `configure` sets it.
        #[test]
        fn configure_sets_the_purge_delay() {
            if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
                assert_eq!(purge_delay(), 1000);
            }
            crate::allocator::configure();
            assert_eq!(purge_delay(), super::PURGE_DELAY_MS);
        }
    }
}
