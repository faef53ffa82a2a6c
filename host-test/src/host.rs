//! Host state and the proxy-wasm ABI 0.2.1 host functions (`env.proxy_*`).
//!
//! Every function is implemented (none is a trap) for the Envoy personality; for the Nginx
//! personality the functions ngx_wasm_module lists as not supported (`docs/PROXY_WASM.md`,
//! "Supported Host ABI": `proxy_get_log_level`, `proxy_done`, `proxy_close_stream`,
//! `proxy_continue_response`, `proxy_resolve_shared_queue`, gRPC, `proxy_get_status`,
//! `proxy_call_foreign_function`) trap with `NYI`, as they do there, so a filter that relies on
//! them fails under that personality. Memory faults in arguments return
//! `InvalidMemoryAccess`, never panic.
//!
//! Not here: the order in which hooks are called (see `stream`).

use crate::abi::{self, buffer, map, status, Pairs};
use crate::{HttpCall, LogEntry, LogLevel, MetricKind, Personality};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use wasmtime::{Caller, Extern, Linker, Memory};

type C<'a> = Caller<'a, HostState>;

/// A shared queue: (vm id, name, items).
pub(crate) type Queue = (Vec<u8>, Vec<u8>, VecDeque<Vec<u8>>);

/// Data shared by all VMs of one [`crate::Plugin`] (Envoy: shared across workers).
#[derive(Default)]
pub(crate) struct Shared {
    pub data: HashMap<Vec<u8>, (Vec<u8>, u32)>,
    pub queues: Vec<Queue>,
    pub metrics: Vec<(String, MetricKind, i64)>,
}

/// Virtual clocks: tests move them explicitly.
#[derive(Clone, Copy)]
pub(crate) struct Clock {
    pub realtime_ns: u64,
    pub monotonic_ns: u64,
}

/// The state of one HTTP stream as the filter sees it.
#[derive(Default)]
pub(crate) struct HttpState {
    pub context_id: u32,
    pub request_headers: Pairs,
    pub request_trailers: Pairs,
    pub response_headers: Pairs,
    pub response_trailers: Pairs,
    pub request_body: Vec<u8>,
    pub response_body: Vec<u8>,
    /// Nginx: the body went to a temp file and cannot be read.
    pub request_body_unreadable: bool,
    pub local: Option<crate::LocalResponse>,
    pub resume_request: bool,
    pub resume_response: bool,
    pub close_request: bool,
    pub close_response: bool,
    pub properties: HashMap<Vec<u8>, Vec<u8>>,
    pub response_code: Option<u16>,
    /// Original request line parts (Nginx reads these from `r`, not from headers).
    pub method: String,
    pub path: String,
    pub scheme: String,
    pub host_header: String,
    pub request_time_ns: u64,
    /// Property paths the filter read during the stream, dot-joined, in order.
    pub properties_read: Vec<String>,
}

/// An `http_call` response being delivered to the filter.
#[derive(Default)]
pub(crate) struct CallResponse {
    pub headers: Pairs,
    pub body: Vec<u8>,
    pub trailers: Pairs,
}

/// Everything the host functions can see; one per VM (wasmtime `Store` data).
pub(crate) struct HostState {
    pub personality: Personality,
    pub opts: crate::HostOptions,
    pub shared: Arc<Mutex<Shared>>,
    pub logs: Vec<LogEntry>,
    pub plugin_config: Vec<u8>,
    pub root_context_id: u32,
    pub effective_context: u32,
    pub clock: Clock,
    pub tick_period_ms: u32,
    pub rng: u64,
    pub http: Option<HttpState>,
    pub http_calls: Vec<HttpCall>,
    pub next_token: u32,
    pub call_response: Option<CallResponse>,
    pub root_properties: HashMap<Vec<u8>, Vec<u8>>,
    pub done_called: bool,
    pub stdio_buf: [Vec<u8>; 2],
    pub memory: Option<Memory>,
    pub alloc: Option<wasmtime::TypedFunc<i32, i32>>,
}

impl HostState {
    pub(crate) fn new(
        opts: crate::HostOptions,
        shared: Arc<Mutex<Shared>>,
        plugin_config: Vec<u8>,
    ) -> Self {
        HostState {
            personality: opts.personality,
            clock: Clock {
                realtime_ns: opts.start_time_ns,
                monotonic_ns: 1_000_000_000,
            },
            rng: 0x9E37_79B9_7F4A_7C15,
            opts,
            shared,
            logs: Vec::new(),
            plugin_config,
            root_context_id: 1,
            effective_context: 1,
            tick_period_ms: 0,
            http: None,
            http_calls: Vec::new(),
            next_token: 1,
            call_response: None,
            root_properties: HashMap::new(),
            done_called: false,
            stdio_buf: [Vec::new(), Vec::new()],
            memory: None,
            alloc: None,
        }
    }

    /// Record a log line written by the host itself (prefixed `host:`).
    pub(crate) fn host_log(&mut self, level: LogLevel, message: String) {
        self.logs.push(LogEntry {
            level,
            message: format!("host: {message}"),
        });
    }

    /// WASI stdout/stderr: one log entry per line (fd 1 → info, fd 2 → error, as Envoy).
    pub(crate) fn stdio(&mut self, fd: i32, data: &[u8]) {
        let (idx, level) = if fd == 1 {
            (0, LogLevel::Info)
        } else {
            (1, LogLevel::Error)
        };
        self.stdio_buf[idx].extend_from_slice(data);
        while let Some(nl) = self.stdio_buf[idx].iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.stdio_buf[idx].drain(..=nl).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            self.logs.push(LogEntry {
                level,
                message: text,
            });
        }
    }

    /// Deterministic xorshift bytes (tests must be reproducible).
    pub(crate) fn random_bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let mut x = self.rng;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.rng = x;
            out.extend_from_slice(&x.to_le_bytes());
        }
        out.truncate(n);
        out
    }

    fn map(&self, t: i32) -> Option<&Pairs> {
        match t {
            map::HTTP_CALL_RESPONSE_HEADERS => self.call_response.as_ref().map(|r| &r.headers),
            map::HTTP_CALL_RESPONSE_TRAILERS => self.call_response.as_ref().map(|r| &r.trailers),
            _ => {
                let h = self.http.as_ref()?;
                match t {
                    map::HTTP_REQUEST_HEADERS => Some(&h.request_headers),
                    map::HTTP_REQUEST_TRAILERS => Some(&h.request_trailers),
                    map::HTTP_RESPONSE_HEADERS => Some(&h.response_headers),
                    map::HTTP_RESPONSE_TRAILERS => Some(&h.response_trailers),
                    _ => None,
                }
            }
        }
    }

    fn map_mut(&mut self, t: i32) -> Option<&mut Pairs> {
        match t {
            map::HTTP_CALL_RESPONSE_HEADERS => self.call_response.as_mut().map(|r| &mut r.headers),
            map::HTTP_CALL_RESPONSE_TRAILERS => {
                self.call_response.as_mut().map(|r| &mut r.trailers)
            }
            _ => {
                let h = self.http.as_mut()?;
                match t {
                    map::HTTP_REQUEST_HEADERS => Some(&mut h.request_headers),
                    map::HTTP_REQUEST_TRAILERS => Some(&mut h.request_trailers),
                    map::HTTP_RESPONSE_HEADERS => Some(&mut h.response_headers),
                    map::HTTP_RESPONSE_TRAILERS => Some(&mut h.response_trailers),
                    _ => None,
                }
            }
        }
    }

    fn buffer(&self, t: i32) -> Result<&[u8], i32> {
        match t {
            buffer::PLUGIN_CONFIGURATION => Ok(&self.plugin_config),
            buffer::VM_CONFIGURATION => Ok(&self.opts.vm_configuration),
            buffer::HTTP_CALL_RESPONSE_BODY => self
                .call_response
                .as_ref()
                .map(|r| r.body.as_slice())
                .ok_or(status::NOT_FOUND),
            buffer::HTTP_REQUEST_BODY => match &self.http {
                Some(h) if h.request_body_unreadable => Err(status::NOT_FOUND),
                Some(h) => Ok(&h.request_body),
                None => Err(status::NOT_FOUND),
            },
            buffer::HTTP_RESPONSE_BODY => self
                .http
                .as_ref()
                .map(|h| h.response_body.as_slice())
                .ok_or(status::NOT_FOUND),
            _ => Err(status::NOT_FOUND),
        }
    }

    fn buffer_mut(&mut self, t: i32) -> Result<&mut Vec<u8>, i32> {
        match (t, self.http.as_mut()) {
            (buffer::HTTP_REQUEST_BODY, Some(h)) => Ok(&mut h.request_body),
            (buffer::HTTP_RESPONSE_BODY, Some(h)) => Ok(&mut h.response_body),
            (buffer::HTTP_CALL_RESPONSE_BODY, _) => self
                .call_response
                .as_mut()
                .map(|r| &mut r.body)
                .ok_or(status::NOT_FOUND),
            _ => Err(status::NOT_FOUND),
        }
    }
}

/// Why a host function did not succeed: a status for the filter or a trap.
enum Fail {
    Status(i32),
    Trap(wasmtime::Error),
}

impl From<i32> for Fail {
    fn from(s: i32) -> Self {
        Fail::Status(s)
    }
}

fn done(r: Result<(), Fail>) -> wasmtime::Result<i32> {
    match r {
        Ok(()) => Ok(status::OK),
        Err(Fail::Status(s)) => Ok(s),
        Err(Fail::Trap(e)) => Err(e),
    }
}

fn memory(c: &mut C<'_>) -> Option<Memory> {
    if let Some(m) = c.data().memory {
        return Some(m);
    }
    let m = c.get_export("memory").and_then(Extern::into_memory)?;
    c.data_mut().memory = Some(m);
    Some(m)
}

fn range(ptr: i32, len: i32, size: usize) -> Option<std::ops::Range<usize>> {
    let start = ptr as u32 as usize;
    let end = start.checked_add(len as u32 as usize)?;
    (end <= size).then_some(start..end)
}

/// Copy `len` bytes at `ptr` out of the guest; `None` when out of bounds.
pub(crate) fn mem_read(c: &mut C<'_>, ptr: i32, len: i32) -> Option<Vec<u8>> {
    let m = memory(c)?;
    let data = m.data(&*c);
    data.get(range(ptr, len, data.len())?).map(<[u8]>::to_vec)
}

/// Write `bytes` at `ptr` in the guest; `None` when out of bounds.
pub(crate) fn mem_write(c: &mut C<'_>, ptr: i32, bytes: &[u8]) -> Option<()> {
    let m = memory(c)?;
    let data = m.data_mut(&mut *c);
    let r = range(ptr, i32::try_from(bytes.len()).ok()?, data.len())?;
    data.get_mut(r)?.copy_from_slice(bytes);
    Some(())
}

fn read(c: &mut C<'_>, ptr: i32, len: i32) -> Result<Vec<u8>, Fail> {
    mem_read(c, ptr, len).ok_or(Fail::Status(status::INVALID_MEMORY_ACCESS))
}

fn write(c: &mut C<'_>, ptr: i32, bytes: &[u8]) -> Result<(), Fail> {
    mem_write(c, ptr, bytes).ok_or(Fail::Status(status::INVALID_MEMORY_ACCESS))
}

/// Allocate in the guest with its allocator export and copy `bytes` there, then store the
/// pointer and size at `ptr_ptr`/`size_ptr` (the ABI's "return buffer" convention).
fn return_bytes(c: &mut C<'_>, bytes: &[u8], ptr_ptr: i32, size_ptr: i32) -> Result<(), Fail> {
    let len = i32::try_from(bytes.len()).map_err(|_| Fail::Status(status::INTERNAL_FAILURE))?;
    let ptr = if bytes.is_empty() {
        0
    } else {
        let f = c
            .data()
            .alloc
            .clone()
            .ok_or(Fail::Status(status::INTERNAL_FAILURE))?;
        let p = f.call(&mut *c, len).map_err(Fail::Trap)?;
        if p == 0 {
            return Err(Fail::Status(status::INTERNAL_FAILURE));
        }
        write(c, p, bytes)?;
        p
    };
    write(c, ptr_ptr, &ptr.to_le_bytes())?;
    write(c, size_ptr, &len.to_le_bytes())
}

fn nyi(c: &mut C<'_>, name: &str) -> wasmtime::Result<i32> {
    c.data_mut().host_log(
        LogLevel::Error,
        format!("NYI - \"{name}\" not supported by ngx_wasm_module"),
    );
    Err(wasmtime::Error::msg(format!("NYI - {name}")))
}

fn is_nginx(c: &C<'_>) -> bool {
    c.data().personality == Personality::Nginx
}

fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Envoy's `Buffer::copyFrom` accepts only prepend, replace-all and append; ngx_wasm_module
/// splices anywhere.
fn splice(p: Personality, buf: &mut Vec<u8>, start: usize, size: usize, data: &[u8]) -> i32 {
    let len = buf.len();
    if p == Personality::Envoy {
        if start == 0 && size == 0 {
            buf.splice(0..0, data.iter().copied());
        } else if start == 0 && size >= len {
            *buf = data.to_vec();
        } else if start >= len {
            buf.extend_from_slice(data);
        } else {
            return status::BAD_ARGUMENT;
        }
        return status::OK;
    }
    let s = start.min(len);
    let e = s.saturating_add(size).min(len);
    buf.splice(s..e, data.iter().copied());
    status::OK
}

/// Add all `env.proxy_*` functions to `linker`.
pub(crate) fn add_to_linker(l: &mut Linker<HostState>) -> wasmtime::Result<()> {
    const E: &str = "env";

    l.func_wrap(
        E,
        "proxy_log",
        |mut c: C<'_>, level: i32, ptr: i32, len: i32| {
            done((|| {
                let msg = read(&mut c, ptr, len)?;
                let level = LogLevel::from_i32(level).ok_or(status::BAD_ARGUMENT)?;
                c.data_mut().logs.push(LogEntry {
                    level,
                    message: String::from_utf8_lossy(&msg).into_owned(),
                });
                Ok(())
            })())
        },
    )?;
    l.func_wrap(E, "proxy_get_log_level", |mut c: C<'_>, out: i32| {
        if is_nginx(&c) {
            return nyi(&mut c, "proxy_get_log_level");
        }
        let lvl = c.data().opts.log_level as i32;
        done(write(&mut c, out, &lvl.to_le_bytes()))
    })?;
    l.func_wrap(
        E,
        "proxy_get_current_time_nanoseconds",
        |mut c: C<'_>, out: i32| {
            let now = c.data().clock.realtime_ns;
            done(write(&mut c, out, &now.to_le_bytes()))
        },
    )?;
    l.func_wrap(
        E,
        "proxy_set_tick_period_milliseconds",
        |mut c: C<'_>, ms: i32| {
            c.data_mut().tick_period_ms = ms as u32;
            Ok(status::OK)
        },
    )?;
    l.func_wrap(E, "proxy_set_effective_context", |mut c: C<'_>, id: i32| {
        let id = id as u32;
        let known = id == c.data().root_context_id
            || c.data().http.as_ref().is_some_and(|h| h.context_id == id);
        if !known {
            return Ok(status::BAD_ARGUMENT);
        }
        c.data_mut().effective_context = id;
        Ok(status::OK)
    })?;
    l.func_wrap(E, "proxy_done", |mut c: C<'_>| {
        if is_nginx(&c) {
            return nyi(&mut c, "proxy_done");
        }
        c.data_mut().done_called = true;
        Ok(status::OK)
    })?;

    // Buffers.
    l.func_wrap(
        E,
        "proxy_get_buffer_bytes",
        |mut c: C<'_>, t: i32, start: i32, max: i32, ptr_ptr: i32, size_ptr: i32| {
            done((|| {
                let bytes = {
                    let b = c.data().buffer(t)?;
                    let s = (start as u32 as usize).min(b.len());
                    let e = s.saturating_add(max as u32 as usize).min(b.len());
                    b.get(s..e).unwrap_or_default().to_vec()
                };
                return_bytes(&mut c, &bytes, ptr_ptr, size_ptr)
            })())
        },
    )?;
    l.func_wrap(
        E,
        "proxy_set_buffer_bytes",
        |mut c: C<'_>, t: i32, start: i32, size: i32, ptr: i32, len: i32| {
            done((|| {
                let data = read(&mut c, ptr, len)?;
                let p = c.data().personality;
                let buf = c.data_mut().buffer_mut(t)?;
                match splice(p, buf, start as u32 as usize, size as u32 as usize, &data) {
                    status::OK => Ok(()),
                    s => Err(Fail::Status(s)),
                }
            })())
        },
    )?;

    // Header maps.
    l.func_wrap(
        E,
        "proxy_get_header_map_pairs",
        |mut c: C<'_>, t: i32, ptr_ptr: i32, size_ptr: i32| {
            done((|| {
                let bytes = abi::serialize_pairs(c.data().map(t).ok_or(status::NOT_FOUND)?);
                return_bytes(&mut c, &bytes, ptr_ptr, size_ptr)
            })())
        },
    )?;
    l.func_wrap(
        E,
        "proxy_set_header_map_pairs",
        |mut c: C<'_>, t: i32, ptr: i32, len: i32| {
            done((|| {
                let bytes = read(&mut c, ptr, len)?;
                let pairs = abi::deserialize_pairs(&bytes).ok_or(status::BAD_ARGUMENT)?;
                *c.data_mut().map_mut(t).ok_or(status::NOT_FOUND)? = pairs;
                Ok(())
            })())
        },
    )?;
    l.func_wrap(
        E,
        "proxy_get_header_map_value",
        |mut c: C<'_>, t: i32, kp: i32, kl: i32, ptr_ptr: i32, size_ptr: i32| {
            done((|| {
                let key = read(&mut c, kp, kl)?;
                let value = c
                    .data()
                    .map(t)
                    .ok_or(status::NOT_FOUND)?
                    .iter()
                    .find(|(k, _)| eq_ignore_case(k, &key))
                    .map(|(_, v)| v.clone())
                    .ok_or(status::NOT_FOUND)?;
                return_bytes(&mut c, &value, ptr_ptr, size_ptr)
            })())
        },
    )?;
    l.func_wrap(
        E,
        "proxy_replace_header_map_value",
        |mut c: C<'_>, t: i32, kp: i32, kl: i32, vp: i32, vl: i32| {
            done((|| {
                let key = read(&mut c, kp, kl)?;
                let value = read(&mut c, vp, vl)?;
                let m = c.data_mut().map_mut(t).ok_or(status::NOT_FOUND)?;
                // Replace the first occurrence, drop the others, add when absent.
                let mut seen = false;
                m.retain_mut(|(k, v)| {
                    if !eq_ignore_case(k, &key) {
                        return true;
                    }
                    if seen {
                        return false;
                    }
                    seen = true;
                    *v = value.clone();
                    true
                });
                if !seen {
                    m.push((key.to_ascii_lowercase(), value));
                }
                Ok(())
            })())
        },
    )?;
    l.func_wrap(
        E,
        "proxy_add_header_map_value",
        |mut c: C<'_>, t: i32, kp: i32, kl: i32, vp: i32, vl: i32| {
            done((|| {
                let key = read(&mut c, kp, kl)?;
                let value = read(&mut c, vp, vl)?;
                let nginx = is_nginx(&c);
                let m = c.data_mut().map_mut(t).ok_or(status::NOT_FOUND)?;
                // Envoy keeps header names lower-case (HTTP/2 semantics); nginx keeps case.
                let key = if nginx { key } else { key.to_ascii_lowercase() };
                m.push((key, value));
                Ok(())
            })())
        },
    )?;
    l.func_wrap(
        E,
        "proxy_remove_header_map_value",
        |mut c: C<'_>, t: i32, kp: i32, kl: i32| {
            done((|| {
                let key = read(&mut c, kp, kl)?;
                let m = c.data_mut().map_mut(t).ok_or(status::NOT_FOUND)?;
                m.retain(|(k, _)| !eq_ignore_case(k, &key));
                Ok(())
            })())
        },
    )?;

    // Properties.
    l.func_wrap(
        E,
        "proxy_get_property",
        |mut c: C<'_>, pp: i32, pl: i32, ptr_ptr: i32, size_ptr: i32| {
            done((|| {
                let path = read(&mut c, pp, pl)?;
                if let Some(h) = c.data_mut().http.as_mut() {
                    let parts: Vec<_> = crate::properties::split_path(&path)
                        .into_iter()
                        .map(String::from_utf8_lossy)
                        .collect();
                    h.properties_read.push(parts.join("."));
                }
                let value = crate::properties::get(c.data(), &path).ok_or(status::NOT_FOUND)?;
                return_bytes(&mut c, &value, ptr_ptr, size_ptr)
            })())
        },
    )?;
    l.func_wrap(
        E,
        "proxy_set_property",
        |mut c: C<'_>, pp: i32, pl: i32, vp: i32, vl: i32| {
            done((|| {
                let path = read(&mut c, pp, pl)?;
                let value = read(&mut c, vp, vl)?;
                crate::properties::set(c.data_mut(), path, value).map_err(Fail::Status)
            })())
        },
    )?;

    // Stream control and local responses.
    for (name, stream) in [
        ("proxy_continue_request", 0),
        ("proxy_continue_response", 1),
    ] {
        l.func_wrap(E, name, move |mut c: C<'_>| {
            if stream == 1 && is_nginx(&c) {
                return nyi(&mut c, "proxy_continue_response");
            }
            Ok(continue_stream(c.data_mut(), stream))
        })?;
    }
    l.func_wrap(E, "proxy_continue_stream", |mut c: C<'_>, stream: i32| {
        if stream == 1 && is_nginx(&c) {
            return nyi(&mut c, "proxy_continue_stream(response)");
        }
        Ok(continue_stream(c.data_mut(), stream))
    })?;
    l.func_wrap(E, "proxy_close_stream", |mut c: C<'_>, stream: i32| {
        if is_nginx(&c) {
            return nyi(&mut c, "proxy_close_stream");
        }
        let Some(h) = c.data_mut().http.as_mut() else {
            return Ok(status::NOT_FOUND);
        };
        match stream {
            0 => h.close_request = true,
            1 => h.close_response = true,
            _ => return Ok(status::BAD_ARGUMENT),
        }
        Ok(status::OK)
    })?;
    l.func_wrap(
        E,
        "proxy_send_local_response",
        |mut c: C<'_>,
         code: i32,
         dp: i32,
         dl: i32,
         bp: i32,
         bl: i32,
         hp: i32,
         hl: i32,
         grpc: i32| {
            done((|| {
                let details = read(&mut c, dp, dl)?;
                let body = read(&mut c, bp, bl)?;
                let hbytes = read(&mut c, hp, hl)?;
                let headers = abi::deserialize_pairs(&hbytes).ok_or(status::BAD_ARGUMENT)?;
                let h = c.data_mut().http.as_mut().ok_or(status::NOT_FOUND)?;
                h.local = Some(crate::LocalResponse {
                    status: code as u32,
                    details: String::from_utf8_lossy(&details).into_owned(),
                    headers: crate::to_strings(&headers),
                    body,
                    grpc_status: grpc,
                });
                Ok(())
            })())
        },
    )?;

    // Shared data.
    l.func_wrap(
        E,
        "proxy_get_shared_data",
        |mut c: C<'_>, kp: i32, kl: i32, ptr_ptr: i32, size_ptr: i32, cas_ptr: i32| {
            done((|| {
                let key = read(&mut c, kp, kl)?;
                let entry = {
                    let s = c
                        .data()
                        .shared
                        .lock()
                        .map_err(|_| status::INTERNAL_FAILURE)?;
                    s.data.get(&key).cloned()
                };
                let (value, cas) = entry.ok_or(status::NOT_FOUND)?;
                return_bytes(&mut c, &value, ptr_ptr, size_ptr)?;
                write(&mut c, cas_ptr, &cas.to_le_bytes())
            })())
        },
    )?;
    l.func_wrap(
        E,
        "proxy_set_shared_data",
        |mut c: C<'_>, kp: i32, kl: i32, vp: i32, vl: i32, cas: i32| {
            done((|| {
                let key = read(&mut c, kp, kl)?;
                let value = read(&mut c, vp, vl)?;
                let mut s = c
                    .data()
                    .shared
                    .lock()
                    .map_err(|_| status::INTERNAL_FAILURE)?;
                let cas = cas as u32;
                // Envoy `SharedData::set`: cas 0 always writes; otherwise it must match.
                let next = match s.data.get(&key) {
                    Some((_, cur)) if cas != 0 && cas != *cur => {
                        return Err(Fail::Status(status::CAS_MISMATCH))
                    }
                    Some((_, cur)) => cur.wrapping_add(1).max(1),
                    None => 1,
                };
                s.data.insert(key, (value, next));
                Ok(())
            })())
        },
    )?;

    // Shared queues.
    l.func_wrap(
        E,
        "proxy_register_shared_queue",
        |mut c: C<'_>, np: i32, nl: i32, out: i32| {
            done((|| {
                let name = read(&mut c, np, nl)?;
                let vm_id = c.data().opts.vm_id.clone().into_bytes();
                let id = {
                    let mut s = c
                        .data()
                        .shared
                        .lock()
                        .map_err(|_| status::INTERNAL_FAILURE)?;
                    match s.queues.iter().position(|q| q.0 == vm_id && q.1 == name) {
                        Some(i) => i,
                        None => {
                            s.queues.push((vm_id, name, VecDeque::new()));
                            s.queues.len() - 1
                        }
                    }
                };
                write(&mut c, out, &(id as u32 + 1).to_le_bytes())
            })())
        },
    )?;
    l.func_wrap(
        E,
        "proxy_resolve_shared_queue",
        |mut c: C<'_>, vp: i32, vl: i32, np: i32, nl: i32, out: i32| {
            if is_nginx(&c) {
                return nyi(&mut c, "proxy_resolve_shared_queue");
            }
            done((|| {
                let vm_id = read(&mut c, vp, vl)?;
                let name = read(&mut c, np, nl)?;
                let id = {
                    let s = c
                        .data()
                        .shared
                        .lock()
                        .map_err(|_| status::INTERNAL_FAILURE)?;
                    s.queues
                        .iter()
                        .position(|q| q.0 == vm_id && q.1 == name)
                        .ok_or(status::NOT_FOUND)?
                };
                write(&mut c, out, &(id as u32 + 1).to_le_bytes())
            })())
        },
    )?;
    l.func_wrap(
        E,
        "proxy_enqueue_shared_queue",
        |mut c: C<'_>, id: i32, vp: i32, vl: i32| {
            done((|| {
                let value = read(&mut c, vp, vl)?;
                let mut s = c
                    .data()
                    .shared
                    .lock()
                    .map_err(|_| status::INTERNAL_FAILURE)?;
                let idx = (id as u32 as usize)
                    .checked_sub(1)
                    .ok_or(status::NOT_FOUND)?;
                let q = s.queues.get_mut(idx).ok_or(status::NOT_FOUND)?;
                q.2.push_back(value);
                Ok(())
            })())
        },
    )?;
    l.func_wrap(
        E,
        "proxy_dequeue_shared_queue",
        |mut c: C<'_>, id: i32, ptr_ptr: i32, size_ptr: i32| {
            done((|| {
                let value = {
                    let mut s = c
                        .data()
                        .shared
                        .lock()
                        .map_err(|_| status::INTERNAL_FAILURE)?;
                    let idx = (id as u32 as usize)
                        .checked_sub(1)
                        .ok_or(status::NOT_FOUND)?;
                    let q = s.queues.get_mut(idx).ok_or(status::NOT_FOUND)?;
                    q.2.pop_front().ok_or(status::EMPTY)?
                };
                return_bytes(&mut c, &value, ptr_ptr, size_ptr)
            })())
        },
    )?;

    // Metrics.
    l.func_wrap(
        E,
        "proxy_define_metric",
        |mut c: C<'_>, kind: i32, np: i32, nl: i32, out: i32| {
            done((|| {
                let kind = match kind {
                    0 => MetricKind::Counter,
                    1 => MetricKind::Gauge,
                    2 => MetricKind::Histogram,
                    _ => return Err(Fail::Status(status::BAD_ARGUMENT)),
                };
                let name = String::from_utf8_lossy(&read(&mut c, np, nl)?).into_owned();
                let id = {
                    let mut s = c
                        .data()
                        .shared
                        .lock()
                        .map_err(|_| status::INTERNAL_FAILURE)?;
                    match s.metrics.iter().position(|m| m.0 == name) {
                        Some(i) => i,
                        None => {
                            s.metrics.push((name, kind, 0));
                            s.metrics.len() - 1
                        }
                    }
                };
                write(&mut c, out, &(id as u32 + 1).to_le_bytes())
            })())
        },
    )?;
    l.func_wrap(
        E,
        "proxy_increment_metric",
        |c: C<'_>, id: i32, delta: i64| {
            Ok(metric_op(&c, id, |kind, v| match kind {
                MetricKind::Histogram => Err(status::BAD_ARGUMENT),
                MetricKind::Counter if delta < 0 => Err(status::BAD_ARGUMENT),
                _ => {
                    *v = v.saturating_add(delta);
                    Ok(())
                }
            }))
        },
    )?;
    l.func_wrap(E, "proxy_record_metric", |c: C<'_>, id: i32, value: i64| {
        Ok(metric_op(&c, id, |_, v| {
            *v = value;
            Ok(())
        }))
    })?;
    l.func_wrap(E, "proxy_get_metric", |mut c: C<'_>, id: i32, out: i32| {
        let mut got = 0i64;
        let s = metric_op(&c, id, |_, v| {
            got = *v;
            Ok(())
        });
        if s != status::OK {
            return Ok(s);
        }
        done(write(&mut c, out, &got.to_le_bytes()))
    })?;

    // HTTP callouts (recorded; answered by the test after the hook returns).
    l.func_wrap(
        E,
        "proxy_http_call",
        |mut c: C<'_>,
         up: i32,
         ul: i32,
         hp: i32,
         hl: i32,
         bp: i32,
         bl: i32,
         tp: i32,
         tl: i32,
         timeout: i32,
         out: i32| {
            done((|| {
                let upstream = String::from_utf8_lossy(&read(&mut c, up, ul)?).into_owned();
                let headers =
                    abi::deserialize_pairs(&read(&mut c, hp, hl)?).ok_or(status::BAD_ARGUMENT)?;
                let body = read(&mut c, bp, bl)?;
                let trailers =
                    abi::deserialize_pairs(&read(&mut c, tp, tl)?).ok_or(status::BAD_ARGUMENT)?;
                // Envoy requires :method, :path and :authority (context.cc `httpCall`).
                let has = |n: &[u8]| headers.iter().any(|(k, _)| k == n);
                let complete = has(b":method") && has(b":path") && has(b":authority");
                if !is_nginx(&c) && !complete {
                    return Err(Fail::Status(status::BAD_ARGUMENT));
                }
                let st = c.data_mut();
                let token = st.next_token;
                st.next_token += 1;
                let context_id = st.effective_context;
                st.http_calls.push(HttpCall {
                    token,
                    context_id,
                    upstream,
                    headers: crate::to_strings(&headers),
                    body,
                    trailers: crate::to_strings(&trailers),
                    timeout_ms: timeout as u32,
                    answered: false,
                });
                write(&mut c, out, &token.to_le_bytes())
            })())
        },
    )?;

    // gRPC, status and foreign functions: Envoy implements them against real clusters; this
    // host has none, so they answer as Envoy does for an unknown cluster / function.
    l.func_wrap(
        E,
        "proxy_grpc_call",
        |mut c: C<'_>,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32| {
            if is_nginx(&c) {
                return nyi(&mut c, "proxy_grpc_call");
            }
            Ok(status::BAD_ARGUMENT)
        },
    )?;
    l.func_wrap(
        E,
        "proxy_grpc_stream",
        |mut c: C<'_>, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32| {
            if is_nginx(&c) {
                return nyi(&mut c, "proxy_grpc_stream");
            }
            Ok(status::BAD_ARGUMENT)
        },
    )?;
    l.func_wrap(
        E,
        "proxy_grpc_send",
        |mut c: C<'_>, _: i32, _: i32, _: i32, _: i32| {
            if is_nginx(&c) {
                return nyi(&mut c, "proxy_grpc_send");
            }
            Ok(status::NOT_FOUND)
        },
    )?;
    for name in ["proxy_grpc_cancel", "proxy_grpc_close"] {
        l.func_wrap(E, name, move |mut c: C<'_>, _: i32| {
            if is_nginx(&c) {
                return nyi(&mut c, name);
            }
            Ok(status::NOT_FOUND)
        })?;
    }
    l.func_wrap(
        E,
        "proxy_get_status",
        |mut c: C<'_>, code: i32, _pp: i32, sp: i32| {
            if is_nginx(&c) {
                return nyi(&mut c, "proxy_get_status");
            }
            done(
                write(&mut c, code, &0u32.to_le_bytes())
                    .and_then(|()| write(&mut c, sp, &0u32.to_le_bytes())),
            )
        },
    )?;
    l.func_wrap(
        E,
        "proxy_call_foreign_function",
        |mut c: C<'_>, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32| {
            if is_nginx(&c) {
                return nyi(&mut c, "proxy_call_foreign_function");
            }
            Ok(status::NOT_FOUND)
        },
    )?;
    Ok(())
}

fn continue_stream(st: &mut HostState, stream: i32) -> i32 {
    let Some(h) = st.http.as_mut() else {
        return status::NOT_FOUND;
    };
    match stream {
        0 => h.resume_request = true,
        1 => h.resume_response = true,
        _ => return status::BAD_ARGUMENT,
    }
    status::OK
}

fn metric_op(c: &C<'_>, id: i32, f: impl FnOnce(MetricKind, &mut i64) -> Result<(), i32>) -> i32 {
    let Ok(mut s) = c.data().shared.lock() else {
        return status::INTERNAL_FAILURE;
    };
    let Some(idx) = (id as u32 as usize).checked_sub(1) else {
        return status::NOT_FOUND;
    };
    match s.metrics.get_mut(idx) {
        Some(m) => match f(m.1, &mut m.2) {
            Ok(()) => status::OK,
            Err(e) => e,
        },
        None => status::NOT_FOUND,
    }
}
