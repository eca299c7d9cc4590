// SPDX-License-Identifier: GPL-2.0

//! The echo service: every byte received is sent back, in order.
//!
//! Each run of a connection's task does up to [`ROUNDS`] rounds of "send
//! what is pending, else receive up to 64 KiB". When a send cannot complete
//! the task waits for write space and reads nothing meanwhile, so a client
//! that does not read its echoes fills its own window, never our memory.

#![forbid(unsafe_code)]

use core::net::SocketAddr;

use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::error::code::EAGAIN;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

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
    /// The UDP socket's receive buffer (its task runs one at a time).
    dgram_buf: Arc<Mutex<KVec<u8>>>,
    /// The port served, which datagrams are never echoed to.
    port: u16,
}

impl Echo {
    fn new(port: u16) -> Result<Echo> {
        Ok(Echo {
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
}

/// A connection: its buffer and the part of it still to send back.
pub(crate) struct EchoConn {
    buf: KVec<u8>,
    start: usize,
    end: usize,
}

impl Service for Echo {
    type Conn = EchoConn;

    fn accept(&self, _peer: &SocketAddr) -> Result<EchoConn> {
        Ok(EchoConn {
            buf: zeroed(CHUNK)?,
            start: 0,
            end: 0,
        })
    }

    fn conn_memory(&self, c: &EchoConn) -> usize {
        c.buf.capacity()
    }

    fn receive(&self, ctx: &mut ConnCtx<'_>, c: &mut EchoConn) -> Verdict {
        for _ in 0..ROUNDS {
            if c.start < c.end {
                match ctx.send(&c.buf[c.start..c.end]) {
                    Ok(n) => c.start += n,
                    Err(e) if e == EAGAIN => return Verdict::WaitWrite,
                    Err(_) => return Verdict::Close,
                }
                if c.start < c.end {
                    return Verdict::WaitWrite;
                }
                ctx.count_msgs(0, 1);
                continue;
            }
            match ctx.recv(&mut c.buf) {
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

    fn datagrams(&self, ctx: &mut DgramCtx<'_>) -> Verdict {
        let mut buf = self.dgram_buf.lock();
        for _ in 0..DGRAM_BUDGET {
            match ctx.recv_from(&mut buf) {
                Ok((_, from)) if !self.echoes_to(from.port()) => ctx.count_error(),
                Ok((n, from)) => {
                    // A datagram that cannot be echoed now is dropped, as
                    // UDP allows; it is counted.
                    if ctx.send_to(&buf[..n], &from).is_err() {
                        ctx.count_error();
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
