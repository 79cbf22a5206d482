//! The notification outbox (API.md §7): planning a due reminder once, the unique key per
//! message, claims that exclude each other and expire, recording how an attempt ended, and
//! who may receive a credential's notifications.

use credvault_core::model::{Channel, NotificationStatus, Role};
use credvault_store::{
    Credential, DeliveryOutcome, NewNotification, Notification, NotificationPlan, Team, User,
};

use crate::helpers::{audit, create, cred, page, team, test_cred, user, S};

const EXPIRES: i64 = 10_000_000_000;
const DAY: i64 = 86_400_000;

struct Fixture {
    ada: User,
    bob: User,
    sec: Team,
    /// Due since 1_000 ms.
    c: Credential,
}

async fn fixture(s: &S) -> Fixture {
    let ada = user(s, "ada@example.com", false).await;
    let bob = user(s, "bob@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let mut new = cred("c", sec.id, ada.id, "c");
    new.expires_at = Some(EXPIRES);
    new.expiry_notifications_enabled = true;
    new.notify_at = Some(1_000);
    let c = create(s, new).await;
    Fixture { ada, bob, sec, c }
}

fn email(user: &User) -> NewNotification {
    NewNotification {
        channel: Channel::Email,
        user_id: user.id,
        recipient: Some(user.email.clone()),
        last_error: None,
    }
}

/// The plan of reminder `days` for `c`, as a planner that read `notify_at` = `seen` makes it.
fn plan(c: &Credential, seen: i64, days: i64, messages: Vec<NewNotification>) -> NotificationPlan {
    NotificationPlan {
        credential_id: c.id,
        seen_notify_at: seen,
        next_notify_at: Some(EXPIRES - DAY),
        expires_at: EXPIRES,
        threshold_days: days,
        due_at: EXPIRES - days * DAY,
        messages,
        at: 5_000,
    }
}

async fn planned(s: &S, plan: NotificationPlan) -> bool {
    s.plan_notifications(&[plan]).await.unwrap().len() == 1
}

async fn listed(s: &S, c: &Credential) -> Vec<Notification> {
    s.list_notifications(c.id, page(0, 100))
        .await
        .unwrap()
        .items
}

fn sent_at(at: i64) -> DeliveryOutcome {
    DeliveryOutcome {
        status: NotificationStatus::Sent,
        last_error: None,
        next_attempt_at: at,
        sent_at: Some(at),
    }
}

pub async fn due_credentials_are_those_whose_notify_at_has_come(s: &S) {
    let x = fixture(s).await;
    let ids = |found: Vec<Credential>| found.iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.due_notifications(999, 10).await.unwrap()),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(s.due_notifications(1_000, 10).await.unwrap()),
        vec![x.c.id]
    );
}

pub async fn a_plan_adds_its_messages_pending_and_moves_notify_at(s: &S) {
    let x = fixture(s).await;
    assert!(planned(s, plan(&x.c, 1_000, 7, vec![email(&x.ada)])).await);
    let found = listed(s, &x.c).await;
    assert_eq!(found.len(), 1);
    let n = &found[0];
    assert_eq!(
        (
            n.credential_id,
            n.expires_at,
            n.threshold_days,
            n.channel,
            n.user_id
        ),
        (x.c.id, EXPIRES, 7, Channel::Email, x.ada.id)
    );
    assert_eq!(n.recipient.as_deref(), Some("ada@example.com"));
    assert_eq!(
        (n.status, n.attempts, n.last_error.as_deref()),
        (NotificationStatus::Pending, 0, None)
    );
    assert_eq!(
        (n.due_at, n.next_attempt_at, n.claimed_until, n.sent_at),
        (EXPIRES - 7 * DAY, 5_000, 0, None)
    );
    let row = s.get_credential_row(x.c.id).await.unwrap().unwrap();
    assert_eq!(row.notify_at, Some(EXPIRES - DAY));
    assert_eq!(
        row.version, x.c.version,
        "planning is not a change of the credential"
    );
}

pub async fn a_plan_made_from_a_stale_notify_at_writes_nothing(s: &S) {
    let x = fixture(s).await;
    assert!(planned(s, plan(&x.c, 1_000, 7, vec![email(&x.ada)])).await);
    let again = planned(s, plan(&x.c, 1_000, 7, vec![email(&x.bob)]));
    assert!(!again.await, "another planner was first");
    assert_eq!(listed(s, &x.c).await.len(), 1);
}

pub async fn each_message_exists_once(s: &S) {
    let x = fixture(s).await;
    let twice = vec![email(&x.ada)];
    assert!(planned(s, plan(&x.c, 1_000, 7, twice.clone())).await);
    let mut again = plan(&x.c, EXPIRES - DAY, 7, twice);
    again.next_notify_at = Some(EXPIRES);
    assert!(planned(s, again.clone()).await);
    assert_eq!(listed(s, &x.c).await.len(), 1);
}

pub async fn a_nearer_reminder_cancels_the_pending_earlier_ones(s: &S) {
    let x = fixture(s).await;
    assert!(planned(s, plan(&x.c, 1_000, 30, vec![email(&x.ada)])).await);
    let nearer = plan(&x.c, EXPIRES - DAY, 7, vec![email(&x.ada)]);
    assert!(planned(s, nearer.clone()).await);
    let found = listed(s, &x.c).await;
    let states: Vec<_> = found.iter().map(|n| (n.threshold_days, n.status)).collect();
    assert_eq!(
        states,
        vec![
            (30, NotificationStatus::Cancelled),
            (7, NotificationStatus::Pending)
        ]
    );
    assert_eq!(
        found[0].last_error.as_deref(),
        Some("superseded by a nearer reminder")
    );
}

pub async fn cancelling_keeps_the_current_date_and_what_was_sent(s: &S) {
    let x = fixture(s).await;
    assert!(planned(s, plan(&x.c, 1_000, 7, vec![email(&x.ada), email(&x.bob)])).await);
    let first = listed(s, &x.c).await[0].clone();
    let held = s
        .claim_notification(first.id, 6_000, 9_000)
        .await
        .unwrap()
        .unwrap();
    assert!(s
        .finish_notification(held.id, 9_000, &sent_at(7_000))
        .await
        .unwrap());
    assert_eq!(
        s.cancel_notifications(x.c.id, Some(EXPIRES), "kept")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.cancel_notifications(x.c.id, None, "turned off")
            .await
            .unwrap(),
        1
    );
    let found = listed(s, &x.c).await;
    assert_eq!(
        found
            .iter()
            .map(|n| (n.status, n.last_error.as_deref()))
            .collect::<Vec<_>>(),
        vec![
            (NotificationStatus::Sent, None),
            (NotificationStatus::Cancelled, Some("turned off"))
        ]
    );
}

pub async fn a_cancelled_message_planned_again_is_pending_again(s: &S) {
    let x = fixture(s).await;
    assert!(planned(s, plan(&x.c, 1_000, 7, vec![email(&x.ada)])).await);
    s.cancel_notifications(x.c.id, None, "turned off")
        .await
        .unwrap();
    let mut again = plan(&x.c, EXPIRES - DAY, 7, vec![email(&x.ada)]);
    again.at = 8_000;
    assert!(planned(s, again.clone()).await);
    let found = listed(s, &x.c).await;
    assert_eq!(
        (found.len(), found[0].status, found[0].last_error.as_deref()),
        (1, NotificationStatus::Pending, None)
    );
    assert_eq!(found[0].created_at, 8_000, "its retry window starts over");
}

pub async fn a_claim_excludes_others_until_it_expires(s: &S) {
    let x = fixture(s).await;
    assert!(planned(s, plan(&x.c, 1_000, 7, vec![email(&x.ada)])).await);
    let pending = s
        .pending_notifications(&[Channel::Email], 6_000, 10)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    let id = pending[0].id;
    let held = s
        .claim_notification(id, 6_000, 9_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((held.claimed_until, held.attempts), (9_000, 1));
    assert_eq!(s.claim_notification(id, 8_999, 12_000).await.unwrap(), None);
    assert_eq!(
        s.pending_notifications(&[Channel::Email], 8_999, 10)
            .await
            .unwrap(),
        vec![]
    );
    // The holder was killed: once its claim has expired, the next sender takes it.
    let retaken = s
        .claim_notification(id, 9_000, 12_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((retaken.claimed_until, retaken.attempts), (12_000, 2));
    assert!(
        !s.finish_notification(id, 9_000, &sent_at(9_500))
            .await
            .unwrap(),
        "the lost claim records nothing"
    );
    assert!(s
        .finish_notification(id, 12_000, &sent_at(10_000))
        .await
        .unwrap());
    let n = &listed(s, &x.c).await[0];
    assert_eq!(
        (n.status, n.sent_at, n.claimed_until),
        (NotificationStatus::Sent, Some(10_000), 0)
    );
}

pub async fn a_failed_attempt_waits_for_its_retry(s: &S) {
    let x = fixture(s).await;
    assert!(planned(s, plan(&x.c, 1_000, 7, vec![email(&x.ada)])).await);
    let id = listed(s, &x.c).await[0].id;
    s.claim_notification(id, 6_000, 9_000)
        .await
        .unwrap()
        .unwrap();
    let failed = DeliveryOutcome {
        status: NotificationStatus::Pending,
        last_error: Some("connection refused".into()),
        next_attempt_at: 11_000,
        sent_at: None,
    };
    assert!(s.finish_notification(id, 9_000, &failed).await.unwrap());
    assert_eq!(
        s.pending_notifications(&[Channel::Email], 10_999, 10)
            .await
            .unwrap(),
        vec![]
    );
    let pending = s
        .pending_notifications(&[Channel::Email], 11_000, 10)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].attempts, pending[0].last_error.as_deref()),
        (1, Some("connection refused"))
    );
}

pub async fn pending_messages_are_of_the_channels_asked_for(s: &S) {
    let x = fixture(s).await;
    let hook = NewNotification {
        channel: Channel::Webhook,
        user_id: 0,
        recipient: None,
        last_error: None,
    };
    assert!(planned(s, plan(&x.c, 1_000, 7, vec![email(&x.ada), hook])).await);
    let channels = |found: Vec<Notification>| found.iter().map(|n| n.channel).collect::<Vec<_>>();
    let pending = |asked: &'static [Channel]| s.pending_notifications(asked, 6_000, 10);
    assert_eq!(
        channels(pending(&[Channel::Webhook]).await.unwrap()),
        vec![Channel::Webhook]
    );
    assert_eq!(channels(pending(&[]).await.unwrap()), vec![]);
    assert_eq!(
        channels(pending(&[Channel::Email, Channel::Webhook]).await.unwrap()),
        vec![Channel::Email, Channel::Webhook]
    );
}

pub async fn recipients_are_active_editors_of_the_team_or_admins_in_the_order_given(s: &S) {
    let x = fixture(s).await;
    let viewer = user(s, "vic@example.com", false).await;
    let gone = user(s, "gone@example.com", false).await;
    s.set_membership(
        x.sec.id,
        x.ada.id,
        Role::TeamAdmin,
        audit("TeamMemberInvitation"),
    )
    .await
    .unwrap();
    s.set_membership(
        x.sec.id,
        x.bob.id,
        Role::Editor,
        audit("TeamMemberInvitation"),
    )
    .await
    .unwrap();
    s.set_membership(
        x.sec.id,
        viewer.id,
        Role::Viewer,
        audit("TeamMemberInvitation"),
    )
    .await
    .unwrap();
    s.set_membership(
        x.sec.id,
        gone.id,
        Role::Editor,
        audit("TeamMemberInvitation"),
    )
    .await
    .unwrap();
    s.deactivate_user(gone.id, 1, audit("UserDeactivation"))
        .await
        .unwrap();
    let asked = [x.bob.id, viewer.id, 999, gone.id, x.ada.id, x.bob.id];
    let found = s.notification_recipients(x.sec.id, &asked).await.unwrap();
    let emails: Vec<_> = found.iter().map(|r| r.email.as_str()).collect();
    assert_eq!(
        emails,
        vec!["bob@example.com", "ada@example.com"],
        "each once"
    );
    let other = team(s, "Other", "other").await;
    assert_eq!(
        s.notification_recipients(other.id, &asked).await.unwrap(),
        vec![]
    );
}

pub async fn a_credentials_list_has_its_test_credentials_messages(s: &S) {
    let x = fixture(s).await;
    let t = s
        .attach_test_credential(test_cred("c-test", &x.c), audit("CredentialSave"))
        .await
        .unwrap();
    let mut test_plan = plan(&t, 0, 1, vec![email(&x.bob)]);
    s.update_credential(
        &Credential {
            notify_at: Some(0),
            ..t.clone()
        },
        audit("CredentialSave"),
    )
    .await
    .unwrap()
    .unwrap();
    test_plan.seen_notify_at = 0;
    assert!(planned(s, test_plan.clone()).await);
    assert!(planned(s, plan(&x.c, 1_000, 7, vec![email(&x.ada)])).await);
    let listed = s.list_notifications(x.c.id, page(0, 1)).await.unwrap();
    assert_eq!(listed.total, 2);
    assert_eq!(
        listed.items[0].credential_id, t.id,
        "by id: the test credential's came first"
    );
    let other = create(s, cred("d", x.sec.id, x.ada.id, "d")).await;
    assert_eq!(
        s.list_notifications(other.id, page(0, 10))
            .await
            .unwrap()
            .total,
        0
    );
}

pub async fn deleting_a_credential_deletes_its_messages(s: &S) {
    let x = fixture(s).await;
    assert!(planned(s, plan(&x.c, 1_000, 7, vec![email(&x.ada)])).await);
    assert!(s
        .delete_credential(x.c.id, audit("CredentialDestruction"))
        .await
        .unwrap());
    assert_eq!(
        s.pending_notifications(&[Channel::Email], 6_000, 10)
            .await
            .unwrap(),
        vec![]
    );
}

pub async fn plans_are_written_together_and_a_stale_one_is_skipped(s: &S) {
    let x = fixture(s).await;
    let mut new = cred("d", x.sec.id, x.ada.id, "d");
    new.expires_at = Some(EXPIRES);
    new.expiry_notifications_enabled = true;
    new.notify_at = Some(2_000);
    let d = create(s, new).await;
    let stale = plan(&x.c, 999, 7, vec![email(&x.ada)]);
    let fresh = plan(&d, 2_000, 7, vec![email(&x.bob)]);
    assert_eq!(
        s.plan_notifications(&[fresh, stale]).await.unwrap(),
        vec![d.id]
    );
    assert_eq!(
        listed(s, &x.c).await.len(),
        0,
        "the stale plan wrote nothing"
    );
    assert_eq!(listed(s, &d).await.len(), 1);
    let c = s.get_credential_row(x.c.id).await.unwrap().unwrap();
    assert_eq!(c.notify_at, Some(1_000));
}
