// SPDX-License-Identifier: GPL-2.0

//! `nfsstat3`: the status every NFSv3 result starts with (RFC 1813,
//! section 2.6).

/// An `nfsstat3` value.
///
/// A newtype rather than an enum so that a reply carrying a value this
/// code does not know still decodes (and encodes back) unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nfsstat3(pub u32);

impl Nfsstat3 {
    /// `NFS3_OK`: the call completed; the results follow.
    pub const OK: Nfsstat3 = Nfsstat3(0);
    /// `NFS3ERR_PERM`: not owner.
    pub const PERM: Nfsstat3 = Nfsstat3(1);
    /// `NFS3ERR_NOENT`: no such file or directory.
    pub const NOENT: Nfsstat3 = Nfsstat3(2);
    /// `NFS3ERR_IO`: a hard I/O error.
    pub const IO: Nfsstat3 = Nfsstat3(5);
    /// `NFS3ERR_NXIO`: no such device or address.
    pub const NXIO: Nfsstat3 = Nfsstat3(6);
    /// `NFS3ERR_ACCES`: permission denied.
    pub const ACCES: Nfsstat3 = Nfsstat3(13);
    /// `NFS3ERR_EXIST`: the file exists.
    pub const EXIST: Nfsstat3 = Nfsstat3(17);
    /// `NFS3ERR_XDEV`: attempt to do a cross-device hard link.
    pub const XDEV: Nfsstat3 = Nfsstat3(18);
    /// `NFS3ERR_NODEV`: no such device.
    pub const NODEV: Nfsstat3 = Nfsstat3(19);
    /// `NFS3ERR_NOTDIR`: not a directory, in a directory operation.
    pub const NOTDIR: Nfsstat3 = Nfsstat3(20);
    /// `NFS3ERR_ISDIR`: a directory, in a non-directory operation.
    pub const ISDIR: Nfsstat3 = Nfsstat3(21);
    /// `NFS3ERR_INVAL`: invalid or unsupported argument.
    pub const INVAL: Nfsstat3 = Nfsstat3(22);
    /// `NFS3ERR_FBIG`: the file would grow beyond the server's limit.
    pub const FBIG: Nfsstat3 = Nfsstat3(27);
    /// `NFS3ERR_NOSPC`: no space left on device.
    pub const NOSPC: Nfsstat3 = Nfsstat3(28);
    /// `NFS3ERR_ROFS`: read-only file system.
    pub const ROFS: Nfsstat3 = Nfsstat3(30);
    /// `NFS3ERR_MLINK`: too many hard links.
    pub const MLINK: Nfsstat3 = Nfsstat3(31);
    /// `NFS3ERR_NAMETOOLONG`: the filename is too long.
    pub const NAMETOOLONG: Nfsstat3 = Nfsstat3(63);
    /// `NFS3ERR_NOTEMPTY`: the directory is not empty.
    pub const NOTEMPTY: Nfsstat3 = Nfsstat3(66);
    /// `NFS3ERR_DQUOT`: quota exceeded.
    pub const DQUOT: Nfsstat3 = Nfsstat3(69);
    /// `NFS3ERR_STALE`: the file the handle refers to no longer exists.
    pub const STALE: Nfsstat3 = Nfsstat3(70);
    /// `NFS3ERR_REMOTE`: too many levels of remote in path.
    pub const REMOTE: Nfsstat3 = Nfsstat3(71);
    /// `NFS3ERR_BADHANDLE`: the handle failed internal consistency checks.
    pub const BADHANDLE: Nfsstat3 = Nfsstat3(10001);
    /// `NFS3ERR_NOT_SYNC`: update synchronization mismatch (SETATTR).
    pub const NOT_SYNC: Nfsstat3 = Nfsstat3(10002);
    /// `NFS3ERR_BAD_COOKIE`: READDIR or READDIRPLUS cookie is stale.
    pub const BAD_COOKIE: Nfsstat3 = Nfsstat3(10003);
    /// `NFS3ERR_NOTSUPP`: operation not supported.
    pub const NOTSUPP: Nfsstat3 = Nfsstat3(10004);
    /// `NFS3ERR_TOOSMALL`: buffer or request is too small.
    pub const TOOSMALL: Nfsstat3 = Nfsstat3(10005);
    /// `NFS3ERR_SERVERFAULT`: an error on the server with no mapping.
    pub const SERVERFAULT: Nfsstat3 = Nfsstat3(10006);
    /// `NFS3ERR_BADTYPE`: an object of a type the server does not support.
    pub const BADTYPE: Nfsstat3 = Nfsstat3(10007);
    /// `NFS3ERR_JUKEBOX`: the request will take a while; retry later.
    pub const JUKEBOX: Nfsstat3 = Nfsstat3(10008);

    /// Whether this is [`Nfsstat3::OK`].
    pub const fn is_ok(self) -> bool {
        self.0 == 0
    }
}
