// SPDX-License-Identifier: GPL-2.0

//! NFS version 3 (RFC 1813): the codecs of the procedures ksf serves, and
//! a small in-memory export that answers them.
//!
//! - the XDR types, one file each: [`Nfsstat3`]; handles, names and
//!   `diropargs3` ([`Fh`], [`DirOpArgs`]); attributes ([`Fattr3`],
//!   `post_op_attr` as an `Option<Fattr3>`, [`WccData`]); then per
//!   procedure its arguments and results: [`getattr`], [`lookup`],
//!   [`read`], [`write`](mod@write), [`access`], [`fsstat`], [`fsinfo`],
//!   [`pathconf`];
//! - [`mount`]: the MOUNT protocol (program 100005, version 3) that hands a
//!   client the export's root handle;
//! - [`handle`]: the export's documented handle format, which a client
//!   can build itself;
//! - [`export`]: the export's logic over a [`Storage`] its owner provides;
//! - [`service`]: the export as the procedures of an RPC server
//!   ([`super::rpc::engine::Procedures`]), which is how krpc2, usrv and
//!   the fuzzers run it.
//!
//! Argument types decode from the call's `args` and borrow from them (a
//! WRITE's data is not copied); they ignore bytes after the arguments, as
//! knfsd does. Result types decode a whole result (trailing bytes are an
//! error: a client checks replies strictly). Every decoder refuses
//! malformed input with a [`DecodeError`], which a server answers
//! `GARBAGE_ARGS`; none allocates or panics. Every encoder writes into a
//! caller buffer and reports one that is too small. XDR padding is
//! written as zeros and, like knfsd, not checked on input.
//!
//! A READ reply's data is not encoded here: see [`read`] and
//! [`service`].
//!
//! # Examples
//!
//! ```
//! use ksf_proto::nfs3::{Fattr3, Ftype3, Getattr3Args, Getattr3Res, Fh, Handle};
//!
//! let fh = Handle::file(7, 0).to_bytes();
//! let mut args = [0u8; 32];
//! let n = Getattr3Args { object: Fh(&fh) }.encode(&mut args).unwrap();
//! assert_eq!(n, 4 + 16);
//! assert_eq!(Getattr3Args::decode(&args[..n]).unwrap().object, Fh(&fh));
//!
//! let mut res = [0u8; 4];
//! assert_eq!(Getattr3Res::Fail(ksf_proto::nfs3::Nfsstat3::STALE).encode(&mut res), Ok(4));
//! assert_eq!(res, [0, 0, 0, 70]);
//! ```

pub mod access;
mod attr;
mod error;
pub mod export;
mod fh;
pub mod fsinfo;
pub mod fsstat;
pub mod getattr;
pub mod handle;
pub mod lookup;
pub mod mount;
pub mod pathconf;
pub mod read;
pub mod service;
mod stat;
pub mod write;

#[cfg(any(test, KSF_KUNIT))]
pub mod cases;
#[cfg(any(test, KSF_KUNIT))]
pub mod export_cases;

use super::rpc::xdr::Reader;

#[allow(unused_imports)]
pub use {
    access::{Access3Args, Access3Res},
    attr::{get_post_op_attr, put_post_op_attr, Fattr3, Ftype3, Nfstime3, WccAttr, WccData},
    attr::{FATTR3_LEN, POST_OP_ATTR_LEN, WCC_ATTR_LEN, WCC_DATA_LEN},
    error::DecodeError,
    export::{Config, Export, ReadOutcome, Storage},
    fh::{DirOpArgs, Fh, FhandleArgs},
    fsinfo::{Fsinfo3Args, Fsinfo3Res, Fsinfo3ResOk},
    fsstat::{Fsstat3Args, Fsstat3Res, Fsstat3ResOk},
    getattr::{Getattr3Args, Getattr3Res},
    handle::{Handle, HANDLE_LEN, KSF_FSID},
    lookup::{Lookup3Args, Lookup3Res, Lookup3ResOk},
    mount::{DirPath, Flavors, Mountres3, Mountres3Ok, Mountstat3},
    pathconf::{Pathconf3Args, Pathconf3Res, Pathconf3ResOk},
    read::{pad_len, Read3Args, Read3Res, ReadHead},
    stat::Nfsstat3,
    write::{StableHow, Write3Args, Write3Res, Write3ResOk},
};

/// The NFS program number.
pub const PROGRAM: u32 = 100003;
/// The protocol version these codecs speak.
pub const VERSION: u32 = 3;

/// Procedure NULL.
pub const NULL: u32 = 0;
/// Procedure GETATTR.
pub const GETATTR: u32 = 1;
/// Procedure LOOKUP.
pub const LOOKUP: u32 = 3;
/// Procedure ACCESS.
pub const ACCESS: u32 = 4;
/// Procedure READ.
pub const READ: u32 = 6;
/// Procedure WRITE.
pub const WRITE: u32 = 7;
/// Procedure FSSTAT.
pub const FSSTAT: u32 = 18;
/// Procedure FSINFO.
pub const FSINFO: u32 = 19;
/// Procedure PATHCONF.
pub const PATHCONF: u32 = 20;

/// The longest file handle (`NFS3_FHSIZE`).
pub const FHSIZE: usize = 64;
/// The longest filename knfsd accepts (`NFS3_MAXNAMLEN`).
pub const MAXNAMLEN: usize = 255;
/// Bytes of a write verifier (`NFS3_WRITEVERFSIZE`).
pub const WRITEVERFSIZE: usize = 8;

/// Room in a record for a WRITE's call header and arguments besides its
/// data: the header with the longest credential and verifier (40 + 2 *
/// (8 + 400) bytes) and WRITE3args with the longest handle (88 bytes).
pub const WRITE_OVERHEAD: u32 = 1024;

/// The largest record a server with an export of READs and WRITEs of up
/// to `max_io` bytes serves: `max_record`, raised so that a WRITE of
/// `max_io` bytes fits.
pub const fn record_limit(max_record: u32, max_io: u32) -> u32 {
    let write = max_io.saturating_add(WRITE_OVERHEAD);
    if max_record > write {
        max_record
    } else {
        write
    }
}

/// `decoded`, if `r` has read all of its input.
fn res_end<T>(r: &Reader<'_>, decoded: T) -> Result<T, DecodeError> {
    match r.remaining() {
        0 => Ok(decoded),
        _ => Err(DecodeError::TrailingBytes),
    }
}
