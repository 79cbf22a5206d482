//! The store answers pings and keeps write-once metadata.

use crate::helpers::{audit, S};

pub async fn a_fresh_store_answers_a_ping(s: &S) {
    s.ping().await.unwrap_or_else(|e| panic!("ping: {e}"));
}

pub async fn a_missing_meta_key_has_no_value(s: &S) {
    assert_eq!(s.get_meta("kek").await.unwrap(), None);
}

pub async fn meta_is_written_once(s: &S) {
    assert!(
        s.insert_meta("kek", b"first").await.unwrap(),
        "first insert"
    );
    assert!(
        !s.insert_meta("kek", b"second").await.unwrap(),
        "a second insert of the same key writes nothing"
    );
    assert_eq!(
        s.get_meta("kek").await.unwrap(),
        Some(b"first".to_vec()),
        "the first value stays"
    );
}

pub async fn meta_values_round_trip_every_byte(s: &S) {
    let every_byte: Vec<u8> = (0..=255u8).collect();
    assert!(s.insert_meta("bytes", &every_byte).await.unwrap());
    assert_eq!(s.get_meta("bytes").await.unwrap(), Some(every_byte));
    assert!(s.insert_meta("empty", b"").await.unwrap(), "an empty value");
    assert_eq!(s.get_meta("empty").await.unwrap(), Some(vec![]));
}

pub async fn meta_keys_are_exact_and_case_sensitive(s: &S) {
    assert!(s.insert_meta("kek", b"first").await.unwrap());
    assert_eq!(s.get_meta("KEK").await.unwrap(), None, "another case");
    assert_eq!(s.get_meta("other").await.unwrap(), None, "another key");
}

pub async fn meta_is_replaced_only_from_the_value_expected(s: &S) {
    assert!(s.insert_meta("k", b"one").await.unwrap());
    assert!(!s
        .replace_meta("k", b"other", b"two", audit("MasterKeyRotation"))
        .await
        .unwrap());
    assert_eq!(s.get_meta("k").await.unwrap(), Some(b"one".to_vec()));
    assert!(s
        .replace_meta("k", b"one", b"two", audit("MasterKeyRotation"))
        .await
        .unwrap());
    assert_eq!(s.get_meta("k").await.unwrap(), Some(b"two".to_vec()));
    assert!(!s
        .replace_meta("missing", b"one", b"two", audit("MasterKeyRotation"))
        .await
        .unwrap());
    assert_eq!(s.get_meta("missing").await.unwrap(), None);
}
