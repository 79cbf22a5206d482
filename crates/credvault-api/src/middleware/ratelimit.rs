//! Rate limiting (API.md §2, §12): a token bucket per caller and client IP. Each bucket holds
//! up to a minute's allowance and refills continuously, so a client may burst up to the limit
//! and then proceeds at the sustained rate. Over the limit: 429 with `Retry-After`.
//!
//! The caller is the API key, read the way authentication reads it (either header, any letter
//! case or spacing), and known to be a real key because it has authenticated before: such keys
//! are remembered by a hash of their text under a per-process random key, so the table never
//! holds a key and telling callers apart costs no HMAC. Every other request (no key, an unknown or a mistyped
//! one) counts against one shared bucket of its IP, so guessing keys is limited like anything
//! else. A key's first request counts against that shared bucket too.
//!
//! Buckets live in this process: with several instances behind a load balancer, each instance
//! applies the limit to the requests it receives.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::connections::peer_ip;
use crate::error::ApiError;
use crate::extract::auth::presented_key;
use crate::AppState;

/// Prune idle buckets once the table holds this many.
const PRUNE_AT: usize = 10_000;
/// API keys remembered as real; the least recently used are forgotten first (and then count as
/// unknown until they authenticate again).
const KNOWN_KEYS: usize = 100_000;

/// Whose allowance a request uses: a key that has authenticated (by a short hash of its text),
/// or nobody in particular.
type Caller = Option<u64>;

pub struct RateLimiter {
    per_minute: f64,
    /// Hashes keys into bucket ids with a per-process random key.
    hasher: RandomState,
    known: Mutex<lru::LruCache<u64, ()>>,
    buckets: Mutex<HashMap<(Caller, IpAddr), Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    /// `None` when `per_minute` is 0: no limit.
    pub fn new(per_minute: u32) -> Option<RateLimiter> {
        (per_minute > 0).then(|| RateLimiter {
            per_minute: f64::from(per_minute),
            hasher: RandomState::new(),
            known: Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(KNOWN_KEYS).expect("non-zero"),
            )),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Records that `key` (as [`presented_key`] reads it) authenticated.
    pub fn remember(&self, key: &str) {
        let id = self.hasher.hash_one(key);
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .put(id, ());
    }

    /// The caller a request counts as: its key if that key has authenticated before.
    fn caller(&self, key: Option<&str>) -> Caller {
        let id = self.hasher.hash_one(key?);
        let mut known = self
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        known.get(&id).map(|()| id)
    }

    /// Takes one token, or says in how many whole seconds one will be there.
    fn take(&self, caller: Caller, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let rate_per_second = self.per_minute / 60.0;
        let key = (caller, ip);
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= PRUNE_AT {
            let capacity = self.per_minute;
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * rate_per_second < capacity
            });
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.per_minute,
            updated: now,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate_per_second).min(self.per_minute);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            // At least 1 s and at most a minute's worth: the cast cannot lose anything.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let wait = ((1.0 - bucket.tokens) / rate_per_second).ceil().max(1.0) as u64;
            Err(wait)
        }
    }
}

/// Middleware for the API routes; health, readiness and metrics are outside it.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(limiter) = state.rate_limiter.as_deref() else {
        return next.run(request).await;
    };
    let caller = limiter.caller(presented_key(request.headers()));
    let ip = peer_ip(request.extensions()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    match limiter.take(caller, ip, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(retry_after) => ApiError::TooManyRequests { retry_after }.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const K: Caller = Some(1);

    #[test]
    fn bursts_to_the_limit_then_refills() {
        let limiter = RateLimiter::new(60).unwrap();
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let t0 = Instant::now();
        for _ in 0..60 {
            assert_eq!(limiter.take(K, ip, t0), Ok(()));
        }
        assert_eq!(limiter.take(K, ip, t0), Err(1));
        // Another caller, or another address, has its own bucket.
        assert_eq!(limiter.take(Some(2), ip, t0), Ok(()));
        assert_eq!(limiter.take(None, ip, t0), Ok(()));
        assert_eq!(
            limiter.take(K, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), t0),
            Ok(())
        );
        // One token per second at 60/min.
        assert_eq!(limiter.take(K, ip, t0 + Duration::from_secs(1)), Ok(()));
        assert_eq!(limiter.take(K, ip, t0 + Duration::from_secs(1)), Err(1));
        assert!(RateLimiter::new(0).is_none());
    }

    #[test]
    fn retry_after_reflects_the_refill_rate() {
        let limiter = RateLimiter::new(6).unwrap(); // one token per 10 s
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let t0 = Instant::now();
        for _ in 0..6 {
            limiter.take(K, ip, t0).unwrap();
        }
        assert_eq!(limiter.take(K, ip, t0), Err(10));
        assert_eq!(limiter.take(K, ip, t0 + Duration::from_secs(4)), Err(6));
    }

    #[test]
    fn only_keys_that_authenticated_have_buckets_of_their_own() {
        let limiter = RateLimiter::new(60).unwrap();
        assert_eq!(limiter.caller(None), None);
        assert_eq!(limiter.caller(Some("key-a")), None);
        limiter.remember("key-a");
        let a = limiter.caller(Some("key-a"));
        assert!(a.is_some());
        assert_eq!(limiter.caller(Some("key-a")), a);
        assert_eq!(limiter.caller(Some("key-b")), None);
    }
}
