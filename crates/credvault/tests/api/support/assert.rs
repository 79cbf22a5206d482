//! Assertions on responses, and the table runner that reports every failed cell by name.

use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_json::Value;

/// Asserts the Tines error shape: exactly one error, with this field (or none) and a message
/// that mentions `needle`.
#[track_caller]
pub fn assert_error(
    status: u16,
    body: &Value,
    want_status: u16,
    field: Option<&str>,
    needle: &str,
) {
    assert_eq!(status, want_status, "body: {body}");
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array: {body}"));
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["field"].as_str(), field, "{body}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains(needle),
        "message {message:?} does not mention {needle:?}"
    );
}

/// A non-2xx status with the Tines error shape and a message.
#[track_caller]
pub fn assert_refused(status: u16, body: &Value, want: u16) {
    assert_eq!(status, want, "body: {body}");
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array: {body}"));
    assert_eq!(errors.len(), 1, "{body}");
    let message = errors[0]["message"].as_str().unwrap_or("");
    assert!(!message.is_empty(), "no message: {body}");
}

/// The ids of every credential in a list response.
pub fn listed_ids(body: &Value) -> Vec<i64> {
    body["user_credentials"]
        .as_array()
        .unwrap_or_else(|| panic!("no user_credentials array: {body}"))
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

/// `2030-01-31T12:00:00.000Z`: RFC 3339 UTC with milliseconds, as the API writes times.
pub fn is_api_time(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// A JSON string holding an API time (see [`is_api_time`]).
pub fn is_timestamp(v: &Value) -> bool {
    v.as_str().is_some_and(is_api_time)
}

/// RFC 3339 UTC with milliseconds (`2021-03-26T12:34:16.540Z`), as Unix milliseconds.
#[track_caller]
pub fn rfc3339_millis(v: &Value) -> i64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp string: {v}"));
    assert!(
        is_api_time(s),
        "{s:?} is not RFC 3339 UTC with milliseconds"
    );
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{s:?}: {e}"));
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The value of the sample `series` (name with labels, exactly) in a Prometheus text body.
#[track_caller]
pub fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{metrics}"))
        .trim()
        .parse()
        .unwrap()
}

/// Runs the checks of one table cell; a failed assertion is printed with the cell's name and
/// request and recorded in `failed`, and the table goes on.
pub fn cell(failed: &mut Vec<String>, name: String, request: &str, checks: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(checks)).is_err() {
        eprintln!("^^^ cell {name:?} failed; request: {request}");
        failed.push(name);
    }
}

/// Fails with every failed cell's name, once the whole table has run.
#[track_caller]
pub fn assert_no_failures(what: &str, ran: usize, failed: &[String]) {
    assert!(
        failed.is_empty(),
        "{what}: {} of {ran} cells failed: {failed:#?}",
        failed.len()
    );
}
