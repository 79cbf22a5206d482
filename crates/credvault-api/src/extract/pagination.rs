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

/// Every query parameter some list reads (`user_id[]` and `operation_name[]` without brackets).
const KNOWN_PARAMETERS: [&str; 9] = [
    "page",
    "per_page",
    "team_id",
    "folder_id",
    "filter",
    "before",
    "after",
    "user_id",
    "operation_name",
];

/// The parsed query string, in request order.
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> ApiResult<Query> {
        let raw = raw.unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
            .map_err(|_| ApiError::BadRequest("the query string is malformed".into()))?;
        // PostgreSQL text cannot hold NUL; refused here, as in bodies, on every backend. A
        // parameter the API does not read is ignored, NUL or not.
        for (name, value) in &pairs {
            let known = KNOWN_PARAMETERS
                .iter()
                .find(|known| name.trim_end_matches("[]") == **known);
            if let (Some(name), true) = (known, value.contains('\0')) {
                return Err(ApiError::invalid(
                    name,
                    format!("{name} must not contain NUL characters"),
                ));
            }
        }
        Ok(Query(pairs))
    }

    /// The last value of `name`. Only the parameters [`Query::parse`] checks may be read, so
    /// that none reaches the database unchecked (a new one is added to the list).
    pub fn get(&self, name: &str) -> Option<&str> {
        debug_assert!(KNOWN_PARAMETERS.contains(&name), "{name} is not checked");
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a list parameter, sent as `name[]=…` (Tines) or `name=…`, in order.
    pub fn all<'q>(&'q self, name: &'q str) -> impl Iterator<Item = &'q str> {
        debug_assert!(KNOWN_PARAMETERS.contains(&name), "{name} is not checked");
        self.0
            .iter()
            .filter(move |(k, _)| k.strip_suffix("[]").unwrap_or(k) == name)
            .map(|(_, v)| v.as_str())
    }

    /// An optional integer parameter; anything else (an empty value too) is a 422 naming it.
    pub fn int(&self, name: &'static str) -> ApiResult<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ApiError::invalid(name, format!("{name} must be an integer"))),
        }
    }

    /// An optional id parameter (`team_id`, `folder_id`): an integer of at least 1.
    pub fn id(&self, name: &'static str) -> ApiResult<Option<i64>> {
        match self.int(name)? {
            Some(id) if id < 1 => Err(ApiError::invalid(
                name,
                format!("{name} must be 1 or greater"),
            )),
            other => Ok(other),
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
        // A run of digits too long for an integer is still a number: a page past the last
        // (empty, however large), or more than the most items a page holds.
        let huge = |name| {
            query
                .get(name)
                .map(str::trim)
                .is_some_and(|v| v.len() > 18 && v.bytes().all(|b| b.is_ascii_digit()))
        };
        let page = if huge("page") {
            i64::MAX
        } else {
            query.int("page")?.unwrap_or(1)
        };
        if page < 1 {
            return Err(ApiError::invalid("page", "page must be 1 or greater"));
        }
        let per_page = if huge("per_page") {
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
