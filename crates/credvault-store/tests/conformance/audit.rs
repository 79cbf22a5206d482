//! The audit log (API.md §8): every change appends its record to a hash chain in its own
//! transaction, and a call that changes nothing records nothing; the stream gets every entry
//! before its change commits, and a stream that refuses one fails the change; entries are
//! listed newest first, filtered and paged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use credvault_core::audit::{Actor, ChainCheck, GENESIS_HASH};
use credvault_core::model::Role;
use credvault_store::{
    AuditEntry, AuditFilter, AuditHead, AuditRecord, AuditSink, Conflict, Credential,
    CredentialFilter, Deactivation, NewCredential, NewFolder, NewUser, RetiredKey, StoreError,
};
use serde_json::{json, Map, Value};

use crate::helpers::{
    assert_between, assert_conflict, audit, create, cred, now_ms, page, team, test_cred, user, S,
};

// ---- Helpers ----------------------------------------------------------------------------

/// The map of a JSON object.
fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not a JSON object: {other}"),
    }
}

/// A record by the system with these `inputs` (a JSON object).
fn with_inputs(operation_name: &'static str, inputs: Value) -> AuditRecord {
    AuditRecord::system(operation_name, object(inputs))
}

/// A record with every field set, by the user `user_id` (who need not exist).
fn full_record(operation_name: &'static str, user_id: i64) -> AuditRecord {
    AuditRecord {
        operation_name,
        inputs: object(json!({
            "name": "Security ✓",
            "zeta": [1, 2.5, null, true, "x"],
            "alpha": {"b": 1, "a": "ünïcode 🔑"},
        })),
        outputs: object(json!({"status": 201, "id": "abc"})),
        actor: Some(Actor {
            user_id,
            email: "ada@example.com".into(),
            name: "Ada Lovelace".into(),
        }),
        request_ip: Some("203.0.113.7".into()),
        request_user_agent: Some("curl/8.5.0 (\"quoted\") ✓".into()),
    }
}

/// A record by `user_id`, for the list filters.
fn by_user(operation_name: &'static str, user_id: Option<i64>) -> AuditRecord {
    AuditRecord {
        actor: user_id.map(|user_id| Actor {
            user_id,
            email: format!("user{user_id}@example.com"),
            name: format!("User {user_id}"),
        }),
        ..audit(operation_name)
    }
}

async fn head(s: &S) -> AuditHead {
    s.audit_head().await.expect("audit_head")
}

/// The entries after `after_id`, in chain order.
async fn entries_after(s: &S, after_id: i64) -> Vec<AuditEntry> {
    s.audit_chain(after_id, 100_000).await.expect("audit_chain")
}

/// Every entry, checked to form an unbroken chain that ends at the recorded head.
async fn intact_chain(s: &S) -> Vec<AuditEntry> {
    let entries = entries_after(s, 0).await;
    let mut walk = ChainCheck::default();
    for entry in &entries {
        walk.next(entry)
            .unwrap_or_else(|broken| panic!("the chain breaks: {broken}"));
    }
    let head = head(s).await;
    assert_eq!(
        walk.finish(head.last_id, &head.hash),
        Ok(entries.len() as i64),
        "the head is the last entry of the chain"
    );
    entries
}

/// Checks that nothing was appended since `before` was the head.
async fn assert_nothing_recorded(s: &S, before: &AuditHead, what: &str) {
    assert_eq!(
        entries_after(s, before.last_id).await,
        vec![],
        "{what}: no entry"
    );
    assert_eq!(head(s).await, *before, "{what}: the head stays");
}

/// The entry that was last appended, checked to be number `id`.
async fn last_entry(s: &S, id: i64) -> AuditEntry {
    let head = head(s).await;
    assert_eq!(head.last_id, id, "the last entry's id");
    let mut entries = entries_after(s, id - 1).await;
    assert_eq!(entries.len(), 1, "one entry numbered {id}");
    entries.remove(0)
}

/// The operation names and inputs of `entries`.
fn ops_and_inputs(entries: &[AuditEntry]) -> Vec<(&str, Value)> {
    entries
        .iter()
        .map(|e| (e.operation_name.as_str(), e.inputs.clone()))
        .collect()
}

#[track_caller]
fn assert_audit_unavailable<T: std::fmt::Debug>(what: &str, result: Result<T, StoreError>) {
    match result {
        Err(StoreError::AuditUnavailable(message)) => {
            assert_eq!(message, SINK_ERROR, "{what}: the sink's error");
        }
        other => panic!("{what}: expected Err(AuditUnavailable), got {other:?}"),
    }
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: email.into(),
        first_name: "First".into(),
        last_name: "Last".into(),
        admin: false,
    }
}

fn new_folder(team_id: i64, name: &str) -> NewFolder {
    NewFolder {
        team_id,
        name: name.into(),
        content_type: "CREDENTIAL".into(),
        parent_folder_id: None,
    }
}

fn retired(kid: &str) -> RetiredKey {
    RetiredKey {
        jwk: json!({ "kid": kid, "kty": "EC" }).into(),
        retired_at: 1_000,
        published_until: 4_000_000_000_000,
    }
}

/// A credential created with a record whose inputs name its uid.
fn uid_record(new: &NewCredential) -> AuditRecord {
    with_inputs("CredentialSave", json!({ "uid": new.uid }))
}

/// Creates every one of `news` at once, each in its own task with [`uid_record`]; their
/// answers in the order they finish.
async fn create_at_once(
    s: &S,
    news: Vec<NewCredential>,
) -> Vec<(NewCredential, Result<Credential, StoreError>)> {
    let mut tasks = tokio::task::JoinSet::new();
    for new in news {
        let store = Arc::clone(s);
        tasks.spawn(async move {
            let record = uid_record(&new);
            (new.clone(), store.create_credential(new, record).await)
        });
    }
    tasks.join_all().await
}

/// Checks that `entries` are one `CredentialSave` per credential of `created`, each with its
/// uid and credential id.
fn assert_one_entry_per_create(entries: &[AuditEntry], created: &[Credential]) {
    let mut got: Vec<Value> = entries.iter().map(|e| e.inputs.clone()).collect();
    let mut want: Vec<Value> = created
        .iter()
        .map(|c| json!({ "uid": c.uid, "credential_id": c.id }))
        .collect();
    let key = |v: &Value| v["credential_id"].as_i64();
    got.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(
        got, want,
        "one entry per create, with its own credential id"
    );
    assert!(
        entries.iter().all(|e| e.operation_name == "CredentialSave"),
        "every entry is a CredentialSave"
    );
}

const SINK_ERROR: &str = "the audit disk is full";

/// A stream that keeps what it is given, or refuses: everything while `fail` is on, and any
/// write holding an entry whose inputs have `"refuse": true`.
#[derive(Default)]
struct Sink {
    fail: AtomicBool,
    written: Mutex<Vec<AuditEntry>>,
}

impl AuditSink for Sink {
    fn write(&self, entries: &[AuditEntry]) -> std::io::Result<()> {
        let refused = entries.iter().any(|e| e.inputs["refuse"] == json!(true));
        if self.fail.load(Ordering::SeqCst) || refused {
            return Err(std::io::Error::other(SINK_ERROR));
        }
        self.written.lock().unwrap().extend_from_slice(entries);
        Ok(())
    }
}

impl Sink {
    fn set_failing(&self, fail: bool) {
        self.fail.store(fail, Ordering::SeqCst);
    }

    fn written(&self) -> Vec<AuditEntry> {
        self.written.lock().unwrap().clone()
    }
}

/// Streams `s` to a new [`Sink`].
fn stream(s: &S) -> Arc<Sink> {
    let sink = Arc::new(Sink::default());
    s.stream_audit_to(Arc::clone(&sink) as Arc<dyn AuditSink>);
    sink
}

// ---- The chain --------------------------------------------------------------------------

pub async fn a_fresh_store_has_an_empty_chain(s: &S) {
    assert_eq!(
        head(s).await,
        AuditHead {
            last_id: 0,
            hash: GENESIS_HASH.into()
        },
        "the head of an empty chain"
    );
    assert_eq!(intact_chain(s).await, vec![], "no entries");
    let listed = s
        .list_audit_logs(&AuditFilter::default(), page(0, 10))
        .await
        .unwrap();
    assert_eq!((listed.items, listed.total), (vec![], 0), "nothing listed");
}

pub async fn a_change_appends_its_record_with_every_field(s: &S) {
    let before = now_ms();
    let sec = s
        .create_team("Security", "security", full_record("TeamCreation", 42))
        .await
        .unwrap();
    let after = now_ms();
    let entries = entries_after(s, 0).await;
    assert_eq!(entries.len(), 1, "one entry");
    let e = &entries[0];
    assert_between("entry created_at", e.created_at, before, after);
    assert_eq!(
        *e,
        AuditEntry {
            id: 1,
            created_at: e.created_at,
            operation_name: "TeamCreation".into(),
            inputs: json!({
                "name": "Security ✓",
                "zeta": [1, 2.5, null, true, "x"],
                "alpha": {"b": 1, "a": "ünïcode 🔑"},
                "team_id": sec.id,
            }),
            outputs: json!({"status": 201, "id": "abc"}),
            request_ip: Some("203.0.113.7".into()),
            request_user_agent: Some("curl/8.5.0 (\"quoted\") ✓".into()),
            user_id: Some(42),
            user_email: Some("ada@example.com".into()),
            user_name: Some("Ada Lovelace".into()),
            previous_hash: GENESIS_HASH.into(),
            hash: e.hash.clone(),
        },
        "the entry is the record, first in the chain"
    );
    assert_eq!(e.hash, e.computed_hash(), "the entry's hash");
    assert_eq!(
        head(s).await,
        AuditHead {
            last_id: 1,
            hash: e.hash.clone()
        },
        "the head is the entry"
    );
    let listed = s
        .list_audit_logs(&AuditFilter::default(), page(0, 10))
        .await
        .unwrap();
    assert_eq!(
        (listed.items, listed.total),
        (entries, 1),
        "listed as in the chain"
    );
}

pub async fn a_system_record_has_no_actor_and_no_request(s: &S) {
    s.create_team("Security", "security", audit("TeamCreation"))
        .await
        .unwrap();
    let e = last_entry(s, 1).await;
    assert_eq!(
        (
            e.user_id,
            e.user_email,
            e.user_name,
            e.request_ip,
            e.request_user_agent,
            e.outputs
        ),
        (None, None, None, None, None, json!({})),
        "a system record"
    );
}

pub async fn creates_add_the_id_they_made_to_the_inputs(s: &S) {
    let u = s
        .create_user(
            new_user("ada@example.com"),
            with_inputs("UserCreation", json!({"n": 1})),
        )
        .await
        .unwrap();
    let t = s
        .create_team(
            "Security",
            "security",
            with_inputs("TeamCreation", json!({"n": 2})),
        )
        .await
        .unwrap();
    let f = s
        .create_folder(
            new_folder(t.id, "Prod"),
            with_inputs("FolderCreation", json!({"n": 3})),
        )
        .await
        .unwrap();
    let k = s
        .create_api_key(
            u.id,
            "laptop",
            &[1; 32],
            with_inputs("AuthenticationTokenCreation", json!({"n": 4})),
        )
        .await
        .unwrap();
    let c = s
        .create_credential(
            cred("live", t.id, u.id, "stripe"),
            with_inputs("CredentialSave", json!({"n": 5})),
        )
        .await
        .unwrap();
    let tc = s
        .attach_test_credential(
            test_cred("test", &c),
            with_inputs("CredentialSave", json!({"n": 6})),
        )
        .await
        .unwrap();
    assert_eq!(
        ops_and_inputs(&intact_chain(s).await),
        vec![
            ("UserCreation", json!({"n": 1, "user_id": u.id})),
            ("TeamCreation", json!({"n": 2, "team_id": t.id})),
            ("FolderCreation", json!({"n": 3, "folder_id": f.id})),
            (
                "AuthenticationTokenCreation",
                json!({"n": 4, "api_key_id": k.id})
            ),
            ("CredentialSave", json!({"n": 5, "credential_id": c.id})),
            (
                "CredentialSave",
                json!({"n": 6, "test_credential_id": tc.id})
            ),
        ],
        "each create's entry names what it made"
    );
}

pub async fn a_subject_id_set_by_the_caller_is_kept(s: &S) {
    let kept = |op, key: &str| with_inputs(op, json!({ key: "set by the caller" }));
    let u = s
        .create_user(new_user("ada@example.com"), kept("UserCreation", "user_id"))
        .await
        .unwrap();
    let t = s
        .create_team("Security", "security", kept("TeamCreation", "team_id"))
        .await
        .unwrap();
    s.create_folder(
        new_folder(t.id, "Prod"),
        kept("FolderCreation", "folder_id"),
    )
    .await
    .unwrap();
    s.create_api_key(
        u.id,
        "laptop",
        &[1; 32],
        kept("AuthenticationTokenCreation", "api_key_id"),
    )
    .await
    .unwrap();
    let c = s
        .create_credential(
            cred("live", t.id, u.id, "stripe"),
            kept("CredentialSave", "credential_id"),
        )
        .await
        .unwrap();
    s.attach_test_credential(
        test_cred("test", &c),
        kept("CredentialSave", "test_credential_id"),
    )
    .await
    .unwrap();
    let entries = intact_chain(s).await;
    let inputs: Vec<Value> = entries.into_iter().map(|e| e.inputs).collect();
    assert_eq!(
        inputs,
        [
            "user_id",
            "team_id",
            "folder_id",
            "api_key_id",
            "credential_id",
            "test_credential_id"
        ]
        .map(|key| json!({ key: "set by the caller" })),
        "the caller's values stay"
    );
}

/// Checks that the last entry is step `step` after entry `first`: of `op`, with the inputs
/// `{"step": step}` as given.
async fn assert_step(s: &S, first: i64, op: &str, step: i64) {
    let e = last_entry(s, first + step).await;
    assert_eq!(
        (e.operation_name.as_str(), e.inputs),
        (op, json!({ "step": step })),
        "the entry of step {step}"
    );
}

/// Each change that is not a create appends exactly one entry: its record, inputs as given.
pub async fn every_other_change_appends_one_entry_of_its_record(s: &S) {
    let ada = user(s, "ada@example.com", true).await;
    let bob = user(s, "bob@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let key = s
        .create_api_key(bob.id, "ci", &[2; 32], audit("AuthenticationTokenCreation"))
        .await
        .unwrap();
    let c = create(s, cred("live", sec.id, ada.id, "stripe")).await;
    assert!(s.insert_meta("kek", b"one").await.unwrap());
    let first = head(s).await.last_id;
    let expect = |op, step| assert_step(s, first, op, step);
    let step = |op, step: i64| with_inputs(op, json!({ "step": step }));

    assert!(s
        .replace_meta("kek", b"one", b"two", step("MasterKeyRotation", 1))
        .await
        .unwrap());
    expect("MasterKeyRotation", 1).await;
    s.set_membership(
        sec.id,
        bob.id,
        Role::Editor,
        step("TeamMemberInvitation", 2),
    )
    .await
    .unwrap();
    expect("TeamMemberInvitation", 2).await;
    s.set_membership(
        sec.id,
        bob.id,
        Role::Viewer,
        step("TeamMemberInvitation", 3),
    )
    .await
    .unwrap();
    expect("TeamMemberInvitation", 3).await;
    assert!(s
        .remove_membership(sec.id, bob.id, step("TeamMemberRemoval", 4))
        .await
        .unwrap());
    expect("TeamMemberRemoval", 4).await;
    let renamed = Credential {
        name: "Renamed".into(),
        ..c.clone()
    };
    let c2 = s
        .update_credential(&renamed, step("CredentialSave", 5))
        .await
        .unwrap()
        .expect("applied");
    expect("CredentialSave", 5).await;
    let c3 = s
        .update_credential_retiring(&c2, &retired("old"), step("CredentialKeyRotation", 6))
        .await
        .unwrap()
        .expect("applied");
    expect("CredentialKeyRotation", 6).await;
    assert!(s
        .revoke_api_key(bob.id, key.id, step("AuthenticationTokenDeletion", 7))
        .await
        .unwrap());
    expect("AuthenticationTokenDeletion", 7).await;
    assert!(matches!(
        s.deactivate_user(bob.id, now_ms(), step("UserDeactivation", 8))
            .await
            .unwrap(),
        Deactivation::Done(_)
    ));
    expect("UserDeactivation", 8).await;
    assert!(s
        .delete_credential(c3.id, step("CredentialDestruction", 9))
        .await
        .unwrap());
    expect("CredentialDestruction", 9).await;
    intact_chain(s).await;
}

pub async fn entries_form_a_chain(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let c = create(s, cred("live", sec.id, ada.id, "stripe")).await;
    s.update_credential(&c, audit("CredentialSave"))
        .await
        .unwrap()
        .expect("applied");
    s.append_audit(vec![
        audit("CredentialTokenMint"),
        audit("CredentialTokenMint"),
    ])
    .await
    .unwrap();
    assert!(s
        .delete_credential(c.id, audit("CredentialDestruction"))
        .await
        .unwrap());
    let entries = entries_after(s, 0).await;
    assert_eq!(
        entries.iter().map(|e| e.id).collect::<Vec<_>>(),
        (1..=7).collect::<Vec<_>>(),
        "ids 1 to 7, without gaps"
    );
    let mut previous = GENESIS_HASH.to_string();
    for e in &entries {
        assert_eq!(
            e.previous_hash, previous,
            "entry {} links to the one before",
            e.id
        );
        assert_eq!(e.hash, e.computed_hash(), "entry {}'s hash", e.id);
        previous.clone_from(&e.hash);
    }
    assert_eq!(
        head(s).await,
        AuditHead {
            last_id: 7,
            hash: previous
        },
        "the head is the last entry"
    );
    assert_eq!(intact_chain(s).await, entries, "the chain checks out");
}

pub async fn the_chain_is_read_in_windows(s: &S) {
    s.append_audit((0..5).map(|_| audit("CredentialTokenMint")).collect())
        .await
        .unwrap();
    let all = intact_chain(s).await;
    let ids = |entries: Vec<AuditEntry>| entries.iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(ids(all.clone()), vec![1, 2, 3, 4, 5], "the whole chain");
    let cases = [
        (0, 2, vec![1, 2]),
        (2, 2, vec![3, 4]),
        (4, 10, vec![5]),
        (5, 10, vec![]),
    ];
    for (after_id, limit, want) in cases {
        let window = s.audit_chain(after_id, limit).await.unwrap();
        assert_eq!(ids(window.clone()), want, "after {after_id}, limit {limit}");
        let same: Vec<AuditEntry> = all
            .iter()
            .filter(|e| want.contains(&e.id))
            .cloned()
            .collect();
        assert_eq!(window, same, "the same entries as the whole chain");
    }
}

// ---- Calls that change nothing record nothing ---------------------------------------------

pub async fn a_stale_update_records_nothing(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let c = create(s, cred("live", sec.id, ada.id, "stripe")).await;
    s.update_credential(&c, audit("CredentialSave"))
        .await
        .unwrap()
        .expect("applied");
    let before = head(s).await;
    assert_eq!(
        s.update_credential(&c, audit("CredentialSave"))
            .await
            .unwrap(),
        None,
        "an update at the old version"
    );
    assert_eq!(
        s.update_credential_retiring(&c, &retired("old"), audit("CredentialKeyRotation"))
            .await
            .unwrap(),
        None,
        "a retiring update at the old version"
    );
    assert_nothing_recorded(s, &before, "stale updates").await;
}

pub async fn a_change_of_a_missing_credential_records_nothing(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let c = create(s, cred("live", sec.id, ada.id, "stripe")).await;
    let t = s
        .attach_test_credential(test_cred("test", &c), audit("CredentialSave"))
        .await
        .unwrap();
    let missing = Credential {
        id: 999_999,
        ..c.clone()
    };
    let before = head(s).await;
    assert!(!s
        .delete_credential(999_999, audit("CredentialDestruction"))
        .await
        .unwrap());
    assert!(
        !s.delete_credential(t.id, audit("CredentialDestruction"))
            .await
            .unwrap(),
        "a test credential is not deleted alone"
    );
    assert_eq!(
        s.update_credential(&missing, audit("CredentialSave"))
            .await
            .unwrap(),
        None
    );
    assert_nothing_recorded(s, &before, "changes of missing credentials").await;
    assert!(s
        .delete_credential(c.id, audit("CredentialDestruction"))
        .await
        .unwrap());
    let before = head(s).await;
    assert!(!s
        .delete_credential(c.id, audit("CredentialDestruction"))
        .await
        .unwrap());
    assert_nothing_recorded(s, &before, "a second delete").await;
}

pub async fn revoking_an_unknown_key_records_nothing(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let bob = user(s, "bob@example.com", false).await;
    let key = s
        .create_api_key(
            ada.id,
            "laptop",
            &[1; 32],
            audit("AuthenticationTokenCreation"),
        )
        .await
        .unwrap();
    let before = head(s).await;
    let revoke =
        |user_id, key_id| s.revoke_api_key(user_id, key_id, audit("AuthenticationTokenDeletion"));
    assert!(!revoke(ada.id, 999_999).await.unwrap(), "a missing key");
    assert!(!revoke(bob.id, key.id).await.unwrap(), "another user's key");
    assert_nothing_recorded(s, &before, "revokes of unknown keys").await;
    assert!(revoke(ada.id, key.id).await.unwrap(), "the owner revokes");
    let before = head(s).await;
    assert!(!revoke(ada.id, key.id).await.unwrap(), "a revoked key");
    assert_nothing_recorded(s, &before, "a second revoke").await;
}

pub async fn removing_a_non_member_records_nothing(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let before = head(s).await;
    let remove =
        |team_id, user_id| s.remove_membership(team_id, user_id, audit("TeamMemberRemoval"));
    assert!(!remove(sec.id, ada.id).await.unwrap(), "not a member");
    assert!(!remove(999_999, ada.id).await.unwrap(), "a missing team");
    assert!(!remove(sec.id, 999_999).await.unwrap(), "a missing user");
    assert_nothing_recorded(s, &before, "removes of non-members").await;
}

pub async fn a_refused_meta_replace_records_nothing(s: &S) {
    assert!(s.insert_meta("kek", b"one").await.unwrap());
    let before = head(s).await;
    assert_eq!(before.last_id, 0, "insert_meta is not recorded");
    assert!(!s
        .replace_meta("kek", b"other", b"two", audit("MasterKeyRotation"))
        .await
        .unwrap());
    assert!(!s
        .replace_meta("missing", b"one", b"two", audit("MasterKeyRotation"))
        .await
        .unwrap());
    assert_nothing_recorded(s, &before, "refused replaces").await;
}

pub async fn deactivations_that_change_nothing_record_nothing(s: &S) {
    let ada = user(s, "ada@example.com", true).await;
    let bob = user(s, "bob@example.com", false).await;
    let deactivate = |id| s.deactivate_user(id, now_ms(), audit("UserDeactivation"));
    assert!(matches!(
        deactivate(bob.id).await.unwrap(),
        Deactivation::Done(_)
    ));
    let before = head(s).await;
    assert!(
        matches!(deactivate(bob.id).await.unwrap(), Deactivation::Done(u) if !u.is_active),
        "an inactive user"
    );
    assert_eq!(
        deactivate(999_999).await.unwrap(),
        Deactivation::NotFound,
        "a missing user"
    );
    assert_eq!(
        deactivate(ada.id).await.unwrap(),
        Deactivation::LastAdmin,
        "the last admin"
    );
    assert_nothing_recorded(s, &before, "deactivations that change nothing").await;
}

pub async fn creates_that_conflict_record_nothing(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let c = create(s, cred("live", sec.id, ada.id, "stripe")).await;
    s.attach_test_credential(test_cred("test", &c), audit("CredentialSave"))
        .await
        .unwrap();
    let before = head(s).await;
    assert_conflict(
        "a taken credential slug",
        s.create_credential(
            cred("other", sec.id, ada.id, "stripe"),
            audit("CredentialSave"),
        )
        .await,
        Conflict::CredentialSlug,
    );
    assert_conflict(
        "a second test credential",
        s.attach_test_credential(test_cred("test-2", &c), audit("CredentialSave"))
            .await,
        Conflict::TestCredential,
    );
    assert_conflict(
        "a taken team slug",
        s.create_team("Other", "security", audit("TeamCreation"))
            .await,
        Conflict::TeamSlug,
    );
    assert_conflict(
        "a taken email",
        s.create_user(new_user("ada@example.com"), audit("UserCreation"))
            .await,
        Conflict::UserEmail,
    );
    assert_nothing_recorded(s, &before, "conflicting creates").await;
}

pub async fn creates_the_database_rejects_record_nothing(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let before = head(s).await;
    s.create_credential(
        cred("live", sec.id, 999_999, "stripe"),
        audit("CredentialSave"),
    )
    .await
    .expect_err("a credential of a missing owner");
    s.create_folder(new_folder(999_999, "Prod"), audit("FolderCreation"))
        .await
        .expect_err("a folder of a missing team");
    s.create_api_key(
        999_999,
        "laptop",
        &[1; 32],
        audit("AuthenticationTokenCreation"),
    )
    .await
    .expect_err("a key of a missing user");
    s.set_membership(999_999, ada.id, Role::Editor, audit("TeamMemberInvitation"))
        .await
        .expect_err("a membership of a missing team");
    assert_nothing_recorded(s, &before, "rejected writes").await;
}

/// A create that the database rejects among concurrent valid ones (on SQLite, in one group
/// commit): only the valid ones are recorded, each once. Run on the current-thread runtime,
/// so that every create is queued before any is written.
pub async fn a_failing_create_among_concurrent_ones_records_only_the_others(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let before = head(s).await;
    let news = (0..11)
        .map(|i| {
            let owner = if i == 5 { 999_999 } else { ada.id };
            cred(&format!("uid-{i}"), sec.id, owner, &format!("slug-{i}"))
        })
        .collect();
    let mut created = vec![];
    for (new, result) in create_at_once(s, news).await {
        match (new.owner_id == ada.id, result) {
            (true, Ok(c)) => created.push(c),
            (false, Err(_)) => {}
            (_, result) => panic!("create {}: unexpected {result:?}", new.uid),
        }
    }
    assert_eq!(created.len(), 10, "the valid creates");
    let entries = entries_after(s, before.last_id).await;
    assert_eq!(entries.len(), 10, "one entry per valid create");
    assert_one_entry_per_create(&entries, &created);
    intact_chain(s).await;
}

// ---- Concurrency --------------------------------------------------------------------------

/// 50 creates at once (on SQLite, group commits): each gets exactly one entry with its own
/// credential id, and the chain stays whole.
pub async fn concurrent_creates_each_record_one_entry(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let before = head(s).await;
    let news = (0..50)
        .map(|i| cred(&format!("uid-{i}"), sec.id, ada.id, &format!("slug-{i}")))
        .collect();
    let created: Vec<Credential> = create_at_once(s, news)
        .await
        .into_iter()
        .map(|(new, result)| result.unwrap_or_else(|e| panic!("create {}: {e}", new.uid)))
        .collect();
    let entries = entries_after(s, before.last_id).await;
    assert_eq!(entries.len(), 50, "50 entries");
    assert_one_entry_per_create(&entries, &created);
    assert_eq!(
        intact_chain(s).await.len() as i64,
        before.last_id + 50,
        "the chain holds every entry"
    );
}

/// 20 creates of one slug at once (on SQLite, group commits whose losing rows are skipped):
/// only the winner is recorded.
pub async fn racing_creates_of_a_slug_record_only_the_winner(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let before = head(s).await;
    let news = (0..20)
        .map(|i| cred(&format!("race-{i}"), sec.id, ada.id, "contested"))
        .collect();
    let mut winners = vec![];
    for (new, result) in create_at_once(s, news).await {
        match result {
            Ok(c) => winners.push(c),
            Err(StoreError::Conflict(Conflict::CredentialSlug)) => {}
            Err(e) => panic!("racing create {}: unexpected error {e:?}", new.uid),
        }
    }
    assert_eq!(winners.len(), 1, "one winner");
    let entries = entries_after(s, before.last_id).await;
    assert_one_entry_per_create(&entries, &winners);
    intact_chain(s).await;
}

/// Updates of different credentials (each task its own), racing updates of one credential,
/// and creates, all at once: one entry per write that succeeded, in one unbroken chain whose
/// times follow its order.
pub async fn concurrent_writes_keep_the_chain_whole(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let mut owned = vec![];
    for i in 0..8 {
        owned.push(
            create(
                s,
                cred(&format!("own-{i}"), sec.id, ada.id, &format!("own-{i}")),
            )
            .await,
        );
    }
    let shared = create(s, cred("shared", sec.id, ada.id, "shared")).await;
    let before = head(s).await;
    let mut tasks = tokio::task::JoinSet::new();
    for (i, c) in owned.into_iter().enumerate() {
        let store = Arc::clone(s);
        tasks.spawn(async move {
            let mut c = c;
            for n in 0..5 {
                let edit = Credential {
                    name: format!("edit {n}"),
                    ..c
                };
                let record = with_inputs("CredentialSave", json!({ "task": i, "n": n }));
                c = store
                    .update_credential(&edit, record)
                    .await
                    .unwrap()
                    .expect("nobody else updates this credential");
            }
            5
        });
    }
    for i in 0..6 {
        let store = Arc::clone(s);
        let edit = Credential {
            name: format!("racer {i}"),
            ..shared.clone()
        };
        tasks.spawn(async move {
            let record = with_inputs("CredentialSave", json!({ "racer": i }));
            usize::from(
                store
                    .update_credential(&edit, record)
                    .await
                    .unwrap()
                    .is_some(),
            )
        });
    }
    for i in 0..20 {
        let store = Arc::clone(s);
        let new = cred(&format!("new-{i}"), sec.id, ada.id, &format!("new-{i}"));
        tasks.spawn(async move {
            let record = uid_record(&new);
            store.create_credential(new, record).await.unwrap();
            1
        });
    }
    let written: usize = tasks.join_all().await.into_iter().sum();
    assert_eq!(written, 8 * 5 + 1 + 20, "every write but 5 stale racers");
    let entries = intact_chain(s).await;
    assert_eq!(
        entries.len() as i64 - before.last_id,
        written as i64,
        "one entry per write"
    );
    for pair in entries.windows(2) {
        assert!(
            pair[0].created_at <= pair[1].created_at,
            "entry {} was created at {}, after entry {} at {}",
            pair[0].id,
            pair[0].created_at,
            pair[1].id,
            pair[1].created_at
        );
    }
}

// ---- The stream ---------------------------------------------------------------------------

pub async fn the_stream_gets_exactly_the_appended_entries_in_order(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let before = head(s).await;
    let sink = stream(s);
    let c = create(s, cred("live", sec.id, ada.id, "stripe")).await;
    s.update_credential(&c, audit("CredentialSave"))
        .await
        .unwrap()
        .expect("applied");
    assert_eq!(
        s.update_credential(&c, audit("CredentialSave"))
            .await
            .unwrap(),
        None,
        "stale"
    );
    s.append_audit(vec![
        audit("CredentialTokenMint"),
        audit("CredentialTokenMint"),
    ])
    .await
    .unwrap();
    assert!(!s
        .remove_membership(sec.id, ada.id, audit("TeamMemberRemoval"))
        .await
        .unwrap());
    s.set_membership(sec.id, ada.id, Role::Editor, audit("TeamMemberInvitation"))
        .await
        .unwrap();
    let appended = entries_after(s, before.last_id).await;
    assert_eq!(
        appended.len(),
        5,
        "the entries appended since the stream began"
    );
    assert_eq!(
        sink.written(),
        appended,
        "the stream got exactly those, in chain order"
    );
}

/// 50 creates at once: the stream gets their entries in chain order.
pub async fn the_stream_gets_concurrent_entries_in_chain_order(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let before = head(s).await;
    let sink = stream(s);
    let news = (0..50)
        .map(|i| cred(&format!("uid-{i}"), sec.id, ada.id, &format!("slug-{i}")))
        .collect();
    for (new, result) in create_at_once(s, news).await {
        result.unwrap_or_else(|e| panic!("create {}: {e}", new.uid));
    }
    let appended = entries_after(s, before.last_id).await;
    assert_eq!(appended.len(), 50, "50 entries");
    assert_eq!(sink.written(), appended, "streamed in chain order");
    intact_chain(s).await;
}

pub async fn a_failing_stream_fails_creates_and_leaves_nothing(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let live = create(s, cred("live", sec.id, ada.id, "stripe")).await;
    let sink = stream(s);
    sink.set_failing(true);
    let before = head(s).await;
    assert_audit_unavailable(
        "create_user",
        s.create_user(new_user("bob@example.com"), audit("UserCreation"))
            .await,
    );
    assert_audit_unavailable(
        "create_team",
        s.create_team("Platform", "platform", audit("TeamCreation"))
            .await,
    );
    assert_audit_unavailable(
        "create_folder",
        s.create_folder(new_folder(sec.id, "Prod"), audit("FolderCreation"))
            .await,
    );
    assert_audit_unavailable(
        "create_api_key",
        s.create_api_key(
            ada.id,
            "laptop",
            &[1; 32],
            audit("AuthenticationTokenCreation"),
        )
        .await,
    );
    assert_audit_unavailable(
        "create_credential",
        s.create_credential(cred("new", sec.id, ada.id, "new"), audit("CredentialSave"))
            .await,
    );
    assert_audit_unavailable(
        "attach_test_credential",
        s.attach_test_credential(test_cred("test", &live), audit("CredentialSave"))
            .await,
    );
    assert_nothing_recorded(s, &before, "refused creates").await;
    assert_eq!(sink.written(), vec![], "nothing streamed");
    assert_eq!(s.count_users().await.unwrap(), 1, "no user added");
    assert_eq!(
        s.get_team_by_slug("platform").await.unwrap(),
        None,
        "no team"
    );
    let folders = s.list_folders(None, None, page(0, 10)).await.unwrap();
    assert_eq!(folders.total, 0, "no folder");
    assert_eq!(s.find_api_key(&[1; 32]).await.unwrap(), None, "no key");
    let credentials = s
        .list_credentials(CredentialFilter::default(), page(0, 10))
        .await
        .unwrap();
    assert_eq!(
        credentials
            .items
            .into_iter()
            .map(|v| v.credential)
            .collect::<Vec<_>>(),
        vec![live.clone()],
        "no credential added, the live one unchanged"
    );
    assert_eq!(
        s.get_test_credential(live.id).await.unwrap(),
        None,
        "no test credential"
    );
}

pub async fn a_failing_stream_fails_changes_and_leaves_the_rows_as_they_were(s: &S) {
    let ada = user(s, "ada@example.com", true).await;
    let bob = user(s, "bob@example.com", true).await;
    let sec = team(s, "Security", "security").await;
    s.set_membership(sec.id, bob.id, Role::Viewer, audit("TeamMemberInvitation"))
        .await
        .unwrap();
    let key = s
        .create_api_key(bob.id, "ci", &[2; 32], audit("AuthenticationTokenCreation"))
        .await
        .unwrap();
    let c = create(s, cred("live", sec.id, ada.id, "stripe")).await;
    assert!(s.insert_meta("kek", b"one").await.unwrap());
    let sink = stream(s);
    sink.set_failing(true);
    let before = head(s).await;
    let renamed = Credential {
        name: "Renamed".into(),
        ..c.clone()
    };
    assert_audit_unavailable(
        "update_credential",
        s.update_credential(&renamed, audit("CredentialSave")).await,
    );
    assert_audit_unavailable(
        "update_credential_retiring",
        s.update_credential_retiring(&renamed, &retired("old"), audit("CredentialKeyRotation"))
            .await,
    );
    assert_audit_unavailable(
        "delete_credential",
        s.delete_credential(c.id, audit("CredentialDestruction"))
            .await,
    );
    assert_audit_unavailable(
        "revoke_api_key",
        s.revoke_api_key(bob.id, key.id, audit("AuthenticationTokenDeletion"))
            .await,
    );
    assert_audit_unavailable(
        "set_membership",
        s.set_membership(
            sec.id,
            bob.id,
            Role::TeamAdmin,
            audit("TeamMemberInvitation"),
        )
        .await,
    );
    assert_audit_unavailable(
        "remove_membership",
        s.remove_membership(sec.id, bob.id, audit("TeamMemberRemoval"))
            .await,
    );
    assert_audit_unavailable(
        "deactivate_user",
        s.deactivate_user(bob.id, now_ms(), audit("UserDeactivation"))
            .await,
    );
    assert_audit_unavailable(
        "replace_meta",
        s.replace_meta("kek", b"one", b"two", audit("MasterKeyRotation"))
            .await,
    );
    assert_nothing_recorded(s, &before, "refused changes").await;
    assert_eq!(sink.written(), vec![], "nothing streamed");
    assert_rows_as_before(s, &c, bob.id, sec.id).await;
}

/// What `a_failing_stream_fails_changes_and_leaves_the_rows_as_they_were` set up, unchanged:
/// the credential `c`, `bob`'s key `[2; 32]` and VIEWER membership of `team_id`, meta `kek`.
async fn assert_rows_as_before(s: &S, c: &Credential, bob: i64, sec_id: i64) {
    assert_eq!(
        s.get_credential_row(c.id).await.unwrap(),
        Some(c.clone()),
        "the credential as it was"
    );
    assert_eq!(
        s.published_retired_keys(c.id, 2_000).await.unwrap(),
        vec![],
        "no retired key"
    );
    let (hash, owner) = s
        .find_api_key(&[2; 32])
        .await
        .unwrap()
        .expect("the key works");
    assert_eq!(
        (hash, owner.id, owner.is_active),
        ([2; 32].to_vec(), bob, true)
    );
    assert_eq!(
        s.get_membership(sec_id, bob).await.unwrap(),
        Some(Role::Viewer),
        "the membership as it was"
    );
    assert_eq!(s.get_meta("kek").await.unwrap(), Some(b"one".to_vec()));
}

pub async fn a_failing_stream_fails_appends(s: &S) {
    s.append_audit(vec![audit("CredentialTokenMint")])
        .await
        .unwrap();
    let sink = stream(s);
    sink.set_failing(true);
    let before = head(s).await;
    assert_audit_unavailable(
        "append_audit",
        s.append_audit(vec![
            audit("CredentialTokenMint"),
            audit("CredentialTokenMint"),
        ])
        .await,
    );
    assert_nothing_recorded(s, &before, "a refused append").await;
}

pub async fn after_a_failing_stream_the_chain_goes_on_without_a_gap(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let sink = stream(s);
    sink.set_failing(true);
    s.create_credential(cred("a", sec.id, ada.id, "a"), audit("CredentialSave"))
        .await
        .expect_err("refused");
    s.create_team("Platform", "platform", audit("TeamCreation"))
        .await
        .expect_err("refused");
    sink.set_failing(false);
    let c = s
        .create_credential(cred("a", sec.id, ada.id, "a"), audit("CredentialSave"))
        .await
        .unwrap();
    let t = s
        .create_team("Platform", "platform", audit("TeamCreation"))
        .await
        .unwrap();
    let entries = intact_chain(s).await;
    assert_eq!(
        entries.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![1, 2, 3, 4],
        "the refused changes took no ids"
    );
    assert_eq!(
        ops_and_inputs(&entries[2..]),
        vec![
            ("CredentialSave", json!({"credential_id": c.id})),
            ("TeamCreation", json!({"team_id": t.id})),
        ]
    );
    assert_eq!(sink.written(), entries[2..], "the stream got the entries");
}

/// A stream that refuses every write, and creates at once (on SQLite, one group commit):
/// every create fails and nothing is stored.
pub async fn a_failing_stream_fails_every_create_of_a_batch(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let sink = stream(s);
    sink.set_failing(true);
    let before = head(s).await;
    let news = (0..10)
        .map(|i| cred(&format!("uid-{i}"), sec.id, ada.id, &format!("slug-{i}")))
        .collect();
    for (new, result) in create_at_once(s, news).await {
        assert_audit_unavailable(&new.uid, result);
    }
    assert_nothing_recorded(s, &before, "refused creates").await;
    let credentials = s
        .list_credentials(CredentialFilter::default(), page(0, 10))
        .await
        .unwrap();
    assert_eq!(credentials.total, 0, "no credential stored");
}

/// A stream that refuses one entry, among creates at once (on SQLite, one group commit):
/// only that create fails; the others are stored, recorded and streamed.
pub async fn a_stream_refusing_one_entry_fails_only_its_change(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let sink = stream(s);
    let before = head(s).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..11 {
        let store = Arc::clone(s);
        let new = cred(&format!("uid-{i}"), sec.id, ada.id, &format!("slug-{i}"));
        let record = if i == 5 {
            with_inputs("CredentialSave", json!({ "uid": new.uid, "refuse": true }))
        } else {
            uid_record(&new)
        };
        tasks.spawn(async move { (i, store.create_credential(new, record).await) });
    }
    let mut created = vec![];
    for (i, result) in tasks.join_all().await {
        if i == 5 {
            assert_audit_unavailable("the refused create", result);
        } else {
            created.push(result.unwrap_or_else(|e| panic!("create {i}: {e}")));
        }
    }
    let entries = entries_after(s, before.last_id).await;
    assert_eq!(entries.len(), 10, "one entry per create that succeeded");
    assert_one_entry_per_create(&entries, &created);
    assert_eq!(sink.written(), entries, "streamed");
    let stored = s
        .list_credentials(CredentialFilter::default(), page(0, 20))
        .await
        .unwrap();
    assert_eq!(stored.total, 10, "the refused create stored nothing");
    assert!(
        stored.items.iter().all(|v| v.credential.uid != "uid-5"),
        "uid-5 is not stored"
    );
    intact_chain(s).await;
}

// ---- append_audit -------------------------------------------------------------------------

pub async fn appended_records_are_chained_in_one_go(s: &S) {
    let records = vec![
        full_record("CredentialTokenMint", 7),
        audit("CredentialTokenMintRefusal"),
        with_inputs(
            "CredentialTokenMint",
            json!({"count": 3, "credential_id": 9}),
        ),
    ];
    let before = now_ms();
    s.append_audit(records.clone()).await.unwrap();
    let after = now_ms();
    let entries = intact_chain(s).await;
    assert_eq!(entries.len(), 3, "three entries");
    let at = entries[0].created_at;
    assert_between("appended created_at", at, before, after);
    let mut previous = GENESIS_HASH.to_string();
    for (id, (entry, record)) in (1..).zip(entries.iter().zip(records)) {
        let want = record.into_entry(id, at, &previous);
        assert_eq!(*entry, want, "entry {id}: the record as given, at one time");
        previous.clone_from(&entry.hash);
    }
}

pub async fn appending_no_records_records_nothing(s: &S) {
    let before = head(s).await;
    s.append_audit(vec![]).await.unwrap();
    assert_nothing_recorded(s, &before, "an empty append").await;
}

// ---- Lists --------------------------------------------------------------------------------

/// Appends one record at a time, each at a later millisecond than the one before.
async fn append_apart(s: &S, records: Vec<AuditRecord>) -> Vec<AuditEntry> {
    let before = head(s).await;
    for record in records {
        let last = entries_after(s, 0).await.last().map(|e| e.created_at);
        while last.is_some_and(|t| now_ms() <= t) {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        s.append_audit(vec![record]).await.unwrap();
    }
    let entries = entries_after(s, before.last_id).await;
    for pair in entries.windows(2) {
        assert!(
            pair[0].created_at < pair[1].created_at,
            "entries appended apart have increasing times"
        );
    }
    entries
}

/// The ids of a page, and its total.
async fn listed(s: &S, filter: &AuditFilter, offset: i64, limit: i64) -> (Vec<i64>, i64) {
    let p = s
        .list_audit_logs(filter, page(offset, limit))
        .await
        .unwrap();
    (p.items.iter().map(|e| e.id).collect(), p.total)
}

pub async fn audit_logs_are_listed_newest_first_in_pages(s: &S) {
    s.append_audit((0..5).map(|_| audit("CredentialTokenMint")).collect())
        .await
        .unwrap();
    let all = AuditFilter::default();
    let cases = [
        (0, 10, vec![5, 4, 3, 2, 1]),
        (0, 2, vec![5, 4]),
        (2, 2, vec![3, 2]),
        (4, 2, vec![1]),
        (5, 2, vec![]),
    ];
    for (offset, limit, want) in cases {
        assert_eq!(
            listed(s, &all, offset, limit).await,
            (want, 5),
            "offset {offset}, limit {limit}"
        );
    }
    let p = s.list_audit_logs(&all, page(0, 10)).await.unwrap();
    let mut chain = intact_chain(s).await;
    chain.reverse();
    assert_eq!(
        p.items, chain,
        "listed entries are the chain's, newest first"
    );
}

pub async fn audit_logs_are_filtered_by_time_strictly(s: &S) {
    let entries = append_apart(s, (0..5).map(|_| audit("CredentialTokenMint")).collect()).await;
    let t: Vec<i64> = entries.iter().map(|e| e.created_at).collect();
    let cases = [
        ("before the third", Some(t[2]), None, vec![2, 1]),
        ("after the third", None, Some(t[2]), vec![5, 4]),
        (
            "between the first and fifth",
            Some(t[4]),
            Some(t[0]),
            vec![4, 3, 2],
        ),
        ("before the first", Some(t[0]), None, vec![]),
        ("after the last", None, Some(t[4]), vec![]),
        (
            "before just after the last",
            Some(t[4] + 1),
            None,
            vec![5, 4, 3, 2, 1],
        ),
        ("an empty window", Some(t[2]), Some(t[2]), vec![]),
    ];
    for (what, before, after, want) in cases {
        let filter = AuditFilter {
            before,
            after,
            ..Default::default()
        };
        let total = want.len() as i64;
        assert_eq!(listed(s, &filter, 0, 10).await, (want, total), "{what}");
    }
}

pub async fn audit_logs_are_filtered_by_users_and_operations(s: &S) {
    s.append_audit(vec![
        by_user("CredentialSave", Some(7)),        // 1
        by_user("CredentialDestruction", Some(8)), // 2
        by_user("CredentialSave", None),           // 3
        by_user("TeamCreation", Some(7)),          // 4
        by_user("CredentialTokenMint", Some(9)),   // 5
    ])
    .await
    .unwrap();
    let filter = |user_ids: &[i64], operation_names: &[&str]| AuditFilter {
        user_ids: user_ids.to_vec(),
        operation_names: operation_names.iter().map(ToString::to_string).collect(),
        ..Default::default()
    };
    let cases = [
        ("no filter", filter(&[], &[]), vec![5, 4, 3, 2, 1]),
        ("one user", filter(&[7], &[]), vec![4, 1]),
        ("two users", filter(&[7, 8], &[]), vec![4, 2, 1]),
        ("a user without entries", filter(&[999], &[]), vec![]),
        (
            "one operation",
            filter(&[], &["CredentialSave"]),
            vec![3, 1],
        ),
        (
            "two operations",
            filter(&[], &["CredentialSave", "TeamCreation"]),
            vec![4, 3, 1],
        ),
        ("an unknown operation", filter(&[], &["Nope"]), vec![]),
        (
            "users and operations",
            filter(&[7, 8], &["CredentialSave", "CredentialDestruction"]),
            vec![2, 1],
        ),
    ];
    for (what, filter, want) in cases {
        let total = want.len() as i64;
        assert_eq!(listed(s, &filter, 0, 10).await, (want, total), "{what}");
    }
}

pub async fn audit_log_filters_combine_and_page(s: &S) {
    let entries = append_apart(
        s,
        vec![
            by_user("CredentialSave", Some(7)),      // 1
            by_user("CredentialSave", Some(7)),      // 2
            by_user("CredentialSave", Some(8)),      // 3
            by_user("TeamCreation", Some(7)),        // 4
            by_user("CredentialSave", Some(7)),      // 5
            by_user("CredentialSave", Some(7)),      // 6
            by_user("CredentialTokenMint", Some(7)), // 7
        ],
    )
    .await;
    let filter = AuditFilter {
        after: Some(entries[0].created_at),
        before: Some(entries[6].created_at),
        user_ids: vec![7],
        operation_names: vec!["CredentialSave".into()],
    };
    assert_eq!(listed(s, &filter, 0, 10).await, (vec![6, 5, 2], 3), "all");
    assert_eq!(
        listed(s, &filter, 0, 2).await,
        (vec![6, 5], 3),
        "first page"
    );
    assert_eq!(listed(s, &filter, 2, 2).await, (vec![2], 3), "second page");
    assert_eq!(listed(s, &filter, 3, 2).await, (vec![], 3), "past the end");
}
