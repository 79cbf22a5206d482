//! Rate limiting (API.md §2): a token bucket per API key and client IP. Each bucket holds up
//! to a minute's allowance and refills continuously, so a client may burst up to the limit
//! and then proceeds at the sustained rate. Over the limit: 429 with `Retry-After`.
//!
//! Buckets live in this process: with several instances behind a load balancer, each instance
//! applies the limit to the requests it receives.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::AppState;

/// Prune idle buckets once the table holds this many.
const PRUNE_AT: usize = 10_000;

pub struct RateLimiter {
    per_minute: f64,
    /// Keys are hashed with a per-process random key, so the table never holds an API key.
    hasher: RandomState,
    buckets: Mutex<HashMap<(u64, IpAddr), Bucket>>,
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
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one token, or says in how many whole seconds one will be there.
    fn take(&self, api_key: &[u8], ip: IpAddr, now: Instant) -> Result<(), u64> {
        let rate_per_second = self.per_minute / 60.0;
        let key = (self.hasher.hash_one(api_key), ip);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
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
            Err(((1.0 - bucket.tokens) / rate_per_second).ceil().max(1.0) as u64)
        }
    }
}

/// Middleware for the API routes; health, readiness and metrics are outside it.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(limiter) = state.rate_limiter.as_deref() else {
        return next.run(request).await;
    };
    let headers = request.headers();
    let api_key = headers
        .get(AUTHORIZATION)
        .or_else(|| headers.get("x-user-token"))
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    match limiter.take(api_key, ip, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(retry_after) => ApiError::TooManyRequests { retry_after }.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_to_the_limit_then_refills() {
        let limiter = RateLimiter::new(60).unwrap();
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let t0 = Instant::now();
        for _ in 0..60 {
            assert_eq!(limiter.take(b"k", ip, t0), Ok(()));
        }
        assert_eq!(limiter.take(b"k", ip, t0), Err(1));
        // Another key, or another address, has its own bucket.
        assert_eq!(limiter.take(b"other", ip, t0), Ok(()));
        assert_eq!(
            limiter.take(b"k", IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), t0),
            Ok(())
        );
        // One token per second at 60/min.
        assert_eq!(
            limiter.take(b"k", ip, t0 + Duration::from_millis(1000)),
            Ok(())
        );
        assert_eq!(
            limiter.take(b"k", ip, t0 + Duration::from_millis(1000)),
            Err(1)
        );
        assert!(RateLimiter::new(0).is_none());
    }

    #[test]
    fn retry_after_reflects_the_refill_rate() {
        let limiter = RateLimiter::new(6).unwrap(); // one token per 10 s
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let t0 = Instant::now();
        for _ in 0..6 {
            limiter.take(b"k", ip, t0).unwrap();
        }
        assert_eq!(limiter.take(b"k", ip, t0), Err(10));
        assert_eq!(limiter.take(b"k", ip, t0 + Duration::from_secs(4)), Err(6));
    }
}
