// SPDX-License-Identifier: GPL-2.0

//! What a krpc2-like server must do with a byte stream: record marking
//! within the server's limits, then, record by record, ksf-proto's
//! dispatch policy (the one krpc2 and usrv both run, modelled on knfsd).
//! The fuzzer checks the server's replies against this model.

use ksf_proto::rpc::engine::{Event, Server, Stream};
use ksf_proto::rpc::{AcceptStat, OpaqueAuth, Reply, ReplyKind};

use crate::wire::NFS_VERSION;

/// The server modelled: NFS version 3, procedure NULL, records of at most
/// `max_record` bytes.
#[derive(Clone, Copy, Debug)]
pub struct Model {
    server: Server,
}

/// What the server must do with a stream sent on one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expected {
    /// The replies, in order.
    pub replies: Vec<Reply<'static>>,
    /// Why the server closes the connection before the stream's end
    /// (after sending `replies`), if it does.
    pub closes: Option<String>,
}

impl Model {
    /// The model of a server with records of at most `max_record` bytes.
    pub fn new(max_record: u32) -> Model {
        Model {
            server: Server::nfs_null(NFS_VERSION, NFS_VERSION, max_record),
        }
    }

    /// The largest record the server accepts.
    pub fn max_record(&self) -> u32 {
        self.server.limits().max_record
    }

    /// What the server does with `stream`: the engine's record loop and
    /// answers, record by record. A stream that ends inside a record gets
    /// no reply for it: the server waits, then closes at EOF.
    pub fn expect(&self, stream: &[u8]) -> Expected {
        let mut conn = Stream::new(&self.server, Vec::new());
        let mut input = stream;
        let mut out = Expected::default();
        while !input.is_empty() {
            let next = conn.next(&self.server, input);
            input = &input[next.consumed..];
            match next.event {
                Event::Reply(r) => out.replies.push(r),
                Event::NeedInput => {}
                Event::Close(why) => {
                    out.closes = Some(why.to_string());
                    return out;
                }
            }
        }
        out
    }
}

/// Whether `got` is the reply `want`. The versions a `PROG_MISMATCH`
/// reports are the server's configuration, not checked (the fuzzer never
/// asks for a version a server may be configured to serve).
pub fn same(want: &Reply<'_>, got: &Reply<'_>) -> bool {
    fn mismatch<'a>(r: &Reply<'a>) -> Option<(OpaqueAuth<'a>, bool)> {
        match r.kind {
            ReplyKind::Accepted {
                stat: AcceptStat::ProgMismatch { low, high },
                verf,
            } => Some((verf, low <= high)),
            _ => None,
        }
    }
    match (mismatch(want), mismatch(got)) {
        (Some((wv, _)), Some((gv, ordered))) => want.xid == got.xid && wv == gv && ordered,
        _ => want == got,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{null_call, raw_mark, record, Cred};
    use ksf_proto::rpc::{AuthStat, RejectStat};

    fn success(xid: u32) -> Reply<'static> {
        Reply {
            xid,
            kind: ReplyKind::accepted(AcceptStat::Success { results: &[] }),
        }
    }

    #[test]
    fn valid_calls_then_bad_record() {
        let m = Model::new(4096);
        let mut s = record(&null_call(1, Cred::None));
        s.extend(record(&null_call(2, Cred::Sys)));
        let e = m.expect(&s);
        assert_eq!(e.replies, vec![success(1), success(2)]);
        assert_eq!(e.closes, None);
        s.extend(raw_mark(5000, true));
        s.extend(record(&null_call(3, Cred::None)));
        let e = m.expect(&s);
        assert_eq!(e.replies.len(), 2);
        assert!(e.closes.unwrap().contains("exceeds the 4096-byte limit"));
    }

    #[test]
    fn header_errors() {
        let m = Model::new(4096);
        let mut call = null_call(7, Cred::None);
        call[8..12].copy_from_slice(&3u32.to_be_bytes());
        let e = m.expect(&record(&call));
        let want = Reply {
            xid: 7,
            kind: ReplyKind::Denied(RejectStat::RpcMismatch { low: 2, high: 2 }),
        };
        assert_eq!(e.replies, vec![want]);
        call[8..12].copy_from_slice(&2u32.to_be_bytes());
        call[28..32].copy_from_slice(&4u32.to_be_bytes());
        let e = m.expect(&record(&call));
        let want = ReplyKind::Denied(RejectStat::AuthError(AuthStat::BADCRED));
        assert_eq!(e.replies[0].kind, want);
        // A reply instead of a call closes; a partial record waits.
        call[4..8].copy_from_slice(&1u32.to_be_bytes());
        assert!(m.expect(&record(&call)).closes.is_some());
        let e = m.expect(&record(&call)[..10]);
        assert_eq!(e, Expected::default());
    }

    #[test]
    fn prog_mismatch_range_is_the_servers() {
        let want = Reply {
            xid: 1,
            kind: ReplyKind::accepted(AcceptStat::ProgMismatch { low: 3, high: 3 }),
        };
        let mut got = want;
        got.kind = ReplyKind::accepted(AcceptStat::ProgMismatch { low: 2, high: 4 });
        assert!(same(&want, &got));
        got.kind = ReplyKind::accepted(AcceptStat::ProgMismatch { low: 4, high: 2 });
        assert!(!same(&want, &got));
        assert!(!same(&want, &success(1)));
        assert!(same(&success(1), &success(1)));
    }
}
