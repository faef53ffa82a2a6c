//! A transaction: one HTTP request/response pair run through phases 1–5.
//!
//! The API mirrors the HTTP lifecycle (and libmodsecurity's): connection, request line,
//! request headers, request body chunks, end of request, response headers, response body
//! chunks, end of response, logging. Each `process_*` call runs the phase it ends and
//! returns what the host must do. A transaction never calls the host.

use std::sync::Arc;

use crate::rules::RuleSet;

/// Addresses of the connection a request came on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Client address (`REMOTE_ADDR`).
    pub client_addr: String,
    /// Client port (`REMOTE_PORT`).
    pub client_port: u16,
    /// Server address (`SERVER_ADDR`).
    pub server_addr: String,
    /// Server port (`SERVER_PORT`).
    pub server_port: u16,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            client_addr: "127.0.0.1".into(),
            client_port: 0,
            server_addr: "127.0.0.1".into(),
            server_port: 80,
        }
    }
}

/// What a disruptive action asks the host to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Answer with `status` (and no upstream).
    Deny,
    /// Close the connection without an answer.
    Drop,
    /// Answer with `status` (302 unless the rule set one) and a `Location` header.
    Redirect(String),
}

/// An interruption of the transaction: the host must stop the request and act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intervention {
    /// HTTP status to answer with (403 by default, 413 for a body over the limit).
    pub status: u16,
    /// What to do.
    pub action: Action,
    /// The rule that caused it, if a rule did (`None` for a body limit).
    pub rule_id: Option<u64>,
    /// The phase it happened in (1–5).
    pub phase: u8,
    /// A one-line, ModSecurity-style log message describing the interruption.
    pub log: String,
}

/// A rule that matched and was logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatch {
    /// Rule id (`0` for rules without one).
    pub id: u64,
    /// Phase the rule ran in.
    pub phase: u8,
    /// Expanded `msg`.
    pub msg: String,
    /// Expanded `logdata`.
    pub data: String,
    /// Severity number 0–7, if the rule has one.
    pub severity: Option<u8>,
    /// Tags.
    pub tags: Vec<String>,
    /// The whole ModSecurity-format log line (`[file "…"] [line "…"] [id "…"] …`).
    pub line: String,
    /// Whether the rule is marked `log` (error log) / `auditlog`.
    pub log: bool,
}

/// Per-request state and phase driver.
#[derive(Debug)]
pub struct Transaction {
    rules: Arc<RuleSet>,
}

impl Transaction {
    /// Starts a transaction for `rules`; `id` becomes `UNIQUE_ID`.
    pub fn new(rules: Arc<RuleSet>, id: impl Into<String>) -> Self {
        let _ = id.into();
        Transaction { rules }
    }

    /// The rule set this transaction runs.
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// Sets connection addresses (before phase 1).
    pub fn set_connection(&mut self, conn: &Connection) {
        let _ = conn;
    }

    /// Sets the request line: method, the raw request target (path and query, as sent),
    /// and protocol (`HTTP/1.1`).
    pub fn set_request_line(&mut self, method: &str, uri: &[u8], protocol: &str) {
        let _ = (method, uri, protocol);
    }

    /// Adds one request header (repeat for repeated headers).
    pub fn add_request_header(&mut self, name: &[u8], value: &[u8]) {
        let _ = (name, value);
    }

    /// Runs phase 1 (request headers).
    pub fn process_request_headers(&mut self) -> Option<Intervention> {
        None
    }

    /// Whether the host should buffer the request body for inspection
    /// (`SecRequestBodyAccess`, possibly changed by `ctl`).
    pub fn request_body_wanted(&self) -> bool {
        false
    }

    /// Appends a request body chunk. Over `SecRequestBodyLimit` with `Reject` this returns a
    /// 413 intervention; with `ProcessPartial` the excess is dropped from inspection.
    pub fn append_request_body(&mut self, chunk: &[u8]) -> Option<Intervention> {
        let _ = chunk;
        None
    }

    /// Runs the body processor and phase 2 (request body). Call it even without a body.
    pub fn process_request_body(&mut self) -> Option<Intervention> {
        None
    }

    /// Sets the response status line.
    pub fn set_response_status(&mut self, status: u16, protocol: &str) {
        let _ = (status, protocol);
    }

    /// Adds one response header.
    pub fn add_response_header(&mut self, name: &[u8], value: &[u8]) {
        let _ = (name, value);
    }

    /// Runs phase 3 (response headers).
    pub fn process_response_headers(&mut self) -> Option<Intervention> {
        None
    }

    /// Whether the host should buffer the response body for inspection
    /// (`SecResponseBodyAccess` and the MIME type in `SecResponseBodyMimeType`).
    pub fn response_body_wanted(&self) -> bool {
        false
    }

    /// Appends a response body chunk (limits as for the request body).
    pub fn append_response_body(&mut self, chunk: &[u8]) -> Option<Intervention> {
        let _ = chunk;
        None
    }

    /// Runs phase 4 (response body). Call it even without a body.
    pub fn process_response_body(&mut self) -> Option<Intervention> {
        None
    }

    /// Runs phase 5 (logging).
    pub fn process_logging(&mut self) {}

    /// The interruption, if one happened (also set, but not returned, in DetectionOnly:
    /// see [`Transaction::would_interrupt`]).
    pub fn intervention(&self) -> Option<&Intervention> {
        None
    }

    /// In DetectionOnly, the interruption that would have happened.
    pub fn would_interrupt(&self) -> Option<&Intervention> {
        None
    }

    /// Rules that matched, in order, including non-logged ones (see [`RuleMatch::log`]).
    pub fn matches(&self) -> &[RuleMatch] {
        &[]
    }

    /// The JSON audit record (ModSecurity v3 JSON layout) if `SecAuditEngine` says this
    /// transaction is to be audited; call after [`Transaction::process_logging`].
    pub fn audit_record(&self) -> Option<String> {
        None
    }
}
