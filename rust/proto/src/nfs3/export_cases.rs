// SPDX-License-Identifier: GPL-2.0

//! Test cases of the in-memory export and of the engine running it, run
//! by `cargo test` on the host and by the `ksf_nfs3_export` KUnit suite in
//! the guest. The storage is an array (no allocation, as in the kernel).

use core::cell::{Cell, RefCell};

use super::super::rm::{Mark, MARK_LEN};
use super::super::rpc::engine::{
    max_marked_reply, Fixed, Payload, Server, Stop, Stream, MAX_MARKED_REPLY,
};
use super::super::rpc::{decode_reply, encode_call, AcceptStat, Call, ReplyKind};
use super::access::{
    ACCESS3_EXECUTE, ACCESS3_EXTEND, ACCESS3_LOOKUP, ACCESS3_MODIFY, ACCESS3_READ,
};
use super::cases::put_words;
use super::fsinfo::FSF3_HOMOGENEOUS;
use super::handle::HANDLE_MAGIC;
use super::mount::OneExport;
use super::service::MAX_RESULTS;
use super::{
    Access3Args, Access3Res, DirPath, Fsinfo3Args, Fsinfo3Res, Fsstat3Res, Mountres3, Mountstat3,
};
use super::{Config, DirOpArgs, Export, Fh, Ftype3, Handle, Nfsstat3, Nfstime3, ReadOutcome};
use super::{Getattr3Args, Getattr3Res, Lookup3Args, Lookup3Res, Read3Args, Read3Res, ReadHead};
use super::{Pathconf3Res, MAXNAMLEN};
use super::{StableHow, Storage, WccData, Write3Args, Write3Res, HANDLE_LEN};

/// Files of the test export.
const FILES: usize = 3;
/// Bytes of each.
const SIZE: usize = 100;
/// The test export's file system id.
const FSID: u32 = 0x1234;

/// `FILES` files of `SIZE` bytes; a write advances the clock.
struct Mem {
    data: RefCell<[[u8; SIZE]; FILES]>,
    mtime: [Cell<u32>; FILES],
    clock: Cell<u32>,
}

impl Storage for Mem {
    fn read(&self, file: u32, offset: u64, out: &mut [u8]) {
        let at = offset as usize;
        out.copy_from_slice(&self.data.borrow()[file as usize][at..at + out.len()]);
    }

    fn write(&self, file: u32, offset: u64, data: &[u8]) {
        let at = offset as usize;
        self.data.borrow_mut()[file as usize][at..at + data.len()].copy_from_slice(data);
        self.clock.set(self.clock.get() + 1);
        self.mtime[file as usize].set(self.clock.get());
    }

    fn mtime(&self, file: u32) -> Nfstime3 {
        Nfstime3 {
            seconds: self.mtime[file as usize].get(),
            nseconds: 0,
        }
    }
}

/// An export of 3 files of 100 bytes (file `i` filled with byte `i`),
/// 64-byte I/O.
fn export() -> Export<Mem> {
    let config = Config {
        fsid: FSID,
        files: FILES as u32,
        file_size: SIZE as u64,
        max_io: 64,
        verf: *b"ksf-verf",
        time: Nfstime3 {
            seconds: 1000,
            nseconds: 5,
        },
    };
    let mem = Mem {
        data: RefCell::new([[0; SIZE], [1; SIZE], [2; SIZE]]),
        mtime: [Cell::new(100), Cell::new(101), Cell::new(102)],
        clock: Cell::new(200),
    };
    Export::new(config, mem)
}

/// The handle of file `i`.
fn file(i: u32) -> [u8; HANDLE_LEN] {
    Handle::file(FSID, i).to_bytes()
}

/// Encodes a call of `procedure` with `args`, marked as one fragment,
/// into `wire` at `*len`.
fn put_call(wire: &mut [u8], len: &mut usize, xid: u32, procedure: u32, args: &[u8]) {
    put_prog_call(wire, len, xid, 100003, procedure, args);
}

/// [`put_call`] of program `prog` (version 3).
fn put_prog_call(
    wire: &mut [u8],
    len: &mut usize,
    xid: u32,
    prog: u32,
    procedure: u32,
    args: &[u8],
) {
    let call = Call {
        args,
        ..Call::new(xid, prog, 3, procedure)
    };
    let n = encode_call(&mut wire[*len + MARK_LEN..], &call).unwrap_or(0);
    let mark = Mark::new(n, true).map_or([0; 4], |m| m.encode());
    wire[*len..*len + MARK_LEN].copy_from_slice(&mark);
    *len += MARK_LEN + n;
}

test_cases! {
    testing = super::super::testing;

    fn handle_format_is_documented(t) {
        let mut want = [0u8; HANDLE_LEN];
        put_words(&mut want, &[HANDLE_MAGIC, FSID, 0, 4]);
        check_eq!(t, file(2), want);
        check_eq!(t, &want[..4], b"ksf3");
        check_eq!(t, Handle::parse(&want), Some(Handle { fsid: FSID, fileid: 4 }));
        check_eq!(t, Handle::parse(&want[..15]), None);
        want[0] = b'K';
        check_eq!(t, Handle::parse(&want), None);
        check_eq!(t, super::export::file_index(b"file0"), Some(0));
        check_eq!(t, super::export::file_index(b"file4294967295"), Some(u32::MAX));
        for bad in [&b"file"[..], b"file01", b"file-1", b"file4294967296", b"File1", b"file1 "] {
            check_eq!(t, super::export::file_index(bad), None);
        }
    }

    fn getattr_and_lookup(t) {
        let ex = export();
        let root = ex.root();
        let Getattr3Res::Ok(dir) = ex.getattr(Fh(&root)) else {
            check!(t, false);
            return;
        };
        check_eq!(t, (dir.ftype, dir.mode, dir.nlink, dir.fileid, dir.fsid), (Ftype3::DIR, 0o755, 2, 1, 0x1234));
        check_eq!(t, dir.mtime, Nfstime3 { seconds: 1000, nseconds: 5 });
        let Getattr3Res::Ok(f) = ex.getattr(Fh(&file(1))) else {
            check!(t, false);
            return;
        };
        check_eq!(t, (f.ftype, f.mode, f.nlink, f.size, f.used, f.fileid), (Ftype3::REG, 0o644, 1, 100, 4096, 3));
        check_eq!(t, (f.uid, f.gid, f.rdev, f.mtime.seconds, f.ctime.seconds), (0, 0, (0, 0), 101, 101));

        let mut h = [0u8; HANDLE_LEN];
        let look = |dir: &[u8], name: &'static [u8], h: &mut [u8; HANDLE_LEN]| {
            let args = Lookup3Args { what: DirOpArgs { dir: Fh(dir), name } };
            match ex.lookup(&args, h) {
                Lookup3Res::Ok(ok) => Ok((ok.object.0.len(), ok.obj_attributes.map(|a| a.fileid), ok.dir_attributes.is_some())),
                Lookup3Res::Fail { status, dir_attributes } => Err((status, dir_attributes.map(|a| a.fileid))),
            }
        };
        check_eq!(t, look(&root, b"file2", &mut h), Ok((HANDLE_LEN, Some(4), true)));
        check_eq!(t, h, file(2));
        check_eq!(t, look(&root, b".", &mut h), Ok((HANDLE_LEN, Some(1), true)));
        check_eq!(t, look(&root, b"..", &mut h), Ok((HANDLE_LEN, Some(1), true)));
        check_eq!(t, h, root);
        check_eq!(t, look(&root, b"file3", &mut h), Err((Nfsstat3::NOENT, Some(1))));
        check_eq!(t, look(&root, b"file01", &mut h), Err((Nfsstat3::NOENT, Some(1))));
        check_eq!(t, look(&file(0), b"file1", &mut h), Err((Nfsstat3::NOTDIR, Some(2))));
        check_eq!(t, look(&root[..15], b"file1", &mut h), Err((Nfsstat3::BADHANDLE, None)));
        check_eq!(t, look(&Handle::root(7).to_bytes(), b"file1", &mut h), Err((Nfsstat3::STALE, None)));

        check_eq!(t, ex.getattr(Fh(b"x")), Getattr3Res::Fail(Nfsstat3::BADHANDLE));
        check_eq!(t, ex.getattr(Fh(&[0; 64])), Getattr3Res::Fail(Nfsstat3::BADHANDLE));
        check_eq!(t, ex.getattr(Fh(&file(3))), Getattr3Res::Fail(Nfsstat3::STALE));
        check_eq!(t, ex.getattr(Fh(&Handle { fsid: FSID, fileid: 0 }.to_bytes())), Getattr3Res::Fail(Nfsstat3::STALE));
    }

    fn read_counts_and_eof(t) {
        let ex = export();
        let f = file(1);
        let read = |offset, count| match ex.read(&Read3Args { file: Fh(&f), offset, count }) {
            ReadOutcome::Ok { head, data } => {
                let ok = head.file_attributes.is_some_and(|a| a.fileid == 3) && data.len == head.count && data.file == 1;
                Ok((ok, data.offset, head.count, head.eof))
            }
            ReadOutcome::Fail { status, .. } => Err(status),
        };
        check_eq!(t, read(0, 10), Ok((true, 0, 10, false)));
        check_eq!(t, read(0, 1000), Ok((true, 0, 64, false)));
        check_eq!(t, read(36, 64), Ok((true, 36, 64, true)));
        check_eq!(t, read(95, 10), Ok((true, 95, 5, true)));
        check_eq!(t, read(99, 0), Ok((true, 99, 0, false)));
        check_eq!(t, read(100, 1), Ok((true, 100, 0, true)));
        check_eq!(t, read(u64::MAX, u32::MAX), Ok((true, 100, 0, true)));
        let root = ex.root();
        let dir = ex.read(&Read3Args { file: Fh(&root), offset: 0, count: 1 });
        check!(t, matches!(dir, ReadOutcome::Fail { status: Nfsstat3::ISDIR, file_attributes: Some(_) }));
        let bad = ex.read(&Read3Args { file: Fh(b"nope"), offset: 0, count: 1 });
        check_eq!(t, bad, ReadOutcome::Fail { status: Nfsstat3::BADHANDLE, file_attributes: None });
    }

    fn write_within_the_file(t) {
        let ex = export();
        let f = file(2);
        let w = |offset, data| Write3Args { file: Fh(&f), offset, count: 0, stable: StableHow::Unstable, data };
        let Write3Res::Ok(ok) = ex.write(&w(98, b"yz")) else {
            check!(t, false);
            return;
        };
        check_eq!(t, (ok.count, ok.committed, ok.verf), (2, StableHow::FileSync, *b"ksf-verf"));
        check_eq!(t, ok.file_wcc.before, None);
        check_eq!(t, ok.file_wcc.after.map(|a| (a.size, a.mtime.seconds)), Some((100, 201)));
        let mut got = [0u8; 3];
        ex.storage().read(2, 97, &mut got);
        check_eq!(t, got, [2, b'y', b'z']);
        // Past the end: nothing written.
        let Write3Res::Fail { status, file_wcc } = ex.write(&w(99, b"ab")) else {
            check!(t, false);
            return;
        };
        check_eq!(t, status, Nfsstat3::FBIG);
        check_eq!(t, file_wcc.before, None);
        check_eq!(t, file_wcc.after.map(|a| a.mtime.seconds), Some(201));
        ex.storage().read(2, 97, &mut got);
        check_eq!(t, got, [2, b'y', b'z']);
        check!(t, matches!(ex.write(&w(u64::MAX, b"a")), Write3Res::Fail { status: Nfsstat3::FBIG, .. }));
        check!(t, matches!(ex.write(&w(101, b"")), Write3Res::Fail { status: Nfsstat3::FBIG, .. }));
        check!(t, matches!(ex.write(&w(100, b"")), Write3Res::Ok(ok) if ok.count == 0));
        // Over max_io: a short write of 64 bytes.
        let big = [7u8; 80];
        check!(t, matches!(ex.write(&w(0, &big)), Write3Res::Ok(ok) if ok.count == 64));
        ex.storage().read(2, 63, &mut got);
        check_eq!(t, got, [7, 2, 2]);
        let root = ex.root();
        let dir = Write3Args { file: Fh(&root), ..w(0, b"a") };
        check!(t, matches!(ex.write(&dir), Write3Res::Fail { status: Nfsstat3::ISDIR, file_wcc: WccData { before: None, after: Some(_) } }));
        let none = WccData { before: None, after: None };
        let bad = Write3Args { file: Fh(&file(9)), ..w(0, b"a") };
        check_eq!(t, ex.write(&bad), Write3Res::Fail { status: Nfsstat3::STALE, file_wcc: none });
    }

    fn engine_answers_nfs3_calls(t) {
        let ex = export();
        let server = Server::nfs3(1024);
        let mut args = [0u8; 128];
        let mut wire = [0u8; 512];
        let mut len = 0;
        let f = file(0);
        let n = Getattr3Args { object: Fh(&f) }.encode(&mut args).unwrap_or(0);
        put_call(&mut wire, &mut len, 1, 1, &args[..n]);
        put_call(&mut wire, &mut len, 2, 1, &args[..n - 1]);
        put_call(&mut wire, &mut len, 3, 8, &args[..n]);
        let n = Read3Args { file: Fh(&f), offset: 1, count: 5 }.encode(&mut args).unwrap_or(0);
        put_call(&mut wire, &mut len, 4, 6, &args[..n]);
        put_call(&mut wire, &mut len, 5, 0, &[]);

        let mut conn = Stream::new(&server, Fixed::<0>::new());
        let mut out = [0u8; 512];
        let served = conn.serve(&server, &ex, &wire[..len], &mut out);
        check_eq!(t, (served.fed.calls, served.fed.replies, served.fed.stop), (4, 4, Stop::OutputFull));
        check_eq!(t, served.payload, Some(Payload { file: 0, offset: 1, len: 5 }));
        // GETATTR: header, status, fattr3, exactly.
        let mut want = [0u8; 4 + 24 + 88];
        let mut words = [0u32; 29];
        words[..7].copy_from_slice(&[0x8000_0000 | 112, 1, 1, 0, 0, 0, 0]);
        words[8..].copy_from_slice(&[1, 0o644, 1, 0, 0, 0, 100, 0, 4096, 0, 0, 0, FSID, 0, 2, 100, 0, 100, 0, 100, 0]);
        put_words(&mut want, &words);
        check_eq!(t, out[..want.len()], want);
        let mut at = want.len();
        // Truncated arguments: GARBAGE_ARGS; CREATE: PROC_UNAVAIL.
        for (xid, stat) in [(2, AcceptStat::GarbageArgs), (3, AcceptStat::ProcUnavail)] {
            let reply = decode_reply(&out[at + MARK_LEN..at + MARK_LEN + 24]);
            check!(t, matches!(reply, Ok(r) if r.xid == xid && r.kind == ReplyKind::accepted(stat)));
            at += MARK_LEN + 24;
        }
        // READ: the mark counts the 5 bytes and 3 of padding to come.
        let head = served.fed.written - at;
        check_eq!(t, head, MARK_LEN + 24 + 4 + 88 + 12);
        let mark = Mark::decode([out[at], out[at + 1], out[at + 2], out[at + 3]]);
        check_eq!(t, (mark.len as usize, mark.last), (head - MARK_LEN + 8, true));
        let mut reply = [0u8; 256];
        reply[..head - MARK_LEN].copy_from_slice(&out[at + MARK_LEN..served.fed.written]);
        ex.storage().read(0, 1, &mut reply[head - MARK_LEN..head - MARK_LEN + 5]);
        let whole = decode_reply(&reply[..head - MARK_LEN + 8]);
        let Ok(super::super::rpc::Reply { xid: 4, kind: ReplyKind::Accepted { stat: AcceptStat::Success { results }, .. } }) = whole else {
            check!(t, false);
            return;
        };
        let Ok(Read3Res::Ok { head: ReadHead { count: 5, eof: false, .. }, data }) = Read3Res::decode(results) else {
            check!(t, false);
            return;
        };
        check_eq!(t, data, [0u8; 5]);
        // The rest: the NULL call.
        let rest = &wire[served.fed.consumed..len];
        let served = conn.serve(&server, &ex, rest, &mut out);
        check_eq!(t, (served.fed.consumed, served.fed.replies, served.fed.stop, served.payload), (rest.len(), 1, Stop::Drained, None));
    }

    fn engine_write_reassembled_and_back_pressure(t) {
        let ex = export();
        let server = Server::nfs3(1024);
        let mut args = [0u8; 128];
        let mut wire = [0u8; 512];
        let mut len = 0;
        let f = file(1);
        let w = Write3Args { file: Fh(&f), offset: 10, count: 4, stable: StableHow::DataSync, data: b"data" };
        let n = w.encode(&mut args).unwrap_or(0);
        put_call(&mut wire, &mut len, 7, 7, &args[..n]);
        let room = max_marked_reply(MAX_RESULTS);
        check_eq!(t, room, 4 + 24 + 200);
        // A NULL-only server's room is what it always was.
        check_eq!(t, max_marked_reply(0), MAX_MARKED_REPLY);
        let mut out = [0u8; 512];
        let mut conn = Stream::new(&server, Fixed::<256>::new());
        // No room for the longest reply: nothing is read.
        let served = conn.serve(&server, &ex, &wire[..len], &mut out[..room - 1]);
        check_eq!(t, (served.fed.consumed, served.fed.stop), (0, Stop::OutputFull));
        // Split in two receives: reassembled, then written.
        let served = conn.serve(&server, &ex, &wire[..20], &mut out[..room]);
        check_eq!(t, (served.fed.consumed, served.fed.replies), (20, 0));
        let served = conn.serve(&server, &ex, &wire[20..len], &mut out[..room]);
        check_eq!(t, (served.fed.replies, served.fed.stop, served.payload), (1, Stop::Drained, None));
        let mut got = [0u8; 6];
        ex.storage().read(1, 9, &mut got);
        check_eq!(t, got, [1, b'd', b'a', b't', b'a', 1]);
        let reply = decode_reply(&out[MARK_LEN..served.fed.written]);
        let Ok(super::super::rpc::Reply { xid: 7, kind: ReplyKind::Accepted { stat: AcceptStat::Success { results }, .. } }) = reply else {
            check!(t, false);
            return;
        };
        check!(t, matches!(Write3Res::decode(results), Ok(Write3Res::Ok(ok)) if ok.count == 4 && ok.committed == StableHow::FileSync));
        // A NULL-only server refuses the same call as before procedures existed.
        let null = Server::nfs_null(3, 3, 1024);
        let mut conn = Stream::new(&null, Fixed::<0>::new());
        let fed = conn.feed(&null, &wire[..len], &mut out);
        let reply = decode_reply(&out[MARK_LEN..fed.written]);
        check!(t, matches!(reply, Ok(r) if r.kind == ReplyKind::accepted(AcceptStat::ProcUnavail)));
    }

    fn access_fsinfo_pathconf_fsstat(t) {
        let ex = export();
        let root = ex.root();
        let f = file(2);
        let all = 0xff;
        let access = |fh: &[u8], access| ex.access(&Access3Args { object: Fh(fh), access });
        let Access3Res::Ok { obj_attributes: Some(a), access: got } = access(&root, all) else {
            check!(t, false);
            return;
        };
        check_eq!(t, (a.ftype, got), (Ftype3::DIR, ACCESS3_READ | ACCESS3_LOOKUP));
        let Access3Res::Ok { obj_attributes: Some(a), access: got } = access(&f, all) else {
            check!(t, false);
            return;
        };
        check_eq!(t, (a.fileid, got), (4, ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND));
        // Only what is asked is granted.
        let asked = ACCESS3_READ | ACCESS3_EXTEND | ACCESS3_EXECUTE;
        check!(t, matches!(access(&f, asked), Access3Res::Ok { access, .. } if access == ACCESS3_READ | ACCESS3_EXTEND));
        check_eq!(t, access(&file(3), all), Access3Res::Fail { status: Nfsstat3::STALE, obj_attributes: None });
        check_eq!(t, access(b"short", all), Access3Res::Fail { status: Nfsstat3::BADHANDLE, obj_attributes: None });

        let Fsinfo3Res::Ok(info) = ex.fsinfo(Fh(&root)) else {
            check!(t, false);
            return;
        };
        check_eq!(t, (info.rtmax, info.rtpref, info.wtmax, info.wtpref), (64, 64, 64, 64));
        check_eq!(t, (info.rtmult, info.wtmult, info.dtpref), (4096, 4096, 4096));
        check_eq!(t, (info.maxfilesize, info.time_delta, info.properties), (SIZE as u64, Nfstime3 { seconds: 1, nseconds: 0 }, FSF3_HOMOGENEOUS));
        check_eq!(t, info.obj_attributes, None);
        check_eq!(t, ex.fsinfo(Fh(&file(7))), Fsinfo3Res::Fail { status: Nfsstat3::STALE, obj_attributes: None });

        let Pathconf3Res::Ok(pc) = ex.pathconf(Fh(&f)) else {
            check!(t, false);
            return;
        };
        check_eq!(t, (pc.linkmax, pc.name_max as usize), (1, MAXNAMLEN));
        check_eq!(t, pc.obj_attributes, None);
        check_eq!(t, (pc.no_trunc, pc.chown_restricted, pc.case_insensitive, pc.case_preserving), (true, true, false, true));
        check_eq!(t, ex.pathconf(Fh(b"x")), Pathconf3Res::Fail { status: Nfsstat3::BADHANDLE, obj_attributes: None });

        let Fsstat3Res::Ok(st) = ex.fsstat(Fh(&f)) else {
            check!(t, false);
            return;
        };
        check_eq!(t, (st.tbytes, st.fbytes, st.abytes), (300, 0, 0));
        check_eq!(t, (st.tfiles, st.ffiles, st.afiles, st.invarsec), (4, 0, 0, 0));
        check_eq!(t, st.obj_attributes, None);
    }

    fn mount_gives_the_root_handle(t) {
        let ex = export();
        let mut handle = [0u8; HANDLE_LEN];
        let Mountres3::Ok(ok) = ex.mnt(DirPath(b"/"), &mut handle) else {
            check!(t, false);
            return;
        };
        check_eq!(t, ok.fhandle.0, ex.root());
        check_eq!(t, ok.auth_flavors.as_slice(), [1, 0]);
        for path in [&b""[..], b"/export", b"//", b"/file0"] {
            check_eq!(t, ex.mnt(DirPath(path), &mut handle), Mountres3::Fail(Mountstat3::NOENT));
        }

        // Through the engine, on the NFS server: MNT, UMNT, NULL, EXPORT,
        // a version 1 MNT, a truncated MNT, then FSINFO of the handle.
        let server = Server::nfs3(1024);
        let mut args = [0u8; 64];
        let n = DirPath(b"/").encode(&mut args).unwrap_or(0);
        let mut wire = [0u8; 512];
        let mut len = 0;
        put_prog_call(&mut wire, &mut len, 1, 100005, 1, &args[..n]);
        put_prog_call(&mut wire, &mut len, 2, 100005, 3, &args[..n]);
        put_prog_call(&mut wire, &mut len, 3, 100005, 0, &[]);
        put_prog_call(&mut wire, &mut len, 4, 100005, 5, &[]);
        put_prog_call(&mut wire, &mut len, 5, 100005, 1, &args[..3]);
        let root = ex.root();
        let n = Fsinfo3Args { object: Fh(&root) }.encode(&mut args).unwrap_or(0);
        put_call(&mut wire, &mut len, 6, 19, &args[..n]);
        let mut conn = Stream::new(&server, Fixed::<0>::new());
        let mut out = [0u8; 512];
        let served = conn.serve(&server, &ex, &wire[..len], &mut out);
        check_eq!(t, (served.fed.consumed, served.fed.replies, served.fed.stop), (len, 6, Stop::Drained));
        // MNT: status, the 16-byte root handle, two flavors.
        let mut mnt = [0u8; 4 + 4 + HANDLE_LEN + 12];
        mnt[7] = HANDLE_LEN as u8;
        mnt[8..8 + HANDLE_LEN].copy_from_slice(&root);
        mnt[8 + HANDLE_LEN + 3] = 2;
        mnt[8 + HANDLE_LEN + 7] = 1;
        let mut at = 0;
        for xid in 1..=6 {
            let mark = Mark::decode([out[at], out[at + 1], out[at + 2], out[at + 3]]);
            let end = at + MARK_LEN + mark.len as usize;
            let Ok(reply) = decode_reply(&out[at + MARK_LEN..end]) else {
                check!(t, false);
                return;
            };
            check_eq!(t, reply.xid, xid);
            let ReplyKind::Accepted { stat, .. } = reply.kind else {
                check!(t, false);
                return;
            };
            match (xid, stat) {
                // MNT, UMNT (void), NULL.
                (1, AcceptStat::Success { results }) => check_eq!(t, results, mnt),
                (2 | 3, AcceptStat::Success { results }) => check_eq!(t, results.len(), 0),
                // EXPORT is not served; a truncated path is garbage.
                (4, stat) => check_eq!(t, stat, AcceptStat::ProcUnavail),
                (5, stat) => check_eq!(t, stat, AcceptStat::GarbageArgs),
                (_, AcceptStat::Success { results }) => {
                    check!(t, matches!(Fsinfo3Res::decode(results), Ok(Fsinfo3Res::Ok(i)) if i.rtmax == 64));
                }
                (_, stat) => check_eq!(t, stat, AcceptStat::Success { results: &[] }),
            }
            at = end;
        }
        // A MOUNT version other than 3: PROG_MISMATCH 3..3.
        let mut len = 0;
        let call = Call { args: &args[..0], ..Call::new(9, 100005, 1, 1) };
        let n = encode_call(&mut wire[MARK_LEN..], &call).unwrap_or(0);
        wire[..MARK_LEN].copy_from_slice(&Mark::new(n, true).map_or([0; 4], |m| m.encode()));
        len += MARK_LEN + n;
        let served = conn.serve(&server, &ex, &wire[..len], &mut out);
        let reply = decode_reply(&out[MARK_LEN..served.fed.written]);
        check!(t, matches!(reply, Ok(r) if r.kind == ReplyKind::accepted(AcceptStat::ProgMismatch { low: 3, high: 3 })));
        // A NULL-only NFS server does not serve MOUNT.
        let null = Server::nfs_null(3, 3, 1024);
        check!(t, matches!(null.answer(&wire[MARK_LEN..len]), Ok(r) if r.kind == ReplyKind::accepted(AcceptStat::ProgUnavail)));
    }

    fn one_export_mount_server(t) {
        let Some(one) = OneExport::new(b"/export", &[1, 0, 1, 0, 1, 0, 0, 0]) else {
            check!(t, false);
            return;
        };
        check_eq!(t, OneExport::new(b"/", &[]), None);
        check_eq!(t, OneExport::new(b"/", &[0; 65]), None);
        let Mountres3::Ok(ok) = one.mnt(DirPath(b"/export")) else {
            check!(t, false);
            return;
        };
        check_eq!(t, (ok.fhandle.0, ok.auth_flavors.as_slice()), (&[1u8, 0, 1, 0, 1, 0, 0, 0][..], &[1u32, 0][..]));
        check_eq!(t, one.mnt(DirPath(b"/")), Mountres3::Fail(Mountstat3::NOENT));

        // Through the engine: MNT, UMNT, DUMP, and NFS (another program).
        let server = Server::mount3(1024);
        let mut args = [0u8; 16];
        let n = DirPath(b"/export").encode(&mut args).unwrap_or(0);
        let mut wire = [0u8; 256];
        let mut len = 0;
        put_prog_call(&mut wire, &mut len, 1, 100005, 1, &args[..n]);
        put_prog_call(&mut wire, &mut len, 2, 100005, 3, &args[..n]);
        put_prog_call(&mut wire, &mut len, 3, 100005, 2, &[]);
        put_prog_call(&mut wire, &mut len, 4, 100003, 0, &[]);
        let mut conn = Stream::new(&server, Fixed::<0>::new());
        let mut out = [0u8; 512];
        let served = conn.serve(&server, &one, &wire[..len], &mut out);
        check_eq!(t, (served.fed.consumed, served.fed.replies, served.fed.stop), (len, 4, Stop::Drained));
        let mut at = 0;
        for xid in 1..=4 {
            let mark = Mark::decode([out[at], out[at + 1], out[at + 2], out[at + 3]]);
            let end = at + MARK_LEN + mark.len as usize;
            let Ok(reply) = decode_reply(&out[at + MARK_LEN..end]) else {
                check!(t, false);
                return;
            };
            let ReplyKind::Accepted { stat, .. } = reply.kind else {
                check!(t, false);
                return;
            };
            match (xid, stat) {
                (1, AcceptStat::Success { results }) => {
                    check!(t, matches!(Mountres3::decode(results), Ok(Mountres3::Ok(ok)) if ok.fhandle.0 == [1, 0, 1, 0, 1, 0, 0, 0]));
                }
                (2, AcceptStat::Success { results }) => check_eq!(t, results.len(), 0),
                (3, stat) => check_eq!(t, stat, AcceptStat::ProcUnavail),
                (_, stat) => check_eq!(t, stat, AcceptStat::ProgUnavail),
            }
            at = end;
        }
    }
}
