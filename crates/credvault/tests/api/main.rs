//! End-to-end tests: the real binary, a real database (SQLite, or PostgreSQL when run by
//! `scripts/test`), real HTTP. One test binary, many
//! modules, so that it links once.

// Tests do arithmetic on small known values (timestamps, byte counts, metric samples) and
// compare exact floats the server printed; these pedantic lints would only add noise here.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::float_cmp,
    clippy::similar_names,
    clippy::many_single_char_names,
    clippy::items_after_statements,
    clippy::struct_field_names
)]

#[allow(dead_code)]
mod support;

mod audit;
mod auth;
mod backup;
mod cli;
mod concurrency;
mod console;
mod contract;
mod create_jwt;
mod encryption;
mod generated_keys;
mod hardening;
mod issuer;
mod keyring;
mod keys;
mod lifecycle;
mod lifecycle_crud;
mod limits;
mod matrix;
mod mint;
mod notifications;
mod openapi;
mod rotation;
mod rules;
mod scale;
mod scheduled_rotation;
mod secrets;
mod sinks;
mod sockets;
mod tenant;
