//! End-to-end tests: the real binary, a real database (SQLite, or PostgreSQL when run by
//! `scripts/test`), real HTTP. One test binary, many
//! modules, so that it links once.

#[allow(dead_code)]
mod support;

mod auth;
mod concurrency;
mod create_jwt;
mod hardening;
mod keys;
mod lifecycle;
mod lifecycle_crud;
mod limits;
mod matrix;
mod mint;
mod openapi;
mod rules;
mod scale;
mod secrets;
mod sockets;
mod tenant;
