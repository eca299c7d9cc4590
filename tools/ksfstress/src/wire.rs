// SPDX-License-Identifier: GPL-2.0

//! Valid RPC traffic, built with ksf-proto's encoders, and the client side
//! of record marking: reply records read back from a byte stream.

use ksf_proto::rm::{Decoder, Limits, Mark, MARK_LEN, MAX_FRAGMENT_LEN};
use ksf_proto::rpc::{self, AcceptStat, AuthSys, Call, OpaqueAuth, RejectStat, Reply, ReplyKind};

pub use ksf_proto::rpc::engine::NFS_PROGRAM;
/// The NFS version the valid calls use (served by krpc2 by default).
pub const NFS_VERSION: u32 = 3;

/// The credential of a valid call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cred {
    /// `AUTH_NONE`.
    None,
    /// A well-formed `AUTH_SYS` credential.
    Sys,
}

/// Encodes `call` (credential and verifier bodies of at most 400 bytes).
pub fn encode(call: &Call<'_>) -> Vec<u8> {
    let len =
        rpc::NULL_CALL_LEN + 8 + call.cred.body.len() + call.verf.body.len() + call.args.len();
    let mut out = vec![0; len];
    match rpc::encode_call(&mut out, call) {
        Ok(n) => out.truncate(n),
        // Only a body over 400 bytes fails; callers never pass one.
        Err(e) => panic!("encode_call: {e:?}"),
    }
    out
}

/// The body (without a mark) of a valid NFS NULL call.
pub fn null_call(xid: u32, cred: Cred) -> Vec<u8> {
    let call = Call::new(xid, NFS_PROGRAM, NFS_VERSION, 0);
    match cred {
        Cred::None => encode(&call),
        Cred::Sys => {
            let mut body = [0u8; AuthSys::MAX_LEN];
            let n = AuthSys::new(xid, b"ksfstress", 1000, 1000, &[1000, 27])
                .and_then(|s| s.encode(&mut body).ok())
                .unwrap_or(0);
            let cred = OpaqueAuth {
                flavor: rpc::AUTH_SYS,
                body: &body[..n],
            };
            encode(&Call { cred, ..call })
        }
    }
}

/// A mark word with any length (only its low 31 bits are used).
pub fn raw_mark(len: u32, last: bool) -> [u8; MARK_LEN] {
    Mark {
        len: len & MAX_FRAGMENT_LEN,
        last,
    }
    .encode()
}

/// `body` as one record of one fragment.
pub fn record(body: &[u8]) -> Vec<u8> {
    fragments_at(body, &[])
}

/// `body` as one record whose fragments end at the offsets `cuts`
/// (increasing, inside the body; others are ignored).
pub fn fragments_at(body: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + MARK_LEN * (cuts.len() + 1));
    let mut at = 0;
    for &cut in cuts.iter().chain([body.len()].iter()) {
        if cut <= at || cut > body.len() {
            continue;
        }
        out.extend_from_slice(&raw_mark((cut - at) as u32, cut == body.len()));
        out.extend_from_slice(&body[at..cut]);
        at = cut;
    }
    out
}

/// The longest reply record read: a READ of krpc2's largest `max_io`
/// (1 MiB) and its header.
pub const MAX_REPLY_RECORD: u32 = (1 << 20) + 4096;

/// The client side of record marking: complete records from the bytes a
/// server sends.
pub struct RecordReader {
    dec: Decoder,
    rec: Vec<u8>,
}

impl Default for RecordReader {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordReader {
    /// A reader at the start of a stream (records of at most
    /// [`MAX_REPLY_RECORD`] bytes).
    pub fn new() -> RecordReader {
        let limits = Limits::new(MAX_REPLY_RECORD, 64).unwrap_or(Limits::DEFAULT);
        RecordReader {
            dec: Decoder::new(limits),
            rec: Vec::new(),
        }
    }

    /// Feeds received bytes, calling `f` with every complete record; stops
    /// at the first error (from the framing or from `f`).
    pub fn feed(
        &mut self,
        mut input: &[u8],
        mut f: impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        while !input.is_empty() {
            let step = self
                .dec
                .decode(input)
                .map_err(|e| format!("bad record marking in the server's replies: {e}"))?;
            self.rec.extend_from_slice(&input[step.payload.clone()]);
            input = &input[step.consumed..];
            if step.end_of_record {
                let r = f(&self.rec);
                self.rec.clear();
                r?;
            }
        }
        Ok(())
    }

    /// Whether no partial record is pending.
    pub fn at_boundary(&self) -> bool {
        self.dec.at_record_boundary()
    }
}

/// Checks that `rec` answers a valid NULL call `xid`: accepted, `SUCCESS`,
/// no results.
pub fn check_null_reply(rec: &[u8], xid: u32) -> Result<(), String> {
    let r = rpc::decode_reply(rec).map_err(|e| format!("malformed reply: {e}"))?;
    let ok = matches!(
        r.kind,
        ReplyKind::Accepted {
            stat: AcceptStat::Success { results: [] },
            ..
        }
    );
    if r.xid != xid || !ok {
        return Err(format!(
            "expected SUCCESS for xid {xid:#x}, got {}",
            describe(&r)
        ));
    }
    Ok(())
}

/// A reply in words, for messages: `xid 0x7 accepted PROG_MISMATCH 3..3`.
pub fn describe(r: &Reply<'_>) -> String {
    let what = match r.kind {
        ReplyKind::Accepted { stat, .. } => match stat {
            AcceptStat::Success { results } => match results.len() {
                0 => "accepted SUCCESS".to_string(),
                n => format!("accepted SUCCESS with {n} bytes of results"),
            },
            AcceptStat::ProgUnavail => "accepted PROG_UNAVAIL".to_string(),
            AcceptStat::ProgMismatch { low, high } => {
                format!("accepted PROG_MISMATCH {low}..{high}")
            }
            AcceptStat::ProcUnavail => "accepted PROC_UNAVAIL".to_string(),
            AcceptStat::GarbageArgs => "accepted GARBAGE_ARGS".to_string(),
            AcceptStat::SystemErr => "accepted SYSTEM_ERR".to_string(),
        },
        ReplyKind::Denied(RejectStat::RpcMismatch { low, high }) => {
            format!("denied RPC_MISMATCH {low}..{high}")
        }
        ReplyKind::Denied(RejectStat::AuthError(s)) => format!("denied AUTH_ERROR {}", s.0),
    };
    format!("xid {:#x} {what}", r.xid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_calls_decode() {
        for cred in [Cred::None, Cred::Sys] {
            let body = null_call(9, cred);
            let call = rpc::decode_call(&body).unwrap();
            assert_eq!((call.xid, call.prog, call.vers), (9, NFS_PROGRAM, 3));
            assert_eq!(rpc::authenticate(&call), Ok(()));
        }
        assert_eq!(null_call(1, Cred::None).len(), rpc::NULL_CALL_LEN);
    }

    #[test]
    fn fragments_and_reader() {
        let body = null_call(5, Cred::None);
        let mut stream = fragments_at(&body, &[1, 2, 20, 20, 99]);
        stream.extend(record(&body));
        let mut got = Vec::new();
        let mut r = RecordReader::new();
        for b in stream.chunks(3) {
            r.feed(b, |rec| {
                got.push(rec.to_vec());
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(got, vec![body.clone(), body]);
        assert!(r.at_boundary());
        // Four fragments: 1, 1, 18 and the rest.
        assert_eq!(fragments_at(&[0; 40], &[1, 2, 20]).len(), 40 + 4 * MARK_LEN);
        let err = r.feed(&raw_mark(0, true), |_| Ok(())).unwrap_err();
        assert!(err.contains("empty record"), "{err}");
    }

    #[test]
    fn reply_checks() {
        let mut out = [0u8; 64];
        let ok = Reply {
            xid: 4,
            kind: ReplyKind::accepted(AcceptStat::Success { results: &[] }),
        };
        let n = rpc::encode_reply(&mut out, &ok).unwrap();
        assert_eq!(check_null_reply(&out[..n], 4), Ok(()));
        let e = check_null_reply(&out[..n], 5).unwrap_err();
        assert_eq!(
            e,
            "expected SUCCESS for xid 0x5, got xid 0x4 accepted SUCCESS"
        );
        assert!(check_null_reply(&out[..3], 4)
            .unwrap_err()
            .starts_with("malformed reply"));
    }
}
