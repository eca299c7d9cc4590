// SPDX-License-Identifier: GPL-2.0

//! The echo protocol, as kecho runs it: every byte goes back, in order.

/// Copies as much of `input` into `out` as fits below `cap`; the bytes
/// consumed.
pub fn feed(input: &[u8], out: &mut Vec<u8>, cap: usize) -> usize {
    let take = input.len().min(cap.saturating_sub(out.len()));
    out.extend_from_slice(&input[..take]);
    take
}
