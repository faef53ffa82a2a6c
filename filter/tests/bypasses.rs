//! Known WAF bypasses, replayed against the engine as regression tests (issue 8).
//!
//! Each test rebuilds the attack request of a published bypass (ModSecurity, Coraza and CRS
//! advisories; the source is cited above each test) and asserts that Wafer catches it: a CRS
//! rule id among the matches, a `REQBODY_ERROR` / `MULTIPART_STRICT_ERROR` answered with 400
//! by the rules of `@recommended-conf`, or a 413 for a body over the limit. Where CRS would
//! blur what is being checked, a minimal rule set shows the engine behaviour exactly (a rule
//! on `REQUEST_FILENAME` or `ARGS` that would miss if parsing differed).
//!
//! CRS comes from the embedded bundle (`@owasp_crs/`, byte-for-byte CRS 4.28.0, see
//! `bundle.rs`), so these tests need no `CRS_DIR` and no filesystem.
//!
//! Not here: the proxy-wasm side of the same bypasses (trailers ending a request stream,
//! body callbacks after a header pause); those belong to `host-test`.

use std::sync::{Arc, OnceLock};

use wafer::{RuleSet, Transaction};

// ---- shared helpers ---------------------------------------------------------------------

/// Compiles `text` with the embedded bundle available to `Include`.
fn compile(text: &str) -> Arc<RuleSet> {
    let files = wafer::bundle::file_set().expect("embedded bundle");
    Arc::new(RuleSet::compile("bypasses.conf", text, &files).expect("rules compile"))
}

/// The deployment default: `@recommended-conf`, CRS setup and all CRS rules (compiled once).
fn crs() -> Arc<RuleSet> {
    static CRS: OnceLock<Arc<RuleSet>> = OnceLock::new();
    CRS.get_or_init(|| {
        compile("Include @recommended-conf\nInclude @crs-setup-conf\nInclude @owasp_crs/*.conf")
    })
    .clone()
}

/// `@recommended-conf` followed by `extra` (settings after the Include override it).
fn recommended(extra: &str) -> Arc<RuleSet> {
    compile(&format!("Include @recommended-conf\n{extra}\n"))
}

/// Headers a browser sends, so that CRS protocol rules stay quiet about their absence.
const BROWSER: [(&str, &str); 3] = [
    ("Host", "shop.example"),
    (
        "User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    ),
    ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
];

/// Runs a whole transaction: request line, `BROWSER` headers plus `headers`, the body in
/// `chunks`, then a 200 text/html response and logging. Stops where the engine interrupts.
fn send(
    rs: &Arc<RuleSet>,
    method: &str,
    uri: &[u8],
    headers: &[(&str, &str)],
    chunks: &[&[u8]],
) -> Transaction {
    let mut tx = Transaction::new(rs.clone(), "bypass-1");
    tx.set_request_line(method, uri, "HTTP/1.1");
    for (k, v) in BROWSER.iter().chain(headers) {
        tx.add_request_header(k.as_bytes(), v.as_bytes());
    }
    let len: usize = chunks.iter().map(|c| c.len()).sum();
    if len > 0 {
        tx.add_request_header(b"Content-Length", len.to_string().as_bytes());
    }
    if tx.process_request_headers().is_some() {
        return tx;
    }
    for c in chunks {
        if tx.append_request_body(c).is_some() {
            return tx;
        }
    }
    if tx.process_request_body().is_some() {
        return tx;
    }
    tx.set_response_status(200, "HTTP/1.1");
    tx.add_response_header(b"Content-Type", b"text/html");
    if tx.process_response_headers().is_none() {
        let _ = tx.append_response_body(b"<html>ok</html>");
        let _ = tx.process_response_body();
    }
    tx.process_logging();
    tx
}

/// [`send`] with a single body chunk.
fn post(rs: &Arc<RuleSet>, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> Transaction {
    send(rs, "POST", uri.as_bytes(), headers, &[body])
}

/// Ids of every rule that matched, in order.
fn ids(tx: &Transaction) -> Vec<u64> {
    tx.matches().iter().map(|m| m.id).collect()
}

/// (status, rule id) of the interruption, if any.
fn verdict(tx: &Transaction) -> Option<(u16, Option<u64>)> {
    tx.intervention().map(|i| (i.status, i.rule_id))
}

/// Asserts that rule `id` matched, and that the request was stopped.
#[track_caller]
fn assert_caught_by(tx: &Transaction, id: u64) {
    assert!(
        ids(tx).contains(&id),
        "rule {id} did not match; matched {:?}",
        ids(tx)
    );
    assert!(
        tx.intervention().is_some(),
        "rule {id} matched but nothing blocked"
    );
}

/// Asserts the request was answered with 400 by recommended rule `id`.
#[track_caller]
fn assert_400_by(tx: &Transaction, id: u64) {
    assert_eq!(
        verdict(tx),
        Some((400, Some(id))),
        "matched {:?}; log: {}",
        ids(tx),
        tx.intervention().map(|i| i.log.as_str()).unwrap_or("")
    );
}

/// Joins lines with CRLF, a CRLF after the last one too (what browsers send).
fn crlf(lines: &[&str]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| [l.as_bytes(), b"\r\n"])
        .flatten()
        .copied()
        .collect()
}

const MP_CT: (&str, &str) = ("Content-Type", "multipart/form-data; boundary=boundary");
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const JSON: (&str, &str) = ("Content-Type", "application/json");

// ---- sanity: the harness can tell a clean request from an attack -------------------------

#[test]
fn benign_requests_pass_crs_and_a_plain_attack_is_blocked() {
    let rs = crs();
    let ok = post(&rs, "/login", &[FORM], b"user=alice&pass=correct+horse");
    assert_eq!(verdict(&ok), None, "matched {:?}", ids(&ok));
    let body = crlf(&[
        "--boundary",
        "Content-Disposition: form-data; name=\"comment\"",
        "",
        "hello world",
        "--boundary",
        "Content-Disposition: form-data; name=\"upload\"; filename=\"notes.txt\"",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "just text",
        "--boundary--",
    ]);
    let ok = post(&rs, "/upload", &[MP_CT], &body);
    assert_eq!(verdict(&ok), None, "matched {:?}", ids(&ok));
    let bad = post(&rs, "/login", &[FORM], b"user=%27+or+1%3D1--&pass=x");
    assert_caught_by(&bad, 942100);
}

// ---- multipart parsing differentials -------------------------------------------------------

/// CVE-2022-48279 (ModSecurity < 2.9.6 / 3.0.8; fixed by owasp-modsecurity/ModSecurity#2795,
/// "Multipart parsing fixes and new MULTIPART_PART_HEADERS collection"). PHP drops bytes it
/// does not expect in a part header name, so for PHP the first header below is the
/// `Content-Disposition` of an uploaded `1.php`, while an old ModSecurity ignored it as an
/// unknown header and saw a harmless form field `post`. The four payloads are those of CRS
/// `tests/regression/tests/REQUEST-922-MULTIPART-ATTACK/922130.yaml` (coreruleset#3796):
/// a leading `\x0e`, a `\x0e` before the colon, a space inside the name, and a DEL byte.
/// Since 3.0.8 the part header is an error ("contains invalid character") → 200002 → 400.
#[test]
fn cve_2022_48279_bad_bytes_in_part_header_names_are_rejected() {
    let rs = crs();
    for bad in [
        "\x0eContent-Disposition",
        "Content-Disposition\x0e",
        "Content- Disposition",
        "Content\x7f-Disposition",
    ] {
        let first = format!("{bad}: form-data; name=\"file\"; filename=\"1.php\"");
        let body = crlf(&[
            "--boundary",
            &first,
            "Content-Disposition: form-data; name=\"post\"",
            "",
            "<?php var_dump(file_get_contents(\"/etc/passwd\"));",
            "--boundary--",
        ]);
        let tx = post(&rs, "/post", &[MP_CT], &body);
        assert_400_by(&tx, 200002);
        let log = &tx.intervention().unwrap().log;
        assert!(log.contains("contains invalid character"), "{bad:?}: {log}");
    }
}

/// A NUL in a part header: C parsers (ModSecurity v2/v3 compare part headers as C strings)
/// and backends disagree on where the header ends. libmodsecurity reports
/// "Multipart: Nul byte in part headers." (`multipart.cc`, `process_part_header`).
#[test]
fn nul_byte_in_part_headers_is_rejected() {
    let body = crlf(&[
        "--boundary",
        "Content-Disposition: form-data; name=\"a\"\0; filename=\"shell.php\"",
        "",
        "x",
        "--boundary--",
    ]);
    let tx = post(&crs(), "/", &[MP_CT], &body);
    assert_400_by(&tx, 200002);
    // The NUL line is dropped, so the part then lacks its Content-Disposition: like v3,
    // the last part-header message is the one REQBODY_ERROR_MSG keeps.
    let log = &tx.intervention().unwrap().log;
    assert!(log.contains("Multipart parsing error"), "{log}");
}

/// A part with two Content-Disposition headers: libmodsecurity v3 silently ignores the
/// second one (`process_part_header` returns `false`, which its caller compares with
/// `< 0`), so it sees the form field `post` while a backend that takes the last header
/// (PHP, for one) stores an uploaded `shell.php` that the WAF never saw as a file.
/// ModSecurity v2 rejects it ("Multipart: Duplicate part header", `msc_multipart.c`, and
/// its regression test "MULTIPART_FILENAME with duplicate CD header"); so does Wafer.
#[test]
fn duplicate_content_disposition_in_a_part_is_rejected() {
    let body = crlf(&[
        "--boundary",
        "Content-Disposition: form-data; name=\"post\"",
        "Content-Disposition: form-data; name=\"file\"; filename=\"shell.php\"",
        "",
        "GIF89a",
        "--boundary--",
    ]);
    let tx = post(&crs(), "/upload", &[MP_CT], &body);
    assert_400_by(&tx, 200002);
    assert!(tx
        .intervention()
        .unwrap()
        .log
        .contains("Duplicate part header"));
}

/// MODSEC-312 (owasp-modsecurity/ModSecurity#460, "Multipart evasion leads to rule bypass
/// with a PHP backend"): PHP accepts a single quote as a quote character anywhere in a
/// Content-Disposition parameter, ModSecurity only at the start. With the header below PHP
/// sees a form field `payload`, an old ModSecurity a file upload. Since 2.7 any single
/// quote in an unquoted (or single-quoted) name/filename sets MULTIPART_INVALID_QUOTING
/// (narrowed by ModSecurity#2661 to allow `name="ab'cd"`) → strict error → 200003 → 400.
#[test]
fn modsec_312_single_quotes_in_content_disposition_are_a_strict_error() {
    let rs = crs();
    for cd in [
        "Content-Disposition: form-data; name=x';filename=\"';name=payload;\"",
        "Content-Disposition: form-data; name='payload'",
        "Content-Disposition: form-data; name=\"a\"; filename=ab'cd.php",
    ] {
        let body = crlf(&[
            "--boundary",
            cd,
            "",
            "1 union select password from users",
            "--boundary--",
        ]);
        let tx = post(&rs, "/", &[MP_CT], &body);
        assert_400_by(&tx, 200003);
        assert!(tx.intervention().unwrap().log.contains("IQ 1"), "{cd}");
    }
    // ModSecurity#2661: a single quote inside a double-quoted value is legitimate.
    let body = crlf(&[
        "--boundary",
        "Content-Disposition: form-data; name=\"o'brien\"",
        "",
        "hello",
        "--boundary--",
    ]);
    assert_eq!(verdict(&post(&rs, "/", &[MP_CT], &body)), None);
}

/// CRS CVE-2026-21876: rule 922110 (illegal `charset` in a part's Content-Type) only looked
/// at the last part, so a UTF-7 part followed by a UTF-8 part passed; UTF-7 smuggles
/// `<img src=x>` as `+ADw-img+ACA-src+AD0-x+AD4-` past every other rule. The fixed rule
/// (922140/922150 collect every part's Content-Type into `TX:MULTIPART_HEADERS_CONTENT_TYPES_*`)
/// is in CRS 4.28.0; these are tests 2 and 4 of its `922110.yaml` (sent with CRLF here, so
/// that the strict multipart check does not answer first).
#[test]
fn crs_cve_2026_21876_charset_of_an_earlier_part_is_checked() {
    let rs = crs();
    for (first, second) in [("username", "dummy"), ("username", "username")] {
        let a = format!("Content-Disposition: form-data; name=\"{first}\"");
        let b = format!("Content-Disposition: form-data; name=\"{second}\"");
        let body = crlf(&[
            "------WebKitFormBoundary",
            &a,
            "Content-Type: text/plain; charset=utf-7",
            "",
            "+ADw-img+ACA-src+AD0-x+AD4-",
            "------WebKitFormBoundary",
            &b,
            "Content-Type: text/plain; charset=utf-8",
            "",
            "test",
            "------WebKitFormBoundary--",
        ]);
        let ct = (
            "Content-Type",
            "multipart/form-data; boundary=----WebKitFormBoundary",
        );
        let tx = post(&rs, "/", &[ct], &body);
        assert_caught_by(&tx, 922110);
    }
    // Control: the same request with UTF-8 in both parts passes.
    let body = crlf(&[
        "------WebKitFormBoundary",
        "Content-Disposition: form-data; name=\"username\"",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "bob",
        "------WebKitFormBoundary",
        "Content-Disposition: form-data; name=\"dummy\"",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "test",
        "------WebKitFormBoundary--",
    ]);
    let ct = (
        "Content-Type",
        "multipart/form-data; boundary=----WebKitFormBoundary",
    );
    let tx = post(&rs, "/", &[ct], &body);
    assert!(!ids(&tx).contains(&922110), "{:?}", ids(&tx));
    assert_eq!(verdict(&tx), None, "{:?}", ids(&tx));
}

/// Backslashes in a filename: some backends drop them, so `1.j\s\p` is stored as `1.jsp`
/// (CRS report 3MU-240701-2, fixed by coreruleset#3799: rule 920120 rejects `\` in FILES
/// and FILES_NAMES). ModSecurity only unescapes `\"` and `\\` inside quoted values, so the
/// backslashes reach the rule.
#[test]
fn backslashes_in_a_filename_are_caught() {
    let body = crlf(&[
        "-----------------------------265001916915724",
        "Content-Disposition: form-data; name=\"test\"; filename=\"1.j\\s\\p\"",
        "Content-Type: application/octet-stream",
        "",
        "helloworld",
        "-----------------------------265001916915724--",
    ]);
    let ct = (
        "Content-Type",
        "multipart/form-data; boundary=---------------------------265001916915724",
    );
    let tx = post(&crs(), "/", &[ct], &body);
    assert_caught_by(&tx, 920120);
}

/// An escaped quote in a quoted `name`: ModSecurity reads `name="a\"; filename=\"x.php"` as
/// one field named `a"; filename="x.php` (no file), a backend without quoted-pair support
/// as field `a\` with a file `x.php`. The field name with `"`, `;` and `=` is visible to
/// rules: this shows it lands in ARGS_NAMES (where a rule can see it) and not in FILES.
#[test]
fn escaped_quote_in_a_part_name_stays_visible_as_an_argument_name() {
    let rs = recommended(
        r#"SecRule ARGS_NAMES "@contains filename=" "id:10,phase:2,deny,status:403"
SecRule &FILES "!@eq 0" "id:11,phase:2,deny,status:406""#,
    );
    let body = crlf(&[
        "--boundary",
        r#"Content-Disposition: form-data; name="a\"; filename=\"x.php""#,
        "",
        "<?php system($_GET['c']); ?>",
        "--boundary--",
    ]);
    let tx = post(&rs, "/", &[MP_CT], &body);
    assert_eq!(verdict(&tx), Some((403, Some(10))), "{:?}", ids(&tx));
}

/// Two `boundary` parameters: backends disagree on which one counts (first or last), so
/// ModSecurity refuses the body ("Multipart: Multiple boundary parameters in C-T.",
/// `Multipart::init`) → 200002 → 400.
#[test]
fn duplicate_boundary_parameters_are_rejected() {
    let body = crlf(&[
        "--b",
        "Content-Disposition: form-data; name=\"q\"",
        "",
        "' or 1=1 --",
        "--b--",
    ]);
    let ct = (
        "Content-Type",
        "multipart/form-data; boundary=a; boundary=b",
    );
    let tx = post(&crs(), "/", &[ct], &body);
    assert_400_by(&tx, 200002);
    assert!(tx.intervention().unwrap().log.contains("Multiple boundary"));
}

/// A second final boundary, and data after the final boundary: a backend that reads on
/// past the first `--boundary--` would see parts the WAF never parsed. ModSecurity sets
/// MULTIPART_DATA_AFTER → 200003 → 400.
#[test]
fn data_after_the_final_boundary_is_rejected() {
    let body = crlf(&[
        "--boundary",
        "Content-Disposition: form-data; name=\"a\"",
        "",
        "harmless",
        "--boundary--",
        "--boundary",
        "Content-Disposition: form-data; name=\"b\"",
        "",
        "<script>alert(1)</script>",
        "--boundary--",
    ]);
    let tx = post(&crs(), "/", &[MP_CT], &body);
    assert_400_by(&tx, 200003);
    assert!(tx.intervention().unwrap().log.contains("DA 1"));
}

/// A line that looks like a boundary but is not ours (a backend using another boundary,
/// e.g. from a second Content-Type header, splits the body there). ModSecurity sets
/// MULTIPART_UNMATCHED_BOUNDARY to 1, and to 2 once one of our boundaries follows; the
/// recommended 200004 (`@eq 1`, as in modsecurity.conf-recommended) tolerates 2, because the
/// WAF then reads the foreign "part" as data of the current part and inspects it there. So:
/// CRS sees the smuggled `<script>` in ARGS:a, and a strict `!@eq 0` rule rejects the body.
#[test]
fn unmatched_boundary_content_is_inspected_and_strict_rule_rejects_it() {
    let body = crlf(&[
        "--boundary",
        "Content-Disposition: form-data; name=\"a\"",
        "",
        "harmless",
        "--other",
        "Content-Disposition: form-data; name=\"b\"",
        "",
        "<script>alert(1)</script>",
        "--boundary--",
    ]);
    let tx = post(&crs(), "/", &[MP_CT], &body);
    assert_caught_by(&tx, 941100);
    assert!(
        tx.matches()
            .iter()
            .any(|m| m.id == 941100 && m.matched_var().0 == "ARGS:a"),
        "the foreign part is inspected as data of part a"
    );
    let strict = recommended(
        r#"SecRule MULTIPART_UNMATCHED_BOUNDARY "!@eq 0" "id:10,phase:2,deny,status:400""#,
    );
    assert_eq!(
        verdict(&post(&strict, "/", &[MP_CT], &body)),
        Some((400, Some(10)))
    );
}

/// LF-only line endings: RFC 2046 delimits parts with CRLF; parsers that accept bare LF
/// and parsers that do not see different parts. ModSecurity sets MULTIPART_LF_LINE →
/// 200003 → 400.
#[test]
fn lf_only_lines_are_a_strict_error() {
    let body = b"--boundary\nContent-Disposition: form-data; name=\"a\"\n\nx\n--boundary--\n";
    let tx = post(&crs(), "/", &[MP_CT], body);
    assert_400_by(&tx, 200003);
    assert!(tx.intervention().unwrap().log.contains("LF 1"));
}

/// Folded part headers (obsolete line folding): many backends do not unfold, so the
/// `filename` on the continuation line is theirs or ours only. ModSecurity sets
/// MULTIPART_HEADER_FOLDING → 200003 → 400.
#[test]
fn folded_part_headers_are_a_strict_error() {
    let body = crlf(&[
        "--boundary",
        "Content-Disposition: form-data; name=\"a\";",
        " filename=\"shell.php\"",
        "",
        "<?php phpinfo(); ?>",
        "--boundary--",
    ]);
    let tx = post(&crs(), "/", &[MP_CT], &body);
    assert_400_by(&tx, 200003);
    assert!(tx.intervention().unwrap().log.contains("HF 1"));
}

/// A part with no body section (`\r\n\r\n--boundary` straight after the headers): a
/// backend that honours the RFC 2046 delimiter `CRLF--boundary` swallows the next part
/// into this one's value (terjanq, "WAF bypasses via 0days", item 3; the report behind
/// CVE-2022-48279). ModSecurity flags a boundary where part data should begin as
/// MULTIPART_INVALID_PART → 200003 → 400.
#[test]
fn part_without_a_body_section_is_a_strict_error() {
    let mut body = b"--boundary\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n".to_vec();
    body.extend_from_slice(&crlf(&[
        "--boundary",
        "Content-Disposition: form-data; name=\"b\"; filename=\"x.php\"",
        "",
        "<?php phpinfo(); ?>",
        "--boundary--",
    ]));
    let tx = post(&crs(), "/", &[MP_CT], &body);
    assert_400_by(&tx, 200003);
    assert!(tx.intervention().unwrap().log.contains("IP 1"));
}

// ---- request line ------------------------------------------------------------------------

/// CVE-2024-1019 (libmodsecurity 3.0.0–3.0.11, fixed in 3.0.12): the path was URL-decoded
/// before it was split at `?`, so `%3F` in the path moved the rest of the path into the
/// query string. `/x%3F/secret.sql` then had REQUEST_BASENAME `x` (and an argument
/// `/secret.sql`), so CRS 920440 (restricted extensions on REQUEST_BASENAME) missed it.
#[test]
fn cve_2024_1019_percent_3f_in_the_path_stays_in_the_path() {
    let rs = compile(
        r#"SecRule REQUEST_FILENAME "@streq /x?/secret.sql" "id:1,phase:1,pass,log"
SecRule REQUEST_BASENAME "@streq secret.sql" "id:2,phase:1,pass,log"
SecRule &ARGS_GET "@eq 1" "id:3,phase:1,pass,log"
SecRule ARGS_GET:q "@streq 1" "id:4,phase:1,pass,log"
SecRule QUERY_STRING "@streq q=1" "id:5,phase:1,pass,log""#,
    );
    let tx = send(&rs, "GET", b"/x%3F/secret.sql?q=1", &[], &[]);
    assert_eq!(ids(&tx), vec![1, 2, 3, 4, 5]);
    let tx = send(&crs(), "GET", b"/x%3F/secret.sql", &[], &[]);
    assert_caught_by(&tx, 920440);
}

/// CVE-2025-29914 (Coraza < 3.3.3, GHSA-q9f5-625g-xm39): Go's `url.Parse` read a request
/// target `//bar/uploads/foo.php?a=b` as host `bar` and path `/uploads/foo.php`, so rules
/// on REQUEST_FILENAME saw the wrong path. An origin-form target starting with `//` is a
/// path (RFC 9112 §3.2.1).
#[test]
fn cve_2025_29914_double_slash_is_a_path_not_a_host() {
    let rs = compile(
        r#"SecRule REQUEST_FILENAME "@streq //bar/uploads/foo.php" "id:1,phase:1,deny,status:403"
SecRule REQUEST_FILENAME "@streq /uploads/foo.php" "id:2,phase:1,deny,status:500""#,
    );
    for target in [
        &b"//bar/uploads/foo.php?a=b"[..],
        b"http://shop.example//bar/uploads/foo.php?a=b",
    ] {
        let tx = send(&rs, "GET", target, &[], &[]);
        assert_eq!(
            verdict(&tx),
            Some((403, Some(1))),
            "{:?}",
            String::from_utf8_lossy(target)
        );
    }
}

// ---- headers -----------------------------------------------------------------------------

/// CVE-2023-38199 (Coraza; CRS advisory "CVE-2023-38199 – Multiple Content-Type Headers",
/// coreruleset.org 2023-07-17): the WAF and the backend each pick a different one of two
/// Content-Type headers, so the WAF parses a JSON attack as something else (or not at
/// all). CRS 920620 blocks any request with more than one Content-Type header.
#[test]
fn cve_2023_38199_two_content_type_headers_are_blocked() {
    let tx = post(
        &crs(),
        "/api",
        &[("Content-Type", "text/plain"), JSON],
        br#"{"q":"1' union select password from users--"}"#,
    );
    assert_caught_by(&tx, 920620);
}

// ---- bodies the proxy might not hand over as expected --------------------------------------

/// coraza-proxy-wasm#289 (fixed by #306): with HTTP/2 trailers the last body callback does
/// not carry end-of-stream, and the body was never inspected. At engine level: a body
/// delivered in several chunks (the attack split across them) is inspected once the
/// request ends, and a GET or HEAD with a body is parsed and inspected like a POST.
#[test]
fn coraza_proxy_wasm_289_bodies_are_inspected_whatever_the_method_and_chunking() {
    let rs = crs();
    let chunks: [&[u8]; 3] = [b"id=1%27+un", b"ion+select+pass", b"word+from+users--"];
    for method in ["POST", "GET", "HEAD", "OPTIONS"] {
        let tx = send(&rs, method, b"/item", &[FORM], &chunks);
        assert!(
            ids(&tx).iter().any(|id| (942000..943000).contains(id)),
            "{method}: no SQLi rule matched: {:?}",
            ids(&tx)
        );
        assert!(tx.intervention().is_some(), "{method}: not blocked");
    }
}

// ---- parser resource limits ----------------------------------------------------------------

/// CVE-2021-42717 (libmodsecurity 3.0.0–3.0.5, ModSecurity 2.8.0–2.9.4): deeply nested JSON
/// exhausted the stack (unbounded recursion in the JSON parser). With
/// `SecRequestBodyJsonDepthLimit 512` a deeper body is a REQBODY_ERROR → 200002 → 400, and
/// even 60 000 levels (within the 128 KiB no-files limit) neither crash nor stall.
#[test]
fn cve_2021_42717_deep_json_is_a_body_error_not_a_crash() {
    let rs = crs();
    for depth in [513usize, 10_000, 60_000] {
        let mut body = "[".repeat(depth).into_bytes();
        body.extend_from_slice(&b"]".repeat(depth));
        let tx = post(&rs, "/api", &[JSON], &body);
        assert_400_by(&tx, 200002);
        assert!(tx.intervention().unwrap().log.contains("depth"), "{depth}");
    }
    // Deeper than the no-files limit allows: 413 before anything else.
    let body = "[".repeat(200_000);
    assert_eq!(
        verdict(&post(&rs, "/api", &[JSON], body.as_bytes())),
        Some((413, None))
    );
    let body = format!("{}1{}", r#"{"a":"#.repeat(600), "}".repeat(600));
    assert_400_by(&post(&rs, "/api", &[JSON], body.as_bytes()), 200002);
    // At the limit the body is fine.
    let body = format!("{}{}", "[".repeat(512), "]".repeat(512));
    assert_eq!(verdict(&post(&rs, "/api", &[JSON], body.as_bytes())), None);
}

/// Rules for the sanitise tests: every argument matches, each match asks for `password`
/// and the matched value to be masked; the audit log takes every transaction.
const SANITISE_RULES: &str = r#"SecRuleEngine On
SecRequestBodyAccess On
SecArgumentsLimit 100000
SecAuditEngine On
SecAuditLogParts ABCFHZ
SecRule ARGS "@rx ." "id:1,phase:2,pass,log,auditlog,sanitiseArg:password,sanitiseMatched"
"#;

/// A body with `password=hunter2` and `n` more arguments.
fn many_args(n: usize) -> Vec<u8> {
    let mut body = b"password=hunter2".to_vec();
    for i in 0..n {
        body.extend_from_slice(format!("&a{i}=1").as_bytes());
    }
    body
}

/// CVE-2025-47947 (mod_security2 < 2.9.9; GHSA-859r-vvv8-rm8r) and its `sanitiseArg` twin
/// (2.9.10): a sanitise action on a rule that matches many arguments grew the list of
/// values to mask without bound and the audit log writer went quadratic. Here 50 000
/// matching arguments must finish in bounded time, audit record included.
#[test]
fn cve_2025_47947_sanitise_with_huge_argument_counts_does_not_blow_up() {
    let rs = compile(SANITISE_RULES);
    let body = many_args(50_000);
    let tx = post(&rs, "/", &[FORM], &body);
    let record = tx.audit_record().expect("SecAuditEngine On");
    assert_eq!(ids(&tx), vec![1]);
    assert!(record.contains("\"ruleId\":\"1\""));
}

/// The other half of CVE-2025-47947's subject: the list of names to mask must not grow
/// with each match (mod_security2 2.9.9 fixed exactly that growth): each argument name is
/// in it once, although two sanitise actions fire for every one of the 50 001 matches.
#[test]
fn cve_2025_47947_sanitise_list_does_not_grow_per_matched_argument() {
    let rs = compile(SANITISE_RULES);
    let tx = post(&rs, "/", &[FORM], &many_args(50_000));
    let names = tx.sanitised();
    let distinct: std::collections::HashSet<&String> = names.iter().collect();
    assert_eq!(
        distinct.len(),
        names.len(),
        "duplicates in the sanitise list"
    );
    assert_eq!(names.len(), 50_001, "password and a0…a49999");
}

/// What the sanitise actions are for (reference manual, `sanitiseArg`: "each byte of the
/// named parameter(s) is replaced with an asterisk" in the audit log): the password must
/// not reach the audit record, neither in the request body (part C) nor in the messages.
#[test]
fn sanitise_arg_masks_the_argument_in_the_audit_record() {
    let rs = compile(SANITISE_RULES);
    let tx = post(&rs, "/", &[FORM], &many_args(3));
    let record = tx.audit_record().expect("SecAuditEngine On");
    assert!(!record.contains("hunter2"), "{record}");
    assert!(record.contains("password=*******"), "{record}");
}

/// CVE-2026-30923 (libmodsecurity < 3.0.15): `t:hexDecode` read past the end of an
/// odd-length input (a one-character query parameter crashed the worker). Odd input must
/// neither crash nor hide a payload: the complete pairs are decoded, the odd nibble dropped
/// (see `transformations/hex.rs`), so a trailing nibble does not evade a rule.
#[test]
fn cve_2026_30923_hex_decode_on_odd_length_input() {
    let rs = compile(
        r#"SecRule ARGS "@contains <script" "id:1,phase:1,deny,status:403,t:none,t:hexDecode,t:lowercase"
SecRule ARGS:probe "@unconditionalMatch" "id:2,phase:1,pass,log,t:hexDecode""#,
    );
    for q in ["probe=a", "probe=", "probe=abc", "x=7"] {
        let tx = send(&rs, "GET", format!("/?{q}").as_bytes(), &[], &[]);
        assert_eq!(verdict(&tx), None, "{q}");
    }
    // "<script" hex-encoded, then an odd nibble.
    let tx = send(&rs, "GET", b"/?x=3c7363726970743", &[], &[]);
    assert_eq!(verdict(&tx), Some((403, Some(1))));
}

/// SecArgumentsLimit (libmodsecurity 3.0.7+): arguments past the limit are not parsed, so
/// an attack placed after 1 000 padding arguments would never be looked at. The body then
/// counts as not fully parsed: the recommended rules answer 400 (200007 on the argument
/// count, and 200002 on REQBODY_ERROR for bodies that hit the limit).
#[test]
fn arguments_limit_exceeded_is_rejected_with_400() {
    let rs = crs();
    let mut form = (0..1000).map(|i| format!("a{i}=1&")).collect::<String>();
    form.push_str("q=1%27+union+select+password+from+users--");
    assert_400_by(&post(&rs, "/", &[FORM], form.as_bytes()), 200007);

    let json = format!(
        "{{{}\"q\":\"1' union select password from users--\"}}",
        (0..1000)
            .map(|i| format!("\"a{i}\":1,"))
            .collect::<String>()
    );
    assert_400_by(&post(&rs, "/", &[JSON], json.as_bytes()), 200007);

    // REQBODY_ERROR on its own (200007 removed): the limit, not the count rule, rejects.
    let rs = recommended("SecArgumentsLimit 10\nSecRuleRemoveById 200007");
    let at = (0..10)
        .map(|i| format!("a{i}=1"))
        .collect::<Vec<_>>()
        .join("&");
    assert_eq!(verdict(&post(&rs, "/", &[FORM], at.as_bytes())), None);
    let over = format!("{at}&q=evil");
    let tx = post(&rs, "/", &[FORM], over.as_bytes());
    assert_400_by(&tx, 200002);
    assert!(tx.intervention().unwrap().log.contains("Arguments limit"));
}

/// SecArgumentsLimit must bound the work of the JSON parser, not only the arguments kept:
/// each JSON argument name repeats the whole container path, so 121 KB of `[`×500 then
/// `1,`×60 000 (within the 128 KiB no-files limit) expand to 60 000 names of ~4 KB — 240 MB
/// of allocations (and ~70 s in a debug build) before the limit drops all but 1 000. On a
/// proxy-wasm heap that is an out-of-memory abort. libmodsecurity 3.0.7+ cancels its JSON
/// parse at the limit; `body::json::parse_limited` does that, once the transaction calls it.
#[test]
fn json_argument_flood_is_cut_at_the_arguments_limit() {
    let mut body = "[".repeat(500);
    body.push_str(&"1,".repeat(60_000));
    body.push('1');
    body.push_str(&"]".repeat(500));
    let tx = post(&crs(), "/api", &[JSON], body.as_bytes());
    assert_400_by(&tx, 200007);
    // The parse stopped at the limit (json::parse_limited's own tests show it stops
    // reading; an unbounded parse would take minutes here).
    assert!(tx.intervention().is_some());
}

// ---- body size limits ----------------------------------------------------------------------

/// Bodies over SecRequestBodyLimit with `Reject`: 413 at the chunk that crosses the limit
/// (the host learns at once and never waits for the rest), and nothing more is buffered.
#[test]
fn body_over_the_limit_is_rejected_with_413_at_the_crossing_chunk() {
    let rs = recommended("SecRequestBodyLimit 1000");
    let mut tx = Transaction::new(rs, "limit-1");
    tx.set_request_line("POST", b"/", "HTTP/1.1");
    tx.add_request_header(b"Content-Type", b"application/x-www-form-urlencoded");
    assert!(tx.process_request_headers().is_none());
    let chunk = [b'a'; 400];
    assert!(tx.append_request_body(&chunk).is_none());
    assert!(tx.append_request_body(&chunk).is_none());
    let iv = tx
        .append_request_body(&chunk)
        .expect("413 at the third chunk");
    assert_eq!((iv.status, iv.rule_id, iv.phase), (413, None, 2));
    // Later chunks and the end of the request change nothing.
    assert!(tx.append_request_body(&chunk).is_none());
    assert!(tx.process_request_body().is_none());
    assert_eq!(tx.intervention().map(|i| i.status), Some(413));
}

/// SecRequestBodyNoFilesLimit (128 KiB in `@recommended-conf`) applies to bodies without
/// files, whatever SecRequestBodyLimit allows: a 200 KB form is a 413.
#[test]
fn form_body_over_the_no_files_limit_is_rejected_with_413() {
    let body = format!("a={}", "x".repeat(200_000));
    let tx = post(&crs(), "/", &[FORM], body.as_bytes());
    assert_eq!(verdict(&tx), Some((413, None)));
}

/// `ProcessPartial`: the first SecRequestBodyLimit bytes are inspected and the rest passes
/// uninspected (documented ModSecurity behaviour), with INBOUND_DATA_ERROR set so a rule
/// can refuse truncated bodies. A truncated multipart body fails to parse ("Final boundary
/// missing") and so is still rejected with 400 by the recommended rules.
#[test]
fn body_over_the_limit_with_process_partial_inspects_the_start() {
    let rs = recommended(
        r#"SecRequestBodyLimit 1000
SecRequestBodyLimitAction ProcessPartial
SecRule ARGS "@contains evil" "id:10,phase:2,deny,status:403"
SecRule INBOUND_DATA_ERROR "@eq 1" "id:11,phase:2,pass,log""#,
    );
    let pad = "x".repeat(2000);
    let head = format!("a=evil&b={pad}");
    let tx = post(&rs, "/", &[FORM], head.as_bytes());
    assert_eq!(verdict(&tx), Some((403, Some(10))));
    let tail = format!("b={pad}&a=evil");
    let tx = post(&rs, "/", &[FORM], tail.as_bytes());
    assert_eq!(verdict(&tx), None);
    assert_eq!(ids(&tx), vec![11], "truncation is visible to rules");

    let mut body = crlf(&[
        "--boundary",
        "Content-Disposition: form-data; name=\"a\"",
        "",
    ]);
    body.extend_from_slice(pad.as_bytes());
    body.extend_from_slice(&crlf(&["", "--boundary--"]));
    let tx = post(&rs, "/", &[MP_CT], &body);
    assert_400_by(&tx, 200002);
    assert!(tx
        .intervention()
        .unwrap()
        .log
        .contains("Final boundary missing"));
}
