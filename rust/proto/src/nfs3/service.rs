// SPDX-License-Identifier: GPL-2.0

//! The export as the procedures of an RPC server: the
//! [`Procedures`] that [`Server::nfs3`](super::super::rpc::engine::Server::nfs3)
//! runs.
//!
//! Arguments that do not decode are `GARBAGE_ARGS`; any procedure but
//! GETATTR, LOOKUP, ACCESS, READ, WRITE, FSSTAT, FSINFO and PATHCONF (which
//! the server's program does not list anyway) is `PROC_UNAVAIL`. A call
//! to the MOUNT program ([`super::mount`], which the server serves on the
//! same port) runs MNT and UMNT; any other of its procedures but NULL is
//! `PROC_UNAVAIL`. A READ writes the head of its results
//! ([`super::ReadHead::put`]) and returns its data as a
//! [`Payload`](super::super::rpc::engine::Payload): the engine counts it in the record mark, and the caller
//! sends it after the reply, then its padding.
//!
//! # Examples
//!
//! ```
//! use core::cell::RefCell;
//! use ksf_proto::nfs3::{Config, Export, Fh, Handle, Nfstime3, Read3Args, Storage};
//! use ksf_proto::rm::{Mark, MARK_LEN};
//! use ksf_proto::rpc::engine::{Fixed, Server, Stream};
//! use ksf_proto::rpc::{encode_call, Call};
//!
//! /// One file of 8 bytes.
//! struct Bytes(RefCell<[u8; 8]>);
//!
//! impl Storage for Bytes {
//!     fn read(&self, _: u32, offset: u64, out: &mut [u8]) {
//!         let at = offset as usize;
//!         out.copy_from_slice(&self.0.borrow()[at..at + out.len()]);
//!     }
//!     fn write(&self, _: u32, offset: u64, data: &[u8]) {
//!         let at = offset as usize;
//!         self.0.borrow_mut()[at..at + data.len()].copy_from_slice(data);
//!     }
//!     fn mtime(&self, _: u32) -> Nfstime3 {
//!         Nfstime3::default()
//!     }
//! }
//!
//! let config = Config {
//!     fsid: 1, files: 1, file_size: 8, max_io: 4096, verf: [0; 8],
//!     time: Nfstime3::default(),
//! };
//! let export = Export::new(config, Bytes(RefCell::new(*b"abcdefgh")));
//! let server = Server::nfs3(4096);
//!
//! // READ 5 bytes of file0 from offset 1.
//! let fh = Handle::file(1, 0).to_bytes();
//! let mut args = [0u8; 32];
//! let n = Read3Args { file: Fh(&fh), offset: 1, count: 5 }.encode(&mut args).unwrap();
//! let mut wire = [0u8; 128];
//! let call = Call { args: &args[..n], ..Call::new(9, 100003, 3, 6) };
//! let len = encode_call(&mut wire[MARK_LEN..], &call).unwrap();
//! wire[..MARK_LEN].copy_from_slice(&Mark::new(len, true).unwrap().encode());
//!
//! let mut conn = Stream::new(&server, Fixed::<0>::new());
//! let mut out = [0u8; 512];
//! let served = conn.serve(&server, &export, &wire[..MARK_LEN + len], &mut out);
//! let data = served.payload.unwrap();
//! assert_eq!((data.file, data.offset, data.len, data.pad()), (0, 1, 5, 3));
//! let mut bytes = [0u8; 5];
//! export.storage().read(data.file, data.offset, &mut bytes);
//! assert_eq!(&bytes, b"bcdef");
//! // The mark counts the data and its padding that the caller sends.
//! let mark = Mark::decode(out[..4].try_into().unwrap());
//! assert_eq!(mark.len as usize, served.fed.written - MARK_LEN + 5 + 3);
//! ```

use super::super::rpc::engine::{Procedures, Results};
use super::super::rpc::xdr::{EncodeError, Writer};
use super::super::rpc::{AcceptStat, Call};
use super::attr::POST_OP_ATTR_LEN;
use super::export::{Export, ReadOutcome, Storage};
use super::handle::HANDLE_LEN;
use super::mount::{self, DirPath};
use super::{Access3Args, Fsinfo3Args, Fsstat3Args, Pathconf3Args};
use super::{Getattr3Args, Lookup3Args, Read3Args, Read3Res, Write3Args};
use super::{ACCESS, FSINFO, FSSTAT, GETATTR, LOOKUP, PATHCONF, READ, WRITE};

/// The longest results the export writes: a LOOKUP that finds an object
/// (status, handle, two `post_op_attr`).
pub const MAX_RESULTS: usize = 4 + 4 + HANDLE_LEN + 2 * POST_OP_ATTR_LEN;

impl<S: Storage> Procedures for Export<S> {
    const MAX_RESULTS: usize = MAX_RESULTS;

    fn run(&self, call: &Call<'_>, results: &mut [u8]) -> Result<Results, AcceptStat<'static>> {
        let garbage = |_| AcceptStat::GarbageArgs;
        let mut w = Writer::new(results);
        let mut payload = None;
        let mut handle = [0u8; HANDLE_LEN];
        let written = match (call.prog, call.procedure) {
            (mount::PROGRAM, mount::MNT) => {
                let path = DirPath::decode(call.args).map_err(garbage)?;
                self.mnt(path, &mut handle).put(&mut w)
            }
            (mount::PROGRAM, mount::UMNT) => {
                DirPath::decode(call.args).map_err(garbage)?;
                Ok(())
            }
            (mount::PROGRAM, _) => return Err(AcceptStat::ProcUnavail),
            (_, procedure) => match procedure {
                GETATTR => {
                    let args = Getattr3Args::decode(call.args).map_err(garbage)?;
                    self.getattr(args.object).put(&mut w);
                    Ok(())
                }
                LOOKUP => {
                    let args = Lookup3Args::decode(call.args).map_err(garbage)?;
                    self.lookup(&args, &mut handle).put(&mut w)
                }
                ACCESS => {
                    let args = Access3Args::decode(call.args).map_err(garbage)?;
                    self.access(&args).put(&mut w);
                    Ok(())
                }
                FSSTAT => {
                    let args = Fsstat3Args::decode(call.args).map_err(garbage)?;
                    self.fsstat(args.object).put(&mut w);
                    Ok(())
                }
                FSINFO => {
                    let args = Fsinfo3Args::decode(call.args).map_err(garbage)?;
                    self.fsinfo(args.object).put(&mut w);
                    Ok(())
                }
                PATHCONF => {
                    let args = Pathconf3Args::decode(call.args).map_err(garbage)?;
                    self.pathconf(args.object).put(&mut w);
                    Ok(())
                }
                READ => {
                    let args = Read3Args::decode(call.args).map_err(garbage)?;
                    match self.read(&args) {
                        ReadOutcome::Ok { head, data } => {
                            head.put(&mut w);
                            payload = Some(data);
                            Ok(())
                        }
                        ReadOutcome::Fail {
                            status,
                            file_attributes,
                        } => Read3Res::Fail {
                            status,
                            file_attributes,
                        }
                        .put(&mut w),
                    }
                }
                WRITE => {
                    let args = Write3Args::decode(call.args).map_err(garbage)?;
                    self.write(&args).put(&mut w);
                    Ok(())
                }
                _ => return Err(AcceptStat::ProcUnavail),
            },
        };
        let len = match written.and(w.finish()) {
            Ok(len) | Err(EncodeError::BufferTooSmall { need: len }) => len,
            // The export's handles are within the bound.
            Err(EncodeError::TooLong { .. }) => return Err(AcceptStat::SystemErr),
        };
        Ok(Results { len, payload })
    }
}
