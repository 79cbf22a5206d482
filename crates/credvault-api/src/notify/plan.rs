//! Planning: turns credentials whose `notify_at` has come into outbox rows for their nearest
//! due reminder, and moves `notify_at` to the next one.

use credvault_core::expiry::{due_at, nearest_passed, next_after, sequence_start, THRESHOLD_DAYS};
use credvault_core::model::Channel;
use credvault_core::timefmt::Millis;
use credvault_store::{Credential, NewNotification, NotificationPlan};

use super::{wanted_recipients, Notifier};
use crate::error::ApiResult;
use crate::AppState;

/// Due credentials read per query.
const BATCH: i64 = 500;
/// At most this many batches per tick, so that a tick ends even if plans keep losing races;
/// what is left waits for the next tick.
const MAX_BATCHES: usize = 100;

/// Why a message is recorded but not sent, shown as its `last_error`.
const NO_CHANNEL: &str =
    "not sent: this server has no mail relay (--smtp-url) or webhook (--notify-webhook-url)";

/// Plans every credential due at `now`; returns how many got a reminder.
pub(super) async fn plan_due(n: &Notifier, state: &AppState, now: Millis) -> ApiResult<usize> {
    let mut planned = 0;
    for _ in 0..MAX_BATCHES {
        let due = state.store.due_notifications(now, BATCH).await?;
        for credential in &due {
            if plan_one(n, state, credential, now).await? {
                planned += 1;
            }
        }
        if due.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            break;
        }
    }
    Ok(planned)
}

/// Plans one credential's nearest due reminder; false when there was none to plan (or
/// another instance planned it first).
async fn plan_one(n: &Notifier, state: &AppState, c: &Credential, now: Millis) -> ApiResult<bool> {
    let Some(seen) = c.notify_at else {
        return Ok(false);
    };
    let Some(expires_at) = c.expires_at.filter(|_| c.expiry_notifications_enabled) else {
        // A row that should not be looked at: stop looking.
        state
            .store
            .plan_notifications(&reschedule(c, seen, None, now))
            .await?;
        return Ok(false);
    };
    let Some(threshold_days) = nearest_passed(expires_at, now) else {
        // Looked at too early (the clock moved back): look again when the first is due.
        let next = Some(sequence_start(expires_at));
        state
            .store
            .plan_notifications(&reschedule(c, seen, next, now))
            .await?;
        return Ok(false);
    };
    let plan = NotificationPlan {
        credential_id: c.id,
        seen_notify_at: seen,
        next_notify_at: next_after(expires_at, threshold_days),
        expires_at,
        threshold_days,
        due_at: due_at(expires_at, threshold_days),
        messages: messages(n, state, c).await?,
        at: now,
    };
    Ok(state.store.plan_notifications(&plan).await?)
}

/// A plan that only moves `notify_at`.
fn reschedule(c: &Credential, seen: Millis, next: Option<Millis>, now: Millis) -> NotificationPlan {
    NotificationPlan {
        credential_id: c.id,
        seen_notify_at: seen,
        next_notify_at: next,
        expires_at: c.expires_at.unwrap_or(0),
        // Above every threshold: supersedes nothing.
        threshold_days: THRESHOLD_DAYS[0] + 1,
        due_at: now,
        messages: Vec::new(),
        at: now,
    }
}

/// One email per recipient who may receive it, and one webhook call, for the channels this
/// instance has; with none, the emails are recorded (and shown) as not sent.
async fn messages(
    n: &Notifier,
    state: &AppState,
    c: &Credential,
) -> ApiResult<Vec<NewNotification>> {
    let channels = n.channels();
    let mut messages = Vec::new();
    if channels.is_empty() || channels.contains(&Channel::Email) {
        let recipients = state
            .store
            .notification_recipients(c.team_id, &wanted_recipients(c))
            .await?;
        let last_error = channels.is_empty().then(|| NO_CHANNEL.to_string());
        messages.extend(recipients.into_iter().map(|r| NewNotification {
            channel: Channel::Email,
            user_id: r.user_id,
            recipient: Some(r.email),
            last_error: last_error.clone(),
        }));
    }
    if channels.contains(&Channel::Webhook) {
        messages.push(NewNotification {
            channel: Channel::Webhook,
            user_id: 0,
            recipient: None,
            last_error: None,
        });
    }
    Ok(messages)
}
