//! The JSON audit record, in ModSecurity v3's JSON layout:
//! `{"transaction": {client_ip, time_stamp, server_id, client_port, host_ip, host_port,
//! unique_id, request: {method, http_version, uri, headers, body}, response: {http_code,
//! headers, body}, producer: {modsecurity, connector, secrules_engine, components},
//! messages: [{message, details: {match, reference, ruleId, file, lineNumber, data,
//! severity, ver, rev, tags, maturity, accuracy}}]}}`.
//! Parts follow `SecAuditLogParts`: B request headers, C request body, F response headers,
//! E response body, H messages (A and Z are always present).

use serde_json::{json, Map, Value};

use crate::body::Pair;
use crate::transaction::{Connection, Intervention, RuleMatch, Transaction};

/// What the record builder reads from a transaction.
pub struct View<'a> {
    pub(crate) id: &'a str,
    pub(crate) conn: Connection,
    pub(crate) method: &'a str,
    pub(crate) uri: &'a [u8],
    pub(crate) protocol: &'a str,
    pub(crate) headers: &'a [Pair],
    pub(crate) body: &'a [u8],
    pub(crate) status: u16,
    pub(crate) resp_headers: &'a [Pair],
    pub(crate) resp_body: &'a [u8],
    pub(crate) matches: &'a [RuleMatch],
    /// ARGS_GET and ARGS_POST, to find the values that sanitise actions name.
    pub(crate) args: [&'a [Pair]; 2],
    pub(crate) parts: &'a str,
    pub(crate) sanitise: &'a [String],
    pub(crate) intervention: Option<&'a Intervention>,
    pub(crate) server_signature: Option<&'a str>,
    pub(crate) components: &'a [String],
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn headers(h: &[Pair], sanitise: &[String]) -> Value {
    let mut m = Map::new();
    for (k, v) in h {
        let name = text(k);
        let masked = sanitise.iter().any(|s| s.eq_ignore_ascii_case(&name));
        let value = if masked { "*".repeat(v.len()) } else { text(v) };
        m.insert(name, Value::String(value));
    }
    Value::Object(m)
}

/// Masks, with `*` of the same length, every occurrence of the values of the arguments
/// that `sanitiseArg` / `sanitiseMatched` named (reference manual: "each byte of the named
/// parameter(s) is replaced with an asterisk"), wherever they appear in the record: the
/// request line, the body and the messages. One Aho-Corasick pass per text, however many
/// names (CVE-2025-47947 was a quadratic masking loop).
struct Masker {
    ac: Option<aho_corasick::AhoCorasick>,
}

impl Masker {
    fn new(v: &View<'_>) -> Masker {
        if v.sanitise.is_empty() {
            return Masker { ac: None };
        }
        let names: std::collections::HashSet<String> =
            v.sanitise.iter().map(|n| n.to_ascii_lowercase()).collect();
        let mut values: Vec<&[u8]> = v
            .args
            .iter()
            .flat_map(|list| list.iter())
            .filter(|(k, val)| {
                !val.is_empty() && names.contains(&String::from_utf8_lossy(k).to_ascii_lowercase())
            })
            .map(|(_, val)| val.as_slice())
            .collect();
        values.sort_unstable();
        values.dedup();
        let ac = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&values)
            .ok();
        Masker { ac }
    }

    fn mask(&self, input: &[u8]) -> String {
        let Some(ac) = &self.ac else {
            return text(input);
        };
        let mut out = input.to_vec();
        for m in ac.find_iter(input) {
            out[m.start()..m.end()].fill(b'*');
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Builds the JSON audit record of a finished transaction.
pub fn json(tx: &Transaction) -> String {
    let v = tx.audit_view();
    let masker = Masker::new(&v);
    let has = |p: char| v.parts.contains(p);
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut request = Map::new();
    request.insert("method".into(), json!(v.method));
    request.insert(
        "http_version".into(),
        json!(v.protocol.trim_start_matches("HTTP/")),
    );
    request.insert("uri".into(), json!(masker.mask(v.uri)));
    if has('B') {
        request.insert("headers".into(), headers(v.headers, v.sanitise));
    }
    if has('C') || has('I') {
        request.insert("body".into(), json!(masker.mask(v.body)));
    }
    let mut response = Map::new();
    response.insert("http_code".into(), json!(v.status));
    if has('F') {
        response.insert("headers".into(), headers(v.resp_headers, v.sanitise));
    }
    if has('E') {
        response.insert("body".into(), json!(text(v.resp_body)));
    }
    let messages: Vec<Value> = if has('H') {
        v.matches
            .iter()
            .filter(|m| m.auditlog || m.log)
            .map(|m| {
                json!({
                    "message": masker.mask(m.msg().as_bytes()),
                    "details": {
                        "match": format!("Matched variable {}", m.matched_var().0),
                        "reference": "",
                        "ruleId": m.id.to_string(),
                        "data": masker.mask(m.data().as_bytes()),
                        "severity": m.severity.map(|s| s.to_string()).unwrap_or_default(),
                        "tags": m.tags(),
                    }
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let record = json!({
        "transaction": {
            "client_ip": v.conn.client_addr,
            "client_port": v.conn.client_port,
            "host_ip": v.conn.server_addr,
            "host_port": v.conn.server_port,
            "time_stamp": since.as_secs(),
            "server_id": v.server_signature.unwrap_or("wafer"),
            "unique_id": v.id,
            "request": Value::Object(request),
            "response": Value::Object(response),
            "producer": {
                "modsecurity": concat!("Wafer v", env!("CARGO_PKG_VERSION")),
                "connector": "proxy-wasm",
                "secrules_engine": "Enabled",
                "components": v.components,
            },
            "messages": messages,
            "interrupted": v.intervention.map(|i| json!({"status": i.status, "ruleId": i.rule_id})),
        }
    });
    record.to_string()
}
