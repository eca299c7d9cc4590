// SPDX-License-Identifier: GPL-2.0

//! Checks what a server sends back on one connection against the plan's
//! expectation, as it arrives and when the connection ends.

use crate::model::{same, NfsResults};
use crate::nfs::same_results;
use crate::plan::Expect;
use crate::wire::{describe, RecordReader};
use ksf_proto::rpc::{decode_reply, AcceptStat, Reply, ReplyKind};

/// How the server ended the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// A FIN: EOF on read.
    Eof,
    /// A reset (`ECONNRESET` on read or write, `EPIPE` on write).
    Reset,
}

enum State {
    Rpc {
        reader: RecordReader,
        want: Vec<Reply<'static>>,
        nfs: Vec<Option<NfsResults>>,
        got: usize,
        closes: Option<String>,
    },
    Echo {
        got: usize,
    },
    Nothing,
}

/// The checker of one connection.
pub struct Checker {
    state: State,
    /// A connection the server closes early may lose the replies before
    /// the close, even at an EOF.
    lossy_close: bool,
}

impl Checker {
    /// A checker of `expect`; see [`Checker::lossy_close`].
    pub fn new(expect: &Expect, lossy_close: bool) -> Checker {
        let state = match expect {
            Expect::Rpc(e) => State::Rpc {
                reader: RecordReader::new(),
                want: e.replies.clone(),
                nfs: e.nfs.clone(),
                got: 0,
                closes: e.closes.clone(),
            },
            Expect::Echo => State::Echo { got: 0 },
            Expect::Nothing => State::Nothing,
        };
        Checker { state, lossy_close }
    }

    /// Whether the server is expected to close before the client's EOF.
    pub fn closes_early(&self) -> bool {
        matches!(
            &self.state,
            State::Rpc {
                closes: Some(_),
                ..
            }
        )
    }

    /// Checks received bytes; `sent` is what the client has written so far.
    pub fn data(&mut self, data: &[u8], sent: &[u8]) -> Result<(), String> {
        match &mut self.state {
            State::Rpc {
                reader,
                want,
                nfs,
                got,
                ..
            } => reader.feed(data, |rec| {
                let r = decode_reply(rec).map_err(|e| format!("malformed reply: {e}"))?;
                let Some(w) = want.get(*got) else {
                    return Err(format!(
                        "unexpected reply ({}) after the {} expected",
                        describe(&r),
                        want.len()
                    ));
                };
                if let Some(Some(n)) = nfs.get(*got) {
                    check_nfs(w, n, &r).map_err(|e| {
                        format!(
                            "reply {} of {} (xid {:#x}): {e}",
                            *got + 1,
                            want.len(),
                            w.xid
                        )
                    })?;
                } else if !same(w, &r) {
                    return Err(format!(
                        "reply {} of {}: expected {}, got {}",
                        *got + 1,
                        want.len(),
                        describe(w),
                        describe(&r)
                    ));
                }
                *got += 1;
                Ok(())
            }),
            State::Echo { got } => {
                let end = *got + data.len();
                let Some(want) = sent.get(*got..end) else {
                    return Err(format!(
                        "server sent {end} bytes, more than the {} written",
                        sent.len()
                    ));
                };
                if let Some(i) = want.iter().zip(data).position(|(a, b)| a != b) {
                    return Err(format!(
                        "echo differs at byte {}: sent {:#04x}, got {:#04x}",
                        *got + i,
                        want[i],
                        data[i]
                    ));
                }
                *got = end;
                Ok(())
            }
            State::Nothing => Ok(()),
        }
    }

    /// Checks the end of the connection: how the server ended it, whether
    /// the client had written everything, and the total it was to write.
    pub fn end(&self, ending: Ending, all_sent: bool, total: usize) -> Result<(), String> {
        let how = match ending {
            Ending::Eof => "closed the connection",
            Ending::Reset => "reset the connection",
        };
        match &self.state {
            State::Rpc {
                reader,
                want,
                got,
                closes,
                ..
            } => {
                let Some(why) = closes else {
                    if !all_sent {
                        return Err(format!(
                            "server {how} while the client was still sending valid records \
                             ({got} of {} replies received)",
                            want.len()
                        ));
                    }
                    if ending == Ending::Reset {
                        return Err(format!(
                            "server reset the connection after the client's EOF \
                             ({got} of {} replies received)",
                            want.len()
                        ));
                    }
                    return self.complete(how);
                };
                match ending {
                    // A reset may discard replies still in flight; so may
                    // a path that turns the reset into an EOF.
                    Ending::Reset => Ok(()),
                    Ending::Eof if self.lossy_close => Ok(()),
                    Ending::Eof if *got < want.len() => Err(format!(
                        "server closed the connection ({why}) before sending every reply to \
                         the records before it: {got} of {} received, first missing: {}",
                        want.len(),
                        describe(&want[*got])
                    )),
                    Ending::Eof if !reader.at_boundary() => {
                        Err("server closed the connection inside a reply record".into())
                    }
                    Ending::Eof => Ok(()),
                }
            }
            State::Echo { got } => match (ending, all_sent && *got == total) {
                (Ending::Eof, true) => Ok(()),
                _ => Err(format!(
                    "server {how} after echoing {got} of {total} bytes{}",
                    if all_sent {
                        ""
                    } else {
                        " (client still sending)"
                    }
                )),
            },
            State::Nothing => Ok(()),
        }
    }

    /// All replies came, and nothing after them.
    fn complete(&self, how: &str) -> Result<(), String> {
        if let State::Rpc {
            reader, want, got, ..
        } = &self.state
        {
            if *got < want.len() {
                return Err(format!(
                    "server {how} after the client's EOF with {got} of {} replies sent; \
                     first missing: {}",
                    want.len(),
                    describe(&want[*got])
                ));
            }
            if !reader.at_boundary() {
                return Err(format!("server {how} inside a reply record"));
            }
        }
        Ok(())
    }

    /// Progress so far, for a timeout message.
    pub fn progress(&self, total: usize) -> String {
        match &self.state {
            State::Rpc { want, got, .. } => format!("{got} of {} replies received", want.len()),
            State::Echo { got } => format!("{got} of {total} bytes echoed"),
            State::Nothing => String::new(),
        }
    }
}

/// Whether `got` is the `SUCCESS` reply `want` with NFSv3 results `n`.
fn check_nfs(want: &Reply<'_>, n: &NfsResults, got: &Reply<'_>) -> Result<(), String> {
    let results = match got.kind {
        ReplyKind::Accepted {
            verf,
            stat: AcceptStat::Success { results },
        } if got.xid == want.xid
            && matches!(want.kind, ReplyKind::Accepted { verf: w, .. } if w == verf) =>
        {
            results
        }
        _ => {
            return Err(format!(
                "expected accepted SUCCESS with NFSv3 results, got {}",
                describe(got)
            ))
        }
    };
    same_results(n.procedure, &n.results, results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::wire::{null_call, raw_mark, record, Cred};
    use ksf_proto::rpc::{encode_reply, AcceptStat, ReplyKind};

    fn reply(xid: u32) -> Vec<u8> {
        let r = Reply {
            xid,
            kind: ReplyKind::accepted(AcceptStat::Success { results: &[] }),
        };
        let mut out = [0u8; 64];
        let n = encode_reply(&mut out, &r).unwrap();
        record(&out[..n])
    }

    #[test]
    fn rpc_replies_and_endings() {
        let m = Model::new(4096);
        let stream = [
            record(&null_call(1, Cred::None)),
            record(&null_call(2, Cred::None)),
        ]
        .concat();
        let exp = Expect::Rpc(m.expect(&stream));
        let mut c = Checker::new(&exp, false);
        assert!(!c.closes_early());
        let r = [reply(1), reply(2)].concat();
        c.data(&r[..30], &[]).unwrap();
        assert!(c.end(Ending::Eof, true, 0).unwrap_err().contains("1 of 2"));
        c.data(&r[30..], &[]).unwrap();
        assert_eq!(c.end(Ending::Eof, true, 0), Ok(()));
        assert!(c.end(Ending::Reset, true, 0).is_err());
        assert!(c.end(Ending::Eof, false, 0).is_err());
        let e = c.data(&reply(3), &[]).unwrap_err();
        assert!(e.starts_with("unexpected reply (xid 0x3"), "{e}");

        let mut c = Checker::new(&exp, true);
        let e = c.data(&reply(2), &[]).unwrap_err();
        assert_eq!(
            e,
            "reply 1 of 2: expected xid 0x1 accepted SUCCESS, got xid 0x2 accepted SUCCESS"
        );
    }

    #[test]
    fn early_close() {
        let m = Model::new(4096);
        let stream = [
            record(&null_call(1, Cred::None)),
            raw_mark(0, true).to_vec(),
        ]
        .concat();
        let exp = Expect::Rpc(m.expect(&stream));
        let c = Checker::new(&exp, false);
        assert!(c.closes_early());
        assert_eq!(c.end(Ending::Reset, false, 0), Ok(()));
        let e = c.end(Ending::Eof, false, 0).unwrap_err();
        assert!(
            e.contains("(empty record) before sending every reply"),
            "{e}"
        );
        let c = Checker::new(&exp, true);
        assert_eq!(c.end(Ending::Eof, false, 0), Ok(()));
    }

    #[test]
    fn echo() {
        let mut c = Checker::new(&Expect::Echo, false);
        c.data(b"ab", b"abc").unwrap();
        assert!(c.end(Ending::Eof, true, 3).is_err());
        assert_eq!(
            c.data(b"x", b"abc").unwrap_err(),
            "echo differs at byte 2: sent 0x63, got 0x78"
        );
        let mut c = Checker::new(&Expect::Echo, false);
        c.data(b"abc", b"abc").unwrap();
        assert_eq!(c.end(Ending::Eof, true, 3), Ok(()));
        assert!(c.end(Ending::Reset, true, 3).is_err());
        assert!(c.data(b"d", b"abc").unwrap_err().contains("more than"));
    }

    /// A real export (data kept, times and verifier not zero) answers
    /// the NFSv3 mutator's plans as the model says.
    #[test]
    fn nfs_replies_of_a_real_export() {
        use crate::model::Nfs;
        use crate::rng::Rng;
        use ksf_proto::nfs3::{Config, Export, Nfstime3, Storage, KSF_FSID};
        use ksf_proto::rpc::engine::{Server, Stop, Stream};
        use std::cell::{Cell, RefCell};

        struct Mem(RefCell<Vec<u8>>, Cell<u32>);
        impl Storage for Mem {
            fn read(&self, f: u32, off: u64, out: &mut [u8]) {
                let at = f as usize * 65536 + off as usize;
                out.copy_from_slice(&self.0.borrow()[at..at + out.len()]);
            }
            fn write(&self, f: u32, off: u64, data: &[u8]) {
                let at = f as usize * 65536 + off as usize;
                self.0.borrow_mut()[at..at + data.len()].copy_from_slice(data);
                self.1.set(self.1.get() + 1);
            }
            fn mtime(&self, _f: u32) -> Nfstime3 {
                Nfstime3 {
                    seconds: self.1.get(),
                    nseconds: 5,
                }
            }
        }
        let nfs = Nfs {
            files: 4,
            file_size: 65536,
            max_io: 65536,
        };
        let model = Model::nfs3(4096, nfs);
        let server = Server::nfs3(65536 + 1024);
        let export = Export::new(
            Config {
                verf: *b"verifier",
                time: Nfstime3 {
                    seconds: 9,
                    nseconds: 9,
                },
                ..nfs.config()
            },
            Mem(RefCell::new(vec![7; 4 * 65536]), Cell::new(1)),
        );
        assert_eq!(export.config().fsid, KSF_FSID);
        let mut rng = Rng::new(21);
        let (mut nfs_replies, mut bad) = (0, 0);
        for i in 0..400 {
            let plan = crate::mutate::rpc::plan(&mut rng, &model);
            let Expect::Rpc(e) = &plan.expect else {
                continue;
            };
            nfs_replies += e.nfs.iter().flatten().count();
            let mut conn = Stream::new(&server, Vec::new());
            let mut out = vec![0u8; 1 << 18];
            let mut input = &plan.bytes[..];
            let mut wire = Vec::new();
            loop {
                let s = conn.serve(&server, &export, input, &mut out);
                input = &input[s.fed.consumed..];
                wire.extend(&out[..s.fed.written]);
                if let Some(p) = s.payload {
                    let mut data = vec![0; p.len as usize];
                    export.storage().read(p.file, p.offset, &mut data);
                    wire.extend(data);
                    wire.extend(vec![0; p.pad()]);
                }
                if matches!(s.fed.stop, Stop::Close(_) | Stop::Drained) {
                    break;
                }
            }
            let mut c = Checker::new(&plan.expect, false);
            let r = c.data(&wire, &plan.bytes);
            assert_eq!(r, Ok(()), "plan {i} ({})", plan.kind);
            let pos = wire.windows(8).position(|w| w == [0, 0, 0, 0, 0, 0, 0, 1]);
            if let Some(at) = pos.filter(|&at| at + 12 <= wire.len()) {
                // A post_op_attr present after NFS3_OK: change the type.
                let mut w = wire.clone();
                w[at + 11] ^= 0x10;
                let mut c = Checker::new(&plan.expect, false);
                bad += u32::from(c.data(&w, &plan.bytes).is_err());
            }
        }
        assert!(nfs_replies > 300 && bad > 50, "{nfs_replies} {bad}");
    }
}
