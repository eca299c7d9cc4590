// SPDX-License-Identifier: GPL-2.0

//! Shared helpers of the ksf user-space load generators (`echotest`,
//! `rpctest`).
//!
//! - [`args`]: a small command-line lexer ([`args::Parser`]) for hand-rolled
//!   option parsing, and the usage error type.
//! - [`num`]: numbers with binary/decimal suffixes, CPU lists, quantile lists.
//! - [`hist`]: a log-linear latency [`hist::Histogram`] (~0.4% precision).
//! - [`stats`]: medians, means and quantile column labels.
//! - [`cpu`]: monotonic and per-thread CPU clocks, thread pinning.
//! - [`table`]: aligned output rows and number/time formatting.

pub mod args;
pub mod cpu;
pub mod hist;
pub mod num;
pub mod stats;
pub mod table;

pub use args::{Arg, Parser, UsageError};
pub use hist::Histogram;
