//! The web console (API.md §11): a handful of static files compiled into the binary and served
//! with a strict Content-Security-Policy. The pages are plain ES modules that talk to the JSON
//! API like any other client; the server knows nothing of them beyond handing out the files.
//!
//! Every page path of the console answers with the same shell (`index.html`), so a page such
//! as `/credentials/7` can be reloaded or bookmarked; the shell's script reads the path.

use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;
use crate::AppState;

/// Scripts and styles come only from this origin, nothing is inline, nothing may frame the
/// console, and the pages may only talk to their own origin.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

/// A file of the console: its name under `/console/`, its media type and its bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_bytes!(concat!("../console/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

const ASSETS: &[Asset] = &[
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("format.js", JS),
    asset!("credential_form.js", JS),
    asset!("pages/sign_in.js", JS),
    asset!("pages/credentials.js", JS),
    asset!("pages/credential.js", JS),
    asset!("pages/edit.js", JS),
    asset!("pages/admin.js", JS),
    asset!("style.css", CSS),
    asset!("icon.svg", "image/svg+xml"),
];

const SHELL: &[u8] = include_bytes!("../console/index.html");

/// The paths that show a page of the console (the shell), as the router spells them.
pub const PAGES: &[&str] = &[
    "/",
    "/credentials",
    "/credentials/new",
    "/credentials/{id}",
    "/credentials/{id}/edit",
    "/users",
    "/teams",
    "/audit_logs",
];

/// The console's routes: its pages and its files.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for page in PAGES {
        router = router.route(page, get(shell));
    }
    router.route("/console/{*file}", get(file))
}

async fn shell() -> Response {
    respond("text/html; charset=utf-8", SHELL)
}

async fn file(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|asset| asset.name == name) {
        Some(asset) => respond(asset.content_type, asset.body),
        None => ApiError::not_found(format!("no console file {name}")).into_response(),
    }
}

fn respond(content_type: &'static str, body: &'static [u8]) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The files' names do not change with their content, so the browser asks each time
    // (they are small, and an upgraded server must never run with last version's scripts).
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_scripts_import_is_served() {
        for asset in ASSETS.iter().filter(|a| a.content_type == JS) {
            let text = std::str::from_utf8(asset.body).unwrap();
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let target = line.split(['"', '\'']).nth(1).unwrap();
                let resolved = resolve(asset.name, target);
                assert!(
                    ASSETS.iter().any(|a| a.name == resolved),
                    "{} imports {target}, which is not served",
                    asset.name
                );
            }
        }
    }

    /// The CSP forbids inline script and eval; the scripts also never build HTML from text
    /// (where API data could become markup) and never keep anything in localStorage.
    #[test]
    fn no_script_builds_html_from_text_evaluates_code_or_uses_local_storage() {
        let banned = [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            "localStorage.setItem",
            "setTimeout(\"",
        ];
        for asset in ASSETS.iter().filter(|a| a.content_type == JS) {
            let text = std::str::from_utf8(asset.body).unwrap();
            for word in banned {
                assert!(!text.contains(word), "{} uses {word}", asset.name);
            }
        }
    }

    /// The audit log page offers every operation name the log records, spelled alike.
    #[test]
    fn the_audit_page_offers_every_operation_name() {
        let admin = ASSETS.iter().find(|a| a.name == "pages/admin.js").unwrap();
        let text = std::str::from_utf8(admin.body).unwrap();
        for name in crate::audit::op::ALL {
            assert!(
                text.contains(&format!("\"{name}\"")),
                "pages/admin.js lacks {name}"
            );
        }
    }

    /// `target` as imported from `from`, both under `/console/`.
    fn resolve(from: &str, target: &str) -> String {
        let mut parts: Vec<&str> = from.split('/').collect();
        parts.pop();
        for segment in target.split('/') {
            match segment {
                "." => {}
                ".." => {
                    parts.pop();
                }
                other => parts.push(other),
            }
        }
        parts.join("/")
    }
}
