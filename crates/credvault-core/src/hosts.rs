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

/// Where a token is about to be sent: a full URL, or just a host (optionally `host:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: Option<String>,
    pub host: String,
    /// The explicit port, or the scheme's default (80, 443).
    pub port: Option<u16>,
    pub path: Option<String>,
}

impl Target {
    /// Parses an absolute URL. User information (`user:pass@`) is dropped and never counts
    /// as the host; a backslash ends the authority, as browsers and HTTP clients treat it.
    pub fn from_url(url: &str) -> Option<Target> {
        let url = url.trim();
        let (scheme, rest) = url.split_once("://")?;
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return None;
        }
        let scheme = scheme.to_ascii_lowercase();
        let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
        let (host, port) = split_host_port(host_port)?;
        let port = port.or(match scheme.as_str() {
            "https" | "wss" => Some(443),
            "http" | "ws" => Some(80),
            _ => None,
        });
        let path = tail.split(['?', '#']).next().unwrap_or("");
        let path = if path.is_empty() { "/" } else { path };
        Some(Target {
            scheme: Some(scheme),
            host,
            port,
            path: Some(path.replace('\\', "/")),
        })
    }

    /// Parses a bare host, optionally with a port.
    pub fn from_host(host: &str) -> Option<Target> {
        let (host, port) = split_host_port(host.trim())?;
        Some(Target {
            scheme: None,
            host,
            port,
            path: None,
        })
    }
}

fn split_host_port(text: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        // IPv6 literal: [::1]:8443
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        (host, port)
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port.parse().ok()?)),
            None => (text, None),
        }
    };
    let host = host.trim_end_matches('.').to_lowercase();
    if host.is_empty()
        || host
            .chars()
            .any(|c| c.is_whitespace() || c == '@' || c == '/')
    {
        return None;
    }
    Some((host, port))
}

/// `*` matches any run of characters (including none).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

impl HostPattern {
    pub fn matches(&self, target: &Target) -> bool {
        if let Some(scheme) = &self.scheme {
            if target.scheme.as_deref() != Some(scheme.as_str()) {
                return false;
            }
        }
        let host_ok = glob(&self.host, &target.host)
            || self
                .host
                .strip_prefix("*.")
                .is_some_and(|apex| apex == target.host);
        if !host_ok {
            return false;
        }
        if let Some(port) = &self.port {
            let wanted = port.parse::<u16>().ok();
            if port != "*" && (wanted.is_none() || target.port != wanted) {
                return false;
            }
        }
        match (&self.path, &target.path) {
            (None, _) => true,
            (Some(pattern), Some(path)) => glob(pattern, path),
            // A pattern with a path cannot be checked against a bare host.
            (Some(_), None) => false,
        }
    }
}

/// Whether `target` is allowed by any of `patterns` (entries that do not parse allow nothing).
pub fn allowed(patterns: &[String], target: &Target) -> bool {
    patterns
        .iter()
        .filter_map(|p| parse_pattern(p).ok())
        .any(|p| p.matches(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_allowed(pattern: &str, url: &str) -> bool {
        allowed(&[pattern.to_string()], &Target::from_url(url).expect(url))
    }

    fn host_allowed(pattern: &str, host: &str) -> bool {
        allowed(
            &[pattern.to_string()],
            &Target::from_host(host).expect(host),
        )
    }

    #[test]
    fn matching_table() {
        let table: &[(&str, &str, bool)] = &[
            ("api.example.com", "https://api.example.com/v1/x", true),
            ("api.example.com", "https://API.Example.COM/", true),
            ("api.example.com", "https://api.example.com./", true),
            ("api.example.com", "https://api.example.com:8443/", true),
            ("api.example.com", "https://other.example.com/", false),
            (
                "api.example.com",
                "https://api.example.com.evil.org/",
                false,
            ),
            ("*.example.com", "https://a.example.com/", true),
            ("*.example.com", "https://a.b.example.com/", true),
            ("*.example.com", "https://example.com/", true),
            ("*.example.com", "https://evil-example.com/", false),
            ("*.example.com", "https://example.com.evil.org/", false),
            ("*.example.com", "https://notexample.com/", false),
            ("*.example.com", "https://example.com@evil.org/", false),
            ("evil.org", "https://example.com@evil.org/", true),
            ("example.com", "https://example.com@evil.org/", false),
            ("example.com", "https://user:pw@example.com/", true),
            ("example.com", "https://example.com\\@evil.org/", true),
            ("evil.org", "https://example.com\\@evil.org/", false),
            (
                "api.example.com/v1/*",
                "https://api.example.com/v1/users",
                true,
            ),
            (
                "api.example.com/v1/*",
                "https://api.example.com/v2/users",
                false,
            ),
            (
                "api.example.com/v1/*",
                "https://api.example.com/V1/users",
                false,
            ),
            (
                "api.example.com/v1/*",
                "https://api.example.com/v1/a?x=/v2",
                true,
            ),
            (
                "https://api.example.com/*",
                "https://api.example.com/anything",
                true,
            ),
            (
                "https://api.example.com/*",
                "http://api.example.com/anything",
                false,
            ),
            (
                "HTTPS://API.example.com/*",
                "https://api.example.com/",
                true,
            ),
            (
                "api.example.com:8443",
                "https://api.example.com:8443/",
                true,
            ),
            ("api.example.com:8443", "https://api.example.com/", false),
            ("api.example.com:443", "https://api.example.com/", true),
            ("api.example.com:80", "https://api.example.com/", false),
            ("*", "https://anything.at.all/", true),
            ("10.0.0.*", "http://10.0.0.7/", true),
        ];
        let mut failures = Vec::new();
        for (pattern, url, want) in table {
            if url_allowed(pattern, url) != *want {
                failures.push(format!("{pattern} vs {url}: expected {want}"));
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn bare_hosts() {
        assert!(host_allowed("api.example.com", "API.example.com"));
        assert!(host_allowed("*.example.com", "example.com"));
        assert!(!host_allowed("*.example.com", "evil-example.com"));
        assert!(host_allowed("api.example.com:8443", "api.example.com:8443"));
        assert!(!host_allowed("api.example.com:8443", "api.example.com"));
        assert!(!host_allowed("api.example.com/v1/*", "api.example.com"));
        assert!(!host_allowed(
            "https://api.example.com/*",
            "api.example.com"
        ));
        assert!(Target::from_host("bad host").is_none());
        assert!(Target::from_url("not a url").is_none());
        assert!(Target::from_url("https://host:notaport/").is_none());
    }

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
