//! libinjection in pure Rust: SQL injection and XSS detection by tokenising the input
//! (`@detectSQLi`, `@detectXSS`).

/// Returns the SQLi fingerprint (e.g. `s&1`) if `input` looks like SQL injection.
pub fn detect_sqli(input: &[u8]) -> Option<String> {
    let _ = input;
    None
}

/// Returns true if `input` looks like cross-site scripting.
pub fn detect_xss(input: &[u8]) -> bool {
    let _ = input;
    false
}
