//! The life of a credential after its create (API.md §2 pagination, §4.2 read and list, §4.3
//! update, §4.4 delete, §4.6 test credentials): listing page by page with exact `meta`, the
//! list filters and who sees what, reading one back, updating every field and each field's
//! refusal, key rotation, racing updates, deletes, and a test credential from attach to delete.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

const LIST: &str = "/api/v1/user_credentials";

fn path(id: impl std::fmt::Display) -> String {
    format!("{LIST}/{id}")
}

/// `fields` as a JWT update body (`mode` is required on every PUT).
fn jwt(mut fields: Value) -> Value {
    fields["mode"] = json!("JWT");
    fields
}

async fn put(server: &Server, id: impl std::fmt::Display, key: &str, body: Value) -> (u16, Value) {
    server
        .call(Method::PUT, &path(id), Some(key), Some(body))
        .await
}

/// Millisecond timestamps: a short pause makes the next write's time differ.
async fn pause() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

fn is_timestamp(v: &Value) -> bool {
    // RFC 3339 UTC with milliseconds: 2021-03-26T12:34:16.540Z
    let s = v.as_str().unwrap_or("");
    s.len() == 24 && s.ends_with('Z') && s.as_bytes()[10] == b'T' && s.as_bytes()[19] == b'.'
}

fn id_of(body: &Value) -> i64 {
    body["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id: {body}"))
}

/// `GET /user_credentials?{query}` as `key`, which must answer 200.
async fn list(server: &Server, key: &str, query: &str) -> Value {
    let (status, body) = server.get(&format!("{LIST}?{query}"), key).await;
    assert_eq!(status, 200, "?{query}: {body}");
    body
}

fn items(body: &Value) -> &Vec<Value> {
    body["user_credentials"]
        .as_array()
        .unwrap_or_else(|| panic!("no user_credentials array: {body}"))
}

fn ids(body: &Value) -> Vec<i64> {
    items(body).iter().map(id_of).collect()
}

/// A pagination link: the public URL, the path, the request's other query parameters
/// (`query`, each followed by `&`) and `page` last.
fn link(server: &Server, query: &str, page: i64) -> String {
    format!("{}{LIST}?{query}page={page}", server.base)
}

/// The exact `meta` of page `page` of `pages`, for a request whose parameters other than
/// `page` are `query`.
#[track_caller]
fn assert_meta(
    server: &Server,
    body: &Value,
    query: &str,
    page: i64,
    per_page: i64,
    pages: i64,
    count: i64,
) {
    let next = (page < pages).then_some(page + 1);
    let want = json!({
        "current_page": link(server, query, page),
        "previous_page": (page > 1).then(|| link(server, query, page - 1)),
        "next_page": next.map(|n| link(server, query, n)),
        "next_page_number": next,
        "per_page": per_page,
        "pages": pages,
        "count": count,
    });
    assert_eq!(body["meta"], want, "page {page} of ?{query}");
}

/// `next` equals `prev` except for `updated_at` (which moved) and the `changed` fields.
#[track_caller]
fn assert_only_changed(prev: &Value, next: &Value, changed: &[&str]) {
    let (p, n) = (prev.as_object().unwrap(), next.as_object().unwrap());
    let mut keys: Vec<&String> = p.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        if key == "updated_at" || changed.contains(&key.as_str()) {
            continue;
        }
        assert_eq!(
            p.get(key),
            n.get(key),
            "{key} changed, but only {changed:?} should have"
        );
    }
    assert_eq!(prev["created_at"], next["created_at"]);
    assert!(is_timestamp(&next["updated_at"]), "{next}");
    assert!(
        next["updated_at"].as_str() > prev["updated_at"].as_str(),
        "updated_at did not move: {} then {}",
        prev["updated_at"],
        next["updated_at"]
    );
}

async fn folder(server: &Server, team_id: i64, name: &str) -> i64 {
    let (status, folder) = server
        .post(
            "/api/v1/folders",
            OWNER_KEY,
            json!({ "name": name, "content_type": "CREDENTIAL", "team_id": team_id }),
        )
        .await;
    assert_eq!(status, 201, "{folder}");
    id_of(&folder)
}

/// The body of an attach request: a test credential for `live_id` with `key_file` as ES384.
fn attach_body(live_id: i64) -> Value {
    json!({
        "mode": "JWT",
        "live_credential_id": live_id,
        "jwt_algorithm": "ES384",
        "jwt_payload": { "iss": "test-environment" },
        "jwt_private_key": fixture_key("ec-p384-pkcs8.pem"),
    })
}

#[tokio::test]
async fn lists_page_by_id_with_exact_meta_filters_and_visibility() {
    let server = Server::start();
    let alpha = server.team("Alpha").await;
    let bravo = server.team("Bravo").await;
    let (_, viewer_a) = server
        .user("viewer-a@example.com", Some((alpha, "VIEWER")))
        .await;
    let (_, editor_b) = server
        .user("editor-b@example.com", Some((bravo, "EDITOR")))
        .await;
    let (_, outsider) = server.user("outsider@example.com", None).await;
    let folder_a = folder(&server, alpha, "Alpha keys").await;

    // 45 credentials in Alpha: every 10th in the folder, every 9th (from 4) restricted. Bravo's
    // three are created in between, and a test credential takes an id in the middle too.
    let mut alpha_creds: Vec<Value> = Vec::new();
    let mut bravo_creds: Vec<Value> = Vec::new();
    for i in 0..45 {
        let mut body = jwt_body(alpha, &format!("alpha {i:02}"));
        if i % 9 == 4 {
            body["allowed_hosts"] = json!(["api.example.com"]);
        }
        if i % 10 == 0 {
            body["folder_id"] = json!(folder_a);
        }
        let (status, created) = server.create_credential(OWNER_KEY, body).await;
        assert_eq!(status, 201, "{created}");
        alpha_creds.push(created);
        if i == 20 {
            for j in 0..3 {
                let mut body = jwt_body(bravo, &format!("bravo {j}"));
                if j == 1 {
                    body["allowed_hosts"] = json!(["*.bravo.example"]);
                }
                let (status, created) = server.create_credential(OWNER_KEY, body).await;
                assert_eq!(status, 201, "{created}");
                bravo_creds.push(created);
            }
        }
        if i == 30 {
            let (status, attached) = server
                .create_credential(OWNER_KEY, attach_body(id_of(&alpha_creds[5])))
                .await;
            assert_eq!(status, 201, "{attached}");
            alpha_creds[5] = attached;
        }
    }
    // A test credential on one that is in the folder and restricted, with the highest id.
    let (status, attached) = server
        .create_credential(OWNER_KEY, attach_body(id_of(&alpha_creds[40])))
        .await;
    assert_eq!(status, 201, "{attached}");
    assert_eq!(attached["test_credential_enabled"], true);
    alpha_creds[40] = attached;
    let alpha_ids: Vec<i64> = alpha_creds.iter().map(id_of).collect();
    assert!(alpha_ids.windows(2).all(|w| w[0] < w[1]));

    // §4.2 read: one credential reads back exactly as create (or attach) returned it.
    for created in [
        &alpha_creds[0],
        &alpha_creds[4],
        &alpha_creds[5],
        &bravo_creds[1],
    ] {
        let (status, read) = server.get(&path(id_of(created)), OWNER_KEY).await;
        assert_eq!(status, 200, "{read}");
        assert_eq!(&read, created);
    }
    let (status, read) = server.get(&path(id_of(&alpha_creds[7])), &viewer_a).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read, alpha_creds[7]);

    // Pages of 20 as a member of Alpha: 20, 20, 5, by id, each item as create returned it.
    let page1 = list(&server, &viewer_a, "per_page=20&page=1").await;
    assert_eq!(items(&page1), &alpha_creds[0..20].to_vec());
    assert_meta(&server, &page1, "per_page=20&", 1, 20, 3, 45);
    // `page` first in the request: the links still carry it last.
    let page2 = list(&server, &viewer_a, "page=2&per_page=20").await;
    assert_eq!(items(&page2), &alpha_creds[20..40].to_vec());
    assert_meta(&server, &page2, "per_page=20&", 2, 20, 3, 45);
    let page3 = list(&server, &viewer_a, "per_page=20&page=3").await;
    assert_eq!(items(&page3), &alpha_creds[40..45].to_vec());
    assert_meta(&server, &page3, "per_page=20&", 3, 20, 3, 45);

    // Defaults: page 1 of 20.
    let default = list(&server, &viewer_a, "").await;
    assert_eq!(ids(&default), alpha_ids[0..20].to_vec());
    assert_meta(&server, &default, "", 1, 20, 3, 45);
    let (status, body) = server.get(LIST, &viewer_a).await;
    assert_eq!(status, 200);
    assert_eq!(body, default);

    // per_page above 500 is clamped; the link keeps the request's own value.
    let clamped = list(&server, &viewer_a, "per_page=1000").await;
    assert_eq!(ids(&clamped), alpha_ids);
    assert_meta(&server, &clamped, "per_page=1000&", 1, 500, 1, 45);

    // Out of range.
    for (query, field) in [
        ("page=0", "page"),
        ("page=-1&per_page=20", "page"),
        ("page=abc", "page"),
        ("per_page=0", "per_page"),
    ] {
        let (status, body) = server.get(&format!("{LIST}?{query}"), &viewer_a).await;
        assert_error(status, &body, 422, Some(field), field);
    }
    let past = list(&server, &viewer_a, "per_page=20&page=9").await;
    assert_eq!(items(&past), &Vec::<Value>::new());
    let meta = &past["meta"];
    assert_eq!(meta["current_page"], link(&server, "per_page=20&", 9));
    assert_eq!(meta["next_page"], Value::Null);
    assert_eq!(meta["next_page_number"], Value::Null);
    assert_eq!(meta["per_page"], 20);
    assert_eq!(meta["pages"], 3);
    assert_eq!(meta["count"], 45);

    // Filters keep their place in the links.
    let by_team = list(
        &server,
        OWNER_KEY,
        &format!("team_id={alpha}&per_page=20&page=3"),
    )
    .await;
    assert_eq!(ids(&by_team), alpha_ids[40..45].to_vec());
    assert_meta(
        &server,
        &by_team,
        &format!("team_id={alpha}&per_page=20&"),
        3,
        20,
        3,
        45,
    );
    let bravo_only = list(&server, OWNER_KEY, &format!("team_id={bravo}")).await;
    assert_eq!(items(&bravo_only), &bravo_creds);
    assert_eq!(bravo_only["meta"]["count"], 3);
    let (status, body) = server
        .get(&format!("{LIST}?team_id={bravo}"), &viewer_a)
        .await;
    assert_error(status, &body, 404, None, "not found");
    let (status, body) = server
        .get(&format!("{LIST}?team_id=999999"), OWNER_KEY)
        .await;
    assert_error(status, &body, 404, None, "not found");
    let (status, body) = server.get(&format!("{LIST}?team_id=abc"), OWNER_KEY).await;
    assert_error(status, &body, 422, Some("team_id"), "team_id");

    let in_folder = list(&server, &viewer_a, &format!("folder_id={folder_a}")).await;
    assert_eq!(
        ids(&in_folder),
        [0, 10, 20, 30, 40].map(|i| alpha_ids[i]).to_vec()
    );
    assert_eq!(in_folder["meta"]["count"], 5);

    let restricted_ids = [4, 13, 22, 31, 40].map(|i| alpha_ids[i]).to_vec();
    let restricted = list(&server, &viewer_a, "filter=RESTRICTED&per_page=100").await;
    assert_eq!(ids(&restricted), restricted_ids);
    assert!(items(&restricted)
        .iter()
        .all(|c| c["restriction_type"] == "RESTRICTED" && c["allowed_hosts"] != json!([])));
    let restricted_p2 = list(&server, &viewer_a, "filter=RESTRICTED&per_page=2&page=2").await;
    assert_eq!(ids(&restricted_p2), restricted_ids[2..4].to_vec());
    assert_meta(
        &server,
        &restricted_p2,
        "filter=RESTRICTED&per_page=2&",
        2,
        2,
        3,
        5,
    );

    let unrestricted = list(&server, &viewer_a, "filter=UNRESTRICTED&per_page=100").await;
    let want: Vec<i64> = alpha_ids
        .iter()
        .copied()
        .filter(|id| !restricted_ids.contains(id))
        .collect();
    assert_eq!(ids(&unrestricted), want);
    assert_eq!(unrestricted["meta"]["count"], 40);
    assert!(items(&unrestricted)
        .iter()
        .all(|c| c["restriction_type"] == "UNRESTRICTED" && c["allowed_hosts"] == json!([])));

    // Nothing has been minted yet: every credential is unused.
    let unused = list(&server, &viewer_a, "filter=UNUSED_IN_ACTIONS&per_page=100").await;
    assert_eq!(ids(&unused), alpha_ids);
    assert_eq!(unused["meta"]["count"], 45);

    let (status, body) = server.get(&format!("{LIST}?filter=BOGUS"), &viewer_a).await;
    assert_error(status, &body, 422, Some("filter"), "filter");

    let both = list(
        &server,
        &viewer_a,
        &format!("folder_id={folder_a}&filter=RESTRICTED"),
    )
    .await;
    assert_eq!(ids(&both), vec![alpha_ids[40]]);
    let bravo_restricted = list(
        &server,
        OWNER_KEY,
        &format!("team_id={bravo}&filter=RESTRICTED"),
    )
    .await;
    assert_eq!(ids(&bravo_restricted), vec![id_of(&bravo_creds[1])]);

    // Visibility: the tenant admin sees both teams, by id; members only their team's.
    let all = list(&server, OWNER_KEY, "per_page=100").await;
    let mut want: Vec<Value> = alpha_creds.iter().chain(&bravo_creds).cloned().collect();
    want.sort_by_key(id_of);
    assert_eq!(items(&all), &want);
    assert_meta(&server, &all, "per_page=100&", 1, 100, 1, 48);
    let as_bravo = list(&server, &editor_b, "").await;
    assert_eq!(items(&as_bravo), &bravo_creds);
    assert_eq!(as_bravo["meta"]["count"], 3);
    let as_outsider = list(&server, &outsider, "").await;
    assert_eq!(items(&as_outsider), &Vec::<Value>::new());
    assert_eq!(as_outsider["meta"]["count"], 0);
    let (status, body) = server.get(&path(id_of(&bravo_creds[0])), &viewer_a).await;
    assert_error(status, &body, 404, None, "not found");

    // The two test credentials hold ids of their own; neither is listed (above: 45 and 48) nor
    // readable on its own.
    let listed: Vec<i64> = want.iter().map(id_of).collect();
    let hidden: Vec<i64> = (1..=*listed.iter().max().unwrap() + 1)
        .filter(|id| !listed.contains(id))
        .collect();
    assert_eq!(hidden.len(), 2, "listed {listed:?}");
    for id in hidden {
        let (status, body) = server.get(&path(id), OWNER_KEY).await;
        assert_error(status, &body, 404, None, "not found");
    }
}

#[tokio::test]
async fn put_replaces_each_present_field_and_refuses_what_create_refuses() {
    let server = Server::start();
    let alpha = server.team("Alpha").await;
    let bravo = server.team("Bravo").await;
    let (editor_id, editor) = server
        .user("editor@example.com", Some((alpha, "EDITOR")))
        .await;
    let (editor2_id, editor2) = server
        .user("editor2@example.com", Some((alpha, "EDITOR")))
        .await;
    let (viewer_id, viewer) = server
        .user("viewer@example.com", Some((alpha, "VIEWER")))
        .await;
    let (_, outsider) = server.user("outsider@example.com", None).await;
    let folder_a = folder(&server, alpha, "Alpha keys").await;
    let folder_b = folder(&server, bravo, "Bravo keys").await;

    let mut body = jwt_body(alpha, "Signing Key");
    body["description"] = json!("first");
    body["metadata"] = json!({ "team": "alpha" });
    body["expires_at"] = json!("2030-01-01T00:00:00.000Z");
    body["jwt_headers"] = json!({ "kid": "k0" });
    body["jwt_lifetime_seconds"] = json!(900);
    let (status, created) = server.create_credential(&editor, body).await;
    assert_eq!(status, 201, "{created}");
    let id = id_of(&created);
    let (status, taken) = server
        .create_credential(&editor, jwt_body(alpha, "Taken Name"))
        .await;
    assert_eq!(status, 201, "{taken}");
    // The same slug in another team is no conflict.
    let (status, _) = server
        .create_credential(OWNER_KEY, jwt_body(bravo, "Other Team"))
        .await;
    assert_eq!(status, 201);

    let mut cur = created.clone();
    // A successful update: 200, exactly `changed` (and updated_at) differ from before, and
    // the values in `want` are returned. The next state is what a GET shows.
    macro_rules! update_ok {
        ($key:expr, $body:expr, $changed:expr, $want:expr) => {{
            pause().await;
            let (status, next) = put(&server, id, $key, $body).await;
            assert_eq!(status, 200, "{next}");
            assert_only_changed(&cur, &next, $changed);
            let want: Value = $want;
            for (k, v) in want.as_object().unwrap() {
                assert_eq!(&next[k], v, "{k} in {next}");
            }
            let (status, read) = server.get(&path(id), OWNER_KEY).await;
            assert_eq!(status, 200);
            assert_eq!(read, next);
            cur = next;
        }};
    }
    // A refused update: this error, and the credential is untouched.
    macro_rules! refused {
        ($key:expr, $body:expr, $status:expr, $field:expr, $needle:expr) => {{
            let body: Value = $body;
            let (status, err) = put(&server, id, $key, body.clone()).await;
            assert_error(status, &err, $status, $field, $needle);
            let (_, read) = server.get(&path(id), OWNER_KEY).await;
            assert_eq!(read, cur, "a refused PUT {body} changed the credential");
        }};
    }

    // `mode` is required and cannot change.
    refused!(
        &editor,
        json!({ "description": "x" }),
        422,
        Some("mode"),
        "mode"
    );
    refused!(
        &editor,
        json!({ "mode": "TEXT", "value": "v" }),
        422,
        Some("mode"),
        "mode"
    );
    refused!(
        &editor,
        json!({ "mode": "BOGUS" }),
        422,
        Some("mode"),
        "mode"
    );

    // name → slug.
    update_ok!(
        &editor,
        jwt(json!({ "name": "Renamed Key!" })),
        &["name", "slug"],
        json!({ "name": "Renamed Key!", "slug": "renamed_key" })
    );
    // A name whose slug is the credential's own is no conflict.
    update_ok!(
        &editor,
        jwt(json!({ "name": "renamed-key" })),
        &["name"],
        json!({ "name": "renamed-key", "slug": "renamed_key" })
    );
    refused!(
        &editor,
        jwt(json!({ "name": "  TAKEN--name " })),
        409,
        Some("name"),
        "taken_name"
    );
    refused!(
        &editor,
        jwt(json!({ "name": "!!!" })),
        422,
        Some("name"),
        "name"
    );
    refused!(
        &editor,
        jwt(json!({ "name": "" })),
        422,
        Some("name"),
        "name"
    );
    refused!(
        &editor,
        jwt(json!({ "name": 42 })),
        422,
        Some("name"),
        "name"
    );

    // description.
    update_ok!(
        &editor,
        jwt(json!({ "description": "second" })),
        &["description"],
        json!({ "description": "second" })
    );
    refused!(
        &editor,
        jwt(json!({ "description": 5 })),
        422,
        Some("description"),
        "description"
    );

    // metadata.
    update_ok!(
        &editor,
        jwt(json!({ "metadata": { "rotation": [30, 60] } })),
        &["metadata"],
        json!({ "metadata": { "rotation": [30, 60] } })
    );
    refused!(
        &editor,
        jwt(json!({ "metadata": "x" })),
        422,
        Some("metadata"),
        "metadata"
    );
    refused!(
        &editor,
        jwt(json!({ "metadata": [1] })),
        422,
        Some("metadata"),
        "metadata"
    );

    // folder_id: a CREDENTIAL folder of the same team; null moves it out.
    update_ok!(
        &editor,
        jwt(json!({ "folder_id": folder_a })),
        &["folder_id"],
        json!({ "folder_id": folder_a })
    );
    refused!(
        &editor,
        jwt(json!({ "folder_id": folder_b })),
        422,
        Some("folder_id"),
        "folder_id"
    );
    refused!(
        &editor,
        jwt(json!({ "folder_id": 999_999 })),
        422,
        Some("folder_id"),
        "folder_id"
    );
    update_ok!(
        &editor,
        jwt(json!({ "folder_id": null })),
        &["folder_id"],
        json!({ "folder_id": null })
    );

    // allowed_hosts and restriction_type.
    update_ok!(
        &editor,
        jwt(json!({ "allowed_hosts": ["api.example.com", "*.example.org"] })),
        &["allowed_hosts", "restriction_type"],
        json!({ "allowed_hosts": ["api.example.com", "*.example.org"], "restriction_type": "RESTRICTED" })
    );
    refused!(
        &editor,
        jwt(json!({ "allowed_hosts": ["bad host"] })),
        422,
        Some("allowed_hosts"),
        "allowed_hosts"
    );
    refused!(
        &editor,
        jwt(json!({ "allowed_hosts": [""] })),
        422,
        Some("allowed_hosts"),
        "allowed_hosts"
    );
    refused!(
        &editor,
        jwt(json!({ "allowed_hosts": "api.example.com" })),
        422,
        Some("allowed_hosts"),
        "allowed_hosts"
    );
    // Another EDITOR may not change the hosts of someone else's credential.
    refused!(
        &editor2,
        jwt(json!({ "allowed_hosts": [] })),
        403,
        Some("allowed_hosts"),
        "TEAM_ADMIN"
    );
    update_ok!(
        &editor,
        jwt(json!({ "allowed_hosts": [] })),
        &["allowed_hosts", "restriction_type"],
        json!({ "allowed_hosts": [], "restriction_type": "UNRESTRICTED" })
    );

    // expires_at: RFC 3339 in any offset, returned in UTC; null clears it.
    update_ok!(
        &editor,
        jwt(json!({ "expires_at": "2031-01-02T03:04:05.678+01:00" })),
        &["expires_at"],
        json!({ "expires_at": "2031-01-02T02:04:05.678Z" })
    );
    refused!(
        &editor,
        jwt(json!({ "expires_at": "tomorrow" })),
        422,
        Some("expires_at"),
        "expires_at"
    );
    refused!(
        &editor,
        jwt(json!({ "expires_at": 1_900_000_000 })),
        422,
        Some("expires_at"),
        "expires_at"
    );
    update_ok!(
        &editor,
        jwt(json!({ "expires_at": null })),
        &["expires_at"],
        json!({ "expires_at": null })
    );

    // expiry_notifications_enabled.
    update_ok!(
        &editor,
        jwt(json!({ "expiry_notifications_enabled": true })),
        &["expiry_notifications_enabled"],
        json!({ "expiry_notifications_enabled": true })
    );
    refused!(
        &editor,
        jwt(json!({ "expiry_notifications_enabled": "yes" })),
        422,
        Some("expiry_notifications_enabled"),
        "expiry_notifications_enabled"
    );

    // Notification recipients: at most 5, each an EDITOR+ of the team.
    const RECIPIENTS: &str = "credential_notification_recipient_user_ids";
    update_ok!(
        &editor,
        jwt(json!({ RECIPIENTS: [editor_id, editor2_id] })),
        &[RECIPIENTS],
        json!({ RECIPIENTS: [editor_id, editor2_id] })
    );
    refused!(
        &editor,
        jwt(
            json!({ RECIPIENTS: [editor_id, editor2_id, 1, editor_id + 100, editor_id + 101, editor_id + 102] })
        ),
        422,
        Some(RECIPIENTS),
        "5"
    );
    refused!(
        &editor,
        jwt(json!({ RECIPIENTS: [viewer_id] })),
        422,
        Some(RECIPIENTS),
        RECIPIENTS
    );

    // Sharing: beyond the team needs TEAM_ADMIN; SPECIFIC_TEAMS needs slugs.
    refused!(
        &editor,
        jwt(json!({ "read_access": "GLOBAL" })),
        403,
        Some("read_access"),
        "TEAM_ADMIN"
    );
    refused!(
        OWNER_KEY,
        jwt(json!({ "read_access": "SPECIFIC_TEAMS" })),
        422,
        Some("shared_team_slugs"),
        "shared_team_slugs"
    );
    refused!(
        OWNER_KEY,
        jwt(json!({ "read_access": "SPECIFIC_TEAMS", "shared_team_slugs": [] })),
        422,
        Some("shared_team_slugs"),
        "shared_team_slugs"
    );
    refused!(
        OWNER_KEY,
        jwt(json!({ "read_access": "SPECIFIC_TEAMS", "shared_team_slugs": ["no_such_team"] })),
        422,
        Some("shared_team_slugs"),
        "no_such_team"
    );
    refused!(
        OWNER_KEY,
        jwt(json!({ "read_access": "PUBLIC" })),
        422,
        Some("read_access"),
        "read_access"
    );
    update_ok!(
        OWNER_KEY,
        jwt(json!({ "read_access": "SPECIFIC_TEAMS", "shared_team_slugs": ["bravo"] })),
        &["read_access", "shared_team_slugs"],
        json!({ "read_access": "SPECIFIC_TEAMS", "shared_team_slugs": ["bravo"] })
    );
    update_ok!(
        OWNER_KEY,
        jwt(json!({ "read_access": "GLOBAL" })),
        &["read_access", "shared_team_slugs"],
        json!({ "read_access": "GLOBAL", "shared_team_slugs": [] })
    );
    update_ok!(
        OWNER_KEY,
        jwt(json!({ "read_access": "TEAM" })),
        &["read_access"],
        json!({ "read_access": "TEAM", "shared_team_slugs": [] })
    );

    // JWT settings.
    update_ok!(
        &editor,
        jwt(json!({ "jwt_payload": { "iss": "updated", "aud": ["a", "b"] } })),
        &["jwt_payload"],
        json!({ "jwt_payload": { "iss": "updated", "aud": ["a", "b"] } })
    );
    update_ok!(
        &editor,
        jwt(json!({ "jwt_payload": "{\"sub\":\"from a string\"}" })),
        &["jwt_payload"],
        json!({ "jwt_payload": { "sub": "from a string" } })
    );
    refused!(
        &editor,
        jwt(json!({ "jwt_payload": [1] })),
        422,
        Some("jwt_payload"),
        "jwt_payload"
    );
    refused!(
        &editor,
        jwt(json!({ "jwt_payload": "not json" })),
        422,
        Some("jwt_payload"),
        "jwt_payload"
    );
    update_ok!(
        &editor,
        jwt(json!({ "jwt_headers": { "kid": "k1", "x-env": "prod" } })),
        &["jwt_headers"],
        json!({ "jwt_headers": { "kid": "k1", "x-env": "prod" } })
    );
    refused!(
        &editor,
        jwt(json!({ "jwt_headers": { "alg": "none" } })),
        422,
        Some("jwt_headers"),
        "alg"
    );
    update_ok!(
        &editor,
        jwt(json!({ "jwt_lifetime_seconds": 120 })),
        &["jwt_lifetime_seconds"],
        json!({ "jwt_lifetime_seconds": 120 })
    );
    refused!(
        &editor,
        jwt(json!({ "jwt_lifetime_seconds": 0 })),
        422,
        Some("jwt_lifetime_seconds"),
        "jwt_lifetime_seconds"
    );
    refused!(
        &editor,
        jwt(json!({ "jwt_lifetime_seconds": 86_401 })),
        422,
        Some("jwt_lifetime_seconds"),
        "jwt_lifetime_seconds"
    );
    update_ok!(
        &editor,
        jwt(json!({ "jwt_auto_generate_time_claims": true })),
        &["jwt_auto_generate_time_claims"],
        json!({ "jwt_auto_generate_time_claims": true })
    );
    refused!(
        &editor,
        jwt(json!({ "jwt_auto_generate_time_claims": "yes" })),
        422,
        Some("jwt_auto_generate_time_claims"),
        "jwt_auto_generate_time_claims"
    );

    // One invalid field refuses the whole request: the valid ones are not applied either.
    refused!(
        &editor,
        jwt(json!({ "description": "never stored", "name": "Never", "jwt_lifetime_seconds": 0 })),
        422,
        Some("jwt_lifetime_seconds"),
        "jwt_lifetime_seconds"
    );

    // Several fields at once; all others keep their stored values (nothing else changed, as
    // every update above already checked field by field).
    update_ok!(
        &editor,
        jwt(json!({ "description": "third", "metadata": {}, "jwt_lifetime_seconds": 3600 })),
        &["description", "metadata", "jwt_lifetime_seconds"],
        json!({ "description": "third", "metadata": {}, "jwt_lifetime_seconds": 3600 })
    );
    assert_eq!(cur["name"], "renamed-key");
    assert_eq!(cur["jwt_algorithm"], "ES256");
    assert_eq!(cur["jwt_payload"], json!({ "sub": "from a string" }));
    assert_eq!(cur["jwt_headers"], json!({ "kid": "k1", "x-env": "prod" }));
    assert_eq!(cur["expiry_notifications_enabled"], true);
    assert_eq!(cur["created_at"], created["created_at"]);
    assert_eq!(cur["owner"], created["owner"]);

    // Who may update, and which ids exist.
    refused!(
        &viewer,
        jwt(json!({ "description": "v" })),
        403,
        None,
        "EDITOR"
    );
    refused!(
        &outsider,
        jwt(json!({ "description": "o" })),
        404,
        None,
        "not found"
    );
    for missing in ["999999", "abc", "1.5", "-1"] {
        let (status, body) = put(
            &server,
            missing,
            &editor,
            jwt(json!({ "description": "x" })),
        )
        .await;
        assert_error(status, &body, 404, None, "not found");
    }
    // Another EDITOR may update ordinary fields of someone else's credential.
    update_ok!(
        &editor2,
        jwt(json!({ "description": "by editor2" })),
        &["description"],
        json!({ "description": "by editor2" })
    );
    assert_eq!(
        cur["owner"], created["owner"],
        "the owner stays the creator"
    );
    // The other credential was never touched.
    let (_, read) = server.get(&path(id_of(&taken)), OWNER_KEY).await;
    assert_eq!(read, taken);
}

#[tokio::test]
async fn key_rotation_rechecks_the_key_and_never_reveals_it() {
    let server = Server::start();
    let team = server.team("Rotation").await;
    let (_, editor) = server
        .user("editor@example.com", Some((team, "EDITOR")))
        .await;
    let p256 = fixture_key("ec-p256-pkcs8.pem");
    let p384 = fixture_key("ec-p384-pkcs8.pem");
    let rsa = fixture_key("rsa2048-pkcs8.pem");
    let rsa_encrypted = fixture_key("rsa2048-encrypted.pem");
    let hmac_secret = "rotation-shared-secret-5c1e0b7d9a";
    let mut responses: Vec<String> = Vec::new();

    let (status, created) = server
        .create_credential(&editor, jwt_body(team, "Rotating"))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["jwt_algorithm"], "ES256");
    responses.push(created.to_string());
    let id = id_of(&created);
    let mut cur = created;

    macro_rules! rotate_ok {
        ($body:expr, $alg:expr) => {{
            pause().await;
            let (status, next) = put(&server, id, &editor, jwt($body)).await;
            responses.push(next.to_string());
            assert_eq!(status, 200, "{next}");
            assert_only_changed(&cur, &next, &["jwt_algorithm"]);
            assert_eq!(next["jwt_algorithm"], $alg);
            let (_, read) = server.get(&path(id), &editor).await;
            responses.push(read.to_string());
            assert_eq!(read, next);
            cur = next;
        }};
    }
    macro_rules! rotate_refused {
        ($body:expr, $field:expr, $needle:expr) => {{
            let (status, err) = put(&server, id, &editor, jwt($body)).await;
            responses.push(err.to_string());
            assert_error(status, &err, 422, Some($field), $needle);
            let (_, read) = server.get(&path(id), &editor).await;
            responses.push(read.to_string());
            assert_eq!(read, cur, "a refused rotation changed the credential");
        }};
    }

    // The stored P-256 key does not fit ES384.
    rotate_refused!(
        json!({ "jwt_algorithm": "ES384" }),
        "jwt_algorithm",
        "ES384"
    );
    // With a P-384 key it does; the P-384 key is then the stored one.
    rotate_ok!(
        json!({ "jwt_algorithm": "ES384", "jwt_private_key": p384 }),
        "ES384"
    );
    rotate_refused!(
        json!({ "jwt_algorithm": "ES256" }),
        "jwt_algorithm",
        "ES256"
    );
    rotate_refused!(
        json!({ "jwt_algorithm": "RS256" }),
        "jwt_algorithm",
        "RS256"
    );
    // To RSA.
    rotate_ok!(
        json!({ "jwt_algorithm": "RS256", "jwt_private_key": rsa }),
        "RS256"
    );
    // Wrong key for the algorithm, given with it or alone: refused, nothing changes.
    rotate_refused!(
        json!({ "jwt_algorithm": "ES512", "jwt_private_key": p384 }),
        "jwt_private_key",
        "P-521"
    );
    rotate_refused!(json!({ "jwt_private_key": p256 }), "jwt_private_key", "RSA");
    rotate_refused!(
        json!({ "jwt_private_key": fixture_key("rsa1024-pkcs8.pem") }),
        "jwt_private_key",
        "2048"
    );
    rotate_refused!(
        json!({ "jwt_private_key": fixture_key("rsa2048-pub.pem") }),
        "jwt_private_key",
        "public"
    );
    rotate_refused!(
        json!({ "jwt_algorithm": "HS256" }),
        "jwt_algorithm",
        "HS256"
    );
    // The RSA key is still the stored one: it fits PS384.
    rotate_ok!(json!({ "jwt_algorithm": "PS384" }), "PS384");
    // An encrypted key needs its passphrase, which is used once and not stored.
    rotate_refused!(
        json!({ "jwt_algorithm": "RS512", "jwt_private_key": rsa_encrypted }),
        "jwt_private_key",
        "passphrase"
    );
    rotate_ok!(
        json!({
            "jwt_algorithm": "RS512",
            "jwt_private_key": rsa_encrypted,
            "jwt_private_key_passphrase": "correct horse",
        }),
        "RS512"
    );
    // To a shared secret, and the stored secret is no RSA key.
    rotate_ok!(
        json!({ "jwt_algorithm": "HS384", "jwt_private_key": hmac_secret }),
        "HS384"
    );
    rotate_refused!(
        json!({ "jwt_algorithm": "RS256" }),
        "jwt_algorithm",
        "RS256"
    );
    rotate_ok!(json!({ "jwt_algorithm": "hs512" }), "HS512");
    assert_eq!(cur["jwt_headers"], json!({}));
    let listed = list(&server, &editor, "").await;
    responses.push(listed.to_string());

    // No response, log line or database file holds any of the keys.
    let mut canaries: Vec<String> = vec![hmac_secret.to_string(), "correct horse".to_string()];
    for pem in [&p256, &p384, &rsa, &rsa_encrypted] {
        canaries.extend(
            pem.lines()
                .filter(|l| !l.starts_with("-----") && l.len() >= 40)
                .map(str::to_string),
        );
    }
    assert!(canaries.len() > 30);
    for response in &responses {
        for canary in &canaries {
            assert!(
                !response.contains(canary.as_str()),
                "a response leaks {canary}: {response}"
            );
        }
    }
    let logs = server.logs();
    for canary in &canaries {
        assert!(!logs.contains(canary.as_str()), "logs leak {canary}");
    }
    for (name, bytes) in server.stored_bytes() {
        for canary in &canaries {
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "{name} holds {canary} in plain text"
            );
        }
    }
}

/// 20 concurrent PUTs to credential `id`, each writing `description` and `metadata.writer`
/// with a value of its own. Returns the values of the PUTs that succeeded and how many were
/// refused as busy (409). Every response that shows a state shows one writer's whole.
async fn race_puts(server: &Arc<Server>, id: i64, key: &str) -> (Vec<String>, usize) {
    let mut tasks = Vec::new();
    for n in 0..20 {
        let server = server.clone();
        let key = key.to_string();
        tasks.push(tokio::spawn(async move {
            let value = format!("writer {n:02}");
            let body = jwt(json!({ "description": value, "metadata": { "writer": value } }));
            (value, put(&server, id, &key, body).await)
        }));
    }
    let mut succeeded = Vec::new();
    let mut refused = 0;
    for task in tasks {
        let (value, (status, body)) = task.await.unwrap();
        match status {
            200 => {
                let description = body["description"].as_str().unwrap().to_string();
                assert!(description.starts_with("writer "), "{body}");
                assert_eq!(
                    body["metadata"],
                    json!({ "writer": description }),
                    "mixed writers: {body}"
                );
                succeeded.push(value);
            }
            409 => {
                let errors = body["errors"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{body}"));
                assert_eq!(errors.len(), 1, "{body}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    (succeeded, refused)
}

#[tokio::test]
async fn racing_puts_never_mix_writers_and_delete_removes_for_good() {
    let server = Arc::new(Server::start());
    let team = server.team("Race").await;
    let (_, editor) = server
        .user("editor@example.com", Some((team, "EDITOR")))
        .await;
    let (_, viewer) = server
        .user("viewer@example.com", Some((team, "VIEWER")))
        .await;
    let (_, outsider) = server.user("outsider@example.com", None).await;
    let (status, created) = server
        .create_credential(&editor, jwt_body(team, "Contended"))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = id_of(&created);

    pause().await;
    let (succeeded, refused) = race_puts(&server, id, &editor).await;
    assert!(!succeeded.is_empty(), "every PUT was refused");
    assert_eq!(succeeded.len() + refused, 20);
    let (status, read) = server.get(&path(id), &editor).await;
    assert_eq!(status, 200);
    let description = read["description"].as_str().unwrap().to_string();
    assert!(
        succeeded.contains(&description),
        "final state {read} is from no successful writer"
    );
    assert_eq!(
        read["metadata"],
        json!({ "writer": description }),
        "mixed writers: {read}"
    );
    assert_only_changed(&created, &read, &["description", "metadata"]);

    // DELETE: VIEWERs may not; outsiders don't see it.
    let (status, other) = server
        .create_credential(&editor, jwt_body(team, "Bystander"))
        .await;
    assert_eq!(status, 201, "{other}");
    assert_eq!(list(&server, &editor, "").await["meta"]["count"], 2);
    // DELETE needs TEAM_ADMIN (Tines): neither VIEWERs nor EDITORs may.
    let (status, body) = server.delete(&path(id), &viewer).await;
    assert_error(status, &body, 403, None, "TEAM_ADMIN");
    let (status, body) = server.delete(&path(id), &editor).await;
    assert_error(status, &body, 403, None, "TEAM_ADMIN");
    let (status, body) = server.delete(&path(id), &outsider).await;
    assert_error(status, &body, 404, None, "not found");
    let (status, body) = server.get(&path(id), &editor).await;
    assert_eq!(status, 200, "refused deletes removed it: {body}");

    let resp = server
        .request(Method::DELETE, &path(id))
        .bearer_auth(OWNER_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert!(resp.bytes().await.unwrap().is_empty(), "204 with a body");

    let (status, body) = server.get(&path(id), &editor).await;
    assert_error(status, &body, 404, None, "not found");
    let (status, body) = put(&server, id, &editor, jwt(json!({ "description": "back?" }))).await;
    assert_error(status, &body, 404, None, "not found");
    let (status, body) = server.delete(&path(id), &editor).await;
    assert_error(status, &body, 404, None, "not found");
    let (status, body) = server.delete(&path(id), OWNER_KEY).await;
    assert_error(status, &body, 404, None, "not found");
    for key in [editor.as_str(), OWNER_KEY] {
        let after = list(&server, key, "").await;
        assert_eq!(ids(&after), vec![id_of(&other)]);
        assert_eq!(after["meta"]["count"], 1);
    }
    for missing in ["999999", "abc"] {
        let (status, body) = server.delete(&path(missing), &editor).await;
        assert_error(status, &body, 404, None, "not found");
    }
    // Its slug is free again.
    let (status, again) = server
        .create_credential(&editor, jwt_body(team, "Contended"))
        .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["slug"], "contended");
    assert_ne!(id_of(&again), id);
}

#[tokio::test]
async fn a_test_credential_from_attach_to_delete() {
    let server = Server::start();
    let team = server.team("Staging").await;
    let (_, editor) = server
        .user("editor@example.com", Some((team, "EDITOR")))
        .await;
    let (_, viewer) = server
        .user("viewer@example.com", Some((team, "VIEWER")))
        .await;
    let (status, live) = server
        .create_credential(&editor, jwt_body(team, "Live"))
        .await;
    assert_eq!(status, 201, "{live}");
    let live_id = id_of(&live);

    // Without a test credential, is_test and enabling it are refused.
    let (status, body) = put(
        &server,
        live_id,
        &editor,
        jwt(json!({ "is_test": true, "jwt_payload": { "iss": "x" } })),
    )
    .await;
    assert_error(status, &body, 422, Some("is_test"), "test credential");
    let (status, body) = put(
        &server,
        live_id,
        &editor,
        jwt(json!({ "test_credential_enabled": true })),
    )
    .await;
    assert_error(
        status,
        &body,
        422,
        Some("test_credential_enabled"),
        "test credential",
    );
    let (_, read) = server.get(&path(live_id), &editor).await;
    assert_eq!(read, live);

    // Attach: 201 with the live credential, now with a test credential.
    pause().await;
    let (status, attached) = server
        .create_credential(&editor, attach_body(live_id))
        .await;
    assert_eq!(status, 201, "{attached}");
    assert_eq!(id_of(&attached), live_id);
    assert_eq!(attached["test_credential_enabled"], true);
    let test = attached["test_credential"]
        .as_object()
        .unwrap_or_else(|| panic!("{attached}"));
    assert_eq!(test.len(), 2, "{attached}");
    assert!(is_timestamp(&test["created_at"]) && is_timestamp(&test["updated_at"]));
    // The live credential's own settings are its own.
    for field in [
        "name",
        "slug",
        "jwt_algorithm",
        "jwt_payload",
        "metadata",
        "created_at",
        "team_id",
    ] {
        assert_eq!(attached[field], live[field], "{field}");
    }
    assert!(!attached.to_string().contains("test-environment"));
    let (_, read) = server.get(&path(live_id), &viewer).await;
    assert_eq!(read, attached);
    let (status, body) = server
        .create_credential(&editor, attach_body(live_id))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(list(&server, &editor, "").await["meta"]["count"], 1);

    // is_test: the mode fields and metadata go to the test credential.
    pause().await;
    let (status, updated) = put(
        &server,
        live_id,
        &editor,
        jwt(json!({ "is_test": true, "jwt_payload": { "iss": "test-2" }, "metadata": { "env": "test" } })),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["jwt_payload"], live["jwt_payload"]);
    assert_eq!(updated["metadata"], live["metadata"]);
    assert_eq!(updated["jwt_algorithm"], "ES256");
    assert_eq!(updated["test_credential"]["created_at"], test["created_at"]);
    assert_ne!(
        updated["test_credential"]["updated_at"], test["updated_at"],
        "test_credential.updated_at did not move"
    );
    assert!(!updated.to_string().contains("test-2"));
    // The test credential holds its P-384 key: ES256 does not fit it, ES384 does.
    let (status, body) = put(
        &server,
        live_id,
        &editor,
        jwt(json!({ "is_test": true, "jwt_algorithm": "ES256" })),
    )
    .await;
    assert_error(status, &body, 422, Some("jwt_algorithm"), "ES256");
    // And the live one keeps its P-256 key.
    let (status, body) = put(
        &server,
        live_id,
        &editor,
        jwt(json!({ "jwt_algorithm": "ES384" })),
    )
    .await;
    assert_error(status, &body, 422, Some("jwt_algorithm"), "ES384");
    let (status, read) = server.get(&path(live_id), &editor).await;
    assert_eq!(status, 200);
    assert_eq!(read, updated);

    // Turning use of the test credential off and on.
    let (status, body) = put(
        &server,
        live_id,
        &viewer,
        jwt(json!({ "test_credential_enabled": false })),
    )
    .await;
    assert_error(status, &body, 403, None, "EDITOR");
    pause().await;
    let (status, off) = put(
        &server,
        live_id,
        &editor,
        jwt(json!({ "test_credential_enabled": false })),
    )
    .await;
    assert_eq!(status, 200, "{off}");
    assert_eq!(off["test_credential_enabled"], false);
    assert_eq!(off["test_credential"], updated["test_credential"]);
    assert_only_changed(&updated, &off, &["test_credential_enabled"]);
    let (_, read) = server.get(&path(live_id), &editor).await;
    assert_eq!(read, off);
    pause().await;
    let (status, on) = put(
        &server,
        live_id,
        &editor,
        jwt(json!({ "test_credential_enabled": true })),
    )
    .await;
    assert_eq!(status, 200, "{on}");
    assert_eq!(on["test_credential_enabled"], true);
    assert_only_changed(&off, &on, &["test_credential_enabled"]);

    // Another credential without a test credential still refuses both.
    let (status, plain) = server
        .create_credential(&editor, jwt_body(team, "Plain"))
        .await;
    assert_eq!(status, 201, "{plain}");
    let plain_id = id_of(&plain);
    let (status, body) = put(&server, plain_id, &editor, jwt(json!({ "is_test": true }))).await;
    assert_error(status, &body, 422, Some("is_test"), "test credential");
    let (status, body) = put(
        &server,
        plain_id,
        &editor,
        jwt(json!({ "test_credential_enabled": true })),
    )
    .await;
    assert_error(
        status,
        &body,
        422,
        Some("test_credential_enabled"),
        "test credential",
    );

    // Deleting the live credential deletes its test credential too.
    let (status, body) = server.delete(&path(live_id), OWNER_KEY).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(body, Value::Null);
    let (status, body) = server.get(&path(live_id), &editor).await;
    assert_error(status, &body, 404, None, "not found");
    let (status, body) = server
        .create_credential(&editor, attach_body(live_id))
        .await;
    assert_error(status, &body, 404, None, "not found");
    let (status, body) = put(&server, live_id, &editor, jwt(json!({ "is_test": true }))).await;
    assert_error(status, &body, 404, None, "not found");
    // A new credential of the same name takes a test credential afresh.
    let (status, reborn) = server
        .create_credential(&editor, jwt_body(team, "Live"))
        .await;
    assert_eq!(status, 201, "{reborn}");
    assert_eq!(reborn["test_credential"], Value::Null);
    assert_eq!(reborn["test_credential_enabled"], false);
    let (status, attached) = server
        .create_credential(&editor, attach_body(id_of(&reborn)))
        .await;
    assert_eq!(status, 201, "{attached}");
    assert_eq!(attached["test_credential_enabled"], true);
    assert!(is_timestamp(&attached["test_credential"]["created_at"]));
    let after = list(&server, &editor, "").await;
    assert_eq!(ids(&after), vec![plain_id, id_of(&reborn)]);
    assert_eq!(after["meta"]["count"], 2);
}

#[tokio::test]
async fn racing_puts_to_one_credential_all_succeed() {
    let server = Arc::new(Server::start());
    let team = server.team("Race").await;
    let (status, created) = server
        .create_credential(OWNER_KEY, jwt_body(team, "Contended"))
        .await;
    assert_eq!(status, 201, "{created}");
    let (succeeded, refused) = race_puts(&server, id_of(&created), OWNER_KEY).await;
    // API.md §4.3: a PUT answers 200; 409 is for uniqueness conflicts only.
    assert_eq!(
        (succeeded.len(), refused),
        (20, 0),
        "every concurrent PUT must be applied"
    );
}

#[tokio::test]
async fn a_page_number_at_the_integer_limit_is_an_empty_page() {
    let server = Server::start();
    let team = server.team("Limits").await;
    for i in 0..3 {
        let (status, body) = server
            .create_credential(OWNER_KEY, jwt_body(team, &format!("cred {i}")))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    for query in [
        format!("page={}", i64::MAX),
        format!("per_page=500&page={}", i64::MAX),
    ] {
        let body = list(&server, OWNER_KEY, &query).await;
        assert_eq!(items(&body), &Vec::<Value>::new());
        let meta = &body["meta"];
        assert_eq!(meta["count"], 3, "{body}");
        assert_eq!(meta["pages"], 1, "{body}");
        assert_eq!(meta["next_page"], Value::Null, "{body}");
        assert_eq!(meta["next_page_number"], Value::Null, "{body}");
    }
}
