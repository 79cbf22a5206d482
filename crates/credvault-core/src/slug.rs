//! Slugs: the lower snake_case form of a name that Tines uses to reference credentials and teams.

/// Lower-cases `name` and turns every run of characters other than letters and digits into one
/// `_`, trimmed at both ends. `"My  API-Key!"` becomes `"my_api_key"`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    let mut pending_separator = false;
    for c in name.chars() {
        if c.is_alphanumeric() {
            if pending_separator && !slug.is_empty() {
                slug.push('_');
            }
            pending_separator = false;
            slug.extend(c.to_lowercase());
        } else {
            pending_separator = true;
        }
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs() {
        assert_eq!(slugify("jwt credential"), "jwt_credential");
        assert_eq!(slugify("  My  API-Key!! "), "my_api_key");
        assert_eq!(slugify("tines_api_credential"), "tines_api_credential");
        assert_eq!(slugify("a__b"), "a_b");
        assert_eq!(slugify("Café Crème 2"), "café_crème_2");
        assert_eq!(slugify("!!!"), "");
        assert_eq!(slugify(""), "");
    }
}
