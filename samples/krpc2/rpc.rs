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
//! A record over `max_record`, an empty record, a reply sent to the
//! server or a record too short for a call header closes that connection
//! (and counts an error); nothing else is affected.

#![forbid(unsafe_code)]

use core::net::SocketAddr;

use kernel::alloc::{flags::GFP_KERNEL, KVVec};
use kernel::error::code::{EAGAIN, EINVAL};
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

use crate::ksf::buf::{Buf, BufCache};
use crate::ksf::config::{checked, ServiceParams};
use crate::ksf::proto::rm::{Decoder, Limits, Mark, MARK_LEN};
use crate::ksf::proto::rpc::{self, Action, Program, Reply};
use crate::ksf::svc::{ConnCtx, DgramCtx, Service, Svc, Verdict};
use crate::ksf::vec::zeroed;

/// The NFS program number.
const NFS_PROGRAM: u32 = 100003;
/// Receive/decode/send rounds per task run.
const ROUNDS: usize = 8;
/// Bytes per receive.
const RX_SIZE: usize = 64 * 1024;
/// The reply buffer: about 450 NULL replies.
const TX_SIZE: usize = 16 * 1024;
/// The longest reply krpc2 sends (PROG_MISMATCH or RPC_MISMATCH), with its
/// record mark.
const MAX_REPLY: usize = MARK_LEN + 32;
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
        vers_min: p.vers_min,
        vers_max: p.vers_max,
        limits: Limits::new(p.max_record, 64).ok_or(EINVAL)?,
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
    vers_min: u32,
    vers_max: u32,
    limits: Limits,
    /// Receive buffers, lent to a connection's runs.
    rx_bufs: BufCache,
    /// Reply buffers, lent to a connection's runs.
    tx_bufs: BufCache,
    /// The UDP socket's buffer (its task runs one at a time).
    dgram: Arc<Mutex<KVVec<u8>>>,
}

/// One TCP connection.
pub(crate) struct RpcConn {
    dec: Decoder,
    /// Kept between runs only while it holds undecoded calls.
    rx: Option<Buf>,
    /// Unparsed bytes are `rx[rx_start..rx_end]`.
    rx_start: usize,
    rx_end: usize,
    /// A record being reassembled (only when it did not arrive whole).
    rec: KVVec<u8>,
    /// Kept between runs only while it holds unsent replies.
    tx: Option<Buf>,
    /// Unsent replies are `tx[tx_start..tx_end]`.
    tx_start: usize,
    tx_end: usize,
    /// A bad record was received: close once the replies to the calls
    /// before it are sent, reading nothing more.
    poisoned: bool,
}

/// What decoding the received bytes ended with.
enum Parsed {
    /// Everything received was decoded.
    Drained,
    /// The reply buffer is full: send before decoding more.
    TxFull,
    /// The connection must close.
    Close,
}

impl Rpc {
    fn program(&self) -> Program<'static> {
        Program {
            prog: NFS_PROGRAM,
            low: self.vers_min,
            high: self.vers_max,
            procs: &[0],
        }
    }

    /// The reply to one record, or `None` to close.
    fn answer(&self, record: &[u8]) -> Option<Reply<'static>> {
        match rpc::decide(rpc::decode_call(record), &self.program()) {
            Action::Reply(r) => Some(r),
            // krpc2 lists no procedure but NULL, which `decide` answers.
            Action::Dispatch(call) => Some(Reply {
                xid: call.xid,
                kind: rpc::ReplyKind::accepted(rpc::AcceptStat::ProcUnavail),
            }),
            Action::Close => None,
        }
    }

    /// Encodes `reply` with its record mark at `tx[at..]`; its length.
    fn put_reply(tx: &mut [u8], at: usize, reply: &Reply<'_>) -> Option<usize> {
        let n = rpc::encode_reply(tx.get_mut(at + MARK_LEN..)?, reply).ok()?;
        let mark = Mark::new(n, true)?.encode();
        tx.get_mut(at..at + MARK_LEN)?.copy_from_slice(&mark);
        Some(MARK_LEN + n)
    }

    /// Decodes what `rx` holds, appending replies to `tx`.
    fn parse(&self, ctx: &mut ConnCtx<'_>, c: &mut RpcConn, rx: &Buf, tx: &mut Buf) -> Parsed {
        while c.rx_start < c.rx_end {
            if c.tx_end + MAX_REPLY > tx.len() {
                return Parsed::TxFull;
            }
            let whole_possible = c.dec.at_record_boundary();
            let input = &rx[c.rx_start..c.rx_end];
            let step = match c.dec.decode(input) {
                Ok(step) => step,
                Err(_) => {
                    ctx.count_error();
                    return Parsed::Close;
                }
            };
            let payload = &input[step.payload.clone()];
            let record: &[u8] = if step.end_of_record && whole_possible && c.rec.is_empty() {
                // The whole record is in this receive: use it in place.
                payload
            } else {
                if c.rec.extend_from_slice(payload, GFP_KERNEL).is_err() {
                    // The decoder has taken the fragment in: it cannot be
                    // decoded again, so the connection closes (after the
                    // replies it owes).
                    ctx.count_nomem_close();
                    return Parsed::Close;
                }
                if !step.end_of_record {
                    c.rx_start += step.consumed;
                    continue;
                }
                &c.rec
            };
            let reply = self.answer(record);
            c.rx_start += step.consumed;
            if c.rec.capacity() != 0 {
                // Reassembly buffers are rare: give the memory back.
                c.rec = KVVec::new();
            }
            ctx.count_msgs(1, 0);
            let Some(reply) = reply else {
                ctx.count_error();
                return Parsed::Close;
            };
            match Self::put_reply(tx, c.tx_end, &reply) {
                Some(n) => {
                    c.tx_end += n;
                    ctx.count_msgs(0, 1);
                }
                None => return Parsed::Close,
            }
        }
        (c.rx_start, c.rx_end) = (0, 0);
        Parsed::Drained
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
            if c.poisoned {
                // Every reply before the bad record is out.
                return Verdict::Close;
            }
            // Calls left over from a full reply buffer.
            if c.rx_start < c.rx_end {
                c.poisoned = matches!(self.parse(ctx, c, rx, tx), Parsed::Close);
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
            c.poisoned = matches!(self.parse(ctx, c, rx, tx), Parsed::Close);
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
            dec: Decoder::new(self.limits),
            rx: None,
            rx_start: 0,
            rx_end: 0,
            rec: KVVec::new(),
            tx: None,
            tx_start: 0,
            tx_end: 0,
            poisoned: false,
        })
    }

    fn conn_memory(&self, c: &RpcConn) -> usize {
        let size = |b: &Option<Buf>| b.as_ref().map_or(0, |b| b.size());
        size(&c.rx) + c.rec.capacity() + size(&c.tx)
    }

    fn busy(&self, c: &RpcConn) -> bool {
        !c.dec.at_record_boundary() || c.rx_start < c.rx_end || c.tx_start < c.tx_end
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
        let mut reply = [0u8; MAX_REPLY];
        for _ in 0..DGRAM_BUDGET {
            match ctx.recv_from(&mut buf) {
                Ok((n, from)) => {
                    // One datagram is one record, without a mark. What
                    // would close a TCP connection drops the datagram.
                    let Some(r) = buf.get(..n).and_then(|rec| self.answer(rec)) else {
                        ctx.count_error();
                        continue;
                    };
                    match rpc::encode_reply(&mut reply, &r) {
                        Ok(len) if ctx.send_to(&reply[..len], &from).is_ok() => {}
                        _ => ctx.count_error(),
                    }
                }
                Err(e) if e == EAGAIN => return Verdict::WaitRead,
                Err(_) => {
                    ctx.count_error();
                    return Verdict::WaitRead;
                }
            }
        }
        Verdict::Yield
    }
}
