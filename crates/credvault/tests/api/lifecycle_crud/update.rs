//! API.md §4.3: a PUT replaces each field present, leaves the others, and refuses what create
//! refuses, without changing anything.

use serde_json::{json, Value};

use super::*;

const RECIPIENTS: &str = "credential_notification_recipient_user_ids";

/// Team Alpha (slug `alpha`) with an EDITOR, a second EDITOR, a VIEWER, and an outsider; team
/// Bravo; a folder in each; the EDITOR's credential under test (`cur`, as it now is) and its
/// other one, "Taken Name"; and a credential in Bravo.
struct Editing {
    server: Server,
    w: World,
    editor: String,
    editor2_id: i64,
    editor2: String,
    folder_a: i64,
    folder_b: i64,
    id: i64,
    created: Value,
    cur: Value,
    taken: Value,
}

async fn editing() -> Editing {
    let server = Server::start();
    let roles = [Role::Editor, Role::Viewer, Role::Outsider];
    let w = World::new(&server, "Alpha", &roles).await;
    let alpha = w.team_id;
    let bravo = server.team("Bravo").await;
    let (editor2_id, editor2) = server
        .user("editor2@example.com", Some((alpha, "EDITOR")))
        .await;
    let folder_a = server.folder(OWNER_KEY, alpha, "Alpha keys").await;
    let folder_b = server.folder(OWNER_KEY, bravo, "Bravo keys").await;
    let mut body = jwt_body(alpha, "Signing Key");
    body["description"] = json!("first");
    body["metadata"] = json!({ "team": "alpha" });
    body["expires_at"] = json!("2030-01-01T00:00:00.000Z");
    body["jwt_headers"] = json!({ "kid": "k0" });
    body["jwt_lifetime_seconds"] = json!(900);
    let editor = w.editor_key().to_string();
    let (status, created) = server.create_credential(&editor, body).await;
    assert_eq!(status, 201, "{created}");
    let (status, taken) = server
        .create_credential(&editor, jwt_body(alpha, "Taken Name"))
        .await;
    assert_eq!(status, 201, "{taken}");
    // The same slug in another team is no conflict.
    let (status, _) = server
        .create_credential(OWNER_KEY, jwt_body(bravo, "Other Team"))
        .await;
    assert_eq!(status, 201);
    Editing {
        id: id_of(&created),
        cur: created.clone(),
        server,
        w,
        editor,
        editor2_id,
        editor2,
        folder_a,
        folder_b,
        created,
        taken,
    }
}

impl Editing {
    /// A successful update: 200, exactly `changed` (and updated_at) differ from before, and
    /// the values in `want` are returned. The next state is what a GET shows.
    async fn ok(&mut self, key: &str, body: Value, changed: &[&str], want: Value) {
        pause().await;
        let (status, next) = put(&self.server, self.id, key, body).await;
        assert_eq!(status, 200, "{next}");
        assert_only_changed(&self.cur, &next, changed);
        for (k, v) in want.as_object().unwrap() {
            assert_eq!(&next[k], v, "{k} in {next}");
        }
        let (status, read) = self.server.get(&cred_path(self.id), OWNER_KEY).await;
        assert_eq!(status, 200);
        assert_eq!(read, next);
        self.cur = next;
    }

    /// The update `fields` of `key`, whose only changes are those same fields.
    async fn ok_same(&mut self, key: &str, fields: Value) {
        let changed: Vec<String> = fields.as_object().unwrap().keys().cloned().collect();
        let changed: Vec<&str> = changed.iter().map(String::as_str).collect();
        self.ok(key, jwt(fields.clone()), &changed, fields).await;
    }

    /// A refused update: this error, and the credential is untouched.
    async fn refused(
        &self,
        key: &str,
        body: Value,
        status: u16,
        field: Option<&str>,
        needle: &str,
    ) {
        let (got, err) = put(&self.server, self.id, key, body.clone()).await;
        assert_error(got, &err, status, field, needle);
        let (_, read) = self.server.get(&cred_path(self.id), OWNER_KEY).await;
        assert_eq!(
            read, self.cur,
            "a refused PUT {body} changed the credential"
        );
    }

    /// Refusals with 422 naming the field, as the EDITOR, of each JWT update body.
    async fn refused_422(&self, cases: &[(Value, &str, &str)]) {
        for (fields, field, needle) in cases {
            let body = jwt(fields.clone());
            self.refused(&self.editor, body, 422, Some(field), needle)
                .await;
        }
    }
}

#[tokio::test]
async fn mode_is_required_and_cannot_change() {
    let e = editing().await;
    for body in [
        json!({ "description": "x" }),
        json!({ "mode": "TEXT", "value": "v" }),
        json!({ "mode": "BOGUS" }),
    ] {
        e.refused(&e.editor, body, 422, Some("mode"), "mode").await;
    }
}

#[tokio::test]
async fn a_new_name_gives_a_new_slug_which_must_be_free_in_the_team() {
    let mut e = editing().await;
    let ed = e.editor.clone();
    let want = json!({ "name": "Renamed Key!", "slug": "renamed_key" });
    e.ok(
        &ed,
        jwt(json!({ "name": "Renamed Key!" })),
        &["name", "slug"],
        want,
    )
    .await;
    // A name whose slug is the credential's own is no conflict.
    let want = json!({ "name": "renamed-key", "slug": "renamed_key" });
    e.ok(&ed, jwt(json!({ "name": "renamed-key" })), &["name"], want)
        .await;
    let taken = jwt(json!({ "name": "  TAKEN--name " }));
    e.refused(&ed, taken, 409, Some("name"), "taken_name").await;
    let bad = [
        json!({ "name": "!!!" }),
        json!({ "name": "" }),
        json!({ "name": 42 }),
    ];
    e.refused_422(&bad.map(|b| (b, "name", "name"))).await;
}

#[tokio::test]
async fn description_and_metadata_are_replaced_and_typed() {
    let mut e = editing().await;
    let ed = e.editor.clone();
    e.ok_same(&ed, json!({ "description": "second" })).await;
    e.ok_same(&ed, json!({ "metadata": { "rotation": [30, 60] } }))
        .await;
    e.refused_422(&[
        (json!({ "description": 5 }), "description", "description"),
        (json!({ "metadata": "x" }), "metadata", "metadata"),
        (json!({ "metadata": [1] }), "metadata", "metadata"),
    ])
    .await;
}

#[tokio::test]
async fn folder_id_moves_it_within_its_team_and_null_moves_it_out() {
    let mut e = editing().await;
    let ed = e.editor.clone();
    e.ok_same(&ed, json!({ "folder_id": e.folder_a })).await;
    e.refused_422(&[
        (json!({ "folder_id": e.folder_b }), "folder_id", "folder_id"),
        (json!({ "folder_id": 999_999 }), "folder_id", "folder_id"),
    ])
    .await;
    e.ok_same(&ed, json!({ "folder_id": null })).await;
}

#[tokio::test]
async fn allowed_hosts_set_the_restriction_type_and_only_the_owner_editor_changes_them() {
    let mut e = editing().await;
    let ed = e.editor.clone();
    let hosts = json!(["api.example.com", "*.example.org"]);
    let fields = ["allowed_hosts", "restriction_type"];
    let want = json!({ "allowed_hosts": hosts, "restriction_type": "RESTRICTED" });
    e.ok(&ed, jwt(json!({ "allowed_hosts": hosts })), &fields, want)
        .await;
    e.refused_422(&[
        (
            json!({ "allowed_hosts": ["bad host"] }),
            "allowed_hosts",
            "allowed_hosts",
        ),
        (
            json!({ "allowed_hosts": [""] }),
            "allowed_hosts",
            "allowed_hosts",
        ),
        (
            json!({ "allowed_hosts": "api.example.com" }),
            "allowed_hosts",
            "allowed_hosts",
        ),
    ])
    .await;
    // Another EDITOR may not change the hosts of someone else's credential.
    let clear = jwt(json!({ "allowed_hosts": [] }));
    let (editor2, field) = (e.editor2.clone(), Some("allowed_hosts"));
    e.refused(&editor2, clear.clone(), 403, field, "TEAM_ADMIN")
        .await;
    let want = json!({ "allowed_hosts": [], "restriction_type": "UNRESTRICTED" });
    e.ok(&ed, clear, &fields, want).await;
}

#[tokio::test]
async fn expires_at_in_any_offset_is_returned_in_utc_and_null_clears_it() {
    let mut e = editing().await;
    let ed = e.editor.clone();
    let body = jwt(json!({ "expires_at": "2031-01-02T03:04:05.678+01:00" }));
    let want = json!({ "expires_at": "2031-01-02T02:04:05.678Z" });
    e.ok(&ed, body, &["expires_at"], want).await;
    e.refused_422(&[
        (
            json!({ "expires_at": "tomorrow" }),
            "expires_at",
            "expires_at",
        ),
        (
            json!({ "expires_at": 1_900_000_000 }),
            "expires_at",
            "expires_at",
        ),
    ])
    .await;
    e.ok_same(&ed, json!({ "expires_at": null })).await;
    e.ok_same(&ed, json!({ "expiry_notifications_enabled": true }))
        .await;
    let field = "expiry_notifications_enabled";
    e.refused_422(&[(json!({ field: "yes" }), field, field)])
        .await;
}

#[tokio::test]
async fn notification_recipients_are_at_most_five_editors_of_the_team() {
    let mut e = editing().await;
    let (ed, editor_id, editor2_id) = (e.editor.clone(), e.w.editor_id(), e.editor2_id);
    e.ok_same(&ed, json!({ RECIPIENTS: [editor_id, editor2_id] }))
        .await;
    let six = [
        editor_id,
        editor2_id,
        1,
        editor_id + 100,
        editor_id + 101,
        editor_id + 102,
    ];
    e.refused_422(&[
        (json!({ RECIPIENTS: six }), RECIPIENTS, "5"),
        (
            json!({ RECIPIENTS: [e.w.viewer_id()] }),
            RECIPIENTS,
            RECIPIENTS,
        ),
    ])
    .await;
}

#[tokio::test]
async fn sharing_beyond_the_team_needs_team_admin_and_specific_teams_need_slugs() {
    let mut e = editing().await;
    let ed = e.editor.clone();
    let global = jwt(json!({ "read_access": "GLOBAL" }));
    e.refused(&ed, global, 403, Some("read_access"), "TEAM_ADMIN")
        .await;
    let (slugs, specific) = ("shared_team_slugs", "SPECIFIC_TEAMS");
    #[rustfmt::skip]
    let refusals = [
        (json!({ "read_access": specific }), slugs, slugs),
        (json!({ "read_access": specific, slugs: [] }), slugs, slugs),
        (json!({ "read_access": specific, slugs: ["no_such_team"] }), slugs, "no_such_team"),
        (json!({ "read_access": "PUBLIC" }), "read_access", "read_access"),
    ];
    for (fields, field, needle) in refusals {
        e.refused(OWNER_KEY, jwt(fields), 422, Some(field), needle)
            .await;
    }
    let fields = ["read_access", slugs];
    let to_bravo = json!({ "read_access": specific, slugs: ["bravo"] });
    e.ok(OWNER_KEY, jwt(to_bravo.clone()), &fields, to_bravo)
        .await;
    let want = json!({ "read_access": "GLOBAL", slugs: [] });
    e.ok(
        OWNER_KEY,
        jwt(json!({ "read_access": "GLOBAL" })),
        &fields,
        want,
    )
    .await;
    let want = json!({ "read_access": "TEAM", slugs: [] });
    let team = jwt(json!({ "read_access": "TEAM" }));
    e.ok(OWNER_KEY, team, &["read_access"], want).await;
}

#[tokio::test]
async fn jwt_payload_is_an_object_or_the_text_of_one() {
    let mut e = editing().await;
    let ed = e.editor.clone();
    e.ok_same(
        &ed,
        json!({ "jwt_payload": { "iss": "updated", "aud": ["a", "b"] } }),
    )
    .await;
    let body = jwt(json!({ "jwt_payload": "{\"sub\":\"from a string\"}" }));
    let want = json!({ "jwt_payload": { "sub": "from a string" } });
    e.ok(&ed, body, &["jwt_payload"], want).await;
    e.refused_422(&[
        (json!({ "jwt_payload": [1] }), "jwt_payload", "jwt_payload"),
        (
            json!({ "jwt_payload": "not json" }),
            "jwt_payload",
            "jwt_payload",
        ),
    ])
    .await;
}

#[tokio::test]
async fn jwt_headers_lifetime_and_time_claims_are_replaced_within_their_rules() {
    let mut e = editing().await;
    let ed = e.editor.clone();
    e.ok_same(
        &ed,
        json!({ "jwt_headers": { "kid": "k1", "x-env": "prod" } }),
    )
    .await;
    e.ok_same(&ed, json!({ "jwt_lifetime_seconds": 120 })).await;
    e.ok_same(&ed, json!({ "jwt_auto_generate_time_claims": true }))
        .await;
    let (lifetime, claims) = ("jwt_lifetime_seconds", "jwt_auto_generate_time_claims");
    e.refused_422(&[
        (
            json!({ "jwt_headers": { "alg": "none" } }),
            "jwt_headers",
            "alg",
        ),
        (json!({ lifetime: 0 }), lifetime, lifetime),
        (json!({ lifetime: 86_401 }), lifetime, lifetime),
        (json!({ claims: "yes" }), claims, claims),
        // One invalid field refuses the whole request: the valid ones are not applied either.
        (
            json!({ "description": "never stored", "name": "Never", lifetime: 0 }),
            lifetime,
            lifetime,
        ),
    ])
    .await;
}

#[tokio::test]
async fn several_fields_at_once_leave_all_others_as_stored() {
    let mut e = editing().await;
    let ed = e.editor.clone();
    e.ok(
        &ed,
        jwt(json!({ "name": "renamed-key" })),
        &["name", "slug"],
        json!({}),
    )
    .await;
    let payload = jwt(json!({ "jwt_payload": "{\"sub\":\"from a string\"}" }));
    e.ok(&ed, payload, &["jwt_payload"], json!({})).await;
    e.ok_same(
        &ed,
        json!({ "jwt_headers": { "kid": "k1", "x-env": "prod" } }),
    )
    .await;
    e.ok_same(&ed, json!({ "expiry_notifications_enabled": true }))
        .await;
    let fields = json!({ "description": "third", "metadata": {}, "jwt_lifetime_seconds": 3600 });
    e.ok_same(&ed, fields).await;
    let (cur, created) = (&e.cur, &e.created);
    assert_eq!(cur["name"], "renamed-key");
    assert_eq!(cur["jwt_algorithm"], "ES256");
    assert_eq!(cur["jwt_payload"], json!({ "sub": "from a string" }));
    assert_eq!(cur["jwt_headers"], json!({ "kid": "k1", "x-env": "prod" }));
    assert_eq!(cur["expiry_notifications_enabled"], true);
    assert_eq!(cur["created_at"], created["created_at"]);
    assert_eq!(cur["owner"], created["owner"]);
}

#[tokio::test]
async fn editors_update_others_credentials_viewers_and_outsiders_may_not() {
    let mut e = editing().await;
    let (viewer, outsider) = (e.w.viewer_key().to_string(), e.w.outsider_key().to_string());
    let body = |d: &str| jwt(json!({ "description": d }));
    e.refused(&viewer, body("v"), 403, None, "EDITOR").await;
    e.refused(&outsider, body("o"), 404, None, "not found")
        .await;
    for missing in ["999999", "abc", "1.5", "-1"] {
        let (status, resp) = put(&e.server, missing, &e.editor, body("x")).await;
        assert_error(status, &resp, 404, None, "not found");
    }
    // Another EDITOR may update ordinary fields of someone else's credential.
    let editor2 = e.editor2.clone();
    e.ok_same(&editor2, json!({ "description": "by editor2" }))
        .await;
    assert_eq!(
        e.cur["owner"], e.created["owner"],
        "the owner stays the creator"
    );
    // The other credential was never touched.
    let (_, read) = e.server.get(&cred_path(id_of(&e.taken)), OWNER_KEY).await;
    assert_eq!(read, e.taken);
}
