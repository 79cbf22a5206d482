//! What one request may store (API.md §12). Every value the API accepts must be readable
//! again by every part of the service, on every backend: the JSON limits keep stored
//! documents far inside the parser's own nesting limit, and the size limits keep one
//! credential's row, list entry and cache entries small.

use serde::Serialize;
use serde_json::{Map, Value};

/// `jwt_payload` and `metadata`: at most this many bytes as compact JSON.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
/// `jwt_headers`: at most this many bytes as compact JSON.
pub const MAX_HEADERS_BYTES: usize = 4 * 1024;
/// Nesting depth of any stored JSON document: `{}` is 1, `{"a": []}` is 2.
pub const MAX_DEPTH: usize = 32;
/// `description`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// Names, emails and other short text fields, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// Teams a credential may be shared with (`shared_team_slugs`).
pub const MAX_SHARED_TEAMS: usize = 100;

/// Why a JSON document is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonLimit {
    TooLarge { max_bytes: usize },
    TooDeep { max_depth: usize },
}

impl JsonLimit {
    /// The reason as a sentence about `field`.
    pub fn describe(self, field: &str) -> String {
        match self {
            JsonLimit::TooLarge { max_bytes } => format!(
                "{field} must be at most {} KiB as compact JSON",
                max_bytes / 1024
            ),
            JsonLimit::TooDeep { max_depth } => {
                format!("{field} must not be nested more than {max_depth} levels deep")
            }
        }
    }
}

/// Checks the depth first (without recursion, so any depth is safe to check), then the size.
pub fn check_document(value: &Value, max_bytes: usize) -> Result<(), JsonLimit> {
    check(depth(value), value, max_bytes)
}

/// [`check_document`] for a JSON object held as its map.
pub fn check_object(map: &Map<String, Value>, max_bytes: usize) -> Result<(), JsonLimit> {
    let depth = 1 + map.values().map(depth).max().unwrap_or(0);
    check(depth, map, max_bytes)
}

fn check(depth: usize, value: &impl Serialize, max_bytes: usize) -> Result<(), JsonLimit> {
    if depth > MAX_DEPTH {
        return Err(JsonLimit::TooDeep {
            max_depth: MAX_DEPTH,
        });
    }
    if compact_len(value) > max_bytes {
        return Err(JsonLimit::TooLarge { max_bytes });
    }
    Ok(())
}

/// Nesting depth: scalars 0, an object or array one more than its deepest member.
pub fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((value, level)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Object(map) => Box::new(map.values()),
            Value::Array(items) => Box::new(items.iter()),
            _ => continue,
        };
        deepest = deepest.max(level);
        stack.extend(children.map(|child| (child, level + 1)));
    }
    deepest
}

/// Length of the compact JSON text, counted without building it.
pub fn compact_len(value: &impl Serialize) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, value).expect("JSON values always serialise");
    counter.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(levels: usize) -> Value {
        let mut value = json!(1);
        for _ in 0..levels {
            value = json!({ "a": value });
        }
        value
    }

    #[test]
    fn depth_counts_containers() {
        assert_eq!(depth(&json!(1)), 0);
        assert_eq!(depth(&json!({})), 1);
        assert_eq!(depth(&json!({"a": [1, {"b": []}]})), 4);
        assert_eq!(depth(&nested(32)), 32);
        let object = nested(33);
        assert_eq!(
            check_object(object.as_object().unwrap(), MAX_DOCUMENT_BYTES),
            Err(JsonLimit::TooDeep { max_depth: 32 })
        );
    }

    #[test]
    fn documents_at_the_limits_pass_and_one_more_fails() {
        assert_eq!(check_document(&nested(32), MAX_DOCUMENT_BYTES), Ok(()));
        assert_eq!(
            check_document(&nested(33), MAX_DOCUMENT_BYTES),
            Err(JsonLimit::TooDeep { max_depth: 32 })
        );
        // {"a":"…"} is 8 bytes around the string.
        let fits = json!({ "a": "x".repeat(MAX_DOCUMENT_BYTES - 8) });
        assert_eq!(compact_len(&fits), MAX_DOCUMENT_BYTES);
        assert_eq!(check_document(&fits, MAX_DOCUMENT_BYTES), Ok(()));
        let over = json!({ "a": "x".repeat(MAX_DOCUMENT_BYTES - 7) });
        assert_eq!(
            check_document(&over, MAX_DOCUMENT_BYTES),
            Err(JsonLimit::TooLarge {
                max_bytes: MAX_DOCUMENT_BYTES
            })
        );
        assert_eq!(
            JsonLimit::TooLarge { max_bytes: 65536 }.describe("metadata"),
            "metadata must be at most 64 KiB as compact JSON"
        );
    }
}
