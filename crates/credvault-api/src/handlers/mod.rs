//! One module per resource of the API; each handler takes its extractors, checks what the
//! caller may do, calls the store and renders the answer. Minting lives in [`crate::mint`].

pub mod audit_logs;
pub mod credentials;
pub mod encryption;
pub mod folders;
pub mod health;
pub mod issuers;
pub mod openapi;
pub mod teams;
pub mod users;
