// SPDX-License-Identifier: GPL-2.0

//! Shared helpers of the ksf user-space load generators (`echotest`,
//! `rpctest`, `pingpong`) and of `usrv` and `ksfstress`.
//!
//! - [`args`]: a small command-line lexer ([`args::Parser`]) for hand-rolled
//!   option parsing, and the usage error type.
//! - [`num`]: numbers with binary/decimal suffixes, CPU lists, quantile lists.
//! - [`hist`]: a log-linear latency [`hist::Histogram`] (~0.4% precision).
//! - [`stats`]: medians, means and quantile column labels.
//! - [`cpu`]: monotonic and per-thread CPU clocks, thread pinning.
//! - [`table`]: aligned output rows and number/time formatting.
//! - [`json`]: the `--json` records, one line per iteration and a summary.
//! - [`output`]: a run's output, the table or JSON lines.
//! - [`msg_table`]: the table of echotest and pingpong.
//! - [`target`]: `HOST[:PORT]` parsing and resolution.
//! - [`version`]: the `--version` line, with the git revision of the build.
//! - [`common_opts`]: the options the tools share and their parse loop.
//! - [`jobs`]: job sockets: connect, poll, socket options, pinning.
//! - [`job_loop`]: the body of a job thread, around a tool's [`job_loop::Job`].
//! - [`runner`]: the main thread's side: the job threads, iteration by
//!   iteration.
//! - [`stream`]: pipelined requests and their answers on a TCP connection.
//! - [`datagram`]: requests and their answers in UDP datagrams.
//! - `testutil` (feature `testutil`): integration-test helpers.

pub mod args;
pub mod common_opts;
pub mod cpu;
pub mod datagram;
pub mod hist;
pub mod job_loop;
pub mod jobs;
pub mod json;
pub mod msg_table;
pub mod num;
pub mod output;
pub mod runner;
pub mod smc;
pub mod stats;
pub mod stream;
pub mod table;
pub mod target;
#[cfg(feature = "testutil")]
pub mod testutil;
pub mod version;

pub use args::{Arg, Parser, UsageError};
pub use hist::Histogram;
