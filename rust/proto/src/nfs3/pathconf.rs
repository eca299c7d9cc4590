// SPDX-License-Identifier: GPL-2.0

//! PATHCONF (procedure 20): a handle in, the POSIX `pathconf` values of
//! its file system out.

use super::super::rpc::xdr::{EncodeError, Reader, Writer};
use super::attr::{get_post_op_attr, put_post_op_attr, Fattr3};
use super::fh::{get_bool, get_u32, FhandleArgs};
use super::{res_end, DecodeError, Nfsstat3};

/// `PATHCONF3args`: the object.
pub type Pathconf3Args<'a> = FhandleArgs<'a>;

/// `PATHCONF3resok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pathconf3ResOk {
    /// The object's attributes.
    pub obj_attributes: Option<Fattr3>,
    /// The most hard links to an object.
    pub linkmax: u32,
    /// The longest component of a name.
    pub name_max: u32,
    /// Whether a longer name is an error rather than truncated.
    pub no_trunc: bool,
    /// Whether only the superuser may change an owner.
    pub chown_restricted: bool,
    /// Whether names are compared without case.
    pub case_insensitive: bool,
    /// Whether the case of a name is kept.
    pub case_preserving: bool,
}

/// `PATHCONF3res`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pathconf3Res {
    /// `NFS3_OK`.
    Ok(Pathconf3ResOk),
    /// Any other status (never [`Nfsstat3::OK`]), with the object's
    /// attributes.
    Fail {
        /// The status.
        status: Nfsstat3,
        /// The object's attributes.
        obj_attributes: Option<Fattr3>,
    },
}

impl Pathconf3Res {
    /// Decodes a whole result.
    pub fn decode(res: &[u8]) -> Result<Pathconf3Res, DecodeError> {
        let mut r = Reader::new(res);
        let status = Nfsstat3(get_u32(&mut r)?);
        let obj_attributes = get_post_op_attr(&mut r)?;
        let decoded = match status {
            Nfsstat3::OK => Pathconf3Res::Ok(Pathconf3ResOk {
                obj_attributes,
                linkmax: get_u32(&mut r)?,
                name_max: get_u32(&mut r)?,
                no_trunc: get_bool(&mut r)?,
                chown_restricted: get_bool(&mut r)?,
                case_insensitive: get_bool(&mut r)?,
                case_preserving: get_bool(&mut r)?,
            }),
            status => Pathconf3Res::Fail {
                status,
                obj_attributes,
            },
        };
        res_end(&r, decoded)
    }

    /// Writes the result.
    pub fn put(&self, w: &mut Writer<'_>) {
        match self {
            Pathconf3Res::Ok(ok) => {
                w.u32(Nfsstat3::OK.0);
                put_post_op_attr(w, &ok.obj_attributes);
                w.u32(ok.linkmax);
                w.u32(ok.name_max);
                for flag in [
                    ok.no_trunc,
                    ok.chown_restricted,
                    ok.case_insensitive,
                    ok.case_preserving,
                ] {
                    w.u32(u32::from(flag));
                }
            }
            Pathconf3Res::Fail {
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
