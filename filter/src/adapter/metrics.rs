//! Counters, defined on first use, with names Envoy `stats_tags` can turn into labels.
//!
//! Envoy prefixes proxy-wasm metrics with `wasmcustom.`. Names (each followed by the
//! plugin's `metric_labels` as `_key=value`, sorted by key):
//!
//! | name                                          | counts                                    |
//! |-----------------------------------------------|-------------------------------------------|
//! | `wafer.tx.total`                              | transactions (request headers seen)       |
//! | `wafer.tx.interruptions_phase=<1-5>`          | blocks, drops and redirects, by phase     |
//! | `wafer.tx.detection_only_interruptions_phase=<1-5>` | would-be interruptions in DetectionOnly |
//! | `wafer.rule.matches_ruleid=<id>`              | logged rule matches, by rule id           |
//! | `wafer.tx.body_parse_errors`                  | request bodies the body processor could not parse (`REQBODY_ERROR`) |
//!
//! Envoy `stats_config.stats_tags` (first group is cut from the name, second is the value):
//!
//! ```yaml
//! stats_tags:
//! - tag_name: phase
//!   regex: "(_phase=([1-5]))"
//! - tag_name: rule_id
//!   regex: "(_ruleid=([0-9]+))"
//! - tag_name: owner            # one per metric_labels key
//!   regex: "(_owner=([A-Za-z0-9.-]+))"
//! ```
//!
//! giving e.g. `envoy_wasmcustom_wafer_rule_matches{rule_id="942100"}` in Prometheus.
//! Istio needs `wasmcustom` in the proxy's stats inclusion prefixes.
//! Cardinality is bounded: phases 1–5 and the rule ids of the configured sets.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;

/// Lazily defined counters.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    suffix: String,
    /// Host ids by base name (the suffix is the same for all), so that a counter already
    /// defined costs one lookup and no formatting.
    ids: RefCell<HashMap<String, Option<u32>>>,
}

impl Metrics {
    /// Counters whose names end with `labels` (`_key=value` each).
    pub(crate) fn new(labels: &BTreeMap<String, String>) -> Metrics {
        let suffix = labels.iter().map(|(k, v)| format!("_{k}={v}")).collect();
        Metrics {
            suffix,
            ids: RefCell::default(),
        }
    }

    fn inc(&self, base: &str) {
        let mut ids = self.ids.borrow_mut();
        let id = match ids.get(base) {
            Some(id) => *id,
            None => {
                let name = format!("{base}{}", self.suffix);
                let id = hostcalls::define_metric(MetricType::Counter, &name).ok();
                ids.insert(base.to_owned(), id);
                id
            }
        };
        if let Some(id) = id {
            let _ = hostcalls::increment_metric(id, 1);
        }
    }

    /// A transaction started.
    pub(crate) fn transaction(&self) {
        self.inc("wafer.tx.total");
    }

    /// The filter interrupted the transaction in `phase`.
    pub(crate) fn interruption(&self, phase: u8) {
        self.inc(&format!("wafer.tx.interruptions_phase={phase}"));
    }

    /// DetectionOnly: the transaction would have been interrupted in `phase`.
    pub(crate) fn would_interrupt(&self, phase: u8) {
        self.inc(&format!(
            "wafer.tx.detection_only_interruptions_phase={phase}"
        ));
    }

    /// A logged rule matched.
    pub(crate) fn rule_match(&self, id: u64) {
        self.inc(&format!("wafer.rule.matches_ruleid={id}"));
    }

    /// The request body could not be parsed (whatever rules say about it).
    pub(crate) fn body_parse_error(&self) {
        self.inc("wafer.tx.body_parse_errors");
    }
}
