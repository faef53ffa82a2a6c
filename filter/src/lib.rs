//! Wafer: a ModSecurity-compatible web application firewall engine.
//!
//! The engine is a plain Rust library with no proxy-wasm types. The flow is
//! SecLang text → [`seclang`] directives → [`rules::RuleSet`] (compiled once, shared) →
//! [`transaction::Transaction`] per request, driven through phases 1–5. The proxy-wasm
//! adapter (`adapter`, wasm32 only) maps host hooks onto that API and holds no rule logic.
//!
//! Names follow the ModSecurity reference manual so a rule author can grep for
//! `urlDecodeUni` or `validateByteRange` and land on the implementation.

pub mod actions;
#[cfg(target_arch = "wasm32")]
mod adapter;
pub mod audit;
pub mod body;
pub mod bundle;
mod collection;
pub mod files;
pub mod macros;
pub mod operators;
pub mod plugin_config;
pub mod prefilter;
pub mod replay;
pub mod rules;
pub mod seclang;
pub mod transaction;
pub mod transformations;
pub mod variables;

pub use files::FileSet;
pub use rules::{ConfigError, RuleSet};
pub use transaction::{Action, Connection, EndpointSource, Intervention, RuleMatch, Transaction};
