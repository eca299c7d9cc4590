// SPDX-License-Identifier: GPL-2.0

//! GETATTR (procedure 1): a handle in, its attributes out.

use super::super::rpc::xdr::{EncodeError, Reader, Writer};
use super::attr::Fattr3;
use super::fh::{get_u32, FhandleArgs};
use super::{res_end, DecodeError, Nfsstat3};

/// `GETATTR3args`: the object.
pub type Getattr3Args<'a> = FhandleArgs<'a>;

/// `GETATTR3res`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Getattr3Res {
    /// `NFS3_OK`, with the attributes.
    Ok(Fattr3),
    /// Any other status (never [`Nfsstat3::OK`]); nothing follows it.
    Fail(Nfsstat3),
}

impl Getattr3Res {
    /// Decodes a whole result.
    pub fn decode(res: &[u8]) -> Result<Getattr3Res, DecodeError> {
        let mut r = Reader::new(res);
        let decoded = match Nfsstat3(get_u32(&mut r)?) {
            Nfsstat3::OK => Getattr3Res::Ok(Fattr3::get(&mut r)?),
            status => Getattr3Res::Fail(status),
        };
        res_end(&r, decoded)
    }

    /// Writes the result.
    pub fn put(&self, w: &mut Writer<'_>) {
        match self {
            Getattr3Res::Ok(attr) => {
                w.u32(Nfsstat3::OK.0);
                attr.put(w);
            }
            Getattr3Res::Fail(status) => w.u32(status.0),
        }
    }

    /// Encodes the result into `out`; its length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        self.put(&mut w);
        w.finish()
    }
}
