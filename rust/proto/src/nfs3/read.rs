// SPDX-License-Identifier: GPL-2.0

//! READ (procedure 6): a range of a file in, its bytes out.
//!
//! The data is the last field of a READ reply, so a server need not copy
//! it into its reply buffer: [`ReadHead::put`] writes everything up to
//! and including the data's length word, and the caller sends the data
//! straight from where it lives (krpc2: the export's pages), then
//! [`pad_len`] zero bytes. [`Read3Res::put`] writes a whole reply with a
//! copy of the data, for clients and tests.

use super::super::rpc::xdr::{padded_len, EncodeError, Reader, Writer};
use super::attr::{get_post_op_attr, put_post_op_attr, Fattr3};
use super::fh::{get_bool, get_u32, get_u64, Fh};
use super::{res_end, DecodeError, Nfsstat3};

/// `READ3args`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Read3Args<'a> {
    /// The file.
    pub file: Fh<'a>,
    /// Where to start reading.
    pub offset: u64,
    /// Bytes to read.
    pub count: u32,
}

impl<'a> Read3Args<'a> {
    /// Decodes the arguments at the start of `args` (bytes after them are
    /// ignored, as knfsd does).
    pub fn decode(args: &'a [u8]) -> Result<Read3Args<'a>, DecodeError> {
        let mut r = Reader::new(args);
        let file = Fh::get(&mut r)?;
        let offset = get_u64(&mut r)?;
        let count = get_u32(&mut r)?;
        Ok(Read3Args {
            file,
            offset,
            count,
        })
    }

    /// Encodes the arguments into `out`; their length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        self.file.put(&mut w)?;
        w.u64(self.offset);
        w.u32(self.count);
        w.finish()
    }
}

/// `READ3resok` without its data: what precedes the data on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadHead {
    /// The file's attributes.
    pub file_attributes: Option<Fattr3>,
    /// Bytes read: the length of the data.
    pub count: u32,
    /// Whether the read ended at the end of the file.
    pub eof: bool,
}

/// Bytes of an encoded [`ReadHead`] with attributes, the status included.
pub const READ_HEAD_LEN: usize = 4 + super::attr::POST_OP_ATTR_LEN + 12;

/// Zero bytes that follow `count` bytes of data.
pub const fn pad_len(count: u32) -> usize {
    let n = count as usize;
    match padded_len(n) {
        Some(p) => p - n,
        None => 0,
    }
}

impl ReadHead {
    /// Writes the status `NFS3_OK`, the attributes, `count`, `eof` and the
    /// data's length word (`count` again): after it come `count` bytes of
    /// data and [`pad_len`] zero bytes, which the caller sends.
    pub fn put(&self, w: &mut Writer<'_>) {
        w.u32(Nfsstat3::OK.0);
        put_post_op_attr(w, &self.file_attributes);
        w.u32(self.count);
        w.u32(u32::from(self.eof));
        w.u32(self.count);
    }
}

/// `READ3res`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read3Res<'a> {
    /// `NFS3_OK`, with the data (exactly `head.count` bytes).
    Ok {
        /// Everything but the data.
        head: ReadHead,
        /// The data, without padding.
        data: &'a [u8],
    },
    /// Any other status (never [`Nfsstat3::OK`]), with the file's
    /// attributes.
    Fail {
        /// The status.
        status: Nfsstat3,
        /// The file's attributes.
        file_attributes: Option<Fattr3>,
    },
}

impl<'a> Read3Res<'a> {
    /// Decodes a whole result; the data borrows from `res`. A data length
    /// other than `count` is [`DecodeError::CountMismatch`].
    pub fn decode(res: &'a [u8]) -> Result<Read3Res<'a>, DecodeError> {
        let mut r = Reader::new(res);
        let decoded = match Nfsstat3(get_u32(&mut r)?) {
            Nfsstat3::OK => {
                let file_attributes = get_post_op_attr(&mut r)?;
                let count = get_u32(&mut r)?;
                let eof = get_bool(&mut r)?;
                let len = get_u32(&mut r)?;
                if len != count {
                    return Err(DecodeError::CountMismatch { count, len });
                }
                let data = r.fixed(len as usize).ok_or(DecodeError::Truncated)?;
                let head = ReadHead {
                    file_attributes,
                    count,
                    eof,
                };
                Read3Res::Ok { head, data }
            }
            status => Read3Res::Fail {
                status,
                file_attributes: get_post_op_attr(&mut r)?,
            },
        };
        res_end(&r, decoded)
    }

    /// Writes the whole result, data and padding included; fails if the
    /// data is not `head.count` bytes.
    pub fn put(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        match self {
            Read3Res::Ok { head, data } => {
                if data.len() != head.count as usize {
                    return Err(EncodeError::TooLong {
                        len: data.len(),
                        max: head.count as usize,
                    });
                }
                head.put(w);
                w.fixed(data);
            }
            Read3Res::Fail {
                status,
                file_attributes,
            } => {
                w.u32(status.0);
                put_post_op_attr(w, file_attributes);
            }
        }
        Ok(())
    }

    /// Encodes the whole result into `out`; its length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        self.put(&mut w)?;
        w.finish()
    }
}
