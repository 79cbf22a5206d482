//! `GET /user_credentials/{id}/notifications` (API.md §7): the expiry notifications of a
//! credential and of its test credential, planned, sent, failing or cancelled, for whoever may
//! read the credential.

use axum::extract::{Path, State};
use axum::Json;
use credvault_core::timefmt::format_millis;
use credvault_store::Notification;
use serde_json::{json, Value};

use crate::error::ApiResult;
use crate::extract::auth::Caller;
use crate::extract::pagination::{Envelope, ListRequest};
use crate::{path_id, AppState};

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
    list: ListRequest,
) -> ApiResult<Json<Envelope<Value>>> {
    let (view, _) = caller
        .credential(&state, path_id(&raw_id, "credential")?)
        .await?;
    let live_id = view.credential.id;
    let page = state.store.list_notifications(live_id, list.page()).await?;
    Ok(
        list.respond(&state.public_url, "notifications", &page, |n| {
            notification_json(n, live_id)
        }),
    )
}

fn notification_json(n: &Notification, live_id: i64) -> Value {
    json!({
        "id": n.id,
        "threshold_days": n.threshold_days,
        "channel": n.channel.as_str(),
        "recipient": n.recipient,
        "status": n.status.as_str(),
        "attempts": n.attempts,
        "last_error": n.last_error,
        "due_at": format_millis(n.due_at),
        "sent_at": n.sent_at.map(format_millis),
        "expires_at": format_millis(n.expires_at),
        "is_test": n.credential_id != live_id,
        "next_attempt_at": (n.status == credvault_core::model::NotificationStatus::Pending)
            .then(|| format_millis(n.next_attempt_at)),
    })
}
