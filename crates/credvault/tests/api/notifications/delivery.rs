//! What is sent and to whom: one reminder per threshold, only the nearest when several have
//! passed, each recipient its own email, the owner when none is listed, nobody who may no
//! longer receive it, test credentials on their own, a signed webhook, and a record of it all.

use serde_json::json;
use tempfile::TempDir;

use super::*;

#[tokio::test]
async fn each_threshold_sends_its_reminder_to_each_recipient() {
    let sink = MailSink::start();
    let dir = TempDir::new().unwrap();
    let server = start_with(dir.path(), &mailing(&sink));
    let w = World::new(&server, "Ops", &[Role::Editor, Role::TeamAdmin]).await;
    let both = [w.editor_id(), w.team_admin_id()];
    let cases = [
        ("thirty", from_now(29 * DAY_MS), 30),
        ("seven", from_now(6 * DAY_MS), 7),
        ("one", from_now(DAY_MS / 2), 1),
    ];
    let mut want = Vec::new();
    for (name, expires_at, days) in &cases {
        let id = expiring(&server, OWNER_KEY, w.team_id, name, expires_at, &both).await;
        let sent = all_with_status(&server, id, "SENT").await;
        let thresholds: Vec<_> = sent.iter().map(|n| n["threshold_days"].clone()).collect();
        assert_eq!(thresholds, vec![json!(days), json!(days)], "{name}");
        for email in [Role::Editor.email(), Role::TeamAdmin.email()] {
            want.push((email.to_string(), reminder_subject(name, expires_at)));
        }
    }
    let expired = expiring(
        &server,
        OWNER_KEY,
        w.team_id,
        "gone",
        &from_now(-DAY_MS),
        &both,
    )
    .await;
    all_with_status(&server, expired, "SENT").await;
    for email in [Role::Editor.email(), Role::TeamAdmin.email()] {
        want.push((
            email.to_string(),
            "Credential \"gone\" has expired".to_string(),
        ));
    }
    want.sort();
    assert_eq!(addressed(&sink.wait_for(want.len()).await), want);
}

#[tokio::test]
async fn a_late_start_sends_only_the_nearest_reminder() {
    let sink = MailSink::start();
    let dir = TempDir::new().unwrap();
    let server = start_with(dir.path(), &mailing(&sink));
    let team = server.team("Ops").await;
    let expires_at = from_now(3 * DAY_MS);
    let id = expiring(&server, OWNER_KEY, team, "late", &expires_at, &[]).await;
    let sent = all_with_status(&server, id, "SENT").await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["threshold_days"], 7);
    let_ticks_pass(2).await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 1, "one message, not a burst");
    assert_eq!(mails[0].subject, reminder_subject("late", &expires_at));
}

#[tokio::test]
async fn the_owner_gets_them_when_no_recipient_is_listed() {
    let sink = MailSink::start();
    let dir = TempDir::new().unwrap();
    let server = start_with(dir.path(), &mailing(&sink));
    let w = World::new(&server, "Ops", &[Role::Editor]).await;
    let id = expiring(
        &server,
        w.editor_key(),
        w.team_id,
        "mine",
        &from_now(DAY_MS),
        &[],
    )
    .await;
    let sent = all_with_status(&server, id, "SENT").await;
    assert_eq!(sent[0]["recipient"], Role::Editor.email());
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].to, vec![Role::Editor.email().to_string()]);
    assert_eq!(mails[0].from, SENDER);
}

#[tokio::test]
async fn recipients_who_left_the_team_or_were_deactivated_are_skipped() {
    let sink = MailSink::start();
    let dir = TempDir::new().unwrap();
    let server = start_with(dir.path(), &mailing(&sink));
    let w = World::new(
        &server,
        "Ops",
        &[Role::Editor, Role::TeamAdmin, Role::Viewer],
    )
    .await;
    let (stays, leaves, deactivated) = (w.team_admin_id(), w.editor_id(), w.viewer_id());
    server
        .post(
            &format!("/api/v1/teams/{}/invite_member", w.team_id),
            OWNER_KEY,
            json!({"user_id": deactivated, "role": "EDITOR"}),
        )
        .await;
    // Listed while they could receive it, then gone before the reminder is due.
    let id = expiring(
        &server,
        OWNER_KEY,
        w.team_id,
        "team",
        &from_now(40 * DAY_MS),
        &[stays, leaves, deactivated],
    )
    .await;
    let (status, _) = server
        .post(
            &format!("/api/v1/teams/{}/remove_member", w.team_id),
            OWNER_KEY,
            json!({"user_id": leaves}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .delete(&format!("/api/v1/admin/users/{deactivated}"), OWNER_KEY)
        .await;
    assert_eq!(status, 204);
    put_ok(
        &server,
        id,
        json!({"mode": "TEXT", "expires_at": from_now(20 * DAY_MS)}),
    )
    .await;
    let sent = all_with_status(&server, id, "SENT").await;
    let recipients: Vec<_> = sent.iter().map(|n| n["recipient"].clone()).collect();
    assert_eq!(recipients, vec![json!(Role::TeamAdmin.email())]);
    let_ticks_pass(1).await;
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn a_test_credential_has_its_own_date_and_recipients() {
    let sink = MailSink::start();
    let dir = TempDir::new().unwrap();
    let server = start_with(dir.path(), &mailing(&sink));
    let w = World::new(&server, "Ops", &[Role::Editor, Role::TeamAdmin]).await;
    let live_expiry = from_now(6 * DAY_MS);
    let id = expiring(
        &server,
        OWNER_KEY,
        w.team_id,
        "paired",
        &live_expiry,
        &[w.editor_id()],
    )
    .await;
    let test_expiry = from_now(DAY_MS / 2);
    let mut attach = text_body(w.team_id, "paired", "test-value");
    attach["live_credential_id"] = json!(id);
    attach["expires_at"] = json!(test_expiry);
    attach["expiry_notifications_enabled"] = json!(true);
    attach["credential_notification_recipient_user_ids"] = json!([w.team_admin_id()]);
    let (status, live) = server.create_credential(OWNER_KEY, attach).await;
    assert_eq!(status, 201, "{live}");
    let shown = live["test_credential"]["expires_at"].as_str().unwrap();
    assert_eq!(shown[..19], test_expiry[..19], "to the second");
    assert_eq!(
        live["test_credential"]["credential_notification_recipient_user_ids"],
        json!([w.team_admin_id()])
    );
    let sent = notifications_until(&server, id, "both sent", |f| {
        f.len() == 2 && f.iter().all(|n| n["status"] == "SENT")
    })
    .await;
    let mut seen: Vec<_> = sent
        .iter()
        .map(|n| {
            (
                n["is_test"].clone(),
                n["threshold_days"].clone(),
                n["recipient"].clone(),
            )
        })
        .collect();
    seen.sort_by_key(|s| s.0.as_bool());
    assert_eq!(
        seen,
        vec![
            (json!(false), json!(7), json!(Role::Editor.email())),
            (json!(true), json!(1), json!(Role::TeamAdmin.email())),
        ]
    );
    let mails = sink.wait_for(2).await;
    let test_mail = mails
        .iter()
        .find(|m| m.to[0] == Role::TeamAdmin.email())
        .unwrap();
    assert_eq!(test_mail.subject, reminder_subject("paired", &test_expiry));
    assert!(
        test_mail.body.contains("Credential: test"),
        "{}",
        test_mail.body
    );
}

#[tokio::test]
async fn an_email_names_the_credential_team_mode_date_and_api_url() {
    let sink = MailSink::start();
    let dir = TempDir::new().unwrap();
    let server = start_with(dir.path(), &mailing(&sink));
    let team = server.team("Payments").await;
    let expires_at = from_now(6 * DAY_MS + 3_600_000);
    let id = expiring(&server, OWNER_KEY, team, "Stripe", &expires_at, &[]).await;
    let mail = &sink.wait_for(1).await[0];
    let (_, read) = server.get(&cred_path(id), OWNER_KEY).await;
    for line in [
        "Name: Stripe".to_string(),
        "Team: Payments".to_string(),
        "Mode: TEXT".to_string(),
        "Credential: live".to_string(),
        format!("Expires at: {} (UTC)", read["expires_at"].as_str().unwrap()),
        "Days left: 6".to_string(),
        format!("API: {}{}", server.base, cred_path(id)),
    ] {
        assert!(mail.body.contains(&line), "no {line:?} in:\n{}", mail.body);
    }
}

#[tokio::test]
async fn a_webhook_call_is_signed_and_describes_the_reminder() {
    let receiver = WebhookReceiver::start();
    let dir = TempDir::new().unwrap();
    let secret = "whsec-for-tests-0123456789";
    let server = start_with(
        dir.path(),
        &[
            ("CREDVAULT_NOTIFY_INTERVAL_SECONDS", "1".into()),
            ("CREDVAULT_NOTIFY_WEBHOOK_URL", receiver.url()),
            ("CREDVAULT_NOTIFY_WEBHOOK_SECRET", secret.into()),
        ],
    );
    let w = World::new(&server, "Ops", &[Role::Editor]).await;
    let expires_at = from_now(-60_000);
    let id = expiring(
        &server,
        OWNER_KEY,
        w.team_id,
        "hooked",
        &expires_at,
        &[w.editor_id()],
    )
    .await;
    let hook = &receiver.wait_for(1).await[0];
    let expected = format!(
        "sha256={}",
        hex(&hmac_sha256(secret.as_bytes(), &hook.body))
    );
    assert_eq!(
        hook.header("x-credvault-signature"),
        Some(expected.as_str())
    );
    assert_eq!(hook.header("content-type"), Some("application/json"));
    let (_, read) = server.get(&cred_path(id), OWNER_KEY).await;
    let body = &hook.json;
    assert_eq!(body["event"], "credential.expired");
    assert_eq!(
        (body["threshold_days"].clone(), body["days_left"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(
        body["credential"],
        json!({"id": id, "name": "hooked", "slug": "hooked", "team_id": w.team_id, "mode": "TEXT", "expires_at": read["expires_at"], "is_test": false})
    );
    assert_eq!(body["recipients"], json!([Role::Editor.email()]));
    assert!(body["sent_at"].is_string());
    let sent = all_with_status(&server, id, "SENT").await;
    assert_eq!(
        (
            sent.len(),
            sent[0]["channel"].clone(),
            sent[0]["recipient"].clone()
        ),
        (1, json!("WEBHOOK"), json!(null))
    );
}

#[tokio::test]
async fn without_a_channel_reminders_are_recorded_but_not_sent() {
    let dir = TempDir::new().unwrap();
    let server = start_with(
        dir.path(),
        &[("CREDVAULT_NOTIFY_INTERVAL_SECONDS", "1".into())],
    );
    let team = server.team("Ops").await;
    let id = expiring(
        &server,
        OWNER_KEY,
        team,
        "quiet",
        &from_now(DAY_MS / 2),
        &[],
    )
    .await;
    let found = notifications_until(&server, id, "a recorded reminder", |f| !f.is_empty()).await;
    assert_eq!(found.len(), 1);
    let n = &found[0];
    assert_eq!(
        (
            n["status"].clone(),
            n["channel"].clone(),
            n["attempts"].clone()
        ),
        (json!("PENDING"), json!("EMAIL"), json!(0))
    );
    assert_eq!(n["recipient"], "owner@localhost");
    assert!(
        n["last_error"].as_str().unwrap().contains("--smtp-url"),
        "{n}"
    );
    let said = server
        .logs()
        .matches("expiry notifications will not be sent")
        .count();
    assert_eq!(said, 1, "the start-up log says it once");
}

#[tokio::test]
async fn notifications_are_listed_for_those_who_may_read_the_credential() {
    let server = Server::in_process().await;
    let w = World::new(&server, "Ops", &[Role::Viewer, Role::Outsider]).await;
    let id = expiring(
        &server,
        OWNER_KEY,
        w.team_id,
        "listed",
        &from_now(40 * DAY_MS),
        &[],
    )
    .await;
    let path = format!("{}/notifications", cred_path(id));
    let (status, body) = server.get(&path, w.viewer_key()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["notifications"], json!([]));
    assert_eq!(body["meta"]["count"], 0);
    let (status, body) = server.get(&path, w.outsider_key()).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = server
        .get(&format!("{}/notifications", cred_path(999_999)), OWNER_KEY)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn deliveries_are_counted_by_channel_and_outcome() {
    let sink = MailSink::start();
    let dir = TempDir::new().unwrap();
    let server = start_with(dir.path(), &mailing(&sink));
    let team = server.team("Ops").await;
    let id = expiring(
        &server,
        OWNER_KEY,
        team,
        "counted",
        &from_now(DAY_MS / 2),
        &[],
    )
    .await;
    all_with_status(&server, id, "SENT").await;
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("credvault_notifications_total{channel=\"email\",outcome=\"sent\"} 1\n"),
        "{metrics}"
    );
}
