//! `proxy_get_property` / `proxy_set_property`: Envoy attributes and ngx_wasm_module
//! properties, with each host's encoding.
//!
//! - **Envoy** (`source/extensions/common/wasm/context.cc`, `serializeValue` and
//!   `Context::getProperty`; attribute names from Envoy's "Attributes" docs): strings and
//!   bytes raw; int64/uint64 as 8 bytes little-endian (`request.size`, `response.code`,
//!   `source.port`, `destination.port`, `connection.id`); bool as one byte
//!   (`connection.mtls`); timestamps as the raw `absl::Time` (we encode 8-byte LE seconds +
//!   4-byte quarter-nanoseconds + 4 bytes padding — filters should not rely on it). A map
//!   attribute is walked by the next path element (`request.headers.<name>`); the whole map
//!   (a serialised protobuf Struct in Envoy) is not modelled and answers `NotFound`.
//!   `source.address` is `ip:port`. `plugin_name`, `plugin_root_id`, `plugin_vm_id` come from
//!   the plugin options.
//! - **Nginx** (ngx_wasm_module `docs/PROXY_WASM.md`, "Supported Properties"): every value is
//!   a string (`source.port` is `"40000"`, `connection.mtls` is `"false"`,
//!   `request.time` is `seconds.millis`); `request.host` is nginx's `$hostname` (the machine's
//!   name, not the Host header); `request.url_path` is `$uri` (decoded path);
//!   `plugin_vm_id` is not implemented; `wasmx.*` are free per-context host properties;
//!   `ngx.<var>` reads a few nginx variables.
//!
//! Not here: anything outside the attributes a WAF filter plausibly reads.

use crate::host::{HostState, HttpState};
use crate::Personality;

fn int(p: Personality, v: i64) -> Vec<u8> {
    match p {
        Personality::Envoy => v.to_le_bytes().to_vec(),
        Personality::Nginx => v.to_string().into_bytes(),
    }
}

fn header<'a>(pairs: &'a [(Vec<u8>, Vec<u8>)], name: &[u8]) -> Option<&'a [u8]> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// A property path's parts (the ABI separates them with NUL).
pub(crate) fn split_path(path: &[u8]) -> Vec<&[u8]> {
    path.split(|&b| b == 0).collect()
}

/// Percent-decode (for nginx `$uri`); invalid escapes stay as they are.
fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b == b'%' {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (
                s.get(i + 1).copied().and_then(hex),
                s.get(i + 2).copied().and_then(hex),
            ) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Look up a property; `None` means `NotFound`.
pub(crate) fn get(st: &HostState, path: &[u8]) -> Option<Vec<u8>> {
    let parts = split_path(path);
    let p = st.personality;
    let o = &st.opts;
    // Values the filter set win (Envoy filter state; ngx `wasmx.*`).
    let stream_set = st.http.as_ref().and_then(|h| h.properties.get(path));
    if let Some(v) = stream_set.or_else(|| {
        if st.http.is_none() || p == Personality::Envoy {
            st.root_properties.get(path)
        } else {
            None
        }
    }) {
        return Some(v.clone());
    }
    let first = *parts.first()?;
    let second = parts.get(1).copied();
    match (first, second) {
        (b"plugin_name", None) => return Some(o.plugin_name.clone().into_bytes()),
        (b"plugin_root_id", None) => return Some(o.root_id.clone().into_bytes()),
        (b"plugin_vm_id", None) if p == Personality::Envoy => {
            return Some(o.vm_id.clone().into_bytes())
        }
        (b"source", Some(b"address")) => {
            return Some(
                match p {
                    Personality::Envoy => format!("{}:{}", o.source_ip, o.source_port),
                    Personality::Nginx => o.source_ip.clone(),
                }
                .into_bytes(),
            )
        }
        (b"source", Some(b"port")) => return Some(int(p, i64::from(o.source_port))),
        (b"destination", Some(b"address")) => {
            return Some(format!("{}:{}", o.destination_ip, o.destination_port).into_bytes())
        }
        (b"destination", Some(b"port")) => return Some(int(p, i64::from(o.destination_port))),
        (b"connection", Some(b"id")) => return Some(int(p, o.connection_id as i64)),
        (b"connection", Some(b"mtls")) => {
            return Some(match p {
                Personality::Envoy => vec![0],
                Personality::Nginx => b"false".to_vec(),
            })
        }
        (b"ngx", Some(var)) if p == Personality::Nginx => return nginx_var(st, var),
        _ => {}
    }
    let h = st.http.as_ref()?;
    match (first, second) {
        (b"request", Some(field)) => request_property(st, h, field, parts.get(2).copied()),
        (b"response", Some(b"code")) => h.response_code.map(|c| int(p, i64::from(c))),
        (b"response", Some(b"headers")) => {
            header(&h.response_headers, parts.get(2).copied()?).map(<[u8]>::to_vec)
        }
        (b"response", Some(b"size")) => Some(int(p, h.response_body.len() as i64)),
        _ => None,
    }
}

fn request_property(
    st: &HostState,
    h: &HttpState,
    field: &[u8],
    sub: Option<&[u8]>,
) -> Option<Vec<u8>> {
    let p = st.personality;
    let hdr = |n: &[u8]| header(&h.request_headers, n).map(<[u8]>::to_vec);
    let envoy = p == Personality::Envoy;
    // Envoy reads the (possibly modified) pseudo-headers; nginx reads `r`.
    let path = if envoy {
        hdr(b":path")?
    } else {
        h.path.clone().into_bytes()
    };
    match field {
        b"path" => Some(path),
        b"url_path" => {
            let no_query = path.split(|&b| b == b'?').next().unwrap_or_default();
            Some(if envoy {
                no_query.to_vec()
            } else {
                percent_decode(no_query)
            })
        }
        b"query" => {
            let q = path.iter().position(|&b| b == b'?').map(|i| i + 1)?;
            path.get(q..).map(<[u8]>::to_vec)
        }
        b"host" => {
            if envoy {
                hdr(b":authority")
            } else {
                Some(st.opts.nginx_hostname.clone().into_bytes())
            }
        }
        b"scheme" => {
            if envoy {
                hdr(b":scheme")
            } else {
                Some(h.scheme.clone().into_bytes())
            }
        }
        b"method" => {
            if envoy {
                hdr(b":method")
            } else {
                Some(h.method.clone().into_bytes())
            }
        }
        b"headers" => sub.and_then(hdr),
        b"referer" => hdr(b"referer"),
        b"useragent" => hdr(b"user-agent"),
        b"id" => hdr(b"x-request-id"),
        b"protocol" => Some(b"HTTP/1.1".to_vec()),
        b"size" => {
            let cl = hdr(b"content-length")?;
            let n: i64 = std::str::from_utf8(&cl).ok()?.trim().parse().ok()?;
            Some(int(p, n))
        }
        b"time" => {
            let ns = h.request_time_ns;
            Some(if envoy {
                let mut v = (ns / 1_000_000_000).to_le_bytes().to_vec();
                v.extend_from_slice(&(((ns % 1_000_000_000) * 4) as u32).to_le_bytes());
                v.extend_from_slice(&[0; 4]);
                v
            } else {
                format!("{}.{:03}", ns / 1_000_000_000, (ns / 1_000_000) % 1000).into_bytes()
            })
        }
        _ => None,
    }
}

fn nginx_var(st: &HostState, var: &[u8]) -> Option<Vec<u8>> {
    let o = &st.opts;
    let h = st.http.as_ref();
    Some(match var {
        b"hostname" => o.nginx_hostname.clone().into_bytes(),
        b"server_name" => o.nginx_server_name.clone().into_bytes(),
        b"remote_addr" => o.source_ip.clone().into_bytes(),
        b"remote_port" => o.source_port.to_string().into_bytes(),
        b"server_port" => o.destination_port.to_string().into_bytes(),
        b"request_uri" => h?.path.clone().into_bytes(),
        b"uri" => {
            let path = h?.path.as_bytes();
            percent_decode(path.split(|&b| b == b'?').next().unwrap_or_default())
        }
        b"args" => {
            let path = &h?.path;
            path.split_once('?').map(|(_, q)| q)?.as_bytes().to_vec()
        }
        b"request_method" => h?.method.clone().into_bytes(),
        b"scheme" => h?.scheme.clone().into_bytes(),
        b"host" => h?.host_header.clone().into_bytes(),
        _ => return None,
    })
}

/// Store a property set by the filter. Envoy stores any path (filter state); nginx allows
/// only `wasmx.*` (and a few writable `ngx.*` variables, not modelled).
pub(crate) fn set(st: &mut HostState, path: Vec<u8>, value: Vec<u8>) -> Result<(), i32> {
    if st.personality == Personality::Nginx && !path.starts_with(b"wasmx\0") {
        return Err(crate::abi::status::BAD_ARGUMENT);
    }
    match st.http.as_mut() {
        Some(h) if st.effective_context == h.context_id => {
            h.properties.insert(path, value);
        }
        _ => {
            st.root_properties.insert(path, value);
        }
    }
    Ok(())
}
