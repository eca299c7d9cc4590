// SPDX-License-Identifier: GPL-2.0

//! ACCESS (procedure 4): a handle and the access a client wants in, the
//! part of it the server would allow out.

use super::super::rpc::xdr::{EncodeError, Reader, Writer};
use super::attr::{get_post_op_attr, put_post_op_attr, Fattr3};
use super::fh::{get_u32, Fh};
use super::{res_end, DecodeError, Nfsstat3};

/// `ACCESS3_READ`: read data or a directory's entries.
pub const ACCESS3_READ: u32 = 0x0001;
/// `ACCESS3_LOOKUP`: look up a name in a directory.
pub const ACCESS3_LOOKUP: u32 = 0x0002;
/// `ACCESS3_MODIFY`: rewrite existing data or entries.
pub const ACCESS3_MODIFY: u32 = 0x0004;
/// `ACCESS3_EXTEND`: write new data or add entries.
pub const ACCESS3_EXTEND: u32 = 0x0008;
/// `ACCESS3_DELETE`: delete an entry of a directory.
pub const ACCESS3_DELETE: u32 = 0x0010;
/// `ACCESS3_EXECUTE`: execute a file.
pub const ACCESS3_EXECUTE: u32 = 0x0020;

/// `ACCESS3args`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access3Args<'a> {
    /// The object.
    pub object: Fh<'a>,
    /// The `ACCESS3_*` bits asked for (others are kept and never granted).
    pub access: u32,
}

impl<'a> Access3Args<'a> {
    /// Decodes the arguments at the start of `args` (bytes after them are
    /// ignored, as knfsd does).
    pub fn decode(args: &'a [u8]) -> Result<Access3Args<'a>, DecodeError> {
        let mut r = Reader::new(args);
        let object = Fh::get(&mut r)?;
        let access = get_u32(&mut r)?;
        Ok(Access3Args { object, access })
    }

    /// Encodes the arguments into `out`; their length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        self.object.put(&mut w)?;
        w.u32(self.access);
        w.finish()
    }
}

/// `ACCESS3res`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access3Res {
    /// `NFS3_OK`.
    Ok {
        /// The object's attributes.
        obj_attributes: Option<Fattr3>,
        /// The bits of the request that are allowed.
        access: u32,
    },
    /// Any other status (never [`Nfsstat3::OK`]), with the object's
    /// attributes.
    Fail {
        /// The status.
        status: Nfsstat3,
        /// The object's attributes.
        obj_attributes: Option<Fattr3>,
    },
}

impl Access3Res {
    /// Decodes a whole result.
    pub fn decode(res: &[u8]) -> Result<Access3Res, DecodeError> {
        let mut r = Reader::new(res);
        let status = Nfsstat3(get_u32(&mut r)?);
        let obj_attributes = get_post_op_attr(&mut r)?;
        let decoded = match status {
            Nfsstat3::OK => Access3Res::Ok {
                obj_attributes,
                access: get_u32(&mut r)?,
            },
            status => Access3Res::Fail {
                status,
                obj_attributes,
            },
        };
        res_end(&r, decoded)
    }

    /// Writes the result.
    pub fn put(&self, w: &mut Writer<'_>) {
        match self {
            Access3Res::Ok {
                obj_attributes,
                access,
            } => {
                w.u32(Nfsstat3::OK.0);
                put_post_op_attr(w, obj_attributes);
                w.u32(*access);
            }
            Access3Res::Fail {
                status,
                obj_attributes,
            } => {
                w.u32(status.0);
                put_post_op_attr(w, obj_attributes);
            }
        }
    }

    /// Encodes the result into `out`; its length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        self.put(&mut w);
        w.finish()
    }
}
