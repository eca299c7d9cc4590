// SPDX-License-Identifier: GPL-2.0

//! The RPC service: NFS NULL calls, answered as Linux knfsd answers them,
//! and, with `files` > 0, NFSv3 GETATTR, LOOKUP, READ and WRITE on a small
//! in-memory export (proto's `nfs3`, over the pages of `files.rs`).
//!
//! A run of a TCP connection's task takes a receive and a reply buffer
//! from the service's caches, receives up to 64 KiB, decodes every
//! complete call in it (in place when a record arrived whole) and encodes
//! the replies back to back into the reply buffer, which goes out in one
//! send: many replies per send. When the reply buffer cannot take another
//! reply, or a send is short, decoding stops and the task waits for write
//! space without reading more: a client that does not read its replies
//! fills its own TCP window, never our memory.
//!
//! A connection keeps a buffer only while it holds something in it:
//! replies not yet sent, calls not yet decoded, or the part received of a
//! record split across receives (copied to a reassembly buffer of its
//! own, at most `max_record` bytes, kept for the next such record until
//! the connection waits). At rest it holds none.
//!
//! What to do with the bytes is proto's `rpc::engine`, the same code the
//! user-space server and the fuzzers run: this file lends it the buffers
//! and does the I/O. A record over `max_record`, an empty record, a reply
//! sent to the server or a record too short for a call header closes that
//! connection (and counts an error), once the replies to the calls before
//! it are sent; nothing else is affected.

#![forbid(unsafe_code)]

use core::net::SocketAddr;

use kernel::alloc::{flags::GFP_KERNEL, KVVec};
use kernel::error::code::{EAGAIN, EINVAL};
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

use crate::files::{now, Files};
use crate::ksf::buf::{Buf, BufCache};
use crate::ksf::config::{checked, ServiceParams};
use crate::ksf::proto::nfs3::{self, Config, Export};
use crate::ksf::proto::rpc::engine::{self, Close, NoMemory, NullOnly, Payload, Reassembly};
use crate::ksf::proto::rpc::engine::{Server, Stop, Stream};
use crate::ksf::svc::{ConnCtx, DgramCtx, Service, Svc, Verdict};
use crate::ksf::vec::{self, zeroed};

/// Receive/decode/send rounds per task run.
const ROUNDS: usize = 8;
/// Bytes per receive.
const RX_SIZE: usize = 64 * 1024;
/// The reply buffer: about 450 NULL replies.
const TX_SIZE: usize = 16 * 1024;
/// Datagrams per task run.
const DGRAM_BUDGET: usize = 64;
/// The export's file system id, in its handles (rpctest's default).
const FSID: u32 = nfs3::KSF_FSID;

/// krpc2's parameters.
pub(crate) struct Params {
    pub(crate) common: ServiceParams,
    pub(crate) vers_min: u32,
    pub(crate) vers_max: u32,
    pub(crate) max_record: u32,
    /// Files of the NFSv3 export; 0 serves NULL only.
    pub(crate) files: u32,
    pub(crate) file_size: u32,
    pub(crate) max_io: u32,
}

impl Params {
    pub(crate) fn from_module() -> Result<Params> {
        let common = ServiceParams::from_module()?;
        let vers_min = checked("vers_min", 2, 4, false)?;
        let vers_max = checked("vers_max", 2, 4, false)?;
        if vers_max < vers_min {
            pr_err!(
                "invalid vers_max={}: must be at least vers_min={}\n",
                vers_max,
                vers_min
            );
            return Err(EINVAL);
        }
        let max_record = checked("max_record", 64, 1 << 20, false)?;
        let files = checked("files", 1, 64, true)?;
        let file_size = checked("file_size", 4096, 16 << 20, false)?;
        let max_io = checked("max_io", 4096, 1 << 20, false)?;
        if files > 0 && (vers_min, vers_max) != (3, 3) {
            pr_err!(
                "the export (files={}) is NFSv3 only: vers_min and vers_max must be 3\n",
                files
            );
            return Err(EINVAL);
        }
        Ok(Params {
            common,
            vers_min: vers_min as u32,
            vers_max: vers_max as u32,
            max_record: max_record as u32,
            files: files as u32,
            file_size: file_size as u32,
            max_io: max_io as u32,
        })
    }

    /// The largest record served: `max_record`, raised with an export so
    /// that a WRITE of `max_io` bytes fits.
    pub(crate) fn record_limit(&self) -> u32 {
        if self.files == 0 {
            return self.max_record;
        }
        nfs3::record_limit(self.max_record, self.max_io)
    }
}

/// The export `p` asks for, if any, its pages allocated.
fn export(p: &Params) -> Result<Option<Export<Files>>> {
    if p.files == 0 {
        return Ok(None);
    }
    let files = Files::new(p.files, p.file_size as usize)?;
    let time = now();
    // A new verifier per load: a client that wrote UNSTABLE data would
    // see the change (these writes are all FILE_SYNC anyway).
    let mut verf = [0u8; 8];
    verf[..4].copy_from_slice(&time.seconds.to_be_bytes());
    verf[4..].copy_from_slice(&time.nseconds.to_be_bytes());
    let config = Config {
        fsid: FSID,
        files: p.files,
        file_size: u64::from(p.file_size),
        max_io: p.max_io,
        verf,
        time,
    };
    Ok(Some(Export::new(config, files)))
}

/// Starts krpc2 on `addr:port`, TCP and UDP.
pub(crate) fn start(p: &Params) -> Result<Svc<Rpc>> {
    let server = match p.files {
        0 => Server::nfs_null(p.vers_min, p.vers_max, p.max_record),
        _ => Server::nfs3(p.record_limit()),
    };
    let rpc = Rpc {
        server,
        export: export(p)?,
        rx_bufs: BufCache::new(RX_SIZE)?,
        tx_bufs: BufCache::new(TX_SIZE)?,
        dgram: Arc::pin_init(kernel::new_mutex!(zeroed(RX_SIZE)?), GFP_KERNEL)?,
    };
    let svc = Svc::new(rpc, p.common.svc)?;
    let addr = SocketAddr::new(p.common.addr, p.common.port);
    svc.listen(&addr, 1024)?;
    svc.bind_udp(&addr)?;
    Ok(svc)
}

/// The service.
pub(crate) struct Rpc {
    server: Server,
    /// The NFSv3 export, or none (NULL only).
    export: Option<Export<Files>>,
    /// Receive buffers, lent to a connection's runs.
    rx_bufs: BufCache,
    /// Reply buffers, lent to a connection's runs.
    tx_bufs: BufCache,
    /// The UDP socket's buffer (its task runs one at a time).
    dgram: Arc<Mutex<KVVec<u8>>>,
}

/// One TCP connection.
pub(crate) struct RpcConn {
    /// The engine, with a reassembly buffer that holds memory only while
    /// the connection is busy and records are split across receives.
    stream: Stream<KVVec<u8>>,
    /// Kept between runs only while it holds undecoded calls.
    rx: Option<Buf>,
    /// Unparsed bytes are `rx[rx_start..rx_end]`.
    rx_start: usize,
    rx_end: usize,
    /// Kept between runs only while it holds unsent replies.
    tx: Option<Buf>,
    /// Unsent replies are `tx[tx_start..tx_end]`.
    tx_start: usize,
    tx_end: usize,
    /// A READ's data (then its padding) to send after the replies of
    /// `tx`, before anything else is decoded.
    payload: Option<Payload>,
    /// Bytes of the payload and its padding sent.
    payload_sent: usize,
}

impl Reassembly for KVVec<u8> {
    fn append(&mut self, bytes: &[u8]) -> core::result::Result<(), NoMemory> {
        self.extend_from_slice(bytes, GFP_KERNEL)
            .map_err(|_| NoMemory)
    }

    fn bytes(&self) -> &[u8] {
        self
    }

    fn clear(&mut self) {
        // Kept for the connection's next split record (a run of large
        // WRITEs reassembles every one): freed by `release` once the
        // connection waits.
        vec::clear(self);
    }

    fn release(&mut self) {
        // Dropping even an empty vector calls the allocator
        // (`kvrealloc(NULL, 0)`): only a buffer that holds memory is
        // replaced.
        if self.capacity() != 0 {
            *self = KVVec::new();
        }
    }
}

impl Rpc {
    /// Decodes what `rx` holds, appending replies to `tx`, and counts what
    /// the engine did.
    fn parse(&self, ctx: &mut ConnCtx<'_>, c: &mut RpcConn, rx: &Buf, tx: &mut Buf) {
        let (input, out) = (&rx[c.rx_start..c.rx_end], &mut tx[c.tx_end..]);
        let served = match &self.export {
            Some(export) => c.stream.serve(&self.server, export, input, out),
            None => c.stream.serve(&self.server, &NullOnly, input, out),
        };
        // With a payload the engine stops (`OutputFull`): it goes out
        // after the replies, before the rest of the input is decoded.
        c.payload = served.payload;
        c.payload_sent = 0;
        let fed = served.fed;
        c.rx_start += fed.consumed;
        c.tx_end += fed.written;
        ctx.count_msgs(fed.calls, fed.replies);
        match fed.stop {
            Stop::OutputFull => return,
            Stop::Drained => {}
            Stop::Close(Close::NoMemory) => ctx.count_nomem_close(),
            Stop::Close(_) => ctx.count_error(),
        }
        // Everything received is decoded, or nothing more will be.
        (c.rx_start, c.rx_end) = (0, 0);
    }
}

impl Rpc {
    /// One run of a connection (see `receive`) with its buffers.
    fn serve(&self, ctx: &mut ConnCtx<'_>, c: &mut RpcConn, rx: &mut Buf, tx: &mut Buf) -> Verdict {
        for _ in 0..ROUNDS {
            // Replies first: nothing more is read while they cannot go out.
            if c.tx_start < c.tx_end {
                // A READ's data follows its reply's head at once: one
                // segment for both where they fit.
                let out = &tx[c.tx_start..c.tx_end];
                let sent = match c.payload {
                    Some(p) if p.len > 0 => ctx.send_more(out),
                    _ => ctx.send(out),
                };
                match sent {
                    Ok(n) => c.tx_start += n,
                    Err(e) if e == EAGAIN => return Verdict::WaitWrite,
                    Err(_) => return Verdict::Close,
                }
                if c.tx_start < c.tx_end {
                    return Verdict::WaitWrite;
                }
                (c.tx_start, c.tx_end) = (0, 0);
            }
            // Then the data of the READ whose reply ends the buffer.
            if let Some(payload) = c.payload {
                match self.send_payload(ctx, c, payload) {
                    Ok(()) => c.payload = None,
                    Err(e) if e == EAGAIN => return Verdict::WaitWrite,
                    Err(_) => return Verdict::Close,
                }
            }
            if c.stream.closed().is_some() {
                // Every reply before the bad record is out.
                return Verdict::Close;
            }
            // Calls left over from a full reply buffer.
            if c.rx_start < c.rx_end {
                self.parse(ctx, c, rx, tx);
                continue;
            }
            match ctx.recv(rx) {
                Ok(0) => return Verdict::Close,
                Ok(n) => (c.rx_start, c.rx_end) = (0, n),
                Err(e) if e == EAGAIN => return Verdict::WaitRead,
                Err(_) => return Verdict::Close,
            }
            // On a bad record the replies to the calls before it still go
            // out (next round) before the connection closes.
            self.parse(ctx, c, rx, tx);
        }
        Verdict::Yield
    }

    /// Sends what is left of `p`, a READ's data, from the file's pages,
    /// then its padding: `Ok` once all of it is queued, `EAGAIN` when
    /// the socket is full (resume on write space).
    fn send_payload(&self, ctx: &mut ConnCtx<'_>, c: &mut RpcConn, p: Payload) -> Result {
        let store = self.export.as_ref().and_then(|e| e.storage().store(p.file));
        let store = store.ok_or(EINVAL)?;
        let len = p.len as usize;
        while c.payload_sent < len {
            let at = p.offset as usize + c.payload_sent;
            let frags = store.frags(at, len - c.payload_sent)?;
            // At most `MAX_PAGE_FRAGS` pages a call: loop until done or
            // `EAGAIN`. The padding, if any, follows in the same segment.
            c.payload_sent += ctx.send_pages(frags, p.pad() > 0)?;
        }
        let zeros = [0u8; 4];
        while c.payload_sent < len + p.pad() {
            let left = len + p.pad() - c.payload_sent;
            c.payload_sent += ctx.send(&zeros[..left])?;
        }
        Ok(())
    }

    /// `slot`'s buffer, or one from `cache`.
    fn lend(slot: &mut Option<Buf>, cache: &BufCache) -> Result<Buf> {
        match slot.take() {
            Some(buf) => Ok(buf),
            None => cache.take(),
        }
    }
}

impl Service for Rpc {
    type Conn = RpcConn;

    fn accept(&self, _peer: &SocketAddr) -> Result<RpcConn> {
        Ok(RpcConn {
            stream: Stream::new(&self.server, KVVec::new()),
            rx: None,
            rx_start: 0,
            rx_end: 0,
            tx: None,
            tx_start: 0,
            tx_end: 0,
            payload: None,
            payload_sent: 0,
        })
    }

    fn conn_memory(&self, c: &RpcConn) -> usize {
        let size = |b: &Option<Buf>| b.as_ref().map_or(0, |b| b.size());
        size(&c.rx) + c.stream.reassembly().capacity() + size(&c.tx)
    }

    fn busy(&self, c: &RpcConn) -> bool {
        c.stream.in_record()
            || c.rx_start < c.rx_end
            || c.tx_start < c.tx_end
            || c.payload.is_some()
    }

    fn receive(&self, ctx: &mut ConnCtx<'_>, c: &mut RpcConn) -> Verdict {
        let bufs = Self::lend(&mut c.rx, &self.rx_bufs).and_then(|rx| {
            match Self::lend(&mut c.tx, &self.tx_bufs) {
                Ok(tx) => Ok((rx, tx)),
                Err(e) => {
                    self.rx_bufs.give(rx);
                    Err(e)
                }
            }
        });
        let Ok((mut rx, mut tx)) = bufs else {
            // No memory now: the calls wait in the socket; try again
            // after the other tasks.
            ctx.count_nomem_retry();
            return Verdict::Yield;
        };
        let verdict = self.serve(ctx, c, &mut rx, &mut tx);
        if verdict != Verdict::Yield {
            // The connection waits (or closes): a reassembly buffer that
            // holds no part of a record goes back.
            c.stream.release();
        }
        let close = verdict == Verdict::Close;
        if c.rx_start < c.rx_end && !close {
            c.rx = Some(rx);
        } else {
            self.rx_bufs.give(rx);
        }
        if c.tx_start < c.tx_end && !close {
            c.tx = Some(tx);
        } else {
            self.tx_bufs.give(tx);
        }
        verdict
    }

    fn closed(&self, c: RpcConn) {
        if let Some(rx) = c.rx {
            self.rx_bufs.give(rx);
        }
        if let Some(tx) = c.tx {
            self.tx_bufs.give(tx);
        }
    }

    fn show_stats(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
        let (files, pages) = self
            .export
            .as_ref()
            .map_or((0, 0), |e| (e.config().files, e.storage().pages()));
        writeln!(out, "export_files {}\nexport_pages {}", files, pages)?;
        writeln!(out, "record_limit {}", self.server.limits().max_record)
    }

    fn datagrams(&self, ctx: &mut DgramCtx<'_>) -> Verdict {
        let mut buf = self.dgram.lock();
        let mut reply = [0u8; engine::MAX_REPLY_LEN];
        ctx.each_datagram(&mut buf, DGRAM_BUDGET, |ctx, record, from| {
            // One datagram is one record, without a mark. What would close
            // a TCP connection drops the datagram.
            match self.server.datagram(record, &mut reply) {
                Some(len) if ctx.send_to(&reply[..len], &from).is_ok() => {}
                _ => ctx.count_error(),
            }
        })
    }
}
