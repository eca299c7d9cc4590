// SPDX-License-Identifier: GPL-2.0

//! A whole server connection: record marking, then the policy per record,
//! replies marked back to back. The code under test is the engine krpc2
//! runs (`ksf_proto::rpc::engine::Stream::feed`), with a `Vec` as its
//! reassembly buffer where krpc2 lends a `KVVec`.
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
//! - the connection closes exactly then, says so again on every later
//!   call, and never makes no progress;
//! - the calls and replies it counts are the records and replies sent;
//! - every reply is a well-formed reply of at most `MAX_REPLY_LEN` bytes,
//!   carrying the xid of its call.

#![no_main]

use ksf_fuzz::{header, model, reply_xids, split, End, StreamParams};
use ksf_proto::rm::Mark;
use ksf_proto::rpc::encode_reply;
use ksf_proto::rpc::engine::{Server, Stop, Stream, MAX_REPLY_LEN};
use libfuzzer_sys::fuzz_target;

/// What a connection did: the bytes sent, whether it closed, and the
/// calls and replies it counted.
type Served = (Vec<u8>, bool, u64, u64);

/// Runs a connection over `chunks`.
fn serve(p: &StreamParams, server: &Server, chunks: &[&[u8]]) -> Served {
    let mut conn = Stream::new(server, Vec::new());
    let mut sent = Vec::new();
    let (mut calls, mut replies) = (0, 0);
    let mut out = vec![0u8; p.cap];
    for chunk in chunks {
        let mut rest: &[u8] = chunk;
        while !rest.is_empty() {
            let fed = conn.feed(server, rest, &mut out);
            assert!(fed.consumed <= rest.len());
            assert!(fed.written <= p.cap);
            sent.extend_from_slice(&out[..fed.written]);
            (calls, replies) = (calls + fed.calls, replies + fed.replies);
            if let Stop::Close(why) = fed.stop {
                // Sticky: nothing more is read or written.
                let again = conn.feed(server, rest, &mut out);
                assert_eq!(
                    (again.consumed, again.written, again.stop),
                    (0, 0, fed.stop)
                );
                assert_eq!(conn.closed(), Some(why));
                return (sent, true, calls, replies);
            }
            if fed.stop == Stop::Drained {
                assert_eq!(fed.consumed, rest.len());
            }
            assert!(fed.consumed > 0 || fed.written > 0, "no progress");
            rest = &rest[fed.consumed..];
        }
    }
    (sent, false, calls, replies)
}

fuzz_target!(|input: &[u8]| {
    let (h, stream) = header(input);
    let p = StreamParams::new(h);
    let server = Server::nfs_null(p.low, p.high, p.max_record);

    // What the server must send, from the reference model's records.
    let want = model(stream, server.limits());
    let mut expect = Vec::new();
    let mut xids = Vec::new();
    let mut close = matches!(want.end, End::Error(_));
    let mut calls = 0;
    for record in &want.records {
        calls += 1;
        let Ok(reply) = server.answer(record) else {
            close = true;
            break;
        };
        let mut buf = [0u8; MAX_REPLY_LEN];
        let n = encode_reply(&mut buf, &reply).expect("a policy reply fits");
        expect.extend_from_slice(&Mark::new(n, true).unwrap().encode());
        expect.extend_from_slice(&buf[..n]);
        xids.push(u32::from_be_bytes(record[..4].try_into().unwrap()));
    }
    let replies = xids.len() as u64;

    let chunks = split(stream, p.chunk_seed);
    let got = serve(&p, &server, &chunks);
    assert_eq!(got, (expect, close, calls, replies), "{p:?}");
    assert_eq!(reply_xids(&got.0), xids);
    if p.chunk_seed != 0 {
        assert_eq!(
            serve(&p, &server, &[stream]),
            got,
            "whole vs chunked, {p:?}"
        );
    }
});
