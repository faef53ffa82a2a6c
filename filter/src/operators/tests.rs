//! Data-driven operator tests: ModSecurity's SecRules language test set
//! (`modsecurity-tests/secrules-language-tests/operators/*.json`, every case) and a check
//! that every CRS `@rx` compiles. Not here: per-operator unit tests (next to each operator).
//!
//! The shared data lives outside the repository. It is found from `WAFER_SHARED_DIR` (the
//! `shared/` directory) or `CRS_DIR` (the CRS release directory), else by walking up from
//! `CARGO_MANIFEST_DIR` to the first ancestor that has a `shared/` sibling, so the tests
//! run from `/work/main/filter`, from a worktree, or from a clone elsewhere next to `shared/`.

use std::path::{Path, PathBuf};

use super::{compile, DataFiles, OpOutput};

/// The `shared/` directory with `modsecurity-tests/` and `crs/`.
fn shared_dir() -> PathBuf {
    if let Ok(d) = std::env::var("WAFER_SHARED_DIR") {
        return PathBuf::from(d);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|a| a.join("shared"))
        .find(|s| s.join("modsecurity-tests").is_dir())
        .unwrap_or_else(|| {
            panic!(
                "no shared/ directory above {}; set WAFER_SHARED_DIR",
                manifest.display()
            )
        })
}

fn crs_dir() -> PathBuf {
    match std::env::var("CRS_DIR") {
        Ok(d) => PathBuf::from(d),
        Err(_) => shared_dir().join("crs/v4.28.0"),
    }
}

/// Data files for the test set: `test-cases/…` paths (as written in the JSON files) map to
/// the `modsecurity-tests/` directory; other paths to `modsecurity-tests/data/`.
struct TestFiles(PathBuf);

impl DataFiles for TestFiles {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        let p = match path.strip_prefix("test-cases/") {
            Some(rest) => self.0.join(rest),
            None => self.0.join("data").join(path),
        };
        std::fs::read(p).ok()
    }
}

/// Turns a test-set `input` string into bytes the way ModSecurity's unit runner does
/// (`test/unit/unit_test.cc`): YAJL hands over a C string (so a JSON `\u0000` ends it),
/// then `json2bin` replaces the literal text `\xHH` and then `\uHHHH` by one byte each.
/// `\0` and other backslash sequences stay literal text.
fn json2bin(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let b = &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())];
    let hex = |d: &[u8]| {
        std::str::from_utf8(d)
            .ok()
            .and_then(|d| u32::from_str_radix(d, 16).ok())
    };
    let pass = |b: &[u8], tag: u8, n: usize| {
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\' && b.get(i + 1) == Some(&tag) {
                if let Some(v) = b.get(i + 2..i + 2 + n).and_then(hex) {
                    out.push((v & 0xff) as u8);
                    i += 2 + n;
                    continue;
                }
            }
            out.push(b[i]);
            i += 1;
        }
        out
    };
    pass(&pass(b, b'x', 2), b'u', 4)
}

/// Operators whose cases may fail until the pure-Rust libinjection lands in
/// `operators/libinjection/` (its functions are stubs for now). Passing cases still count.
const PENDING_LIBINJECTION: &[&str] = &["detectSQLi", "detectXSS"];

/// Cases skipped, each with its reason: (operator, parameter or `None` for all, reason).
const SKIPS: &[(&str, Option<&str>, &str)] = &[
    ("geoLookup", None, "@geoLookup is not supported (no GeoIP database); compile must fail"),
    (
        "rx",
        Some(r"<\?(?!xml)"),
        "look-ahead is not supported by the linear-time regex engine (by design); compile must fail",
    ),
    (
        "rxGlobal",
        Some(r"<\?(?!xml)"),
        "look-ahead is not supported by the linear-time regex engine (by design); compile must fail",
    ),
];

/// Cases whose `re_groups` are not checked (their `ret` still is): in `rxGlobal.json` these
/// two list only the first match's groups, as copied from `rx.json`, which contradicts both
/// libmodsecurity's `Regex::searchGlobal` (every match, numbered on) and the file's other
/// multi-match case (`(^|a)(b|c)(d)` on `bdacd`). ModSecurity's runner never reads
/// `re_groups`. Entries: (operator, parameter, input).
const GROUPS_UNCHECKED: &[(&str, &str, &str)] = &[
    ("rxGlobal", "(a|b|1|2)(a|b|1|2)", "a2b1"),
    ("rxGlobal", "[a-z]\n", "a\nb\nc\n"),
];

/// Cases whose parameter libmodsecurity itself rejects at `init` (its unit runner ignores
/// that and then sees no match, `ret: 0`); we reject it at compile time.
const INVALID_PARAMS: &[(&str, &str)] = &[("ipMatch", "10.0.0.0/100")];

#[test]
fn secrules_language_tests_operators() {
    let root = shared_dir().join("modsecurity-tests");
    let files = TestFiles(root.clone());
    let dir = root.join("secrules-language-tests/operators");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 29,
        "expected the operator test files in {}",
        dir.display()
    );

    let (mut passed, mut failed, mut skipped, mut pending) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("read test file");
        let cases: Vec<serde_json::Value> = serde_json::from_str(&text).expect("parse test file");
        for case in cases {
            let name = case["name"].as_str().expect("name");
            let param = case["param"].as_str().unwrap_or("");
            let input = json2bin(case["input"].as_str().expect("input"));
            let ret = case["ret"].as_i64().expect("ret") == 1;
            let raw_input = case["input"].as_str().unwrap_or("");
            let check_groups = !GROUPS_UNCHECKED
                .iter()
                .any(|&(n, p, i)| n == name && p == param && i == raw_input);
            let groups: Option<Vec<Vec<u8>>> =
                case.get("re_groups").and_then(|g| g.as_array()).map(|a| {
                    a.iter()
                        .map(|v| v.as_str().unwrap_or("").as_bytes().to_vec())
                        .collect()
                });
            let label = format!(
                "{}: @{name} {param:?} on {:?}",
                path.display(),
                String::from_utf8_lossy(&input)
            );

            if let Some((_, _, why)) = SKIPS
                .iter()
                .find(|(n, p, _)| *n == name && p.is_none_or(|p| p == param))
            {
                // A skipped case still asserts that we refuse it loudly.
                assert!(
                    compile(name, param, &files).is_err(),
                    "{label}: expected a compile error ({why})"
                );
                skipped += 1;
                continue;
            }
            let outcome = match compile(name, param, &files) {
                Err(e) if INVALID_PARAMS.contains(&(name, param)) && !ret => {
                    assert!(
                        e.contains(name),
                        "{label}: error should name the operator: {e}"
                    );
                    Ok(())
                }
                Err(e) => Err(format!("{label}: compile error: {e}")),
                Ok(op) => {
                    let mut out = OpOutput {
                        want_captures: groups.is_some(),
                        ..Default::default()
                    };
                    let got = op.matches(&input, &mut out);
                    if got != ret {
                        Err(format!("{label}: expected {ret}, got {got}"))
                    } else if check_groups
                        && groups
                            .as_ref()
                            .is_some_and(|g| *g != out.captures.to_vecs())
                    {
                        Err(format!(
                            "{label}: expected groups {groups:?}, got {:?}",
                            out.captures.to_vecs()
                        ))
                    } else {
                        Ok(())
                    }
                }
            };
            match outcome {
                Ok(()) => passed += 1,
                Err(_) if PENDING_LIBINJECTION.contains(&name) => pending += 1,
                Err(msg) => {
                    failed += 1;
                    failures.push(msg);
                }
            }
        }
    }
    println!(
        "secrules-language-tests/operators: {passed} passed, {failed} failed, {skipped} skipped, \
         {pending} pending libinjection"
    );
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    assert!(passed > 3900, "too few cases ran: {passed}");
}

#[test]
fn ip_match_from_file_reads_list_with_comments() {
    let files = TestFiles(shared_dir().join("modsecurity-tests"));
    let op = compile("ipMatchFromFile", "ipMatchFromFile.txt", &files).expect("compile");
    let mut out = OpOutput::default();
    for (ip, want) in [
        ("127.0.0.1", true),
        ("10.10.10.1", true),
        ("::1", true),
        ("10.10.10.2", false),
    ] {
        assert_eq!(op.matches(ip.as_bytes(), &mut out), want, "{ip}");
    }
    assert!(compile("ipMatchF", "missing.txt", &files)
        .unwrap_err()
        .contains("missing.txt"));
}

#[test]
fn unsupported_and_unknown_operators_are_named() {
    let files = TestFiles(PathBuf::new());
    for name in [
        "rbl",
        "inspectFile",
        "fuzzyHash",
        "validateDTD",
        "validateSchema",
        "validateHash",
        "gsbLookup",
    ] {
        let e = compile(name, "x", &files).unwrap_err();
        assert!(
            e.contains(&format!("@{name}")) && e.contains("not supported"),
            "{e}"
        );
    }
    assert_eq!(
        compile("bogus", "", &files).unwrap_err(),
        "unknown operator @bogus"
    );
}

/// Extracts every `@rx` parameter from SecLang text: continuation lines are joined,
/// comments dropped, and `\"` inside the quoted operator is unescaped.
fn crs_rx_params(text: &str) -> Vec<String> {
    let mut joined = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(l) => joined.push_str(l),
            None => {
                joined.push_str(line);
                joined.push('\n');
            }
        }
    }
    let mut out = Vec::new();
    let mut rest = joined.as_str();
    while let Some(at) = rest.find("@rx ") {
        let quoted = rest[..at].ends_with('"') || rest[..at].ends_with("\"!");
        let after = &rest[at + 4..];
        let mut param = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' if after[i + 1..].starts_with('"') => {
                    param.push('"');
                    chars.next();
                }
                '"' if quoted => {
                    end = i;
                    break;
                }
                _ => param.push(c),
            }
        }
        out.push(param);
        rest = &after[end.min(after.len())..];
    }
    out
}

#[test]
fn every_crs_rx_compiles() {
    let rules = crs_dir().join("rules");
    let mut n = 0;
    let mut errors = Vec::new();
    let files = TestFiles(PathBuf::new());
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&rules)
        .unwrap_or_else(|e| panic!("{}: {e} (set CRS_DIR)", rules.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path).expect("read rule file");
        for param in crs_rx_params(&text) {
            if param.contains("%{") {
                continue; // macro: compiled per transaction after expansion
            }
            n += 1;
            if let Err(e) = compile("rx", &param, &files) {
                errors.push(format!("{}: {e}", path.display()));
            }
        }
    }
    println!(
        "CRS @rx: {} compiled, {} failed",
        n - errors.len(),
        errors.len()
    );
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert!(n > 300, "too few @rx found: {n}");
}

#[test]
fn display_names_follow_libmodsecurity() {
    use super::display_name;
    assert_eq!(display_name("rx"), "Rx");
    assert_eq!(display_name("STREQ"), "StrEq");
    assert_eq!(display_name("pmf"), "PmFromFile");
    assert_eq!(display_name("detectSQLi"), "DetectSQLi");
    assert_eq!(display_name("frob"), "frob");
}

/// What `needs_classes` promises: a value with none of the classes an operator names never
/// matches it. Pseudo-random values over bytes of every class; each operator also matches
/// some of them, so neither side of the check is empty.
#[test]
fn a_value_without_the_classes_an_operator_needs_never_matches_it() {
    use crate::transformations::{class, classes, tests::random_values};
    struct NoFiles;
    impl DataFiles for NoFiles {
        fn read(&self, _: &str) -> Option<Vec<u8>> {
            None
        }
    }
    let cases: &[(&str, &str, u32, &[u8])] = &[
        // CRS 920540.
        ("rx", r"(?i)\x5cu[0-9a-f]{4}", class::BSLASH, b"\\u0aF9"),
        (
            "rx",
            r"(?i)(?:\.\./|/etc/)|<scr",
            class::SLASH | class::OTHER,
            b"a/etc/x",
        ),
        ("pm", "a/b c.d", class::SLASH | class::OTHER, b"xc.dx"),
        // CRS 920270, 920272.
        ("validateByteRange", "1-255", class::NUL, b"a\0b"),
        (
            "validateByteRange",
            "32-126",
            class::NUL | class::WS | class::OTHER | class::HIGH,
            b"caf\xc3\xa9",
        ),
        // CRS 920250.
        ("validateUtf8Encoding", "", class::HIGH, b"\xc3("),
    ];
    let alphabet = b"\\uU0a9fF/etc.d <scrb-*%+&;#'\"\0\t\xc3\xa9\xff(";
    for &(name, param, needs, example) in cases {
        let op = compile(name, param, &NoFiles).expect("compiles");
        assert_eq!(op.needs_classes(), needs, "@{name} {param}");
        assert!(
            op.matches(example, &mut OpOutput::default()),
            "@{name} {param} matches {example:?}"
        );
        let mut without = 0;
        for v in random_values(0x9e37_79b9_7f4a_7c15, alphabet, 30_000) {
            if classes(&v) & needs == 0 {
                without += 1;
                assert!(
                    !op.matches(&v, &mut OpOutput::default()),
                    "@{name} {param} matched {v:?}, which has none of the classes it needs"
                );
            }
        }
        assert!(without > 100, "@{name} {param}: {without} values without");
    }
    // No class to name: a literal of letters only, a rejected lower-case letter.
    for (name, param) in [
        ("rx", "(?i)select|/"),
        ("pm", "union select"),
        ("validateByteRange", "1-96"),
    ] {
        let op = compile(name, param, &NoFiles).expect("compiles");
        assert_eq!(op.needs_classes(), 0, "@{name} {param}");
    }
}
