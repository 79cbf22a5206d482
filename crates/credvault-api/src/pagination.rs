//! Tines-style pagination: `page` (1-based) and `per_page` (default 20, clamped to 500), and the
//! `meta` object with links built from the public URL and the request's own query parameters.

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
        let per_page = query.int("per_page")?.unwrap_or(DEFAULT_PER_PAGE);
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

/// `{"<collection>": items, "meta": {...}}`.
pub fn envelope(
    public_url: &str,
    path: &str,
    query: &Query,
    collection: &str,
    items: Vec<Value>,
    total: i64,
    params: PageParams,
) -> Value {
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
    let next = (params.page < pages).then_some(params.page + 1);
    json!({
        collection: items,
        "meta": {
            "current_page": link(params.page),
            "previous_page": (params.page > 1).then(|| link(params.page - 1)),
            "next_page": next.map(link),
            "next_page_number": next,
            "per_page": params.per_page,
            "pages": pages,
            "count": total,
        }
    })
}
