//! `allowed_hosts` patterns (API.md §4.5): `api.example.com`, `*.example.com`,
//! `api.example.com/v1/*`, `https://api.example.com/*`, optionally with a port.

/// One parsed pattern. Scheme and host are kept lower-case; matching is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    pub scheme: Option<String>,
    pub host: String,
    pub port: Option<String>,
    pub path: Option<String>,
}

/// Parses one `allowed_hosts` entry, or says what is wrong with it.
pub fn parse_pattern(entry: &str) -> Result<HostPattern, String> {
    if entry.is_empty() {
        return Err("is an empty string".into());
    }
    if entry.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace".into());
    }
    let (scheme, rest) = match entry.split_once("://") {
        Some((scheme, rest)) => {
            let valid = !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            if !valid {
                return Err("has an invalid scheme".into());
            }
            (Some(scheme.to_ascii_lowercase()), rest)
        }
        None => (None, entry),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(rest[i..].to_string())),
        None => (rest, None),
    };
    if authority.contains('@') {
        return Err("must not contain user information (@)".into());
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => {
            if port.is_empty() || !(port == "*" || port.chars().all(|c| c.is_ascii_digit())) {
                return Err("has an invalid port".into());
            }
            (host, Some(port.to_string()))
        }
        None => (authority, None),
    };
    let host = host.trim_end_matches('.');
    if host.is_empty() {
        return Err("has no host".into());
    }
    if !host
        .chars()
        .all(|c| c.is_alphanumeric() || "-._*".contains(c))
    {
        return Err("has characters not allowed in a host name".into());
    }
    if host.contains("..") {
        return Err("has an empty label (..) in its host".into());
    }
    Ok(HostPattern {
        scheme,
        host: host.to_lowercase(),
        port,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        for ok in [
            "api.example.com",
            "*.example.com",
            "api.example.com/v1/*",
            "https://api.example.com/*",
            "API.Example.COM:8443",
            "localhost",
            "*",
        ] {
            assert!(parse_pattern(ok).is_ok(), "{ok}");
        }
        let p = parse_pattern("HTTPS://Api.Example.com:8443/v1/*").unwrap();
        assert_eq!(p.scheme.as_deref(), Some("https"));
        assert_eq!(p.host, "api.example.com");
        assert_eq!(p.port.as_deref(), Some("8443"));
        assert_eq!(p.path.as_deref(), Some("/v1/*"));
    }

    #[test]
    fn refuses_malformed_entries() {
        for bad in [
            "",
            " ",
            "api example.com",
            "https://",
            "://x.com",
            "1http://x.com",
            "user@x.com",
            "x.com:",
            "x.com:80a",
            "x..com",
            "x.com\t",
            "ex$ample.com",
        ] {
            assert!(parse_pattern(bad).is_err(), "{bad:?}");
        }
    }
}
