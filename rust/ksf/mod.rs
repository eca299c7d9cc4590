// SPDX-License-Identifier: GPL-2.0

//! ksf: the kernel sockets framework.
//!
//! Every module built on ksf mounts this directory as a module named `ksf`
//! at the root of its own crate:
//!
//! ```ignore
//! #[path = "../../rust/ksf/mod.rs"]
//! mod ksf;
//! ```
//!
//! so that the framework is compiled into the module (Linux 6.12 has no way
//! to share Rust code between out-of-tree modules). The module also links
//! `helpers.c` through a one-line C file of its own. All `unsafe` code of
//! the kernel side lives under this directory (the samples and `proto`
//! forbid it).
//!
//! Layers, bottom up:
//! - [`socket`]: [`socket::Socket`], a kernel TCP/UDP socket;
//! - [`pages`]: [`pages::PageStore`], bytes in pages that sockets send
//!   without a copy;
//! - [`upcall`]: socket callbacks that deliver events to an object;
//! - [`pool`]: per-CPU worker kthreads running tasks embedded in their
//!   owners;
//! - [`svc`]: services owning reference-counted connections.

// `proto` is also a cargo crate of its own (the user-space tools use it);
// its crate-level `#![no_std]` has no meaning here.
#[allow(unused_attributes)]
#[macro_use]
#[path = "../proto/src/lib.rs"]
pub mod proto;

pub mod addr;
pub mod buf;
pub mod config;
pub mod cpu;
pub mod debugfs;
pub(crate) mod ffi;
pub mod kthread;
pub mod pages;
pub mod params;
pub mod pool;
pub mod smc;
pub mod socket;
pub mod svc;
pub(crate) mod sync;
pub mod time;
pub(crate) mod upcall;
pub mod vec;

#[cfg(KSF_KUNIT)]
pub mod kunit;
#[cfg(KSF_KUNIT)]
pub mod tests;

/// Prints a kernel warning with a backtrace (`WARN()`): for states ksf
/// never expects, which `make check` treats as failures.
pub(crate) fn warn(msg: &'static core::ffi::CStr) {
    // SAFETY: `msg` is a NUL-terminated string that lives forever.
    unsafe { ffi::ksf_warn(true, msg.as_ptr().cast()) };
}
