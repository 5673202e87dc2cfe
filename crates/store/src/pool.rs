//! A small blocking connection pool for readers, shared by both backends.
//!
//! Connections open lazily up to `max`; a caller beyond that waits for one
//! to come back. A connection reported broken is dropped, not reused.

use parking_lot::{Condvar, Mutex};

use bellwether_core::store::StoreError;

type Connect<C> = Box<dyn Fn() -> Result<C, StoreError> + Send + Sync>;

pub(crate) struct Pool<C> {
    state: Mutex<State<C>>,
    returned: Condvar,
    max: usize,
    connect: Connect<C>,
    is_broken: fn(&C) -> bool,
}

struct State<C> {
    idle: Vec<C>,
    open: usize,
}

impl<C> Pool<C> {
    pub(crate) fn new(max: usize, connect: Connect<C>, is_broken: fn(&C) -> bool) -> Self {
        Self {
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
            max: max.max(1),
            connect,
            is_broken,
        }
    }

    /// Runs `work` on a pooled connection.
    pub(crate) fn with<T>(
        &self,
        work: impl FnOnce(&mut C) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut lease = self.lease()?;
        match lease.connection.as_mut() {
            Some(connection) => work(connection),
            None => Err(StoreError::Database("pooled connection missing".to_owned())),
        }
    }

    fn lease(&self) -> Result<Lease<'_, C>, StoreError> {
        let mut state = self.state.lock();
        loop {
            if let Some(connection) = state.idle.pop() {
                return Ok(Lease {
                    pool: self,
                    connection: Some(connection),
                });
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match (self.connect)() {
                    Ok(connection) => Ok(Lease {
                        pool: self,
                        connection: Some(connection),
                    }),
                    Err(error) => {
                        self.forget_one();
                        Err(error)
                    }
                };
            }
            self.returned.wait(&mut state);
        }
    }

    fn forget_one(&self) {
        self.state.lock().open -= 1;
        self.returned.notify_one();
    }
}

/// A borrowed connection; goes back to the pool on drop (also on panic).
struct Lease<'a, C> {
    pool: &'a Pool<C>,
    connection: Option<C>,
}

impl<C> Drop for Lease<'_, C> {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        if (self.pool.is_broken)(&connection) {
            drop(connection);
            self.pool.forget_one();
            return;
        }
        self.pool.state.lock().idle.push(connection);
        self.pool.returned.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::Pool;
    use bellwether_core::store::StoreError;

    #[test]
    fn connections_are_reused_and_capped() {
        let opened = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&opened);
        let pool = Arc::new(Pool::new(
            2,
            Box::new(move || Ok(counter.fetch_add(1, Ordering::SeqCst))),
            |_| false,
        ));
        std::thread::scope(|scope| {
            for _ in 0..8 {
                let pool = Arc::clone(&pool);
                scope.spawn(move || {
                    for _ in 0..50 {
                        pool.with(|_| Ok(())).unwrap();
                    }
                });
            }
        });
        assert!(opened.load(Ordering::SeqCst) <= 2);
    }

    #[test]
    fn broken_connections_and_failed_connects_free_their_slot() {
        let attempts = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&attempts);
        let pool = Pool::new(
            1,
            Box::new(move || match counter.fetch_add(1, Ordering::SeqCst) {
                0 => Err(StoreError::Database("refused".to_owned())),
                n => Ok(n),
            }),
            |connection| *connection == 1,
        );
        assert!(pool.with(|_| Ok(())).is_err());
        assert_eq!(pool.with(|c| Ok(*c)).unwrap(), 1, "second attempt connects");
        assert_eq!(
            pool.with(|c| Ok(*c)).unwrap(),
            2,
            "the broken one was dropped"
        );
        assert_eq!(pool.with(|c| Ok(*c)).unwrap(), 2, "a healthy one is reused");
    }
}
