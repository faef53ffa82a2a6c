//! `application/x-www-form-urlencoded` bodies and query strings, split and decoded the way
//! libmodsecurity v3 does it for `ARGS_GET` / `ARGS_POST`.
//!
//! Mirrors `Transaction::extractArguments` (`src/transaction.cc`): split on the argument
//! separator with `std::getline` semantics (`utils::string::ssplit`), split each segment at
//! its first `=` (`ssplit_pair`), then decode name and value with
//! `utils::urldecode_nonstrict_inplace` (`src/utils/decode.cc`). Not here: argument limits
//! (`SecArgumentsLimit`) and the collections themselves (the transaction owns those).
//! Hand-rolled: the non-strict decoding and the splitting quirks are ModSecurity's own, no
//! general-purpose crate (e.g. `form_urlencoded`, which rejects nothing and flags nothing)
//! reproduces them.

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
///
/// - Segments are what `std::getline` yields: an empty segment between two separators
///   (`a&&b`) becomes an argument with an empty name and value, a trailing separator yields
///   nothing, and an empty input yields no argument.
/// - A segment without `=` is a name with an empty value; only the first `=` splits.
/// - `+` becomes a space and `%XX` (two hex digits) its byte; any other `%` is kept as-is
///   and sets [`UrlEncoded::invalid_encoding`].
pub fn parse(input: &[u8], separator: u8) -> UrlEncoded {
    parse_pooled(input, separator, &mut super::Spare::default())
}

/// [`parse`], the names and values decoded into buffers taken from `spare` while it has
/// some (emptied vectors a finished transaction left: no allocation per argument).
pub fn parse_pooled(input: &[u8], separator: u8, spare: &mut super::Spare) -> UrlEncoded {
    let mut out = UrlEncoded::default();
    // `getline` does not produce the empty token after a trailing separator (nor for an
    // empty input).
    if input.is_empty() {
        return out;
    }
    let input = input.strip_suffix(&[separator]).unwrap_or(input);
    out.pairs
        .reserve(memchr::memchr_iter(separator, input).count() + 1);
    for segment in input.split(|&b| b == separator) {
        let (name, value) = match memchr::memchr(b'=', segment) {
            Some(i) => (&segment[..i], &segment[i + 1..]),
            None => (segment, &[][..]),
        };
        let mut decoded = |s: &[u8]| {
            let mut buf = spare.take();
            let bad = decode_nonstrict(s, &mut buf);
            (buf, bad)
        };
        let (name, bad_name) = decoded(name);
        let (value, bad_value) = decoded(value);
        out.invalid_encoding |= bad_name | bad_value;
        out.pairs.push((name, value));
    }
    out
}

/// `urldecode_nonstrict_inplace`: `+` → space, `%XX` → byte, a `%` not followed by two hex
/// digits is copied as-is. Appends the decoded bytes to `out`; returns whether an invalid
/// escape was seen.
pub fn decode_nonstrict(input: &[u8], out: &mut Vec<u8>) -> bool {
    out.reserve(input.len());
    let mut invalid = false;
    let mut rest = input;
    // Runs without `%` or `+` are copied whole.
    while let Some(at) = memchr::memchr2(b'%', b'+', rest) {
        out.extend_from_slice(&rest[..at]);
        if rest[at] == b'+' {
            out.push(b' ');
            rest = &rest[at + 1..];
            continue;
        }
        match (hex_val(rest.get(at + 1)), hex_val(rest.get(at + 2))) {
            (Some(h), Some(l)) => {
                out.push(h << 4 | l);
                rest = &rest[at + 3..];
            }
            _ => {
                out.push(b'%');
                invalid = true;
                rest = &rest[at + 1..];
            }
        }
    }
    out.extend_from_slice(rest);
    invalid
}

fn hex_val(c: Option<&u8>) -> Option<u8> {
    match *c? {
        c @ b'0'..=b'9' => Some(c - b'0'),
        c @ b'a'..=b'f' => Some(c - b'a' + 10),
        c @ b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(input: &str) -> Vec<(String, String)> {
        parse(input.as_bytes(), b'&')
            .pairs
            .into_iter()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(&n).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect()
    }

    fn p(n: &str, v: &str) -> (String, String) {
        (n.to_string(), v.to_string())
    }

    #[test]
    fn basic_pairs_and_decoding() {
        assert_eq!(
            pairs("a=1&b=hello+world&c=%41%42%zz"),
            vec![p("a", "1"), p("b", "hello world"), p("c", "AB%zz")]
        );
        // Escapes at either end of a value and between plain runs.
        assert_eq!(
            pairs("+x%2Fy+=%41bc+d%4&e=%"),
            vec![p(" x/y ", "Abc d%4"), p("e", "%")]
        );
    }

    #[test]
    fn names_without_equals_and_empty_segments() {
        // getline: empty middle segment kept, trailing separator dropped.
        assert_eq!(
            pairs("a&&b=&=v&"),
            vec![p("a", ""), p("", ""), p("b", ""), p("", "v")]
        );
        assert!(parse(b"", b'&').pairs.is_empty());
        assert_eq!(pairs("&"), vec![p("", "")]);
        assert_eq!(pairs("a&&"), vec![p("a", ""), p("", "")]);
        // Only the first '=' splits.
        assert_eq!(pairs("k=v=w"), vec![p("k", "v=w")]);
    }

    #[test]
    fn invalid_escapes_are_kept_and_flagged() {
        let r = parse(b"a=%&b=%4&c=%4g", b'&');
        assert!(r.invalid_encoding);
        assert_eq!(r.pairs[0].1, b"%");
        assert_eq!(r.pairs[1].1, b"%4");
        assert_eq!(r.pairs[2].1, b"%4g");
        assert!(!parse(b"a=%41&b=%2B", b'&').invalid_encoding);
        // Invalid escape in the name also counts.
        assert!(parse(b"%x=1", b'&').invalid_encoding);
    }

    #[test]
    fn decoded_bytes_need_not_be_utf8() {
        let r = parse(b"x=%ff%00", b'&');
        assert_eq!(r.pairs, vec![(b"x".to_vec(), vec![0xff, 0x00])]);
    }

    #[test]
    fn custom_separator() {
        assert_eq!(
            parse(b"a=1;b=2&c", b';').pairs,
            vec![
                (b"a".to_vec(), b"1".to_vec()),
                (b"b".to_vec(), b"2&c".to_vec())
            ]
        );
    }

    // variable-URLENCODED_ERROR.json cases 1-6 (query strings and bodies).
    #[test]
    fn modsec_regression_urlencoded_error() {
        assert!(parse(b"key=value&key=other_value%2", b'&').invalid_encoding);
        assert!(!parse(b"key=value&key=other_value&a=b%2a", b'&').invalid_encoding);
        assert!(parse(b"param1=value12%&param2=value2%2", b'&').invalid_encoding);
        assert!(!parse(b"param1=value1&param2=value2&a=b5%2a\n", b'&').invalid_encoding);
        let ok = parse(b"a=%EC%A7%84%20%EB%A7%88%EC%9D%BC%20%EB%A6%AC", b'&');
        assert!(!ok.invalid_encoding);
        assert_eq!(
            ok.pairs[0].1,
            "\u{c9c4} \u{b9c8}\u{c77c} \u{b9ac}".as_bytes()
        );
        assert!(parse(b"z=%EC%A7%84%20%EB%A6%A%AC", b'&').invalid_encoding);
    }

    // variable-ARGS_POST.json case 3: an empty value is an argument of length 0.
    #[test]
    fn modsec_regression_args_post_empty_value() {
        assert_eq!(
            pairs("param1=value1&param2=&param3=value3"),
            vec![
                p("param1", "value1"),
                p("param2", ""),
                p("param3", "value3")
            ]
        );
    }
}
