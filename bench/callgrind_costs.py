"""Self costs per instruction address in a callgrind output file (`--dump-instr=yes`), for
the scripts that map them onto wasmtime's JIT code (`wasm-instructions.sh`, `wasm-hot.sh`).

Callgrind compresses addresses (absolute `0x…`, or `+n`/`-n` from the previous line) and
follows each `calls=` line with the call's inclusive cost, which is not the calling
instruction's own: those lines are skipped here.
"""
import re


def self_costs(path):
    """Yields (function name, address, cost) for every cost line that is not a call's."""
    names, fn, addr, skip = {}, "?", 0, False
    for line in open(path):
        if line.startswith(("fn=", "cfn=")):
            v = line.split("=", 1)[1].strip()
            m = re.match(r"\((\d+)\)\s*(.*)", v)
            if m:
                if m.group(2):
                    names[m.group(1)] = m.group(2)
                v = names.get(m.group(1), v)
            if line.startswith("fn="):
                fn = v
        elif line.startswith("calls="):
            skip = True
        elif line[:1] in "0123456789+-*":
            t = line.split()
            a = t[0]
            if a.startswith("0x"):
                addr = int(a, 16)
            elif a[0] in "+-":
                d = int(a[1:], 16) if a[1:].startswith("0x") else int(a[1:])
                addr += d if a[0] == "+" else -d
            if skip:
                skip = False
                continue
            yield fn, addr, int(t[-1])
