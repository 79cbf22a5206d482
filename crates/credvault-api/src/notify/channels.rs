//! The two ways a notification leaves credvault: an email through an SMTP relay (lettre over
//! rustls) and a signed JSON `POST` to a webhook (API.md §7). Each delivery is bounded by a
//! timeout shorter than the claim it runs under, and a failure comes back as text fit for
//! users and logs: it never holds the relay's password or the webhook's URL.

use std::time::Duration;

use credvault_core::crypto::hmac_sha256_hex;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Why the notification settings cannot start a server. Never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--smtp-url must be smtp://[user:pass@]host[:port][?tls=required|opportunistic] or smtps://…")]
    SmtpUrl,
    #[error("--smtp-from {0:?} is not an email address")]
    SmtpFrom(String),
    #[error("--notify-webhook-url must be an http:// or https:// URL")]
    WebhookUrl,
}

/// Sends email through one relay, reusing its connections.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The URL's password, so that no error text can carry it.
    password: Option<String>,
}

impl Mailer {
    pub fn new(url: &str, from: &str, timeout: Duration) -> Result<Mailer, ConfigError> {
        let parsed = url::Url::parse(url).map_err(|_| ConfigError::SmtpUrl)?;
        if !matches!(parsed.scheme(), "smtp" | "smtps") || parsed.host_str().is_none() {
            return Err(ConfigError::SmtpUrl);
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| ConfigError::SmtpUrl)?
            .timeout(Some(timeout))
            .build();
        let from = from
            .parse()
            .map_err(|_| ConfigError::SmtpFrom(from.to_string()))?;
        let password = parsed.password().map(|p| {
            url::form_urlencoded::parse(format!("p={p}").as_bytes())
                .next()
                .map_or_else(|| p.to_string(), |(_, v)| v.into_owned())
        });
        Ok(Mailer {
            transport,
            from,
            password,
        })
    }

    /// Sends one plain-text email to one recipient.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), String> {
        let to: Mailbox = to
            .parse()
            .map_err(|_| format!("recipient {to:?} is not an email address"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("cannot build the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| scrub(&format!("SMTP: {e}"), self.password.as_deref()))
    }
}

/// Posts notifications to one URL, signed when a secret is set.
pub struct Webhook {
    client: reqwest::Client,
    url: reqwest::Url,
    secret: Option<Vec<u8>>,
}

/// The header that carries the body's signature: `sha256=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "X-Credvault-Signature";

impl Webhook {
    pub fn new(url: &str, secret: Option<&str>, timeout: Duration) -> Result<Webhook, ConfigError> {
        let url = reqwest::Url::parse(url).map_err(|_| ConfigError::WebhookUrl)?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ConfigError::WebhookUrl);
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            // A notification goes where it was configured to go, not where a redirect says.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| ConfigError::WebhookUrl)?;
        Ok(Webhook {
            client,
            url,
            secret: secret.map(|s| s.as_bytes().to_vec()),
        })
    }

    /// Posts `body` (JSON); anything but a 2xx answer is a failure.
    pub async fn send(&self, body: Vec<u8>) -> Result<(), String> {
        let mut request = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(secret) = &self.secret {
            let signature = format!("sha256={}", hmac_sha256_hex(secret, &body));
            request = request.header(SIGNATURE_HEADER, signature);
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| format!("webhook: {}", e.without_url()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("webhook answered {status}"))
        }
    }
}

/// `text` with every occurrence of `secret` masked.
fn scrub(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) if !secret.is_empty() => text.replace(secret, "***"),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    // The relay's connection pool runs on the Tokio runtime.
    #[tokio::test]
    async fn smtp_urls_of_every_documented_form_are_accepted() {
        for url in [
            "smtp://relay.example.com",
            "smtp://user:p%40ss@relay.example.com:2525",
            "smtp://relay.example.com:587?tls=required",
            "smtp://relay.example.com:587?tls=opportunistic",
            "smtps://user:pass@relay.example.com",
        ] {
            assert!(
                Mailer::new(url, "credvault@example.com", SECOND).is_ok(),
                "{url}"
            );
        }
    }

    // The relay's connection pool runs on the Tokio runtime.
    #[tokio::test]
    async fn a_bad_smtp_url_is_refused_without_repeating_it() {
        for url in [
            "http://relay",
            "smtp://",
            "relay.example.com:25",
            "smtp://u:hunter2@",
        ] {
            let error = Mailer::new(url, "credvault@example.com", SECOND)
                .err()
                .unwrap();
            assert!(!error.to_string().contains("hunter2"), "{error}");
            assert!(matches!(error, ConfigError::SmtpUrl), "{url}: {error}");
        }
    }

    // The relay's connection pool runs on the Tokio runtime.
    #[tokio::test]
    async fn the_sender_must_be_an_address() {
        let error = Mailer::new("smtp://relay", "not an address", SECOND)
            .err()
            .unwrap();
        assert!(matches!(error, ConfigError::SmtpFrom(_)));
    }

    // The relay's connection pool runs on the Tokio runtime.
    #[tokio::test]
    async fn the_password_is_masked_in_errors_encoded_or_not() {
        let mailer = Mailer::new("smtp://u:p%40ss@relay", "a@b.c", SECOND).unwrap();
        assert_eq!(mailer.password.as_deref(), Some("p@ss"));
        assert_eq!(scrub("auth p@ss refused", Some("p@ss")), "auth *** refused");
    }

    #[test]
    fn webhook_urls_must_be_http() {
        assert!(Webhook::new("https://hooks.example.com/x", None, SECOND).is_ok());
        assert!(Webhook::new("ftp://hooks.example.com/x", None, SECOND).is_err());
        assert!(Webhook::new("hooks.example.com", None, SECOND).is_err());
    }
}
