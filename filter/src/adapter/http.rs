//! The HTTP context: one per stream, mapping proxy-wasm hooks onto a [`Transaction`].
//!
//! | hook                        | engine call                         | returns                        |
//! |-----------------------------|-------------------------------------|--------------------------------|
//! | request headers             | phase 1; phase 2 too when the headers end the stream or the body is not wanted | Pause while a wanted body follows |
//! | request body (buffered)     | `append_request_body`; phase 2 at end of stream | Pause until phase 2     |
//! | request trailers            | phase 2 if still pending            |                                |
//! | response headers            | phase 3; phase 4 too when the headers end the stream or the body is not wanted | Pause (headers held) while a wanted body follows |
//! | response body (buffered)    | `append_response_body`; phase 4 at end of stream | Pause until phase 4    |
//! | response trailers           | phase 4 if still pending            |                                |
//! | log (stream done)           | phase 5, audit record               |                                |
//!
//! Why Pause: with Continue, Envoy forwards the headers at once and an upstream that
//! answers early gets a request through uninspected; holding the response headers lets a
//! phase-4 match still answer with a real 403 (coraza-proxy-wasm can only replace the body).
//! When the engine stops wanting a body mid-stream (`ProcessPartial` past the limit), the
//! phase runs on what it has and the rest streams through.
//!
//! While buffering, Envoy hands the whole buffered body on every callback (`body_size` is
//! the total so far), so only the bytes past what was already given to the engine are read.
//!
//! Nginx (Kong's ngx_wasm_module, `ngx_http_proxy_wasm.c`) differs in ways this context
//! detects rather than configures: it calls both headers hooks with `end_of_stream` set even
//! when a body follows, reads the whole request body before calling `on_request_body` once
//! (so Continue from the request headers is safe and Pause would stall), hands each response
//! body chunk on its own, ignores Pause in response hooks, and puts no `:status` in the
//! response headers (the status is the `response.code` property). So: request headers that
//! claim the end of the stream while declaring a body (`content-length` > 0 or
//! `transfer-encoding`) mean "the body comes later, whatever we return"; response headers
//! without `:status` mean the same for the response, and that body chunks are not
//! cumulative. Under Nginx a phase-4 block therefore comes after the headers went out: the
//! host cuts the stream instead of sending a 403 (see the host-test personality notes).
//!
//! An interruption: `Deny` → local response (status and body from the engine and
//! `block_response`); `Redirect` → 302 with `Location`; `Drop` → the stream is closed
//! (`proxy_close_stream`). In phase 5 nothing can change any more; it is only logged. After
//! a local response, the response hooks see the filter's own reply and let it pass.
//! DetectionOnly is the engine's business: it returns no interruption, and this context logs
//! the one it would have made.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::rc::Rc;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action as ProxyAction, BufferType, LogLevel, MapType};

use super::fault;
use super::metrics::Metrics;
use super::output::{level_for_severity, log, with_request_id, AUDIT_PREFIX};
use crate::plugin_config::CompiledConfig;
use crate::rules::LimitAction;
use crate::transaction::{Action, Intervention, Transaction};

/// Generates request ids when a request carries no `x-request-id`: 128 bits from a
/// randomly keyed hash (std seeds `RandomState` from WASI `random_get`) over a counter,
/// the context id and the time. Not a CSPRNG; ids need to be unique, not secret.
pub(crate) struct RequestIds {
    state: RandomState,
    counter: Cell<u64>,
}

impl RequestIds {
    pub(crate) fn new() -> Self {
        RequestIds {
            state: RandomState::new(),
            counter: Cell::new(0),
        }
    }

    fn next(&self, context_id: u32) -> String {
        let n = self.counter.get().wrapping_add(1);
        self.counter.set(n);
        let nanos = hostcalls::get_current_time()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let mut a = self.state.build_hasher();
        a.write_u64(n);
        a.write_u32(context_id);
        a.write_u128(nanos);
        let first = a.finish();
        let mut b = self.state.build_hasher();
        b.write_u64(first);
        b.write_u64(n);
        format!("{first:016x}{:016x}", b.finish())
    }
}

/// Where a direction (request or response) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Stage {
    /// Headers not seen yet.
    #[default]
    Start,
    /// Headers processed; the body is being buffered for the engine.
    Buffering,
    /// The body phase (2 or 4) has run; the rest passes.
    Done,
}

/// Per-stream state.
pub(crate) struct WaferHttp {
    context_id: u32,
    config: Option<Rc<CompiledConfig>>,
    metrics: Rc<Metrics>,
    ids: Rc<RequestIds>,
    tx: Option<Transaction>,
    request_id: String,
    request: Stage,
    response: Stage,
    /// Bytes of the buffered body already given to the engine.
    seen: usize,
    /// The host hands each body chunk on its own instead of the buffer so far (Nginx).
    chunks_alone: bool,
    /// Request body bytes given to the engine.
    request_bytes: u64,
    /// The filter answered, dropped or redirected: its own reply passes untouched.
    interrupted: bool,
    /// Matches already logged (`Transaction::matches` is cumulative).
    logged_matches: usize,
    /// The DetectionOnly would-be interruption has been logged.
    logged_would: bool,
    /// Hook asked to fail by `x-wafer-fault` (feature `fault-injection` only).
    fault_at: Option<String>,
    /// The request headers announce a body (`content-length` > 0, `transfer-encoding`);
    /// read once with the headers, not fetched again from the host.
    declared_body: bool,
    /// `request.protocol`, read once per stream (the response's is the same).
    protocol: String,
}

impl WaferHttp {
    pub(crate) fn new(
        context_id: u32,
        config: Option<Rc<CompiledConfig>>,
        metrics: Rc<Metrics>,
        ids: Rc<RequestIds>,
    ) -> Self {
        WaferHttp {
            context_id,
            config,
            metrics,
            ids,
            tx: None,
            request_id: String::new(),
            request: Stage::Start,
            response: Stage::Start,
            seen: 0,
            chunks_alone: false,
            request_bytes: 0,
            interrupted: false,
            logged_matches: 0,
            logged_would: false,
            fault_at: None,
            declared_body: false,
            protocol: String::new(),
        }
    }

    /// Tells the fault policy which hook of this stream runs, and injects a fault there
    /// when a test build was asked to.
    fn enter(&self, hook: &'static str) {
        fault::enter(hook, &self.request_id);
        fault::inject(self.fault_at.as_deref(), hook);
    }

    /// Logs matches and the would-be interruption made by the last engine call, then
    /// carries out `iv`. Returns true if the stream was interrupted.
    fn after_phase(&mut self, iv: Option<Intervention>) -> bool {
        self.log_new_matches();
        match iv {
            Some(iv) => {
                self.interrupt(&iv);
                true
            }
            None => false,
        }
    }

    fn log_new_matches(&mut self) {
        let Some(tx) = &self.tx else { return };
        let matches = tx.matches();
        for m in matches.get(self.logged_matches..).unwrap_or_default() {
            if m.log {
                log(
                    level_for_severity(m.severity),
                    &format!("wafer: {}", with_request_id(m.line(), &self.request_id)),
                );
                self.metrics.rule_match(m.id);
            }
        }
        self.logged_matches = matches.len();
        if !self.logged_would {
            if let Some(w) = tx.would_interrupt() {
                self.logged_would = true;
                log(
                    LogLevel::Warn,
                    &format!(
                        "wafer: detection-only: would have interrupted (phase {}, status {}): {}",
                        w.phase,
                        w.status,
                        with_request_id(&w.log, &self.request_id)
                    ),
                );
                self.metrics.would_interrupt(w.phase);
            }
        }
    }

    /// Carries out an interruption.
    fn interrupt(&mut self, iv: &Intervention) {
        self.interrupted = true;
        self.metrics.interruption(iv.phase);
        log(
            LogLevel::Warn,
            &format!(
                "wafer: interrupted (phase {}, status {}): {}",
                iv.phase,
                iv.status,
                with_request_id(&iv.log, &self.request_id)
            ),
        );
        if iv.phase >= 5 {
            return; // The response is gone; logged only.
        }
        let response = self
            .config
            .as_ref()
            .and_then(|c| c.block_response.render(iv, &self.request_id));
        match (&iv.action, response) {
            (_, Some(r)) => {
                let headers: Vec<(&str, &str)> = r
                    .headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let body = (!r.body.is_empty()).then_some(r.body.as_slice());
                let _ = hostcalls::send_http_response(u32::from(r.status), headers, body);
            }
            (Action::Drop, None) if iv.phase <= 2 => {
                let _ = hostcalls::reset_http_request();
            }
            (_, None) => {
                let _ = hostcalls::reset_http_response();
            }
        }
    }

    /// Fails closed when no configuration is loaded (cannot happen under Envoy, which does
    /// not create streams for a plugin whose `on_configure` failed).
    fn unconfigured(&mut self) -> ProxyAction {
        self.interrupted = true;
        log(
            LogLevel::Error,
            "wafer: no configuration loaded; answering 503",
        );
        let _ = hostcalls::send_http_response(503, vec![], None);
        ProxyAction::Pause
    }

    fn start_transaction(&mut self) -> Option<()> {
        let config = Rc::clone(self.config.as_ref()?);
        let headers = hostcalls::get_map_bytes(MapType::HttpRequestHeaders).unwrap_or_default();
        self.declared_body = declares_body(&headers);
        // Nginx keeps the client's header case (`Host`, `X-Request-Id`); Envoy lower-cases.
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_slice())
        };
        let authority = get(":authority")
            .or_else(|| get("host"))
            .unwrap_or_default();
        let authority_str = String::from_utf8_lossy(authority);
        self.request_id = match get("x-request-id") {
            Some(v) if !v.is_empty() => String::from_utf8_lossy(v).into_owned(),
            _ => self.ids.next(self.context_id),
        };
        let mut tx = Transaction::new(
            Arc::clone(config.for_authority(&authority_str)),
            self.request_id.clone(),
        );
        // Each end is asked of the host only if a rule or the audit record reads it: CRS
        // reads REMOTE_ADDR on every request (905110) but the server's end rarely.
        tx.set_connection_source(
            Box::new(|| address_property("source")),
            Box::new(|| address_property("destination")),
        );
        let method = get(":method")
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        // CONNECT has no :path; its request target is the authority.
        let uri = get(":path").unwrap_or(authority);
        self.protocol = protocol();
        tx.set_request_line(&method, uri, &self.protocol);
        if get("host").is_none()
            && !authority.is_empty()
            && authority_is_the_clients(&headers, &self.protocol)
        {
            tx.add_request_header(b"Host", authority);
        }
        for (name, value) in &headers {
            if !name.starts_with(':') {
                tx.add_request_header(name.as_bytes(), value);
            }
        }
        self.tx = Some(tx);
        self.metrics.transaction();
        if cfg!(feature = "fault-injection") {
            self.fault_at = get("x-wafer-fault").map(|v| String::from_utf8_lossy(v).into_owned());
        }
        Some(())
    }

    /// Runs phase 2 (once). Returns true if the stream was interrupted.
    fn finish_request(&mut self) -> bool {
        self.request = Stage::Done;
        self.seen = 0;
        self.log_partial_request_body();
        let iv = self.tx.as_mut().and_then(Transaction::process_request_body);
        if self
            .tx
            .as_ref()
            .is_some_and(|t| t.request_body_error().is_some())
        {
            self.metrics.body_parse_error();
        }
        self.after_phase(iv)
    }

    /// `SecRequestBodyLimitAction ProcessPartial` let a body over the limit through with only
    /// its first part inspected: say so (ModSecurity logs it in its debug log only).
    fn log_partial_request_body(&self) {
        let Some(tx) = &self.tx else { return };
        let s = &tx.rules().settings;
        if s.request_body_limit_action == LimitAction::ProcessPartial
            && self.request_bytes > s.request_body_limit
        {
            log(
                LogLevel::Info,
                &format!(
                    "wafer: request body of {} bytes is over SecRequestBodyLimit ({}); only \
                     its first part was inspected (ProcessPartial) [unique_id \"{}\"]",
                    self.request_bytes, s.request_body_limit, self.request_id
                ),
            );
        }
    }

    /// Runs phase 4 (once). Returns true if the stream was interrupted.
    fn finish_response(&mut self) -> bool {
        self.response = Stage::Done;
        self.seen = 0;
        let iv = self
            .tx
            .as_mut()
            .and_then(Transaction::process_response_body);
        self.after_phase(iv)
    }

    /// Feeds the not yet seen part of the buffered body to the engine. Returns true if the
    /// stream was interrupted (body over the limit with `Reject`).
    fn feed(&mut self, buffer: BufferType, body_size: usize) -> bool {
        let from = if self.chunks_alone { 0 } else { self.seen };
        if body_size <= from {
            return false;
        }
        let chunk = hostcalls::get_buffer(buffer, from, body_size - from)
            .ok()
            .flatten()
            .unwrap_or_default();
        if chunk.is_empty() {
            // ngx_wasm_module cannot read a request body nginx spilled to a temporary file
            // (larger than `client_body_buffer_size`).
            log(
                LogLevel::Warn,
                &format!(
                    "wafer: the host announced {} body bytes but returned none; they are not \
                     inspected (nginx: raise client_body_buffer_size) [unique_id \"{}\"]",
                    body_size - from,
                    self.request_id
                ),
            );
        }
        self.seen = body_size;
        if buffer == BufferType::HttpRequestBody {
            self.request_bytes = self.request_bytes.saturating_add(chunk.len() as u64);
        }
        let Some(tx) = self.tx.as_mut() else {
            return false;
        };
        let iv = match buffer {
            BufferType::HttpRequestBody => tx.append_request_body(&chunk),
            _ => tx.append_response_body(&chunk),
        };
        self.after_phase(iv)
    }
}

/// `source.address` / `destination.address` split in two. Envoy gives `ip:port` or
/// `[v6]:port`; ngx_wasm_module gives the bare address (`$remote_addr`), whose port is then
/// `source.port` / `destination.port`.
fn address_property(which: &str) -> Option<(String, u16)> {
    let raw = hostcalls::get_property(vec![which, "address"]).ok()??;
    let s = String::from_utf8(raw).ok()?;
    if s.parse::<std::net::IpAddr>().is_ok() {
        return Some((s, port_property(which).unwrap_or(0)));
    }
    let (ip, port) = s.rsplit_once(':')?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    Some((ip.to_string(), port.parse().ok()?))
}

/// `source.port` / `destination.port`: an 8-byte little-endian integer from Envoy, decimal
/// text from ngx_wasm_module.
fn port_property(which: &str) -> Option<u16> {
    let raw = hostcalls::get_property(vec![which, "port"]).ok()??;
    int_property(&raw)
}

/// Whether request headers announce a body: `content-length` above 0 or any
/// `transfer-encoding` (RFC 9112 §6.3).
fn declares_body(headers: &[(String, Vec<u8>)]) -> bool {
    headers.iter().any(|(k, v)| {
        (k.eq_ignore_ascii_case("content-length")
            && std::str::from_utf8(v)
                .ok()
                .and_then(|n| n.trim().parse::<u64>().ok())
                .is_some_and(|n| n > 0))
            || k.eq_ignore_ascii_case("transfer-encoding")
    })
}

/// The `response.code` property: Envoy encodes it as an 8-byte little-endian integer,
/// ngx_wasm_module as decimal text.
fn response_code_property() -> Option<u16> {
    let raw = hostcalls::get_property(vec!["response", "code"]).ok()??;
    int_property(&raw)
}

/// A small integer property in either host's encoding: 8 bytes little-endian (Envoy) or
/// decimal text (ngx_wasm_module).
fn int_property(raw: &[u8]) -> Option<u16> {
    if let Ok(le) = <[u8; 8]>::try_from(raw) {
        return u16::try_from(u64::from_le_bytes(le)).ok();
    }
    std::str::from_utf8(raw).ok()?.trim().parse().ok()
}

/// `request.protocol` (`HTTP/1.1`, `HTTP/2`, …), `HTTP/1.1` when the host has none.
/// Whether `:authority` is what the client asked for, so a missing `Host` header is to be
/// restored from it. ModSecurity sees the client's `Host`; Envoy's codec moves it into
/// `:authority` (HTTP/1 too) and lists the pseudo-headers first. Nginx (ngx_wasm_module)
/// keeps the client's headers and appends pseudo-headers after them, with `:authority` set
/// to its `server_name:port`: under HTTP/1 a missing `Host` is really missing (CRS 920280
/// must see it), while HTTP/2 and 3 carry the client's authority only in `:authority`.
fn authority_is_the_clients(headers: &[(String, Vec<u8>)], protocol: &str) -> bool {
    let pseudo_first = headers.first().is_some_and(|(k, _)| k.starts_with(':'));
    pseudo_first || !protocol.starts_with("HTTP/1")
}

fn protocol() -> String {
    hostcalls::get_property(vec!["request", "protocol"])
        .ok()
        .flatten()
        .and_then(|p| String::from_utf8(p).ok())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "HTTP/1.1".to_string())
}

impl Context for WaferHttp {}

impl HttpContext for WaferHttp {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> ProxyAction {
        if self.config.is_none() {
            return self.unconfigured();
        }
        fault::enter("request_headers", "");
        if self.tx.is_some() || self.start_transaction().is_none() {
            return ProxyAction::Continue;
        }
        self.enter("request_headers");
        let iv = self
            .tx
            .as_mut()
            .and_then(Transaction::process_request_headers);
        if self.after_phase(iv) {
            return ProxyAction::Pause;
        }
        let wanted = self
            .tx
            .as_ref()
            .is_some_and(Transaction::request_body_wanted);
        // Nginx: end_of_stream is always set; a declared body still comes, read whole
        // before the upstream sees anything, and Pause here would stall the request.
        let body_follows = end_of_stream && self.declared_body;
        if wanted && body_follows {
            self.request = Stage::Buffering;
            self.seen = 0;
            self.chunks_alone = true;
            return ProxyAction::Continue;
        }
        if end_of_stream || !wanted {
            // Judge the request before the upstream sees any of it.
            if self.finish_request() {
                return ProxyAction::Pause;
            }
            return ProxyAction::Continue;
        }
        self.request = Stage::Buffering;
        self.seen = 0;
        // Continue, not Pause: Envoy's wasm host turns a Pause from the headers hook into
        // StopAllIterationAndWatermark, after which it never calls this filter's body hook
        // (FilterManager::handleDataIfStopAll) and the stream hangs. The headers go on; the
        // body is held (Pause in the body hook) until phase 2 has judged it.
        ProxyAction::Continue
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> ProxyAction {
        self.enter("request_body");
        if self.interrupted {
            return ProxyAction::Pause;
        }
        if self.request != Stage::Buffering {
            return ProxyAction::Continue;
        }
        if self.feed(BufferType::HttpRequestBody, body_size) {
            return ProxyAction::Pause;
        }
        let still_wanted = self
            .tx
            .as_ref()
            .is_some_and(Transaction::request_body_wanted);
        if end_of_stream || !still_wanted {
            if self.finish_request() {
                return ProxyAction::Pause;
            }
            return ProxyAction::Continue;
        }
        ProxyAction::Pause
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> ProxyAction {
        self.enter("request_trailers");
        if self.interrupted {
            return ProxyAction::Pause;
        }
        if self.request == Stage::Buffering && self.finish_request() {
            return ProxyAction::Pause;
        }
        ProxyAction::Continue
    }

    fn on_http_response_headers(
        &mut self,
        _num_headers: usize,
        end_of_stream: bool,
    ) -> ProxyAction {
        self.enter("response_headers");
        // Our own local reply, or a stream we never saw the request of.
        if self.interrupted || self.tx.is_none() || self.response != Stage::Start {
            return ProxyAction::Continue;
        }
        // The upstream (or the proxy) answered before the request ended: judge what we have.
        if self.request != Stage::Done && self.finish_request() {
            return ProxyAction::Pause;
        }
        let headers = hostcalls::get_map_bytes(MapType::HttpResponseHeaders).unwrap_or_default();
        let Some(tx) = self.tx.as_mut() else {
            return ProxyAction::Continue;
        };
        let pseudo_status = headers
            .iter()
            .find(|(k, _)| k == ":status")
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<u16>().ok());
        // Nginx has no `:status`; its end_of_stream here says nothing about a body.
        let nginx_like = pseudo_status.is_none();
        let status = pseudo_status.or_else(response_code_property).unwrap_or(0);
        tx.set_response_status(status, &self.protocol);
        for (name, value) in &headers {
            if !name.starts_with(':') {
                tx.add_response_header(name.as_bytes(), value);
            }
        }
        let iv = tx.process_response_headers();
        if self.after_phase(iv) {
            return ProxyAction::Pause;
        }
        let wanted = self
            .tx
            .as_ref()
            .is_some_and(Transaction::response_body_wanted);
        if wanted && nginx_like {
            // Body chunks follow one by one (an empty body as one empty chunk); Pause would
            // be ignored, so phase 4 runs at the last chunk after the headers went out.
            self.response = Stage::Buffering;
            self.seen = 0;
            self.chunks_alone = true;
            return ProxyAction::Continue;
        }
        if end_of_stream || !wanted {
            if self.finish_response() {
                return ProxyAction::Pause;
            }
            return ProxyAction::Continue;
        }
        // Continue for the same reason as on the request side: a Pause here would stop
        // Envoy from calling the response body hook. The body is held until phase 4; a
        // phase-4 block then resets the stream, so none of the body reaches the client.
        self.response = Stage::Buffering;
        self.seen = 0;
        ProxyAction::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> ProxyAction {
        self.enter("response_body");
        if self.interrupted || self.response != Stage::Buffering {
            return ProxyAction::Continue;
        }
        if self.feed(BufferType::HttpResponseBody, body_size) {
            return ProxyAction::Pause;
        }
        let still_wanted = self
            .tx
            .as_ref()
            .is_some_and(Transaction::response_body_wanted);
        if end_of_stream || !still_wanted {
            if self.finish_response() {
                return ProxyAction::Pause;
            }
            return ProxyAction::Continue;
        }
        if self.chunks_alone {
            // Nginx forwards each chunk anyway (and logs a Pause as an error).
            return ProxyAction::Continue;
        }
        ProxyAction::Pause
    }

    fn on_http_response_trailers(&mut self, _num_trailers: usize) -> ProxyAction {
        self.enter("response_trailers");
        if self.interrupted || self.response != Stage::Buffering {
            return ProxyAction::Continue;
        }
        if self.finish_response() {
            return ProxyAction::Pause;
        }
        ProxyAction::Continue
    }

    fn on_log(&mut self) {
        self.enter("log");
        let Some(tx) = self.tx.as_mut() else { return };
        tx.process_logging();
        // Phase 5 cannot change traffic; its matches and interruption are only logged.
        let iv = tx.intervention().filter(|iv| iv.phase >= 5).cloned();
        self.log_new_matches();
        if let (Some(iv), false) = (iv, self.interrupted) {
            self.interrupt(&iv);
        }
        if let Some(record) = self.tx.as_ref().and_then(Transaction::audit_record) {
            log(LogLevel::Info, &format!("{AUDIT_PREFIX}{record}"));
        }
    }
}
