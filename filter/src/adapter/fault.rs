//! Fault policy: what happens when the filter itself fails while it handles a request.
//!
//! The engine is written not to panic on any input (limits, no unchecked indexing, fuzzed),
//! but a WAF must have an answer for the bug nobody found yet, and that answer must never be
//! "let the request through uninspected".
//!
//! The wasm build is `panic = "abort"`: unwinding out of a wasm32-wasip1 module needs the
//! exception-handling proposal and a rebuilt std, which stable Rust does not offer, so a
//! panic cannot be caught and the request carried on. The policy is therefore **fail
//! closed**, carried out by the filter and the host together:
//! 1. a panic hook logs one line at critical, `wafer: internal fault in <hook>: <panic
//!    message> at <file:line>; the request is refused (fail closed) [unique_id "<request
//!    id>"]`, naming the request id the stream was given (the id in every other log line and
//!    the audit record of that request);
//! 2. the runtime aborts, the VM traps, and the host refuses the request: Envoy fails the
//!    stream with 503 (`failStream`), Nginx (ngx_wasm_module) with 500;
//! 3. the host's failure policy decides what follows. Envoy, measured with 1.40 (tests/envoy):
//!    `FAIL_CLOSED` (the default) answers 503 to every later request of the plugin until the
//!    configuration changes; `FAIL_RELOAD` answers 503 during a backoff (1 s by default) and
//!    then starts a fresh VM, and service resumes with the same rules (what our configs use);
//!    `FAIL_OPEN` lets every later request through uninspected (never with a WAF). Istio's
//!    `WasmPlugin.failStrategy` has the same three (`FAIL_CLOSE`, `FAIL_RELOAD`, `FAIL_OPEN`).
//!    Nginx starts a new instance for the next request.
//!
//! The hook sends no local response itself: Envoy 1.40 crashes (segfault) when a filter
//! sends a local reply from a response hook and then traps in the same call, and on the
//! request side Envoy's own 503 replaces it anyway.
//!
//! Fault injection (cargo feature `fault-injection`, never in `dist/wafer.wasm`): a request
//! header `x-wafer-fault: <hook>` panics in that hook (`request_headers`, `request_body`,
//! `response_headers`, `response_body`, `log`), so tests can prove the policy on the real
//! module.

use std::cell::RefCell;

use proxy_wasm::types::LogLevel;

use super::output::log;

/// Which hook of which stream is running, for the panic hook.
struct Current {
    /// Hook name (`request_headers`, …); empty outside HTTP hooks.
    hook: &'static str,
    /// The stream's request id (empty before the request headers were read).
    request_id: String,
}

thread_local! {
    static CURRENT: RefCell<Current> = const {
        RefCell::new(Current { hook: "", request_id: String::new() })
    };
}

/// Records that `hook` of the stream with `request_id` is running. Reuses the buffer: no
/// allocation once the longest id has been seen.
pub(crate) fn enter(hook: &'static str, request_id: &str) {
    CURRENT.with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            c.hook = hook;
            c.request_id.clear();
            c.request_id.push_str(request_id);
        }
    });
}

/// Records that no HTTP hook is running any more (root context work follows).
pub(crate) fn leave() {
    enter("", "");
}

/// Installs the panic hook described in the module doc. Called once at VM start.
pub(crate) fn install() {
    std::panic::set_hook(Box::new(|info| {
        let (hook, request_id) = CURRENT.with(|c| match c.try_borrow() {
            Ok(c) => (c.hook, c.request_id.clone()),
            Err(_) => ("", String::new()),
        });
        let payload = info.payload();
        let what = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("panic");
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let (where_, outcome) = match hook {
            "" => ("the plugin", "the host's failure policy applies"),
            "log" => (hook, "the response is already gone"),
            _ => (hook, "the request is refused (fail closed)"),
        };
        log(
            LogLevel::Critical,
            &format!(
                "wafer: internal fault in {where_}: {what}{place}; {outcome} \
                 [unique_id \"{request_id}\"]"
            ),
        );
    }));
}

/// Fault injection for tests (feature `fault-injection`): panics when the request asked for
/// a fault in `hook` with `x-wafer-fault: <hook>`.
#[cfg(feature = "fault-injection")]
pub(crate) fn inject(requested: Option<&str>, hook: &str) {
    if requested == Some(hook) {
        panic!("injected fault (x-wafer-fault: {hook})");
    }
}

/// Without the feature, fault injection compiles to nothing.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn inject(_requested: Option<&str>, _hook: &str) {}
