// SPDX-License-Identifier: GPL-2.0

//! A small in-memory export: a root directory holding `files` regular
//! files of `file_size` bytes each, named `file0`, `file1`, ... with the
//! stable handles of [`super::handle`].
//!
//! [`Export`] is the logic only, procedure by procedure, from decoded
//! arguments to results. The bytes live in a [`Storage`] its owner
//! provides (krpc2 over pages allocated at load, the host tests and the
//! fuzzer over arrays or vectors), so the model has no allocation policy
//! and never copies a READ's data: it answers with a [`Payload`], the
//! range of the file to send.
//!
//! Choices where RFC 1813 leaves room (knfsd's where it has one):
//!
//! - a handle that is not [`HANDLE_LEN`] bytes starting with the magic is
//!   `NFS3ERR_BADHANDLE`; a well-formed one of another fsid, or of a
//!   fileid that does not exist, is `NFS3ERR_STALE`;
//! - READ and WRITE of the root directory are `NFS3ERR_ISDIR`, LOOKUP in
//!   a file `NFS3ERR_NOTDIR`, LOOKUP of a name that is not there
//!   `NFS3ERR_NOENT`; `.` and `..` in the root are the root;
//! - READ returns at most `max_io` bytes and stops at the end of the
//!   file, with `eof` set when it reaches it (knfsd's
//!   `nfsd_eof_on_read`); an offset at or past the end reads nothing,
//!   with `eof`;
//! - WRITE writes at most `max_io` bytes and says so in its `count` (a
//!   short write, as knfsd's cap at its maximum payload); the files do
//!   not grow: a write that would end past `file_size` is
//!   `NFS3ERR_FBIG` and writes nothing;
//! - WRITE always answers `FILE_SYNC`: the data is where every later
//!   READ finds it, and there is no COMMIT to wait for; the verifier is
//!   the export's, fixed at creation;
//! - WRITE's `wcc_data` has no attributes before the write, as knfsd's:
//!   writers on other connections are not excluded, so they could not be
//!   taken atomically with it, and a client that found its cached
//!   attributes there would miss another's write;
//! - no access control: the credential is not looked at, every file is
//!   mode 0644 owned by root;
//! - access times are not kept: `atime` and `ctime` are the `mtime` the
//!   storage reports;
//! - ACCESS grants, of what is asked, `READ`, `MODIFY` and `EXTEND` on a
//!   file (write permission, as knfsd's for a writable file: that a
//!   WRITE past `file_size` is `NFS3ERR_FBIG` is a limit, not a
//!   permission) and `READ` and `LOOKUP` on the root (nothing is created
//!   or removed in it), whoever asks;
//! - FSINFO gives `max_io` as the largest and preferred READ and WRITE,
//!   4096 as their multiple and READDIR's preference, `file_size` as the
//!   largest file, 1 s as the time granularity (knfsd's) and only
//!   `FSF3_HOMOGENEOUS` (no links, no symbolic links, no SETATTR; knfsd
//!   has all four); PATHCONF one link, names of [`super::MAXNAMLEN`],
//!   owners fixed, case kept, and `no_trunc` (a longer name is an error;
//!   knfsd says so only for the file systems it knows, not for a tmpfs);
//!   FSSTAT the files' bytes and count (the root included), none free;
//!   none of the three returns the object's attributes (knfsd's do not);
//! - the MOUNT protocol's MNT of `/` gives the root handle and the
//!   flavors `AUTH_UNIX` then `AUTH_NONE`; any other path is
//!   `MNT3ERR_NOENT`. The export keeps no mount list, so UMNT only
//!   answers.
//!
//! `NFS3ERR_INVAL` has no occasion here: every argument that decodes is
//! meaningful for these procedures (malformed ones are `GARBAGE_ARGS`,
//! see [`super::DecodeError`]).

use super::super::rpc::engine::Payload;
use super::super::rpc::{AUTH_NONE, AUTH_SYS};
use super::access::{Access3Args, Access3Res};
use super::access::{ACCESS3_EXTEND, ACCESS3_LOOKUP, ACCESS3_MODIFY, ACCESS3_READ};
use super::attr::{Fattr3, Ftype3, Nfstime3, WccData};
use super::fsinfo::{Fsinfo3Res, Fsinfo3ResOk, FSF3_HOMOGENEOUS};
use super::fsstat::{Fsstat3Res, Fsstat3ResOk};
use super::getattr::Getattr3Res;
use super::handle::{Handle, HANDLE_LEN, ROOT_FILEID};
use super::lookup::{Lookup3Args, Lookup3Res, Lookup3ResOk};
use super::mount::{DirPath, Flavors, Mountres3, Mountres3Ok, Mountstat3};
use super::pathconf::{Pathconf3Res, Pathconf3ResOk};
use super::read::{Read3Args, ReadHead};
use super::write::{StableHow, Write3Args, Write3Res, Write3ResOk};
use super::{Fh, Nfsstat3, MAXNAMLEN, WRITEVERFSIZE};

/// Bytes of a block, for `used`.
const BLOCK: u64 = 4096;

/// Where the export's file data lives. Files are numbered from 0; the
/// [`Export`] checks every range against the file size before it calls
/// these.
///
/// The methods take `&self`: a storage shared by concurrent connections
/// orders its writes itself (what a page cache does).
pub trait Storage {
    /// Copies `out.len()` bytes of `file` from `offset` into `out`.
    fn read(&self, file: u32, offset: u64, out: &mut [u8]);
    /// Copies `data` into `file` at `offset`, and updates the file's
    /// modification time.
    fn write(&self, file: u32, offset: u64, data: &[u8]);
    /// The last modification time of `file`.
    fn mtime(&self, file: u32) -> Nfstime3;
}

/// The shape of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The file system id, in the handles and the attributes.
    pub fsid: u32,
    /// Files in the root directory.
    pub files: u32,
    /// Bytes of each file.
    pub file_size: u64,
    /// The most bytes one READ or WRITE moves.
    pub max_io: u32,
    /// The write verifier.
    pub verf: [u8; WRITEVERFSIZE],
    /// The root directory's times.
    pub time: Nfstime3,
}

/// A READ's outcome: the head of the reply and the data to send after it,
/// or a failure (`READ3resfail`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// `NFS3_OK`.
    Ok {
        /// Everything before the data.
        head: ReadHead,
        /// The data.
        data: Payload,
    },
    /// Any other status, with the file's attributes.
    Fail {
        /// The status.
        status: Nfsstat3,
        /// The file's attributes.
        file_attributes: Option<Fattr3>,
    },
}

/// What a handle names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Object {
    Root,
    File(u32),
}

/// The export: its shape and its storage.
#[derive(Debug)]
pub struct Export<S> {
    config: Config,
    storage: S,
}

impl<S: Storage> Export<S> {
    /// An export of `config`'s shape over `storage`, which must hold
    /// `config.files` files of `config.file_size` bytes.
    pub const fn new(config: Config, storage: S) -> Export<S> {
        Export { config, storage }
    }

    /// The shape.
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// The storage.
    pub const fn storage(&self) -> &S {
        &self.storage
    }

    /// The root directory's handle.
    pub fn root(&self) -> [u8; HANDLE_LEN] {
        Handle::root(self.config.fsid).to_bytes()
    }

    /// The object `fh` names.
    fn object(&self, fh: Fh<'_>) -> Result<Object, Nfsstat3> {
        let h = Handle::parse(fh.0).ok_or(Nfsstat3::BADHANDLE)?;
        if h.fsid != self.config.fsid {
            return Err(Nfsstat3::STALE);
        }
        if h.fileid == ROOT_FILEID {
            return Ok(Object::Root);
        }
        match h.fileid.checked_sub(super::handle::FIRST_FILEID) {
            Some(i) if i < u64::from(self.config.files) => Ok(Object::File(i as u32)),
            _ => Err(Nfsstat3::STALE),
        }
    }

    /// The attributes of `obj`.
    fn attr(&self, obj: Object) -> Fattr3 {
        let (ftype, mode, nlink, size, fileid, time) = match obj {
            Object::Root => (Ftype3::DIR, 0o755, 2, BLOCK, ROOT_FILEID, self.config.time),
            Object::File(i) => {
                let fileid = Handle::file(self.config.fsid, i).fileid;
                let mtime = self.storage.mtime(i);
                (Ftype3::REG, 0o644, 1, self.config.file_size, fileid, mtime)
            }
        };
        Fattr3 {
            ftype,
            mode,
            nlink,
            uid: 0,
            gid: 0,
            size,
            used: size.div_ceil(BLOCK).saturating_mul(BLOCK),
            rdev: (0, 0),
            fsid: u64::from(self.config.fsid),
            fileid,
            atime: time,
            mtime: time,
            ctime: time,
        }
    }

    /// GETATTR.
    pub fn getattr(&self, object: Fh<'_>) -> Getattr3Res {
        match self.object(object) {
            Ok(obj) => Getattr3Res::Ok(self.attr(obj)),
            Err(status) => Getattr3Res::Fail(status),
        }
    }

    /// LOOKUP; the handle found is written into `handle`, which the
    /// result borrows.
    pub fn lookup<'h>(
        &self,
        args: &Lookup3Args<'_>,
        handle: &'h mut [u8; HANDLE_LEN],
    ) -> Lookup3Res<'h> {
        let fail = |status, dir_attributes| Lookup3Res::Fail {
            status,
            dir_attributes,
        };
        let dir = match self.object(args.what.dir) {
            Ok(Object::Root) => Object::Root,
            Ok(file) => return fail(Nfsstat3::NOTDIR, Some(self.attr(file))),
            Err(status) => return fail(status, None),
        };
        let dir_attributes = Some(self.attr(dir));
        let found = match args.what.name {
            b"." | b".." => Some(Object::Root),
            name => file_index(name)
                .filter(|&i| i < self.config.files)
                .map(Object::File),
        };
        let Some(obj) = found else {
            return fail(Nfsstat3::NOENT, dir_attributes);
        };
        *handle = match obj {
            Object::Root => Handle::root(self.config.fsid),
            Object::File(i) => Handle::file(self.config.fsid, i),
        }
        .to_bytes();
        Lookup3Res::Ok(Lookup3ResOk {
            object: Fh(handle),
            obj_attributes: Some(self.attr(obj)),
            dir_attributes,
        })
    }

    /// READ: the head of the reply and the range of the file to send.
    pub fn read(&self, args: &Read3Args<'_>) -> ReadOutcome {
        let file = match self.object(args.file) {
            Ok(Object::File(i)) => i,
            Ok(Object::Root) => {
                return ReadOutcome::Fail {
                    status: Nfsstat3::ISDIR,
                    file_attributes: Some(self.attr(Object::Root)),
                }
            }
            Err(status) => {
                return ReadOutcome::Fail {
                    status,
                    file_attributes: None,
                }
            }
        };
        let size = self.config.file_size;
        let left = size.saturating_sub(args.offset);
        let want = args.count.min(self.config.max_io);
        // At most `want`, a u32.
        let count = u64::from(want).min(left) as u32;
        let offset = args.offset.min(size);
        let head = ReadHead {
            file_attributes: Some(self.attr(Object::File(file))),
            count,
            eof: offset + u64::from(count) >= size,
        };
        let data = Payload {
            file,
            offset,
            len: count,
        };
        ReadOutcome::Ok { head, data }
    }

    /// WRITE: copies the data into the storage.
    pub fn write(&self, args: &Write3Args<'_>) -> Write3Res {
        let file = match self.object(args.file) {
            Ok(Object::File(i)) => i,
            Ok(Object::Root) => {
                let file_wcc = WccData {
                    before: None,
                    after: Some(self.attr(Object::Root)),
                };
                return Write3Res::Fail {
                    status: Nfsstat3::ISDIR,
                    file_wcc,
                };
            }
            Err(status) => {
                let file_wcc = WccData {
                    before: None,
                    after: None,
                };
                return Write3Res::Fail { status, file_wcc };
            }
        };
        let n = args.data.len().min(self.config.max_io as usize);
        let data = args.data.get(..n).unwrap_or(&[]);
        let end = args.offset.checked_add(n as u64);
        if !matches!(end, Some(end) if end <= self.config.file_size) {
            let file_wcc = WccData {
                before: None,
                after: Some(self.attr(Object::File(file))),
            };
            return Write3Res::Fail {
                status: Nfsstat3::FBIG,
                file_wcc,
            };
        }
        if !data.is_empty() {
            self.storage.write(file, args.offset, data);
        }
        Write3Res::Ok(Write3ResOk {
            file_wcc: WccData {
                before: None,
                after: Some(self.attr(Object::File(file))),
            },
            // At most `max_io`, a u32.
            count: n as u32,
            committed: StableHow::FileSync,
            verf: self.config.verf,
        })
    }
}

impl<S: Storage> Export<S> {
    /// ACCESS: of the bits asked, those allowed.
    pub fn access(&self, args: &Access3Args<'_>) -> Access3Res {
        let (obj, allowed) = match self.object(args.object) {
            Ok(Object::Root) => (Object::Root, ACCESS3_READ | ACCESS3_LOOKUP),
            Ok(file) => (file, ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND),
            Err(status) => {
                return Access3Res::Fail {
                    status,
                    obj_attributes: None,
                }
            }
        };
        Access3Res::Ok {
            obj_attributes: Some(self.attr(obj)),
            access: args.access & allowed,
        }
    }

    /// FSSTAT of the file system `fsroot` is in.
    pub fn fsstat(&self, fsroot: Fh<'_>) -> Fsstat3Res {
        if let Err(status) = self.object(fsroot) {
            return Fsstat3Res::Fail {
                status,
                obj_attributes: None,
            };
        }
        let files = u64::from(self.config.files);
        Fsstat3Res::Ok(Fsstat3ResOk {
            obj_attributes: None,
            tbytes: files.saturating_mul(self.config.file_size),
            fbytes: 0,
            abytes: 0,
            tfiles: files + 1,
            ffiles: 0,
            afiles: 0,
            invarsec: 0,
        })
    }

    /// FSINFO of the file system `fsroot` is in.
    pub fn fsinfo(&self, fsroot: Fh<'_>) -> Fsinfo3Res {
        if let Err(status) = self.object(fsroot) {
            return Fsinfo3Res::Fail {
                status,
                obj_attributes: None,
            };
        }
        let io = self.config.max_io;
        Fsinfo3Res::Ok(Fsinfo3ResOk {
            obj_attributes: None,
            rtmax: io,
            rtpref: io,
            rtmult: BLOCK as u32,
            wtmax: io,
            wtpref: io,
            wtmult: BLOCK as u32,
            dtpref: BLOCK as u32,
            maxfilesize: self.config.file_size,
            time_delta: Nfstime3 {
                seconds: 1,
                nseconds: 0,
            },
            properties: FSF3_HOMOGENEOUS,
        })
    }

    /// PATHCONF of `object`.
    pub fn pathconf(&self, object: Fh<'_>) -> Pathconf3Res {
        match self.object(object) {
            Ok(_) => Pathconf3Res::Ok(Pathconf3ResOk {
                obj_attributes: None,
                linkmax: 1,
                name_max: MAXNAMLEN as u32,
                no_trunc: true,
                chown_restricted: true,
                case_insensitive: false,
                case_preserving: true,
            }),
            Err(status) => Pathconf3Res::Fail {
                status,
                obj_attributes: None,
            },
        }
    }

    /// The MOUNT protocol's MNT of `path`; the root handle is written
    /// into `handle`, which the result borrows.
    pub fn mnt<'h>(&self, path: DirPath<'_>, handle: &'h mut [u8; HANDLE_LEN]) -> Mountres3<'h> {
        if path.0 != b"/" {
            return Mountres3::Fail(Mountstat3::NOENT);
        }
        *handle = self.root();
        match Flavors::new(&[AUTH_SYS, AUTH_NONE]) {
            Some(auth_flavors) => Mountres3::Ok(Mountres3Ok {
                fhandle: Fh(handle),
                auth_flavors,
            }),
            None => Mountres3::Fail(Mountstat3::SERVERFAULT),
        }
    }
}

/// The index `i` of a name `file<i>` (decimal, no leading zeros, no sign).
pub fn file_index(name: &[u8]) -> Option<u32> {
    let digits = name.strip_prefix(b"file")?;
    if digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    digits.iter().try_fold(0u32, |n, &d| {
        if d.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u32::from(d - b'0'))
        } else {
            None
        }
    })
}
