//! The root context: one per plugin configuration. Parses and compiles the configuration in
//! `on_configure` and hands every HTTP stream the compiled sets.

use std::rc::Rc;
use std::time::UNIX_EPOCH;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{BufferType, ContextType, LogLevel};

use super::http::{RequestIds, WaferHttp};
use super::metrics::Metrics;
use super::output::log;
use crate::bundle;
use crate::plugin_config::{CompiledConfig, PluginConfig};

/// The plugin's root context.
pub(crate) struct WaferRoot {
    config: Option<Rc<CompiledConfig>>,
    metrics: Rc<Metrics>,
    ids: Rc<RequestIds>,
}

impl WaferRoot {
    pub(crate) fn new() -> Self {
        WaferRoot {
            config: None,
            metrics: Rc::new(Metrics::default()),
            ids: Rc::new(RequestIds::new()),
        }
    }
}

/// Parses and compiles `json` against the embedded bundle; the error is the log line.
fn configure(json: &[u8]) -> Result<CompiledConfig, String> {
    let parsed = PluginConfig::parse(json).map_err(|e| e.to_string())?;
    let files = bundle::file_set().map_err(|e| e.to_string())?;
    parsed.compile(&files).map_err(|e| e.to_string())
}

/// `text` on one line: a log line per event, whatever the error's own layout (a regex
/// syntax error spans several lines with a caret under the bad spot).
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn now_millis() -> Option<u128> {
    let t = hostcalls::get_current_time().ok()?;
    Some(t.duration_since(UNIX_EPOCH).ok()?.as_millis())
}

impl Context for WaferRoot {}

impl RootContext for WaferRoot {
    fn on_configure(&mut self, _size: usize) -> bool {
        super::fault::leave();
        let start = now_millis();
        let json = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
            .ok()
            .flatten()
            .unwrap_or_default();
        match configure(&json) {
            Ok(config) => {
                let took = match (start, now_millis()) {
                    (Some(a), Some(b)) => format!(" in {} ms", b.saturating_sub(a)),
                    _ => String::new(),
                };
                let names: Vec<&str> = config.set_names().collect();
                log(
                    LogLevel::Info,
                    &format!(
                        "wafer: configuration loaded: directive sets {names:?}{took} \
                         (OWASP CRS {} embedded)",
                        bundle::CRS_VERSION
                    ),
                );
                self.metrics = Rc::new(Metrics::new(&config.metric_labels));
                self.config = Some(Rc::new(config));
                true
            }
            Err(e) => {
                // One line; the previous configuration (if any) stays in force.
                log(
                    LogLevel::Critical,
                    &format!("wafer: configuration rejected: {}", one_line(&e)),
                );
                false
            }
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(WaferHttp::new(
            context_id,
            self.config.clone(),
            Rc::clone(&self.metrics),
            Rc::clone(&self.ids),
        )))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
