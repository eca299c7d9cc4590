// SPDX-License-Identifier: GPL-2.0

//! ksf: the kernel sockets framework.
//!
//! Every module built on ksf mounts this file as a module of its own crate:
//!
//! ```ignore
//! #[path = "../../rust/ksf/mod.rs"]
//! mod ksf;
//! ```
//!
//! so that the framework is compiled into the module (Linux 6.12 has no way
//! to share Rust code between out-of-tree modules). All `unsafe` code of the
//! project lives under this directory.

// `proto` is also a cargo crate of its own (the user-space tools use it);
// its crate-level `#![no_std]` has no meaning here.
#[allow(unused_attributes)]
#[macro_use]
#[path = "../proto/src/lib.rs"]
pub mod proto;

#[cfg(KSF_KUNIT)]
pub mod kunit;
