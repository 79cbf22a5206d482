//! The OpenAPI 3.1 document of the API, served at `/api/v1/openapi.json`. It is written by
//! hand in `openapi.json` beside this file; the tests below fail when it and the router
//! disagree about which routes and methods exist.

use std::sync::OnceLock;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::AppState;

const DOCUMENT: &str = include_str!("openapi.json");

fn parsed() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(DOCUMENT).expect("openapi.json is valid JSON"))
}

/// The document, with this deployment's public URL as its server.
pub async fn document(State(state): State<AppState>) -> Json<Value> {
    let mut doc = parsed().clone();
    doc["servers"] = json!([{ "url": state.public_url.as_ref() }]);
    Json(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documented() -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (path, item) in parsed()["paths"].as_object().expect("paths") {
            for method in item.as_object().unwrap().keys() {
                if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                    out.push((path.clone(), method.to_uppercase()));
                }
            }
        }
        out.sort();
        out
    }

    fn routed() -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = crate::route_table()
            .into_iter()
            .flat_map(|(path, methods)| methods.iter().map(move |m| (path.clone(), m.to_string())))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn every_route_is_documented() {
        let documented = documented();
        let missing: Vec<_> = routed()
            .into_iter()
            .filter(|r| !documented.contains(r))
            .collect();
        assert!(
            missing.is_empty(),
            "routes missing from openapi.json: {missing:?}"
        );
    }

    #[test]
    fn every_documented_operation_is_routed() {
        let routed = routed();
        let extra: Vec<_> = documented()
            .into_iter()
            .filter(|r| !routed.contains(r))
            .collect();
        assert!(
            extra.is_empty(),
            "openapi.json documents routes that do not exist: {extra:?}"
        );
    }

    #[test]
    fn document_is_openapi_3_1() {
        assert_eq!(parsed()["openapi"], "3.1.0");
    }
}
