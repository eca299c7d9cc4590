// SPDX-License-Identifier: GPL-2.0

//! The RPC service: NFS NULL calls, answered as Linux knfsd answers them.
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
//! own, at most `max_record` bytes). At rest it holds none.
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

use crate::ksf::buf::{Buf, BufCache};
use crate::ksf::config::{checked, ServiceParams};
use crate::ksf::proto::rpc::engine::{self, Close, NoMemory, Reassembly, Server, Stop, Stream};
use crate::ksf::svc::{ConnCtx, DgramCtx, Service, Svc, Verdict};
use crate::ksf::vec::zeroed;

/// Receive/decode/send rounds per task run.
const ROUNDS: usize = 8;
/// Bytes per receive.
const RX_SIZE: usize = 64 * 1024;
/// The reply buffer: about 450 NULL replies.
const TX_SIZE: usize = 16 * 1024;
/// Datagrams per task run.
const DGRAM_BUDGET: usize = 64;

/// krpc2's parameters.
pub(crate) struct Params {
    pub(crate) common: ServiceParams,
    pub(crate) vers_min: u32,
    pub(crate) vers_max: u32,
    pub(crate) max_record: u32,
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
        Ok(Params {
            common,
            vers_min: vers_min as u32,
            vers_max: vers_max as u32,
            max_record: max_record as u32,
        })
    }
}

/// Starts krpc2 on `addr:port`, TCP and UDP.
pub(crate) fn start(p: &Params) -> Result<Svc<Rpc>> {
    let rpc = Rpc {
        server: Server::nfs_null(p.vers_min, p.vers_max, p.max_record),
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
    /// a record split across receives is reassembled.
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
        // Reassembly buffers are rare: give the memory back.
        *self = KVVec::new();
    }
}

impl Rpc {
    /// Decodes what `rx` holds, appending replies to `tx`, and counts what
    /// the engine did.
    fn parse(&self, ctx: &mut ConnCtx<'_>, c: &mut RpcConn, rx: &Buf, tx: &mut Buf) {
        let fed = c
            .stream
            .feed(&self.server, &rx[c.rx_start..c.rx_end], &mut tx[c.tx_end..]);
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
                match ctx.send(&tx[c.tx_start..c.tx_end]) {
                    Ok(n) => c.tx_start += n,
                    Err(e) if e == EAGAIN => return Verdict::WaitWrite,
                    Err(_) => return Verdict::Close,
                }
                if c.tx_start < c.tx_end {
                    return Verdict::WaitWrite;
                }
                (c.tx_start, c.tx_end) = (0, 0);
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
        })
    }

    fn conn_memory(&self, c: &RpcConn) -> usize {
        let size = |b: &Option<Buf>| b.as_ref().map_or(0, |b| b.size());
        size(&c.rx) + c.stream.reassembly().capacity() + size(&c.tx)
    }

    fn busy(&self, c: &RpcConn) -> bool {
        c.stream.in_record() || c.rx_start < c.rx_end || c.tx_start < c.tx_end
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
