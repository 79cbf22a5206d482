//! Using a JWT credential (API.md §5): the way of a mint from request to signature.
//!
//! `handler` takes the request ([`crate::extract::auth::MintCaller`] has already read the
//! caller and the credential in one query), `policy` decides whether this caller may mint
//! here and now (roles, allowed hosts, expiry), `keys` finds the parsed key in the key cache
//! or loads it, `caches` holds parsed keys and reusable tokens, and `usage` records
//! `last_used_at` in the background.

pub mod caches;
pub mod handler;
pub mod keys;
pub mod policy;
pub mod usage;
