//! Using a JWT credential (API.md §5, with §4.5 `allowed_hosts` and §4.6 test credentials):
//! `POST /user_credentials/{id}/token` and `GET /user_credentials/{id}/jwks`.
//!
//! Every signature is checked with an implementation independent of the server (see
//! `support/jose.rs`): the `jsonwebtoken` crate with the public key taken from `/jwks`, the
//! shared secret for HS*, and the `openssl` command for ES512.

mod access;
mod algorithms;
mod cache;
mod hosts;
mod policies;
