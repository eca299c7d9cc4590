// SPDX-License-Identifier: GPL-2.0

//! How NFSv3 names objects on the wire: file handles (`nfs_fh3`),
//! filenames (`filename3`) and directory operation arguments
//! (`diropargs3`), plus the XDR `bool` and optional-value discriminant
//! the other codecs share.

use super::super::rpc::xdr::{EncodeError, OpaqueError, Reader, Writer};
use super::{DecodeError, FHSIZE, MAXNAMLEN};

/// A file handle (`nfs_fh3`, `opaque data<NFS3_FHSIZE>`), borrowed from
/// the message it was decoded from (or to be encoded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fh<'a>(pub &'a [u8]);

impl<'a> Fh<'a> {
    /// Reads a handle: 1 to [`FHSIZE`] bytes (knfsd refuses an empty one).
    pub fn get(r: &mut Reader<'a>) -> Result<Fh<'a>, DecodeError> {
        match r.opaque(FHSIZE) {
            Ok([]) => Err(DecodeError::BadHandleLength { len: 0 }),
            Ok(bytes) => Ok(Fh(bytes)),
            Err(OpaqueError::Truncated) => Err(DecodeError::Truncated),
            Err(OpaqueError::TooLong { len }) => Err(DecodeError::BadHandleLength { len }),
        }
    }

    /// Writes the handle; fails if it is over [`FHSIZE`] bytes.
    pub fn put(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.opaque(self.0, FHSIZE)
    }
}

/// Reads a `filename3` as knfsd accepts it: 1 to [`MAXNAMLEN`] bytes, no
/// NUL and no `/`.
pub fn get_name<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], DecodeError> {
    let name = match r.opaque(MAXNAMLEN) {
        Ok(name) => name,
        Err(OpaqueError::Truncated) => return Err(DecodeError::Truncated),
        Err(OpaqueError::TooLong { len }) => return Err(DecodeError::BadName { len }),
    };
    if name.is_empty() || name.iter().any(|&b| b == 0 || b == b'/') {
        // At most MAXNAMLEN here: the cast cannot truncate.
        return Err(DecodeError::BadName {
            len: name.len() as u32,
        });
    }
    Ok(name)
}

/// The arguments of the procedures that take one handle and nothing
/// else: GETATTR3args and PATHCONF3args (`object` in RFC 1813), FSSTAT3args
/// and FSINFO3args (`fsroot`). knfsd decodes them all as one
/// `nfsd_fhandle` (`nfs3svc_decode_fhandleargs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FhandleArgs<'a> {
    /// The object (for FSSTAT and FSINFO, any object of the file system).
    pub object: Fh<'a>,
}

impl<'a> FhandleArgs<'a> {
    /// Decodes the arguments at the start of `args` (bytes after them are
    /// ignored, as knfsd does).
    pub fn decode(args: &'a [u8]) -> Result<FhandleArgs<'a>, DecodeError> {
        let mut r = Reader::new(args);
        let object = Fh::get(&mut r)?;
        Ok(FhandleArgs { object })
    }

    /// Encodes the arguments into `out`; their length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        self.object.put(&mut w)?;
        w.finish()
    }
}

/// Directory operation arguments (`diropargs3`): a directory and a name
/// in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirOpArgs<'a> {
    /// The directory.
    pub dir: Fh<'a>,
    /// The name, without its length word and padding.
    pub name: &'a [u8],
}

impl<'a> DirOpArgs<'a> {
    /// Reads the directory handle and the name.
    pub fn get(r: &mut Reader<'a>) -> Result<DirOpArgs<'a>, DecodeError> {
        let dir = Fh::get(r)?;
        let name = get_name(r)?;
        Ok(DirOpArgs { dir, name })
    }

    /// Writes the directory handle and the name (bounded by
    /// [`MAXNAMLEN`]; other checks are the server's).
    pub fn put(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.dir.put(w)?;
        w.opaque(self.name, MAXNAMLEN)
    }
}

/// Reads an XDR `bool` (also the discriminant of an optional value).
pub fn get_bool(r: &mut Reader<'_>) -> Result<bool, DecodeError> {
    match r.u32().ok_or(DecodeError::Truncated)? {
        0 => Ok(false),
        1 => Ok(true),
        value => Err(DecodeError::BadBool { value }),
    }
}

/// Reads one word.
pub fn get_u32(r: &mut Reader<'_>) -> Result<u32, DecodeError> {
    r.u32().ok_or(DecodeError::Truncated)
}

/// Reads one `hyper`.
pub fn get_u64(r: &mut Reader<'_>) -> Result<u64, DecodeError> {
    r.u64().ok_or(DecodeError::Truncated)
}
