//! The public side of every asymmetric JWT credential (API.md §6): its JWKS and its OpenID
//! discovery document, without an API key, so that API gateways, cloud workload identity and
//! Kubernetes can verify credvault's tokens. The issuer id in the path is the only secret-ish
//! part: 128 random bits that the credential's readers see as `issuer_url`.

use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use credvault_core::crypto::is_uid;
use credvault_core::model::Mode;
use credvault_store::Credential;
use serde_json::{json, Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::mint::keys::{jwk_set, prepared_key, published_jwk};
use crate::{issuer_url, AppState};

/// How long verifiers may keep an answer: short, so that a rotation or delete reaches them
/// soon (retired keys stay published longer than this, API.md §6).
const CACHE_CONTROL_VALUE: &str = "public, max-age=60";

/// `GET /issuers/{issuer}/jwks.json`: the same keys as `…/user_credentials/{id}/jwks`.
pub async fn jwks(
    State(state): State<AppState>,
    Path(issuer): Path<String>,
) -> ApiResult<Response> {
    let row = issuer_credential(&state, &issuer).await?;
    let set = jwk_set(&state, &row)
        .await?
        .ok_or_else(|| ApiError::not_found("no such issuer"))?;
    Ok(public(set))
}

/// `GET /issuers/{issuer}/.well-known/openid-configuration`: what OpenID Connect discovery
/// clients (AWS STS, Kubernetes, gateways) read to find the keys.
pub async fn discovery(
    State(state): State<AppState>,
    Path(issuer): Path<String>,
) -> ApiResult<Response> {
    let (payload_claims, jwk) = published(&state, &issuer).await?;
    let issuer_url = issuer_url(&state.public_url, &issuer);
    let mut claims: Vec<String> = payload_claims;
    for standard in ["iat", "exp", "iss"] {
        if !claims.iter().any(|c| c == standard) {
            claims.push(standard.to_string());
        }
    }
    Ok(public(json!({
        "issuer": issuer_url,
        "jwks_uri": format!("{issuer_url}/jwks.json"),
        "id_token_signing_alg_values_supported": [jwk["alg"]],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "claims_supported": claims,
    })))
}

/// The claim names of the live asymmetric credential published under `issuer`, and its
/// public JWK. Anything else (unknown id, deleted, HS*, not JWT) is a 404.
async fn published(state: &AppState, issuer: &str) -> ApiResult<(Vec<String>, Map<String, Value>)> {
    let not_found = || ApiError::not_found("no such issuer");
    let row = issuer_credential(state, issuer).await?;
    let prepared = prepared_key(state, &row).await?;
    let jwk = published_jwk(&prepared).ok_or_else(not_found)?;
    let claims = prepared.settings.payload.keys().cloned().collect();
    Ok((claims, jwk))
}

/// The live JWT credential published under `issuer`; 404 for anything else.
async fn issuer_credential(state: &AppState, issuer: &str) -> ApiResult<Credential> {
    // Anything but a uid names no issuer, and never reaches the database (PostgreSQL refuses
    // text holding NUL, which would read as an outage).
    if !is_uid(issuer) {
        return Err(ApiError::not_found("no such issuer"));
    }
    state
        .store
        .get_credential_by_issuer(issuer)
        .await?
        .filter(|row| row.mode == Mode::Jwt)
        .ok_or_else(|| ApiError::not_found("no such issuer"))
}

fn public(body: Value) -> Response {
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL_VALUE));
    response
}
