//! SecLang text → directives, the way Apache and ModSecurity read configuration.
//!
//! Handles `\` line continuation, `#` comment lines, double- and single-quoted arguments
//! (only `\"` / `\'` inside quotes lose their backslash, as Apache's `ap_getword_conf` does),
//! and `Include` with globs resolved in the in-memory [`FileSet`]. Every directive keeps
//! its file and line so errors can point at it. Not here: what directives mean (that is
//! [`crate::rules`]), regex compilation.

use std::sync::Arc;

use crate::files::FileSet;
use crate::rules::ConfigError;

/// One configuration directive with its arguments, unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// File the directive was read from.
    pub file: Arc<str>,
    /// 1-based line where the directive starts.
    pub line: usize,
    /// Directive name as written (`SecRule`).
    pub name: String,
    /// Arguments, quotes removed.
    pub args: Vec<String>,
}

impl Directive {
    /// A configuration error located at this directive.
    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_string(),
            line: self.line,
            message: message.into(),
        }
    }
}

/// How deep `Include` may nest before we call it a loop.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Parses `text` (named `name`) into directives, expanding `Include` from `files`.
pub fn parse(name: &str, text: &str, files: &FileSet) -> Result<Vec<Directive>, ConfigError> {
    let mut out = Vec::new();
    parse_into(name, text, files, 0, &mut out)?;
    Ok(out)
}

fn parse_into(
    name: &str,
    text: &str,
    files: &FileSet,
    depth: usize,
    out: &mut Vec<Directive>,
) -> Result<(), ConfigError> {
    let file: Arc<str> = Arc::from(name);
    for (line, logical) in logical_lines(text) {
        let err = |message: String| ConfigError {
            file: name.to_string(),
            line,
            message,
        };
        let words = split_words(&logical).map_err(err)?;
        let Some((dname, args)) = words.split_first() else {
            continue;
        };
        if dname.eq_ignore_ascii_case("Include") || dname.eq_ignore_ascii_case("IncludeOptional") {
            if depth >= MAX_INCLUDE_DEPTH {
                return Err(err("Include nested too deeply (a loop?)".into()));
            }
            let [pattern] = args else {
                return Err(err(format!("{dname} expects one path")));
            };
            // As written first, then beside the including file: libmodsecurity's
            // `utils::find_resource` (src/utils/system.cc) tries the path as given and then
            // in the directory of the configuration file that includes it.
            let matches = [pattern.clone(), resolve_path(name, pattern)]
                .iter()
                .map(|path| include_matches(files, path))
                .find(|m| !m.is_empty())
                .unwrap_or_default();
            if matches.is_empty() && dname.eq_ignore_ascii_case("Include") {
                return Err(err(format!("Include: no file matches `{pattern}`")));
            }
            for m in matches {
                let content = files.get(&m).unwrap_or_default();
                let text = String::from_utf8_lossy(content);
                parse_into(&m, &text, files, depth + 1, out)?;
            }
            continue;
        }
        out.push(Directive {
            file: file.clone(),
            line,
            name: dname.clone(),
            args: args.to_vec(),
        });
    }
    Ok(())
}

/// The files `path` (a name or a glob) names in `files`.
fn include_matches(files: &FileSet, path: &str) -> Vec<String> {
    if path.contains(['*', '?']) {
        files.glob(path).into_iter().map(String::from).collect()
    } else if files.get(path).is_some() {
        vec![path.to_string()]
    } else {
        Vec::new()
    }
}

/// Resolves `path` relative to the directory of the file `from` (absolute paths and
/// `@bundle` names stand as they are).
pub fn resolve_path(from: &str, path: &str) -> String {
    if path.starts_with('/') || path.starts_with('@') {
        return path.to_string();
    }
    match from.rfind('/') {
        Some(i) => format!("{}/{}", &from[..i], path.trim_start_matches("./")),
        None => path.trim_start_matches("./").to_string(),
    }
}

/// Joins continuation lines and drops comments and blanks; yields (first line number, text).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let (start, mut acc) = match current.take() {
            Some(c) => c,
            None => {
                let t = raw.trim_start();
                if t.is_empty() || t.starts_with('#') {
                    continue;
                }
                (i + 1, String::new())
            }
        };
        // Apache: a line ending in a backslash continues on the next line.
        if let Some(body) = raw.strip_suffix('\\') {
            acc.push_str(body);
            current = Some((start, acc));
        } else {
            acc.push_str(raw);
            out.push((start, acc));
        }
    }
    if let Some(c) = current {
        out.push(c);
    }
    out
}

/// Splits a logical line into words: bare words, or `"…"` / `'…'` quoted ones.
fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        let mut word = String::new();
        if c == '"' || c == '\'' {
            let quote = c;
            chars.next();
            let mut closed = false;
            while let Some(ch) = chars.next() {
                if ch == '\\' && chars.peek() == Some(&quote) {
                    word.push(quote);
                    chars.next();
                } else if ch == quote {
                    closed = true;
                    break;
                } else {
                    word.push(ch);
                }
            }
            if !closed {
                return Err(format!("unterminated {quote}-quoted argument"));
            }
        } else {
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                word.push(ch);
                chars.next();
            }
        }
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_quotes_and_comments() {
        let text = "# comment\nSecRule ARGS \"@rx a\\\"b\" \\\n   \"id:1,\\\n  deny\"\n\nSecRuleEngine On\n";
        let d = parse("t.conf", text, &FileSet::new()).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].line, 2);
        assert_eq!(d[0].args, vec!["ARGS", "@rx a\"b", "id:1,  deny"]);
        assert_eq!(d[1].name, "SecRuleEngine");
        assert_eq!(d[1].line, 6);
    }

    #[test]
    fn include_with_glob_relative_to_the_including_file() {
        let mut fs = FileSet::new();
        fs.insert("@crs/rules/a.conf", "SecMarker A");
        fs.insert("@crs/rules/b.conf", "SecMarker B");
        fs.insert("@crs/main.conf", "Include rules/*.conf");
        let d = parse("x", "Include @crs/main.conf", &fs).unwrap();
        let names: Vec<_> = d.iter().map(|d| d.args[0].as_str()).collect();
        assert_eq!(names, vec!["A", "B"]);
        assert_eq!(&*d[1].file, "@crs/rules/b.conf");
    }

    #[test]
    fn include_path_as_written_from_a_nested_file() {
        // libmodsecurity's regression data: `data/a.txt` includes `data/b.txt`.
        let mut fs = FileSet::new();
        fs.insert("data/a.txt", "Include data/b.txt");
        fs.insert("data/b.txt", "SecMarker B");
        let d = parse("x", "Include data/a.txt", &fs).unwrap();
        assert_eq!(&*d[0].file, "data/b.txt");
        let e = parse("x", "Include data/c.txt", &fs).unwrap_err();
        assert!(e.to_string().contains("no file matches"));
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = parse(
            "inline",
            "SecRuleEngine On\nSecRule ARGS \"@rx x",
            &FileSet::new(),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "inline:2: unterminated \"-quoted argument");
        let e = parse("inline", "Include nothing.conf", &FileSet::new()).unwrap_err();
        assert!(e.to_string().starts_with("inline:1: Include"));
    }

    #[test]
    fn include_loops_are_errors() {
        let mut fs = FileSet::new();
        fs.insert("a.conf", "Include a.conf");
        assert!(parse("a.conf", "Include a.conf", &fs).is_err());
    }
}
