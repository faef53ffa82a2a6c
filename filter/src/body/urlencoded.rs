//! `application/x-www-form-urlencoded` bodies and query strings.

use super::Pair;

/// The result of parsing a urlencoded string.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UrlEncoded {
    /// Decoded name/value pairs, in order; duplicates kept.
    pub pairs: Vec<Pair>,
    /// Set when a `%` escape was malformed (`URLENCODED_ERROR`).
    pub invalid_encoding: bool,
}

/// Parses `input` split on `separator` (normally `&`, see `SecArgumentSeparator`).
pub fn parse(input: &[u8], separator: u8) -> UrlEncoded {
    let _ = (input, separator);
    UrlEncoded::default()
}
