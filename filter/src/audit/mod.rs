//! What a transaction reports: ModSecurity-format log lines for matched rules and the JSON
//! audit record (ModSecurity v3's JSON layout). Pure formatting; the host writes them.

pub mod record;

use std::fmt::Write;

/// Escapes a value for a `[name "value"]` log field the way ModSecurity does (quotes and
/// backslashes escaped, control bytes as `\xHH`).
pub fn escape_field(v: &[u8]) -> String {
    let mut out = String::with_capacity(v.len());
    for &b in v {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

/// The fields of one log line.
#[derive(Debug, Default)]
pub struct LineFields<'a> {
    /// `Warning.` or `Access denied with code 403 (phase 2).`
    pub prefix: &'a str,
    /// `Matched "Operator …"` explanation (may be empty).
    pub matched: &'a str,
    /// Rule file.
    pub file: &'a str,
    /// Rule line.
    pub line: usize,
    /// Rule id.
    pub id: u64,
    /// `rev`.
    pub rev: &'a str,
    /// Expanded `msg`.
    pub msg: &'a str,
    /// Expanded `logdata`.
    pub data: &'a str,
    /// Severity number.
    pub severity: Option<u8>,
    /// `ver`.
    pub ver: &'a str,
    /// `maturity`.
    pub maturity: &'a str,
    /// `accuracy`.
    pub accuracy: &'a str,
    /// Expanded tags.
    pub tags: &'a [String],
    /// Host name (`Host` header or server address).
    pub hostname: &'a str,
    /// Request URI.
    pub uri: &'a str,
    /// Transaction id.
    pub unique_id: &'a str,
}

/// The rule ids a log line names (`[id "N"]`, as [`format_line`] writes them), in order; for
/// hosts and tests that read the filter's log.
pub fn rule_ids(line: &str) -> impl Iterator<Item = u64> + '_ {
    line.split("[id \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
}

/// Formats a ModSecurity-style log line:
/// `ModSecurity: Warning. Matched "…" [file "…"] [line "…"] [id "…"] [msg "…"] …`.
pub fn format_line(f: &LineFields<'_>) -> String {
    let mut s = String::with_capacity(256);
    let _ = write!(s, "ModSecurity: {}", f.prefix);
    if !f.matched.is_empty() {
        let _ = write!(s, " {}", f.matched);
    }
    let q = |v: &str| escape_field(v.as_bytes());
    let _ = write!(
        s,
        " [file \"{}\"] [line \"{}\"] [id \"{}\"] [rev \"{}\"] [msg \"{}\"] [data \"{}\"]",
        q(f.file),
        f.line,
        f.id,
        q(f.rev),
        q(f.msg),
        q(f.data)
    );
    match f.severity {
        Some(sev) => {
            let _ = write!(s, " [severity \"{sev}\"]");
        }
        None => s.push_str(" [severity \"0\"]"),
    }
    let _ = write!(
        s,
        " [ver \"{}\"] [maturity \"{}\"] [accuracy \"{}\"]",
        q(f.ver),
        q(if f.maturity.is_empty() {
            "0"
        } else {
            f.maturity
        }),
        q(if f.accuracy.is_empty() {
            "0"
        } else {
            f.accuracy
        })
    );
    for t in f.tags {
        let _ = write!(s, " [tag \"{}\"]", q(t));
    }
    let _ = write!(
        s,
        " [hostname \"{}\"] [uri \"{}\"] [unique_id \"{}\"] [ref \"\"]",
        q(f.hostname),
        q(f.uri),
        q(f.unique_id)
    );
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn rule_ids_of_a_line() {
        let line =
            r#"ModSecurity: Warning. [id "942100"] [msg "x [id \"no\"]"] [id "949110"] [id ""]"#;
        assert_eq!(super::rule_ids(line).collect::<Vec<_>>(), [942100, 949110]);
        assert_eq!(super::rule_ids("no ids here").count(), 0);
    }

    use super::*;

    #[test]
    fn line_has_modsecurity_fields() {
        let tags = vec!["attack-sqli".to_string()];
        let line = format_line(&LineFields {
            prefix: "Warning.",
            file: "x.conf",
            line: 3,
            id: 942100,
            msg: "SQL \"Injection\"",
            data: "Matched Data: s&1 found within ARGS:x: 1'",
            severity: Some(2),
            ver: "OWASP_CRS/4.28.0",
            tags: &tags,
            hostname: "localhost",
            uri: "/",
            unique_id: "abc",
            ..Default::default()
        });
        assert!(line
            .starts_with("ModSecurity: Warning. [file \"x.conf\"] [line \"3\"] [id \"942100\"]"));
        assert!(line.contains("[msg \"SQL \\\"Injection\\\"\"]"));
        assert!(line.contains("[data \"Matched Data: s&1 found within ARGS:x: 1'\"]"));
        assert!(line.contains("[tag \"attack-sqli\"] [hostname \"localhost\"]"));
    }
}
