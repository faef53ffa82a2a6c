//! Suite `secrules`: the SecRules language tests (one JSON file per operator and per
//! transformation), each case run directly against [`wafer::operators::compile`] or
//! [`wafer::transformations::lookup`].
//!
//! Conventions mirrored from libmodsecurity's unit runner (`test/unit/unit.cc`,
//! `unit_test.cc`): `input` and `output` go through `json2bin`, which turns a literal `\xHH`
//! into that byte and then a literal `\uHHHH` into the byte of its low 8 bits (each distinct
//! escape replaced everywhere, repeated until none is left); `param` is used as is. An
//! operator case compares the match result with `ret`; a transformation case compares the
//! output bytes only (libmodsecurity ignores `ret` there). `re_groups`, where given, must
//! equal the captures. Data files (`@pmFromFile`) are read from disk under the names the
//! cases use (`test-cases/secrules-language-tests/…`, `test-cases/data/…`).
//! Not here: rule compilation or transactions.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use wafer::operators::{DataFiles, OpOutput};

use crate::report::{show_bytes, CaseResult, Outcome, SuiteReport};

/// One case of the test set.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    /// `op` or `tfn`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Operator or transformation name.
    pub name: String,
    /// Operator parameter.
    #[serde(default)]
    pub param: String,
    /// Input (json2bin-escaped).
    #[serde(default)]
    pub input: String,
    /// Expected operator result.
    #[serde(default)]
    pub ret: i64,
    /// Expected transformation output (json2bin-escaped).
    pub output: Option<String>,
    /// Expected capture groups of `@rx`-like operators.
    pub re_groups: Option<Vec<String>>,
    /// A library the case needs (`geoip`).
    pub resource: Option<String>,
}

/// Data files read from the ModSecurity test data on disk.
#[derive(Debug, Clone)]
pub struct DiskFiles {
    root: PathBuf,
}

impl DiskFiles {
    /// Files under `modsecurity_tests` (the directory holding `secrules-language-tests/`
    /// and `data/`).
    pub fn new(modsecurity_tests: &Path) -> Self {
        DiskFiles {
            root: modsecurity_tests.to_path_buf(),
        }
    }
}

impl DataFiles for DiskFiles {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        // The cases name files as libmodsecurity's source tree has them.
        let rel = path.strip_prefix("test-cases/").unwrap_or(path);
        if rel.split('/').any(|seg| seg == "..") {
            return None;
        }
        std::fs::read(self.root.join(rel)).ok()
    }
}

/// Operator names as the reference manual spells them; the JSON uses other cases
/// (`verifycpf`) and SecLang operator names are case-insensitive.
const OPERATORS: &[&str] = &[
    "beginsWith",
    "contains",
    "containsWord",
    "detectSQLi",
    "detectXSS",
    "endsWith",
    "eq",
    "fuzzyHash",
    "ge",
    "geoLookup",
    "gsbLookup",
    "gt",
    "inspectFile",
    "ipMatch",
    "ipMatchFromFile",
    "le",
    "lt",
    "noMatch",
    "pm",
    "pmFromFile",
    "rbl",
    "rsub",
    "rx",
    "rxGlobal",
    "streq",
    "strmatch",
    "unconditionalMatch",
    "validateByteRange",
    "validateDTD",
    "validateHash",
    "validateSchema",
    "validateUrlEncoding",
    "validateUtf8Encoding",
    "verifyCC",
    "verifyCPF",
    "verifySSN",
    "verifySVNR",
    "within",
];

/// The canonical spelling of an operator name.
pub fn canonical_operator(name: &str) -> &str {
    OPERATORS
        .iter()
        .copied()
        .find(|op| op.eq_ignore_ascii_case(name))
        .unwrap_or(name)
}

/// The SecLang name of a transformation as the JSON names it (`cmd_line` is `cmdLine`).
pub fn canonical_transformation(name: &str) -> &str {
    match name {
        "cmd_line" => "cmdLine",
        other => other,
    }
}

/// libmodsecurity's `json2bin`: literal `\xHH` → byte, then literal `\uHHHH` → low byte.
pub fn json2bin(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v = replace_escapes(v, b'x', 2);
    replace_escapes(v, b'u', 4)
}

/// Finds the first `\<tag>` + `digits` hex escape, replaces every occurrence of that exact
/// escape by its byte, and repeats, as libmodsecurity's loop does.
fn replace_escapes(mut v: Vec<u8>, tag: u8, digits: usize) -> Vec<u8> {
    loop {
        let Some(pos) = (0..v.len()).find(|&i| {
            v.get(i) == Some(&b'\\')
                && v.get(i + 1) == Some(&tag)
                && v.get(i + 2..i + 2 + digits)
                    .is_some_and(|d| d.iter().all(u8::is_ascii_hexdigit))
        }) else {
            return v;
        };
        let esc: Vec<u8> = v[pos..pos + 2 + digits].to_vec();
        let hex = std::str::from_utf8(&esc[2..]).unwrap_or("0");
        let byte = (u32::from_str_radix(hex, 16).unwrap_or(0) & 0xff) as u8;
        let mut out = Vec::with_capacity(v.len());
        let mut i = 0;
        while i < v.len() {
            if v[i..].starts_with(&esc) {
                out.push(byte);
                i += esc.len();
            } else {
                out.push(v[i]);
                i += 1;
            }
        }
        v = out;
    }
}

/// Runs one case; the id and title are made by the caller.
pub fn run_case(case: &Case, files: &dyn DataFiles) -> Outcome {
    let input = json2bin(&case.input);
    match case.kind.as_str() {
        "op" => {
            let name = canonical_operator(&case.name);
            let op = match wafer::operators::compile(name, &case.param, files) {
                Ok(op) => op,
                Err(e) => return Outcome::Fail(format!("compile error: {e}")),
            };
            let mut out = OpOutput {
                want_captures: case.re_groups.is_some(),
                ..OpOutput::default()
            };
            let got = op.matches(&input, &mut out);
            if i64::from(got) != case.ret {
                return Outcome::Fail(format!("expected ret {}, got {}", case.ret, i64::from(got)));
            }
            if let Some(groups) = &case.re_groups {
                let want: Vec<Vec<u8>> = groups.iter().map(|g| g.as_bytes().to_vec()).collect();
                let got = out.captures.to_vecs();
                if got != want {
                    let show = |v: &[Vec<u8>]| {
                        v.iter()
                            .map(|c| show_bytes(c))
                            .collect::<Vec<_>>()
                            .join("\", \"")
                    };
                    return Outcome::Fail(format!(
                        "captures: expected [\"{}\"], got [\"{}\"]",
                        show(&want),
                        show(&got)
                    ));
                }
            }
            Outcome::Pass
        }
        "tfn" => {
            let name = canonical_transformation(&case.name);
            let Some(f) = wafer::transformations::lookup(name) else {
                return Outcome::Fail(format!("unknown transformation t:{name}"));
            };
            let want = json2bin(case.output.as_deref().unwrap_or(""));
            let got = wafer::transformations::owned(f, &input).unwrap_or_else(|| input.clone());
            if got == want {
                Outcome::Pass
            } else {
                Outcome::Fail(format!(
                    "expected \"{}\", got \"{}\"",
                    show_bytes(&want),
                    show_bytes(&got)
                ))
            }
        }
        other => Outcome::Fail(format!("unknown case type {other:?}")),
    }
}

/// Runs every case under `dir` (`…/secrules-language-tests`) whose id or title contains
/// `filter`. Ids are `<operators|transformations>/<file stem>:<index>`.
pub fn run(dir: &Path, files: &dyn DataFiles, filter: Option<&str>) -> Result<SuiteReport, String> {
    let mut report = SuiteReport::new("secrules", "engine");
    for sub in ["operators", "transformations"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
            .map_err(|e| format!("{}: {e}", dir.join(sub).display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let cases: Vec<Case> =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("?");
            for (i, case) in cases.iter().enumerate() {
                let id = format!("{sub}/{stem}:{i}");
                let title = if case.kind == "op" {
                    format!("@{} {:?} on {:?}", case.name, case.param, case.input)
                } else {
                    format!("t:{} on {:?}", case.name, case.input)
                };
                if filter.is_some_and(|f| !id.contains(f) && !title.contains(f)) {
                    continue;
                }
                let outcome = match &case.resource {
                    Some(r) => Outcome::Skip(format!("needs {r}")),
                    None => run_case(case, files),
                };
                report.results.push(CaseResult { id, title, outcome });
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json2bin_decodes_like_libmodsecurity() {
        assert_eq!(json2bin(r"a\x00b\x41"), b"a\x00bA");
        assert_eq!(json2bin(r"\u00e9\u0141"), b"\xe9\x41");
        // A real (JSON-decoded) character stays UTF-8.
        assert_eq!(json2bin("é"), "é".as_bytes());
        // An escape produced by an earlier replacement is decoded again.
        assert_eq!(json2bin(r"\x5cx41"), b"A");
        assert_eq!(json2bin(r"\xZZ"), br"\xZZ");
    }

    #[test]
    fn names_are_canonicalised() {
        assert_eq!(canonical_operator("verifycpf"), "verifyCPF");
        assert_eq!(canonical_operator("rx"), "rx");
        assert_eq!(canonical_transformation("cmd_line"), "cmdLine");
    }

    #[test]
    fn disk_files_refuse_parent_segments() {
        let f = DiskFiles::new(Path::new("/nonexistent"));
        assert!(f.read("test-cases/../etc/passwd").is_none());
    }
}
