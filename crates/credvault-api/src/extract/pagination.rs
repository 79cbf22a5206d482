//! Tines-style pagination: `page` (1-based) and `per_page` (default 20, clamped to 500), and the
//! `meta` object with links built from the public URL and the request's own query parameters.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_PER_PAGE: i64 = 20;
pub const MAX_PER_PAGE: i64 = 500;

/// The parsed query string, in request order.
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> ApiResult<Query> {
        let raw = raw.unwrap_or("");
        serde_urlencoded::from_str(raw)
            .map(Query)
            .map_err(|_| ApiError::BadRequest("the query string is malformed".into()))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// An optional integer parameter; anything else is a 422 naming it.
    pub fn int(&self, name: &'static str) -> ApiResult<Option<i64>> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ApiError::invalid(name, format!("{name} must be an integer"))),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PageParams {
    pub page: i64,
    pub per_page: i64,
}

impl PageParams {
    pub fn from_query(query: &Query) -> ApiResult<PageParams> {
        let page = query.int("page")?.unwrap_or(1);
        if page < 1 {
            return Err(ApiError::invalid("page", "page must be 1 or greater"));
        }
        // A run of digits too long for an integer is still "more than the maximum".
        let huge = query
            .get("per_page")
            .map(str::trim)
            .is_some_and(|v| v.len() > 18 && v.bytes().all(|b| b.is_ascii_digit()));
        let per_page = if huge {
            MAX_PER_PAGE
        } else {
            query.int("per_page")?.unwrap_or(DEFAULT_PER_PAGE)
        };
        if per_page < 1 {
            return Err(ApiError::invalid(
                "per_page",
                "per_page must be 1 or greater",
            ));
        }
        Ok(PageParams {
            page,
            per_page: per_page.min(MAX_PER_PAGE),
        })
    }

    pub fn store_request(self) -> credvault_store::PageRequest {
        credvault_store::PageRequest {
            offset: (self.page - 1).saturating_mul(self.per_page),
            limit: self.per_page,
        }
    }
}

/// A list request: the path, the query and the page it asks for. Handlers fetch the page from
/// the store and answer with [`ListRequest::respond`].
pub struct ListRequest {
    pub path: String,
    pub query: Query,
    pub params: PageParams,
}

impl<S: Send + Sync> FromRequestParts<S> for ListRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<ListRequest> {
        // Inside the nested /api/v1 router `parts.uri` lacks the prefix; links need all of it.
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(&parts.uri, |original| &original.0);
        let query = Query::parse(uri.query())?;
        let params = PageParams::from_query(&query)?;
        Ok(ListRequest {
            path: uri.path().to_string(),
            query,
            params,
        })
    }
}

impl ListRequest {
    pub fn page(&self) -> credvault_store::PageRequest {
        self.params.store_request()
    }

    /// The page as `{"<collection>": [...], "meta": {...}}`, each item rendered by `render`
    /// (to a `Value`, or to JSON text that is embedded as it is).
    pub fn respond<T, R: Serialize>(
        &self,
        public_url: &str,
        collection: &'static str,
        page: &credvault_store::Page<T>,
        render: impl Fn(&T) -> R,
    ) -> Json<Envelope<R>> {
        let envelope = Envelope {
            collection,
            items: page.items.iter().map(render).collect(),
            meta: meta(public_url, &self.path, &self.query, page.total, self.params),
        };
        Json(envelope)
    }
}

/// `{"<collection>": items, "meta": meta}`, written as a map so that items that are JSON text
/// stay text.
pub struct Envelope<R> {
    collection: &'static str,
    items: Vec<R>,
    meta: Value,
}

impl<R: Serialize> Serialize for Envelope<R> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(self.collection, &self.items)?;
        map.serialize_entry("meta", &self.meta)?;
        map.end()
    }
}

/// The pagination `meta` object, with links that keep the request's query parameters.
fn meta(public_url: &str, path: &str, query: &Query, total: i64, params: PageParams) -> Value {
    let pages = (total + params.per_page - 1) / params.per_page;
    let link = |page: i64| {
        let mut pairs: Vec<(&str, String)> = query
            .0
            .iter()
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        pairs.push(("page", page.to_string()));
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("{public_url}{path}?{qs}")
    };
    // Lazily: `page + 1` would overflow for a page number at the integer limit.
    let next = (params.page < pages).then(|| params.page + 1);
    json!({
        "current_page": link(params.page),
        "previous_page": (params.page > 1).then(|| link(params.page - 1)),
        "next_page": next.map(link),
        "next_page_number": next,
        "per_page": params.per_page,
        "pages": pages,
        "count": total,
    })
}
