// SPDX-License-Identifier: GPL-2.0

//! The `nfs3_args` target's pieces: an export over vectors, the checks it
//! runs on one input, and its seeds.
//!
//! Input: `[procedure selector, args...]`. The arguments are decoded as
//! those of every procedure; the selector (modulo 9: `GETATTR`, `LOOKUP`,
//! `READ`, `WRITE`, `ACCESS`, `FSSTAT`, `FSINFO`, `PATHCONF`, then the
//! MOUNT program's `MNT`) picks the call the server then answers with
//! those arguments.

use std::cell::{Cell, RefCell};

use ksf_proto::nfs3::{self, Config, Export, Handle, Nfstime3, Storage};
use ksf_proto::nfs3::{mount, DirPath, Mountres3, Mountstat3, Pathconf3Args, Pathconf3Res};
use ksf_proto::nfs3::{Access3Args, Access3Res, Fsinfo3Args, Fsinfo3Res, Fsstat3Args, Fsstat3Res};
use ksf_proto::nfs3::{DecodeError, Write3Args, Write3Res};
use ksf_proto::nfs3::{DirOpArgs, Fh, StableHow};
use ksf_proto::nfs3::{Getattr3Args, Getattr3Res, Lookup3Args, Lookup3Res, Read3Args, Read3Res};
use ksf_proto::rm::{Mark, MARK_LEN};
use ksf_proto::rpc::engine::{max_marked_reply, Server};
use ksf_proto::rpc::xdr::EncodeError;
use ksf_proto::rpc::{decode_reply, encode_call, AcceptStat, Call, ReplyKind};

/// The export's file system id.
pub const FSID: u32 = 1;
/// Files in the export.
pub const FILES: u32 = 3;
/// Bytes per file.
pub const FILE_SIZE: usize = 300;
/// The export's `max_io`.
pub const MAX_IO: u32 = 128;
/// The calls the selector picks from: program and procedure.
pub const PROCS: [(u32, u32); 9] = [
    (nfs3::PROGRAM, nfs3::GETATTR),
    (nfs3::PROGRAM, nfs3::LOOKUP),
    (nfs3::PROGRAM, nfs3::READ),
    (nfs3::PROGRAM, nfs3::WRITE),
    (nfs3::PROGRAM, nfs3::ACCESS),
    (nfs3::PROGRAM, nfs3::FSSTAT),
    (nfs3::PROGRAM, nfs3::FSINFO),
    (nfs3::PROGRAM, nfs3::PATHCONF),
    (mount::PROGRAM, mount::MNT),
];

/// Files as vectors; a write advances a clock.
pub struct Vecs {
    files: RefCell<Vec<Vec<u8>>>,
    mtime: RefCell<Vec<u32>>,
    clock: Cell<u32>,
}

impl Storage for Vecs {
    fn read(&self, file: u32, offset: u64, out: &mut [u8]) {
        let at = offset as usize;
        out.copy_from_slice(&self.files.borrow()[file as usize][at..at + out.len()]);
    }

    fn write(&self, file: u32, offset: u64, data: &[u8]) {
        let at = offset as usize;
        self.files.borrow_mut()[file as usize][at..at + data.len()].copy_from_slice(data);
        self.clock.set(self.clock.get() + 1);
        self.mtime.borrow_mut()[file as usize] = self.clock.get();
    }

    fn mtime(&self, file: u32) -> Nfstime3 {
        Nfstime3 {
            seconds: self.mtime.borrow()[file as usize],
            nseconds: 0,
        }
    }
}

/// The export the target serves: file `i` filled with byte `i`.
pub fn export() -> Export<Vecs> {
    let config = Config {
        fsid: FSID,
        files: FILES,
        file_size: FILE_SIZE as u64,
        max_io: MAX_IO,
        verf: *b"fuzzverf",
        time: Nfstime3::default(),
    };
    let files = (0..FILES).map(|i| vec![i as u8; FILE_SIZE]).collect();
    let vecs = Vecs {
        files: RefCell::new(files),
        mtime: RefCell::new(vec![0; FILES as usize]),
        clock: Cell::new(0),
    };
    Export::new(config, vecs)
}

/// If `decode` accepts `x`: the value encodes back to the bytes it was
/// read from (a prefix of `x`; padding, which is not checked on input,
/// aside) and one byte less of output is reported too small. Returns
/// whether it decoded.
fn check_args<'a, T: PartialEq + std::fmt::Debug>(
    x: &'a [u8],
    decode: impl Fn(&'a [u8]) -> Result<T, DecodeError>,
    encode: impl Fn(&T, &mut [u8]) -> Result<usize, EncodeError>,
) -> bool {
    let Ok(value) = decode(x) else {
        return false;
    };
    let mut out = vec![0u8; x.len()];
    let n = encode(&value, &mut out).expect("decoded arguments re-encode within the input");
    for (i, (&a, &b)) in x[..n].iter().zip(&out[..n]).enumerate() {
        assert!(a == b || b == 0, "byte {i}: {a:#x} re-encoded as {b:#x}");
    }
    assert_eq!(
        encode(&value, &mut out[..n - 1]),
        Err(EncodeError::BufferTooSmall { need: n })
    );
    true
}

/// Runs every check on one input; returns which procedures' arguments
/// decoded.
pub fn check(input: &[u8]) -> [bool; 9] {
    let (sel, args) = input.split_first().unwrap_or((&0, &[]));
    let decoded = [
        check_args(args, Getattr3Args::decode, Getattr3Args::encode),
        check_args(args, Lookup3Args::decode, Lookup3Args::encode),
        check_args(args, Read3Args::decode, Read3Args::encode),
        check_args(args, Write3Args::decode, Write3Args::encode),
        check_args(args, Access3Args::decode, Access3Args::encode),
        check_args(args, Fsstat3Args::decode, Fsstat3Args::encode),
        check_args(args, Fsinfo3Args::decode, Fsinfo3Args::encode),
        check_args(args, Pathconf3Args::decode, Pathconf3Args::encode),
        check_args(args, DirPath::decode, DirPath::encode),
    ];
    let which = usize::from(*sel) % PROCS.len();
    serve(PROCS[which], args, decoded[which]);
    decoded
}

/// Serves one call of `procedure` with `args` and checks the reply:
/// `GARBAGE_ARGS` exactly when the arguments do not decode, else results
/// that decode as the procedure's, within the room the engine reserves,
/// with a READ's payload inside its file and counted in the mark.
fn serve((prog, procedure): (u32, u32), args: &[u8], decodes: bool) {
    let ex = export();
    let server = Server::nfs3(1 << 20);
    let call = Call {
        args,
        ..Call::new(0x5eed, prog, nfs3::VERSION, procedure)
    };
    let mut record = vec![0u8; args.len() + 64];
    let n = encode_call(&mut record, &call).expect("a call fits");
    let room = max_marked_reply(nfs3::service::MAX_RESULTS);
    let mut out = vec![0u8; room];
    let enc = server
        .reply(&ex, &record[..n], &mut out)
        .expect("a call is answered");
    let mark = Mark::decode(out[..MARK_LEN].try_into().unwrap());
    let mut reply = out[MARK_LEN..enc.len].to_vec();
    if let Some(p) = enc.payload {
        assert_eq!(procedure, nfs3::READ);
        assert!(p.file < FILES && p.len <= MAX_IO);
        assert!(p.offset + u64::from(p.len) <= FILE_SIZE as u64);
        let at = reply.len();
        reply.resize(at + p.len as usize + p.pad(), 0);
        ex.storage()
            .read(p.file, p.offset, &mut reply[at..at + p.len as usize]);
    }
    assert!(mark.last && mark.len as usize == reply.len());
    let decoded = decode_reply(&reply).expect("the reply decodes");
    assert_eq!(decoded.xid, 0x5eed);
    let ReplyKind::Accepted { stat, .. } = decoded.kind else {
        panic!("denied: {decoded:?}");
    };
    let results = match stat {
        AcceptStat::GarbageArgs => {
            assert!(!decodes, "decodable arguments refused");
            return;
        }
        AcceptStat::Success { results } => results,
        other => panic!("{other:?}"),
    };
    assert!(decodes, "undecodable arguments answered");
    if prog == mount::PROGRAM {
        let res = Mountres3::decode(results).expect("mountres3");
        match DirPath::decode(args).unwrap().0 {
            b"/" => assert!(matches!(res, Mountres3::Ok(ok) if ok.fhandle.0 == ex.root())),
            _ => assert_eq!(res, Mountres3::Fail(Mountstat3::NOENT)),
        }
        return;
    }
    match procedure {
        nfs3::GETATTR => drop(Getattr3Res::decode(results).expect("GETATTR3res")),
        nfs3::LOOKUP => drop(Lookup3Res::decode(results).expect("LOOKUP3res")),
        nfs3::READ => {
            let res = Read3Res::decode(results).expect("READ3res");
            if let Read3Res::Ok { head, data } = res {
                let file = Read3Args::decode(args).unwrap().file;
                let h = Handle::parse(file.0).expect("a READ that succeeds had a handle");
                let i = (h.fileid - 2) as u8;
                assert!(data.iter().all(|&b| b == i), "file {i} data");
                assert!(head.eof || head.count > 0 || Read3Args::decode(args).unwrap().count == 0);
            }
        }
        nfs3::ACCESS => {
            let res = Access3Res::decode(results).expect("ACCESS3res");
            let asked = Access3Args::decode(args).unwrap().access;
            if let Access3Res::Ok { access, .. } = res {
                assert_eq!(access & !asked, 0, "granted more than asked");
            }
        }
        nfs3::FSSTAT => drop(Fsstat3Res::decode(results).expect("FSSTAT3res")),
        nfs3::FSINFO => {
            if let Fsinfo3Res::Ok(ok) = Fsinfo3Res::decode(results).expect("FSINFO3res") {
                assert_eq!((ok.rtmax, ok.wtmax), (MAX_IO, MAX_IO));
            }
        }
        nfs3::PATHCONF => drop(Pathconf3Res::decode(results).expect("PATHCONF3res")),
        _ => {
            let res = Write3Res::decode(results).expect("WRITE3res");
            let w = Write3Args::decode(args).unwrap();
            if let Write3Res::Ok(ok) = res {
                assert_eq!(ok.count as usize, w.data.len().min(MAX_IO as usize));
                assert_eq!(ok.committed, StableHow::FileSync);
            }
        }
    }
}

/// Encodes `args` after a selector byte.
fn seed(sel: u8, encode: impl Fn(&mut [u8]) -> Result<usize, EncodeError>) -> Vec<u8> {
    let mut buf = vec![0u8; 1024];
    let n = encode(&mut buf[1..]).expect("a seed fits");
    buf[0] = sel;
    buf.truncate(n + 1);
    buf
}

/// The target's seeds.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let root = Handle::root(FSID).to_bytes();
    let f1 = Handle::file(FSID, 1).to_bytes();
    let stale = Handle::file(FSID, FILES).to_bytes();
    let lookup = |name: &'static [u8]| Lookup3Args {
        what: DirOpArgs {
            dir: Fh(&root),
            name,
        },
    };
    let read = |offset, count| Read3Args {
        file: Fh(&f1),
        offset,
        count,
    };
    let write = |offset, data: &'static [u8]| Write3Args {
        file: Fh(&f1),
        offset,
        count: data.len() as u32,
        stable: StableHow::Unstable,
        data,
    };
    let fh = |sel, h: &[u8]| seed(sel, |b| Getattr3Args { object: Fh(h) }.encode(b));
    vec![
        (
            "getattr-root",
            seed(0, |b| Getattr3Args { object: Fh(&root) }.encode(b)),
        ),
        (
            "getattr-stale",
            seed(0, |b| Getattr3Args { object: Fh(&stale) }.encode(b)),
        ),
        ("lookup-file2", seed(1, |b| lookup(b"file2").encode(b))),
        ("lookup-dotdot", seed(1, |b| lookup(b"..").encode(b))),
        ("read-middle", seed(2, |b| read(10, 100).encode(b))),
        ("read-to-eof", seed(2, |b| read(250, 128).encode(b))),
        ("write-small", seed(3, |b| write(5, b"hello").encode(b))),
        ("write-past-end", seed(3, |b| write(298, b"abc").encode(b))),
        (
            "write-count-mismatch",
            seed(3, |b| {
                Write3Args {
                    count: 9,
                    ..write(0, b"abc")
                }
                .encode(b)
            }),
        ),
        (
            "access-file1",
            seed(4, |b| {
                Access3Args {
                    object: Fh(&f1),
                    access: 0x3f,
                }
                .encode(b)
            }),
        ),
        ("fsstat-root", fh(5, &root)),
        ("fsinfo-root", fh(6, &root)),
        ("pathconf-file1", fh(7, &f1)),
        ("mnt-root", seed(8, |b| DirPath(b"/").encode(b))),
        ("mnt-other", seed(8, |b| DirPath(b"/export").encode(b))),
    ]
}
