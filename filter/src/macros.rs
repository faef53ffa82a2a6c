//! Macro expansion: `%{tx.anomaly_score}`, `%{MATCHED_VAR}`, `%{rule.id}` in action
//! arguments and operator parameters. Templates are parsed once at configure time; the
//! transaction resolves the references.

/// A reference inside `%{…}`: a variable name and an optional key (`tx.foo` → `TX`, `foo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroRef {
    /// Variable name, upper-cased (`TX`, `MATCHED_VAR`, `RULE`).
    pub var: String,
    /// Key after `.` or `:`, lower-cased (collection keys are case-insensitive).
    pub key: Option<String>,
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
            let (var, key) = match inner.find(['.', ':']) {
                Some(p) => (&inner[..p], Some(inner[p + 1..].to_ascii_lowercase())),
                None => (inner, None),
            };
            parts.push(Part::Ref(MacroRef {
                var: var.trim().to_ascii_uppercase(),
                key,
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

    /// Expands with `resolve` giving the value of each reference (missing → empty).
    pub fn expand(&self, mut resolve: impl FnMut(&MacroRef) -> Option<Vec<u8>>) -> Vec<u8> {
        let mut out = Vec::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.extend_from_slice(s.as_bytes()),
                Part::Ref(r) => {
                    if let Some(v) = resolve(r) {
                        out.extend_from_slice(&v);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_expands() {
        let t = Template::parse("score %{tx.Anomaly_Score} in %{MATCHED_VAR_NAME}!");
        assert!(t.has_macros());
        let out = t.expand(|r| match (r.var.as_str(), r.key.as_deref()) {
            ("TX", Some("anomaly_score")) => Some(b"5".to_vec()),
            ("MATCHED_VAR_NAME", None) => Some(b"ARGS:a".to_vec()),
            _ => None,
        });
        assert_eq!(out, b"score 5 in ARGS:a!");
        assert!(!Template::parse("plain %{ text").has_macros());
    }
}
