// SPDX-License-Identifier: GPL-2.0

//! NFSv3 calls with arguments (RFC 1813): GETATTR, LOOKUP, READ and WRITE
//! of one file, with the codecs of `ksf_proto::nfs3`.
//!
//! At setup ([`setup`]) one synchronous TCP connection learns the file: a
//! LOOKUP of `file<N>` in the root directory (the root handle is the
//! export's documented `Handle::root(fsid)`, `--root-fh`, or what the
//! MOUNT protocol's MNT of `--export` returns), then a
//! GETATTR of the handle found, which must be a regular file. The
//! [`Plan`] that results gives every call its arguments (READ and WRITE:
//! `-l` bytes at an offset spread over the file, see [`Plan::offset`]) and
//! checks every reply against what the call asked for.
//!
//! WRITE sends a deterministic pattern that depends only on the byte's
//! position in the file ([`fill_pattern`]), so a later run's READ with
//! `--verify-pattern` checks the data byte for byte.

use crate::call::encode_message;
use crate::opts::Opts;
use ksf_proto::nfs3::{self, Fattr3, Fh, Ftype3, Handle, Nfsstat3};
use ksf_proto::nfs3::{DirOpArgs, Getattr3Args, Getattr3Res, Lookup3Args, Lookup3Res};
use ksf_proto::nfs3::{Read3Args, Read3Res, StableHow, Write3Args, Write3Res};
use ksf_proto::rm::{Mark, MARK_LEN};
use ksf_proto::rpc::xdr::{Reader, Writer};
use ksf_proto::rpc::{decode_reply, AcceptStat, ReplyKind};
use ksf_tools::jobs::connect_stream;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The procedure names `--proc` takes, with their numbers.
pub const NAMES: [(&str, u32); 5] = [
    ("null", nfs3::NULL),
    ("getattr", nfs3::GETATTR),
    ("lookup", nfs3::LOOKUP),
    ("read", nfs3::READ),
    ("write", nfs3::WRITE),
];

/// The largest READ or WRITE count (`-l`): 1 MiB, knfsd's and krpc2's
/// largest payload.
pub const MAX_IO: u64 = 1 << 20;

/// The name of procedure `n`, if `--proc` knows one.
pub fn name(n: u32) -> Option<&'static str> {
    NAMES.iter().find(|&&(_, p)| p == n).map(|&(s, _)| s)
}

/// Whether `o` asks for NFSv3 calls with arguments (GETATTR, LOOKUP, READ,
/// WRITE of program 100003 version 3).
pub fn with_args(o: &Opts) -> bool {
    o.prog == nfs3::PROGRAM
        && o.vers == nfs3::VERSION
        && matches!(
            o.procedure,
            nfs3::GETATTR | nfs3::LOOKUP | nfs3::READ | nfs3::WRITE
        )
}

/// Whether `o`'s calls move file data (READ, WRITE).
pub fn moves_data(o: &Opts) -> bool {
    with_args(o) && matches!(o.procedure, nfs3::READ | nfs3::WRITE)
}

/// Byte `p` of a file written with the pattern: byte `p mod 8` of a
/// 64-bit big-endian word that mixes `p - p mod 8`.
fn word(p: u64) -> [u8; 8] {
    (p.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x6b73_6633_7061_7474).to_be_bytes()
}

/// Fills `out` with the pattern of the file's bytes from `offset`.
pub fn fill_pattern(offset: u64, out: &mut [u8]) {
    if offset.is_multiple_of(8) {
        let mut p = offset;
        let mut chunks = out.chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&word(p));
            p += 8;
        }
        let rest = chunks.into_remainder();
        let n = rest.len();
        rest.copy_from_slice(&word(p)[..n]);
        return;
    }
    for (i, b) in out.iter_mut().enumerate() {
        let p = offset + i as u64;
        *b = word(p & !7)[(p & 7) as usize];
    }
}

/// The index of the first byte of `data` (read from `offset`) that is not
/// the pattern's.
pub fn pattern_mismatch(offset: u64, data: &[u8]) -> Option<usize> {
    let mut want = [0u8; 4096];
    let mut at = 0;
    for chunk in data.chunks(want.len()) {
        let w = &mut want[..chunk.len()];
        fill_pattern(offset + at as u64, w);
        if let Some(i) = chunk.iter().zip(w.iter()).position(|(a, b)| a != b) {
            return Some(at + i);
        }
        at += chunk.len();
    }
    None
}

/// What every call of a run asks for and how its reply is checked.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The procedure.
    pub procedure: u32,
    /// The root directory's handle.
    pub root: Vec<u8>,
    /// The file's name in it and its handle.
    pub name: String,
    pub fh: Vec<u8>,
    /// The file's size and fileid (from GETATTR).
    pub size: u64,
    pub fileid: u64,
    /// READ and WRITE: bytes per call, and the number of `len`-byte
    /// slots of the area the offsets cover.
    pub len: u32,
    pub slots: u64,
    /// READ: check the data against the pattern.
    pub verify_pattern: bool,
}

/// A failed check: what was wrong.
type Check<T> = Result<T, String>;

fn status(s: Nfsstat3) -> String {
    let name = match s {
        Nfsstat3::PERM => "NFS3ERR_PERM",
        Nfsstat3::NOENT => "NFS3ERR_NOENT",
        Nfsstat3::IO => "NFS3ERR_IO",
        Nfsstat3::ACCES => "NFS3ERR_ACCES",
        Nfsstat3::NOTDIR => "NFS3ERR_NOTDIR",
        Nfsstat3::ISDIR => "NFS3ERR_ISDIR",
        Nfsstat3::INVAL => "NFS3ERR_INVAL",
        Nfsstat3::FBIG => "NFS3ERR_FBIG",
        Nfsstat3::STALE => "NFS3ERR_STALE",
        Nfsstat3::BADHANDLE => "NFS3ERR_BADHANDLE",
        Nfsstat3::NOTSUPP => "NFS3ERR_NOTSUPP",
        Nfsstat3::SERVERFAULT => "NFS3ERR_SERVERFAULT",
        _ => "nfsstat3",
    };
    format!("{name} ({})", s.0)
}

impl Plan {
    /// The offset of call `seq` (READ, WRITE): the slots in turn,
    /// `(seq mod slots) * len`, so that `slots` calls cover the area.
    pub fn offset(&self, seq: u64) -> u64 {
        (seq % self.slots) * u64::from(self.len)
    }

    /// The arguments of a call at offset 0 (WRITE: zero data), and where
    /// in them the offset is (READ, WRITE; the data follows it by 16
    /// bytes).
    pub fn args(&self) -> Check<(Vec<u8>, usize)> {
        let fh = Fh(&self.fh);
        let zeros = vec![0u8; self.len as usize];
        let mut out = vec![0u8; 64 + nfs3::FHSIZE + nfs3::MAXNAMLEN + zeros.len()];
        let n = match self.procedure {
            nfs3::GETATTR => Getattr3Args { object: fh }.encode(&mut out),
            nfs3::LOOKUP => Lookup3Args {
                what: DirOpArgs {
                    dir: Fh(&self.root),
                    name: self.name.as_bytes(),
                },
            }
            .encode(&mut out),
            nfs3::READ => Read3Args {
                file: fh,
                offset: 0,
                count: self.len,
            }
            .encode(&mut out),
            _ => Write3Args {
                file: fh,
                offset: 0,
                count: self.len,
                stable: StableHow::Unstable,
                data: &zeros,
            }
            .encode(&mut out),
        }
        .map_err(|e| format!("encoding the arguments: {e}"))?;
        out.truncate(n);
        Ok((out, 4 + self.fh.len().next_multiple_of(4)))
    }

    /// Checks a file's attributes, where a reply has them.
    fn attrs(&self, a: &Option<Fattr3>) -> Check<()> {
        let Some(a) = a else { return Ok(()) };
        if a.ftype != Ftype3::REG {
            return Err(format!(
                "attributes of type {}, expected 1 (REG)",
                a.ftype.0
            ));
        }
        if a.size != self.size || a.fileid != self.fileid {
            return Err(format!(
                "attributes of size {} fileid {}, expected size {} fileid {}",
                a.size, a.fileid, self.size, self.fileid
            ));
        }
        Ok(())
    }

    /// Checks the results of call `seq`; the payload bytes it moved.
    pub fn check(&self, seq: u64, results: &[u8]) -> Check<u64> {
        let bad = |e: nfs3::DecodeError| format!("malformed results: {e}");
        let failed = |s: Nfsstat3| format!("{}, expected NFS3_OK", status(s));
        match self.procedure {
            nfs3::GETATTR => match Getattr3Res::decode(results).map_err(bad)? {
                Getattr3Res::Ok(a) => self.attrs(&Some(a)).map(|_| 0),
                Getattr3Res::Fail(s) => Err(failed(s)),
            },
            nfs3::LOOKUP => match Lookup3Res::decode(results).map_err(bad)? {
                Lookup3Res::Ok(ok) if ok.object.0 != self.fh.as_slice() => Err(format!(
                    "LOOKUP of {} found another handle than at setup",
                    self.name
                )),
                Lookup3Res::Ok(ok) => self.attrs(&ok.obj_attributes).map(|_| 0),
                Lookup3Res::Fail { status: s, .. } => Err(failed(s)),
            },
            nfs3::READ => self.check_read(seq, results),
            _ => match Write3Res::decode(results).map_err(bad)? {
                Write3Res::Ok(ok) if ok.count != self.len => Err(format!(
                    "WRITE of {} bytes at {} wrote {} (the server's largest WRITE may be \
                     below -l)",
                    self.len,
                    self.offset(seq),
                    ok.count
                )),
                Write3Res::Ok(ok) => self.attrs(&ok.file_wcc.after).map(|_| u64::from(ok.count)),
                Write3Res::Fail { status: s, .. } => Err(failed(s)),
            },
        }
    }

    fn check_read(&self, seq: u64, results: &[u8]) -> Check<u64> {
        let res = Read3Res::decode(results).map_err(|e| format!("malformed results: {e}"))?;
        let (head, data) = match res {
            Read3Res::Ok { head, data } => (head, data),
            Read3Res::Fail { status: s, .. } => {
                return Err(format!("{}, expected NFS3_OK", status(s)))
            }
        };
        self.attrs(&head.file_attributes)?;
        let offset = self.offset(seq);
        let eof = offset + u64::from(self.len) >= self.size;
        if head.count != self.len || head.eof != eof {
            let short = head.count < self.len && !head.eof;
            return Err(format!(
                "READ of {} bytes at {offset}: count {} eof {}, expected count {} eof {eof}{}",
                self.len,
                head.count,
                head.eof,
                self.len,
                if short {
                    " (a short read: the server's largest READ may be below -l)"
                } else {
                    ""
                }
            ));
        }
        if let Some(i) = self
            .verify_pattern
            .then(|| pattern_mismatch(offset, data))
            .flatten()
        {
            let at = offset + i as u64;
            let mut want = [0u8; 1];
            fill_pattern(at, &mut want);
            return Err(format!(
                "READ at {offset}: byte {at} of the file is {:#04x}, the pattern has {:#04x}",
                data[i], want[0]
            ));
        }
        Ok(u64::from(head.count))
    }
}

/// The MOUNT program, its version 3 and procedure MNT.
const MOUNT_PROGRAM: u32 = 100005;
const MOUNT_VERSION: u32 = 3;
const MNT: u32 = 1;
/// The longest path MNT takes (`MNTPATHLEN`).
const MNTPATHLEN: usize = 1024;

/// The name of a `mountstat3`.
fn mountstat(s: u32) -> String {
    let name = match s {
        1 => "MNT3ERR_PERM",
        2 => "MNT3ERR_NOENT",
        5 => "MNT3ERR_IO",
        13 => "MNT3ERR_ACCES",
        20 => "MNT3ERR_NOTDIR",
        22 => "MNT3ERR_INVAL",
        63 => "MNT3ERR_NAMETOOLONG",
        10004 => "MNT3ERR_NOTSUPP",
        10006 => "MNT3ERR_SERVERFAULT",
        _ => "mountstat3",
    };
    format!("{name} ({s})")
}

/// The root handle of `path` from the MOUNT protocol's MNT (version 3,
/// TCP) at `addr`.
fn mount(o: &Opts, addr: SocketAddr, path: &str) -> Check<Vec<u8>> {
    let timeout = Duration::from_millis(o.timeout_ms);
    let mut s = connect_stream(addr, o.transport(), timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_write_timeout(Some(timeout));
    let mut args = vec![0u8; 4 + MNTPATHLEN + 4];
    let mut w = Writer::new(&mut args);
    w.opaque(path.as_bytes(), MNTPATHLEN)
        .map_err(|_| format!("path of {} bytes, over {MNTPATHLEN}", path.len()))?;
    let n = w.finish().map_err(|e| e.to_string())?;
    let prog = (MOUNT_PROGRAM, MOUNT_VERSION);
    let res = call(&mut s, o, prog, 1, MNT, &args[..n])?;
    let mut r = Reader::new(&res);
    let malformed = || "malformed MNT results".to_string();
    match r.u32().ok_or_else(malformed)? {
        0 => {}
        st => return Err(mountstat(st)),
    }
    let fh = r.opaque(nfs3::FHSIZE).map_err(|_| malformed())?;
    let flavors = r.u32().ok_or_else(malformed)?;
    for _ in 0..flavors {
        r.u32().ok_or_else(malformed)?;
    }
    if fh.is_empty() || r.remaining() != 0 {
        return Err(malformed());
    }
    Ok(fh.to_vec())
}

/// One synchronous call on `s`: sends procedure `procedure` of program
/// `prog` with `args` and returns the results of its accepted SUCCESS
/// reply.
fn call(
    s: &mut TcpStream,
    o: &Opts,
    prog: (u32, u32),
    xid: u32,
    procedure: u32,
    args: &[u8],
) -> Check<Vec<u8>> {
    let msg = encode_message(o, prog, xid, procedure, args)?;
    let mark = Mark::new(msg.len(), true).ok_or("call too long")?;
    let io = |e: std::io::Error| match e.kind() {
        // The socket's timeout (-t) ran out.
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            format!("no answer within {} ms (-t)", o.timeout_ms)
        }
        _ => format!("{e}"),
    };
    s.write_all(&mark.encode()).map_err(io)?;
    s.write_all(&msg).map_err(io)?;
    let mut rec = Vec::new();
    loop {
        let mut m = [0u8; MARK_LEN];
        s.read_exact(&mut m).map_err(io)?;
        let mark = Mark::decode(m);
        if rec.len() + mark.len as usize > 2 * MAX_IO as usize {
            return Err(format!("reply record over {} bytes", 2 * MAX_IO));
        }
        let at = rec.len();
        rec.resize(at + mark.len as usize, 0);
        s.read_exact(&mut rec[at..]).map_err(io)?;
        if mark.last {
            break;
        }
    }
    let reply = decode_reply(&rec).map_err(|e| format!("malformed reply: {e}"))?;
    if reply.xid != xid {
        return Err(format!(
            "reply xid {:#010x}, expected {xid:#010x}",
            reply.xid
        ));
    }
    match reply.kind {
        ReplyKind::Accepted {
            stat: AcceptStat::Success { results },
            ..
        } => Ok(results.to_vec()),
        kind => Err(format!(
            "expected an accepted SUCCESS reply, got {}",
            crate::window::describe(&kind)
        )),
    }
}

/// Learns the file `o` names (LOOKUP, then GETATTR, on one connection to
/// `addr`) and returns the run's plan; `None` for calls without NFSv3
/// arguments.
pub fn setup(o: &Opts, addr: SocketAddr) -> Result<Option<Plan>, String> {
    if !with_args(o) {
        return Ok(None);
    }
    let fail = |what: &str, e: String| format!("setup: {what}: {e}");
    let timeout = Duration::from_millis(o.timeout_ms);
    let mut s = connect_stream(addr, o.transport(), timeout)
        .map_err(|e| fail(&format!("cannot connect to {addr}"), e.to_string()))?;
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_write_timeout(Some(timeout));
    let root = match (&o.root_fh, &o.export) {
        (Some(fh), _) => fh.clone(),
        (None, Some(path)) => {
            let at = SocketAddr::new(addr.ip(), o.mount_port.unwrap_or(addr.port()));
            mount(o, at, path).map_err(|e| fail(&format!("MNT of {path} at {at}"), e))?
        }
        (None, None) => Handle::root(o.fsid).to_bytes().to_vec(),
    };
    let name = format!("file{}", o.file);
    let mut args = vec![0u8; 8 + nfs3::FHSIZE + 260];
    let what = DirOpArgs {
        dir: Fh(&root),
        name: name.as_bytes(),
    };
    let n = Lookup3Args { what }
        .encode(&mut args)
        .map_err(|e| fail("LOOKUP", e.to_string()))?;
    let lookup = format!("LOOKUP of {name} in the root directory");
    let nfs = (nfs3::PROGRAM, nfs3::VERSION);
    let res = call(&mut s, o, nfs, 1, nfs3::LOOKUP, &args[..n]).map_err(|e| fail(&lookup, e))?;
    let fh = match Lookup3Res::decode(&res).map_err(|e| fail(&lookup, e.to_string()))? {
        Lookup3Res::Ok(ok) => ok.object.0.to_vec(),
        Lookup3Res::Fail { status: st, .. } => return Err(fail(&lookup, status(st))),
    };
    let n = Getattr3Args { object: Fh(&fh) }
        .encode(&mut args)
        .map_err(|e| fail("GETATTR", e.to_string()))?;
    let getattr = format!("GETATTR of {name}");
    let res = call(&mut s, o, nfs, 2, nfs3::GETATTR, &args[..n]).map_err(|e| fail(&getattr, e))?;
    let attr = match Getattr3Res::decode(&res).map_err(|e| fail(&getattr, e.to_string()))? {
        Getattr3Res::Ok(a) => a,
        Getattr3Res::Fail(st) => return Err(fail(&getattr, status(st))),
    };
    if attr.ftype != Ftype3::REG {
        let e = format!("type {}, not a regular file", attr.ftype.0);
        return Err(fail(&getattr, e));
    }
    let area = o.file_size.unwrap_or(attr.size);
    if area > attr.size {
        return Err(format!(
            "--file-size {area} is over the size of {name}, {} bytes",
            attr.size
        ));
    }
    let len = if moves_data(o) { o.len } else { 1 };
    if u64::from(len) > area {
        return Err(format!(
            "-l {len}: {name} has only {area} bytes to read or write"
        ));
    }
    Ok(Some(Plan {
        procedure: o.procedure,
        root,
        name,
        fh,
        size: attr.size,
        fileid: attr.fileid,
        len,
        slots: area / u64::from(len),
        verify_pattern: o.verify_pattern,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_depends_on_the_position_only() {
        let mut a = vec![0u8; 100];
        fill_pattern(24, &mut a);
        let mut b = vec![0u8; 37];
        fill_pattern(24 + 13, &mut b);
        assert_eq!(&a[13..50], &b[..]);
        assert_eq!(pattern_mismatch(24, &a), None);
        assert_eq!(pattern_mismatch(37, &b), None);
        a[70] ^= 1;
        assert_eq!(pattern_mismatch(24, &a), Some(70));
        // Not a constant: the words differ.
        assert_ne!(a[..8], a[8..16]);
        let big = {
            let mut v = vec![0u8; 10_000];
            fill_pattern(8192, &mut v);
            v
        };
        assert_eq!(pattern_mismatch(8192, &big), None);
        assert_eq!(pattern_mismatch(8200, &big), Some(0));
    }

    #[test]
    fn offsets_cover_the_area() {
        let plan = Plan {
            procedure: nfs3::READ,
            root: vec![1],
            name: "file0".into(),
            fh: vec![2; 16],
            size: 10_000,
            fileid: 2,
            len: 4096,
            slots: 2,
            verify_pattern: false,
        };
        let offs: Vec<u64> = (0..4).map(|s| plan.offset(s)).collect();
        assert_eq!(offs, [0, 4096, 0, 4096]);
        let (args, at) = plan.args().unwrap();
        assert_eq!(at, 20);
        let a = Read3Args::decode(&args).unwrap();
        assert_eq!((a.offset, a.count, a.file.0), (0, 4096, &[2u8; 16][..]));
    }
}
