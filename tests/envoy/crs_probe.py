"""Probe: which CRS regression tests does Envoy itself reject or alter before Wafer sees them?

Sends every stage of the CRS go-ftw suite through real Envoy with envoy/crs-e2e.yaml, one
connection per request, built as go-ftw builds it (request line, headers in order,
`Content-Length` and `Connection: close` added unless `autocomplete_headers: false`,
`encoded_request` sent as raw bytes). Envoy's access log line for the request (found by the
client port, which crs-e2e.yaml logs) says what happened: `via_upstream` (Envoy
passed it on; Wafer judged it), `http1.codec_error` and friends (Envoy answered by itself),
or nothing (the connection timed out). Prints counts by outcome and writes one TSV line per
stage to target/envoy/crs-probe.tsv.

This is a probe for choosing the `envoy` target's skips, not the runner: it reads no rule
ids and passes or fails nothing.

    python3 tests/envoy/crs_probe.py [CRS_DIR] [--only 920]   (needs dist/wafer.wasm)
"""

from __future__ import annotations

import base64
import collections
import glob
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "envoy"))

import envoyctl as ec  # noqa: E402


def build(inp: dict) -> bytes:
    """The raw request go-ftw sends for a stage's `input`."""
    if inp.get("encoded_request"):
        return base64.b64decode(inp["encoded_request"])
    method = inp.get("method", "GET")
    uri = inp.get("uri", "/")
    version = inp.get("version", "HTTP/1.1")
    headers = [(str(k), str(v)) for k, v in (inp.get("headers") or {}).items()]
    data = inp.get("data") or ""
    body = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else bytes(data)
    if inp.get("autocomplete_headers", True):
        names = {k.lower() for k, _ in headers}
        if body and "content-length" not in names:
            headers.append(("Content-Length", str(len(body))))
        if "connection" not in names:
            headers.append(("Connection", "close"))
    head = f"{method} {uri} {version}\r\n" if version else f"{method} {uri}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("utf-8", "surrogateescape") + body


def send(port: int, raw: bytes, timeout: float = 3) -> tuple[bytes, int]:
    """Sends `raw` on a new connection and reads the whole response (by Content-Length,
    chunked framing, or until close), so its access line is written before the next
    request's. Returns the status line (b'' on timeout or reset) and
    the client port, which Envoy's access line names."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    local = s.getsockname()[1]
    out = b""
    try:
        s.sendall(raw)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            head, sep, body = out.partition(b"\r\n\r\n")
            if not sep:
                continue
            m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if m and len(body) >= int(m.group(1)):
                break
            if re.search(rb"(?im)^transfer-encoding:.*chunked", head) and \
                    body.endswith(b"0\r\n\r\n"):
                break
    except OSError:
        pass
    finally:
        s.close()
    return out.split(b"\r\n", 1)[0], local


def main(argv: list[str]) -> int:
    if argv and not argv[0].startswith("--"):
        crs = Path(argv[0])
    else:
        candidates = [Path(os.environ.get("CRS_DIR", "/nonexistent")),
                      ROOT.parent / "shared/crs/v4.28.0", ROOT.parent.parent / "shared/crs/v4.28.0"]
        crs = next((c for c in candidates if (c / "tests/regression").is_dir()), candidates[1])
    if not (crs / "tests/regression/tests").is_dir():
        print(f"no CRS test suite under {crs}", file=sys.stderr)
        return 2
    only = argv[argv.index("--only") + 1] if "--only" in argv else ""
    python = str(ec.venv_python())
    # PyYAML lives in the venv; let it turn the suite into JSON for us.
    files = sorted(glob.glob(str(crs / "tests/regression/tests/*/*.yaml")))
    files = [f for f in files if Path(f).stem.startswith(only)]
    code = ("import json,sys,yaml\n"
            "out=[]\n"
            "for f in sys.argv[1:]:\n"
            "  d=yaml.safe_load(open(f,encoding='utf-8',errors='surrogateescape')) or {}\n"
            "  for t in d.get('tests') or []:\n"
            "    for i,st in enumerate(t.get('stages') or []):\n"
            "      out.append([d.get('rule_id'),t.get('test_id'),i,st.get('input') or {}])\n"
            "print(json.dumps(out))\n")
    import json
    stages = json.loads(subprocess.run([python, "-c", code, *files], capture_output=True,
                                       text=True, check=True).stdout)
    ec.install_signal_handlers()
    _, bport = ec.start_backend()
    e = ec.start_envoy(ec.CONFIG_DIR / "crs-e2e.yaml", backend_port=bport)
    start = time.monotonic()
    ports = []
    for rule, test, i, inp in stages:
        ports.append(send(e.listen_port, build(inp))[1])
    e.stop()  # Envoy flushes its access log on exit
    log = e.log_text()
    by_port: dict[str, list] = collections.defaultdict(list)
    for status, details, line, port in re.findall(
            r"^\[access\] (\d+) (\S+) \S+ \"(.*?)\" .*client-port=(\d+)", log, re.M):
        by_port[port].append((status, details, line))
    outcome = {}
    for (rule, test, i, _), port in zip(stages, ports):
        got = by_port.get(str(port), [])
        outcome[f"{rule}-{test}-{i}"] = [got.pop(0)] if got else []
    counts = collections.Counter()
    WORK = ec.WORK
    with open(WORK / "crs-probe.tsv", "w") as tsv:
        for rule, test, i, inp in stages:
            got = outcome.get(f"{rule}-{test}-{i}", [])
            kind = ",".join(sorted({d for _, d, _ in got})) or "no-access-line"
            counts[kind] += 1
            tsv.write(f"{rule}-{test}\t{i}\t{kind}\t"
                      f"{';'.join(s + ' ' + l for s, _, l in got)}\n")
    print(f"{len(stages)} stages in {time.monotonic() - start:.0f} s")
    for kind, n in counts.most_common():
        print(f"{n:6d}  {kind}")
    print(f"details per stage: {WORK / 'crs-probe.tsv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
