//! What a handler takes from a request before it runs: who is calling (`auth`), the JSON body
//! (`body`) and the list query (`pagination`). Each rejects a bad request with an [`ApiError`]
//! that names the problem.
//!
//! [`ApiError`]: crate::error::ApiError

pub mod auth;
pub mod body;
pub mod pagination;
