//! The notification sinks on their own, without a server: the SMTP relay decodes what a mailer
//! sends, stalls and comes back on its port when told; the webhook receiver records each POST
//! and answers as told. So that a failing notification test points at the server, not at them.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine;
use serde_json::json;

use crate::support::*;

/// An SMTP session over a plain socket, one command and its reply at a time.
struct Smtp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Smtp {
    fn connect(port: u16) -> Smtp {
        let writer = TcpStream::connect(("127.0.0.1", port)).unwrap();
        writer
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut smtp = Smtp {
            reader: BufReader::new(writer.try_clone().unwrap()),
            writer,
        };
        assert!(smtp.reply().starts_with("220"));
        smtp
    }

    /// The last line of the next reply (multi-line replies are `250-…` until `250 …`).
    fn reply(&mut self) -> String {
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            if line.as_bytes().get(3) != Some(&b'-') {
                return line;
            }
        }
    }

    /// Sends `command` and asserts that the reply has code `code`.
    fn send(&mut self, command: &str, code: &str) {
        write!(self.writer, "{command}\r\n").unwrap();
        let reply = self.reply();
        assert!(reply.starts_with(code), "{command}: {reply}");
    }

    /// EHLO (and AUTH PLAIN when given), the envelope, and DATA up to its 354.
    fn start_message(&mut self, auth: Option<(&str, &str)>, to: &[&str]) {
        self.send("EHLO test.example", "250");
        if let Some((user, pass)) = auth {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"));
            self.send(&format!("AUTH PLAIN {token}"), "235");
        }
        self.send("MAIL FROM:<credvault@test.example>", "250");
        for rcpt in to {
            self.send(&format!("RCPT TO:<{rcpt}>"), "250");
        }
        self.send("DATA", "354");
    }
}

/// A message as a mailer writes it: the subject in RFC 2047 encoded words.
const MESSAGE: &str = "From: credvault@test.example\r\n\
    To: ada@example.com, bob@example.com\r\n\
    Subject: =?utf-8?q?Credential_=22Signing_key=22_expires_on_2030-01-01_=E2=9C=93?=\r\n\
    Content-Type: text/plain; charset=utf-8\r\n\
    \r\n\
    Signing key expires in 7 days.\r\n\
    .\r\n";

#[tokio::test]
async fn mail_sink_records_a_message_decoded() {
    let sink = MailSink::start();
    let mut smtp = Smtp::connect(sink.port());
    smtp.start_message(
        Some(("user", "pass")),
        &["ada@example.com", "bob@example.com"],
    );
    write!(smtp.writer, "{MESSAGE}").unwrap();
    assert!(smtp.reply().starts_with("250"));
    smtp.send("QUIT", "221");

    let mail = sink.wait_for(1).await;
    assert_eq!(mail.len(), 1);
    let mail = &mail[0];
    assert_eq!(
        mail.subject,
        "Credential \"Signing key\" expires on 2030-01-01 ✓"
    );
    assert_eq!(mail.body, "Signing key expires in 7 days.\n");
    assert_eq!(mail.from, "credvault@test.example");
    assert_eq!(mail.to, ["ada@example.com", "bob@example.com"]);
    assert_eq!(mail.auth, Some(("user".into(), "pass".into())));
    assert_eq!(mail.header("to"), Some("ada@example.com, bob@example.com"));
    assert!(mail.raw.contains("=?utf-8?q?Credential"), "{}", mail.raw);
}

/// A stalled DATA gets no answer; released, it gets 451 and nothing is recorded. A sink that
/// is dropped leaves its port dead, and comes back on it.
#[tokio::test]
async fn mail_sink_stalls_and_comes_back_on_its_port() {
    let sink = MailSink::start();
    sink.stall(true);
    let mut smtp = Smtp::connect(sink.port());
    smtp.start_message(None, &["ada@example.com"]);
    write!(smtp.writer, "{MESSAGE}").unwrap();
    smtp.writer
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut line = String::new();
    let err = smtp.reader.read_line(&mut line).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}: {line}"
    );
    smtp.writer
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    sink.stall(false);
    assert!(smtp.reply().starts_with("451"));
    assert!(sink.messages().is_empty());

    let port = sink.port();
    drop(sink);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    let sink = MailSink::start_on(port);
    assert_eq!(sink.url(), format!("smtp://127.0.0.1:{port}"));
    let mut smtp = Smtp::connect(port);
    smtp.start_message(None, &["ada@example.com"]);
    write!(smtp.writer, "{MESSAGE}").unwrap();
    assert!(smtp.reply().starts_with("250"));
    let mail = sink.wait_for(1).await;
    assert_eq!((mail.len(), &mail[0].auth), (1, &None));
}

#[tokio::test]
async fn webhook_receiver_records_posts_and_answers_as_told() {
    let hook = WebhookReceiver::start();
    let http = reqwest::Client::new();
    let post = |n: u32| {
        http.post(hook.url())
            .header("X-Credvault-Signature", format!("sha256={n}"))
            .json(&json!({"event": "credential.expired", "n": n}))
            .send()
    };
    assert_eq!(post(1).await.unwrap().status(), 204);
    hook.answer_with(503);
    assert_eq!(post(2).await.unwrap().status(), 503);

    let calls = hook.calls();
    let statuses: Vec<u16> = calls.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [204, 503]);
    assert_eq!(calls[1].json["n"], 2);
    assert_eq!(calls[1].header("x-credvault-signature"), Some("sha256=2"));
    assert_eq!(calls[1].header("Content-Type"), Some("application/json"));
    let delivered = hook.wait_for(1).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].json["event"], "credential.expired");

    let url = hook.url();
    drop(hook);
    assert!(http.post(url).send().await.is_err());
}
