//! Proxy-wasm ABI 0.2.1 constants and the header-map wire format.
//!
//! Values follow the spec (`proxy-wasm/spec`, `abi-versions/v0.2.1`) and the Rust SDK's
//! `types.rs`, which is what filters compiled with `proxy-wasm = "0.2"` expect. This module
//! only encodes and decodes; it knows nothing of wasmtime.

/// `proxy_status_t` / `WasmResult` codes returned by host functions.
pub mod status {
    /// Success.
    pub const OK: i32 = 0;
    /// The key, property or queue does not exist.
    pub const NOT_FOUND: i32 = 1;
    /// An argument was out of range or malformed.
    pub const BAD_ARGUMENT: i32 = 2;
    /// A value could not be serialised.
    pub const SERIALIZATION_FAILURE: i32 = 3;
    /// A pointer/length pair points outside linear memory.
    pub const INVALID_MEMORY_ACCESS: i32 = 6;
    /// A queue is empty.
    pub const EMPTY: i32 = 7;
    /// A compare-and-swap on shared data failed.
    pub const CAS_MISMATCH: i32 = 8;
    /// The host could not carry out the call.
    pub const INTERNAL_FAILURE: i32 = 10;
    /// The host does not implement the call.
    pub const UNIMPLEMENTED: i32 = 12;
}

/// Buffer types (`proxy_buffer_type_t`).
pub mod buffer {
    /// Request body.
    pub const HTTP_REQUEST_BODY: i32 = 0;
    /// Response body.
    pub const HTTP_RESPONSE_BODY: i32 = 1;
    /// Body of an `http_call` response.
    pub const HTTP_CALL_RESPONSE_BODY: i32 = 4;
    /// VM configuration.
    pub const VM_CONFIGURATION: i32 = 6;
    /// Plugin configuration.
    pub const PLUGIN_CONFIGURATION: i32 = 7;
}

/// Header map types (`proxy_map_type_t`).
pub mod map {
    /// Request headers.
    pub const HTTP_REQUEST_HEADERS: i32 = 0;
    /// Request trailers.
    pub const HTTP_REQUEST_TRAILERS: i32 = 1;
    /// Response headers.
    pub const HTTP_RESPONSE_HEADERS: i32 = 2;
    /// Response trailers.
    pub const HTTP_RESPONSE_TRAILERS: i32 = 3;
    /// Headers of an `http_call` response.
    pub const HTTP_CALL_RESPONSE_HEADERS: i32 = 6;
    /// Trailers of an `http_call` response.
    pub const HTTP_CALL_RESPONSE_TRAILERS: i32 = 7;
}

/// Filter return values (`proxy_action_t`).
pub mod action {
    /// Let the stream go on.
    pub const CONTINUE: i32 = 0;
    /// Hold the stream (buffer) until resumed.
    pub const PAUSE: i32 = 1;
}

/// A list of header pairs, as bytes (names and values need not be UTF-8).
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Serialise pairs: `u32 count`, then `u32 key_len, u32 value_len` per pair, then each key
/// and value followed by a NUL byte, all little-endian (Envoy `getPairs`, Rust SDK
/// `utils::serialize_map`).
pub fn serialize_pairs(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut size = 4;
    for (k, v) in pairs {
        size += 8 + k.len() + v.len() + 2;
    }
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k);
        out.push(0);
        out.extend_from_slice(v);
        out.push(0);
    }
    out
}

/// Parse the format written by [`serialize_pairs`]; `None` when it is malformed.
pub fn deserialize_pairs(bytes: &[u8]) -> Option<Pairs> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let read_u32 = |at: usize| -> Option<usize> {
        let b = bytes.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let count = read_u32(0)?;
    // Each pair needs at least 10 bytes: refuse counts the input cannot hold.
    if count > bytes.len() / 8 {
        return None;
    }
    let mut sizes = Vec::with_capacity(count);
    for i in 0..count {
        let at = 4 + i * 8;
        sizes.push((read_u32(at)?, read_u32(at + 4)?));
    }
    let mut pos = 4 + count * 8;
    let mut out = Vec::with_capacity(count);
    for (klen, vlen) in sizes {
        let k = bytes.get(pos..pos.checked_add(klen)?)?.to_vec();
        pos = pos.checked_add(klen + 1)?;
        let v = bytes.get(pos..pos.checked_add(vlen)?)?.to_vec();
        pos = pos.checked_add(vlen + 1)?;
        out.push((k, v));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip() {
        let p = vec![
            (b":path".to_vec(), b"/a?b".to_vec()),
            (b"x".to_vec(), Vec::new()),
        ];
        let s = serialize_pairs(&p);
        assert_eq!(&s[..4], &2u32.to_le_bytes());
        assert_eq!(deserialize_pairs(&s), Some(p));
    }

    #[test]
    fn malformed_pairs_are_rejected() {
        assert_eq!(deserialize_pairs(&[5, 0, 0, 0]), None);
        assert_eq!(
            deserialize_pairs(&[1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]),
            None
        );
        assert_eq!(deserialize_pairs(&[0xff, 0xff, 0xff, 0xff]), None);
    }
}
