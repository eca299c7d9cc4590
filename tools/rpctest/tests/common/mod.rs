// SPDX-License-Identifier: GPL-2.0

//! Test support: the in-process servers ([`server`]) and a runner for the
//! built rpctest binary.

#![allow(dead_code)]

pub mod nfs;
pub mod server;

use ksf_tools::testutil;
#[allow(unused_imports)] // only tests/nfs.rs uses the NFSv3 server
pub use nfs::*;
pub use server::*;

#[allow(unused_imports)] // not every test uses every helper
pub use ksf_tools::testutil::{dead_port, Run};

pub const BIN: &str = env!("CARGO_BIN_EXE_rpctest");

/// Runs rpctest with `args`; fails the test if it runs longer than 20 s
/// (it must never hang).
pub fn rpctest(args: &[&str]) -> Run {
    testutil::run("rpctest", BIN, args)
}

/// Asserts success and returns the run.
pub fn ok(args: &[&str]) -> Run {
    testutil::ok("rpctest", BIN, args)
}

/// Asserts exit status `code` with `what` on stderr.
pub fn fails(args: &[&str], code: i32, what: &str) -> Run {
    testutil::fails("rpctest", BIN, args, code, what)
}
