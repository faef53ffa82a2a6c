# Wafer build entry points. `make wasm` is the product: dist/wafer.wasm.
#
# wasm-opt (Debian/Ubuntu package `binaryen`) optimises the module for speed (-O3). The
# `wasm` cargo profile strips the binary, which removes the target_features section
# wasm-opt would otherwise read, so the features rustc emits for wasm32-wasip1 are
# enabled explicitly (WASM_OPT_FEATURES). Without wasm-opt the unoptimised module is
# copied and a warning printed.

CARGO ?= cargo
WASM_OPT ?= wasm-opt
WASM_TARGET := wasm32-wasip1
WASM_OUT := target/$(WASM_TARGET)/wasm/wafer.wasm
WASM_OPT_FEATURES := --enable-bulk-memory --enable-sign-ext \
	--enable-nontrapping-float-to-int --enable-mutable-globals \
	--enable-multivalue --enable-reference-types
MAX_WASM_BYTES := 3145728

.PHONY: all wasm wasm-fault soak test fmt clippy unit conformance test-envoy test-crs-envoy demo clean-dist

all: wasm

wasm:
	$(CARGO) build -p wafer --target $(WASM_TARGET) --profile wasm
	mkdir -p dist
	@if command -v $(WASM_OPT) >/dev/null 2>&1; then \
		echo "$(WASM_OPT) -O3 $(WASM_OPT_FEATURES)"; \
		$(WASM_OPT) -O3 $(WASM_OPT_FEATURES) $(WASM_OUT) -o dist/wafer.wasm; \
	else \
		echo "warning: $(WASM_OPT) not found (apt install binaryen); dist/wafer.wasm is unoptimised"; \
		cp $(WASM_OUT) dist/wafer.wasm; \
	fi
	@size=$$(wc -c < dist/wafer.wasm); \
	echo "dist/wafer.wasm: $$size bytes (limit $(MAX_WASM_BYTES))"; \
	if [ $$size -gt $(MAX_WASM_BYTES) ]; then echo "error: dist/wafer.wasm is over 3 MB" >&2; exit 1; fi

# The fault-injection test build (never shipped): proves the fault policy in host-test and
# real Envoy. Unoptimised; its own profile so it does not evict the product build.
wasm-fault:
	$(CARGO) build -p wafer --target $(WASM_TARGET) --profile wasm-fault --features fault-injection
	mkdir -p dist
	cp target/$(WASM_TARGET)/wasm-fault/wafer.wasm dist/wafer-fault.wasm

# The whole default suite: what .ci/run runs.
test: fmt clippy unit conformance soak test-envoy test-crs-envoy

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p wafer --all-targets --features prefilter-check -- -D warnings
	$(CARGO) clippy -p wafer --target $(WASM_TARGET) --profile wasm -- -D warnings
	$(CARGO) clippy -p wafer --target $(WASM_TARGET) --profile wasm-fault --features fault-injection -- -D warnings

# Unit and integration tests of every crate (engine, host-test, backend, runner).
unit: wasm wasm-fault
	$(CARGO) test --workspace
	python3 bench/test_run.py

# ModSecurity's suites and the CRS regression suite against the engine, in-process, built
# with `prefilter-check`: every rule the prefilter skips is evaluated anyway and a match
# panics (filter/src/prefilter.rs). The CRS suite again through dist/wafer.wasm under
# host-test (Envoy and Nginx personalities), where skipped rules are really skipped.
conformance: wasm
	$(CARGO) run --release -p wafer-tests --features wafer/prefilter-check --bin conformance -- --suite all --target engine
	$(CARGO) run --release -p wafer-tests --bin conformance -- --suite crs --target wasm
	$(CARGO) run --release -p wafer-tests --bin conformance -- --suite crs --target wasm-nginx

# Soak, short version: mixed benign and attack traffic with CRS through one long-lived VM of
# dist/wafer.wasm; results must equal a fresh VM's and linear memory must stay flat after the
# warm-up. The long run (README) is `soak --requests 1000000`.
soak: wasm
	$(CARGO) run --release -p wafer-tests --bin soak -- --requests 3000
	$(CARGO) run --release -p wafer-tests --bin soak -- --requests 1500 --personality nginx

# Real Envoy (V8) with dist/wafer.wasm: configs, demo flows, Istio manifests.
test-envoy: wasm wasm-fault
	tests/envoy/run.sh

# The CRS regression suite through real Envoy (V8) with dist/wafer.wasm (envoy/crs-e2e.yaml);
# skips in tests/skips/crs-envoy.txt. About a minute.
test-crs-envoy: wasm
	$(CARGO) build --quiet -p wafer-backend
	$(CARGO) run --release -p wafer-tests --bin conformance -- --suite crs --target envoy

# Envoy + Wafer + CRS on 127.0.0.1:8080 in front of the demo backend, until Ctrl-C.
demo:
	envoy/demo.sh

clean-dist:
	rm -rf dist

# End-to-end benchmark (bench/README.md): wrk on 127.0.0.1 against Envoy without a filter,
# with an empty proxy-wasm filter, with Wafer at PL1 and PL4, and nginx + ModSecurity 3 with
# the same CRS at PL1 and PL4, alternating in one run (≤ 5 minutes). BENCH_DURATION,
# BENCH_ROUNDS, BENCH_SCENARIOS and BENCH_ONLY tune it; CRS_DIR points nginx at CRS.
.PHONY: bench
bench: wasm
	$(CARGO) build --release -p wafer-backend
	$(CARGO) build --release --manifest-path bench/empty-filter/Cargo.toml \
		--target $(WASM_TARGET) --target-dir target/bench/empty-filter
	python3 bench/run.py
