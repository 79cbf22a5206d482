//! Timestamps: stored as integer milliseconds since the Unix epoch, shown as RFC 3339 UTC with
//! milliseconds (`2021-03-26T12:34:16.540Z`), as the Tines API does.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

pub fn now_millis() -> Millis {
    to_millis(OffsetDateTime::now_utc())
}

pub fn format_millis(ms: Millis) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

/// Parses an RFC 3339 timestamp with any offset; sub-millisecond digits are dropped.
pub fn parse_rfc3339(text: &str) -> Option<Millis> {
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    Some(to_millis(t))
}

/// Every date `time` can represent is within ±2^63 ms of the epoch, so this never saturates.
fn to_millis(t: OffsetDateTime) -> Millis {
    Millis::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(Millis::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let ms = parse_rfc3339("2021-03-26T12:34:16.540Z").unwrap();
        assert_eq!(format_millis(ms), "2021-03-26T12:34:16.540Z");
        let ms = parse_rfc3339("2021-03-26T14:34:16+02:00").unwrap();
        assert_eq!(format_millis(ms), "2021-03-26T12:34:16.000Z");
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2021-03-26"), None);
    }
}
