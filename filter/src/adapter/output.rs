//! Log lines the filter writes, in one place so log shippers and tests can rely on them.
//!
//! | prefix                      | level                 | when                                   |
//! |-----------------------------|-----------------------|----------------------------------------|
//! | `wafer: ` + rule log line   | by severity (below)   | a rule marked `log` matched            |
//! | `wafer: interrupted: `      | warn                  | the filter blocked, dropped, redirected|
//! | `wafer: detection-only: `   | warn                  | DetectionOnly: it would have           |
//! | `wafer-audit: ` + JSON      | info                  | the audit record (phase 5)             |
//! | `wafer: configuration …`    | critical / info       | `on_configure` failed / succeeded      |
//! | `wafer: internal fault in …`| critical              | a panic inside the filter (`fault.rs`) |
//!
//! Severity (ModSecurity's 0–7) → proxy log level: 0–3 (EMERGENCY … ERROR) error,
//! 4 (WARNING) warn, 5–6 (NOTICE, INFO) info, 7 (DEBUG) debug, none info. Critical is kept
//! for the filter's own failures: a client cannot make the proxy log at critical.
//! Every request-bound line ends with `[unique_id "<request id>"]` (ModSecurity's field).

use proxy_wasm::hostcalls;
use proxy_wasm::types::LogLevel;

/// Prefix of audit records in the proxy log.
pub(crate) const AUDIT_PREFIX: &str = "wafer-audit: ";

/// Writes one line to the proxy log (errors from the host are ignored: nowhere to report).
pub(crate) fn log(level: LogLevel, msg: &str) {
    let _ = hostcalls::log(level, msg);
}

/// Log level for a rule match of `severity`.
pub(crate) fn level_for_severity(severity: Option<u8>) -> LogLevel {
    match severity {
        Some(0..=3) => LogLevel::Error,
        Some(4) => LogLevel::Warn,
        Some(7) => LogLevel::Debug,
        _ => LogLevel::Info,
    }
}

/// Appends `[unique_id "…"]` unless the engine's line already carries it.
pub(crate) fn with_request_id(line: &str, request_id: &str) -> String {
    let tag = format!("[unique_id \"{request_id}\"]");
    if line.contains(&tag) {
        line.to_string()
    } else {
        format!("{line} {tag}")
    }
}
