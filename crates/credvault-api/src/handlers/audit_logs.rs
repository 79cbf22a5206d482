//! `GET /api/v1/audit_logs` (API.md §8): the audit log, newest first, for tenant admins, with
//! Tines' filters `before`, `after`, `user_id[]` and `operation_name[]`.

use axum::extract::State;
use axum::Json;
use credvault_core::timefmt::parse_rfc3339;
use credvault_store::AuditFilter;
use serde_json::Value;

use crate::audit::{entry_json, op};
use crate::error::{ApiError, ApiResult};
use crate::extract::auth::Caller;
use crate::extract::pagination::{Envelope, ListRequest, Query};
use crate::AppState;

/// Most values one list filter takes (API.md §12).
pub const MAX_FILTER_VALUES: usize = 100;

/// Longest operation name a filter takes.
const MAX_OPERATION_CHARS: usize = 100;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    list: ListRequest,
) -> ApiResult<Json<Envelope<Value>>> {
    caller.require_admin("read the audit log")?;
    let filter = filter(&list.query)?;
    let page = state.store.list_audit_logs(&filter, list.page()).await?;
    Ok(list.respond(&state.public_url, "audit_logs", &page, entry_json))
}

fn filter(query: &Query) -> ApiResult<AuditFilter> {
    let mut user_ids = Vec::new();
    for value in values(query, "user_id")? {
        let id = value
            .trim()
            .parse()
            .ok()
            .filter(|id: &i64| *id >= 1)
            .ok_or_else(|| {
                ApiError::invalid(
                    "user_id",
                    "user_id[] must be integers of at least 1 (user ids)",
                )
            })?;
        user_ids.push(id);
    }
    let mut operation_names = Vec::new();
    for value in values(query, "operation_name")? {
        if value.is_empty() {
            return Err(ApiError::invalid(
                "operation_name",
                "operation_name[] values must not be empty",
            ));
        }
        if value.chars().count() > MAX_OPERATION_CHARS {
            return Err(ApiError::invalid(
                "operation_name",
                format!("operation_name[] values must be at most {MAX_OPERATION_CHARS} characters"),
            ));
        }
        let name = op::ALIASES
            .iter()
            .find(|(alias, _)| *alias == value)
            .map_or(value, |(_, name)| *name);
        operation_names.push(name.to_string());
    }
    Ok(AuditFilter {
        before: time(query, "before")?,
        after: time(query, "after")?,
        user_ids,
        operation_names,
    })
}

/// The values of a list parameter, at most [`MAX_FILTER_VALUES`].
fn values<'q>(query: &'q Query, name: &'static str) -> ApiResult<Vec<&'q str>> {
    let found: Vec<&str> = query.all(name).collect();
    if found.len() > MAX_FILTER_VALUES {
        return Err(ApiError::invalid(
            name,
            format!("{name}[] takes at most {MAX_FILTER_VALUES} values"),
        ));
    }
    Ok(found)
}

fn time(query: &Query, name: &'static str) -> ApiResult<Option<i64>> {
    match query.get(name) {
        None => Ok(None),
        Some(text) => parse_rfc3339(text).map(Some).ok_or_else(|| {
            ApiError::invalid(
                name,
                format!("{name} must be an RFC 3339 time such as 2026-01-31T12:00:00Z"),
            )
        }),
    }
}
