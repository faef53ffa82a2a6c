//! The proxy-wasm adapter (wasm32 only): host hooks in, engine calls out, nothing else.
//!
//! One context type per lifetime, as in the proxy-wasm-rust-sdk examples:
//! [`root::WaferRoot`] per plugin (parses and compiles the plugin configuration in
//! `on_configure`) and [`http::WaferHttp`] per HTTP stream (maps hooks onto
//! [`crate::Transaction`]). [`fault`] is the policy for the filter's own failures (panic →
//! logged with the request id, request answered 500, VM left to the host's failure policy). [`metrics`] defines counters lazily; [`output`] formats log lines.
//! No rule logic lives here: what to block, when, and with which status is the engine's
//! answer; this module only carries it out (local response, stream reset, logs, metrics).
//!
//! Host calls used (all standard proxy-wasm ABI 0.2.1): header maps and body buffers of the
//! request and response, `proxy_send_local_response`, `proxy_close_stream`, `proxy_log`,
//! metrics (`proxy_define_metric`, `proxy_increment_metric`), `proxy_get_current_time_nanoseconds`,
//! and the properties `source.address`, `destination.address` and `request.protocol`
//! (missing properties fall back to `127.0.0.1:0` / `HTTP/1.1`).

mod fault;
mod http;
mod metrics;
mod output;
mod root;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Trace);
    fault::install();
    proxy_wasm::set_root_context(|_| Box::new(root::WaferRoot::new()));
}}
