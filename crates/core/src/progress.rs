//! How far long work got, `(done, total)`: what a progress bar shows. Any
//! `FnMut(u64, u64)` reports progress.

pub trait Progress {
    fn advanced(&mut self, done: u64, total: u64);
}

impl<F: FnMut(u64, u64)> Progress for F {
    fn advanced(&mut self, done: u64, total: u64) {
        self(done, total)
    }
}
