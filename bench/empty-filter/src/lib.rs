//! The empty proxy-wasm filter: a root context that accepts any configuration and an HTTP
//! context whose every hook (headers, body, trailers, both directions) returns `Continue`,
//! built with the same SDK (`proxy-wasm` 0.2) and code-generation settings as Wafer.
//!
//! What it is for: the "Envoy + empty wasm filter" column of `make bench`, i.e. what the V8
//! VM, the proxy-wasm ABI calls and the SDK's context bookkeeping cost per request before
//! any WAF work. Envoy calls every hook the module exports, so this is the floor for any
//! SDK-built filter, Wafer included.
//!
//! What it is not: a filter that inspects anything. (`envoy/envoyctl.py empty-wasm` writes a
//! hand-assembled module that exports only the header hooks; it is a validation placeholder
//! and a slightly lower floor.)

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{ContextType, LogLevel};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(EmptyRoot) });
}}

/// The root context: accepts any configuration, hands out [`EmptyHttp`] streams.
struct EmptyRoot;

impl Context for EmptyRoot {}

impl RootContext for EmptyRoot {
    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(EmptyHttp))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// One HTTP stream: the SDK's default hooks, all `Continue`.
struct EmptyHttp;

impl Context for EmptyHttp {}

impl HttpContext for EmptyHttp {}
