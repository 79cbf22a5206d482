//! In-memory caches for minting, both keyed by (credential row id, version): a PUT or DELETE
//! changes or removes the row, and the next mint reads the current version first, so a stale
//! entry is simply never asked for again (on every instance sharing the database) and ages out.
//!
//! - The key cache keeps decrypted, parsed keys, so that a mint costs one signature. When an
//!   entry is evicted or replaced its key pair is freed; aws-lc clears key material when it
//!   frees it, and HMAC secrets live only inside aws-lc's context.
//! - The token cache (`--token-cache-seconds`) reuses a minted token for at most that long and
//!   at most 10% of the token's lifetime.
//!
//! Both are bounded by entries and by bytes: a credential's payload may be up to 64 KiB, so
//! a count alone would let a few large credentials take gigabytes.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use credvault_core::jwt::{Minted, PreparedKey};
use lru::LruCache;

/// (credential row id, version)
pub type CacheKey = (i64, i64);

/// An LRU map that also keeps the sum of its entries' sizes under a budget, evicting the least
/// recently used entries to make room.
struct Bounded<V> {
    entries: LruCache<CacheKey, (V, usize)>,
    bytes: usize,
    max_bytes: usize,
}

impl<V> Bounded<V> {
    fn new(max_entries: usize, max_bytes: usize) -> Bounded<V> {
        Bounded {
            entries: LruCache::new(NonZeroUsize::new(max_entries).unwrap_or(NonZeroUsize::MIN)),
            bytes: 0,
            max_bytes,
        }
    }

    fn get(&mut self, key: &CacheKey) -> Option<&V> {
        self.entries.get(key).map(|(v, _)| v)
    }

    fn pop(&mut self, key: &CacheKey) {
        if let Some((_, size)) = self.entries.pop(key) {
            self.bytes -= size;
        }
    }

    /// An entry bigger than the whole budget is not kept.
    fn put(&mut self, key: CacheKey, value: V, size: usize) {
        self.pop(&key);
        if size > self.max_bytes {
            return;
        }
        while self.bytes + size > self.max_bytes {
            match self.entries.pop_lru() {
                Some((_, (_, old))) => self.bytes -= old,
                None => break,
            }
        }
        if let Some((_, (_, old))) = self.entries.push(key, (value, size)) {
            // The entry count was at its limit: the least recently used one went.
            self.bytes -= old;
        }
        self.bytes += size;
    }
}

pub struct KeyCache {
    entries: Mutex<Bounded<Arc<PreparedKey>>>,
}

impl KeyCache {
    pub fn new(max_entries: usize, max_bytes: usize) -> KeyCache {
        KeyCache {
            entries: Mutex::new(Bounded::new(max_entries, max_bytes)),
        }
    }

    pub fn get(&self, key: CacheKey) -> Option<Arc<PreparedKey>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .cloned()
    }

    pub fn insert(&self, key: CacheKey, prepared: Arc<PreparedKey>) {
        let size = prepared.approx_bytes();
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .put(key, prepared, size);
    }

    /// The bytes the cache accounts for now.
    pub fn bytes(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .bytes
    }
}

pub struct TokenCache {
    /// None: caching is off.
    max_age: Option<Duration>,
    entries: Mutex<Bounded<(Minted, Instant)>>,
}

impl TokenCache {
    pub fn new(seconds: u64, max_entries: usize, max_bytes: usize) -> TokenCache {
        TokenCache {
            max_age: (seconds > 0).then(|| Duration::from_secs(seconds)),
            entries: Mutex::new(Bounded::new(max_entries, max_bytes)),
        }
    }

    /// The longest a token is handed out again after it was minted.
    pub fn reuse_seconds(&self) -> u64 {
        self.max_age.map_or(0, |age| age.as_secs())
    }

    pub fn enabled(&self) -> bool {
        self.max_age.is_some()
    }

    /// How long a token of this lifetime may be reused.
    fn window(&self, lifetime_seconds: i64) -> Option<Duration> {
        let tenth = Duration::from_millis((lifetime_seconds.max(0).cast_unsigned()) * 100);
        self.max_age.map(|max| max.min(tenth))
    }

    pub fn get(&self, key: CacheKey, lifetime_seconds: i64, now: Instant) -> Option<Minted> {
        let window = self.window(lifetime_seconds)?;
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
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
            // The token text, plus the entry's own bookkeeping.
            let size = minted.token.len() + 64;
            self.entries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .put(key, (minted, now), size);
        }
    }

    /// The bytes the cache accounts for now.
    pub fn bytes(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .bytes
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
        let cache = TokenCache::new(30, 10, 1 << 20);
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
        // A 5 s token is reused for half a second at most.
        cache.insert((4, 1), minted("d"), t0);
        assert_eq!(
            cache.get((4, 1), 5, t0 + Duration::from_millis(499)),
            Some(minted("d"))
        );
        assert_eq!(cache.get((4, 1), 5, t0 + Duration::from_millis(500)), None);
        // Another version of the credential is another entry.
        cache.insert((3, 1), minted("c"), t0);
        assert_eq!(cache.get((3, 2), 3600, t0), None);
        let off = TokenCache::new(0, 10, 1 << 20);
        off.insert((1, 1), minted("a"), t0);
        assert_eq!(off.get((1, 1), 3600, t0), None);
    }

    #[test]
    fn the_byte_budget_evicts_least_recently_used_entries() {
        let mut cache = Bounded::new(100, 1000);
        cache.put((1, 1), "a", 400);
        cache.put((2, 1), "b", 400);
        assert_eq!(cache.get(&(1, 1)), Some(&"a")); // now (2, 1) is the oldest
        cache.put((3, 1), "c", 400);
        assert_eq!(cache.bytes, 800);
        assert_eq!(cache.get(&(2, 1)), None);
        assert_eq!(cache.get(&(1, 1)), Some(&"a"));
        // Replacing an entry accounts for the old size.
        cache.put((1, 1), "a2", 100);
        assert_eq!(cache.bytes, 500);
        // Too big for the budget: not kept, nothing evicted for it.
        cache.put((4, 1), "huge", 1001);
        assert_eq!(cache.get(&(4, 1)), None);
        assert_eq!(cache.bytes, 500);
        cache.pop(&(3, 1));
        cache.pop(&(1, 1));
        assert_eq!(cache.bytes, 0);
    }

    #[test]
    fn the_entry_limit_still_applies() {
        let mut cache = Bounded::new(2, 1_000_000);
        cache.put((1, 1), 1, 10);
        cache.put((2, 1), 2, 10);
        cache.put((3, 1), 3, 10);
        assert_eq!(cache.get(&(1, 1)), None);
        assert_eq!(cache.bytes, 20);
    }

    #[test]
    fn big_tokens_fill_the_budget_not_the_heap() {
        let cache = TokenCache::new(30, 10_000, 1 << 20);
        let t0 = Instant::now();
        let big = "x".repeat(100 * 1024);
        for id in 0..100 {
            cache.insert((id, 1), minted(&big), t0);
        }
        assert!(cache.bytes() <= 1 << 20, "{}", cache.bytes());
        assert!(cache.get((99, 1), 3600, t0).is_some());
    }
}
