//! Fuzz target `transaction`: a whole request and response with arbitrary content through
//! all five phases, against a small fixed rule set.
//!
//! The rule set (two variants: blocking with tight limits, and detection-only with partial
//! processing) uses every body processor (chosen by `Content-Type` and by `ctl`), several
//! operators and transformation chains, chains, captures, macros, `setvar`, `skipAfter`,
//! sanitising and the audit log, the way CRS does. The host is modelled as the proxy-wasm
//! adapter drives the engine: stop at the first interruption, but always log. Checks "no
//! panic / no hang", and that an interruption is only reported in blocking mode.
//!
//! Input: byte 0 holds flags (bit 0: blocking rule set; bits 1–3: a `Content-Type` from
//! [`CONTENT_TYPES`]; bits 4–7: body chunk size in units of 61 bytes, 0 = one chunk); the
//! rest is a request and response in the format of `common/http.rs`. A request header
//! `X-Real-IP` sets the client address.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use wafer::{Connection, FileSet, RuleSet, Transaction};

#[path = "common/http.rs"]
mod http;

/// Content types picked by bits 1–3 of the first byte, so every body processor is reached
/// often; values past the end add no header (the message's own headers apply).
const CONTENT_TYPES: &[&str] = &[
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=XyZ",
    "application/json",
    "text/xml",
    "application/xml; charset=utf-8",
    "multipart/form-data; boundary=\"a b\"",
];

const COMMON: &str = r#"
SecRequestBodyAccess On
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html application/json
SecRequestBodyJsonDepthLimit 16
SecArgumentsLimit 32
SecUploadFileLimit 3
SecAuditEngine RelevantOnly
SecAuditLogParts ABCEFHIJKZ
SecAuditLogRelevantStatus "^(?:5|4[0-35-9])"
SecDefaultAction "phase:1,log,auditlog,pass"
SecDefaultAction "phase:2,log,auditlog,deny,status:403"
SecRule REQUEST_HEADERS:Content-Type "@rx (?i)^application/json" "id:100,phase:1,pass,nolog,t:none,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "@rx (?i)^(?:application(?:/soap\+|/)|text/)xml" "id:101,phase:1,pass,nolog,t:none,ctl:requestBodyProcessor=XML"
SecRule REQUEST_URI "@beginsWith /static/" "id:102,phase:1,pass,nolog,ctl:ruleRemoveTargetById=200;ARGS:q,ctl:ruleEngine=DetectionOnly"
SecRule REMOTE_ADDR "@ipMatch 10.0.0.0/8,192.168.0.0/16,::1" "id:103,phase:1,pass,nolog,skipAfter:END_IP"
SecRule REQUEST_METHOD "!@within GET HEAD POST PUT" "id:104,phase:1,block,msg:'method %{REQUEST_METHOD}',setvar:tx.anomaly=+5"
SecMarker END_IP
SecRule REQBODY_ERROR "!@eq 0" "id:150,phase:2,deny,status:400,msg:'body error',logdata:'%{REQBODY_ERROR_MSG}'"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:151,phase:2,deny,status:400,msg:'multipart strict %{MULTIPART_STRICT_ERROR}'"
SecRule MULTIPART_UNMATCHED_BOUNDARY "@eq 1" "id:152,phase:2,pass,log"
SecRule ARGS|ARGS_NAMES|REQUEST_COOKIES|XML:/* "@detectSQLi" "id:200,phase:2,block,capture,t:none,t:urlDecodeUni,t:utf8toUnicode,logdata:'%{TX.0} in %{MATCHED_VAR_NAME}',setvar:tx.anomaly=+5,sanitiseMatched"
SecRule ARGS|XML://@* "@detectXSS" "id:201,phase:2,block,multiMatch,t:none,t:htmlEntityDecode,t:jsDecode,t:cssDecode,setvar:tx.anomaly=+5"
SecRule ARGS|FILES|FILES_NAMES "@rx (?i)(?:\.\./|/etc/passwd|\bunion\b.{0,20}\bselect\b)" "id:202,phase:2,block,capture,t:none,t:lowercase,t:normalisePathWin,t:removeNulls,t:compressWhitespace,logdata:'%{TX.0}',setvar:tx.anomaly=+5"
SecRule ARGS "@pm cmd.exe /bin/sh powershell" "id:203,phase:2,block,t:cmdLine,t:base64DecodeExt,setvar:tx.anomaly=+5"
SecRule ARGS "@rxGlobal ([a-z]+)=([0-9]+)" "id:204,phase:2,pass,capture,chain,t:replaceComments,t:escapeSeqDecode"
    SecRule TX:1 "@streq admin" "t:none,setvar:tx.anomaly=+3"
SecRule REQUEST_BODY|ARGS_POST "@validateByteRange 1-255" "id:205,phase:2,pass,log,t:hexDecode,t:sqlHexDecode"
SecRule ARGS "@validateUtf8Encoding" "id:206,phase:2,pass,log,t:removeCommentsChar,t:trim"
SecRule &ARGS "@ge 30" "id:207,phase:2,pass,log,setvar:tx.anomaly=+1"
SecRule ARGS:cc "@verifyCC \d{13,16}" "id:208,phase:2,pass,log,sanitiseArg:cc"
SecRule FILES_SIZES "@gt 100" "id:209,phase:2,pass,log"
SecRule TX:ANOMALY "@ge 10" "id:299,phase:2,deny,status:403,msg:'anomaly %{TX.ANOMALY}'"
SecRule RESPONSE_STATUS "@rx ^5" "id:300,phase:3,pass,log"
SecRule RESPONSE_HEADERS:Set-Cookie "@contains secret" "id:301,phase:3,pass,log,sanitiseResponseHeader:Set-Cookie"
SecRule RESPONSE_BODY "@rx (?i)(?:sql syntax|ora-\d{5}|stack trace)" "id:400,phase:4,block,capture,logdata:'%{TX.0}',setvar:tx.anomaly=+10"
SecRule RESPONSE_BODY "@pm root:x:0:0 <title>Index of" "id:401,phase:4,deny,status:500"
SecRule TX:ANOMALY "@gt 0" "id:500,phase:5,pass,log,msg:'final %{TX.ANOMALY}'"
"#;

fn rules(blocking: bool) -> Arc<RuleSet> {
    static BLOCKING: OnceLock<Arc<RuleSet>> = OnceLock::new();
    static DETECTING: OnceLock<Arc<RuleSet>> = OnceLock::new();
    let (cell, head) = if blocking {
        (
            &BLOCKING,
            "SecRuleEngine On\nSecRequestBodyLimit 4096\nSecRequestBodyLimitAction Reject\nSecResponseBodyLimit 2048\nSecResponseBodyLimitAction Reject\n",
        )
    } else {
        (
            &DETECTING,
            "SecRuleEngine DetectionOnly\nSecRequestBodyLimit 1024\nSecRequestBodyLimitAction ProcessPartial\nSecResponseBodyLimit 512\nSecResponseBodyLimitAction ProcessPartial\n",
        )
    };
    cell.get_or_init(|| {
        let text = format!("{head}{COMMON}");
        Arc::new(RuleSet::compile("fuzz.conf", &text, &FileSet::new()).expect("rules compile"))
    })
    .clone()
}

/// Drives the request and response as the proxy-wasm adapter does; returns whether it
/// stopped at an interruption.
fn drive(tx: &mut Transaction, ex: &http::Exchange<'_>, chunk: usize) -> bool {
    if tx.process_request_headers().is_some() {
        return true;
    }
    for c in http::chunks(ex.request.body, chunk) {
        if tx.append_request_body(c).is_some() {
            return true;
        }
    }
    if tx.process_request_body().is_some() {
        return true;
    }
    let status = http::field(&ex.response, 0, "200").parse().unwrap_or(200);
    tx.set_response_status(status, "HTTP/1.1");
    for (k, v) in &ex.response.headers {
        tx.add_response_header(k, v);
    }
    if tx.process_response_headers().is_some() {
        return true;
    }
    for c in http::chunks(ex.response.body, chunk) {
        if tx.append_response_body(c).is_some() {
            return true;
        }
    }
    tx.process_response_body().is_some()
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let blocking = flags & 1 == 1;
    let chunk = usize::from(flags >> 4) * 61;
    let ex = http::exchange(rest);
    let req = &ex.request;
    let mut tx = Transaction::new(rules(blocking), "fuzz-tx");
    if let Some((_, addr)) = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(b"x-real-ip"))
    {
        tx.set_connection(&Connection {
            client_addr: String::from_utf8_lossy(addr).into_owned(),
            ..Connection::default()
        });
    }
    let uri = req.start.get(1).copied().unwrap_or(b"/");
    tx.set_request_line(
        &http::field(req, 0, "GET"),
        uri,
        &http::field(req, 2, "HTTP/1.1"),
    );
    for (k, v) in &req.headers {
        tx.add_request_header(k, v);
    }
    if let Some(ct) = CONTENT_TYPES.get(usize::from((flags >> 1) & 7)) {
        tx.add_request_header(b"Content-Type", ct.as_bytes());
    }
    let interrupted = drive(&mut tx, &ex, chunk);
    tx.process_logging();
    assert_eq!(interrupted, tx.intervention().is_some());
    if !blocking {
        assert!(tx.intervention().is_none(), "DetectionOnly interrupted");
    }
    if tx.audit_wanted() {
        let _ = tx.audit_record();
    }
});
