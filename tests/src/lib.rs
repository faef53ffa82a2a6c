//! Conformance runners for Wafer: ModSecurity's own suites and the OWASP CRS regression suite.
//!
//! One library, one binary (`conformance`). Each suite module turns its data into cases,
//! runs them against a target and returns a [`report::SuiteReport`]; the binary prints one
//! summary line per suite and target. Suites:
//! - [`secrules`]: the SecRules language tests (operators and transformations, called directly);
//! - [`regression`]: libmodsecurity's regression cases (rules + one transaction each);
//! - [`crs`]: CRS's go-ftw YAML tests against the full CRS.
//!
//! Targets plug in behind [`crs::Backend`]: the in-process engine ([`crs::EngineBackend`]),
//! the real `.wasm` under the proxy-wasm host ([`target_wasm`]; `wasm`, `wasm-nginx`), and
//! real Envoy over HTTP ([`target_envoy`]; `envoy`).
//! Not here: the engine itself, and any HTTP server.

pub mod crs;
pub mod engine;
pub mod http;
pub mod paths;
pub mod regression;
pub mod report;
pub mod secrules;
pub mod skips;
pub mod target_envoy;
pub mod target_wasm;
