#!/usr/bin/env python3
"""Prints the `spec.pluginConfig` of an Istio WasmPlugin manifest as the JSON string Istio
hands the filter (its `configuration`), so the examples in envoy/istio/ can be fed to the
filter by tests (Envoy validate, host-test) and cannot rot.

    .venv/bin/python envoy/istio/extract.py envoy/istio/crs-pl1-blocking.yaml
    .venv/bin/python envoy/istio/extract.py --check envoy/istio/*.yaml

`--check` only checks each manifest's shape (a WasmPlugin; pluginConfig an object whose keys
the filter knows; the sets that default_directives and per_authority_directives name exist)
and prints `ok FILE` per file; exit status 1 if any fails. Rule syntax is the filter's
business: the Envoy tests load each pluginConfig into the real module.

Needs PyYAML (installed in .venv by `python3 envoy/envoyctl.py venv`).
Not here: rule semantics, Istio itself.
"""

from __future__ import annotations

import json
import sys

# The keys of the filter's plugin configuration (filter/src/plugin_config.rs, RawConfig).
KNOWN_KEYS = {"directives_map", "default_directives", "per_authority_directives",
              "metric_labels", "rules", "block_response"}


def plugin_config(path: str) -> dict:
    """The pluginConfig of the WasmPlugin in `path`; raises ValueError on a bad manifest."""
    try:
        import yaml
    except ImportError as e:
        raise SystemExit("extract.py needs PyYAML: run it with .venv/bin/python "
                         "(create it with `python3 envoy/envoyctl.py venv`)") from e
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    plugins = [d for d in docs if isinstance(d, dict) and d.get("kind") == "WasmPlugin"]
    if len(plugins) != 1:
        raise ValueError(f"expected one WasmPlugin, found {len(plugins)}")
    doc = plugins[0]
    if not str(doc.get("apiVersion", "")).startswith("extensions.istio.io/"):
        raise ValueError(f"apiVersion {doc.get('apiVersion')!r} is not extensions.istio.io/*")
    spec = doc.get("spec") or {}
    if not spec.get("url"):
        raise ValueError("spec.url is missing")
    cfg = spec.get("pluginConfig")
    if not isinstance(cfg, dict):
        raise ValueError("spec.pluginConfig is missing or not an object")
    return cfg


def check(cfg: dict) -> None:
    """Raises ValueError unless `cfg` has the shape the filter accepts."""
    unknown = set(cfg) - KNOWN_KEYS
    if unknown:
        raise ValueError(f"unknown pluginConfig keys {sorted(unknown)} (the filter rejects them)")
    sets = cfg.get("directives_map")
    if not isinstance(sets, dict) or not sets:
        raise ValueError("directives_map is missing or empty")
    for name, lines in sets.items():
        if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
            raise ValueError(f"directives_map.{name} is not a list of strings")
    default = cfg.get("default_directives")
    if default is None and len(sets) > 1:
        raise ValueError("default_directives is required with more than one set")
    if default is not None and default not in sets:
        raise ValueError(f"default_directives names {default!r}, not in directives_map")
    for host, name in (cfg.get("per_authority_directives") or {}).items():
        if name not in sets:
            raise ValueError(f"per_authority_directives[{host!r}] names {name!r}, "
                             "not in directives_map")


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--check":
        failed = 0
        for path in argv[1:]:
            try:
                cfg = plugin_config(path)
                check(cfg)
                json.loads(json.dumps(cfg))
                print(f"ok   {path}")
            except (OSError, ValueError) as e:
                print(f"FAIL {path}: {e}")
                failed += 1
        return 1 if failed or len(argv) < 2 else 0
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        cfg = plugin_config(argv[0])
    except (OSError, ValueError) as e:
        print(f"{argv[0]}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(cfg, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
