//! One HTTP exchange through a [`Vm`]: the hook call order of each personality, what the
//! upstream and the client see, and the exchange's [`Outcome`].
//!
//! Not here: host functions (`host`) or property encodings (`properties`). The behaviours
//! modelled and their sources are listed in the crate documentation.

use crate::abi::{action, Pairs};
use crate::host::HttpState;
use crate::{HttpCall, LocalResponse, LogEntry, LogLevel, Personality, Vm};

/// A request as the client sends it.
#[derive(Clone, Debug)]
pub struct Request {
    /// Method.
    pub method: String,
    /// Path with query string.
    pub path: String,
    /// Scheme.
    pub scheme: String,
    /// Headers in order (a `host` header gives Envoy's `:authority`).
    pub headers: Vec<(String, String)>,
    /// Body chunks as they arrive (empty: no body).
    pub body: Vec<Vec<u8>>,
    /// Trailers (empty: none).
    pub trailers: Vec<(String, String)>,
}

impl Request {
    /// `GET path` with `host: example.com`.
    pub fn get(path: &str) -> Self {
        Request {
            method: "GET".into(),
            path: path.into(),
            scheme: "http".into(),
            headers: vec![("host".into(), "example.com".into())],
            body: Vec::new(),
            trailers: Vec::new(),
        }
    }

    /// `POST path` with a one-chunk body and its `content-length`.
    pub fn post(path: &str, body: impl Into<Vec<u8>>) -> Self {
        let body = body.into();
        let mut r = Request::get(path);
        r.method = "POST".into();
        r.headers
            .push(("content-length".into(), body.len().to_string()));
        if !body.is_empty() {
            r.body = vec![body];
        }
        r
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Set the method.
    pub fn method(mut self, m: &str) -> Self {
        self.method = m.into();
        self
    }

    /// Add a trailer.
    pub fn trailer(mut self, name: &str, value: &str) -> Self {
        self.trailers.push((name.into(), value.into()));
        self
    }

    /// Re-split the body into chunks at these byte offsets (out-of-range ones ignored).
    pub fn split_body_at(mut self, offsets: &[usize]) -> Self {
        self.body = split(self.body.concat(), offsets);
        self
    }
}

fn split(all: Vec<u8>, offsets: &[usize]) -> Vec<Vec<u8>> {
    if all.is_empty() {
        return Vec::new();
    }
    let mut cuts: Vec<usize> = offsets
        .iter()
        .copied()
        .filter(|&o| o > 0 && o < all.len())
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    let mut prev = 0;
    for c in cuts.into_iter().chain(std::iter::once(all.len())) {
        out.push(all.get(prev..c).unwrap_or_default().to_vec());
        prev = c;
    }
    out
}

/// The upstream's answer, used when the request reaches it.
#[derive(Clone, Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body chunks.
    pub body: Vec<Vec<u8>>,
    /// Trailers.
    pub trailers: Vec<(String, String)>,
}

impl Response {
    /// `200` with a `text/plain` body and its `content-length`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Response::new(200, "text/plain", body)
    }

    /// A response with a content type and one-chunk body.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        let body = body.into();
        Response {
            status,
            headers: vec![
                ("content-type".into(), content_type.into()),
                ("content-length".into(), body.len().to_string()),
            ],
            body: if body.is_empty() {
                Vec::new()
            } else {
                vec![body]
            },
            trailers: Vec::new(),
        }
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Add a trailer.
    pub fn trailer(mut self, name: &str, value: &str) -> Self {
        self.trailers.push((name.into(), value.into()));
        self
    }

    /// Re-split the body at these offsets.
    pub fn split_body_at(mut self, offsets: &[usize]) -> Self {
        self.body = split(self.body.concat(), offsets);
        self
    }
}

/// What reached the upstream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Upstream {
    /// Headers as forwarded (Envoy: with pseudo-headers).
    pub headers: Vec<(String, String)>,
    /// Body bytes forwarded.
    pub body: Vec<u8>,
    /// Trailers forwarded.
    pub trailers: Vec<(String, String)>,
    /// Whether the whole request (end of stream) got there.
    pub complete: bool,
}

/// What the client received.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientResponse {
    /// Status code.
    pub status: u32,
    /// Headers as sent (without `:status`).
    pub headers: Vec<(String, String)>,
    /// Body bytes sent.
    pub body: Vec<u8>,
    /// Trailers sent.
    pub trailers: Vec<(String, String)>,
    /// Whether the response ended normally (false: stalled or reset midway).
    pub complete: bool,
}

/// Everything that happened during one exchange.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// The HTTP context id used.
    pub context_id: u32,
    /// The local response the filter sent, if any (the first one).
    pub local_response: Option<LocalResponse>,
    /// What reached the upstream (`None`: not even the headers).
    pub upstream: Option<Upstream>,
    /// What the client got (`None`: nothing, e.g. the request stalled).
    pub client: Option<ClientResponse>,
    /// The filter paused the request and never resumed it.
    pub request_stalled: bool,
    /// The filter paused the response and never resumed it.
    pub response_stalled: bool,
    /// The stream was reset or closed (`proxy_close_stream`, late local reply, limit).
    pub reset: bool,
    /// A trap in a hook, if any.
    pub trap: Option<String>,
    /// Hooks called, in order, with arguments and the action returned.
    pub hooks: Vec<String>,
    /// Logs written during the exchange.
    pub logs: Vec<LogEntry>,
    /// `http_call`s made during the exchange.
    pub http_calls: Vec<HttpCall>,
    /// Property paths the filter read during the exchange (`source.address`, …), in order.
    pub properties_read: Vec<String>,
}

impl Outcome {
    /// Body that reached the upstream (empty when none).
    pub fn upstream_body(&self) -> &[u8] {
        self.upstream
            .as_ref()
            .map(|u| u.body.as_slice())
            .unwrap_or_default()
    }

    /// Status the client got, if any.
    pub fn status(&self) -> Option<u32> {
        self.client.as_ref().map(|c| c.status)
    }

    /// Whether any log line contains `needle`.
    pub fn logged(&self, needle: &str) -> bool {
        self.logs.iter().any(|l| l.message.contains(needle))
    }
}

fn bytes_pairs(p: &[(String, String)], lower: bool) -> Pairs {
    p.iter()
        .map(|(k, v)| {
            let k = if lower {
                k.to_ascii_lowercase()
            } else {
                k.clone()
            };
            (k.into_bytes(), v.clone().into_bytes())
        })
        .collect()
}

fn strip_pseudo(p: &Pairs) -> Vec<(String, String)> {
    crate::to_strings(p)
        .into_iter()
        .filter(|(k, _)| !k.starts_with(':'))
        .collect()
}

/// What a hook call led to.
enum Step {
    Continue,
    Pause,
    /// Local response, trap or close: the normal flow ends.
    Stop,
}

struct Run<'a> {
    vm: &'a mut Vm,
    out: Outcome,
    ctx: u32,
    p: Personality,
    /// A local reply is in flight through the response hooks (actions ignored).
    replying_locally: bool,
}

impl Run<'_> {
    fn http(&mut self) -> &mut HttpState {
        // The state is installed before any hook runs and removed only at the end.
        self.vm
            .store
            .data_mut()
            .http
            .get_or_insert_with(HttpState::default)
    }

    /// Call a hook, deliver http_call answers, and classify the result.
    fn hook(&mut self, name: &'static str, args: &[i32]) -> Step {
        let ctx = self.ctx;
        self.vm.store.data_mut().effective_context = ctx;
        let mut full = vec![ctx as i32];
        full.extend_from_slice(args);
        let r = self.vm.call(name, &full);
        let shown = name.trim_start_matches("proxy_");
        match r {
            Err(e) => {
                let msg = format!("{e:#}");
                self.out.hooks.push(format!("{shown}{args:?} = trap"));
                self.vm
                    .store
                    .data_mut()
                    .host_log(LogLevel::Critical, format!("{shown} trapped: {msg}"));
                if self.out.trap.is_none() {
                    self.out.trap = Some(msg);
                }
                return Step::Stop;
            }
            Ok(a) => {
                let act = match a {
                    Some(action::PAUSE) => "Pause",
                    Some(_) => "Continue",
                    None => "absent",
                };
                self.out.hooks.push(format!("{shown}{args:?} = {act}"));
            }
        }
        self.vm.answer_http_calls(ctx);
        let paused = matches!(r, Ok(Some(action::PAUSE)));
        let h = self.http();
        if h.local.is_some() || h.close_request || h.close_response {
            return Step::Stop;
        }
        let resumed =
            std::mem::take(&mut h.resume_request) | std::mem::take(&mut h.resume_response);
        if paused && !resumed {
            Step::Pause
        } else {
            Step::Continue
        }
    }

    fn log_host(&mut self, level: LogLevel, msg: String) {
        self.vm.store.data_mut().host_log(level, msg);
    }
}

impl Vm {
    /// Send `req` through the filter; if it reaches the upstream, answer with `resp`.
    pub fn http(&mut self, req: &Request, resp: &Response) -> Outcome {
        if let Some(out) = self.after_failure(req, resp) {
            return out;
        }
        let log_start = self.store.data().logs.len();
        let call_start = self.store.data().http_calls.len();
        let ctx = self.next_context_id;
        self.next_context_id += 1;
        let p = self.store.data().personality;
        let state = new_http_state(self, ctx, req);
        self.store.data_mut().http = Some(state);
        let root = self.store.data().root_context_id;
        let mut run = Run {
            vm: self,
            out: Outcome {
                context_id: ctx,
                ..Outcome::default()
            },
            ctx,
            p,
            replying_locally: false,
        };
        run.vm.store.data_mut().effective_context = ctx;
        if let Err(e) = run
            .vm
            .call("proxy_on_context_create", &[ctx as i32, root as i32])
        {
            run.out.trap = Some(format!("{e:#}"));
        } else {
            let request_ok = match p {
                Personality::Envoy => envoy_request(&mut run, req),
                Personality::Nginx => nginx_request(&mut run, req),
            };
            if request_ok {
                match p {
                    Personality::Envoy => envoy_response(&mut run, resp),
                    Personality::Nginx => nginx_response(&mut run, resp),
                }
            } else {
                finish_without_upstream(&mut run);
            }
            let order: &[&str] = match p {
                Personality::Envoy => &["proxy_on_done", "proxy_on_log", "proxy_on_delete"],
                Personality::Nginx => &["proxy_on_log", "proxy_on_done", "proxy_on_delete"],
            };
            for name in order {
                run.vm.store.data_mut().effective_context = ctx;
                let r = run.vm.call(name, &[ctx as i32]);
                let shown = name.trim_start_matches("proxy_");
                run.out.hooks.push(format!(
                    "{shown} = {}",
                    if r.is_err() { "trap" } else { "ok" }
                ));
                if let Err(e) = r {
                    run.out.trap.get_or_insert(format!("{e:#}"));
                }
            }
        }
        let mut out = run.out;
        let st = self.store.data_mut();
        if let Some(h) = st.http.take() {
            out.properties_read = h.properties_read;
        }
        st.effective_context = st.root_context_id;
        out.logs = st.logs.get(log_start..).unwrap_or_default().to_vec();
        out.http_calls = st.http_calls.get(call_start..).unwrap_or_default().to_vec();
        if out.trap.is_some() {
            self.mark_failed();
        }
        out
    }

    /// A VM a trap failed: the host's policy for the next request ([`crate::FailurePolicy`]).
    /// `None`: the VM is (again) fit to run the request.
    fn after_failure(&mut self, req: &Request, resp: &Response) -> Option<Outcome> {
        let since = self.failed_for()?;
        let st = self.store.data();
        let (p, policy, backoff) = (
            st.personality,
            st.opts.failure_policy,
            st.opts.reload_backoff_ns,
        );
        let log_start = st.logs.len();
        let mut out = Outcome::default();
        match (p, policy) {
            (Personality::Nginx, _) => {
                if self.restart() {
                    return None;
                }
                out.client = Some(trap_answer(p));
            }
            (Personality::Envoy, crate::FailurePolicy::FailReload) if since >= backoff => {
                if self.restart() {
                    return None;
                }
                out.client = Some(trap_answer(p));
            }
            (Personality::Envoy, crate::FailurePolicy::FailOpen) => {
                let mut headers = req.headers.clone();
                if !req
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("host"))
                {
                    headers.push(("host".into(), "example.com".into()));
                }
                out.upstream = Some(Upstream {
                    headers,
                    body: req.body.concat(),
                    trailers: req.trailers.clone(),
                    complete: true,
                });
                out.client = Some(ClientResponse {
                    status: u32::from(resp.status),
                    headers: resp.headers.clone(),
                    body: resp.body.concat(),
                    trailers: resp.trailers.clone(),
                    complete: true,
                });
            }
            (Personality::Envoy, _) => out.client = Some(trap_answer(p)),
        }
        let st = self.store.data_mut();
        st.host_log(
            LogLevel::Warn,
            format!("plugin failed by a trap ({p:?}, {policy:?}): answered without the filter"),
        );
        out.logs = st.logs.get(log_start..).unwrap_or_default().to_vec();
        Some(out)
    }
}

/// The host's own answer to a request whose filter trapped or whose VM is failed: Envoy
/// 503 (`failStream`), Nginx 500.
fn trap_answer(p: Personality) -> ClientResponse {
    ClientResponse {
        status: match p {
            Personality::Envoy => 503,
            Personality::Nginx => 500,
        },
        complete: true,
        ..Default::default()
    }
}

fn new_http_state(vm: &mut Vm, ctx: u32, req: &Request) -> HttpState {
    let st = vm.store.data();
    let host_header = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut headers: Pairs = Vec::new();
    match st.personality {
        Personality::Envoy => {
            headers.push((b":authority".to_vec(), host_header.clone().into_bytes()));
            headers.push((b":path".to_vec(), req.path.clone().into_bytes()));
            headers.push((b":method".to_vec(), req.method.clone().into_bytes()));
            headers.push((b":scheme".to_vec(), req.scheme.clone().into_bytes()));
            headers.extend(
                bytes_pairs(&req.headers, true)
                    .into_iter()
                    .filter(|(k, _)| k != b"host"),
            );
            headers.push((
                b"x-forwarded-proto".to_vec(),
                req.scheme.clone().into_bytes(),
            ));
            if !req
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("x-request-id"))
            {
                let id = format!("00000000-0000-4000-8000-{:012x}", ctx);
                headers.push((b"x-request-id".to_vec(), id.into_bytes()));
            }
        }
        Personality::Nginx => {
            headers = bytes_pairs(&req.headers, false);
            let authority = format!("{}:{}", st.opts.nginx_server_name, st.opts.destination_port);
            headers.push((b":path".to_vec(), req.path.clone().into_bytes()));
            headers.push((b":method".to_vec(), req.method.clone().into_bytes()));
            headers.push((b":scheme".to_vec(), req.scheme.clone().into_bytes()));
            headers.push((b":authority".to_vec(), authority.into_bytes()));
        }
    }
    HttpState {
        context_id: ctx,
        request_headers: headers,
        method: req.method.clone(),
        path: req.path.clone(),
        scheme: req.scheme.clone(),
        host_header,
        request_time_ns: st.clock.realtime_ns,
        ..HttpState::default()
    }
}

/// Envoy request side. Returns whether the whole request reached the upstream.
fn envoy_request(run: &mut Run<'_>, req: &Request) -> bool {
    let has_body = !req.body.is_empty();
    let has_trailers = !req.trailers.is_empty();
    let n = run.http().request_headers.len() as i32;
    let eos = !has_body && !has_trailers;
    let mut headers_sent = false;
    let mut buffering = false;
    let limit = run.vm.store.data().opts.buffer_limit;

    let forward_headers = |run: &mut Run<'_>, sent: &mut bool| {
        if !*sent {
            *sent = true;
            let h = crate::to_strings(&run.http().request_headers);
            run.out.upstream = Some(crate::Upstream {
                headers: h,
                ..Default::default()
            });
        }
    };
    let flush_body = |run: &mut Run<'_>| {
        let body = std::mem::take(&mut run.http().request_body);
        if let Some(u) = run.out.upstream.as_mut() {
            u.body.extend_from_slice(&body);
        }
    };

    match run.hook("proxy_on_request_headers", &[n, i32::from(eos)]) {
        Step::Stop => return false,
        Step::Continue => forward_headers(run, &mut headers_sent),
        Step::Pause if !eos => {
            // proxy-wasm-cpp-host turns a headers Pause into StopAllIterationAndWatermark;
            // Envoy's FilterManager then buffers body and trailers without calling this
            // filter again (handleDataIfStopAll) until it continues: the stream stalls.
            return stop_all(run, req.body.iter().map(Vec::len).sum(), limit, true);
        }
        Step::Pause => {}
    }
    let chunks = req.body.len();
    for (i, chunk) in req.body.iter().enumerate() {
        let last = i + 1 == chunks && !has_trailers;
        {
            let h = run.http();
            if buffering {
                h.request_body.extend_from_slice(chunk);
            } else {
                h.request_body = chunk.clone();
            }
        }
        if buffering && run.http().request_body.len() > limit {
            // filter_manager.cc requestDataTooLarge: a buffering (not streaming) filter
            // chain gets a 413 local reply, whether or not the headers went upstream (the
            // upstream request is then reset, incomplete).
            run.log_host(LogLevel::Warn, "request buffer limit exceeded".into());
            envoy_local(run, 413, "Payload Too Large", "request_payload_too_large");
            return false;
        }
        let size = run.http().request_body.len() as i32;
        match run.hook("proxy_on_request_body", &[size, i32::from(last)]) {
            Step::Stop => return false,
            Step::Continue => {
                forward_headers(run, &mut headers_sent);
                flush_body(run);
                buffering = false;
            }
            Step::Pause => buffering = true,
        }
    }
    let mut trailers_paused = false;
    if has_trailers {
        run.http().request_trailers = bytes_pairs(&req.trailers, true);
        let n = req.trailers.len() as i32;
        match run.hook("proxy_on_request_trailers", &[n]) {
            Step::Stop => return false,
            Step::Continue => {
                forward_headers(run, &mut headers_sent);
                flush_body(run);
                buffering = false;
                let t = crate::to_strings(&run.http().request_trailers);
                if let Some(u) = run.out.upstream.as_mut() {
                    u.trailers = t;
                }
            }
            Step::Pause => trailers_paused = true,
        }
    }
    if !headers_sent || buffering || trailers_paused {
        run.out.request_stalled = true;
        return false;
    }
    if let Some(u) = run.out.upstream.as_mut() {
        u.complete = true;
    }
    true
}

/// Envoy after a headers Pause with a body to come (StopAllIterationAndWatermark): the
/// body is buffered without calling the filter; over the buffer limit Envoy answers 413
/// (request) or 500 (response), otherwise the stream stalls. Returns false (not forwarded).
fn stop_all(run: &mut Run<'_>, body_len: usize, limit: usize, request: bool) -> bool {
    run.log_host(
        LogLevel::Info,
        "headers paused with a body to come: StopAllIteration, no body callbacks".into(),
    );
    if body_len > limit {
        if request {
            envoy_local(run, 413, "Payload Too Large", "request_payload_too_large");
        } else {
            envoy_local(
                run,
                500,
                "Internal Server Error",
                "response_payload_too_large",
            );
        }
    } else if request {
        run.out.request_stalled = true;
    } else {
        run.out.response_stalled = true;
    }
    false
}

/// Envoy's own local reply (buffer limits, traps) — not from the filter.
fn envoy_local(run: &mut Run<'_>, status: u32, body: &str, details: &str) {
    run.out.client = Some(crate::ClientResponse {
        status,
        headers: vec![
            ("content-length".into(), body.len().to_string()),
            ("content-type".into(), "text/plain".into()),
        ],
        body: body.as_bytes().to_vec(),
        trailers: Vec::new(),
        complete: true,
    });
    run.log_host(LogLevel::Info, format!("local reply {status} ({details})"));
}

/// Nginx request side.
fn nginx_request(run: &mut Run<'_>, req: &Request) -> bool {
    let n = run.http().request_headers.len() as i32;
    match run.hook("proxy_on_request_headers", &[n, 1]) {
        Step::Stop => return false,
        Step::Pause => {
            run.out.request_stalled = true;
            return false;
        }
        Step::Continue => {}
    }
    let body = req.body.concat();
    if !body.is_empty() {
        let limit = run.vm.store.data().opts.nginx_client_body_buffer_size;
        let len = body.len() as i32;
        let unreadable = body.len() > limit;
        {
            let h = run.http();
            h.request_body = body;
            h.request_body_unreadable = unreadable;
        }
        if unreadable {
            run.log_host(
                LogLevel::Info,
                "a client request body is buffered to a temporary file".into(),
            );
        }
        match run.hook("proxy_on_request_body", &[len, 1]) {
            Step::Stop => return false,
            Step::Pause => {
                run.out.request_stalled = true;
                return false;
            }
            Step::Continue => {}
        }
    }
    let h = run.http();
    h.request_body_unreadable = false;
    let headers = strip_pseudo(&h.request_headers);
    let body = h.request_body.clone();
    run.out.upstream = Some(crate::Upstream {
        headers,
        body,
        trailers: Vec::new(),
        complete: true,
    });
    true
}

/// The request never completed upstream: a local reply (through the response hooks), a
/// trap answer, or nothing.
fn finish_without_upstream(run: &mut Run<'_>) {
    if run.out.client.is_some() {
        return; // host-generated reply (buffer limit)
    }
    if let Some(local) = run.http().local.clone() {
        run.out.local_response = Some(local.clone());
        deliver_local(run, &local);
        return;
    }
    if run.out.trap.is_some() {
        run.out.client = Some(trap_answer(run.p));
        return;
    }
    if run.http().close_request || run.http().close_response {
        run.out.reset = true;
    }
}

/// Send the filter's local reply to the client, through the filter's response hooks.
fn deliver_local(run: &mut Run<'_>, local: &LocalResponse) {
    let mut headers: Vec<(String, String)> = Vec::new();
    if !local.body.is_empty() {
        headers.push(("content-type".into(), "text/plain".into()));
    }
    headers.push(("content-length".into(), local.body.len().to_string()));
    for (k, v) in &local.headers {
        headers.retain(|(hk, _)| !hk.eq_ignore_ascii_case(k));
        headers.push((k.clone(), v.clone()));
    }
    let mut map = bytes_pairs(&headers, run.p == Personality::Envoy);
    if run.p == Personality::Envoy {
        map.insert(
            0,
            (b":status".to_vec(), local.status.to_string().into_bytes()),
        );
    }
    run.replying_locally = true;
    {
        let h = run.http();
        h.response_code = u16::try_from(local.status).ok();
        h.response_headers = map;
        h.response_body = local.body.clone();
        h.local = None;
    }
    let n = run.http().response_headers.len() as i32;
    let eos = local.body.is_empty();
    let eos_flag = if run.p == Personality::Nginx {
        1
    } else {
        i32::from(eos)
    };
    let _ = run.hook("proxy_on_response_headers", &[n, eos_flag]);
    if !eos {
        let len = local.body.len() as i32;
        let _ = run.hook("proxy_on_response_body", &[len, 1]);
    }
    let h = run.http();
    if h.local.is_some() {
        let msg = "filter sent a local response while a local response was being sent; ignored";
        run.log_host(LogLevel::Warn, msg.into());
    }
    let h = run.http();
    run.out.client = Some(crate::ClientResponse {
        status: local.status,
        headers: strip_pseudo(&h.response_headers),
        body: h.response_body.clone(),
        trailers: Vec::new(),
        complete: true,
    });
}

/// A local response sent from a response hook, before the client saw the headers.
fn local_in_response(run: &mut Run<'_>, headers_sent: bool) {
    let local = run.http().local.clone();
    if let Some(local) = local {
        run.out.local_response = Some(local.clone());
        if headers_sent {
            run.log_host(
                LogLevel::Error,
                "local response after response headers were sent: stream reset".into(),
            );
            run.out.reset = true;
            if let Some(c) = run.out.client.as_mut() {
                c.complete = false;
            }
            return;
        }
        let mut headers = local.headers.clone();
        headers.push(("content-length".into(), local.body.len().to_string()));
        run.out.client = Some(crate::ClientResponse {
            status: local.status,
            headers,
            body: local.body.clone(),
            trailers: Vec::new(),
            complete: true,
        });
    } else if run.out.trap.is_some() {
        if headers_sent {
            run.out.reset = true;
            if let Some(c) = run.out.client.as_mut() {
                c.complete = false;
            }
        } else {
            run.out.client = Some(trap_answer(run.p));
        }
    } else {
        run.out.reset = true;
        if let Some(c) = run.out.client.as_mut() {
            c.complete = false;
        }
    }
}

fn send_client_headers(run: &mut Run<'_>, status: u16) {
    let headers = strip_pseudo(&run.http().response_headers);
    run.out.client = Some(crate::ClientResponse {
        status: u32::from(status),
        headers,
        ..Default::default()
    });
}

fn flush_response_body(run: &mut Run<'_>) {
    let body = std::mem::take(&mut run.http().response_body);
    if let Some(c) = run.out.client.as_mut() {
        c.body.extend_from_slice(&body);
    }
}

/// Envoy response side.
fn envoy_response(run: &mut Run<'_>, resp: &Response) {
    let has_body = !resp.body.is_empty();
    let has_trailers = !resp.trailers.is_empty();
    {
        let h = run.http();
        let mut map = vec![(b":status".to_vec(), resp.status.to_string().into_bytes())];
        map.extend(bytes_pairs(&resp.headers, true));
        h.response_headers = map;
        h.response_code = Some(resp.status);
    }
    let n = run.http().response_headers.len() as i32;
    let eos = !has_body && !has_trailers;
    let mut sent = false;
    let mut buffering = false;
    let limit = run.vm.store.data().opts.buffer_limit;
    match run.hook("proxy_on_response_headers", &[n, i32::from(eos)]) {
        Step::Stop => return local_in_response(run, false),
        Step::Continue => {
            send_client_headers(run, resp.status);
            sent = true;
        }
        Step::Pause if !eos => {
            // As on the request side: no more body callbacks after a headers Pause.
            stop_all(run, resp.body.iter().map(Vec::len).sum(), limit, false);
            return;
        }
        Step::Pause => {}
    }
    let chunks = resp.body.len();
    for (i, chunk) in resp.body.iter().enumerate() {
        let last = i + 1 == chunks && !has_trailers;
        {
            let h = run.http();
            if buffering {
                h.response_body.extend_from_slice(chunk);
            } else {
                h.response_body = chunk.clone();
            }
        }
        if buffering && run.http().response_body.len() > limit {
            // filter_manager.cc responseDataTooLarge: 500 if headers not sent, else reset.
            run.log_host(LogLevel::Warn, "response buffer limit exceeded".into());
            if sent {
                run.out.reset = true;
                if let Some(c) = run.out.client.as_mut() {
                    c.complete = false;
                }
            } else {
                envoy_local(
                    run,
                    500,
                    "Internal Server Error",
                    "response_payload_too_large",
                );
            }
            return;
        }
        let size = run.http().response_body.len() as i32;
        match run.hook("proxy_on_response_body", &[size, i32::from(last)]) {
            Step::Stop => return local_in_response(run, sent),
            Step::Continue => {
                if !sent {
                    send_client_headers(run, resp.status);
                    sent = true;
                }
                flush_response_body(run);
                buffering = false;
            }
            Step::Pause => buffering = true,
        }
    }
    let mut trailers_paused = false;
    if has_trailers {
        run.http().response_trailers = bytes_pairs(&resp.trailers, true);
        let n = resp.trailers.len() as i32;
        match run.hook("proxy_on_response_trailers", &[n]) {
            Step::Stop => return local_in_response(run, sent),
            Step::Continue => {
                if !sent {
                    send_client_headers(run, resp.status);
                    sent = true;
                }
                flush_response_body(run);
                buffering = false;
                let t = crate::to_strings(&run.http().response_trailers);
                if let Some(c) = run.out.client.as_mut() {
                    c.trailers = t;
                }
            }
            Step::Pause => trailers_paused = true,
        }
    }
    if !sent || buffering || trailers_paused {
        run.out.response_stalled = true;
        return;
    }
    if let Some(c) = run.out.client.as_mut() {
        c.complete = true;
    }
}

/// Nginx response side.
fn nginx_response(run: &mut Run<'_>, resp: &Response) {
    {
        let h = run.http();
        h.response_headers = bytes_pairs(&resp.headers, false);
        h.response_code = Some(resp.status);
    }
    let n = run.http().response_headers.len() as i32;
    match run.hook("proxy_on_response_headers", &[n, 1]) {
        Step::Stop => return local_in_response(run, false),
        Step::Pause => pause_ignored(run, "on_response_headers"),
        Step::Continue => {}
    }
    send_client_headers(run, resp.status);
    let content_length: Option<usize> = resp
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .filter(|&n| n > 0);
    let chunks: Vec<Vec<u8>> = if resp.body.is_empty() {
        vec![Vec::new()]
    } else {
        resp.body.clone()
    };
    let mut seen = 0usize;
    let count = chunks.len();
    for (i, chunk) in chunks.into_iter().enumerate() {
        seen += chunk.len();
        let eof = match content_length {
            Some(cl) => seen == cl || i + 1 == count,
            None => i + 1 == count,
        };
        if chunk.is_empty() && !eof {
            continue;
        }
        let len = chunk.len() as i32;
        run.http().response_body = chunk;
        match run.hook("proxy_on_response_body", &[len, i32::from(eof)]) {
            Step::Stop => return local_in_response(run, true),
            Step::Pause => pause_ignored(run, "on_response_body"),
            Step::Continue => {}
        }
        flush_response_body(run);
    }
    if let Some(c) = run.out.client.as_mut() {
        c.complete = true;
    }
}

fn pause_ignored(run: &mut Run<'_>, hook: &str) {
    run.log_host(
        LogLevel::Error,
        format!("bad \"pause\" action in {hook}: not supported in response phases; continuing"),
    );
}
