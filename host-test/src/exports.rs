//! The filter's exports, resolved once per instance and called through typed entry points,
//! as Envoy's proxy-wasm-cpp-host does (it looks each `proxy_on_*` up once, at VM start).
//!
//! Looking an export up by name and calling it through `Func::call` costs wasmtime a string
//! lookup, a type registration and a conversion of every argument on each call: 5–8 % of
//! the benchmark GET's time under host-test (session 19), which `benches/wasm.rs` would
//! otherwise charge to the filter. The proxy-wasm hooks all take and return `i32`s, so the
//! signatures they use have typed forms here; any other falls back to the dynamic call.

use wasmtime::{Func, Instance, Store, TypedFunc, Val};

/// One export and how to call it.
pub(crate) enum Export {
    /// `_initialize`, `_start`.
    A0(TypedFunc<(), ()>),
    /// `proxy_on_tick`, `proxy_on_log`, `proxy_on_delete`.
    A1(TypedFunc<i32, ()>),
    /// `proxy_on_done`, `proxy_on_memory_allocate`, `malloc`.
    A1R(TypedFunc<i32, i32>),
    /// `proxy_on_context_create`, `proxy_on_queue_ready`.
    A2(TypedFunc<(i32, i32), ()>),
    /// `proxy_on_vm_start`, `proxy_on_configure`, trailers hooks, ABI 0.1.0 header hooks.
    A2R(TypedFunc<(i32, i32), i32>),
    /// Header and body hooks (ABI 0.2.x).
    A3R(TypedFunc<(i32, i32, i32), i32>),
    /// `proxy_on_http_call_response`.
    A5(TypedFunc<(i32, i32, i32, i32, i32), ()>),
    /// Any other signature: checked and converted on every call.
    Dyn(Func),
}

impl Export {
    /// The export `name` of `instance`, if it is a function.
    pub(crate) fn resolve<T>(
        store: &mut Store<T>,
        instance: &Instance,
        name: &str,
    ) -> Option<Export> {
        let f = instance.get_func(&mut *store, name)?;
        let s = &*store;
        Some(if let Ok(t) = f.typed(s) {
            Export::A0(t)
        } else if let Ok(t) = f.typed(s) {
            Export::A1(t)
        } else if let Ok(t) = f.typed(s) {
            Export::A1R(t)
        } else if let Ok(t) = f.typed(s) {
            Export::A2(t)
        } else if let Ok(t) = f.typed(s) {
            Export::A2R(t)
        } else if let Ok(t) = f.typed(s) {
            Export::A3R(t)
        } else if let Ok(t) = f.typed(s) {
            Export::A5(t)
        } else {
            Export::Dyn(f)
        })
    }

    /// Call with `args`: missing parameters are 0, extra arguments are dropped (a hook of
    /// an older ABI takes fewer). Returns the first result, if any.
    pub(crate) fn call<T>(
        &self,
        store: &mut Store<T>,
        args: &[i32],
    ) -> wasmtime::Result<Option<i32>> {
        let a = |i: usize| args.get(i).copied().unwrap_or(0);
        match self {
            Export::A0(t) => t.call(store, ()).map(|()| None),
            Export::A1(t) => t.call(store, a(0)).map(|()| None),
            Export::A1R(t) => t.call(store, a(0)).map(Some),
            Export::A2(t) => t.call(store, (a(0), a(1))).map(|()| None),
            Export::A2R(t) => t.call(store, (a(0), a(1))).map(Some),
            Export::A3R(t) => t.call(store, (a(0), a(1), a(2))).map(Some),
            Export::A5(t) => t.call(store, (a(0), a(1), a(2), a(3), a(4))).map(|()| None),
            Export::Dyn(f) => {
                let ty = f.ty(&*store);
                let params: Vec<Val> = ty
                    .params()
                    .zip(args.iter().copied().chain(std::iter::repeat(0)))
                    .map(|(t, v)| match t {
                        wasmtime::ValType::I64 => Val::I64(i64::from(v)),
                        _ => Val::I32(v),
                    })
                    .collect();
                let mut results: Vec<Val> = ty.results().map(|_| Val::I32(0)).collect();
                f.call(&mut *store, &params, &mut results)?;
                Ok(results.first().and_then(Val::i32))
            }
        }
    }
}
