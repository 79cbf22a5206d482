//! API.md §4.6: the rules of attaching a test credential to a live one.

use reqwest::Method;
use serde_json::{json, Value};

use super::*;
use crate::support::*;

/// A team with an EDITOR, a VIEWER and an outsider, and two live credentials by the EDITOR:
/// a JWT one and a TEXT one.
struct Live {
    server: Server,
    w: World,
    live_id: i64,
    live_text_id: i64,
}

async fn live() -> Live {
    let server = Server::in_process().await;
    let roles = [Role::Editor, Role::Viewer, Role::Outsider];
    let w = World::new(&server, "Rules Test Creds", &roles).await;
    let (status, live) = server
        .create_credential(w.editor_key(), jwt_body(w.team_id, "Live Jwt"))
        .await;
    assert_eq!(status, 201, "{live}");
    let text = text_body(w.team_id, "Live Text", "live text value");
    let (status, live_text) = server.create_credential(w.editor_key(), text).await;
    assert_eq!(status, 201, "{live_text}");
    Live {
        live_id: id_of(&live),
        live_text_id: id_of(&live_text),
        server,
        w,
    }
}

/// The body of a JWT attach to `live`.
fn attach(team: i64, live: i64) -> Value {
    let mut body = jwt_body(team, "ignored");
    body.as_object_mut().unwrap().remove("name");
    body.as_object_mut().unwrap().remove("team_id");
    body["live_credential_id"] = json!(live);
    body
}

/// The body of a TEXT attach to `live`. The team is the live credential's: a `team_id` in
/// the body is ignored.
fn text_attach(live: i64) -> Value {
    json!({
        "mode": "TEXT",
        "live_credential_id": live,
        "value": "test text value",
        "team_id": 999_999,
    })
}

/// `body` with `key` set to `value` (removed, for null).
fn with(mut body: Value, key: &str, value: Value) -> Value {
    if value.is_null() {
        body.as_object_mut().unwrap().remove(key);
    } else {
        body[key] = value;
    }
    body
}

#[tokio::test]
async fn refused_attaches_name_their_rule_and_attach_nothing() {
    let l = live().await;
    let (live_id, p) = (l.live_id, CREDENTIALS);
    let (ed, vw, out) = (l.w.editor_key(), l.w.viewer_key(), l.w.outsider_key());
    let attach = |live| attach(l.w.team_id, live);
    let text_attach = text_attach(l.live_text_id);
    #[rustfmt::skip]
    let calls = vec![
        call("unknown live credential", Method::POST, p, ed, Some(attach(999_999)), err(404, None, "not found")),
        call("live_credential_id not an integer", Method::POST, p, ed, Some(with(attach(live_id), "live_credential_id", json!("abc"))), err(422, Some("live_credential_id"), "integer")),
        call("attach by a team outsider", Method::POST, p, out, Some(attach(live_id)), err(404, None, "not found")),
        call("attach by a VIEWER", Method::POST, p, vw, Some(attach(live_id)), err(403, None, "EDITOR")),
        call("attach with another mode", Method::POST, p, ed, Some(json!({ "mode": "TEXT", "live_credential_id": live_id, "value": "text" })), err(422, Some("mode"), "JWT")),
        call("attach with an unsupported mode", Method::POST, p, ed, Some(with(attach(live_id), "mode", json!("OAUTH"))), err(422, Some("mode"), "not supported")),
        call("attach without the key", Method::POST, p, ed, Some(with(attach(live_id), "jwt_private_key", Value::Null)), err(422, Some("jwt_private_key"), "required")),
        call("attach with a bad algorithm", Method::POST, p, ed, Some(with(attach(live_id), "jwt_algorithm", json!("none"))), err(422, Some("jwt_algorithm"), "EdDSA")),
        call("attach with a name of empty slug", Method::POST, p, ed, Some(with(attach(live_id), "name", json!("!!!"))), err(422, Some("name"), "letter or digit")),
        call("attach TEXT without value", Method::POST, p, ed, Some(with(text_attach.clone(), "value", Value::Null)), err(422, Some("value"), "required")),
        call("attach TEXT with empty value", Method::POST, p, ed, Some(with(text_attach.clone(), "value", json!(""))), err(422, Some("value"), "empty")),
    ];
    run_calls(&l.server, calls).await;

    // Nothing above attached anything.
    let (status, body) = l.server.get(&cred_path(live_id), ed).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["test_credential_enabled"], false, "{body}");
    assert_eq!(body["test_credential"], Value::Null, "{body}");
}

/// Attaches a JWT test credential to the JWT live credential and a TEXT one to the TEXT one;
/// each answer is the live credential, with its test credential.
async fn attach_both(l: &Live) {
    let ed = l.w.editor_key();
    for (id, body, name) in [
        (l.live_id, attach(l.w.team_id, l.live_id), "Live Jwt"),
        (l.live_text_id, text_attach(l.live_text_id), "Live Text"),
    ] {
        let (status, resp) = l.server.create_credential(ed, body.clone()).await;
        assert_eq!(status, 201, "{resp}");
        assert_eq!(resp["id"], id, "{resp}");
        assert_eq!(resp["name"], name, "{resp}");
        assert_eq!(resp["team_id"], l.w.team_id, "{resp}");
        assert_eq!(resp["test_credential_enabled"], true, "{resp}");
        let test = resp["test_credential"]
            .as_object()
            .unwrap_or_else(|| panic!("test_credential is not an object: {resp}"));
        for time in ["created_at", "updated_at"] {
            assert!(is_timestamp(&test[time]), "test_credential.{time}: {resp}");
        }
        assert!(check_credential_shape(name, &body, &resp));

        let (status, got) = l.server.get(&cred_path(id), ed).await;
        assert_eq!(status, 200, "{got}");
        assert_eq!(got["test_credential_enabled"], true, "{got}");
        assert_eq!(got["test_credential"], resp["test_credential"], "{got}");
    }
}

#[tokio::test]
async fn an_attach_answers_with_the_live_credential_and_a_second_one_is_409() {
    let l = live().await;
    attach_both(&l).await;
    let (p, ed) = (CREDENTIALS, l.w.editor_key());
    #[rustfmt::skip]
    let calls = vec![
        call("second attach", Method::POST, p, ed, Some(attach(l.w.team_id, l.live_id)), err(409, Some("live_credential_id"), "already")),
        call("second TEXT attach", Method::POST, p, ed, Some(text_attach(l.live_text_id)), err(409, Some("live_credential_id"), "already")),
    ];
    run_calls(&l.server, calls).await;
}

#[tokio::test]
async fn a_test_credential_has_no_id_of_its_own() {
    let l = live().await;
    attach_both(&l).await;
    let ed = l.w.editor_key();
    // Every id that is not a live one is 404, to read and to attach to.
    let (status, later) = l
        .server
        .create_credential(ed, jwt_body(l.w.team_id, "Later"))
        .await;
    assert_eq!(status, 201, "{later}");
    for id in l.live_id..id_of(&later) {
        if id == l.live_text_id || id == l.live_id {
            continue;
        }
        let (status, body) = l.server.get(&cred_path(id), ed).await;
        assert_error(status, &body, 404, None, "not found");
        let (status, body) = l
            .server
            .create_credential(ed, attach(l.w.team_id, id))
            .await;
        assert_error(status, &body, 404, None, "not found");
    }
}
