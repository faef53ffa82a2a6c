#!/usr/bin/env python3
"""bench/run.py: the end-to-end benchmark behind `make bench`.

wrk on 127.0.0.1 against, in the same run and alternating:

  envoy-none      Envoy without any filter                      (envoy/no-filter.yaml)
  envoy-empty     Envoy + the empty proxy-wasm filter           (envoy/empty-filter.yaml with
                  bench/empty-filter built by `make bench`)
  wafer-pl1/pl4   Envoy + dist/wafer.wasm, CRS 4.28 at PL1/PL4  (envoy/wafer.yaml with
                  bench/wafer-config.json as plugin configuration)
  modsec-pl1/pl4  nginx + ModSecurity 3 (Debian nginx, libnginx-mod-http-modsecurity)
                  loading the same CRS (CRS_DIR) with rules/recommended.conf and
                  rules/crs-setup.conf, the files Wafer embeds

all in front of one wafer-backend. Every proxy runs one worker (Envoy `--concurrency 1`,
nginx `worker_processes 1` with `master_process off`, so the worker is the process measured)
and, when the machine has two CPUs or more, is pinned to the first CPU (taskset) while wrk
and the backend share the others. Each measurement runs `--duration` seconds; the rounds go
proxy by proxy, request by request, so every proxy sees the same machine load.

Printed per request kind and proxy: req/s, p50/p99 latency (medians over rounds), proxy CPU µs
per request (utime+stime of /proc/PID/stat over all rounds ÷ requests) and ratios to the
baselines; then, per proxy, configure time and resident memory. V8 does not report a wasm
VM's linear memory, so Envoy's figure is its RSS (the filter's share is the difference to
envoy-empty); the exact linear memory is measured under host-test
(`cargo bench -p wafer-host-test --bench wasm`).

Processes: everything started here is stopped on exit, on SIGINT/SIGTERM (envoyctl's handlers)
and, if this process dies, by the kernel (PR_SET_PDEATHSIG). Only 127.0.0.1 is used.

Not here: the engine and wasm micro-benchmarks (filter/benches, host-test/benches).
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "envoy"))
import envoyctl  # noqa: E402  (the one place that starts and stops Envoy)

BENCH = ROOT / "bench"
WORK = ROOT / "target" / "bench"
REQUESTS = BENCH / "requests"
EMPTY_FILTER = ROOT / "target" / "bench" / "empty-filter" / "wasm32-wasip1" / "release" / \
    "empty_filter.wasm"
MODSEC_MODULE = Path("/usr/lib/nginx/modules/ngx_http_modsecurity_module.so")
CLK_TCK = os.sysconf("SC_CLK_TCK")

# The headers every workload request carries (filter/benches/common/mod.rs).
# A host name, as browsers send: wrk's default `Host: 127.0.0.1:PORT` is a numeric IP, which
# CRS 920350 flags (PL1, a warning that does not block), so every "benign" request would be
# logged and audit-logged by both WAFs. The engine and wasm benches use the same host.
BROWSER_HEADERS = [
    ("Host", "example.com"),
    ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"),
    ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("Accept-Language", "en-US,en;q=0.5"),
    ("Accept-Encoding", "gzip, deflate"),
]


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# workload


@dataclass
class Scenario:
    """One request kind: what wrk sends."""
    name: str
    path: str
    method: str = "GET"
    body_file: Path | None = None
    content_type: str = ""

    def lua(self) -> Path | None:
        """A wrk script setting method, body and content type (None for a plain GET)."""
        if self.body_file is None:
            return None
        WORK.mkdir(parents=True, exist_ok=True)
        script = WORK / f"{self.name}.lua"
        script.write_text(
            f'local f = assert(io.open("{self.body_file}", "rb"))\n'
            "wrk.body = f:read(\"*a\")\nf:close()\n"
            f'wrk.method = "{self.method}"\n'
            f'wrk.headers["Content-Type"] = "{self.content_type}"\n')
        return script


SCENARIOS = {
    "get": Scenario("get", (REQUESTS / "get-5-args.uri").read_text().strip()),
    "form": Scenario("form", "/account/profile", "POST", REQUESTS / "post-form-1k.body",
                     "application/x-www-form-urlencoded"),
    "json": Scenario("json", "/api/orders", "POST", REQUESTS / "post-json-20k.body",
                     "application/json"),
}


def wafer_config(pl: int) -> str:
    return (BENCH / "wafer-config.json").read_text().replace("__PL__", str(pl))


# ---------------------------------------------------------------------------------------
# measuring


def cpu_seconds(pid: int) -> float:
    """utime + stime of all the process's threads (proc(5): fields 14 and 15)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[-1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class WrkResult:
    requests: int
    seconds: float
    non_2xx: int
    errors: int
    p50_ms: float
    p99_ms: float


def _duration_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def parse_wrk(out: str) -> WrkResult:
    req = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if not req:
        raise RuntimeError(f"cannot read wrk output:\n{out}")
    secs = float(req.group(2)) * {"s": 1.0, "ms": 1e-3, "m": 60.0}.get(req.group(3), 1.0)
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    pct = dict(re.findall(r"^\s+(\d+)%\s+(\S+)", out, re.M))
    return WrkResult(int(req.group(1)), secs, int(non.group(1)) if non else 0,
                     sum(int(x) for x in errs.groups()) if errs else 0,
                     _duration_ms(pct.get("50", "")), _duration_ms(pct.get("99", "")))


def run_wrk(port: int, sc: Scenario, seconds: float, connections: int,
            cpus: list[int] | None) -> WrkResult:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "5s"]
    for k, v in BROWSER_HEADERS:
        args += ["-H", f"{k}: {v}"]
    script = sc.lua()
    if script:
        args += ["-s", str(script)]
    args.append(f"http://127.0.0.1:{port}{sc.path}")
    if cpus:
        args = ["taskset", "-c", ",".join(map(str, cpus))] + args
    p = envoyctl._spawn(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=seconds + 30)
    finally:
        envoyctl.stop(p)
    return parse_wrk(out)


# ---------------------------------------------------------------------------------------
# proxies


@dataclass
class Proxy:
    """A running proxy under test."""
    name: str
    kind: str  # what it is, for the table
    port: int
    pid: int
    start_s: float  # start → ready
    rss_ready: float
    log_path: Path | None = None
    stop: Callable[[], None] | None = None
    configure_ms: list[float] = field(default_factory=list)
    rss_end: float = float("nan")

    def configure_note(self) -> str:
        if not self.configure_ms:
            return ""
        ms = ", ".join(f"{v:.0f}" for v in self.configure_ms)
        return f"filter on_configure {ms} ms"


def log_size(path: Path | None) -> int:
    """Bytes in a proxy's log so far (0 if it has none)."""
    try:
        return path.stat().st_size if path else 0
    except OSError:
        return 0


# A rule match as Wafer (Envoy log) and ModSecurity (nginx error log) write it.
MATCH_LINE = re.compile(rb"ModSecurity: (?:Warning|Access denied)")


def count_matches(path: Path | None, offset: int) -> int:
    """Rule-match lines a proxy logged after byte `offset` of its log."""
    if not path:
        return 0
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return sum(1 for line in f if MATCH_LINE.search(line))
    except OSError:
        return 0


def pin(pid: int, cpu: int | None) -> None:
    """Pins every thread of `pid` to `cpu` (new threads inherit it)."""
    if cpu is None:
        return
    subprocess.run(["taskset", "-a", "-p", "-c", str(cpu), str(pid)], check=True,
                   stdout=subprocess.DEVNULL)


def start_envoy(name: str, kind: str, config: Path, backend_port: int,
                wasm: dict[str, Path] | None, cpu: int | None) -> Proxy:
    t = time.monotonic()
    e = envoyctl.start_envoy(config, backend_port=backend_port, wasm=wasm,
                             log_path=WORK / f"{name}.log", timeout=120)
    took = time.monotonic() - t
    pin(e.proc.pid, cpu)
    p = Proxy(name, kind, e.listen_port, e.proc.pid, took, rss_mib(e.proc.pid),
              e.log_path, e.stop)
    # The filter logs `configuration loaded: … in N ms` once per VM (main thread, worker).
    p.configure_ms = [float(m) for m in
                      re.findall(r"configuration loaded: .*? in (\d+) ms", e.log_text())]
    return p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_config(name: str, pl: int, backend_port: int, port: int, crs: Path) -> Path:
    d = WORK / name
    for sub in ("tmp", "logs"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    modsec = d / "modsecurity.conf"
    modsec.write_text(
        "# Generated by bench/run.py: the files Wafer embeds, CRS from CRS_DIR.\n"
        f"Include {ROOT / 'rules' / 'recommended.conf'}\n"
        f"SecAuditLog {d / 'logs' / 'audit.log'}\n"
        f"Include {ROOT / 'rules' / 'crs-setup.conf'}\n"
        f'SecAction "id:10000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level={pl}"\n'
        f"Include {crs / 'rules'}/*.conf\n")
    conf = d / "nginx.conf"
    conf.write_text(f"""# Generated by bench/run.py.
load_module {MODSEC_MODULE};
daemon off;
master_process off;
worker_processes 1;
pid {d / 'nginx.pid'};
error_log {d / 'logs' / 'error.log'} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {d / 'tmp'};
    proxy_temp_path {d / 'tmp'};
    fastcgi_temp_path {d / 'tmp'};
    uwsgi_temp_path {d / 'tmp'};
    scgi_temp_path {d / 'tmp'};
    client_body_buffer_size 64k;
    upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{port};
        modsecurity on;
        modsecurity_rules_file {modsec};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
""")
    return conf


def start_nginx(name: str, pl: int, backend_port: int, crs: Path, cpu: int | None) -> Proxy:
    port = free_port()
    conf = nginx_config(name, pl, backend_port, port, crs)
    d = conf.parent
    test = subprocess.run(["nginx", "-t", "-p", str(d), "-c", str(conf), "-e",
                           str(d / "logs" / "error.log")], capture_output=True, text=True)
    if test.returncode != 0:
        raise RuntimeError(f"nginx -t failed for {name}:\n{test.stderr[-3000:]}")
    args = ["nginx", "-p", str(d), "-c", str(conf), "-e", str(d / "logs" / "error.log")]
    if cpu is not None:
        args = ["taskset", "-c", str(cpu)] + args
    t = time.monotonic()
    p = envoyctl._spawn(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = t + 120
    while True:
        if p.poll() is not None:
            raise RuntimeError(f"nginx {name} exited with {p.returncode}; see {d / 'logs'}")
        try:
            # Any HTTP answer means ready (CRS at PL4 may well block this bare request).
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                break
        except urllib.error.HTTPError:
            break
        except OSError:
            pass
        if time.monotonic() > deadline:
            envoyctl.stop(p)
            raise RuntimeError(f"nginx {name} not ready after 120 s")
        time.sleep(0.1)
    return Proxy(name, f"nginx + ModSecurity 3, CRS PL{pl}", port, p.pid,
                 time.monotonic() - t, rss_mib(p.pid), d / "logs" / "error.log",
                 lambda: envoyctl.stop(p))


# ---------------------------------------------------------------------------------------
# prerequisites


def have_modsecurity() -> bool:
    return shutil.which("nginx") is not None and MODSEC_MODULE.exists()


def apt_install(packages: list[str]) -> bool:
    """`apt-get install` as root, without starting the packages' services (a temporary
    policy-rc.d, as container images do): nginx's own service would listen on :80."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    log(f"installing {' '.join(packages)} with apt-get")
    policy = Path("/usr/sbin/policy-rc.d")
    placed = False
    if not policy.exists():
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        placed = True
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *packages],
                          env=env).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env)
            subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *packages],
                           env=env)
    finally:
        if placed:
            policy.unlink(missing_ok=True)
    return True


def find_crs() -> Path | None:
    """CRS_DIR, else shared/crs/v4.28.0 beside the repository or an ancestor (as
    filter/build.rs looks for it)."""
    if os.environ.get("CRS_DIR"):
        return Path(os.environ["CRS_DIR"])
    for d in [ROOT, *ROOT.parents]:
        c = d.parent / "shared" / "crs" / "v4.28.0"
        if (c / "rules").is_dir():
            return c
    return None


# ---------------------------------------------------------------------------------------
# report


@dataclass
class Cell:
    """All rounds of one proxy on one request kind."""
    runs: list[WrkResult] = field(default_factory=list)
    cpu: float = 0.0
    # Rule matches the proxy logged during the runs (a benign request should have none).
    logged: int = 0

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.runs)

    def rps(self) -> float:
        return statistics.median(r.requests / r.seconds for r in self.runs)

    def p50(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs)

    def p99(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)

    def cpu_us(self) -> float:
        return self.cpu * 1e6 / self.requests if self.requests else float("nan")

    def rejected(self) -> int:
        return sum(r.non_2xx + r.errors for r in self.runs)


def ratio(a: float, b: float) -> str:
    if not (a > 0 and b > 0):
        return "-"
    return f"{a / b:.2f}"


def report(proxies: list[Proxy], cells: dict[tuple[str, str], Cell], scenarios: list[str],
           args) -> str:
    lines = []
    out = lines.append
    by = {p.name: p for p in proxies}
    out(f"{args.rounds} rounds × {args.duration:g} s per proxy and request, wrk -t1 "
        f"-c{args.connections}, proxy pinned to CPU {args.proxy_cpu_text}.")
    out("CPU = proxy CPU µs per request (utime+stime ÷ requests); ×none, ×empty: CPU ÷ that of "
        "envoy-none / envoy-empty; ÷modsec: CPU of nginx+ModSecurity at the same PL ÷ ours "
        "(> 1: we use less).")
    for sc in scenarios:
        out("")
        out(f"## {sc}: {SCENARIOS[sc].method} {SCENARIOS[sc].path}"
            + (f" ({SCENARIOS[sc].body_file.stat().st_size} B {SCENARIOS[sc].content_type})"
               if SCENARIOS[sc].body_file else ""))
        out("")
        out("| proxy | req/s | p50 ms | p99 ms | CPU µs/req | ×none | ×empty | ÷modsec | note |")
        out("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        none = cells.get(("envoy-none", sc))
        empty = cells.get(("envoy-empty", sc))
        for p in proxies:
            c = cells.get((p.name, sc))
            if not c or not c.runs:
                continue
            cpu = c.cpu_us()
            pl = re.search(r"pl(\d)$", p.name)
            modsec = cells.get((f"modsec-pl{pl.group(1)}", sc)) if pl else None
            notes = []
            if c.rejected():
                notes.append(f"{c.rejected()} non-2xx/errors")
            if c.logged:
                notes.append(f"{c.logged / max(c.requests, 1):.2f} logged rule matches per request")
            note = "; ".join(notes)
            out(f"| {p.name} | {c.rps():,.0f} | {c.p50():.2f} | {c.p99():.2f} | {cpu:,.1f} | "
                f"{ratio(cpu, none.cpu_us()) if none else '-'} | "
                f"{ratio(cpu, empty.cpu_us()) if empty and p.name.startswith(('envoy', 'wafer')) else '-'} | "
                f"{ratio(modsec.cpu_us(), cpu) if modsec and p.name.startswith('wafer') else '-'} | "
                f"{note} |")
    out("")
    get_w, get_e = cells.get(("wafer-pl1", "get")), cells.get(("envoy-empty", "get"))
    if get_w and get_e and get_w.runs and get_e.runs:
        out(f"Issue-7 goal, GET at PL1: envoy-empty CPU ÷ wafer-pl1 CPU = "
            f"{ratio(get_e.cpu_us(), get_w.cpu_us())} (goal ≥ 0.7); Wafer adds "
            f"{get_w.cpu_us() - get_e.cpu_us():.1f} µs over the empty filter (goal ≤ ~27).")
        out("")
    out("| proxy | what | start → ready s | RSS ready MiB | RSS end MiB | configure |")
    out("|---|---|---:|---:|---:|---|")
    for p in proxies:
        out(f"| {p.name} | {p.kind} | {p.start_s:.2f} | {p.rss_ready:.1f} | {p.rss_end:.1f} | "
            f"{p.configure_note()} |")
    if "envoy-empty" in by:
        out("")
        out("Envoy's wasm linear memory is not exported by V8; the filter's share of Envoy's RSS "
            "is about RSS(wafer-plN) − RSS(envoy-empty). Exact linear memory: "
            "`cargo bench -p wafer-host-test --bench wasm`.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 4)),
                    help="seconds per measurement (≤ 10; env BENCH_DURATION)")
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 2)),
                    help="rounds over all proxies (env BENCH_ROUNDS)")
    ap.add_argument("--connections", type=int, default=8, help="wrk connections")
    ap.add_argument("--scenarios", default=os.environ.get("BENCH_SCENARIOS", "get,form,json"),
                    help="comma-separated: get, form, json")
    ap.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""),
                    help="comma-separated proxy names to run (default: all)")
    ap.add_argument("--no-install", action="store_true",
                    help="never apt-get install missing wrk/nginx/ModSecurity")
    args = ap.parse_args(argv)
    args.duration = min(max(args.duration, 1), 10)
    scenarios = [s for s in args.scenarios.split(",") if s]
    for s in scenarios:
        if s not in SCENARIOS:
            ap.error(f"unknown scenario {s!r}")
    only = {s for s in args.only.split(",") if s}

    envoyctl.install_signal_handlers()
    WORK.mkdir(parents=True, exist_ok=True)

    if shutil.which("wrk") is None and not (not args.no_install and apt_install(["wrk"])
                                            and shutil.which("wrk")):
        log("wrk is required (apt-get install wrk)")
        return 1
    modsec_reason = None
    crs = find_crs()
    if not have_modsecurity() and not args.no_install:
        apt_install(["nginx", "libnginx-mod-http-modsecurity"])
    if not have_modsecurity():
        modsec_reason = ("nginx or libnginx-mod-http-modsecurity is not installed "
                         "(apt-get install nginx libnginx-mod-http-modsecurity)")
    elif crs is None:
        modsec_reason = "CRS not found: set CRS_DIR to an extracted CRS 4.28 release"
    for need, how in [(envoyctl.WAFER_WASM, "make wasm"),
                      (EMPTY_FILTER, "make bench builds it"),
                      (envoyctl.backend_binary(release=True), "cargo build --release -p wafer-backend")]:
        if not need.exists():
            log(f"{need} missing ({how})")
            return 1

    cpus = sorted(os.sched_getaffinity(0))
    proxy_cpu = cpus[0] if len(cpus) >= 2 else None
    load_cpus = cpus[1:] if len(cpus) >= 2 else None
    args.proxy_cpu_text = str(proxy_cpu) if proxy_cpu is not None else "(not pinned: one CPU)"
    log(f"CPUs {cpus}: proxies on {args.proxy_cpu_text}, wrk and backend on {load_cpus or cpus}")

    backend, backend_port = envoyctl.start_backend(0, envoyctl.backend_binary(release=True))
    if load_cpus:
        subprocess.run(["taskset", "-a", "-p", "-c", ",".join(map(str, load_cpus)),
                        str(backend.pid)], check=True, stdout=subprocess.DEVNULL)

    wanted = lambda n: not only or n in only  # noqa: E731
    proxies: list[Proxy] = []
    try:
        if wanted("envoy-none"):
            proxies.append(start_envoy("envoy-none", "Envoy, no filter",
                                       envoyctl.CONFIG_DIR / "no-filter.yaml", backend_port,
                                       None, proxy_cpu))
        if wanted("envoy-empty"):
            proxies.append(start_envoy(
                "envoy-empty", "Envoy + empty proxy-wasm filter (V8)",
                envoyctl.CONFIG_DIR / "empty-filter.yaml", backend_port,
                {"target/envoy/empty-filter.wasm": EMPTY_FILTER}, proxy_cpu))
        for pl in (1, 4):
            if not wanted(f"wafer-pl{pl}"):
                continue
            cfg = WORK / f"wafer-pl{pl}.yaml"
            cfg.write_text(envoyctl.with_plugin_config(
                (envoyctl.CONFIG_DIR / "wafer.yaml").read_text(), wafer_config(pl)))
            proxies.append(start_envoy(f"wafer-pl{pl}", f"Envoy + Wafer (V8), CRS PL{pl}",
                                       cfg, backend_port, None, proxy_cpu))
        if modsec_reason:
            log(f"skipping nginx + ModSecurity: {modsec_reason}")
        else:
            for pl in (1, 4):
                if wanted(f"modsec-pl{pl}"):
                    proxies.append(start_nginx(f"modsec-pl{pl}", pl, backend_port, crs,
                                               proxy_cpu))
        for p in proxies:
            log(f"{p.name} ready on 127.0.0.1:{p.port} (pid {p.pid}) in {p.start_s:.2f} s")

        # Warm-up: V8 tiers wasm up (Liftoff → TurboFan) under load; connections get pooled.
        for p in proxies:
            for sc in scenarios:
                run_wrk(p.port, SCENARIOS[sc], 1, args.connections, load_cpus)

        cells: dict[tuple[str, str], Cell] = {}
        for r in range(args.rounds):
            for sc in scenarios:
                for p in proxies:
                    before = cpu_seconds(p.pid)
                    log_before = log_size(p.log_path)
                    res = run_wrk(p.port, SCENARIOS[sc], args.duration, args.connections,
                                  load_cpus)
                    cell = cells.setdefault((p.name, sc), Cell())
                    cell.cpu += cpu_seconds(p.pid) - before
                    cell.logged += count_matches(p.log_path, log_before)
                    cell.runs.append(res)
                    log(f"round {r + 1}/{args.rounds} {sc:<4} {p.name:<12} "
                        f"{res.requests / res.seconds:8.0f} req/s"
                        + (f" ({res.non_2xx} non-2xx, {res.errors} errors)"
                           if res.non_2xx or res.errors else ""))
        for p in proxies:
            p.rss_end = rss_mib(p.pid)
    finally:
        for p in proxies:
            if p.stop:
                p.stop()
        envoyctl.stop(backend)

    text = report(proxies, cells, scenarios, args)
    if modsec_reason:
        text += f"\n\nnginx + ModSecurity not measured: {modsec_reason}."
    print(text)
    (WORK / "last-run.md").write_text(text + "\n")
    log(f"written to {WORK / 'last-run.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
