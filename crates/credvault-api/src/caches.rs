//! In-memory caches for minting, both keyed by (credential row id, version): a PUT or DELETE
//! changes or removes the row, and the next mint reads the current version first, so a stale
//! entry is simply never asked for again (on every instance sharing the database) and ages out.
//!
//! - The key cache keeps decrypted, parsed keys, so that a mint costs one signature. When an
//!   entry is evicted or replaced its key pair is freed; aws-lc clears key material when it
//!   frees it, and HMAC secrets live only inside aws-lc's context.
//! - The token cache (`--token-cache-seconds`) reuses a minted token for at most that long and
//!   at most 10% of the token's lifetime.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use credvault_core::jwt::{Minted, PreparedKey};
use lru::LruCache;

/// (credential row id, version)
pub type CacheKey = (i64, i64);

pub struct KeyCache {
    entries: Mutex<LruCache<CacheKey, Arc<PreparedKey>>>,
}

impl KeyCache {
    pub fn new(capacity: usize) -> KeyCache {
        KeyCache {
            entries: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    pub fn get(&self, key: CacheKey) -> Option<Arc<PreparedKey>> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned()
    }

    pub fn insert(&self, key: CacheKey, prepared: Arc<PreparedKey>) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(key, prepared);
    }
}

pub struct TokenCache {
    /// None: caching is off.
    max_age: Option<Duration>,
    entries: Mutex<LruCache<CacheKey, (Minted, Instant)>>,
}

impl TokenCache {
    pub fn new(seconds: u64, capacity: usize) -> TokenCache {
        TokenCache {
            max_age: (seconds > 0).then(|| Duration::from_secs(seconds)),
            entries: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    pub fn enabled(&self) -> bool {
        self.max_age.is_some()
    }

    /// How long a token of this lifetime may be reused.
    fn window(&self, lifetime_seconds: i64) -> Option<Duration> {
        let tenth = Duration::from_millis((lifetime_seconds.max(0) as u64) * 100);
        self.max_age.map(|max| max.min(tenth))
    }

    pub fn get(&self, key: CacheKey, lifetime_seconds: i64, now: Instant) -> Option<Minted> {
        let window = self.window(lifetime_seconds)?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(&key) {
            Some((minted, at)) if now.duration_since(*at) < window => Some(minted.clone()),
            Some(_) => {
                entries.pop(&key);
                None
            }
            None => None,
        }
    }

    pub fn insert(&self, key: CacheKey, minted: Minted, now: Instant) {
        if self.enabled() {
            self.entries
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .put(key, (minted, now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minted(token: &str) -> Minted {
        Minted {
            token: token.into(),
            issued_at: 0,
            expires_at: None,
        }
    }

    #[test]
    fn tokens_are_reused_within_the_window_only() {
        let cache = TokenCache::new(30, 10);
        let t0 = Instant::now();
        cache.insert((1, 1), minted("a"), t0);
        assert_eq!(
            cache.get((1, 1), 3600, t0 + Duration::from_secs(29)),
            Some(minted("a"))
        );
        assert_eq!(cache.get((1, 1), 3600, t0 + Duration::from_secs(30)), None);
        // 10% of a 60 s lifetime is 6 s.
        cache.insert((2, 1), minted("b"), t0);
        assert_eq!(
            cache.get((2, 1), 60, t0 + Duration::from_secs(5)),
            Some(minted("b"))
        );
        assert_eq!(cache.get((2, 1), 60, t0 + Duration::from_secs(6)), None);
        // Another version of the credential is another entry.
        cache.insert((3, 1), minted("c"), t0);
        assert_eq!(cache.get((3, 2), 3600, t0), None);
        let off = TokenCache::new(0, 10);
        off.insert((1, 1), minted("a"), t0);
        assert_eq!(off.get((1, 1), 3600, t0), None);
    }
}
