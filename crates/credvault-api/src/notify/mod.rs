//! Expiry notifications (API.md §7). Every instance runs the same loop: each tick first
//! *plans* (credentials whose `notify_at` has come get the outbox rows of their nearest due
//! reminder, and `notify_at` moves to the next one), then *delivers* (pending rows are claimed
//! one by one with a lease, sent, and marked). The outbox's unique key makes each message
//! exist once however many instances plan it; the claim makes one instance send it; a claim
//! left by a killed process expires and the row is sent by the next tick that finds it.
//! Time comes in as a parameter (`tick(state, now)`), so tests can walk a credential through
//! its thirty days in a moment.

use std::time::Duration;

use credvault_core::expiry::{retry_delay, sequence_start};
use credvault_core::model::Channel;
use credvault_core::timefmt::{now_millis, Millis};
use credvault_store::Credential;

use crate::error::ApiResult;
use crate::AppState;

pub mod channels;
mod deliver;
pub mod message;
mod plan;

pub use channels::ConfigError;
use channels::{Mailer, Webhook};

/// How notifications leave this instance; every instance sharing a database should have the
/// same.
#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    /// `smtp://…` or `smtps://…`, user and password in the URL.
    pub smtp_url: Option<String>,
    pub smtp_from: String,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    /// How long a sender holds a message it is sending; a killed sender's message is sent
    /// again by another once this has passed.
    pub lease: Duration,
}

/// The longest a single delivery may take; shorter when the lease is short, so that a
/// delivery always ends before its claim does.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The configured channels and the lease: everything a tick needs besides the state.
pub struct Notifier {
    mailer: Option<Mailer>,
    webhook: Option<Webhook>,
    lease: Duration,
}

/// What one tick did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tick {
    /// Credentials whose due reminder was planned.
    pub planned: usize,
    pub sent: usize,
    /// Attempts that failed (to be retried, or given up).
    pub failed: usize,
    pub cancelled: usize,
    /// The earliest retry this tick scheduled, if any.
    pub next_retry_at: Option<Millis>,
}

impl Notifier {
    pub fn new(config: &NotifyConfig) -> Result<Notifier, ConfigError> {
        let timeout = SEND_TIMEOUT.min(config.lease / 2);
        let mailer = config
            .smtp_url
            .as_deref()
            .map(|url| Mailer::new(url, &config.smtp_from, timeout))
            .transpose()?;
        let webhook = config
            .webhook_url
            .as_deref()
            .map(|url| Webhook::new(url, config.webhook_secret.as_deref(), timeout))
            .transpose()?;
        Ok(Notifier {
            mailer,
            webhook,
            lease: config.lease,
        })
    }

    /// The channels this instance sends on.
    fn channels(&self) -> Vec<Channel> {
        let mut channels = Vec::new();
        if self.mailer.is_some() {
            channels.push(Channel::Email);
        }
        if self.webhook.is_some() {
            channels.push(Channel::Webhook);
        }
        channels
    }

    /// Plans what has fallen due at `now`, then delivers what is pending.
    pub async fn tick(&self, state: &AppState, now: Millis) -> ApiResult<Tick> {
        let mut tick = Tick {
            planned: plan::plan_due(self, state, now).await?,
            ..Tick::default()
        };
        deliver::deliver_pending(self, state, now, &mut tick).await?;
        Ok(tick)
    }

    /// Runs a tick every `every` until the process ends; sooner when a retry is due sooner.
    pub fn start(self, state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
        if self.mailer.is_none() && self.webhook.is_none() {
            tracing::warn!(
                "expiry notifications will not be sent: neither --smtp-url nor \
                 --notify-webhook-url is set; reminders are recorded and listed at \
                 GET /api/v1/user_credentials/{{id}}/notifications"
            );
        }
        tokio::spawn(async move {
            loop {
                let now = now_millis();
                let wait = match self.tick(&state, now).await {
                    Ok(tick) => {
                        if tick != Tick::default() {
                            tracing::info!(?tick, "expiry notifications");
                        }
                        until_next(now, every, tick.next_retry_at)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e.chain(), "expiry notification tick failed");
                        every
                    }
                };
                tokio::time::sleep(wait).await;
            }
        })
    }
}

/// The wait before the next tick: the interval, or less when a retry is due earlier.
fn until_next(now: Millis, every: Duration, next_retry_at: Option<Millis>) -> Duration {
    let retry = next_retry_at.map_or(every, |at| {
        Duration::from_millis(u64::try_from(at.saturating_sub(now)).unwrap_or(0))
    });
    every.min(retry).max(Duration::from_millis(500))
}

/// When a retry after the `attempts`-th failed delivery at `now` is due.
fn retry_at(now: Millis, attempts: i64) -> Millis {
    now.saturating_add(retry_delay(attempts))
}

/// Sets `next.notify_at` for an update that makes `next` from `before`: a new `expires_at`, or
/// notifications turned on, starts the sequence over; turned off, or no date, ends it;
/// anything else leaves it where it is. (A new row starts at [`first_look`].)
pub fn schedule(before: &Credential, next: &mut Credential) {
    if expiry_changed(before, next) {
        next.notify_at = first_look(next.expires_at, next.expiry_notifications_enabled);
    }
}

/// When the scheduler first looks at a credential with these settings.
pub fn first_look(expires_at: Option<Millis>, enabled: bool) -> Option<Millis> {
    expires_at.filter(|_| enabled).map(sequence_start)
}

fn expiry_changed(before: &Credential, after: &Credential) -> bool {
    (before.expires_at, before.expiry_notifications_enabled)
        != (after.expires_at, after.expiry_notifications_enabled)
}

/// After a write from `before` to `after`: cancels the pending messages it made pointless
/// (all of them when notifications were turned off or the date removed; those for other
/// dates when the date changed).
pub async fn cancel_stale(
    state: &AppState,
    before: &Credential,
    after: &Credential,
) -> ApiResult<()> {
    if !expiry_changed(before, after) {
        return Ok(());
    }
    let keep = after
        .expires_at
        .filter(|_| after.expiry_notifications_enabled);
    let reason = if keep.is_some() {
        "expires_at changed"
    } else {
        "expiry notifications were turned off"
    };
    state
        .store
        .cancel_notifications(after.id, keep, reason)
        .await?;
    Ok(())
}

/// Who a credential's notifications are for: its recipients, or its owner when it has none.
fn wanted_recipients(c: &Credential) -> Vec<i64> {
    if c.notification_recipient_ids.is_empty() {
        vec![c.owner_id]
    } else {
        c.notification_recipient_ids.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loop_wakes_for_a_retry_sooner_than_the_interval() {
        let minute = Duration::from_mins(1);
        assert_eq!(until_next(1_000, minute, None), minute);
        assert_eq!(
            until_next(1_000, minute, Some(6_000)),
            Duration::from_secs(5)
        );
        assert_eq!(
            until_next(1_000, minute, Some(0)),
            Duration::from_millis(500)
        );
        assert_eq!(until_next(1_000, minute, Some(1_000_000)), minute);
    }

    #[test]
    fn only_enabled_credentials_with_a_date_are_looked_at() {
        assert_eq!(
            first_look(Some(40 * 86_400_000), true),
            Some(10 * 86_400_000)
        );
        assert_eq!(first_look(Some(40 * 86_400_000), false), None);
        assert_eq!(first_look(None, true), None);
    }
}
