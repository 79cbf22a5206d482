//! Planning: turns credentials whose `notify_at` has come into outbox rows for their nearest
//! due reminder, and moves `notify_at` to the next one. A batch of due credentials is written
//! in one transaction, and recipients are looked up once per team and list within a tick.

use std::collections::HashMap;

use credvault_core::expiry::{due_at, nearest_passed, next_after, sequence_start, THRESHOLD_DAYS};
use credvault_core::model::Channel;
use credvault_core::timefmt::Millis;
use credvault_store::{Credential, NewNotification, NotificationPlan, Recipient};

use super::{wanted_recipients, Notifier};
use crate::error::ApiResult;
use crate::AppState;

/// Due credentials read, and planned in one transaction, at a time.
const BATCH: i64 = 500;
/// At most this many batches per tick, so that a tick ends even if plans keep losing races;
/// what is left waits for the next tick.
const MAX_BATCHES: usize = 100;

/// Why a message is recorded but not sent, shown as its `last_error`.
const NO_CHANNEL: &str =
    "not sent: this server has no mail relay (--smtp-url) or webhook (--notify-webhook-url)";

/// Who may receive notifications of a team's credentials, by (team, wanted users), as looked
/// up during one tick.
type RecipientCache = HashMap<(i64, Vec<i64>), Vec<Recipient>>;

/// Plans every credential due at `now`; returns how many got a reminder.
pub(super) async fn plan_due(n: &Notifier, state: &AppState, now: Millis) -> ApiResult<usize> {
    let mut planned = 0;
    let channels = n.channels();
    let mut recipients = RecipientCache::new();
    for _ in 0..MAX_BATCHES {
        let due = state.store.due_notifications(now, BATCH).await?;
        if due.is_empty() {
            break;
        }
        let mut plans = Vec::with_capacity(due.len());
        for c in &due {
            if let Some(plan) = plan_one(&channels, state, c, now, &mut recipients).await? {
                plans.push(plan);
            }
        }
        let written = state.store.plan_notifications(&plans).await?;
        // Plans that only move `notify_at` are not reminders.
        planned += plans
            .iter()
            .filter(|p| p.threshold_days <= THRESHOLD_DAYS[0])
            .filter(|p| written.contains(&p.credential_id))
            .count();
        if due.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            break;
        }
    }
    Ok(planned)
}

/// The plan for one due credential: its nearest due reminder, or (for a row that should not
/// be looked at now) only a new `notify_at`.
async fn plan_one(
    channels: &[Channel],
    state: &AppState,
    c: &Credential,
    now: Millis,
    recipients: &mut RecipientCache,
) -> ApiResult<Option<NotificationPlan>> {
    let Some(seen) = c.notify_at else {
        return Ok(None);
    };
    let Some(expires_at) = c.expires_at.filter(|_| c.expiry_notifications_enabled) else {
        // A row that should not be looked at: stop looking.
        return Ok(Some(reschedule(c, seen, None, now)));
    };
    let Some(threshold_days) = nearest_passed(expires_at, now) else {
        // Looked at too early (the clock moved back): look again when the first is due.
        let next = Some(sequence_start(expires_at));
        return Ok(Some(reschedule(c, seen, next, now)));
    };
    Ok(Some(NotificationPlan {
        credential_id: c.id,
        seen_notify_at: seen,
        next_notify_at: next_after(expires_at, threshold_days),
        expires_at,
        threshold_days,
        due_at: due_at(expires_at, threshold_days),
        messages: messages(channels, state, c, recipients).await?,
        at: now,
    }))
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
    channels: &[Channel],
    state: &AppState,
    c: &Credential,
    cache: &mut RecipientCache,
) -> ApiResult<Vec<NewNotification>> {
    let mut messages = Vec::new();
    if channels.is_empty() || channels.contains(&Channel::Email) {
        let key = (c.team_id, wanted_recipients(c));
        if !cache.contains_key(&key) {
            let found = state.store.notification_recipients(key.0, &key.1).await?;
            cache.insert(key.clone(), found);
        }
        let last_error = channels.is_empty().then(|| NO_CHANNEL.to_string());
        messages.extend(cache[&key].iter().map(|r| NewNotification {
            channel: Channel::Email,
            user_id: r.user_id,
            recipient: Some(r.email.clone()),
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
