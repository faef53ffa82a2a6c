//! A native proxy-wasm host (see the host-test issue); filled in by its own change.
