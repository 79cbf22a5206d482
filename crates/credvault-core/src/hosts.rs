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

/// Longest `url` a mint may name (API.md §12).
pub const MAX_URL_LEN: usize = 8192;
/// Longest `host` a mint may name: a DNS name's limit.
pub const MAX_HOST_LEN: usize = 253;
/// Most `allowed_hosts` entries, and the longest entry.
pub const MAX_PATTERNS: usize = 100;
pub const MAX_PATTERN_LEN: usize = 1024;

/// Where a token is about to be sent: a full URL, or just a host (optionally `host:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: Option<String>,
    pub host: String,
    /// The explicit port, or the scheme's default (80, 443).
    pub port: Option<u16>,
    /// The path with dot segments resolved, also those hidden by percent-encoding.
    pub path: Option<String>,
}

/// Why a `url` or `host` cannot be checked against `allowed_hosts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetError {
    /// Longer than [`MAX_URL_LEN`] / [`MAX_HOST_LEN`].
    TooLong,
    /// A URL with a backslash, a space or a control character: HTTP clients disagree on where
    /// its host ends, so no reading of it can be trusted to be the client's.
    Ambiguous,
    /// A host with one of `/ ? # \ @`, whitespace or a control character.
    NotAHost,
    /// Not an absolute URL (or host name) at all.
    Invalid,
}

impl Target {
    /// Parses an absolute URL by the WHATWG URL rules, as browsers and most HTTP clients do:
    /// user information never counts as the host, and dot segments are resolved.
    pub fn from_url(url: &str) -> Result<Target, TargetError> {
        if url.len() > MAX_URL_LEN {
            return Err(TargetError::TooLong);
        }
        if url
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
        {
            return Err(TargetError::Ambiguous);
        }
        let parsed = url::Url::parse(url).map_err(|_| TargetError::Invalid)?;
        let host = parsed.host_str().ok_or(TargetError::Invalid)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = host.trim_end_matches('.').to_lowercase();
        if host.is_empty() {
            return Err(TargetError::Invalid);
        }
        Ok(Target {
            scheme: Some(parsed.scheme().to_string()),
            host,
            port: parsed.port_or_known_default(),
            path: Some(resolve_path(parsed.path())),
        })
    }

    /// Parses a bare host, optionally with a port.
    pub fn from_host(host: &str) -> Result<Target, TargetError> {
        if host.len() > MAX_HOST_LEN {
            return Err(TargetError::TooLong);
        }
        if host
            .chars()
            .any(|c| "/?#\\@".contains(c) || c.is_whitespace() || c.is_control())
        {
            return Err(TargetError::NotAHost);
        }
        let (host, port) = split_host_port(host).ok_or(TargetError::Invalid)?;
        Ok(Target {
            scheme: None,
            host,
            port,
            path: None,
        })
    }
}

/// Resolves what a server may still read as dot segments after the URL parser has done its
/// part: `%2e` as `.`, `%2f` and `%5c` as `/`. Repeats until nothing changes, so that no
/// decoding a server may do can lead the path out of the part a pattern allows.
fn resolve_path(path: &str) -> String {
    let mut current = path.to_string();
    for _ in 0..4 {
        let decoded = decode_separators(&current);
        let resolved = remove_dot_segments(&decoded);
        if resolved == current {
            break;
        }
        current = resolved;
    }
    if current.is_empty() {
        current.push('/');
    }
    current
}

fn decode_separators(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 3).map(str::to_ascii_lowercase);
        match code.as_deref() {
            Some("2e") => out.push('.'),
            Some("2f" | "5c") => out.push('/'),
            _ => {
                out.push('%');
                rest = &rest[i + 1..];
                continue;
            }
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out
}

/// RFC 3986 §5.2.4 on an absolute path: `.` segments go, `..` removes the segment before it.
fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let parts: Vec<&str> = path.split('/').skip(1).collect();
    for (i, segment) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        match *segment {
            "." | ".." => {
                if *segment == ".." {
                    segments.pop();
                }
                // A trailing dot segment leaves the directory it names: `/a/..` is `/`.
                if last {
                    segments.push("");
                }
            }
            other => segments.push(other),
        }
    }
    format!("/{}", segments.join("/"))
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
    if host.is_empty() {
        return None;
    }
    Some((host, port))
}

/// `*` matches any run of characters (including none). Linear in the text's length whatever
/// the pattern: the literal pieces between stars are found in order, each leftmost, which is
/// enough because a star can absorb anything between them.
fn glob(pattern: &str, text: &str) -> bool {
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let middle: Vec<&str> = pieces.collect();
    let Some((last, middle)) = middle.split_last() else {
        // No star: the whole text must be the literal.
        return rest.is_empty();
    };
    for piece in middle {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
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
        assert_eq!(Target::from_host("bad host"), Err(TargetError::NotAHost));
        assert_eq!(Target::from_url("not-a-url"), Err(TargetError::Invalid));
        assert_eq!(
            Target::from_url("https://host:notaport/"),
            Err(TargetError::Invalid)
        );
    }

    /// URLs that some client reads differently from a naive parser: each must be refused or
    /// read as the client reads it.
    #[test]
    fn urls_are_read_as_clients_read_them() {
        use TargetError::*;
        let refused: &[(&str, TargetError)] = &[
            ("https://api.example.com\\@evil.org/", Ambiguous),
            ("https://api.example.com\\.evil.org/", Ambiguous),
            ("https://svc.example.net/v1\\..\\admin", Ambiguous),
            ("https://api.example.com /", Ambiguous),
            ("https://api.example.com/\t", Ambiguous),
            ("https://api.example.com/\u{7f}", Ambiguous),
        ];
        for (url, why) in refused {
            assert_eq!(Target::from_url(url), Err(*why), "{url:?}");
        }
        let long = format!("https://a.example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(Target::from_url(&long), Err(TooLong));
    }

    /// Paths are matched after dot segments and encoded separators are resolved, as servers
    /// resolve them; userinfo and case do not change the host.
    #[test]
    fn url_paths_and_hosts_are_resolved_before_matching() {
        let table: &[(&str, &str, bool)] = &[
            (
                "svc.example.net/v1/*",
                "https://svc.example.net/v1/../admin",
                false,
            ),
            (
                "svc.example.net/v1/*",
                "https://svc.example.net/v1/..%2fadmin",
                false,
            ),
            (
                "svc.example.net/v1/*",
                "https://svc.example.net/v1/..%2Fadmin",
                false,
            ),
            (
                "svc.example.net/v1/*",
                "https://svc.example.net/v1/%2e%2e/admin",
                false,
            ),
            (
                "svc.example.net/v1/*",
                "https://svc.example.net/v1/%2E%2E%2Fadmin",
                false,
            ),
            (
                "svc.example.net/v1/*",
                "https://svc.example.net/v1/.%2e/admin",
                false,
            ),
            (
                "svc.example.net/v1/*",
                "https://svc.example.net/v1/..%5cadmin",
                false,
            ),
            (
                "svc.example.net/v1/*",
                "https://svc.example.net/v1/x/%2e%2e",
                true,
            ),
            (
                "svc.example.net/v1/*",
                "https://svc.example.net/v1/./users",
                true,
            ),
            (
                "svc.example.net/v1/*",
                "https://svc.example.net/v2/../v1/users",
                true,
            ),
            (
                "svc.example.net/v1/*",
                "https://svc.example.net/v1/a%2fb",
                true,
            ),
            ("svc.example.net/v1/*", "https://svc.example.net/v1", false),
            ("evil.org", "https://api.example.com@evil.org/", true),
            (
                "api.example.com",
                "https://api.example.com@evil.org/",
                false,
            ),
            ("api.example.com", "https://x:y@API.example.com:443/", true),
            ("api.example.com", "HTTPS://api.example.com/", true),
        ];
        for (pattern, url, want) in table {
            assert_eq!(url_allowed(pattern, url), *want, "{pattern} vs {url}");
        }
    }

    #[test]
    fn hosts_with_url_characters_are_refused() {
        for host in [
            "evil.org#.partner.org",
            "evil.org?.partner.org",
            "evil.org\\.partner.org",
            "evil.org/.partner.org",
            "user@partner.org",
            "a .partner.org",
        ] {
            assert_eq!(
                Target::from_host(host),
                Err(TargetError::NotAHost),
                "{host}"
            );
        }
        let long = "a".repeat(MAX_HOST_LEN + 1);
        assert_eq!(Target::from_host(&long), Err(TargetError::TooLong));
        assert!(host_allowed("*.partner.org", "api.partner.org"));
    }

    #[test]
    fn glob_is_exact_about_its_pieces() {
        for (pattern, text, want) in [
            ("a*b", "ab", true),
            ("a*b", "axxb", true),
            ("a*b", "a", false),
            ("a*a", "a", false),
            ("*a*a*", "aa", true),
            ("*a*a*", "a", false),
            ("ab*ba", "aba", false),
            ("ab*ba", "abba", true),
            ("*", "", true),
            ("", "", true),
            ("", "x", false),
            ("x", "x", true),
            ("**", "anything", true),
        ] {
            assert_eq!(glob(pattern, text), want, "{pattern:?} vs {text:?}");
        }
        // The review's stall: a long pattern against a long text answers at once.
        let pattern = format!("*{}b", "a".repeat(100_000));
        let text = "a".repeat(200_000);
        assert!(!glob(&pattern, &text));
        let stars = "*a".repeat(400);
        assert!(!glob(&stars, &"b".repeat(8192)));
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
