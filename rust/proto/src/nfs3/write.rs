// SPDX-License-Identifier: GPL-2.0

//! WRITE (procedure 7): a range of a file and its new bytes in, how much
//! was written and how stably out.
//!
//! The data of the arguments is borrowed from the record: a server copies
//! it once, from the record into the file.

use super::super::rpc::xdr::{EncodeError, Reader, Writer};
use super::attr::WccData;
use super::fh::{get_u32, get_u64, Fh};
use super::{res_end, DecodeError, Nfsstat3, WRITEVERFSIZE};

/// How stably a WRITE's data is to be (or was) committed (`stable_how`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StableHow {
    /// `UNSTABLE`: the server may cache the data.
    Unstable = 0,
    /// `DATA_SYNC`: the data (and the metadata to find it) is stable.
    DataSync = 1,
    /// `FILE_SYNC`: the data and all the metadata are stable.
    FileSync = 2,
}

impl StableHow {
    fn get(r: &mut Reader<'_>) -> Result<StableHow, DecodeError> {
        match get_u32(r)? {
            0 => Ok(StableHow::Unstable),
            1 => Ok(StableHow::DataSync),
            2 => Ok(StableHow::FileSync),
            value => Err(DecodeError::BadStableHow { value }),
        }
    }
}

/// `WRITE3args`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Write3Args<'a> {
    /// The file.
    pub file: Fh<'a>,
    /// Where to start writing.
    pub offset: u64,
    /// Bytes to write; a decoded call's equals `data.len()`.
    pub count: u32,
    /// How stably to write.
    pub stable: StableHow,
    /// The data, borrowed from the record, without padding.
    pub data: &'a [u8],
}

impl<'a> Write3Args<'a> {
    /// Decodes the arguments at the start of `args` (bytes after them are
    /// ignored, as knfsd does). A data length other than `count` is
    /// [`DecodeError::CountMismatch`], checked before the data is looked
    /// for (knfsd's order).
    pub fn decode(args: &'a [u8]) -> Result<Write3Args<'a>, DecodeError> {
        let mut r = Reader::new(args);
        let file = Fh::get(&mut r)?;
        let offset = get_u64(&mut r)?;
        let count = get_u32(&mut r)?;
        let stable = StableHow::get(&mut r)?;
        let len = get_u32(&mut r)?;
        if len != count {
            return Err(DecodeError::CountMismatch { count, len });
        }
        let data = r.fixed(len as usize).ok_or(DecodeError::Truncated)?;
        Ok(Write3Args {
            file,
            offset,
            count,
            stable,
            data,
        })
    }

    /// Encodes the arguments into `out` (`count` as given, whatever the
    /// data's length); their length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        self.file.put(&mut w)?;
        w.u64(self.offset);
        w.u32(self.count);
        w.u32(self.stable as u32);
        w.opaque(self.data, u32::MAX as usize)?;
        w.finish()
    }
}

/// `WRITE3resok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Write3ResOk {
    /// The file's attributes before and after.
    pub file_wcc: WccData,
    /// Bytes written.
    pub count: u32,
    /// How stably they were written.
    pub committed: StableHow,
    /// The server's write verifier (`writeverf3`), which changes when
    /// uncommitted data may have been lost.
    pub verf: [u8; WRITEVERFSIZE],
}

/// `WRITE3res`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write3Res {
    /// `NFS3_OK`.
    Ok(Write3ResOk),
    /// Any other status (never [`Nfsstat3::OK`]), with the file's
    /// attributes before and after.
    Fail {
        /// The status.
        status: Nfsstat3,
        /// The file's attributes before and after.
        file_wcc: WccData,
    },
}

impl Write3Res {
    /// Decodes a whole result.
    pub fn decode(res: &[u8]) -> Result<Write3Res, DecodeError> {
        let mut r = Reader::new(res);
        let decoded = match Nfsstat3(get_u32(&mut r)?) {
            Nfsstat3::OK => {
                let file_wcc = WccData::get(&mut r)?;
                let count = get_u32(&mut r)?;
                let committed = StableHow::get(&mut r)?;
                let verf = r.fixed(WRITEVERFSIZE).ok_or(DecodeError::Truncated)?;
                let mut v = [0u8; WRITEVERFSIZE];
                v.copy_from_slice(verf);
                Write3Res::Ok(Write3ResOk {
                    file_wcc,
                    count,
                    committed,
                    verf: v,
                })
            }
            status => Write3Res::Fail {
                status,
                file_wcc: WccData::get(&mut r)?,
            },
        };
        res_end(&r, decoded)
    }

    /// Writes the result.
    pub fn put(&self, w: &mut Writer<'_>) {
        match self {
            Write3Res::Ok(ok) => {
                w.u32(Nfsstat3::OK.0);
                ok.file_wcc.put(w);
                w.u32(ok.count);
                w.u32(ok.committed as u32);
                w.fixed(&ok.verf);
            }
            Write3Res::Fail { status, file_wcc } => {
                w.u32(status.0);
                file_wcc.put(w);
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
