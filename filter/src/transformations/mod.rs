//! Transformations (`t:` actions): pure functions from bytes to bytes.
//!
//! Each transformation lives in this folder under its ModSecurity reference-manual name.
//! A transformation returns `None` when the input is left unchanged (ModSecurity's
//! "ret 0"), so the caller can skip copying; `Some(new)` otherwise.
//! Not here: caching of transformed values (the transaction does that) and `t:none`'s
//! effect of clearing inherited transformations (the rule compiler does that).

/// A transformation function: `None` means the input is unchanged.
pub type TransformFn = fn(&[u8]) -> Option<Vec<u8>>;

/// Looks a transformation up by its SecLang name (`lowercase`, `urlDecodeUni`, …).
///
/// Returns `None` for an unknown name; the rule compiler turns that into a
/// configuration error.
pub fn lookup(name: &str) -> Option<TransformFn> {
    let _ = name;
    None
}
