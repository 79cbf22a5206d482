//! Mints in the audit log without a write per mint (API.md §8): each mint and refused mint
//! is counted in memory under (credential, user, client IP, test, minute); a background task
//! appends one `CredentialTokenMint` or `CredentialTokenMintRefusal` entry per such key once
//! its minute is over, and everything on shutdown. A mint costs one short lock and a hash
//! map update.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use credvault_core::audit::{Actor, AuditRecord};
use credvault_core::timefmt::{format_millis, now_millis, Millis};
use credvault_store::Store;
use serde_json::{json, Map, Value};

use super::{actor, object, op};

const MINUTE_MS: Millis = 60_000;

/// Most keys counted at once; beyond it new keys lose their client IP, so that many clients
/// cannot grow the map without end.
const MAX_KEYS: usize = 50_000;

/// Most distinct refusal reasons kept per key; others count as "other".
const MAX_REASONS: usize = 10;

/// Longest reason kept.
const MAX_REASON_CHARS: usize = 200;

/// How often finished minutes are written.
const FLUSH_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    minute: Millis,
    refused: bool,
    credential_id: i64,
    user_id: i64,
    ip: Option<IpAddr>,
    test: bool,
}

#[derive(Debug, Default)]
struct Tally {
    count: u64,
    reasons: BTreeMap<String, u64>,
}

#[derive(Default)]
pub struct MintAudit {
    tallies: Mutex<HashMap<Key, Tally>>,
}

/// One mint or refused mint, as the handler reports it.
#[derive(Debug, Clone)]
pub struct MintEvent {
    pub at: Millis,
    pub credential_id: i64,
    pub user_id: i64,
    pub ip: Option<IpAddr>,
    pub test: bool,
    /// Why it was refused; None for a mint.
    pub refusal: Option<String>,
}

impl MintAudit {
    pub fn count(&self, event: MintEvent) {
        let mut tallies = self
            .tallies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut key = Key {
            minute: event.at - event.at.rem_euclid(MINUTE_MS),
            refused: event.refusal.is_some(),
            credential_id: event.credential_id,
            user_id: event.user_id,
            ip: event.ip,
            test: event.test,
        };
        if tallies.len() >= MAX_KEYS && !tallies.contains_key(&key) {
            key.ip = None;
        }
        let tally = tallies.entry(key).or_default();
        tally.count += 1;
        if let Some(reason) = event.refusal {
            let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
            let reason =
                if tally.reasons.len() >= MAX_REASONS && !tally.reasons.contains_key(&reason) {
                    "other".to_string()
                } else {
                    reason
                };
            *tally.reasons.entry(reason).or_default() += 1;
        }
    }

    /// Takes the tallies of minutes that ended by `now` (all of them with `now` = None).
    fn take_finished(&self, now: Option<Millis>) -> Vec<(Key, Tally)> {
        let mut tallies = self
            .tallies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let ended = |key: &Key| now.is_none_or(|now| key.minute + MINUTE_MS <= now);
        let keys: Vec<Key> = tallies.keys().filter(|k| ended(k)).cloned().collect();
        let mut taken: Vec<(Key, Tally)> = keys
            .into_iter()
            .filter_map(|k| tallies.remove(&k).map(|t| (k, t)))
            .collect();
        taken.sort_by(|a, b| a.0.cmp(&b.0));
        taken
    }

    fn put_back(&self, taken: Vec<(Key, Tally)>) {
        let mut tallies = self
            .tallies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (key, tally) in taken {
            let into = tallies.entry(key).or_default();
            into.count += tally.count;
            for (reason, n) in tally.reasons {
                *into.reasons.entry(reason).or_default() += n;
            }
        }
    }

    /// Appends the entries of the minutes that ended by `now` (of all, with None). On a
    /// database error they are kept for the next flush.
    pub async fn flush(&self, store: &dyn Store, now: Option<Millis>) {
        let taken = self.take_finished(now);
        if taken.is_empty() {
            return;
        }
        let records = match records(store, &taken).await {
            Ok(records) => records,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the minters of the audit log's mint counts; will retry");
                self.put_back(taken);
                return;
            }
        };
        if let Err(e) = store.append_audit(records).await {
            tracing::warn!(error = %e, "could not write the audit log's mint counts; will retry");
            self.put_back(taken);
        }
    }

    /// Flushes finished minutes every few seconds, until the store is closed.
    pub fn start(self: &Arc<MintAudit>, store: Arc<dyn Store>) {
        let audit = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(FLUSH_INTERVAL);
            loop {
                ticks.tick().await;
                let Some(audit) = audit.upgrade() else { return };
                audit.flush(store.as_ref(), Some(now_millis())).await;
            }
        });
    }
}

/// The entries of `taken`, with each user's email and name as they are now.
async fn records(
    store: &dyn Store,
    taken: &[(Key, Tally)],
) -> credvault_store::Result<Vec<AuditRecord>> {
    let mut actors: HashMap<i64, Option<Actor>> = HashMap::new();
    let mut records = Vec::with_capacity(taken.len());
    for (key, tally) in taken {
        if let std::collections::hash_map::Entry::Vacant(slot) = actors.entry(key.user_id) {
            let user = store.get_user(key.user_id).await?;
            slot.insert(user.as_ref().map(actor));
        }
        let inputs = json!({
            "inputs": {"credentialId": key.credential_id, "test": key.test},
            "credential_id": key.credential_id,
            "test": key.test,
            "minute": format_millis(key.minute),
        });
        let mut outputs = Map::new();
        outputs.insert("count".into(), Value::from(tally.count));
        if key.refused {
            outputs.insert("reasons".into(), json!(tally.reasons));
        }
        records.push(AuditRecord {
            operation_name: if key.refused {
                op::TOKEN_MINT_REFUSAL
            } else {
                op::TOKEN_MINT
            },
            inputs: object(inputs),
            outputs,
            actor: actors.get(&key.user_id).cloned().flatten(),
            request_ip: key.ip.map(|ip| ip.to_string()),
            request_user_agent: None,
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at: Millis, refusal: Option<&str>) -> MintEvent {
        MintEvent {
            at,
            credential_id: 3,
            user_id: 1,
            ip: Some(IpAddr::from([127, 0, 0, 1])),
            test: false,
            refusal: refusal.map(str::to_string),
        }
    }

    #[test]
    fn mints_of_one_minute_count_under_one_key() {
        let audit = MintAudit::default();
        for at in [60_000, 60_500, 119_999] {
            audit.count(event(at, None));
        }
        audit.count(event(120_000, None));
        let taken = audit.take_finished(Some(120_000));
        assert_eq!(taken.len(), 1);
        assert_eq!((taken[0].0.minute, taken[0].1.count), (60_000, 3));
        assert_eq!(audit.take_finished(None)[0].1.count, 1, "the next minute");
    }

    #[test]
    fn refusals_count_their_reasons_apart_from_mints() {
        let audit = MintAudit::default();
        audit.count(event(0, Some("expired")));
        audit.count(event(1, Some("expired")));
        audit.count(event(2, Some("host")));
        audit.count(event(3, None));
        let taken = audit.take_finished(None);
        assert_eq!(taken.len(), 2);
        let refused = &taken[1].1;
        assert_eq!(refused.count, 3);
        assert_eq!(refused.reasons["expired"], 2);
        assert_eq!(refused.reasons["host"], 1);
    }

    #[test]
    fn reasons_beyond_the_limit_count_as_other() {
        let audit = MintAudit::default();
        for i in 0..MAX_REASONS + 3 {
            audit.count(event(0, Some(&format!("reason {i}"))));
        }
        let taken = audit.take_finished(None);
        assert_eq!(taken[0].1.reasons.len(), MAX_REASONS + 1);
        assert_eq!(taken[0].1.reasons["other"], 3);
    }
}
