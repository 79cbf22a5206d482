//! Data keys at rest (API.md §9): the keyring this instance seals and opens with, kept in step
//! with the one stored in the database, and data-key rotation: a new term for new writes, then
//! every stored secret sealed again under it in the background, then the emptied old terms
//! dropped.
//!
//! Every instance runs [`Reencryption::tick`]: it reloads the keyring when the stored one
//! changed (another instance rotated), re-seals secrets of older terms in batches (each batch
//! one transaction whose rows are locked, so each secret is re-sealed once however many
//! instances work), and drops an old term once no secret uses it and it has been superseded
//! for [`DROP_AFTER_MS`], so that an instance still writing under it has long reloaded. The
//! progress is the data itself (each secret names its term), so a crash or restart resumes
//! where the work stopped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use credvault_core::audit::AuditRecord;
use credvault_core::crypto::{credential_aad, term_of, Keyring, KeyringWrapKey};
use credvault_core::timefmt::{now_millis, Millis};
use credvault_store::{SealedSecret, Store};
use serde_json::{json, Value};

use crate::audit::{object, op};
use crate::error::{ApiError, ApiResult};
use crate::secrets::SECRET_FIELD;

/// The meta record holding the wrapped keyring.
pub const KEYRING_META: &str = "keyring";

/// How long an old term stays after it stopped sealing new secrets, even when empty: every
/// instance reloads the keyring within a few seconds, and a write sealed under the old term
/// just before must have landed (and been re-sealed) before the key goes.
pub const DROP_AFTER_MS: Millis = 10 * 60 * 1000;

/// Most data-key terms a keyring holds (API.md §12): every rotation re-seals every secret, and
/// an old term stays until it has been empty for [`DROP_AFTER_MS`], so rotations in a loop
/// would grow the keyring and keep the database busy without end.
pub const MAX_TERMS: usize = 8;

/// Secrets re-sealed per transaction.
const BATCH: i64 = 200;

/// The keyring this instance uses, and what it needs to store a changed one.
pub struct KeyringCell {
    current: RwLock<Arc<Keyring>>,
    /// The stored bytes `current` was read from; a conditional write replaces only these.
    wrapped: Mutex<Vec<u8>>,
    wrap_key: KeyringWrapKey,
    /// The stored keyring no longer opens with this instance's master key (it was rekeyed):
    /// this instance keeps serving with the keyring it has, but cannot change it.
    outdated: AtomicBool,
    /// Besides, the stored keyring has a newer current term, which this instance cannot load:
    /// sealing under a term that others may drop is refused until a restart with the new key.
    stale: AtomicBool,
}

impl KeyringCell {
    /// `keyring`, read from the stored bytes `wrapped`, which `wrap_key` opens.
    pub fn new(keyring: Keyring, wrapped: Vec<u8>, wrap_key: KeyringWrapKey) -> KeyringCell {
        KeyringCell {
            current: RwLock::new(Arc::new(keyring)),
            wrapped: Mutex::new(wrapped),
            wrap_key,
            outdated: AtomicBool::new(false),
            stale: AtomicBool::new(false),
        }
    }

    /// Stores `keyring` as a new database's keyring (for tests and benchmarks; `credvault
    /// serve` makes it at start) and returns its cell.
    pub async fn create(
        store: &dyn Store,
        keyring: Keyring,
        wrap_key: KeyringWrapKey,
    ) -> ApiResult<KeyringCell> {
        let wrapped = keyring.wrap_with(&wrap_key);
        if !store.insert_meta(KEYRING_META, &wrapped).await? {
            return Err(ApiError::bug("the database has a keyring already"));
        }
        Ok(KeyringCell::new(keyring, wrapped, wrap_key))
    }

    pub fn current(&self) -> Arc<Keyring> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The keyring to seal new secrets with; 503 while this instance cannot follow the stored
    /// keyring.
    pub fn for_sealing(&self) -> ApiResult<Arc<Keyring>> {
        if self.stale.load(Ordering::Relaxed) {
            return Err(ApiError::KeyringStale);
        }
        Ok(self.current())
    }

    /// Whether the stored keyring no longer opens with this instance's master key.
    pub fn is_outdated(&self) -> bool {
        self.outdated.load(Ordering::Relaxed)
    }

    fn wrapped(&self) -> Vec<u8> {
        self.wrapped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn install(&self, keyring: Keyring, wrapped: Vec<u8>) {
        *self
            .wrapped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = wrapped;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(keyring);
    }

    /// Reads the stored keyring and uses it if it changed; returns whether it did.
    pub async fn reload(&self, store: &dyn Store) -> ApiResult<bool> {
        let Some(stored) = store.get_meta(KEYRING_META).await? else {
            return Ok(false);
        };
        if stored == self.wrapped() {
            return Ok(false);
        }
        if let Ok(keyring) = Keyring::unwrap_with(&self.wrap_key, &stored) {
            self.install(keyring, stored);
            self.outdated.store(false, Ordering::Relaxed);
            self.stale.store(false, Ordering::Relaxed);
            return Ok(true);
        }
        if !self.outdated.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "the stored keyring no longer opens with this instance's master key (the master \
                 key was rotated): restart this instance with the new master key"
            );
        }
        let ours = self.current().current_term();
        let superseded = Keyring::wrapped_current_term(&stored).is_none_or(|term| term != ours);
        if superseded && !self.stale.swap(true, Ordering::Relaxed) {
            tracing::error!(
                "the data key was rotated after the master key: this instance refuses to seal \
                 secrets until it is restarted with the new master key"
            );
        }
        Ok(false)
    }

    /// Replaces the stored keyring with `change(current)` if nobody changed it meanwhile
    /// (else reloads and tries again), recording `audit`; returns the new keyring.
    async fn replace(
        &self,
        store: &dyn Store,
        change: impl Fn(&Keyring) -> Option<Keyring>,
        audit: impl Fn(&Keyring) -> AuditRecord,
    ) -> ApiResult<Option<Arc<Keyring>>> {
        for _ in 0..5 {
            self.reload(store).await?;
            if self.outdated.load(Ordering::Relaxed) {
                return Err(ApiError::KeyringStale);
            }
            let Some(next) = change(&self.current()) else {
                return Ok(None);
            };
            let wrapped = next.wrap_with(&self.wrap_key);
            let old = self.wrapped();
            if store
                .replace_meta(KEYRING_META, &old, &wrapped, audit(&next))
                .await?
            {
                self.install(next, wrapped);
                return Ok(Some(self.current()));
            }
        }
        Err(ApiError::conflict(
            "keyring",
            "the keyring is being changed by another instance; retry",
        ))
    }

    /// Adds a data-key term for new writes (API.md §9); the caller starts re-sealing. 409 when
    /// the keyring holds [`MAX_TERMS`] already.
    pub async fn rotate(&self, store: &dyn Store, audit: AuditRecord) -> ApiResult<Arc<Keyring>> {
        let at = now_millis();
        let rotated = self
            .replace(
                store,
                |keyring| (keyring.terms().len() < MAX_TERMS).then(|| keyring.with_new_term(at)),
                |next| {
                    let mut record = audit.clone();
                    record
                        .inputs
                        .insert("term".into(), json!(next.current_term()));
                    record
                },
            )
            .await?;
        rotated.ok_or_else(|| {
            ApiError::conflict(
                "current_term",
                format!(
                    "the keyring holds {MAX_TERMS} data-key terms, the most it may: an old term \
                     is dropped once no secret uses it and ten minutes have passed; rotate again \
                     then"
                ),
            )
        })
    }
}

/// The state of the keyring and the re-sealing, as `GET /admin/encryption` shows it.
pub async fn status(cell: &KeyringCell, store: &dyn Store) -> ApiResult<Value> {
    cell.reload(store).await?;
    let keyring = cell.current();
    let counts = store.count_secrets_by_term().await?;
    let count = |term: u32| {
        counts
            .iter()
            .find(|(t, _)| *t == term)
            .map_or(0, |(_, n)| *n)
    };
    let terms: Vec<Value> = keyring
        .terms()
        .into_iter()
        .map(|(term, created_at)| {
            json!({
                "term": term,
                "created_at": credvault_core::timefmt::format_millis(created_at),
                "secrets": count(term),
            })
        })
        .collect();
    let remaining: i64 = counts
        .iter()
        .filter(|(t, _)| *t < keyring.current_term())
        .map(|(_, n)| n)
        .sum();
    Ok(json!({
        "current_term": keyring.current_term(),
        "terms": terms,
        "reencryption": {
            "state": if remaining > 0 { "RUNNING" } else { "IDLE" },
            "remaining": remaining,
        },
    }))
}

/// The background re-sealing of one instance.
#[derive(Default)]
pub struct Reencryption {
    /// Wakes the loop at once (after a rotation on this instance).
    wake: tokio::sync::Notify,
}

/// What one [`Reencryption::tick`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickOutcome {
    pub resealed: u64,
    pub dropped: Vec<u32>,
}

impl Reencryption {
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// One round at `now`: reload the keyring, re-seal every secret of an older term, drop the
    /// old terms that are empty and were superseded long enough ago.
    pub async fn tick(
        cell: &KeyringCell,
        store: &dyn Store,
        now: Millis,
    ) -> ApiResult<TickOutcome> {
        cell.reload(store).await?;
        let mut outcome = TickOutcome::default();
        let keyring = cell.current();
        if keyring.terms().len() < 2 {
            return Ok(outcome);
        }
        outcome.resealed = reseal_all(&keyring, store).await?;
        outcome.dropped = drop_empty_terms(cell, store, now).await?;
        Ok(outcome)
    }

    /// Runs rounds every `every` (and when woken) until the process ends.
    pub fn start(
        self: &Arc<Reencryption>,
        cell: Arc<KeyringCell>,
        store: Arc<dyn Store>,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                match Reencryption::tick(&cell, store.as_ref(), now_millis()).await {
                    Ok(done) if done.resealed > 0 || !done.dropped.is_empty() => {
                        tracing::info!(resealed = done.resealed, dropped = ?done.dropped, "data-key rotation");
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e.chain(), "re-sealing secrets failed; will retry");
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    () = this.wake.notified() => {}
                }
            }
        })
    }
}

/// Re-seals every secret of a term older than `keyring`'s current one; returns how many.
async fn reseal_all(keyring: &Arc<Keyring>, store: &dyn Store) -> ApiResult<u64> {
    let sealer = keyring.clone();
    let reseal = move |s: &SealedSecret| {
        let aad = credential_aad(s.team_id, &s.uid, SECRET_FIELD);
        if let Ok(plain) = sealer.open(&aad, &s.secret) {
            Some(sealer.seal(&aad, &plain))
        } else {
            tracing::error!(credential_id = s.id, term = ?term_of(&s.secret), "a stored secret does not open; left as it is");
            None
        }
    };
    let (mut after, mut resealed) = (0, 0);
    loop {
        let batch = store
            .reseal_secrets(keyring.current_term(), after, BATCH, &reseal)
            .await?;
        resealed += batch.resealed;
        match batch.last_id {
            Some(last) => after = last,
            None => return Ok(resealed),
        }
    }
}

/// Drops the old terms no secret uses that were superseded [`DROP_AFTER_MS`] before `now`.
async fn drop_empty_terms(
    cell: &KeyringCell,
    store: &dyn Store,
    now: Millis,
) -> ApiResult<Vec<u32>> {
    let counts = store.count_secrets_by_term().await?;
    let keyring = cell.current();
    let empty: Vec<u32> = keyring
        .terms()
        .into_iter()
        .map(|(term, _)| term)
        .filter(|term| *term != keyring.current_term())
        .filter(|term| !counts.iter().any(|(t, n)| t == term && *n > 0))
        .filter(|term| {
            keyring
                .superseded_at(*term)
                .is_some_and(|at| at + DROP_AFTER_MS <= now)
        })
        .collect();
    if empty.is_empty() {
        return Ok(empty);
    }
    let dropped = empty.clone();
    cell.replace(
        store,
        |keyring| {
            let present: Vec<u32> = dropped
                .iter()
                .copied()
                .filter(|t| keyring.has_term(*t))
                .collect();
            (!present.is_empty()).then(|| keyring.without_terms(&present))
        },
        |_| {
            AuditRecord::system(
                op::ENCRYPTION_KEY_RETIREMENT,
                object(json!({"terms": dropped, "reason": "no secret uses them"})),
            )
        },
    )
    .await?;
    Ok(empty)
}
