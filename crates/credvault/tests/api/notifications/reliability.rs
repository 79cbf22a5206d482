//! Exactly once: a relay or webhook that is down gets the message when it is back, two
//! instances on one database send each message once, a restart re-sends nothing, a sender
//! killed between its claim and the delivery leaves a claim that expires and is sent once, and
//! no secret reaches a message or a log line.

use serde_json::json;
use tempfile::TempDir;

use super::*;

#[tokio::test]
async fn a_relay_that_was_down_gets_the_message_once_it_is_back() {
    let (_dir, server, port, id) = pending_behind_a_down_relay("retried").await;
    let failed = notifications(&server, id).await;
    assert!(failed[0]["next_attempt_at"].is_string(), "{failed:#?}");
    let sink = MailSink::start_on(port);
    let sent = all_with_status(&server, id, "SENT").await;
    assert_eq!(sent[0]["last_error"], json!(null));
    assert!(sent[0]["attempts"].as_i64().unwrap() >= 2, "{sent:#?}");
    let_ticks_pass(2).await;
    assert_eq!(sink.messages().len(), 1, "delivered once");
}

#[tokio::test]
async fn a_webhook_answering_503_gets_the_call_again_until_it_takes_it() {
    let receiver = WebhookReceiver::start();
    receiver.answer_with(503);
    let dir = TempDir::new().unwrap();
    let server = start_with(
        dir.path(),
        &[
            ("CREDVAULT_NOTIFY_INTERVAL_SECONDS", "1".into()),
            ("CREDVAULT_NOTIFY_WEBHOOK_URL", receiver.url()),
        ],
    );
    let team = server.team("Ops").await;
    let id = expiring(
        &server,
        OWNER_KEY,
        team,
        "hooked",
        &from_now(DAY_MS / 2),
        &[],
    )
    .await;
    let failed = notifications_until(&server, id, "a refused call", |f| {
        f.first()
            .is_some_and(|n| n["attempts"] == 1 && n["status"] == "PENDING")
    })
    .await;
    assert_eq!(
        failed[0]["last_error"],
        "webhook answered 503 Service Unavailable"
    );
    receiver.answer_with(204);
    all_with_status(&server, id, "SENT").await;
    let_ticks_pass(1).await;
    let calls = receiver.calls();
    let taken = calls.iter().filter(|c| c.status == 204).count();
    assert_eq!(taken, 1, "{calls:#?}");
    let gap = calls[1].at - calls[0].at;
    assert!(gap <= Duration::from_secs(10), "first retry after {gap:?}");
}

#[tokio::test]
async fn two_instances_on_one_database_send_each_message_once() {
    let sink = MailSink::start();
    let dir = TempDir::new().unwrap();
    let a = start_with(dir.path(), &mailing(&sink));
    let b = start_with(dir.path(), &mailing(&sink));
    let w = World::new(&a, "Ops", &[Role::Editor, Role::TeamAdmin]).await;
    let both = [w.editor_id(), w.team_admin_id()];
    let mut ids = Vec::new();
    for n in 0..15 {
        let server = if n % 2 == 0 { &a } else { &b };
        ids.push(
            expiring(
                server,
                OWNER_KEY,
                w.team_id,
                &format!("c{n}"),
                &from_now(DAY_MS / 2),
                &both,
            )
            .await,
        );
    }
    for id in &ids {
        all_with_status(&a, *id, "SENT").await;
    }
    let_ticks_pass(2).await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 30, "{:#?}", addressed(&mails));
    let mut distinct = addressed(&mails);
    distinct.dedup();
    assert_eq!(distinct.len(), 30, "no message twice");
}

#[tokio::test]
async fn a_restart_sends_nothing_again() {
    let sink = MailSink::start();
    let dir = TempDir::new().unwrap();
    let mut first = start_with(dir.path(), &mailing(&sink));
    let team = first.team("Ops").await;
    let id = expiring(&first, OWNER_KEY, team, "once", &from_now(DAY_MS / 2), &[]).await;
    all_with_status(&first, id, "SENT").await;
    assert!(first.stop());
    let _again = start_with(dir.path(), &mailing(&sink));
    let_ticks_pass(2).await;
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn a_sender_killed_between_claim_and_delivery_has_it_sent_once_its_claim_expires() {
    let sink = MailSink::start();
    sink.stall(true);
    let dir = TempDir::new().unwrap();
    let mut env = mailing(&sink);
    env.push(("CREDVAULT_NOTIFY_LEASE_SECONDS", "6".into()));
    let mut killed = start_with(dir.path(), &env);
    let team = killed.team("Ops").await;
    let id = expiring(
        &killed,
        OWNER_KEY,
        team,
        "claimed",
        &from_now(DAY_MS / 2),
        &[],
    )
    .await;
    // Claimed, and stuck in the relay's DATA with the whole message sent.
    sink.wait_until_holding(true).await;
    let claimed = notifications(&killed, id).await;
    assert_eq!(
        (claimed[0]["attempts"].clone(), claimed[0]["status"].clone()),
        (json!(1), json!("PENDING"))
    );
    killed.kill();
    // The relay sees the sender gone before it may take mail again: it never confirmed this one.
    sink.wait_until_holding(false).await;
    sink.stall(false);
    let next = start_with(dir.path(), &env);
    let sent = all_with_status(&next, id, "SENT").await;
    assert_eq!(
        sent[0]["attempts"], 2,
        "the killed claim and the one that delivered"
    );
    let_ticks_pass(2).await;
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn no_secret_reaches_a_message_or_a_log_line() {
    let sink = MailSink::start();
    let receiver = WebhookReceiver::start();
    let dir = TempDir::new().unwrap();
    let (password, hook_secret) = ("relay-pa55word", "hook-secret-4f9a");
    let server = start_with(
        dir.path(),
        &[
            ("CREDVAULT_NOTIFY_INTERVAL_SECONDS", "1".into()),
            (
                "CREDVAULT_SMTP_URL",
                format!("smtp://mailer:{password}@127.0.0.1:{}", sink.port()),
            ),
            ("CREDVAULT_NOTIFY_WEBHOOK_URL", receiver.url()),
            ("CREDVAULT_NOTIFY_WEBHOOK_SECRET", hook_secret.into()),
        ],
    );
    let team = server.team("Ops").await;
    let key = fixture_key("rsa2048-pkcs8.pem");
    let mut jwt = jwt_credential(team, "signing", "RS256", &key, 600);
    jwt["expires_at"] = json!(from_now(DAY_MS / 2));
    jwt["expiry_notifications_enabled"] = json!(true);
    let jwt_id = create_ok(&server, jwt).await;
    let text_id = expiring(&server, OWNER_KEY, team, "text", &from_now(DAY_MS / 2), &[]).await;
    all_with_status(&server, jwt_id, "SENT").await;
    all_with_status(&server, text_id, "SENT").await;
    let mails = sink.wait_for(2).await;
    assert_eq!(
        mails[0].auth,
        Some(("mailer".to_string(), password.to_string()))
    );
    let key_body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut everything = server.logs();
    for mail in &mails {
        everything.push_str(&mail.raw);
    }
    for hook in receiver.wait_for(2).await {
        everything.push_str(&String::from_utf8_lossy(&hook.body));
    }
    for secret in [&key_body[..64], "s3cr3t-text-value", password, hook_secret] {
        assert!(!everything.contains(secret), "{secret:?} leaked");
    }
}

#[tokio::test]
async fn a_relay_without_starttls_gets_nothing_when_tls_is_required() {
    let sink = MailSink::start();
    let dir = TempDir::new().unwrap();
    let server = start_with(
        dir.path(),
        &[
            ("CREDVAULT_NOTIFY_INTERVAL_SECONDS", "1".into()),
            ("CREDVAULT_SMTP_URL", format!("{}?tls=required", sink.url())),
        ],
    );
    let team = server.team("Ops").await;
    let id = expiring(&server, OWNER_KEY, team, "tls", &from_now(DAY_MS / 2), &[]).await;
    let failed = notifications_until(&server, id, "a refused attempt", |f| {
        f.first()
            .is_some_and(|n| n["attempts"] == 1 && n["last_error"].is_string())
    })
    .await;
    assert_eq!(failed[0]["status"], "PENDING", "retried later");
    assert_eq!(sink.messages().len(), 0, "nothing in clear text");
}

#[test]
fn a_bad_relay_url_stops_the_start_without_repeating_its_password() {
    let dir = TempDir::new().unwrap();
    for url in [
        "http://mailer:hunter2@relay.example.com",
        "smtp://mailer:hunter2@",
    ] {
        let failure = Server::start_in(dir.path(), &[("CREDVAULT_SMTP_URL", url)])
            .err()
            .expect("refused");
        assert!(!failure.success);
        assert!(
            failure.logs.contains("--smtp-url must be"),
            "{}",
            failure.logs
        );
        assert!(!failure.logs.contains("hunter2"), "{}", failure.logs);
    }
}
