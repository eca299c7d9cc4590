// SPDX-License-Identifier: GPL-2.0

//! An in-process NFSv3 server on 127.0.0.1 (a random port): ksf_proto's
//! export model (`nfs3::Export`) over files in memory, served by the RPC
//! engine's `Stream::serve` as krpc2 serves it, correct or broken on
//! purpose.

#![allow(dead_code)]

use ksf_proto::nfs3::{self, Config, Export, Getattr3Res, Nfsstat3, Nfstime3, Storage};
use ksf_proto::rpc::engine::{Procedures, Results, Server, Stop, Stream};
use ksf_proto::rpc::{AcceptStat, Call};
use ksf_tools::testutil;
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex};

/// The export's fsid (rpctest's default, krpc2's).
pub const FSID: u32 = nfs3::KSF_FSID;

/// How the server misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NfsFault {
    None,
    /// Flips the first byte of every READ's data.
    CorruptRead,
    /// From the n-th call of a connection (from 0) on, answers GETATTR
    /// with NFS3ERR_STALE.
    StaleAfter(u64),
    /// Answers READ with one byte less than asked (count and data).
    ShortRead,
}

/// Files in memory, all zero at the start.
pub struct Mem {
    files: Mutex<Vec<Vec<u8>>>,
    writes: Mutex<u32>,
}

impl Storage for Mem {
    fn read(&self, file: u32, offset: u64, out: &mut [u8]) {
        let files = self.files.lock().unwrap();
        let at = offset as usize;
        out.copy_from_slice(&files[file as usize][at..at + out.len()]);
    }

    fn write(&self, file: u32, offset: u64, data: &[u8]) {
        let mut files = self.files.lock().unwrap();
        let at = offset as usize;
        files[file as usize][at..at + data.len()].copy_from_slice(data);
        *self.writes.lock().unwrap() += 1;
    }

    fn mtime(&self, _file: u32) -> Nfstime3 {
        Nfstime3 {
            seconds: *self.writes.lock().unwrap(),
            nseconds: 0,
        }
    }
}

/// The export's procedures with the connection's fault.
struct Faulty<'a> {
    export: &'a Export<Mem>,
    fault: NfsFault,
    calls: Cell<u64>,
}

impl Procedures for Faulty<'_> {
    const MAX_RESULTS: usize = nfs3::service::MAX_RESULTS;

    fn run(&self, call: &Call<'_>, results: &mut [u8]) -> Result<Results, AcceptStat<'static>> {
        let i = self.calls.get();
        self.calls.set(i + 1);
        match self.fault {
            NfsFault::StaleAfter(k) if i >= k && call.procedure == nfs3::GETATTR => {
                let len = Getattr3Res::Fail(Nfsstat3::STALE)
                    .encode(results)
                    .map_err(|_| AcceptStat::SystemErr)?;
                Ok(Results { len, payload: None })
            }
            _ => self.export.run(call, results),
        }
    }
}

/// The bytes of a READ reply's data, as the fault has them.
fn read_data(
    export: &Export<Mem>,
    p: &ksf_proto::rpc::engine::Payload,
    fault: NfsFault,
) -> Vec<u8> {
    let mut data = vec![0u8; p.len as usize];
    export.storage().read(p.file, p.offset, &mut data);
    if fault == NfsFault::CorruptRead && !data.is_empty() {
        data[0] ^= 0xff;
    }
    data.resize(p.len as usize + p.pad(), 0);
    data
}

/// Cuts the READ reply in `out` (its mark at `mark`, ending at `end`
/// before its data) to `count` bytes of data: its record mark, count and
/// data length.
fn shorten_read(out: &mut [u8], mark: usize, end: usize, count: u32) {
    let record = (end - mark - 4) as u32 + count.next_multiple_of(4);
    out[mark..mark + 4].copy_from_slice(&(record | 1 << 31).to_be_bytes());
    for at in [end - 12, end - 4] {
        out[at..at + 4].copy_from_slice(&count.to_be_bytes());
    }
}

fn serve(mut s: TcpStream, export: Arc<Export<Mem>>, fault: NfsFault) {
    let server = Server::nfs3(4 << 20);
    let procs = Faulty {
        export: &export,
        fault,
        calls: Cell::new(0),
    };
    let mut conn = Stream::new(&server, Vec::new());
    let mut input = Vec::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut out = vec![0u8; 64 * 1024];
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        input.extend_from_slice(&buf[..n]);
        let mut used = 0;
        loop {
            let served = conn.serve(&server, &procs, &input[used..], &mut out);
            used += served.fed.consumed;
            let written = served.fed.written;
            let mut reply = out[..written].to_vec();
            if let Some(p) = served.payload {
                let mut data = read_data(&export, &p, fault);
                if fault == NfsFault::ShortRead && p.len > 0 {
                    // The reply is the last one in `reply`; its mark is
                    // where its head starts.
                    let mark = written - (4 + 24 + nfs3::read::READ_HEAD_LEN);
                    shorten_read(&mut reply, mark, written, p.len - 1);
                    data.truncate(p.len as usize - 1);
                    data.resize((p.len as usize - 1).next_multiple_of(4), 0);
                }
                reply.extend_from_slice(&data);
            }
            if s.write_all(&reply).is_err() {
                return;
            }
            match served.fed.stop {
                Stop::Close(_) => {
                    let _ = s.shutdown(Shutdown::Write);
                    return;
                }
                Stop::OutputFull => continue,
                Stop::Drained => break,
            }
        }
        input.drain(..used);
    }
}

/// An export of `files` files of `file_size` bytes, all zero.
pub fn export(files: u32, file_size: u64) -> Arc<Export<Mem>> {
    let config = Config {
        fsid: FSID,
        files,
        file_size,
        max_io: 1 << 20,
        verf: *b"ksftests",
        time: Nfstime3::default(),
    };
    let mem = Mem {
        files: Mutex::new(vec![vec![0u8; file_size as usize]; files as usize]),
        writes: Mutex::new(0),
    };
    Arc::new(Export::new(config, mem))
}

/// Starts an NFSv3 server of `export` with `fault`; returns its port.
pub fn nfs_server(export: Arc<Export<Mem>>, fault: NfsFault) -> u16 {
    testutil::tcp_server_on(0, move |s| serve(s, Arc::clone(&export), fault))
}

/// The MNT results (`mountres3`) for `path`: the root handle of the
/// export if it is `export`, else MNT3ERR_NOENT.
fn mnt_results(path: &[u8], export: &str) -> Vec<u8> {
    let mut out = Vec::new();
    if path != export.as_bytes() {
        out.extend_from_slice(&2u32.to_be_bytes());
        return out;
    }
    let fh = nfs3::Handle::root(FSID).to_bytes();
    for word in [0, fh.len() as u32] {
        out.extend_from_slice(&word.to_be_bytes());
    }
    out.extend_from_slice(&fh);
    // One flavor: AUTH_SYS.
    for word in [1u32, 1] {
        out.extend_from_slice(&word.to_be_bytes());
    }
    out
}

fn serve_mount(mut s: TcpStream, export: &str) {
    use ksf_proto::rm::{Decoder, Limits, Mark};
    use ksf_proto::rpc::xdr::Reader;
    use ksf_proto::rpc::{decode_call, encode_reply, Reply, ReplyKind};
    let mut dec = Decoder::new(Limits::DEFAULT);
    let (mut buf, mut rec) = (vec![0u8; 4096], Vec::new());
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut data = &buf[..n];
        while !data.is_empty() {
            let Ok(step) = dec.decode(data) else { return };
            rec.extend_from_slice(&data[step.payload.clone()]);
            data = &data[step.consumed..];
            if !step.end_of_record {
                continue;
            }
            let Ok(call) = decode_call(&rec) else { return };
            let ok = (call.prog, call.vers, call.procedure) == (100005, 3, 1);
            let path = Reader::new(call.args).opaque(1024).ok().filter(|_| ok);
            let results = path.map(|p| mnt_results(p, export));
            let stat = match &results {
                Some(r) => AcceptStat::Success { results: r },
                None => AcceptStat::ProcUnavail,
            };
            let reply = Reply {
                xid: call.xid,
                kind: ReplyKind::accepted(stat),
            };
            let mut out = [0u8; 256];
            let len = encode_reply(&mut out[4..], &reply).unwrap();
            out[..4].copy_from_slice(&Mark::new(len, true).unwrap().encode());
            if s.write_all(&out[..4 + len]).is_err() {
                return;
            }
            rec.clear();
        }
    }
}

/// Starts a MOUNT (version 3, MNT only) server that exports `export` as
/// the root of the export of [`FSID`]; returns its port.
pub fn mount_server(export: &'static str) -> u16 {
    testutil::tcp_server_on(0, move |s| serve_mount(s, export))
}
