// SPDX-License-Identifier: GPL-2.0

//! A whole server connection: record marking, then the policy per record,
//! replies marked back to back, as krpc2 runs it. The code under test is
//! usrv's `RpcConn` (tools/usrv/src/rpc.rs, krpc2's receive path in user
//! space), compiled into this crate.
//!
//! Input: `[max_record, versions | reply room << 4, chunk seed (2),
//! stream...]` (see `ksf_fuzz::StreamParams`). The stream arrives in the
//! chunks the seed picks; whenever the server stops for lack of reply
//! room, its replies are "sent" and it is fed the rest. Properties:
//!
//! - the bytes sent are exactly, in order, one marked reply per complete
//!   record (the policy's answer to it, computed on the record the
//!   reference model finds), up to the first record that closes the
//!   connection or a framing error, whatever the chunking and the room;
//! - the connection closes exactly then, and never makes no progress;
//! - every reply is a well-formed reply of at most `MAX_POLICY_REPLY`
//!   bytes, carrying the xid of its call.

#![no_main]

use ksf_fuzz::{header, model, reply_xids, split, usrv_rpc, End, StreamParams};
use ksf_proto::rm::{Mark, MARK_LEN};
use ksf_proto::rpc::encode_reply;
use libfuzzer_sys::fuzz_target;

/// Runs a connection over `chunks`; the bytes sent and whether it closed.
fn serve(p: &StreamParams, chunks: &[&[u8]]) -> (Vec<u8>, bool) {
    let program = usrv_rpc::program(p.low, p.high);
    let mut conn = usrv_rpc::RpcConn::new(program, usrv_rpc::limits(p.max_record));
    let mut sent = Vec::new();
    for chunk in chunks {
        let mut rest: &[u8] = chunk;
        while !rest.is_empty() {
            let mut out = Vec::new();
            let (n, close) = conn.feed(rest, &mut out, p.cap);
            assert!(n <= rest.len());
            assert!(
                out.len() <= p.cap,
                "{} bytes of replies > {}",
                out.len(),
                p.cap
            );
            sent.extend_from_slice(&out);
            if close {
                return (sent, true);
            }
            assert!(n > 0 || !out.is_empty(), "no progress");
            rest = &rest[n..];
        }
    }
    (sent, false)
}

fuzz_target!(|input: &[u8]| {
    let (h, stream) = header(input);
    let p = StreamParams::new(h);
    let program = usrv_rpc::program(p.low, p.high);

    // What the server must send, from the reference model's records.
    let want = model(stream, usrv_rpc::limits(p.max_record));
    let mut expect = Vec::new();
    let mut xids = Vec::new();
    let mut close = matches!(want.end, End::Error(_));
    for record in &want.records {
        let Some(reply) = usrv_rpc::answer(&program, record) else {
            close = true;
            break;
        };
        let mut buf = [0u8; usrv_rpc::MAX_REPLY];
        let n = encode_reply(&mut buf[MARK_LEN..], &reply).expect("a policy reply fits");
        expect.extend_from_slice(&Mark::new(n, true).unwrap().encode());
        expect.extend_from_slice(&buf[MARK_LEN..MARK_LEN + n]);
        xids.push(u32::from_be_bytes(record[..4].try_into().unwrap()));
    }

    let chunks = split(stream, p.chunk_seed);
    let got = serve(&p, &chunks);
    assert_eq!(got, (expect.clone(), close), "{p:?}");
    assert_eq!(reply_xids(&got.0), xids);
    if p.chunk_seed != 0 {
        assert_eq!(serve(&p, &[stream]), got, "whole vs chunked, {p:?}");
    }
});
