//! A token bucket per (source, client address) for `/v1/personalize`.
//!
//! Each key may spend `rate_per_minute` lookups at once and earns them
//! back continuously at that rate. The map is bounded: when it holds
//! [`MAX_KEYS`] keys, buckets that have refilled completely are dropped
//! (a full bucket is the same as none); if every one is still in use, the
//! map starts over, which only ever lets clients through, never blocks a
//! newcomer.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Most (source, address) pairs tracked at once.
pub(crate) const MAX_KEYS: usize = 65_536;

/// Per-(source, address) rate limit.
#[derive(Debug)]
pub(crate) struct Limiter {
    per_minute: f64,
    buckets: Mutex<HashMap<(String, IpAddr), Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Limiter {
    pub(crate) fn new(rate_per_minute: u32) -> Self {
        Self {
            per_minute: f64::from(rate_per_minute.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Spends one token of the key's bucket: `Ok` if there was one, else
    /// how long until there is.
    pub(crate) fn check(
        &self,
        source: &str,
        address: IpAddr,
        now: Instant,
    ) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock();
        let key = (source.to_owned(), address);
        if !buckets.contains_key(&key) && buckets.len() >= MAX_KEYS {
            let capacity = self.per_minute;
            buckets.retain(|_, bucket| self.refilled(*bucket, now) < capacity);
            if buckets.len() >= MAX_KEYS {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.per_minute,
            at: now,
        });
        let tokens = self.refilled(*bucket, now);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *bucket = Bucket { tokens, at: now };
            let seconds_per_token = 60.0 / self.per_minute;
            Err(Duration::from_secs_f64((1.0 - tokens) * seconds_per_token))
        }
    }

    /// The bucket's tokens at `now`, capped at the capacity.
    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let earned =
            now.saturating_duration_since(bucket.at).as_secs_f64() * self.per_minute / 60.0;
        (bucket.tokens + earned).min(self.per_minute)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(n))
    }

    #[test]
    fn a_burst_up_to_the_rate_then_refused_until_a_token_is_earned() {
        let limiter = Limiter::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check("web", ip(1), t0).is_ok());
        }
        let wait = limiter.check("web", ip(1), t0).unwrap_err();
        assert!((wait.as_secs_f64() - 20.0).abs() < 0.01, "{wait:?}");
        assert!(limiter
            .check("web", ip(1), t0 + Duration::from_secs(10))
            .is_err());
        assert!(limiter
            .check("web", ip(1), t0 + Duration::from_secs(20))
            .is_ok());
    }

    #[test]
    fn keys_are_separate_per_source_and_address() {
        let limiter = Limiter::new(1);
        let t0 = Instant::now();
        assert!(limiter.check("web", ip(1), t0).is_ok());
        assert!(limiter.check("web", ip(1), t0).is_err());
        assert!(limiter.check("web", ip(2), t0).is_ok());
        assert!(limiter.check("app", ip(1), t0).is_ok());
    }

    #[test]
    fn the_map_stays_bounded() {
        let limiter = Limiter::new(60);
        let t0 = Instant::now();
        for n in 0..(MAX_KEYS as u32 + 10) {
            assert!(limiter.check("web", ip(n), t0).is_ok());
        }
        assert!(limiter.len() <= MAX_KEYS);
        // A minute later every old bucket is full again and is dropped.
        let later = t0 + Duration::from_secs(60);
        assert!(limiter.check("web", ip(u32::MAX), later).is_ok());
        assert!(limiter.len() <= MAX_KEYS);
    }
}
