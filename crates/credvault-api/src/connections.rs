//! The HTTP/1.1 connection loop (API.md §12): every connection has a deadline, and the number
//! of connections has a cap, so that slow or idle clients cannot hold the server's sockets.
//!
//! - A request's headers must arrive within `header_timeout` of its first byte (or of the
//!   connection's start).
//! - A request body must arrive within `body_timeout`; the JSON extractors apply it, reading
//!   [`BodyTimeout`] from the request (408 when it passes).
//! - A keep-alive connection with no request in progress closes after `idle_timeout`; so does
//!   one whose client stops reading the response.
//! - Past `max_connections`, new connections are accepted and closed at once: the server keeps
//!   answering those it has and never runs out of file descriptors.
//!
//! hyper's own header timer also runs while a keep-alive connection is idle, which would make
//! the two timeouts one; a watchdog per connection keeps them apart.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// How long a request body may take to arrive; a request extension set for every request.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// Serves `app` on `listener` until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop, stopping) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut warned_at: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors or similar: wait a moment rather than spin.
                warn_now_and_then(
                    &mut warned_at,
                    || tracing::warn!(error = %e, "cannot accept a connection"),
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            warn_now_and_then(&mut warned_at, || {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection limit reached; refusing new connections"
                );
            });
            drop(stream);
            continue;
        };
        let app = app.clone();
        let stopping = stopping.clone();
        connections.spawn(async move {
            serve_connection(stream, peer, app, limits, stopping).await;
            drop(slot);
        });
    }
    let _ = stop.send(true);
    while connections.join_next().await.is_some() {}
}

/// Logs at most once every 10 s, so a flood does not become a flood of log lines.
fn warn_now_and_then(last: &mut Option<Instant>, warn: impl FnOnce()) {
    let now = Instant::now();
    if last.is_none_or(|at| now.duration_since(at) >= Duration::from_secs(10)) {
        *last = Some(now);
        warn();
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
    mut stopping: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new(Instant::now()));
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let requests = activity.clone();
    let service = tower::service_fn(move |mut request: axum::http::Request<Incoming>| {
        let in_flight = InFlight::start(requests.clone());
        request.extensions_mut().insert(ConnectInfo(peer));
        request
            .extensions_mut()
            .insert(BodyTimeout(limits.body_timeout));
        let response = app.clone().oneshot(request.map(axum::body::Body::new));
        async move {
            let response = response.await;
            drop(in_flight);
            response
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, TowerToHyperService::new(service));
    tokio::pin!(connection);
    let mut shutting_down = false;
    loop {
        let deadline = activity.deadline(&limits);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            // A request began or ended, or the bytes of a new one arrived: a new deadline.
            () = activity.changed.notified() => {}
            () = tokio::time::sleep_until(deadline) => {
                if Instant::now() >= activity.deadline(&limits) {
                    tracing::debug!(%peer, "closing a connection that missed its deadline");
                    return; // dropping the connection closes the socket
                }
            }
            _ = stopping.changed(), if !shutting_down => {
                shutting_down = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// What a connection is doing, for its deadline.
struct Activity {
    state: Mutex<State>,
    /// Woken when the deadline may have moved.
    changed: tokio::sync::Notify,
}

struct State {
    /// Requests handed to the router and not yet answered.
    in_flight: usize,
    /// When the bytes of the next request began (or the connection started), while its
    /// headers are not complete.
    reading_since: Option<Instant>,
    /// When the connection last became idle.
    idle_since: Instant,
}

impl Activity {
    fn new(now: Instant) -> Activity {
        Activity {
            state: Mutex::new(State {
                in_flight: 0,
                reading_since: Some(now),
                idle_since: now,
            }),
            changed: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// When the connection is to be closed if nothing changes. A request in progress has no
    /// deadline here (its body has its own, and handlers bound their work): it is looked at
    /// again an idle timeout later.
    fn deadline(&self, limits: &ConnectionLimits) -> Instant {
        let state = self.lock();
        match (state.in_flight, state.reading_since) {
            (0, Some(since)) => since + limits.header_timeout,
            (0, None) => state.idle_since + limits.idle_timeout,
            _ => Instant::now() + limits.idle_timeout,
        }
    }

    fn bytes_read(&self) {
        let mut state = self.lock();
        if state.in_flight == 0 && state.reading_since.is_none() {
            state.reading_since = Some(Instant::now());
            self.changed.notify_one();
        }
    }
}

/// One request in progress; ends when dropped (also when the request is cancelled).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> InFlight {
        {
            let mut state = activity.lock();
            state.in_flight += 1;
            state.reading_since = None;
        }
        activity.changed.notify_one();
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.in_flight -= 1;
        if state.in_flight == 0 {
            state.idle_since = Instant::now();
        }
        self.0.changed.notify_one();
    }
}

/// The socket, telling [`Activity`] when bytes arrive.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_read();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The peer address the accept loop recorded for a request (`ConnectInfo`); None for a
/// request that did not come through it (in-process tests).
pub fn peer_ip(extensions: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}
