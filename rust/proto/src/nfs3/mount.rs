// SPDX-License-Identifier: GPL-2.0

//! The MOUNT protocol, version 3 (RFC 1813, appendix I): how a client gets
//! the root handle of an export by its path. Only what a server of one
//! export answers is here: the arguments of MNT and UMNT (a `dirpath`),
//! and MNT's results (`mountres3`). UMNT's results are void. The NFSv3
//! export answers MNT itself ([`super::Export::mnt`]); [`OneExport`] is a
//! MOUNT server on its own for an NFS server that has none.

use super::super::rpc::engine::{Procedures, Results};
use super::super::rpc::xdr::{EncodeError, OpaqueError, Reader, Writer};
use super::super::rpc::{AcceptStat, Call, AUTH_NONE, AUTH_SYS};
use super::fh::{get_u32, Fh};
use super::{res_end, DecodeError};

/// The MOUNT program number.
pub const PROGRAM: u32 = 100005;
/// The protocol version these codecs speak.
pub const VERSION: u32 = 3;

/// Procedure NULL.
pub const NULL: u32 = 0;
/// Procedure MNT: the root handle of a path.
pub const MNT: u32 = 1;
/// Procedure DUMP: the mounts the server knows of.
pub const DUMP: u32 = 2;
/// Procedure UMNT: a client forgets a mount.
pub const UMNT: u32 = 3;
/// Procedure UMNTALL: a client forgets all its mounts.
pub const UMNTALL: u32 = 4;
/// Procedure EXPORT: the server's export list.
pub const EXPORT: u32 = 5;

/// The longest path (`MNTPATHLEN`).
pub const MNTPATHLEN: usize = 1024;
/// The most flavors a [`Flavors`] holds (Linux's `NFS_MAX_SECFLAVORS`;
/// the protocol sets no bound).
pub const MAX_FLAVORS: usize = 12;

/// A `mountstat3` value. A newtype, so that any value decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mountstat3(pub u32);

impl Mountstat3 {
    /// `MNT3_OK`.
    pub const OK: Mountstat3 = Mountstat3(0);
    /// `MNT3ERR_PERM`: not owner.
    pub const PERM: Mountstat3 = Mountstat3(1);
    /// `MNT3ERR_NOENT`: no such file or directory.
    pub const NOENT: Mountstat3 = Mountstat3(2);
    /// `MNT3ERR_IO`: I/O error.
    pub const IO: Mountstat3 = Mountstat3(5);
    /// `MNT3ERR_ACCES`: permission denied.
    pub const ACCES: Mountstat3 = Mountstat3(13);
    /// `MNT3ERR_NOTDIR`: not a directory.
    pub const NOTDIR: Mountstat3 = Mountstat3(20);
    /// `MNT3ERR_INVAL`: invalid argument.
    pub const INVAL: Mountstat3 = Mountstat3(22);
    /// `MNT3ERR_NAMETOOLONG`: the path is too long.
    pub const NAMETOOLONG: Mountstat3 = Mountstat3(63);
    /// `MNT3ERR_NOTSUPP`: operation not supported.
    pub const NOTSUPP: Mountstat3 = Mountstat3(10004);
    /// `MNT3ERR_SERVERFAULT`: a failure on the server.
    pub const SERVERFAULT: Mountstat3 = Mountstat3(10006);
}

/// The arguments of MNT and UMNT: a `dirpath`, the path of an export on
/// the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirPath<'a>(pub &'a [u8]);

impl<'a> DirPath<'a> {
    /// Decodes the arguments at the start of `args`: 0 to [`MNTPATHLEN`]
    /// bytes (bytes after them are ignored).
    pub fn decode(args: &'a [u8]) -> Result<DirPath<'a>, DecodeError> {
        let mut r = Reader::new(args);
        match r.opaque(MNTPATHLEN) {
            Ok(path) => Ok(DirPath(path)),
            Err(OpaqueError::Truncated) => Err(DecodeError::Truncated),
            Err(OpaqueError::TooLong { len }) => Err(DecodeError::BadPath { len }),
        }
    }

    /// Encodes the arguments into `out`; their length. Fails if the path
    /// is over [`MNTPATHLEN`].
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        w.opaque(self.0, MNTPATHLEN)?;
        w.finish()
    }
}

/// The credential flavors a server accepts on an export (`int
/// auth_flavors<>`), at most [`MAX_FLAVORS`], best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flavors {
    list: [u32; MAX_FLAVORS],
    len: usize,
}

impl Flavors {
    /// The flavors of `list`, or `None` if it has more than
    /// [`MAX_FLAVORS`].
    pub const fn new(list: &[u32]) -> Option<Flavors> {
        if list.len() > MAX_FLAVORS {
            return None;
        }
        let mut flavors = Flavors {
            list: [0; MAX_FLAVORS],
            len: list.len(),
        };
        let mut i = 0;
        while i < list.len() {
            flavors.list[i] = list[i];
            i += 1;
        }
        Some(flavors)
    }

    /// The flavors.
    pub fn as_slice(&self) -> &[u32] {
        self.list.get(..self.len).unwrap_or(&[])
    }
}

/// `mountres3_ok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mountres3Ok<'a> {
    /// The export's root handle (`fhandle3`, as an `nfs_fh3`).
    pub fhandle: Fh<'a>,
    /// The flavors it accepts.
    pub auth_flavors: Flavors,
}

/// `mountres3`, MNT's results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mountres3<'a> {
    /// `MNT3_OK`.
    Ok(Mountres3Ok<'a>),
    /// Any other status (never [`Mountstat3::OK`]); nothing follows it.
    Fail(Mountstat3),
}

impl<'a> Mountres3<'a> {
    /// Decodes a whole result; the handle borrows from `res`. A list of
    /// more than [`MAX_FLAVORS`] flavors is [`DecodeError::Truncated`] if
    /// it does not fit in `res`, else [`DecodeError::TooManyFlavors`].
    pub fn decode(res: &'a [u8]) -> Result<Mountres3<'a>, DecodeError> {
        let mut r = Reader::new(res);
        let decoded = match Mountstat3(get_u32(&mut r)?) {
            Mountstat3::OK => {
                let fhandle = Fh::get(&mut r)?;
                let n = get_u32(&mut r)?;
                let mut auth_flavors = Flavors {
                    list: [0; MAX_FLAVORS],
                    len: 0,
                };
                for i in 0..n {
                    let flavor = get_u32(&mut r)?;
                    let slot = auth_flavors.list.get_mut(i as usize);
                    *slot.ok_or(DecodeError::TooManyFlavors { len: n })? = flavor;
                    auth_flavors.len += 1;
                }
                Mountres3::Ok(Mountres3Ok {
                    fhandle,
                    auth_flavors,
                })
            }
            status => Mountres3::Fail(status),
        };
        res_end(&r, decoded)
    }

    /// Writes the result; fails if the handle is over [`super::FHSIZE`].
    pub fn put(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        match self {
            Mountres3::Ok(ok) => {
                w.u32(Mountstat3::OK.0);
                ok.fhandle.put(w)?;
                let flavors = ok.auth_flavors.as_slice();
                // At most MAX_FLAVORS: the cast cannot truncate.
                w.u32(flavors.len() as u32);
                for &flavor in flavors {
                    w.u32(flavor);
                }
            }
            Mountres3::Fail(status) => w.u32(status.0),
        }
        Ok(())
    }

    /// Encodes the result into `out`; its length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        self.put(&mut w)?;
        w.finish()
    }
}

/// A MOUNT server of one export whose root handle it is given (a stand-in
/// for `rpc.mountd` in front of a server that runs none, as knfsd set up
/// by hand): MNT of its path gives the handle and the flavors `AUTH_UNIX`
/// then `AUTH_NONE`, of any other path `MNT3ERR_NOENT`; UMNT answers;
/// every other procedure but NULL is `PROC_UNAVAIL`. Run it with
/// [`Server::mount3`](super::super::rpc::engine::Server::mount3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OneExport {
    path: [u8; MNTPATHLEN],
    path_len: usize,
    root: [u8; super::FHSIZE],
    root_len: usize,
}

impl OneExport {
    /// The export at `path` with root handle `root`, or `None` if the path
    /// is over [`MNTPATHLEN`] or the handle empty or over
    /// [`super::FHSIZE`].
    pub fn new(path: &[u8], root: &[u8]) -> Option<OneExport> {
        if path.len() > MNTPATHLEN || root.is_empty() || root.len() > super::FHSIZE {
            return None;
        }
        let mut e = OneExport {
            path: [0; MNTPATHLEN],
            path_len: path.len(),
            root: [0; super::FHSIZE],
            root_len: root.len(),
        };
        e.path.get_mut(..path.len())?.copy_from_slice(path);
        e.root.get_mut(..root.len())?.copy_from_slice(root);
        Some(e)
    }

    /// MNT of `path`.
    pub fn mnt(&self, path: DirPath<'_>) -> Mountres3<'_> {
        let ours = self.path.get(..self.path_len).unwrap_or(&[]);
        let flavors = Flavors::new(&[AUTH_SYS, AUTH_NONE]);
        match (path.0 == ours, flavors) {
            (true, Some(auth_flavors)) => Mountres3::Ok(Mountres3Ok {
                fhandle: Fh(self.root.get(..self.root_len).unwrap_or(&[])),
                auth_flavors,
            }),
            _ => Mountres3::Fail(Mountstat3::NOENT),
        }
    }
}

impl Procedures for OneExport {
    /// MNT's: status, the longest handle, two flavors.
    const MAX_RESULTS: usize = 4 + 4 + super::FHSIZE + 4 + 2 * 4;

    fn run(&self, call: &Call<'_>, results: &mut [u8]) -> Result<Results, AcceptStat<'static>> {
        let mut w = Writer::new(results);
        let path = DirPath::decode(call.args).map_err(|_| AcceptStat::GarbageArgs);
        match call.procedure {
            MNT => self
                .mnt(path?)
                .put(&mut w)
                .map_err(|_| AcceptStat::SystemErr)?,
            UMNT => drop(path?),
            _ => return Err(AcceptStat::ProcUnavail),
        }
        let len = match w.finish() {
            Ok(len) | Err(EncodeError::BufferTooSmall { need: len }) => len,
            Err(EncodeError::TooLong { .. }) => return Err(AcceptStat::SystemErr),
        };
        Ok(Results { len, payload: None })
    }
}
