//! credvault's domain: everything that decides what a credential is and how its secrets are
//! handled, with no I/O, no async and no HTTP, so that all of it is unit-testable.

#![forbid(unsafe_code)]

pub mod audit;
pub mod crypto;
pub mod expiry;
pub mod hosts;
pub mod jwt;
pub mod keys;
pub mod limits;
pub mod model;
pub mod slug;
pub mod timefmt;
