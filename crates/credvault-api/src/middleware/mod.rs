//! Layers every `/api/v1` request passes through before its handler: the rate limit
//! (`ratelimit`), then request counting and latency (`metrics`, which also serves
//! `/metrics`).

pub mod metrics;
pub mod ratelimit;
