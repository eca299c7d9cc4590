// SPDX-License-Identifier: GPL-2.0

//! LOOKUP (procedure 3): a name in a directory in, its handle out.

use super::super::rpc::xdr::{EncodeError, Reader, Writer};
use super::attr::{get_post_op_attr, put_post_op_attr, Fattr3};
use super::fh::{get_u32, DirOpArgs, Fh};
use super::{res_end, DecodeError, Nfsstat3};

/// `LOOKUP3args`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lookup3Args<'a> {
    /// The directory and the name to look up in it.
    pub what: DirOpArgs<'a>,
}

impl<'a> Lookup3Args<'a> {
    /// Decodes the arguments at the start of `args` (bytes after them are
    /// ignored, as knfsd does).
    pub fn decode(args: &'a [u8]) -> Result<Lookup3Args<'a>, DecodeError> {
        let mut r = Reader::new(args);
        let what = DirOpArgs::get(&mut r)?;
        Ok(Lookup3Args { what })
    }

    /// Encodes the arguments into `out`; their length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        self.what.put(&mut w)?;
        w.finish()
    }
}

/// `LOOKUP3resok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lookup3ResOk<'a> {
    /// The handle of the object found.
    pub object: Fh<'a>,
    /// Its attributes.
    pub obj_attributes: Option<Fattr3>,
    /// The directory's attributes.
    pub dir_attributes: Option<Fattr3>,
}

/// `LOOKUP3res`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup3Res<'a> {
    /// `NFS3_OK`.
    Ok(Lookup3ResOk<'a>),
    /// Any other status (never [`Nfsstat3::OK`]), with the directory's
    /// attributes.
    Fail {
        /// The status.
        status: Nfsstat3,
        /// The directory's attributes.
        dir_attributes: Option<Fattr3>,
    },
}

impl<'a> Lookup3Res<'a> {
    /// Decodes a whole result; the handle borrows from `res`.
    pub fn decode(res: &'a [u8]) -> Result<Lookup3Res<'a>, DecodeError> {
        let mut r = Reader::new(res);
        let decoded = match Nfsstat3(get_u32(&mut r)?) {
            Nfsstat3::OK => Lookup3Res::Ok(Lookup3ResOk {
                object: Fh::get(&mut r)?,
                obj_attributes: get_post_op_attr(&mut r)?,
                dir_attributes: get_post_op_attr(&mut r)?,
            }),
            status => Lookup3Res::Fail {
                status,
                dir_attributes: get_post_op_attr(&mut r)?,
            },
        };
        res_end(&r, decoded)
    }

    /// Writes the result; fails if the handle is over [`super::FHSIZE`].
    pub fn put(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        match self {
            Lookup3Res::Ok(ok) => {
                w.u32(Nfsstat3::OK.0);
                ok.object.put(w)?;
                put_post_op_attr(w, &ok.obj_attributes);
                put_post_op_attr(w, &ok.dir_attributes);
            }
            Lookup3Res::Fail {
                status,
                dir_attributes,
            } => {
                w.u32(status.0);
                put_post_op_attr(w, dir_attributes);
            }
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
