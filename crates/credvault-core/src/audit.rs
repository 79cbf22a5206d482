//! The audit log's entries and their hash chain (API.md §8).
//!
//! A change is described by an [`AuditRecord`]; the store gives it an id, a time and its place
//! in the chain, which makes it an [`AuditEntry`]. Each entry's `hash` is SHA-256 over the
//! previous entry's hash and this entry's canonical JSON (keys sorted, no spaces), so changing,
//! deleting or reordering a row breaks the chain at that row.

use std::fmt::Write as _;

use aws_lc_rs::digest;
use serde_json::{Map, Value};

use crate::timefmt::Millis;

/// The `previous_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The value every secret field of a recorded request has (as Tines writes it).
pub const REDACTED: &str = "REDACTED";

/// Who made a change; `None` in a record for the system (the scheduler, the command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub email: String,
    /// First and last name, as Tines' `user_name` shows it.
    pub name: String,
}

/// A change to record, before the store places it in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub operation_name: &'static str,
    pub inputs: Map<String, Value>,
    pub outputs: Map<String, Value>,
    pub actor: Option<Actor>,
    pub request_ip: Option<String>,
    pub request_user_agent: Option<String>,
}

impl AuditRecord {
    /// A record by the system (no user, no request), e.g. a scheduled rotation.
    pub fn system(operation_name: &'static str, inputs: Map<String, Value>) -> AuditRecord {
        AuditRecord {
            operation_name,
            inputs,
            outputs: Map::new(),
            actor: None,
            request_ip: None,
            request_user_agent: None,
        }
    }

    /// Sets `inputs[key] = id` unless the caller set it: the id of what a create made, known
    /// only to the store.
    #[must_use]
    pub fn with_subject(mut self, key: &str, id: i64) -> AuditRecord {
        self.inputs.entry(key).or_insert(Value::from(id));
        self
    }

    /// The entry this record becomes as number `id` of the chain, after `previous_hash`.
    pub fn into_entry(self, id: i64, created_at: Millis, previous_hash: &str) -> AuditEntry {
        let actor = self.actor;
        let mut entry = AuditEntry {
            id,
            created_at,
            operation_name: self.operation_name.to_string(),
            inputs: Value::Object(self.inputs),
            outputs: Value::Object(self.outputs),
            request_ip: self.request_ip,
            request_user_agent: self.request_user_agent,
            user_id: actor.as_ref().map(|a| a.user_id),
            user_email: actor.as_ref().map(|a| a.email.clone()),
            user_name: actor.map(|a| a.name),
            previous_hash: previous_hash.to_string(),
            hash: String::new(),
        };
        entry.hash = entry.computed_hash();
        entry
    }
}

/// A recorded entry, as stored and listed.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub created_at: Millis,
    pub operation_name: String,
    pub inputs: Value,
    pub outputs: Value,
    pub request_ip: Option<String>,
    pub request_user_agent: Option<String>,
    pub user_id: Option<i64>,
    pub user_email: Option<String>,
    pub user_name: Option<String>,
    pub previous_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// The entry's canonical JSON: every field but the hashes, keys sorted at every depth,
    /// no whitespace. Times are integers (milliseconds) so that nothing depends on formatting.
    pub fn canonical_json(&self) -> String {
        let mut fields = Map::new();
        fields.insert("created_at".into(), self.created_at.into());
        fields.insert("id".into(), self.id.into());
        fields.insert("inputs".into(), self.inputs.clone());
        fields.insert("operation_name".into(), self.operation_name.clone().into());
        fields.insert("outputs".into(), self.outputs.clone());
        fields.insert("request_ip".into(), self.request_ip.clone().into());
        fields.insert(
            "request_user_agent".into(),
            self.request_user_agent.clone().into(),
        );
        fields.insert("user_email".into(), self.user_email.clone().into());
        fields.insert("user_id".into(), self.user_id.into());
        fields.insert("user_name".into(), self.user_name.clone().into());
        let mut out = String::new();
        write_canonical(&Value::Object(fields), &mut out);
        out
    }

    /// SHA-256 (hex) over `previous_hash` and the canonical JSON: what `hash` must be.
    pub fn computed_hash(&self) -> String {
        sha256_hex(&[
            self.previous_hash.as_bytes(),
            self.canonical_json().as_bytes(),
        ])
    }
}

/// SHA-256 (hex) over `parts`, one after the other.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut context = digest::Context::new(&digest::SHA256);
    for part in parts {
        context.update(part);
    }
    hex(context.finish().as_ref())
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Writes `value` with object keys in byte order, whatever order the map keeps them in.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Where a chain read in id order first breaks, as [`ChainCheck::next`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The row's contents no longer give its hash: it was changed.
    Changed { id: i64 },
    /// The row does not follow the one before it: a row between them was deleted, or rows
    /// were reordered.
    Unlinked { id: i64, expected_id: i64 },
    /// The chain ends before the last entry the database recorded.
    Truncated { last_id: i64, recorded_last_id: i64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Changed { id } => write!(
                f,
                "audit entry {id} was changed: its hash does not match its contents"
            ),
            ChainBreak::Unlinked { id, expected_id } if id == expected_id => write!(
                f,
                "audit entry {id} does not follow entry {}: an entry before it was changed, \
                 deleted or reordered",
                id - 1
            ),
            ChainBreak::Unlinked { id, expected_id } => write!(
                f,
                "audit entry {expected_id} is missing (the next entry is {id}): it was deleted \
                 or reordered"
            ),
            ChainBreak::Truncated {
                last_id,
                recorded_last_id,
            } => write!(
                f,
                "audit entries after {last_id} are missing: the log recorded {recorded_last_id} \
                 entries"
            ),
        }
    }
}

/// Walks a chain one entry at a time, in id order.
#[derive(Debug, Clone)]
pub struct ChainCheck {
    last_id: i64,
    last_hash: String,
}

impl Default for ChainCheck {
    fn default() -> ChainCheck {
        ChainCheck {
            last_id: 0,
            last_hash: GENESIS_HASH.to_string(),
        }
    }
}

impl ChainCheck {
    /// Checks the next entry: its id follows, it links to the previous hash, and its hash is
    /// that of its contents.
    pub fn next(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        let expected_id = self.last_id + 1;
        if entry.id != expected_id {
            return Err(ChainBreak::Unlinked {
                id: entry.id,
                expected_id,
            });
        }
        if entry.hash != entry.computed_hash() {
            return Err(ChainBreak::Changed { id: entry.id });
        }
        if entry.previous_hash != self.last_hash {
            return Err(ChainBreak::Unlinked {
                id: entry.id,
                expected_id,
            });
        }
        self.last_id = entry.id;
        self.last_hash.clone_from(&entry.hash);
        Ok(())
    }

    /// Checks that the walk ended at the last entry the database recorded (its head).
    pub fn finish(&self, recorded_last_id: i64, recorded_hash: &str) -> Result<i64, ChainBreak> {
        if recorded_last_id != self.last_id || recorded_hash != self.last_hash {
            return Err(ChainBreak::Truncated {
                last_id: self.last_id,
                recorded_last_id,
            });
        }
        Ok(self.last_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(name: &'static str) -> AuditRecord {
        let Value::Object(inputs) = json!({"b": 1, "a": {"z": [1, {"y": 2, "x": 3}], "c": null}})
        else {
            unreachable!()
        };
        AuditRecord::system(name, inputs)
    }

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut previous = GENESIS_HASH.to_string();
        (1..=n)
            .map(|id| {
                let entry = record("CredentialSave").into_entry(id, 1_000 + id, &previous);
                previous.clone_from(&entry.hash);
                entry
            })
            .collect()
    }

    fn check(entries: &[AuditEntry]) -> Result<i64, ChainBreak> {
        let mut walk = ChainCheck::default();
        for entry in entries {
            walk.next(entry)?;
        }
        let last = entries
            .last()
            .map_or((0, GENESIS_HASH), |e| (e.id, &e.hash));
        walk.finish(last.0, last.1)
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let entry = record("X").into_entry(1, 5, GENESIS_HASH);
        assert_eq!(
            entry.canonical_json(),
            r#"{"created_at":5,"id":1,"inputs":{"a":{"c":null,"z":[1,{"x":3,"y":2}]},"b":1},"operation_name":"X","outputs":{},"request_ip":null,"request_user_agent":null,"user_email":null,"user_id":null,"user_name":null}"#
        );
    }

    #[test]
    fn the_hash_covers_the_previous_hash_and_the_contents() {
        let entry = record("X").into_entry(1, 5, GENESIS_HASH);
        assert_eq!(entry.hash.len(), 64);
        let other = record("X").into_entry(1, 5, &"1".repeat(64));
        assert_ne!(entry.hash, other.hash);
    }

    #[test]
    fn an_intact_chain_checks_out() {
        assert_eq!(check(&chain(5)), Ok(5));
        assert_eq!(check(&[]), Ok(0));
    }

    #[test]
    fn a_changed_entry_is_named() {
        let mut entries = chain(5);
        entries[2].inputs = json!({"b": 2});
        assert_eq!(check(&entries), Err(ChainBreak::Changed { id: 3 }));
    }

    #[test]
    fn a_deleted_entry_is_named() {
        let mut entries = chain(5);
        entries.remove(1);
        assert_eq!(
            check(&entries),
            Err(ChainBreak::Unlinked {
                id: 3,
                expected_id: 2
            })
        );
    }

    #[test]
    fn swapped_entries_are_named() {
        let mut entries = chain(5);
        entries.swap(1, 2);
        (entries[1].id, entries[2].id) = (2, 3);
        assert_eq!(check(&entries), Err(ChainBreak::Changed { id: 2 }));
    }

    #[test]
    fn a_rehashed_entry_breaks_the_link_of_the_next() {
        let mut entries = chain(5);
        entries[1].operation_name = "Other".into();
        entries[1].hash = entries[1].computed_hash();
        assert_eq!(
            check(&entries),
            Err(ChainBreak::Unlinked {
                id: 3,
                expected_id: 3
            })
        );
    }

    #[test]
    fn a_cut_tail_is_found_from_the_head() {
        let entries = chain(5);
        let mut walk = ChainCheck::default();
        for entry in &entries[..3] {
            walk.next(entry).unwrap();
        }
        assert_eq!(
            walk.finish(5, &entries[4].hash),
            Err(ChainBreak::Truncated {
                last_id: 3,
                recorded_last_id: 5
            })
        );
    }
}
