// SPDX-License-Identifier: GPL-2.0

//! Wire codecs for ksf, and the other pure logic of its services (the run
//! state of a connection's task), written once and shared.
//!
//! Everything here uses `core` only: no allocation, no I/O, no panics on any
//! input. The same source is compiled into the kernel modules (mounted with
//! `#[path]` from `rust/ksf/mod.rs`) and into the user-space tools (as the cargo
//! crate `ksf-proto`), and it is tested on both sides from one set of cases.
//! The crate's one feature, `alloc`, is for the tools: it lets a `Vec<u8>` be
//! the reassembly buffer of [`rpc::engine`] (the kernel lends a `KVVec`).
//!
//! Paths inside this tree are relative (`super::`), never `crate::`, so that
//! it works both as a crate root and as a module of a kernel crate.

#![no_std]
#![forbid(unsafe_code)]

#[macro_use]
pub mod testing;

pub mod nfs3;
pub mod rm;
pub mod rpc;
pub mod runstate;
