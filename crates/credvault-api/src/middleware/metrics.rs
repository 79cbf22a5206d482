//! Prometheus metrics at `/metrics`: requests by route, method and status, a latency histogram
//! by route, and (read from the database at scrape time, so exact across instances) live
//! credentials by mode.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use credvault_core::model::Channel;

use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    mints: Mutex<BTreeMap<(String, &'static str), u64>>,
    notifications: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// [hits, misses]
    key_cache: [AtomicU64; 2],
    token_cache: [AtomicU64; 2],
}

/// How a mint ended, for `credvault_mints_total{outcome}`.
#[derive(Debug, Clone, Copy)]
pub enum MintOutcome {
    Signed,
    Refused,
    Invalid,
    Failed,
}

impl MintOutcome {
    pub fn of<T>(result: &ApiResult<T>) -> MintOutcome {
        match result {
            Ok(_) => MintOutcome::Signed,
            Err(ApiError::Forbidden { .. }) => MintOutcome::Refused,
            Err(ApiError::Internal { .. } | ApiError::Unavailable(_)) => MintOutcome::Failed,
            Err(_) => MintOutcome::Invalid,
        }
    }

    fn label(self) -> &'static str {
        match self {
            MintOutcome::Signed => "signed",
            MintOutcome::Refused => "refused",
            MintOutcome::Invalid => "invalid",
            MintOutcome::Failed => "failed",
        }
    }
}

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    pub fn mint(&self, algorithm: &str, outcome: MintOutcome) {
        *self
            .mints
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((algorithm.to_string(), outcome.label()))
            .or_default() += 1;
    }

    /// A delivery attempt's end, for `credvault_notifications_total{channel,outcome}`:
    /// `sent`, `error` (to be retried), `gave_up` or `cancelled`.
    pub fn notification(&self, channel: Channel, outcome: &'static str) {
        *self
            .notifications
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((channel.as_str(), outcome))
            .or_default() += 1;
    }

    pub fn key_cache(&self, hit: bool) {
        self.key_cache[usize::from(!hit)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn token_cache(&self, hit: bool) {
        self.token_cache[usize::from(!hit)].fetch_add(1, Ordering::Relaxed);
    }

    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((route.to_string(), method.to_string(), status))
            .or_default() += 1;
        let mut latency = self
            .latency
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let h = latency.entry(route.to_string()).or_default();
        for (bound, n) in BUCKETS.iter().zip(h.buckets.iter_mut()) {
            if seconds <= *bound {
                *n += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    fn render(&self, out: &mut String) {
        out.push_str("# HELP credvault_mints_total Token mints by algorithm and outcome.\n");
        out.push_str("# TYPE credvault_mints_total counter\n");
        for ((alg, outcome), n) in self
            .mints
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "credvault_mints_total{{algorithm=\"{alg}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP credvault_notifications_total Expiry notification deliveries by channel and outcome.\n\
             # TYPE credvault_notifications_total counter\n",
        );
        for ((channel, outcome), n) in self
            .notifications
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "credvault_notifications_total{{channel=\"{}\",outcome=\"{outcome}\"}} {n}",
                channel.to_ascii_lowercase()
            );
        }
        for (name, counters) in [("key", &self.key_cache), ("token", &self.token_cache)] {
            let _ = writeln!(
                out,
                "# HELP credvault_{name}_cache_requests_total {name} cache lookups by result.\n\
                 # TYPE credvault_{name}_cache_requests_total counter"
            );
            for (result, n) in ["hit", "miss"].iter().zip(counters.iter()) {
                let _ = writeln!(
                    out,
                    "credvault_{name}_cache_requests_total{{result=\"{result}\"}} {}",
                    n.load(Ordering::Relaxed)
                );
            }
        }
        self.render_http(out);
    }

    fn render_http(&self, out: &mut String) {
        out.push_str(
            "# HELP credvault_http_requests_total HTTP requests by route, method and status.\n",
        );
        out.push_str("# TYPE credvault_http_requests_total counter\n");
        for ((route, method, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "credvault_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
            );
        }
        self.render_latency(out);
    }

    fn render_latency(&self, out: &mut String) {
        out.push_str(
            "# HELP credvault_http_request_duration_seconds HTTP request latency by route.\n",
        );
        out.push_str("# TYPE credvault_http_request_duration_seconds histogram\n");
        for (route, h) in self
            .latency
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            for (bound, n) in BUCKETS.iter().zip(h.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "credvault_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "credvault_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "credvault_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "credvault_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
    }
}

/// Route middleware: the route label is the matched pattern (`/api/v1/user_credentials/{id}`),
/// never the raw path, so ids do not multiply the series.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_string();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.observe(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

pub async fn scrape(State(state): State<AppState>) -> ApiResult<Response> {
    let mut out = String::with_capacity(4096);
    state.metrics.render(&mut out);
    out.push_str("# HELP credvault_cache_bytes Memory accounted to each mint cache.\n");
    out.push_str("# TYPE credvault_cache_bytes gauge\n");
    let _ = writeln!(
        out,
        "credvault_cache_bytes{{cache=\"key\"}} {}",
        state.key_cache.bytes()
    );
    let _ = writeln!(
        out,
        "credvault_cache_bytes{{cache=\"token\"}} {}",
        state.token_cache.bytes()
    );
    out.push_str("# HELP credvault_credentials Live credentials by mode.\n");
    out.push_str("# TYPE credvault_credentials gauge\n");
    for (mode, n) in state.store.count_credentials_by_mode().await? {
        let _ = writeln!(out, "credvault_credentials{{mode=\"{mode}\"}} {n}");
    }
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
        .into_response())
}
