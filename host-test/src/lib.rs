//! `wafer_host_test`: a native proxy-wasm host on wasmtime that drives a filter (`.wasm`) the
//! way **Envoy** or **Nginx (ngx_wasm_module)** would, for tests.
//!
//! What it is for: load a proxy-wasm filter once, start VMs with a plugin configuration,
//! push HTTP exchanges through them with chosen body split points, and look at what happened:
//! the local response, what reached the upstream, what the client got, whether the stream
//! stalled or was reset, the logs, metrics and `http_call`s. What it is not: a proxy. There is
//! no network, no real upstream (the test supplies the upstream's answer), no L4 streams,
//! no gRPC.
//!
//! ```no_run
//! use wafer_host_test::{HostOptions, Personality, Plugin, Request, Response};
//! let plugin = Plugin::load("dist/wafer.wasm").unwrap();          // compile once
//! let mut vm = plugin
//!     .start(HostOptions::new(Personality::Envoy), br#"{"rules": []}"#)
//!     .unwrap();                                                  // instantiate + configure
//! let out = vm.http(
//!     &Request::post("/login", "user=admin").header("content-type", "application/x-www-form-urlencoded").split_body_at(&[3]),
//!     &Response::ok("hello"),
//! );
//! assert!(out.local_response.is_none());
//! assert_eq!(out.upstream_body(), b"user=admin");
//! ```
//!
//! # Personalities and where each modelled behaviour comes from
//!
//! Shared: root context start is `_initialize`, `proxy_on_context_create(root, 0)`,
//! `proxy_on_vm_start`, `proxy_on_configure`; a `false` from either fails [`Plugin::start`]
//! with the plugin's logs (proxy-wasm spec v0.2.1). An `http_call` is recorded and answered
//! after the hook that made it returns, by the responder set with [`Vm::on_http_call`]
//! (both hosts dispatch asynchronously). A local reply sent from a request hook passes
//! through the filter's own response hooks (Envoy `sendLocalReplyViaFilterChain`; nginx runs
//! its header/body filters on every response); actions returned there are ignored.
//!
//! **Envoy** (`source/extensions/common/wasm/context.cc`, `source/common/http/filter_manager.cc`):
//! - request headers include `:authority` (from `Host`), `:path`, `:method`, `:scheme`,
//!   then the headers lower-cased, then `x-forwarded-proto` and a generated `x-request-id`;
//!   response headers start with `:status`.
//! - headers → body chunks → trailers; `end_of_stream` is true on the headers only when
//!   there is neither body nor trailers, and on the last chunk only when no trailers follow.
//! - `Pause` from headers when a body follows is StopAllIterationAndWatermark
//!   (proxy-wasm-cpp-host converts it; `FilterManager::handleDataIfStopAll`): Envoy buffers
//!   the body without calling the filter again, so the stream stalls (or 413/500 over the
//!   buffer limit). `Pause` from a body hook buffers
//!   (`StopIterationAndBuffer`): the next call sees the whole buffer so far and its size;
//!   `Continue` (or `proxy_continue_stream`) forwards the held headers and the buffer.
//! - buffering beyond [`HostOptions::buffer_limit`] answers 413 on the request side and 500
//!   on the response side if the headers have not gone out, else resets the stream
//!   (`requestDataTooLarge` / `responseDataTooLarge`).
//! - `proxy_set_buffer_bytes` accepts prepend, replace-all and append only (`copyFrom`).
//! - a trap fails the stream with a 503 (`failStream`); later requests follow
//!   [`HostOptions::failure_policy`] (`FAIL_CLOSED` 503s, `FAIL_RELOAD` 503s for the backoff
//!   then a fresh VM, `FAIL_OPEN` bypasses the filter), as measured with Envoy 1.40.
//! - after the stream: `proxy_on_done`, `proxy_on_log`, `proxy_on_delete` (spec order).
//! - properties encode integers as 8 bytes LE, bools as one byte (see `properties`).
//!
//! **Nginx** (Kong/ngx_wasm_module `src/http/proxy_wasm/ngx_http_proxy_wasm.c`,
//! `src/common/proxy_wasm/ngx_proxy_wasm_maps.c`, `docs/PROXY_WASM.md`):
//! - `on_request_headers` and `on_response_headers` always get `end_of_stream = 1`
//!   (`NGX_HTTP_PROXY_WASM_EOF`), even when a body follows.
//! - the request body is read whole, then `on_request_body(len, eof=1)` is called once, and
//!   only when the body is not empty; a body larger than
//!   [`HostOptions::nginx_client_body_buffer_size`] sits in a temp file and reading it fails
//!   ("cannot read request body buffered to file").
//! - request and response trailers are never given to the filter (NYI) nor forwarded.
//! - response body hooks get each chunk on its own; `eof` when the bytes seen reach
//!   `Content-Length`, or on the last chunk; an empty body still gets one `(0, eof)` call.
//! - `Pause` is honoured only in request headers/body (and `http_call` responses); in
//!   response hooks it is logged and ignored (docs "Current Limitations").
//! - headers keep their case; pseudo-headers `:path` (`$uri?$args`), `:method`, `:scheme`
//!   and `:authority` are appended to the request map, and `:authority` is the server's
//!   `server_name:port`, **not** the `Host` header. No `:status` in response headers.
//! - local response from a response-body hook cannot replace sent headers: logged, stream
//!   closed. A trap answers 500; the next request gets a fresh instance (a trapped
//!   instance is not reused).
//! - unsupported host functions (`proxy_get_log_level`, `proxy_done`, `proxy_close_stream`,
//!   `proxy_continue_response`, `proxy_resolve_shared_queue`, gRPC, `proxy_get_status`,
//!   foreign functions) trap with `NYI`.
//! - after the stream: `proxy_on_log`, `proxy_on_done`, `proxy_on_delete`.
//! - properties are all strings (see `properties`).

pub mod abi;
mod exports;
mod host;
mod properties;
mod stream;
mod wasi;

pub use stream::{ClientResponse, Outcome, Request, Response, Upstream};

use exports::Export;
use host::{HostState, Shared};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use wasmtime::{Config, Engine, Instance, Linker, Module, Store};

/// Which proxy the host imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Personality {
    /// Envoy (and Istio), the reference proxy-wasm host.
    Envoy,
    /// Nginx with Kong's ngx_wasm_module.
    Nginx,
}

/// Proxy-wasm log levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// trace
    Trace = 0,
    /// debug
    Debug = 1,
    /// info
    Info = 2,
    /// warn
    Warn = 3,
    /// error
    Error = 4,
    /// critical
    Critical = 5,
}

impl LogLevel {
    fn from_i32(v: i32) -> Option<Self> {
        Some(match v {
            0 => LogLevel::Trace,
            1 => LogLevel::Debug,
            2 => LogLevel::Info,
            3 => LogLevel::Warn,
            4 => LogLevel::Error,
            5 => LogLevel::Critical,
            _ => return None,
        })
    }
}

/// One line the filter (or the host, prefixed `host:`) logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// Level.
    pub level: LogLevel,
    /// Message text (lossy UTF-8).
    pub message: String,
}

/// Kind of a metric defined by the filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// Monotonic counter.
    Counter,
    /// Gauge.
    Gauge,
    /// Histogram (only `record`; the host keeps the last value).
    Histogram,
}

/// A local response sent with `proxy_send_local_response`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalResponse {
    /// HTTP status.
    pub status: u32,
    /// Status details string.
    pub details: String,
    /// Extra headers the filter gave.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// gRPC status (-1 when unset).
    pub grpc_status: i32,
}

/// An `http_call` made by the filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpCall {
    /// Token returned to the filter.
    pub token: u32,
    /// Context that made the call.
    pub context_id: u32,
    /// Upstream (cluster) name.
    pub upstream: String,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Vec<u8>,
    /// Request trailers.
    pub trailers: Vec<(String, String)>,
    /// Timeout in milliseconds.
    pub timeout_ms: u32,
    /// Whether the test answered it.
    pub answered: bool,
}

/// The answer a test gives to an [`HttpCall`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpCallResponse {
    /// Headers (include `:status`).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Trailers.
    pub trailers: Vec<(String, String)>,
}

/// Which guest export the host calls to allocate memory for returned values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allocator {
    /// `malloc` when exported, else `proxy_on_memory_allocate` (proxy-wasm-cpp-host order).
    Auto,
    /// Only `malloc`.
    Malloc,
    /// Only `proxy_on_memory_allocate`.
    ProxyOnMemoryAllocate,
}

/// What Envoy does with a plugin's later requests once its VM trapped
/// (`envoy.extensions.wasm.v3.PluginConfig.failure_policy`; Istio `failStrategy`).
/// The Nginx personality ignores it: ngx_wasm_module answers the trapping request with 500
/// and gives the next request a new instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailurePolicy {
    /// `FAIL_CLOSED` (Envoy's default): every later request is answered 503 without the
    /// filter.
    FailClosed,
    /// `FAIL_RELOAD`: 503 until [`HostOptions::reload_backoff_ns`] has passed since the trap
    /// (Envoy's `ReloadConfig.backoff`, 1 s by default), then a fresh VM is started with the
    /// same configuration for the next request.
    FailReload,
    /// `FAIL_OPEN`: later requests go to the upstream as if the filter were not there.
    FailOpen,
}

/// Host settings for one VM. [`HostOptions::new`] gives working defaults.
#[derive(Clone, Debug)]
pub struct HostOptions {
    /// Envoy or Nginx.
    pub personality: Personality,
    /// `plugin_name` property.
    pub plugin_name: String,
    /// `plugin_root_id` property (the root context's id string).
    pub root_id: String,
    /// `plugin_vm_id` property and shared-queue scope.
    pub vm_id: String,
    /// VM configuration bytes (`proxy_on_vm_start`).
    pub vm_configuration: Vec<u8>,
    /// Level reported by `proxy_get_log_level`; lower levels are still recorded.
    pub log_level: LogLevel,
    /// Allocator export to use.
    pub allocator: Allocator,
    /// Envoy per-stream buffer limit (default 1 MiB, Envoy's connection buffer default).
    pub buffer_limit: usize,
    /// nginx `client_body_buffer_size` (default 16 KiB: two pages on x86-64).
    pub nginx_client_body_buffer_size: usize,
    /// nginx `server_name` (used for `:authority`).
    pub nginx_server_name: String,
    /// nginx `$hostname` (used for `request.host`).
    pub nginx_hostname: String,
    /// Client IP.
    pub source_ip: String,
    /// Client port.
    pub source_port: u16,
    /// Listener IP.
    pub destination_ip: String,
    /// Listener port.
    pub destination_port: u16,
    /// Connection id.
    pub connection_id: u64,
    /// Wall clock at start, ns since the epoch.
    pub start_time_ns: u64,
    /// Envoy: what happens to later requests after a trap.
    pub failure_policy: FailurePolicy,
    /// Envoy: the `FAIL_RELOAD` backoff (default 1 s).
    pub reload_backoff_ns: u64,
}

impl HostOptions {
    /// Defaults for `personality`.
    pub fn new(personality: Personality) -> Self {
        HostOptions {
            personality,
            plugin_name: "wafer".into(),
            root_id: "wafer".into(),
            vm_id: "wafer-vm".into(),
            vm_configuration: Vec::new(),
            log_level: LogLevel::Trace,
            allocator: Allocator::Auto,
            buffer_limit: 1024 * 1024,
            nginx_client_body_buffer_size: 16 * 1024,
            nginx_server_name: "localhost".into(),
            nginx_hostname: "wafer-test-host".into(),
            source_ip: "192.0.2.10".into(),
            source_port: 40000,
            destination_ip: "192.0.2.1".into(),
            destination_port: 8080,
            connection_id: 7,
            start_time_ns: 1_700_000_000_000_000_000,
            failure_policy: FailurePolicy::FailClosed,
            reload_backoff_ns: 1_000_000_000,
        }
    }
}

/// A failure to load, start or configure a filter, with what the filter logged.
#[derive(Debug)]
pub struct Error {
    /// What went wrong.
    pub message: String,
    /// Logs up to the failure.
    pub logs: Vec<LogEntry>,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)?;
        for l in &self.logs {
            write!(f, "\n  [{:?}] {}", l.level, l.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

fn err(message: impl Into<String>, logs: Vec<LogEntry>) -> Error {
    Error {
        message: message.into(),
        logs,
    }
}

pub(crate) fn to_strings(p: &[(Vec<u8>, Vec<u8>)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

/// A compiled filter. Compile once, [`Plugin::start`] as many VMs as needed; VMs started
/// from one `Plugin` share shared data, queues and metrics (as Envoy workers do).
#[derive(Clone)]
pub struct Plugin {
    engine: Engine,
    module: Module,
    linker: Arc<Linker<HostState>>,
    shared: Arc<Mutex<Shared>>,
}

/// The wasmtime configuration modules are compiled with (wasmtime's defaults: Cranelift,
/// optimised for speed). `WAFER_WASM_PERFMAP=1` also writes /tmp/perf-<pid>.map so `perf
/// report` names the filter's functions (build the module with its name section to profile
/// it); that does not change the code.
pub fn engine_config() -> Config {
    let mut config = Config::new();
    if std::env::var_os("WAFER_WASM_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config
}

impl Plugin {
    /// Compile the `.wasm` file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| err(format!("reading {}: {e}", path.display()), Vec::new()))?;
        Self::from_bytes(&bytes)
    }

    /// Compile a module from bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let engine = Engine::new(&engine_config()).map_err(|e| err(e.to_string(), Vec::new()))?;
        let module =
            Module::new(&engine, bytes).map_err(|e| err(format!("compile: {e}"), Vec::new()))?;
        let abi_ok = module.exports().any(|e| {
            matches!(
                e.name(),
                "proxy_abi_version_0_2_1" | "proxy_abi_version_0_2_0" | "proxy_abi_version_0_1_0"
            )
        });
        if !abi_ok {
            return Err(err(
                "module exports no proxy_abi_version_* marker",
                Vec::new(),
            ));
        }
        let mut linker = Linker::new(&engine);
        host::add_to_linker(&mut linker).map_err(|e| err(e.to_string(), Vec::new()))?;
        wasi::add_to_linker(&mut linker).map_err(|e| err(e.to_string(), Vec::new()))?;
        linker
            .define_unknown_imports_as_traps(&module)
            .map_err(|e| err(e.to_string(), Vec::new()))?;
        Ok(Plugin {
            engine,
            module,
            linker: Arc::new(linker),
            shared: Arc::new(Mutex::new(Shared::default())),
        })
    }

    /// The same compiled module with its own, empty shared data, queues and metrics (as a
    /// fresh Envoy process would have).
    pub fn with_fresh_state(&self) -> Plugin {
        Plugin {
            shared: Arc::new(Mutex::new(Shared::default())),
            ..self.clone()
        }
    }

    /// Current value of every metric defined by any VM of this plugin, by name.
    pub fn metrics(&self) -> Vec<(String, MetricKind, i64)> {
        self.shared
            .lock()
            .map(|s| s.metrics.clone())
            .unwrap_or_default()
    }

    /// Value of one metric, if defined.
    pub fn metric(&self, name: &str) -> Option<i64> {
        self.metrics()
            .into_iter()
            .find(|m| m.0 == name)
            .map(|m| m.2)
    }

    /// Value stored in shared data under `key`.
    pub fn shared_data(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.shared.lock().ok()?.data.get(key).map(|v| v.0.clone())
    }

    /// Instantiate a VM and run the root context start: `_initialize`, context create,
    /// `proxy_on_vm_start`, `proxy_on_configure(configuration)`.
    pub fn start(&self, opts: HostOptions, configuration: &[u8]) -> Result<Vm, Error> {
        let state = HostState::new(opts, self.shared.clone(), configuration.to_vec());
        let mut store = Store::new(&self.engine, state);
        let instance = self
            .linker
            .instantiate(&mut store, &self.module)
            .map_err(|e| err(format!("instantiate: {e:#}"), store.data().logs.clone()))?;
        let has = |n: &str| self.module.get_export(n).is_some();
        let alloc = match store.data().opts.allocator {
            Allocator::Auto if has("malloc") => "malloc",
            Allocator::Auto | Allocator::ProxyOnMemoryAllocate => "proxy_on_memory_allocate",
            Allocator::Malloc => "malloc",
        };
        if !has(alloc) {
            return Err(err(format!("module does not export {alloc}"), Vec::new()));
        }
        let Some(Export::A1R(alloc)) = Export::resolve(&mut store, &instance, alloc) else {
            return Err(err(format!("{alloc} is not (i32) -> i32"), Vec::new()));
        };
        store.data_mut().alloc = Some(alloc);
        let mut vm = Vm {
            store,
            instance,
            exports: HashMap::new(),
            next_context_id: 2,
            responder: None,
            plugin: self.clone(),
            configuration: configuration.to_vec(),
            failed_at: None,
            restarts: 0,
        };
        for init in ["_initialize", "_start"] {
            if has(init) {
                vm.call(init, &[])
                    .map_err(|e| err(format!("{init}: {e:#}"), vm.logs().to_vec()))?;
                break;
            }
        }
        let root = vm.store.data().root_context_id as i32;
        let fail = |vm: &Vm, m: String| err(m, vm.logs().to_vec());
        vm.call("proxy_on_context_create", &[root, 0])
            .map_err(|e| fail(&vm, format!("proxy_on_context_create: {e:#}")))?;
        let vm_cfg = vm.store.data().opts.vm_configuration.len() as i32;
        match vm.call("proxy_on_vm_start", &[root, vm_cfg]) {
            Ok(Some(0)) => return Err(fail(&vm, "proxy_on_vm_start returned false".into())),
            Err(e) => return Err(fail(&vm, format!("proxy_on_vm_start: {e:#}"))),
            _ => {}
        }
        match vm.call("proxy_on_configure", &[root, configuration.len() as i32]) {
            Ok(Some(0)) => return Err(fail(&vm, "proxy_on_configure returned false".into())),
            Err(e) => return Err(fail(&vm, format!("proxy_on_configure: {e:#}"))),
            _ => {}
        }
        vm.answer_http_calls(root as u32);
        Ok(vm)
    }
}

type Responder = Box<dyn FnMut(&HttpCall) -> Option<HttpCallResponse> + Send>;

/// One VM (one wasmtime instance) with a configured root context: Envoy's per-worker VM.
pub struct Vm {
    store: Store<HostState>,
    instance: Instance,
    /// The instance's exports called so far, by name (`None`: not exported).
    exports: HashMap<&'static str, Option<Export>>,
    next_context_id: u32,
    responder: Option<Responder>,
    /// Where the VM came from, to start a fresh one after a trap.
    plugin: Plugin,
    /// The configuration it was started with.
    configuration: Vec<u8>,
    /// Monotonic time of the trap that failed the VM, if it failed.
    failed_at: Option<u64>,
    /// Fresh VMs started after traps.
    restarts: u32,
}

impl Vm {
    /// All logs so far (configure and every exchange).
    pub fn logs(&self) -> &[LogEntry] {
        &self.store.data().logs
    }

    /// All `http_call`s so far.
    pub fn http_calls(&self) -> &[HttpCall] {
        &self.store.data().http_calls
    }

    /// The tick period the filter asked for (0 = none).
    pub fn tick_period_ms(&self) -> u32 {
        self.store.data().tick_period_ms
    }

    /// Answer future `http_call`s with `f` (`None` leaves a call unanswered).
    pub fn on_http_call(
        &mut self,
        f: impl FnMut(&HttpCall) -> Option<HttpCallResponse> + Send + 'static,
    ) {
        self.responder = Some(Box::new(f));
    }

    /// Move both clocks forward.
    pub fn advance_time(&mut self, ns: u64) {
        let c = &mut self.store.data_mut().clock;
        c.realtime_ns = c.realtime_ns.saturating_add(ns);
        c.monotonic_ns = c.monotonic_ns.saturating_add(ns);
    }

    /// Advance time by the tick period and call `proxy_on_tick`; `false` if no period is set.
    pub fn tick(&mut self) -> Result<bool, Error> {
        let period = self.store.data().tick_period_ms;
        if period == 0 {
            return Ok(false);
        }
        self.advance_time(u64::from(period) * 1_000_000);
        let root = self.store.data().root_context_id;
        self.store.data_mut().effective_context = root;
        self.call("proxy_on_tick", &[root as i32])
            .map_err(|e| err(format!("proxy_on_tick: {e:#}"), self.logs().to_vec()))?;
        self.answer_http_calls(root);
        Ok(true)
    }

    /// Whether a trap failed the VM (until a fresh one replaces it).
    pub fn failed(&self) -> bool {
        self.failed_at.is_some()
    }

    /// How many times a fresh VM replaced a trapped one (`FAIL_RELOAD`, Nginx).
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// Call `proxy_on_configure` again on the running root context with `configuration`
    /// (a configuration update delivered to the same plugin instance). Returns what the
    /// filter answered; on `false` the filter must keep serving with what it had.
    pub fn reconfigure(&mut self, configuration: &[u8]) -> Result<bool, Error> {
        let root = self.store.data().root_context_id;
        self.store.data_mut().plugin_config = configuration.to_vec();
        self.store.data_mut().effective_context = root;
        let r = self
            .call(
                "proxy_on_configure",
                &[root as i32, configuration.len() as i32],
            )
            .map_err(|e| err(format!("proxy_on_configure: {e:#}"), self.logs().to_vec()))?;
        let ok = r != Some(0);
        if ok {
            self.configuration = configuration.to_vec();
        }
        Ok(ok)
    }

    /// Marks the VM failed by a trap now (see [`FailurePolicy`]).
    pub(crate) fn mark_failed(&mut self) {
        if self.failed_at.is_none() {
            self.failed_at = Some(self.store.data().clock.monotonic_ns);
        }
    }

    /// Replaces a failed VM with a fresh one (same module, options, configuration), keeping
    /// the logs and clocks. Returns false (and stays failed) if the fresh one fails to start.
    pub(crate) fn restart(&mut self) -> bool {
        let opts = self.store.data().opts.clone();
        match self.plugin.start(opts, &self.configuration) {
            Ok(fresh) => {
                let old = self.store.data_mut();
                let logs = std::mem::take(&mut old.logs);
                let clock = old.clock;
                self.store = fresh.store;
                self.instance = fresh.instance;
                self.exports.clear();
                let st = self.store.data_mut();
                let started = std::mem::replace(&mut st.logs, logs);
                st.logs.extend(started);
                st.clock = clock;
                st.host_log(LogLevel::Info, "started a fresh VM after a trap".into());
                self.failed_at = None;
                self.restarts += 1;
                true
            }
            Err(e) => {
                self.store
                    .data_mut()
                    .host_log(LogLevel::Critical, format!("fresh VM failed to start: {e}"));
                false
            }
        }
    }

    /// Monotonic ns since the trap that failed the VM.
    pub(crate) fn failed_for(&self) -> Option<u64> {
        let now = self.store.data().clock.monotonic_ns;
        self.failed_at.map(|t| now.saturating_sub(t))
    }

    /// Size of the VM's linear memory in bytes.
    pub fn memory_size(&mut self) -> usize {
        match self.instance.get_memory(&mut self.store, "memory") {
            Some(m) => m.data_size(&self.store),
            None => 0,
        }
    }

    /// Call an export with i32 arguments; `Ok(None)` when it is not exported or returns
    /// nothing.
    fn call(&mut self, name: &'static str, args: &[i32]) -> wasmtime::Result<Option<i32>> {
        let Vm {
            store,
            instance,
            exports,
            ..
        } = self;
        let export = exports
            .entry(name)
            .or_insert_with(|| Export::resolve(store, instance, name));
        match export {
            Some(e) => e.call(store, args),
            None => Ok(None),
        }
    }

    /// Deliver answers to unanswered `http_call`s via `proxy_on_http_call_response`, until
    /// none is left that the responder answers.
    fn answer_http_calls(&mut self, context_id: u32) {
        let Some(mut responder) = self.responder.take() else {
            return;
        };
        let mut guard = 0;
        while let Some(idx) = self
            .store
            .data()
            .http_calls
            .iter()
            .position(|c| !c.answered)
        {
            guard += 1;
            if guard > 1000 {
                break;
            }
            self.store.data_mut().http_calls[idx].answered = true;
            let call = self.store.data().http_calls[idx].clone();
            let Some(resp) = responder(&call) else {
                continue;
            };
            let to_bytes = |p: &[(String, String)]| -> abi::Pairs {
                p.iter()
                    .map(|(k, v)| (k.clone().into_bytes(), v.clone().into_bytes()))
                    .collect()
            };
            let (nh, nb, nt) = (resp.headers.len(), resp.body.len(), resp.trailers.len());
            let st = self.store.data_mut();
            st.call_response = Some(host::CallResponse {
                headers: to_bytes(&resp.headers),
                body: resp.body,
                trailers: to_bytes(&resp.trailers),
            });
            let ctx = if call.context_id == 0 {
                context_id
            } else {
                call.context_id
            };
            st.effective_context = ctx;
            let r = self.call(
                "proxy_on_http_call_response",
                &[
                    ctx as i32,
                    call.token as i32,
                    nh as i32,
                    nb as i32,
                    nt as i32,
                ],
            );
            self.store.data_mut().call_response = None;
            if let Err(e) = r {
                self.store.data_mut().host_log(
                    LogLevel::Error,
                    format!("proxy_on_http_call_response trapped: {e:#}"),
                );
            }
        }
        self.responder = Some(responder);
    }
}
