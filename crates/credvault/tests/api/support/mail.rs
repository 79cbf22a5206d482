//! A real SMTP relay for tests of email notifications: `tests/smtp_sink.py` (aiosmtpd, in
//! [`test_python`]) on a loopback port. It takes any AUTH without TLS, and each message it
//! receives is read back decoded, as a [`Mail`].

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use super::test_python;

/// How long the sink may take to listen, and a test to see the messages it waits for.
const DEADLINE: Duration = Duration::from_secs(30);

/// One message as the sink received and decoded it.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope: `MAIL FROM` and every `RCPT TO`.
    pub from: String,
    pub to: Vec<String>,
    /// RFC 2047 encoded words decoded.
    pub subject: String,
    /// The text part (or else the HTML part), transfer encoding and charset decoded; lines end
    /// in `\n`.
    pub body: String,
    /// Every header, decoded, in the message's order (a repeated name keeps its last value).
    pub headers: Vec<(String, String)>,
    /// The whole message as it came over the wire.
    pub raw: String,
    /// The user and password of the session's AUTH; `None` without AUTH.
    pub auth: Option<(String, String)>,
}

impl Mail {
    /// The value of header `name`, in any letter case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// One line of the sink's output file.
    fn from_json(line: &str) -> Mail {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let text = |key: &str| v[key].as_str().unwrap_or_default().to_string();
        let strings = |v: &Value| -> Vec<String> {
            let list = v.as_array().map(Vec::as_slice).unwrap_or_default();
            list.iter()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect()
        };
        let auth = strings(&v["auth"]);
        Mail {
            from: text("mail_from"),
            to: strings(&v["rcpt_tos"]),
            subject: text("subject"),
            body: text("body"),
            headers: v["headers"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(n, v)| (n.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect(),
            raw: text("raw"),
            auth: (auth.len() == 2).then(|| (auth[0].clone(), auth[1].clone())),
        }
    }
}

/// The sink's process; it is killed when this is dropped.
pub struct MailSink {
    child: Child,
    port: u16,
    /// Holds the port file, the output file (`mail.jsonl`), its `.stall` switch and the
    /// sink's stderr.
    dir: TempDir,
}

impl MailSink {
    /// A sink on any free port.
    pub fn start() -> MailSink {
        MailSink::start_on(0)
    }

    /// A sink on `port`: to bring back a relay that was down, on the port the server was
    /// given. Returns once the port accepts connections; panics with the sink's stderr if it
    /// exits first (the port is taken, say) or takes longer than 30 s.
    pub fn start_on(port: u16) -> MailSink {
        let dir = TempDir::new().unwrap();
        let port_file = dir.path().join("port");
        let stderr = File::create(dir.path().join("stderr")).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let child = Command::new(test_python())
            .arg(script)
            .arg(port.to_string())
            .arg(&port_file)
            .arg(dir.path().join("mail.jsonl"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("cannot run smtp_sink.py");
        let mut sink = MailSink {
            child,
            port: 0,
            dir,
        };
        let deadline = Instant::now() + DEADLINE;
        loop {
            let listening = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|text| text.trim().parse().ok())
                .filter(|&port| {
                    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
                    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
                });
            if let Some(port) = listening {
                sink.port = port;
                return sink;
            }
            if let Some(status) = sink.child.try_wait().unwrap() {
                panic!("smtp_sink.py exited ({status}):\n{}", sink.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "smtp_sink.py not listening on port {port} after {DEADLINE:?}:\n{}",
                sink.stderr()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// For `--smtp-url`: plain SMTP, no credentials (add them as `user:pass@` to test AUTH).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, in the order they arrived.
    pub fn messages(&self) -> Vec<Mail> {
        let text = std::fs::read_to_string(self.out()).unwrap_or_default();
        // Only whole lines: the sink writes each with its newline.
        text.split_inclusive('\n')
            .filter(|line| line.ends_with('\n'))
            .map(Mail::from_json)
            .collect()
    }

    /// Waits until at least `n` messages have arrived and returns them all; panics, listing
    /// what did arrive, after 30 s.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let mail = self.messages();
            if mail.len() >= n {
                return mail;
            }
            assert!(
                Instant::now() < deadline,
                "waited {DEADLINE:?} for {n} messages, got {}: {:#?}",
                mail.len(),
                mail.iter()
                    .map(|m| format!("{:?} -> {:?}: {}", m.from, m.to, m.subject))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// While on, the sink leaves each DATA unanswered, recording nothing: a relay that took the
    /// message but had not confirmed it when the sender died. Turned off, a DATA still waiting
    /// is refused with 451 (and not recorded); later ones are taken again.
    pub fn stall(&self, on: bool) {
        let switch = self.dir.path().join("mail.jsonl.stall");
        if on {
            std::fs::write(switch, b"").unwrap();
        } else {
            let _ = std::fs::remove_file(switch);
        }
    }

    /// Waits (30 s at most) until a DATA is held by [`MailSink::stall`] (`holding`), or until
    /// none is (its sender went away, or the stall was lifted).
    pub async fn wait_until_holding(&self, holding: bool) {
        let marker = self.dir.path().join("mail.jsonl.holding");
        let deadline = Instant::now() + DEADLINE;
        while marker.exists() != holding {
            assert!(
                Instant::now() < deadline,
                "the sink was not holding={holding} within {DEADLINE:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("mail.jsonl")
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port with nothing listening on it (until someone else takes it): for a relay or
/// a webhook that is down.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}
