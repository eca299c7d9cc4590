// SPDX-License-Identifier: GPL-2.0

//! The echo service: every byte received is sent back, in order.
//!
//! Each run of a connection's task does up to [`ROUNDS`] rounds of "send
//! what is pending, else receive up to 64 KiB". When a send cannot complete
//! the task waits for write space and reads nothing meanwhile, so a client
//! that does not read its echoes fills its own window, never our memory.
//!
//! A connection holds its 64 KiB buffer only while an echo is pending: it
//! takes one from the service's cache when a run reads, and gives it back
//! when everything read is echoed, so a connection at rest costs only its
//! few words of state.

#![forbid(unsafe_code)]

use core::net::SocketAddr;

use kernel::alloc::{flags::GFP_KERNEL, KVVec};
use kernel::error::code::EAGAIN;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

use crate::ksf::buf::{Buf, BufCache};
use crate::ksf::config::ServiceParams;
use crate::ksf::svc::{ConnCtx, DgramCtx, Service, Svc, Verdict};
use crate::ksf::vec::zeroed;

/// Receive/send rounds per task run.
pub(crate) const ROUNDS: usize = 8;
/// Bytes per receive.
pub(crate) const CHUNK: usize = 64 * 1024;
/// Datagrams per task run.
const DGRAM_BUDGET: usize = 64;

/// Starts kecho on `addr:port` (TCP and UDP; `[::]`, the default, serves
/// IPv4 and IPv6).
pub(crate) fn start(p: &ServiceParams) -> Result<Svc<Echo>> {
    let svc = Svc::new(Echo::new(p.port)?, p.svc)?;
    let addr = SocketAddr::new(p.addr, p.port);
    svc.listen(&addr, 1024)?;
    svc.bind_udp(&addr)?;
    Ok(svc)
}

/// The service.
pub(crate) struct Echo {
    /// Connections' buffers, lent while an echo is pending.
    bufs: BufCache,
    /// The UDP socket's receive buffer (its task runs one at a time).
    dgram_buf: Arc<Mutex<KVVec<u8>>>,
    /// The port served, which datagrams are never echoed to.
    port: u16,
}

impl Echo {
    fn new(port: u16) -> Result<Echo> {
        Ok(Echo {
            bufs: BufCache::new(CHUNK)?,
            dgram_buf: Arc::pin_init(kernel::new_mutex!(zeroed(CHUNK)?), GFP_KERNEL)?,
            port,
        })
    }

    /// Whether a datagram from port `from` may be echoed. Not to a
    /// privileged port (a system service, such as DNS on 53, would take
    /// the echo for a request or a reply: a forged source makes a
    /// reflector) nor to our own port (another echo server: a loop).
    fn echoes_to(&self, from: u16) -> bool {
        from >= 1024 && from != self.port
    }

    /// One run of a connection (see `receive`), leaving in `c.buf` a
    /// buffer with an echo pending, if any.
    fn echo(&self, ctx: &mut ConnCtx<'_>, c: &mut EchoConn, buf: &mut Buf) -> Verdict {
        for _ in 0..ROUNDS {
            if c.start < c.end {
                match ctx.send(&buf[c.start..c.end]) {
                    Ok(n) => c.start += n,
                    Err(e) if e == EAGAIN => return Verdict::WaitWrite,
                    Err(_) => return Verdict::Close,
                }
                if c.start < c.end {
                    return Verdict::WaitWrite;
                }
                (c.start, c.end) = (0, 0);
                ctx.count_msgs(0, 1);
                continue;
            }
            match ctx.recv(buf) {
                Ok(0) => return Verdict::Close,
                Ok(n) => {
                    (c.start, c.end) = (0, n);
                    ctx.count_msgs(1, 0);
                }
                Err(e) if e == EAGAIN => return Verdict::WaitRead,
                Err(_) => return Verdict::Close,
            }
        }
        Verdict::Yield
    }
}

/// A connection: while an echo is pending, its buffer and the part of it
/// still to send back.
pub(crate) struct EchoConn {
    buf: Option<Buf>,
    start: usize,
    end: usize,
}

impl Service for Echo {
    type Conn = EchoConn;

    fn accept(&self, _peer: &SocketAddr) -> Result<EchoConn> {
        Ok(EchoConn {
            buf: None,
            start: 0,
            end: 0,
        })
    }

    fn conn_memory(&self, c: &EchoConn) -> usize {
        c.buf.as_ref().map_or(0, |b| b.size())
    }

    fn busy(&self, c: &EchoConn) -> bool {
        c.start < c.end
    }

    fn receive(&self, ctx: &mut ConnCtx<'_>, c: &mut EchoConn) -> Verdict {
        let mut buf = match c.buf.take() {
            Some(buf) => buf,
            None => match self.bufs.take() {
                Ok(buf) => buf,
                // No memory now: the data waits in the socket; try again
                // after the other tasks.
                Err(_) => {
                    ctx.count_nomem_retry();
                    return Verdict::Yield;
                }
            },
        };
        let verdict = self.echo(ctx, c, &mut buf);
        if c.start < c.end && verdict != Verdict::Close {
            c.buf = Some(buf);
        } else {
            self.bufs.give(buf);
        }
        verdict
    }

    fn closed(&self, c: EchoConn) {
        if let Some(buf) = c.buf {
            self.bufs.give(buf);
        }
    }

    fn datagrams(&self, ctx: &mut DgramCtx<'_>) -> Verdict {
        let mut buf = self.dgram_buf.lock();
        ctx.each_datagram(&mut buf, DGRAM_BUDGET, |ctx, data, from| {
            // A datagram that cannot be echoed now is dropped, as UDP
            // allows; it is counted.
            if !self.echoes_to(from.port()) || ctx.send_to(data, &from).is_err() {
                ctx.count_error();
            }
        })
    }
}
