// SPDX-License-Identifier: GPL-2.0

//! FSINFO (procedure 19): a handle in, the file system's static limits
//! and properties out (what a client sizes its READs and WRITEs by).

use super::super::rpc::xdr::{EncodeError, Reader, Writer};
use super::attr::{get_post_op_attr, put_post_op_attr, Fattr3, Nfstime3};
use super::fh::{get_u32, get_u64, FhandleArgs};
use super::{res_end, DecodeError, Nfsstat3};

/// `FSF3_LINK`: the file system supports hard links.
pub const FSF3_LINK: u32 = 0x0001;
/// `FSF3_SYMLINK`: the file system supports symbolic links.
pub const FSF3_SYMLINK: u32 = 0x0002;
/// `FSF3_HOMOGENEOUS`: PATHCONF is the same for every file.
pub const FSF3_HOMOGENEOUS: u32 = 0x0008;
/// `FSF3_CANSETTIME`: SETATTR can set a file's times.
pub const FSF3_CANSETTIME: u32 = 0x0010;

/// `FSINFO3args`: the root of the file system (`fsroot`; any object in
/// it, for this server).
pub type Fsinfo3Args<'a> = FhandleArgs<'a>;

/// `FSINFO3resok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fsinfo3ResOk {
    /// The object's attributes.
    pub obj_attributes: Option<Fattr3>,
    /// The largest READ the server answers in full.
    pub rtmax: u32,
    /// The preferred READ size.
    pub rtpref: u32,
    /// The suggested multiple of a READ's size.
    pub rtmult: u32,
    /// The largest WRITE the server takes in full.
    pub wtmax: u32,
    /// The preferred WRITE size.
    pub wtpref: u32,
    /// The suggested multiple of a WRITE's size.
    pub wtmult: u32,
    /// The preferred READDIR request size.
    pub dtpref: u32,
    /// The largest file size.
    pub maxfilesize: u64,
    /// The granularity of the server's times.
    pub time_delta: Nfstime3,
    /// `FSF3_*` bits.
    pub properties: u32,
}

/// `FSINFO3res`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsinfo3Res {
    /// `NFS3_OK`.
    Ok(Fsinfo3ResOk),
    /// Any other status (never [`Nfsstat3::OK`]), with the object's
    /// attributes.
    Fail {
        /// The status.
        status: Nfsstat3,
        /// The object's attributes.
        obj_attributes: Option<Fattr3>,
    },
}

impl Fsinfo3Res {
    /// Decodes a whole result.
    pub fn decode(res: &[u8]) -> Result<Fsinfo3Res, DecodeError> {
        let mut r = Reader::new(res);
        let status = Nfsstat3(get_u32(&mut r)?);
        let obj_attributes = get_post_op_attr(&mut r)?;
        let decoded = match status {
            Nfsstat3::OK => Fsinfo3Res::Ok(Fsinfo3ResOk {
                obj_attributes,
                rtmax: get_u32(&mut r)?,
                rtpref: get_u32(&mut r)?,
                rtmult: get_u32(&mut r)?,
                wtmax: get_u32(&mut r)?,
                wtpref: get_u32(&mut r)?,
                wtmult: get_u32(&mut r)?,
                dtpref: get_u32(&mut r)?,
                maxfilesize: get_u64(&mut r)?,
                time_delta: Nfstime3 {
                    seconds: get_u32(&mut r)?,
                    nseconds: get_u32(&mut r)?,
                },
                properties: get_u32(&mut r)?,
            }),
            status => Fsinfo3Res::Fail {
                status,
                obj_attributes,
            },
        };
        res_end(&r, decoded)
    }

    /// Writes the result.
    pub fn put(&self, w: &mut Writer<'_>) {
        match self {
            Fsinfo3Res::Ok(ok) => {
                w.u32(Nfsstat3::OK.0);
                put_post_op_attr(w, &ok.obj_attributes);
                for word in [ok.rtmax, ok.rtpref, ok.rtmult, ok.wtmax, ok.wtpref] {
                    w.u32(word);
                }
                w.u32(ok.wtmult);
                w.u32(ok.dtpref);
                w.u64(ok.maxfilesize);
                w.u32(ok.time_delta.seconds);
                w.u32(ok.time_delta.nseconds);
                w.u32(ok.properties);
            }
            Fsinfo3Res::Fail {
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
