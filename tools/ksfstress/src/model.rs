// SPDX-License-Identifier: GPL-2.0

//! What a krpc2-like server must do with a byte stream: record marking
//! within the server's limits, then, record by record, ksf-proto's
//! dispatch policy (the one krpc2 and usrv both run, modelled on knfsd).
//! The fuzzer checks the server's replies against this model.
//!
//! With an NFSv3 export ([`Model::nfs3`]), the calls the policy lets
//! through run against ksf-proto's export (the one krpc2 runs) over a
//! storage of zeros: what depends on the server's state (times, the
//! write verifier, the bytes read) is left out of the comparison
//! ([`crate::nfs::same_results`]), everything else must match.

use std::cell::Cell;

use ksf_proto::nfs3::{record_limit, Config, Export, Nfstime3, Storage, KSF_FSID};
use ksf_proto::rpc::engine::{max_marked_reply, Event, Procedures, Results, Server, Stop, Stream};
use ksf_proto::rpc::{decode_reply, AcceptStat, Call, OpaqueAuth, Reply, ReplyKind};

use crate::wire::NFS_VERSION;

/// The shape of a server's NFSv3 export (krpc2's `files`, `file_size`
/// and `max_io`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nfs {
    pub files: u32,
    pub file_size: u64,
    pub max_io: u32,
}

impl Nfs {
    /// The export's configuration, its times and verifier zero.
    pub fn config(&self) -> Config {
        Config {
            fsid: KSF_FSID,
            files: self.files,
            file_size: self.file_size,
            max_io: self.max_io,
            verf: [0; 8],
            time: Nfstime3::default(),
        }
    }
}

/// The server modelled: NFS version 3, procedure NULL (or, with an
/// export, NULL, GETATTR, LOOKUP, READ and WRITE), records of at most
/// `max_record` bytes.
#[derive(Clone, Copy, Debug)]
pub struct Model {
    server: Server,
    nfs: Option<Nfs>,
}

/// The results of an NFSv3 call the model expects `SUCCESS` for: the
/// procedure and the results the model's export wrote (a READ's data as
/// zeros).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NfsResults {
    pub procedure: u32,
    pub results: Vec<u8>,
}

/// A storage of zeros that keeps nothing.
struct Zeros;

impl Storage for Zeros {
    fn read(&self, _file: u32, _offset: u64, out: &mut [u8]) {
        out.fill(0);
    }
    fn write(&self, _file: u32, _offset: u64, _data: &[u8]) {}
    fn mtime(&self, _file: u32) -> Nfstime3 {
        Nfstime3::default()
    }
}

/// The export, noting the procedure of the call it runs.
struct Noting {
    export: Export<Zeros>,
    ran: Cell<Option<u32>>,
}

impl Procedures for Noting {
    const MAX_RESULTS: usize = <Export<Zeros> as Procedures>::MAX_RESULTS;

    fn run(&self, call: &Call<'_>, results: &mut [u8]) -> Result<Results, AcceptStat<'static>> {
        let r = self.export.run(call, results);
        if r.is_ok() {
            self.ran.set(Some(call.procedure));
        }
        r
    }
}

/// What the server must do with a stream sent on one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expected {
    /// The replies, in order. A reply with results (NFSv3) is here with
    /// none; its results are in `nfs`.
    pub replies: Vec<Reply<'static>>,
    /// For each reply, the NFSv3 results it carries, if any.
    pub nfs: Vec<Option<NfsResults>>,
    /// Why the server closes the connection before the stream's end
    /// (after sending `replies`), if it does.
    pub closes: Option<String>,
}

impl Model {
    /// The model of a server with records of at most `max_record` bytes.
    pub fn new(max_record: u32) -> Model {
        Model {
            server: Server::nfs_null(NFS_VERSION, NFS_VERSION, max_record),
            nfs: None,
        }
    }

    /// The model of krpc2 with an NFSv3 export of shape `nfs` and its
    /// `max_record` parameter (raised to fit a WRITE of `max_io`).
    pub fn nfs3(max_record: u32, nfs: Nfs) -> Model {
        Model {
            server: Server::nfs3(record_limit(max_record, nfs.max_io)),
            nfs: Some(nfs),
        }
    }

    /// The export's shape, if the server has one.
    pub fn export(&self) -> Option<Nfs> {
        self.nfs
    }

    /// The largest record the server accepts.
    pub fn max_record(&self) -> u32 {
        self.server.limits().max_record
    }

    /// What the server does with `stream`: the engine's record loop and
    /// answers, record by record. A stream that ends inside a record gets
    /// no reply for it: the server waits, then closes at EOF.
    pub fn expect(&self, stream: &[u8]) -> Expected {
        if let Some(nfs) = self.nfs {
            return self.expect_nfs(stream, nfs);
        }
        let mut conn = Stream::new(&self.server, Vec::new());
        let mut input = stream;
        let mut out = Expected::default();
        while !input.is_empty() {
            let next = conn.next(&self.server, input);
            input = &input[next.consumed..];
            match next.event {
                Event::Reply(r) => {
                    out.replies.push(r);
                    out.nfs.push(None);
                }
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

impl Model {
    /// [`Model::expect`] with an export: the engine's `serve` loop, one
    /// reply at a time, with the export over [`Zeros`].
    fn expect_nfs(&self, stream: &[u8], nfs: Nfs) -> Expected {
        let procs = Noting {
            export: Export::new(nfs.config(), Zeros),
            ran: Cell::new(None),
        };
        let mut conn = Stream::new(&self.server, Vec::new());
        // Room for one reply only: each `serve` writes at most one.
        let mut room = vec![0u8; max_marked_reply(Noting::MAX_RESULTS)];
        let mut input = stream;
        let mut out = Expected::default();
        loop {
            procs.ran.set(None);
            let served = conn.serve(&self.server, &procs, input, &mut room);
            input = &input[served.fed.consumed..];
            if served.fed.written > 0 {
                let mut rec = room[4..served.fed.written].to_vec();
                if let Some(p) = served.payload {
                    rec.resize(rec.len() + p.len as usize + p.pad(), 0);
                }
                // The engine's own encoding: it decodes.
                let Ok(r) = decode_reply(&rec) else {
                    out.closes = Some("model: undecodable reply".into());
                    return out;
                };
                let (kind, nfs) = match (r.kind, procs.ran.get()) {
                    (
                        ReplyKind::Accepted {
                            verf,
                            stat: AcceptStat::Success { results },
                        },
                        Some(procedure),
                    ) => (
                        ReplyKind::Accepted {
                            verf: OpaqueAuth {
                                flavor: verf.flavor,
                                body: &[],
                            },
                            stat: AcceptStat::Success { results: &[] },
                        },
                        Some(NfsResults {
                            procedure,
                            results: results.to_vec(),
                        }),
                    ),
                    (kind, _) => (static_kind(kind), None),
                };
                out.replies.push(Reply { xid: r.xid, kind });
                out.nfs.push(nfs);
            }
            match served.fed.stop {
                Stop::Close(why) => {
                    out.closes = Some(why.to_string());
                    return out;
                }
                Stop::Drained => return out,
                Stop::OutputFull => {}
            }
        }
    }
}

/// A reply kind without results, as `'static`.
fn static_kind(kind: ReplyKind<'_>) -> ReplyKind<'static> {
    match kind {
        ReplyKind::Accepted { verf, stat } => {
            let stat = match stat {
                AcceptStat::Success { .. } => AcceptStat::Success { results: &[] },
                AcceptStat::ProgUnavail => AcceptStat::ProgUnavail,
                AcceptStat::ProgMismatch { low, high } => AcceptStat::ProgMismatch { low, high },
                AcceptStat::ProcUnavail => AcceptStat::ProcUnavail,
                AcceptStat::GarbageArgs => AcceptStat::GarbageArgs,
                AcceptStat::SystemErr => AcceptStat::SystemErr,
            };
            ReplyKind::Accepted {
                verf: OpaqueAuth {
                    flavor: verf.flavor,
                    body: &[],
                },
                stat,
            }
        }
        ReplyKind::Denied(d) => ReplyKind::Denied(d),
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
