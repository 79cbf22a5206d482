//! Delivering: claims pending messages one at a time, checks that each is still wanted, sends
//! it and records how that went. A few are sent at once, so that one slow relay answer does
//! not hold up the rest.

use credvault_core::expiry::RETRY_WINDOW_MS;
use credvault_core::model::{Channel, NotificationStatus};
use credvault_core::timefmt::Millis;
use credvault_store::{Credential, DeliveryOutcome, Notification};
use futures_util::stream::{self, StreamExt};

use super::message::Reminder;
use super::{retry_at, wanted_recipients, Notifier, Tick};
use crate::error::ApiResult;
use crate::AppState;

/// Pending messages read per tick; the rest wait for the next.
const BATCH: i64 = 1_000;
/// Messages sent at once.
const CONCURRENT: usize = 4;

/// What to send, once a claimed message has been checked.
enum Send {
    Email {
        to: String,
        subject: String,
        body: String,
    },
    Webhook {
        body: Vec<u8>,
    },
}

pub(super) async fn deliver_pending(
    n: &Notifier,
    state: &AppState,
    now: Millis,
    tick: &mut Tick,
) -> ApiResult<()> {
    let channels = n.channels();
    if channels.is_empty() {
        return Ok(());
    }
    let pending = state
        .store
        .pending_notifications(&channels, now, BATCH)
        .await?;
    let outcomes: Vec<ApiResult<Option<DeliveryOutcome>>> = stream::iter(pending)
        .map(|message| deliver_one(n, state, message, now))
        .buffer_unordered(CONCURRENT)
        .collect()
        .await;
    for outcome in outcomes {
        let Some(outcome) = outcome? else { continue };
        match outcome.status {
            NotificationStatus::Sent => tick.sent += 1,
            NotificationStatus::Cancelled => tick.cancelled += 1,
            NotificationStatus::Pending | NotificationStatus::Failed => tick.failed += 1,
        }
        if outcome.status == NotificationStatus::Pending {
            let at = outcome.next_attempt_at;
            tick.next_retry_at = Some(tick.next_retry_at.map_or(at, |t| t.min(at)));
        }
    }
    Ok(())
}

/// Claims, checks, sends and records one message; None when another sender holds it.
async fn deliver_one(
    n: &Notifier,
    state: &AppState,
    message: Notification,
    now: Millis,
) -> ApiResult<Option<DeliveryOutcome>> {
    let lease = Millis::try_from(n.lease.as_millis()).unwrap_or(Millis::MAX);
    let until = now.saturating_add(lease);
    let Some(claimed) = state
        .store
        .claim_notification(message.id, now, until)
        .await?
    else {
        return Ok(None);
    };
    let outcome = match prepare(state, &claimed, now).await? {
        Err(reason) => DeliveryOutcome {
            status: NotificationStatus::Cancelled,
            last_error: Some(reason),
            next_attempt_at: now,
            sent_at: None,
        },
        Ok(send) => attempt(n, &claimed, send, now).await,
    };
    let recorded = state
        .store
        .finish_notification(claimed.id, until, &outcome)
        .await?;
    let label = match outcome.status {
        NotificationStatus::Sent => "sent",
        NotificationStatus::Cancelled => "cancelled",
        NotificationStatus::Pending => "error",
        NotificationStatus::Failed => "gave_up",
    };
    state.metrics.notification(claimed.channel, label);
    tracing::info!(
        notification_id = claimed.id,
        credential_id = claimed.credential_id,
        channel = %claimed.channel,
        threshold_days = claimed.threshold_days,
        attempts = claimed.attempts,
        status = %outcome.status,
        error = outcome.last_error.as_deref().unwrap_or(""),
        recorded,
        "expiry notification"
    );
    Ok(Some(outcome))
}

/// Sends and says how it went: sent, or to be retried, or given up after the retry window.
async fn attempt(n: &Notifier, claimed: &Notification, send: Send, now: Millis) -> DeliveryOutcome {
    let result = match (send, &n.mailer, &n.webhook) {
        (Send::Email { to, subject, body }, Some(mailer), _) => {
            mailer.send(&to, &subject, body).await
        }
        (Send::Webhook { body }, _, Some(webhook)) => webhook.send(body).await,
        _ => Err("the channel is not configured on this server".to_string()),
    };
    match result {
        Ok(()) => DeliveryOutcome {
            status: NotificationStatus::Sent,
            last_error: None,
            next_attempt_at: now,
            sent_at: Some(now),
        },
        Err(error) => {
            let gave_up = now.saturating_sub(claimed.created_at) >= RETRY_WINDOW_MS;
            DeliveryOutcome {
                status: if gave_up {
                    NotificationStatus::Failed
                } else {
                    NotificationStatus::Pending
                },
                last_error: Some(error),
                next_attempt_at: retry_at(now, claimed.attempts),
                sent_at: None,
            }
        }
    }
}

/// The message to send, if it is still wanted: the credential still exists with the same
/// date and notifications on, and the recipient may still receive it. Err: why not.
async fn prepare(
    state: &AppState,
    n: &Notification,
    now: Millis,
) -> ApiResult<Result<Send, String>> {
    let store = &state.store;
    let Some(c) = store.get_credential_row(n.credential_id).await? else {
        return Ok(Err("the credential was deleted".into()));
    };
    if !c.expiry_notifications_enabled {
        return Ok(Err("expiry notifications were turned off".into()));
    }
    if c.expires_at != Some(n.expires_at) {
        return Ok(Err("expires_at changed".into()));
    }
    let team_name = store
        .get_team(c.team_id)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    let reminder = Reminder {
        credential: &c,
        team_name: &team_name,
        threshold_days: n.threshold_days,
        expires_at: n.expires_at,
        api_url: api_url(state, &c),
        now,
    };
    let wanted = wanted_recipients(&c);
    match n.channel {
        Channel::Email => {
            let may = store
                .notification_recipients(c.team_id, &[n.user_id])
                .await?;
            let Some(to) = may
                .into_iter()
                .next()
                .filter(|_| wanted.contains(&n.user_id))
            else {
                return Ok(Err(format!(
                    "user {} is no longer a recipient: not listed, inactive, or not an EDITOR or TEAM_ADMIN of the team",
                    n.user_id
                )));
            };
            Ok(Ok(Send::Email {
                to: to.email,
                subject: reminder.subject(),
                body: reminder.body(),
            }))
        }
        Channel::Webhook => {
            let recipients = store.notification_recipients(c.team_id, &wanted).await?;
            let emails: Vec<String> = recipients.into_iter().map(|r| r.email).collect();
            let body = serde_json::to_vec(&reminder.webhook_body(&emails))
                .expect("JSON values always serialise");
            Ok(Ok(Send::Webhook { body }))
        }
    }
}

fn api_url(state: &AppState, c: &Credential) -> String {
    format!(
        "{}/api/v1/user_credentials/{}",
        state.public_url,
        c.live_id.unwrap_or(c.id)
    )
}
