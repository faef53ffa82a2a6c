//! Macro expansion: `%{tx.anomaly_score}`, `%{MATCHED_VAR}`, `%{rule.id}` in action
//! arguments and operator parameters. Templates are parsed once at configure time; the
//! transaction resolves the references.
//!
//! A key may be a regular expression, `%{TX:/^foo_/}` or `%{ARGS:/^id$/}`: it expands to
//! the first member whose name matches, as libmodsecurity 3's `RunTimeString::evaluate`
//! takes the first value the variable resolves to (regression test `issue-2296.json`).
//! Not here: resolving references (the transaction owns the collections).

use crate::variables::KeyPattern;

/// A reference inside `%{…}`: a variable name and an optional key (`tx.foo` → `TX`, `foo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroRef {
    /// Variable name, upper-cased (`TX`, `MATCHED_VAR`, `RULE`).
    pub var: String,
    /// The variable [`MacroRef::var`] names, looked up once here (`None`: no such variable,
    /// which expands to nothing).
    pub var_id: Option<crate::variables::Var>,
    /// Key after `.` or `:`, lower-cased (collection keys are case-insensitive).
    pub key: Option<String>,
    /// The key as a regular expression when written `/…/`, compiled as variable key
    /// regexes are (then [`MacroRef::key`] holds the text, lower-cased, for display only).
    pub key_regex: Option<KeyPattern>,
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Literal text.
    Lit(String),
    /// A `%{…}` reference.
    Ref(MacroRef),
}

/// A string that may contain macros.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`; text without `%{` is a single literal.
    pub fn parse(text: &str) -> Template {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("%{") {
            let Some(len) = rest[start + 2..].find('}') else {
                break;
            };
            if start > 0 {
                parts.push(Part::Lit(rest[..start].to_string()));
            }
            let inner = &rest[start + 2..start + 2 + len];
            let (var, raw_key) = match inner.find(['.', ':']) {
                Some(p) => (&inner[..p], Some(&inner[p + 1..])),
                None => (inner, None),
            };
            let var = var.trim().to_ascii_uppercase();
            parts.push(Part::Ref(MacroRef {
                var_id: crate::variables::Var::from_name(&var),
                var,
                key: raw_key.map(str::to_ascii_lowercase),
                key_regex: raw_key
                    .and_then(|k| k.strip_prefix('/')?.strip_suffix('/'))
                    .and_then(|pat| KeyPattern::compile(pat).ok()),
            }));
            rest = &rest[start + 2 + len + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.to_string()));
        }
        Template { parts }
    }

    /// Whether the template has any macro (otherwise it is constant).
    pub fn has_macros(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Ref(_)))
    }

    /// The `%{…}` references, in order.
    pub fn refs(&self) -> impl Iterator<Item = &MacroRef> {
        self.parts.iter().filter_map(|p| match p {
            Part::Ref(r) => Some(r),
            Part::Lit(_) => None,
        })
    }

    /// The text as written when constant (or with references dropped).
    pub fn literal(&self) -> String {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Lit(s) => Some(s.as_str()),
                Part::Ref(_) => None,
            })
            .collect()
    }

    /// Expands with `resolve` appending the value of each reference to the output
    /// (missing → nothing appended).
    pub fn expand(&self, resolve: impl FnMut(&MacroRef, &mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        self.expand_into(&mut out, resolve);
        out
    }

    /// [`Template::expand`], appending to `out` (a reused buffer).
    pub fn expand_into(&self, out: &mut Vec<u8>, mut resolve: impl FnMut(&MacroRef, &mut Vec<u8>)) {
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.extend_from_slice(s.as_bytes()),
                Part::Ref(r) => resolve(r, out),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_expands() {
        let t = Template::parse("score %{tx.Anomaly_Score} in %{MATCHED_VAR_NAME}!");
        assert!(t.has_macros());
        let out = t.expand(|r, out| match (r.var.as_str(), r.key.as_deref()) {
            ("TX", Some("anomaly_score")) => out.extend_from_slice(b"5"),
            ("MATCHED_VAR_NAME", None) => out.extend_from_slice(b"ARGS:a"),
            _ => {}
        });
        assert_eq!(out, b"score 5 in ARGS:a!");
        assert!(!Template::parse("plain %{ text").has_macros());
    }

    #[test]
    fn regex_keys_keep_their_case_and_match_case_insensitively() {
        let t = Template::parse(r"%{TX:/^Head_\S/}");
        let Some(Part::Ref(r)) = t.parts.first() else {
            panic!("a reference");
        };
        let re = r.key_regex.as_ref().expect("a key regex");
        assert!(re.is_match(b"HEAD_x"));
        assert!(!re.is_match(b"head_ "), "\\S must not become \\s");
        let t = Template::parse("%{tx.plain}");
        assert!(matches!(t.parts.first(), Some(Part::Ref(r)) if r.key_regex.is_none()));
    }
}
