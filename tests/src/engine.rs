//! Target `engine`: one HTTP exchange through an in-process [`wafer::Transaction`].
//!
//! Calls follow libmodsecurity's order (its regression runner, `test/regression/regression.cc`):
//! connection, request line, headers, phase 1, body, phase 2, response status and headers,
//! phase 3, response body, phase 4, and always logging. Unlike that runner we stop feeding
//! the transaction at the first intervention, as a proxy would (the request never reaches
//! the upstream, so there is no upstream response to inspect).
//! Not here: building requests (see [`crate::http`]) or judging results (the suites do).

use std::sync::Arc;

use wafer::{Action, Connection, Intervention, RuleSet, Transaction};

/// A response the upstream would send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Protocol of the status line (`HTTP/1.1`).
    pub protocol: String,
    /// Headers in order.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Default for Response {
    fn default() -> Self {
        Response {
            status: 200,
            protocol: "HTTP/1.1".into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

/// One request as the engine gets it.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    /// Connection addresses.
    pub conn: Connection,
    /// Request method.
    pub method: String,
    /// Raw request target.
    pub uri: Vec<u8>,
    /// Request protocol (`HTTP/1.1`).
    pub protocol: String,
    /// Request headers in order (repeats allowed).
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Request body (already de-chunked).
    pub body: Vec<u8>,
}

/// What came out of a transaction.
#[derive(Debug, Clone, Default)]
pub struct EngineResult {
    /// The status the client sees: the intervention's, else the upstream's.
    pub status: u16,
    /// `Location` of a redirect intervention.
    pub redirect: Option<String>,
    /// The intervention, if one happened.
    pub intervention: Option<Intervention>,
    /// Error-log lines: every logged rule match, then the intervention's message.
    pub log_lines: Vec<String>,
    /// Ids of all matched rules (logged or not), in order.
    pub matched_ids: Vec<u64>,
    /// Whether the response reached phases 3 and 4.
    pub response_seen: bool,
}

/// Runs `ex` through a new transaction on `rules`; `response` is what the upstream answers
/// (it is only used when the request was not interrupted).
pub fn run(
    rules: &Arc<RuleSet>,
    unique_id: &str,
    ex: &Exchange,
    response: &Response,
) -> EngineResult {
    let mut tx = Transaction::new(Arc::clone(rules), unique_id);
    tx.set_connection(&ex.conn);
    tx.set_request_line(&ex.method, &ex.uri, &ex.protocol);
    for (name, value) in &ex.headers {
        tx.add_request_header(name, value);
    }
    let mut response_seen = false;
    let intervention = (|| {
        if let Some(i) = tx.process_request_headers() {
            return Some(i);
        }
        if !ex.body.is_empty() {
            if let Some(i) = tx.append_request_body(&ex.body) {
                return Some(i);
            }
        }
        if let Some(i) = tx.process_request_body() {
            return Some(i);
        }
        response_seen = true;
        tx.set_response_status(response.status, &response.protocol);
        for (name, value) in &response.headers {
            tx.add_response_header(name, value);
        }
        if let Some(i) = tx.process_response_headers() {
            return Some(i);
        }
        if !response.body.is_empty() {
            if let Some(i) = tx.append_response_body(&response.body) {
                return Some(i);
            }
        }
        tx.process_response_body()
    })();
    tx.process_logging();

    let mut log_lines: Vec<String> = tx
        .matches()
        .iter()
        .filter(|m| m.log)
        .map(|m| m.line().to_string())
        .collect();
    if let Some(i) = &intervention {
        if !i.log.is_empty() {
            log_lines.push(i.log.clone());
        }
    }
    let redirect = match &intervention {
        Some(Intervention {
            action: Action::Redirect(url),
            ..
        }) => Some(url.clone()),
        _ => None,
    };
    EngineResult {
        status: intervention.as_ref().map_or(response.status, |i| i.status),
        redirect,
        matched_ids: tx.matches().iter().map(|m| m.id).collect(),
        intervention,
        log_lines,
        response_seen,
    }
}
