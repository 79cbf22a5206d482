//! A real HTTP receiver for tests of webhook notifications: every `POST /hook` is recorded
//! ([`Hook`]) and answered with the status the test chose (204 unless told otherwise, e.g. 503
//! for an outage).
//!
//! It runs on a thread and runtime of its own, so it keeps answering while the test's
//! (current-thread) runtime is busy, blocked or gone.

use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use tokio::sync::oneshot;

/// How long [`WebhookReceiver::wait_for`] waits.
const DEADLINE: Duration = Duration::from_secs(30);

/// One `POST` as received.
#[derive(Debug, Clone)]
pub struct Hook {
    /// What the receiver answered.
    pub status: u16,
    /// Names in lower case, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body as JSON; `Value::Null` when it is not JSON.
    pub json: Value,
    /// When it arrived: for checking retry delays.
    pub at: Instant,
}

impl Hook {
    /// The first value of header `name`, in any letter case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the receiver's thread and the test share.
struct Shared {
    calls: Mutex<Vec<Hook>>,
    status: AtomicU16,
}

/// The receiver; dropping it stops the server (and closes its connections).
pub struct WebhookReceiver {
    port: u16,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl WebhookReceiver {
    /// A receiver on any free loopback port, listening when this returns.
    pub fn start() -> WebhookReceiver {
        // Bound here, not on the thread: the port is known, and connections are queued, at once.
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            calls: Mutex::default(),
            status: AtomicU16::new(204),
        });
        let app = Router::new()
            .route("/hook", post(record))
            .with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                tokio::select! {
                    served = axum::serve(listener, app) => served.unwrap(),
                    _ = stopped => {}
                }
            });
            // Dropping the runtime here ends the connection tasks too.
        });
        WebhookReceiver {
            port,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// For `--notify-webhook-url`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Every `POST` so far, in order, whatever it was answered.
    pub fn calls(&self) -> Vec<Hook> {
        self.shared.calls.lock().unwrap().clone()
    }

    /// Waits until at least `n` calls have been answered 2xx (delivered) and returns those;
    /// panics, listing every call received, after 30 s.
    pub async fn wait_for(&self, n: usize) -> Vec<Hook> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let calls = self.calls();
            let delivered: Vec<Hook> = calls
                .iter()
                .filter(|hook| (200..300).contains(&hook.status))
                .cloned()
                .collect();
            if delivered.len() >= n {
                return delivered;
            }
            assert!(
                Instant::now() < deadline,
                "waited {DEADLINE:?} for {n} delivered webhook calls, got {}: {:#?}",
                delivered.len(),
                calls
                    .iter()
                    .map(|hook| format!("{} {}", hook.status, String::from_utf8_lossy(&hook.body)))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The status for the calls that follow (204 at the start).
    pub fn answer_with(&self, status: u16) {
        assert!(StatusCode::from_u16(status).is_ok(), "bad status {status}");
        self.shared.status.store(status, Ordering::SeqCst);
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn record(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let status = shared.status.load(Ordering::SeqCst);
    shared.calls.lock().unwrap().push(Hook {
        status,
        headers: headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_string(), value)
            })
            .collect(),
        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
        body: body.to_vec(),
        at: Instant::now(),
    });
    StatusCode::from_u16(status).unwrap()
}
