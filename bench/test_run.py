#!/usr/bin/env python3
"""Unit tests of bench/run.py's parsing and config generation (no proxies, no timing):
`python3 bench/test_run.py`."""

import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402

WRK_OUT = """Running 4s test @ http://127.0.0.1:40000/search?q=shoes
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.23ms  300.00us   9.87ms   90.00%
    Req/Sec     6.50k   200.00     7.00k    70.00%
  Latency Distribution
     50%  812.00us
     75%    1.10ms
     90%    1.50ms
     99%    2.25s
  25960 requests in 4.00s, 3.10MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:   6490.00
Transfer/sec:    793.12KB
"""


class CountMatches(unittest.TestCase):
    def test_counts_match_lines_after_the_offset(self):
        with tempfile.TemporaryDirectory() as d:
            log = Path(d) / "proxy.log"
            log.write_bytes(b"[info] wasm log wafer: ModSecurity: Warning. old\n")
            offset = run.log_size(log)
            with open(log, "ab") as f:
                f.write(b"[warning] wafer: ModSecurity: Warning. Matched [id \"920350\"]\n"
                        b"[info] something else\n"
                        b"[error] ModSecurity: Access denied with code 403 (phase 2)\n")
            self.assertEqual(run.count_matches(log, offset), 2)
            self.assertEqual(run.count_matches(log, 0), 3)
            self.assertEqual(run.count_matches(None, 0), 0)
            self.assertEqual(run.log_size(Path(d) / "missing"), 0)


class ParseWrk(unittest.TestCase):
    def test_fields(self):
        r = run.parse_wrk(WRK_OUT)
        self.assertEqual(r.requests, 25960)
        self.assertAlmostEqual(r.seconds, 4.0)
        self.assertEqual(r.non_2xx, 7)
        self.assertEqual(r.errors, 3)
        self.assertAlmostEqual(r.p50_ms, 0.812)
        self.assertAlmostEqual(r.p99_ms, 2250.0)

    def test_garbage_is_an_error(self):
        with self.assertRaises(RuntimeError):
            run.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


class Cpu(unittest.TestCase):
    def test_own_process_cpu_grows(self):
        # Burning CPU must show in /proc/PID/stat within a few clock ticks. (Counting loop
        # turns instead failed when a tick fell between the first two reads.)
        import os
        import time
        before = after = run.cpu_seconds(os.getpid())
        deadline = time.monotonic() + 5
        while after <= before and time.monotonic() < deadline:
            after = run.cpu_seconds(os.getpid())
        self.assertGreater(after, before)


class Configs(unittest.TestCase):
    def test_wafer_config_sets_the_paranoia_level(self):
        import json
        cfg = json.loads(run.wafer_config(4))
        lines = cfg["directives_map"][cfg["default_directives"]]
        self.assertIn("setvar:tx.blocking_paranoia_level=4", " ".join(lines))
        self.assertEqual(lines[-1], "Include @owasp_crs/*.conf")

    def test_nginx_config_is_local_and_single_worker(self):
        with tempfile.TemporaryDirectory() as d:
            old = run.WORK
            run.WORK = Path(d)
            try:
                conf = run.nginx_config("t", 2, 8081, 18080, Path("/crs")).read_text()
                modsec = (Path(d) / "t" / "modsecurity.conf").read_text()
            finally:
                run.WORK = old
        self.assertIn("listen 127.0.0.1:18080;", conf)
        self.assertIn("worker_processes 1;", conf)
        self.assertIn("server 127.0.0.1:8081;", conf)
        self.assertIn("blocking_paranoia_level=2", modsec)
        self.assertTrue(modsec.rstrip().endswith("Include /crs/rules/*.conf"))


if __name__ == "__main__":
    unittest.main()
