// SPDX-License-Identifier: GPL-2.0

//! File attributes (RFC 1813, section 2.6): `fattr3`, the optional
//! `post_op_attr`, and the weak cache consistency data of a change
//! (`wcc_attr`, `pre_op_attr`, `wcc_data`).
//!
//! An optional value (`post_op_attr`, `pre_op_attr`) is an [`Option`]: a
//! `bool` on the wire, then the value when it is true.

use super::super::rpc::xdr::{Reader, Writer};
use super::fh::{get_bool, get_u32, get_u64};
use super::DecodeError;

/// Bytes of an encoded [`Fattr3`]: 21 words.
pub const FATTR3_LEN: usize = 84;
/// Bytes of an encoded `post_op_attr` holding attributes.
pub const POST_OP_ATTR_LEN: usize = 4 + FATTR3_LEN;
/// Bytes of an encoded [`WccAttr`].
pub const WCC_ATTR_LEN: usize = 24;
/// Bytes of an encoded [`WccData`] with both parts present.
pub const WCC_DATA_LEN: usize = 4 + WCC_ATTR_LEN + POST_OP_ATTR_LEN;

/// A file type (`ftype3`). A newtype, so that any value decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ftype3(pub u32);

impl Ftype3 {
    /// `NF3REG`: a regular file.
    pub const REG: Ftype3 = Ftype3(1);
    /// `NF3DIR`: a directory.
    pub const DIR: Ftype3 = Ftype3(2);
    /// `NF3BLK`: a block special device.
    pub const BLK: Ftype3 = Ftype3(3);
    /// `NF3CHR`: a character special device.
    pub const CHR: Ftype3 = Ftype3(4);
    /// `NF3LNK`: a symbolic link.
    pub const LNK: Ftype3 = Ftype3(5);
    /// `NF3SOCK`: a socket.
    pub const SOCK: Ftype3 = Ftype3(6);
    /// `NF3FIFO`: a named pipe.
    pub const FIFO: Ftype3 = Ftype3(7);
}

/// A time (`nfstime3`): seconds and nanoseconds since the epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Nfstime3 {
    /// Seconds.
    pub seconds: u32,
    /// Nanoseconds.
    pub nseconds: u32,
}

impl Nfstime3 {
    fn get(r: &mut Reader<'_>) -> Result<Nfstime3, DecodeError> {
        let seconds = get_u32(r)?;
        let nseconds = get_u32(r)?;
        Ok(Nfstime3 { seconds, nseconds })
    }

    fn put(&self, w: &mut Writer<'_>) {
        w.u32(self.seconds);
        w.u32(self.nseconds);
    }
}

/// File attributes (`fattr3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fattr3 {
    /// The type.
    pub ftype: Ftype3,
    /// Protection mode bits (`mode3`).
    pub mode: u32,
    /// Hard links.
    pub nlink: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
    /// Bytes of disk space the file uses.
    pub used: u64,
    /// Device numbers (`specdata3`: major, minor) of a device file.
    pub rdev: (u32, u32),
    /// The file system.
    pub fsid: u64,
    /// The file within its file system.
    pub fileid: u64,
    /// Last access.
    pub atime: Nfstime3,
    /// Last modification of the data.
    pub mtime: Nfstime3,
    /// Last change of the attributes.
    pub ctime: Nfstime3,
}

impl Fattr3 {
    /// Reads the attributes.
    pub fn get(r: &mut Reader<'_>) -> Result<Fattr3, DecodeError> {
        Ok(Fattr3 {
            ftype: Ftype3(get_u32(r)?),
            mode: get_u32(r)?,
            nlink: get_u32(r)?,
            uid: get_u32(r)?,
            gid: get_u32(r)?,
            size: get_u64(r)?,
            used: get_u64(r)?,
            rdev: (get_u32(r)?, get_u32(r)?),
            fsid: get_u64(r)?,
            fileid: get_u64(r)?,
            atime: Nfstime3::get(r)?,
            mtime: Nfstime3::get(r)?,
            ctime: Nfstime3::get(r)?,
        })
    }

    /// Writes the attributes ([`FATTR3_LEN`] bytes).
    pub fn put(&self, w: &mut Writer<'_>) {
        for word in [self.ftype.0, self.mode, self.nlink, self.uid, self.gid] {
            w.u32(word);
        }
        w.u64(self.size);
        w.u64(self.used);
        w.u32(self.rdev.0);
        w.u32(self.rdev.1);
        w.u64(self.fsid);
        w.u64(self.fileid);
        self.atime.put(w);
        self.mtime.put(w);
        self.ctime.put(w);
    }
}

/// Reads a `post_op_attr`.
pub fn get_post_op_attr(r: &mut Reader<'_>) -> Result<Option<Fattr3>, DecodeError> {
    Ok(match get_bool(r)? {
        true => Some(Fattr3::get(r)?),
        false => None,
    })
}

/// Writes a `post_op_attr`.
pub fn put_post_op_attr(w: &mut Writer<'_>, attr: &Option<Fattr3>) {
    match attr {
        Some(a) => {
            w.u32(1);
            a.put(w);
        }
        None => w.u32(0),
    }
}

/// The attributes a client checks its cache with (`wcc_attr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WccAttr {
    /// Size in bytes.
    pub size: u64,
    /// Last modification of the data.
    pub mtime: Nfstime3,
    /// Last change of the attributes.
    pub ctime: Nfstime3,
}

/// Weak cache consistency data (`wcc_data`): the attributes before and
/// after an operation that changes an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WccData {
    /// `pre_op_attr`: before.
    pub before: Option<WccAttr>,
    /// `post_op_attr`: after.
    pub after: Option<Fattr3>,
}

impl WccData {
    /// Reads the data.
    pub fn get(r: &mut Reader<'_>) -> Result<WccData, DecodeError> {
        let before = match get_bool(r)? {
            true => Some(WccAttr {
                size: get_u64(r)?,
                mtime: Nfstime3::get(r)?,
                ctime: Nfstime3::get(r)?,
            }),
            false => None,
        };
        let after = get_post_op_attr(r)?;
        Ok(WccData { before, after })
    }

    /// Writes the data.
    pub fn put(&self, w: &mut Writer<'_>) {
        match &self.before {
            Some(b) => {
                w.u32(1);
                w.u64(b.size);
                b.mtime.put(w);
                b.ctime.put(w);
            }
            None => w.u32(0),
        }
        put_post_op_attr(w, &self.after);
    }
}
