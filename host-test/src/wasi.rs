//! The few WASI (`wasi_snapshot_preview1`) functions a proxy-wasm filter built for
//! `wasm32-wasip1` imports, implemented by hand.
//!
//! Why not `wasmtime-wasi`: it brings tokio, cap-std and a filesystem/socket model we must
//! then lock down, and it adds minutes to a cold build on our shared 2-core machine. A filter
//! needs none of that: Envoy's own host (proxy-wasm-cpp-host `exports.cc`) implements just
//! this list — stdout/stderr go to the proxy log (fd 1 → info, fd 2 → error), the
//! environment and arguments are empty, no preopened directories, a clock and randomness.
//! Any other WASI import is linked as a trap (see `Plugin::instantiate`), so a filter that
//! calls one fails loudly instead of silently misbehaving.
//!
//! What this is not: a sandbox policy or a general WASI implementation.

use crate::host::{mem_read, mem_write, HostState};
use crate::LogLevel;
use wasmtime::{Caller, Linker};

const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_FAULT: i32 = 21;
const ERRNO_INVAL: i32 = 28;
const ERRNO_NOSYS: i32 = 52;

type C<'a> = Caller<'a, HostState>;

/// Add the WASI functions to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    const M: &str = "wasi_snapshot_preview1";
    linker.func_wrap(
        M,
        "fd_write",
        |mut c: C<'_>, fd: i32, iovs: i32, iovs_len: i32, nwritten: i32| -> i32 {
            if fd != 1 && fd != 2 {
                return ERRNO_BADF;
            }
            let mut data = Vec::new();
            for i in 0..iovs_len.max(0) {
                let at = iovs.wrapping_add(i.wrapping_mul(8));
                let Some(iov) = mem_read(&mut c, at, 8) else {
                    return ERRNO_FAULT;
                };
                let ptr = i32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]);
                let len = i32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]);
                let Some(bytes) = mem_read(&mut c, ptr, len) else {
                    return ERRNO_FAULT;
                };
                data.extend_from_slice(&bytes);
            }
            let n = data.len() as u32;
            c.data_mut().stdio(fd, &data);
            if mem_write(&mut c, nwritten, &n.to_le_bytes()).is_none() {
                return ERRNO_FAULT;
            }
            ERRNO_SUCCESS
        },
    )?;
    linker.func_wrap(M, "fd_read", |_: C<'_>, _: i32, _: i32, _: i32, _: i32| {
        ERRNO_BADF
    })?;
    linker.func_wrap(M, "fd_close", |_: C<'_>, _: i32| ERRNO_BADF)?;
    linker.func_wrap(M, "fd_seek", |_: C<'_>, _: i32, _: i64, _: i32, _: i32| {
        ERRNO_BADF
    })?;
    linker.func_wrap(M, "fd_prestat_get", |_: C<'_>, _: i32, _: i32| ERRNO_BADF)?;
    linker.func_wrap(
        M,
        "fd_prestat_dir_name",
        |_: C<'_>, _: i32, _: i32, _: i32| ERRNO_BADF,
    )?;
    linker.func_wrap(
        M,
        "fd_fdstat_get",
        |mut c: C<'_>, fd: i32, buf: i32| -> i32 {
            if !(0..=2).contains(&fd) {
                return ERRNO_BADF;
            }
            // fdstat: filetype u8 (2 = character device), flags u16, rights base/inheriting u64.
            let mut st = [0u8; 24];
            st[0] = 2;
            match mem_write(&mut c, buf, &st) {
                Some(()) => ERRNO_SUCCESS,
                None => ERRNO_FAULT,
            }
        },
    )?;
    for (name, _) in [("environ", ()), ("args", ())] {
        linker.func_wrap(
            M,
            &format!("{name}_sizes_get"),
            |mut c: C<'_>, count: i32, size: i32| -> i32 {
                match (
                    mem_write(&mut c, count, &0u32.to_le_bytes()),
                    mem_write(&mut c, size, &0u32.to_le_bytes()),
                ) {
                    (Some(()), Some(())) => ERRNO_SUCCESS,
                    _ => ERRNO_FAULT,
                }
            },
        )?;
        linker.func_wrap(M, &format!("{name}_get"), |_: C<'_>, _: i32, _: i32| {
            ERRNO_SUCCESS
        })?;
    }
    linker.func_wrap(
        M,
        "clock_time_get",
        |mut c: C<'_>, id: i32, _precision: i64, out: i32| -> i32 {
            let now = match id {
                0 => c.data().clock.realtime_ns,
                1..=3 => c.data().clock.monotonic_ns,
                _ => return ERRNO_INVAL,
            };
            match mem_write(&mut c, out, &now.to_le_bytes()) {
                Some(()) => ERRNO_SUCCESS,
                None => ERRNO_FAULT,
            }
        },
    )?;
    linker.func_wrap(
        M,
        "clock_res_get",
        |mut c: C<'_>, _id: i32, out: i32| -> i32 {
            match mem_write(&mut c, out, &1u64.to_le_bytes()) {
                Some(()) => ERRNO_SUCCESS,
                None => ERRNO_FAULT,
            }
        },
    )?;
    linker.func_wrap(M, "random_get", |mut c: C<'_>, buf: i32, len: i32| -> i32 {
        let Ok(n) = usize::try_from(len) else {
            return ERRNO_INVAL;
        };
        let bytes = c.data_mut().random_bytes(n);
        match mem_write(&mut c, buf, &bytes) {
            Some(()) => ERRNO_SUCCESS,
            None => ERRNO_FAULT,
        }
    })?;
    linker.func_wrap(M, "sched_yield", |_: C<'_>| ERRNO_SUCCESS)?;
    linker.func_wrap(
        M,
        "poll_oneoff",
        |_: C<'_>, _: i32, _: i32, _: i32, _: i32| ERRNO_NOSYS,
    )?;
    linker.func_wrap(
        M,
        "proc_exit",
        |mut c: C<'_>, code: i32| -> wasmtime::Result<()> {
            c.data_mut()
                .host_log(LogLevel::Critical, format!("wasi proc_exit({code})"));
            Err(wasmtime::Error::msg(format!(
                "filter called proc_exit({code})"
            )))
        },
    )?;
    Ok(())
}
