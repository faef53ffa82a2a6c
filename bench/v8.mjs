// bench/v8.mjs: dist/wafer.wasm under V8 (node), outside Envoy.
//
// Envoy runs the filter on V8, host-test (`cargo bench -p wafer-host-test --bench wasm`) on
// wasmtime. This driver is the third point between them: the same module and request driven
// through the proxy-wasm ABI by a minimal host in JavaScript, the way Envoy calls the hooks
// (context create, request headers [and body], response headers, response body, done, log,
// delete), so the engine's cost under V8 is measured without Envoy's own work per request.
// The JavaScript host's work (header serialisation, property answers) is included and small.
//
//   node bench/v8.mjs [get|form|json] [PL] [requests per round] [module]
//   node bench/v8.mjs get 1 3000            # dist/wafer.wasm, 5 rounds, median printed
//
// Requests: bench/requests/ (the same as the other benches), with the headers Envoy adds.
// Configuration: bench/wafer-config.json at the paranoia level given. Run from the
// repository root. Only standard node modules; node ≥ 18.
import fs from 'node:fs';

const [kind = 'get', pl = '1', perRound = '2000', wasmPath = 'dist/wafer.wasm'] = process.argv.slice(2);
const iters = Number(perRound);
const cfg = fs.readFileSync('bench/wafer-config.json', 'utf8').replace('__PL__', pl);
const enc = new TextEncoder();
const dec = new TextDecoder();

let exportsOf;
let memory;
const bytes = () => new Uint8Array(memory.buffer);
const view = () => new DataView(memory.buffer);
const calls = {};
const count = (name) => { calls[name] = (calls[name] || 0) + 1; };

// Hands `data` to the filter: memory from its allocator, pointer and size written back.
function give(data, ptrPtr, sizePtr) {
  const p = data.length ? exportsOf.proxy_on_memory_allocate(data.length) : 0;
  if (data.length) bytes().set(data, p);
  view().setUint32(ptrPtr, p, true);
  view().setUint32(sizePtr, data.length, true);
  return 0;
}

// proxy-wasm header map serialisation: count, (key length, value length) pairs, then each
// key and value NUL-terminated; little-endian.
function serialise(pairs) {
  const kv = pairs.map(([k, v]) => [enc.encode(k), enc.encode(v)]);
  let n = 4 + kv.length * 8;
  for (const [k, v] of kv) n += k.length + v.length + 2;
  const out = new Uint8Array(n);
  const d = new DataView(out.buffer);
  d.setUint32(0, kv.length, true);
  let o = 4;
  for (const [k, v] of kv) { d.setUint32(o, k.length, true); d.setUint32(o + 4, v.length, true); o += 8; }
  for (const [k, v] of kv) { out.set(k, o); o += k.length + 1; out.set(v, o); o += v.length + 1; }
  return out;
}

const uri = fs.readFileSync('bench/requests/get-5-args.uri', 'utf8').trim();
const browser = [
  ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0'],
  ['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['accept-language', 'en-US,en;q=0.5'],
  ['accept-encoding', 'gzip, deflate'],
  ['x-forwarded-proto', 'http'],
  ['x-request-id', 'b1c2d3e4-0000-4000-8000-000000000001'],
];
let requestHeaders;
let requestBody = new Uint8Array(0);
if (kind === 'get') {
  requestHeaders = [[':authority', 'example.com'], [':path', uri], [':method', 'GET'], [':scheme', 'http'], ...browser];
} else if (kind === 'form' || kind === 'json') {
  requestBody = fs.readFileSync(kind === 'form' ? 'bench/requests/post-form-1k.body' : 'bench/requests/post-json-20k.body');
  const type = kind === 'form' ? 'application/x-www-form-urlencoded' : 'application/json';
  requestHeaders = [[':authority', 'example.com'], [':path', '/submit'], [':method', 'POST'], [':scheme', 'http'], ...browser,
    ['content-type', type], ['content-length', String(requestBody.length)]];
} else {
  throw new Error(`unknown request kind ${kind}: get, form or json`);
}
const responseBody = enc.encode('Hello from wafer-backend\n');
const responseHeaders = [[':status', '200'], ['content-type', 'text/plain; charset=utf-8'], ['content-length', String(responseBody.length)]];
const properties = {
  'source.address': '127.0.0.1:40000',
  'destination.address': '127.0.0.1:8080',
  'request.protocol': 'HTTP/1.1',
};

const env = {
  proxy_log: (level, p, n) => { if (level >= 3) console.error(dec.decode(bytes().subarray(p, p + n))); return 0; },
  proxy_get_buffer_bytes: (type, start, len, pp, sp) => {
    count('get_buffer_bytes');
    const src = { 0: requestBody, 1: responseBody, 7: enc.encode(cfg) }[type] || new Uint8Array(0);
    return give(src.subarray(start, Math.min(src.length, start + len)), pp, sp);
  },
  proxy_get_header_map_pairs: (type, pp, sp) => {
    count('get_header_map_pairs');
    return give(serialise({ 0: requestHeaders, 2: responseHeaders }[type] || []), pp, sp);
  },
  proxy_get_property: (p, n, pp, sp) => {
    const path = dec.decode(bytes().subarray(p, p + n)).split('\0').filter(Boolean).join('.');
    count(`get_property ${path}`);
    const v = properties[path];
    return v === undefined ? 1 /* NotFound */ : give(enc.encode(v), pp, sp);
  },
  proxy_get_current_time_nanoseconds: (p) => { view().setBigUint64(p, process.hrtime.bigint(), true); return 0; },
  proxy_define_metric: (type, p, n, idPtr) => { view().setUint32(idPtr, 1, true); return 0; },
  proxy_increment_metric: () => { count('increment_metric'); return 0; },
  proxy_send_local_response: () => { count('send_local_response'); return 0; },
};
const wasi = {
  random_get: (p, n) => { const b = bytes(); for (let i = 0; i < n; i++) b[p + i] = (Math.random() * 256) | 0; return 0; },
  environ_get: () => 0,
  environ_sizes_get: (a, b) => { view().setUint32(a, 0, true); view().setUint32(b, 0, true); return 0; },
  clock_time_get: (id, precision, p) => { view().setBigUint64(p, process.hrtime.bigint(), true); return 0; },
  fd_write: (fd, iovs, n, written) => {
    let total = 0;
    for (let i = 0; i < n; i++) total += view().getUint32(iovs + i * 8 + 4, true);
    view().setUint32(written, total, true);
    return 0;
  },
  proc_exit: (code) => { throw new Error(`proc_exit(${code})`); },
};
// Host functions the filter imports but never calls on this path answer "ok".
const imports = { env: new Proxy(env, { get: (t, k) => t[k] || (() => 0) }), wasi_snapshot_preview1: wasi };

const module = new WebAssembly.Module(fs.readFileSync(wasmPath));
const instance = new WebAssembly.Instance(module, imports);
exportsOf = instance.exports;
memory = exportsOf.memory;
const x = exportsOf;
const t0 = process.hrtime.bigint();
x._initialize();
x.proxy_on_context_create(1, 0);
x.proxy_on_vm_start(1, 0);
if (!x.proxy_on_configure(1, cfg.length)) throw new Error('proxy_on_configure failed');
const configureMs = Number(process.hrtime.bigint() - t0) / 1e6;

let nextContext = 100;
function exchange() {
  const id = nextContext++;
  x.proxy_on_context_create(id, 1);
  if (requestBody.length) {
    x.proxy_on_request_headers(id, requestHeaders.length, 0);
    x.proxy_on_request_body(id, requestBody.length, 1);
  } else {
    x.proxy_on_request_headers(id, requestHeaders.length, 1);
  }
  x.proxy_on_response_headers(id, responseHeaders.length, 0);
  x.proxy_on_response_body(id, responseBody.length, 1);
  x.proxy_on_done(id);
  x.proxy_on_log(id);
  x.proxy_on_delete(id);
}

// Warm-up, 3 s: V8 runs Liftoff code first and tiers hot functions up to TurboFan on
// background threads (leave it a second CPU: pinned to one, the rounds start before it ends).
let warm = 0;
for (const end = Date.now() + 3000; Date.now() < end; warm++) exchange();
if (calls.send_local_response) throw new Error(`the ${kind} request was blocked: not a benign request`);
const rounds = [];
for (let r = 0; r < 5; r++) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) exchange();
  rounds.push(Number(process.hrtime.bigint() - start) / 1e3 / iters);
}
const sorted = [...rounds].sort((a, b) => a - b);
const total = warm + 5 * iters;
const perRequest = Object.entries(calls).map(([k, v]) => `${k} ${(v / total).toFixed(0)}`).join(', ');
console.log(`${wasmPath} under V8 (node ${process.versions.node}, V8 ${process.versions.v8}), PL${pl}, ${kind}: ` +
  `median ${sorted[2].toFixed(1)} µs/request (rounds ${rounds.map((r) => r.toFixed(1)).join(' ')}); ` +
  `configure ${configureMs.toFixed(0)} ms; linear memory ${(memory.buffer.byteLength / 1048576).toFixed(1)} MiB`);
console.log(`host calls per request: ${perRequest}`);
