//! Changes to a credential's expiry: a new date starts the reminders over, turning them off or
//! deleting the credential cancels what is not yet sent, and (in process, with the time passed
//! in) one date's reminders come in order, each once.

use credvault_api::notify::{Notifier, NotifyConfig};
use credvault_core::timefmt::now_millis;
use serde_json::json;
use tempfile::TempDir;

use super::*;

#[tokio::test]
async fn a_new_expires_at_starts_the_reminders_over() {
    let sink = MailSink::start();
    let dir = TempDir::new().unwrap();
    let server = start_with(dir.path(), &mailing(&sink));
    let team = server.team("Ops").await;
    let first = from_now(6 * DAY_MS);
    let id = expiring(&server, OWNER_KEY, team, "renewed", &first, &[]).await;
    all_with_status(&server, id, "SENT").await;
    // Renewed for a year: nothing is due for the new date yet.
    put_ok(
        &server,
        id,
        json!({"mode": "TEXT", "expires_at": from_now(365 * DAY_MS)}),
    )
    .await;
    let_ticks_pass(1).await;
    assert_eq!(notifications(&server, id).await.len(), 1);
    // Then set to expire in 20 days: the new date's 30-day reminder, as a new sequence.
    let second = from_now(20 * DAY_MS);
    put_ok(&server, id, json!({"mode": "TEXT", "expires_at": second})).await;
    let found = notifications_until(&server, id, "a second reminder", |f| {
        f.len() == 2 && f[1]["status"] == "SENT"
    })
    .await;
    assert_eq!(
        (
            found[0]["threshold_days"].clone(),
            found[1]["threshold_days"].clone()
        ),
        (json!(7), json!(30))
    );
    let subjects: Vec<_> = sink
        .wait_for(2)
        .await
        .iter()
        .map(|m| m.subject.clone())
        .collect();
    assert_eq!(
        subjects,
        vec![
            reminder_subject("renewed", &first),
            reminder_subject("renewed", &second)
        ]
    );
}

#[tokio::test]
async fn turning_notifications_off_cancels_what_is_pending() {
    let (_dir, server, port, id) = pending_behind_a_down_relay("muted").await;
    put_ok(
        &server,
        id,
        json!({"mode": "TEXT", "expiry_notifications_enabled": false}),
    )
    .await;
    let found = all_with_status(&server, id, "CANCELLED").await;
    assert_eq!(
        found[0]["last_error"],
        "expiry notifications were turned off"
    );
    let sink = MailSink::start_on(port);
    let_ticks_pass(2).await;
    assert_eq!(sink.messages().len(), 0);
}

#[tokio::test]
async fn deleting_the_credential_cancels_what_is_pending() {
    let (_dir, server, port, id) = pending_behind_a_down_relay("deleted").await;
    let (status, _) = server.delete(&cred_path(id), OWNER_KEY).await;
    assert_eq!(status, 204);
    let sink = MailSink::start_on(port);
    let_ticks_pass(2).await;
    assert_eq!(sink.messages().len(), 0);
    let (status, _) = server
        .get(&format!("{}/notifications", cred_path(id)), OWNER_KEY)
        .await;
    assert_eq!(status, 404);
}

/// Ticks the in-process scheduler at `now`, mailing through `sink`.
async fn tick_at(server: &Server, notifier: &Notifier, now: i64) {
    notifier.tick(server.app_state(), now).await.expect("tick");
}

#[tokio::test]
async fn one_date_gets_thirty_seven_one_day_and_expired_notices_in_turn_each_once() {
    let sink = MailSink::start();
    let server = Server::in_process().await;
    let notifier = Notifier::new(&NotifyConfig {
        smtp_url: Some(sink.url()),
        smtp_from: SENDER.into(),
        lease: Duration::from_mins(1),
        ..NotifyConfig::default()
    })
    .unwrap();
    let team = server.team("Ops").await;
    let start = now_millis();
    let expires_at = from_now(40 * DAY_MS);
    let id = expiring(&server, OWNER_KEY, team, "walked", &expires_at, &[]).await;
    let (_, read) = server.get(&cred_path(id), OWNER_KEY).await;
    let at = credvault_core::timefmt::parse_rfc3339(read["expires_at"].as_str().unwrap()).unwrap();
    let mut subjects = Vec::new();
    for (when, days) in [
        (at - 30 * DAY_MS, 30),
        (at - 7 * DAY_MS, 7),
        (at - DAY_MS, 1),
        (at, 0),
    ] {
        tick_at(&server, &notifier, when - 1).await;
        assert_eq!(
            sink.messages().len(),
            subjects.len(),
            "nothing before the {days}-day mark"
        );
        tick_at(&server, &notifier, when).await;
        tick_at(&server, &notifier, when + 1).await;
        subjects.push(if days == 0 {
            "Credential \"walked\" has expired".to_string()
        } else {
            reminder_subject("walked", &expires_at)
        });
        let mails = sink.wait_for(subjects.len()).await;
        assert_eq!(
            mails.iter().map(|m| m.subject.clone()).collect::<Vec<_>>(),
            subjects
        );
    }
    tick_at(&server, &notifier, at + 90 * DAY_MS).await;
    assert_eq!(sink.messages().len(), 4, "nothing after the expired notice");
    let found = notifications(&server, id).await;
    let walked: Vec<_> = found
        .iter()
        .map(|n| (n["threshold_days"].clone(), n["status"].clone()))
        .collect();
    assert_eq!(
        walked,
        [30, 7, 1, 0].map(|d| (json!(d), json!("SENT"))).to_vec()
    );
    assert!(start < at, "the walk used the test's clock");
}

#[tokio::test]
async fn a_recipient_who_leaves_before_the_relay_is_back_is_not_sent_to() {
    let (_dir, server, port) = relay_down();
    let w = World::new(&server, "Ops", &[Role::Editor]).await;
    let id = expiring(
        &server,
        OWNER_KEY,
        w.team_id,
        "left",
        &from_now(DAY_MS / 2),
        &[w.editor_id()],
    )
    .await;
    failed_once(&server, id).await;
    let remove = format!("/api/v1/teams/{}/remove_member", w.team_id);
    let (status, _) = server
        .post(&remove, OWNER_KEY, json!({"user_id": w.editor_id()}))
        .await;
    assert_eq!(status, 200);
    let sink = MailSink::start_on(port);
    let found = all_with_status(&server, id, "CANCELLED").await;
    let reason = found[0]["last_error"].as_str().unwrap();
    assert!(reason.contains("no longer a recipient"), "{reason}");
    assert_eq!(sink.messages().len(), 0);
}
