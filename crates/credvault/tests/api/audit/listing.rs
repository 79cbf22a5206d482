//! `GET /api/v1/audit_logs` (API.md §8): tenant admins only, newest first, Tines' filters
//! `user_id[]`, `operation_name[]` (with the spellings of Tines exports), `before` and
//! `after`, and the usual pages. On in-process servers: nothing here depends on a socket.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use super::*;

/// An in-process server whose log has entries by three users: the owner made the team and
/// the users, the EDITOR a credential it then changed, the TEAM_ADMIN a folder and a delete.
async fn busy_log() -> (Server, World) {
    let server = Server::in_process().await;
    let w = World::new(
        &server,
        "Ops",
        &[Role::TeamAdmin, Role::Editor, Role::Viewer],
    )
    .await;
    let (status, created) = server
        .create_credential(w.editor_key(), text_body(w.team_id, "By the editor", "s"))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = id_of(&created);
    let body = json!({ "mode": "TEXT", "description": "changed" });
    let (status, _) = server
        .call(
            Method::PUT,
            &cred_path(id),
            Some(w.editor_key()),
            Some(body),
        )
        .await;
    assert_eq!(status, 200);
    server.folder(w.team_admin_key(), w.team_id, "Prod").await;
    let (status, _) = server.delete(&cred_path(id), w.team_admin_key()).await;
    assert_eq!(status, 204);
    (server, w)
}

/// The ids of `entries`.
fn ids(entries: &[Value]) -> Vec<i64> {
    entries.iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

/// The ids of the whole log (newest first) whose entries pass `keep`.
async fn ids_where(server: &Server, keep: impl Fn(&Value) -> bool) -> Vec<i64> {
    let mut all = chain(server).await;
    all.reverse();
    all.retain(|e| keep(e));
    ids(&all)
}

/// `GET /audit_logs?{query}` as the owner: status and body.
async fn get(server: &Server, query: &str) -> (u16, Value) {
    server
        .get(&format!("{AUDIT_LOGS}?{query}"), OWNER_KEY)
        .await
}

#[tokio::test]
async fn only_tenant_admins_read_the_audit_log() {
    let (server, w) = busy_log().await;
    for (role, key) in [
        ("TEAM_ADMIN", w.team_admin_key()),
        ("EDITOR", w.editor_key()),
        ("VIEWER", w.viewer_key()),
    ] {
        let (status, body) = server.get(AUDIT_LOGS, key).await;
        assert_eq!(status, 403, "{role}: {body}");
        assert_refused(status, &body, 403);
    }
    let (status, _) = server.get(AUDIT_LOGS, OWNER_KEY).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn without_a_valid_key_the_audit_log_is_401() {
    let server = Server::in_process().await;
    let (status, body) = server.call(Method::GET, AUDIT_LOGS, None, None).await;
    assert_refused(status, &body, 401);
    let (status, body) = server.get(AUDIT_LOGS, "cvk_not_a_key").await;
    assert_refused(status, &body, 401);
}

#[tokio::test]
async fn entries_are_listed_newest_first_under_audit_logs() {
    let (server, _) = busy_log().await;
    let body = list(&server, "per_page=500").await;
    let count = body["meta"]["count"].as_i64().unwrap();
    let listed = ids(body["audit_logs"].as_array().unwrap());
    assert_eq!(listed, (1..=count).rev().collect::<Vec<_>>());
}

#[tokio::test]
async fn the_user_id_filter_keeps_the_entries_of_the_users_named() {
    let (server, w) = busy_log().await;
    let (editor, admin) = (w.editor_id(), w.team_admin_id());
    let query = format!("per_page=500&user_id[]={editor}&user_id[]={admin}");
    let got = ids(&entries(&server, &query).await);
    let want = ids_where(&server, |e| e["user_id"] == editor || e["user_id"] == admin).await;
    assert_eq!(got, want);
    assert_eq!(want.len(), 4, "two by the editor, two by the team admin");
    // Without brackets too.
    let got = ids(&entries(&server, &format!("per_page=500&user_id={editor}")).await);
    assert_eq!(got, ids_where(&server, |e| e["user_id"] == editor).await);
}

#[tokio::test]
async fn the_operation_name_filter_takes_several_names() {
    let (server, _) = busy_log().await;
    let query = "per_page=500&operation_name[]=FolderCreation&operation_name[]=TeamCreation";
    let got = entries(&server, query).await;
    let want = ids_where(&server, |e| {
        e["operation_name"] == "FolderCreation" || e["operation_name"] == "TeamCreation"
    })
    .await;
    assert_eq!(ids(&got), want);
    assert_eq!(want.len(), 2, "{got:#?}");
}

#[tokio::test]
async fn the_operation_name_filter_accepts_the_spellings_of_tines_exports() {
    let (server, _) = busy_log().await;
    for (alias, name, n) in [
        ("UserCredentialSave", "CredentialSave", 2),
        ("UserCredentialDestruction", "CredentialDestruction", 1),
    ] {
        let got = ids(&entries(&server, &format!("operation_name[]={alias}")).await);
        assert_eq!(
            got,
            ids_where(&server, |e| e["operation_name"] == name).await
        );
        assert_eq!(got.len(), n, "{alias}");
    }
}

#[tokio::test]
async fn before_and_after_keep_entries_created_strictly_before_or_after_a_time() {
    let server = Server::in_process().await;
    for name in ["First", "Second", "Third"] {
        server.team(name).await;
        // Each team's entry in a millisecond of its own.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let all = chain(&server).await;
    let pivot = all
        .iter()
        .find(|e| e["inputs"]["inputs"]["name"] == "Second")
        .unwrap();
    let at = pivot["created_at"].as_str().unwrap();
    let millis = |e: &Value| rfc3339_millis(&e["created_at"]);
    let t = millis(pivot);
    let before = ids(&entries(&server, &format!("before={at}")).await);
    assert_eq!(before, ids_where(&server, |e| millis(e) < t).await);
    let after = ids(&entries(&server, &format!("after={at}")).await);
    assert_eq!(after, ids_where(&server, |e| millis(e) > t).await);
    assert!(!before.is_empty() && !after.is_empty());
    assert!(!before.contains(&pivot["id"].as_i64().unwrap()));
    // Both: the window between the first and the third team.
    let (first, third) = (&all[all.len() - 3], &all[all.len() - 1]);
    let query = format!(
        "after={}&before={}",
        first["created_at"].as_str().unwrap(),
        third["created_at"].as_str().unwrap()
    );
    assert_eq!(
        ids(&entries(&server, &query).await),
        [pivot["id"].as_i64().unwrap()]
    );
}

#[tokio::test]
async fn per_page_and_page_walk_the_log_with_the_usual_meta() {
    let (server, _) = busy_log().await;
    let body = list(&server, "per_page=3&page=2").await;
    let count = body["meta"]["count"].as_i64().unwrap();
    assert_eq!(
        ids(body["audit_logs"].as_array().unwrap()),
        [count - 3, count - 4, count - 5]
    );
    let meta = &body["meta"];
    assert_eq!(meta["per_page"], 3);
    assert_eq!(meta["pages"], (count + 2) / 3);
    assert_eq!(meta["next_page_number"], 3);
    for (link, page) in [("current_page", 2), ("previous_page", 1), ("next_page", 3)] {
        let url = meta[link]
            .as_str()
            .unwrap_or_else(|| panic!("{link}: {meta}"));
        assert!(url.contains("/api/v1/audit_logs?"), "{link}: {url}");
        assert!(url.contains("per_page=3"), "{link}: {url}");
        assert!(url.contains(&format!("page={page}")), "{link}: {url}");
    }
    let last = list(&server, &format!("per_page=3&page={}", (count + 2) / 3)).await;
    assert_eq!(last["meta"]["next_page"], Value::Null);
    assert_eq!(
        last["audit_logs"].as_array().unwrap().last().unwrap()["id"],
        1
    );
}

#[tokio::test]
async fn filters_are_kept_in_the_page_links_and_counted_in_meta() {
    let (server, _) = busy_log().await;
    let body = list(&server, "per_page=1&operation_name[]=CredentialSave").await;
    assert_eq!(body["meta"]["count"], 2);
    assert_eq!(body["meta"]["pages"], 2);
    let next = body["meta"]["next_page"].as_str().unwrap();
    assert!(next.contains("CredentialSave"), "{next}");
}

#[tokio::test]
async fn a_time_that_is_not_rfc_3339_is_422_naming_the_field() {
    let server = Server::in_process().await;
    for (field, value) in [
        ("before", "yesterday"),
        ("after", "2026-01-31"),
        ("before", "2026-13-01T00:00:00Z"),
        ("after", "1767225600"),
    ] {
        let (status, body) = get(&server, &format!("{field}={value}")).await;
        assert_error(status, &body, 422, Some(field), "RFC 3339");
    }
}

#[tokio::test]
async fn a_user_id_that_is_not_an_integer_is_422() {
    let server = Server::in_process().await;
    for query in [
        "user_id[]=abc",
        "user_id[]=1&user_id[]=1.5",
        "user_id=owner",
    ] {
        let (status, body) = get(&server, query).await;
        assert_error(status, &body, 422, Some("user_id"), "integer");
    }
}

#[tokio::test]
async fn a_filter_of_more_than_100_values_is_422_naming_it() {
    let server = Server::in_process().await;
    let repeat =
        |field: &str, value: &str, n: usize| vec![format!("{field}[]={value}"); n].join("&");
    for (field, value) in [("user_id", "1"), ("operation_name", "TeamCreation")] {
        let (status, body) = get(&server, &repeat(field, value, 101)).await;
        assert_error(status, &body, 422, Some(field), "100");
        let (status, body) = get(&server, &repeat(field, value, 100)).await;
        assert_eq!(status, 200, "100 {field} values: {body}");
    }
}
