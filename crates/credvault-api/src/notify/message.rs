//! What a notification says (API.md §7): the email's subject and body and the webhook's JSON.
//! Built only from a credential's public fields, so no message can carry a secret.

use credvault_core::expiry::days_left;
use credvault_core::timefmt::{format_millis, Millis};
use credvault_store::Credential;
use serde_json::{json, Value};

/// One reminder of one credential, as every channel tells it.
pub struct Reminder<'a> {
    pub credential: &'a Credential,
    pub team_name: &'a str,
    pub threshold_days: i64,
    /// The `expires_at` this reminder is for.
    pub expires_at: Millis,
    /// The credential's API URL (a test credential's is its live credential's).
    pub api_url: String,
    pub now: Millis,
}

impl Reminder<'_> {
    fn is_test(&self) -> bool {
        self.credential.live_id.is_some()
    }

    /// The API id: a test credential is reached through its live credential.
    fn api_id(&self) -> i64 {
        self.credential.live_id.unwrap_or(self.credential.id)
    }

    /// The name as one line: a subject header cannot hold a line break.
    fn name(&self) -> String {
        self.credential
            .name
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    }

    pub fn subject(&self) -> String {
        let name = self.name();
        if self.threshold_days == 0 {
            format!("Credential \"{name}\" has expired")
        } else {
            let date = &format_millis(self.expires_at)[..10];
            format!("Credential \"{name}\" expires on {date}")
        }
    }

    pub fn body(&self) -> String {
        let c = self.credential;
        let expires = format_millis(self.expires_at);
        let when = if self.threshold_days == 0 {
            "has expired".to_string()
        } else {
            format!("expires on {}", &expires[..10])
        };
        format!(
            "The credential \"{name}\" {when}.\n\n\
             Name: {name}\n\
             Team: {team}\n\
             Mode: {mode}\n\
             Credential: {kind}\n\
             Expires at: {expires} (UTC)\n\
             Days left: {days}\n\
             API: {url}\n\n\
             Renew it before then, or update its expires_at; this message is sent because \
             expiry notifications are enabled for it.\n",
            name = self.name(),
            team = self.team_name,
            mode = c.mode,
            kind = if self.is_test() { "test" } else { "live" },
            days = days_left(self.expires_at, self.now),
            url = self.api_url,
        )
    }

    /// The webhook's JSON body.
    pub fn webhook_body(&self, recipients: &[String]) -> Value {
        let c = self.credential;
        json!({
            "event": if self.threshold_days == 0 {
                "credential.expired"
            } else {
                "credential.expiry_reminder"
            },
            "threshold_days": self.threshold_days,
            "days_left": days_left(self.expires_at, self.now),
            "credential": {
                "id": self.api_id(),
                "name": c.name,
                "slug": c.slug,
                "team_id": c.team_id,
                "mode": c.mode.as_str(),
                "expires_at": format_millis(self.expires_at),
                "is_test": self.is_test(),
            },
            "recipients": recipients,
            "sent_at": format_millis(self.now),
        })
    }
}
