// SPDX-License-Identifier: GPL-2.0

//! What a load generator prints on stdout: its text table, or JSON lines
//! with `--json` ([`json::Report`](crate::json::Report)).

use crate::json::Iteration;

/// The lines of a run's output.
pub trait Output {
    /// The line before the first iteration, if any.
    fn header(&self) -> Option<String>;
    /// Adds iteration `iter` (from 1) and returns its line.
    fn add(&mut self, iter: u64, i: &Iteration) -> String;
    /// The line after the last iteration, or `None` before the first.
    fn summary(&self) -> Option<String>;
}
