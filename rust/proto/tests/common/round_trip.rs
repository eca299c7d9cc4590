// SPDX-License-Identifier: GPL-2.0

//! Round-trip checks on arbitrary records, shared by the host robustness
//! test (`rust/proto/tests/rpc_robustness.rs`) and the `rpc_call` fuzz
//! target (`fuzz/`, which mounts this file with `#[path]`).

use ksf_proto::rpc::xdr::padded_len;
use ksf_proto::rpc::{decode_reply, encode_reply, EncodeError, ReplyKind};

/// Zeroes the padding after an opaque body of `len` bytes starting at
/// `start`, and returns where the next field starts.
pub fn zero_pad(v: &mut [u8], start: usize, len: usize) -> usize {
    let end = start + padded_len(len).unwrap();
    v[start + len..end].fill(0);
    end
}

/// If `x` decodes as a reply: it carries the record's first word as its
/// xid, encodes back to the same bytes (padding aside), decodes again to
/// itself, and does not encode into one byte less. Returns whether it
/// decoded.
pub fn check_reply(x: &[u8]) -> bool {
    let Ok(reply) = decode_reply(x) else {
        return false;
    };
    assert_eq!(x.get(..4), Some(&reply.xid.to_be_bytes()[..]));
    let mut out = vec![0u8; x.len()];
    assert_eq!(encode_reply(&mut out, &reply), Ok(x.len()));
    let mut want = x.to_vec();
    if let ReplyKind::Accepted { verf, .. } = reply.kind {
        zero_pad(&mut want, 20, verf.body.len());
    }
    assert_eq!(out, want);
    assert_eq!(decode_reply(&out), Ok(reply));
    assert_eq!(
        encode_reply(&mut out[..x.len() - 1], &reply),
        Err(EncodeError::BufferTooSmall { need: x.len() })
    );
    true
}
