// SPDX-License-Identifier: GPL-2.0

//! FSSTAT (procedure 18): a handle in, the space and files of its file
//! system out (what `statfs`, `df`, asks).

use super::super::rpc::xdr::{EncodeError, Reader, Writer};
use super::attr::{get_post_op_attr, put_post_op_attr, Fattr3};
use super::fh::{get_u32, get_u64, FhandleArgs};
use super::{res_end, DecodeError, Nfsstat3};

/// `FSSTAT3args`: the root of the file system (`fsroot`; any object in
/// it, for this server).
pub type Fsstat3Args<'a> = FhandleArgs<'a>;

/// `FSSTAT3resok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fsstat3ResOk {
    /// The object's attributes.
    pub obj_attributes: Option<Fattr3>,
    /// Bytes in the file system.
    pub tbytes: u64,
    /// Bytes free.
    pub fbytes: u64,
    /// Bytes free to the caller.
    pub abytes: u64,
    /// Files (inodes) in the file system.
    pub tfiles: u64,
    /// Files free.
    pub ffiles: u64,
    /// Files free to the caller.
    pub afiles: u64,
    /// Seconds for which these values will not change (0: may change).
    pub invarsec: u32,
}

/// `FSSTAT3res`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsstat3Res {
    /// `NFS3_OK`.
    Ok(Fsstat3ResOk),
    /// Any other status (never [`Nfsstat3::OK`]), with the object's
    /// attributes.
    Fail {
        /// The status.
        status: Nfsstat3,
        /// The object's attributes.
        obj_attributes: Option<Fattr3>,
    },
}

impl Fsstat3Res {
    /// Decodes a whole result.
    pub fn decode(res: &[u8]) -> Result<Fsstat3Res, DecodeError> {
        let mut r = Reader::new(res);
        let status = Nfsstat3(get_u32(&mut r)?);
        let obj_attributes = get_post_op_attr(&mut r)?;
        let decoded = match status {
            Nfsstat3::OK => Fsstat3Res::Ok(Fsstat3ResOk {
                obj_attributes,
                tbytes: get_u64(&mut r)?,
                fbytes: get_u64(&mut r)?,
                abytes: get_u64(&mut r)?,
                tfiles: get_u64(&mut r)?,
                ffiles: get_u64(&mut r)?,
                afiles: get_u64(&mut r)?,
                invarsec: get_u32(&mut r)?,
            }),
            status => Fsstat3Res::Fail {
                status,
                obj_attributes,
            },
        };
        res_end(&r, decoded)
    }

    /// Writes the result.
    pub fn put(&self, w: &mut Writer<'_>) {
        match self {
            Fsstat3Res::Ok(ok) => {
                w.u32(Nfsstat3::OK.0);
                put_post_op_attr(w, &ok.obj_attributes);
                for n in [
                    ok.tbytes, ok.fbytes, ok.abytes, ok.tfiles, ok.ffiles, ok.afiles,
                ] {
                    w.u64(n);
                }
                w.u32(ok.invarsec);
            }
            Fsstat3Res::Fail {
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
