// SPDX-License-Identifier: GPL-2.0

//! rpctest's job: new connections for every iteration (one, or `-C` of
//! them served by one event loop), a new window of calls on each. The
//! thread around it is ksf-tools' job loop.

use crate::call::Template;
use crate::nfs::Plan;
use crate::opts::Opts;
use crate::tcp::Calls;
use crate::window::Window;
use crate::{tcp, udp, Counts, IterResult};
use ksf_tools::cpu::monotonic_ns;
use ksf_tools::job_loop::Job;
use ksf_tools::jobs::{connect, io_text, Conn};
use ksf_tools::stream::Streams;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// What all jobs use: the options, the server and the calls.
pub struct Shared {
    /// The command line.
    pub opts: Opts,
    /// The server.
    pub addr: SocketAddr,
    /// The call as sent on TCP (record-marked) and on UDP.
    pub tcp_call: Template,
    pub udp_call: Template,
    /// NFSv3 calls with arguments: the plan that checks their replies.
    pub plan: Option<Arc<Plan>>,
}

/// The connections and calls of an iteration about to run.
enum Next {
    /// One connection (TCP or UDP).
    One(Conn, Window),
    /// `-C` TCP connections and the calls of each.
    Many(Streams, Vec<Calls>),
}

/// One job: its number, and the connections and calls of the iteration
/// about to run.
pub struct RpcJob {
    job: usize,
    sh: Arc<Shared>,
    next: Option<Next>,
}

impl RpcJob {
    /// Job `job` of the run described by `sh`.
    pub fn new(job: usize, sh: Arc<Shared>) -> RpcJob {
        RpcJob {
            job,
            sh,
            next: None,
        }
    }
}

/// A first xid for each job, connection and iteration, different from run
/// to run.
fn base_xid(job: usize, conn: usize, iter: u64) -> u32 {
    let mut z = (u64::from(std::process::id()) << 32)
        ^ monotonic_ns().rotate_left(17)
        ^ ((job as u64) << 20)
        ^ ((conn as u64) << 40)
        ^ iter;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) as u32
}

impl Job for RpcJob {
    type Counts = Counts;

    /// Connects: every iteration has connections of its own.
    fn prepare(&mut self, iter: u64) -> Result<(), String> {
        let (o, addr) = (&self.sh.opts, self.sh.addr);
        let open = || {
            connect(addr, o.transport(), Duration::from_millis(o.timeout_ms)).map_err(|e| {
                format!(
                    "cannot connect to {addr} ({}): {}",
                    o.proto(),
                    io_text(&e, "RPC")
                )
            })
        };
        let window = |conn| {
            Window::new(
                base_xid(self.job, conn, iter),
                o.count,
                o.inflight,
                o.procedure,
            )
            .checking(self.sh.plan.clone())
        };
        // Drop the last iteration's connections before opening new ones.
        self.next = None;
        if o.conns == 1 {
            self.next = Some(Next::One(open()?, window(0)));
            return Ok(());
        }
        let mut socks = Vec::with_capacity(o.conns);
        for i in 0..o.conns {
            match open() {
                Ok(Conn::Tcp(s)) => socks.push(s),
                Ok(Conn::Udp(_)) => return Err("internal error: -C with UDP".to_string()),
                Err(e) => return Err(format!("connection {i} of {}: {e}", o.conns)),
            }
        }
        let timeout_ns = o.timeout_ms * 1_000_000;
        let streams = Streams::new(socks, "RPC", o.method(), timeout_ns)
            .map_err(|e| format!("epoll: {e}"))?;
        let limits = self.sh.tcp_call.reply_limits();
        let calls = (0..o.conns)
            .map(|i| Calls::new(window(i), limits))
            .collect();
        self.next = Some(Next::Many(streams, calls));
        Ok(())
    }

    fn iterate(&mut self, r: &mut IterResult, stop: &AtomicBool) -> Result<(), String> {
        let Some(next) = self.next.take() else {
            return Err("internal error: no connection".to_string());
        };
        let o = &self.sh.opts;
        let timeout_ns = o.timeout_ms * 1_000_000;
        match next {
            Next::One(Conn::Tcp(s), win) => {
                let call = &self.sh.tcp_call;
                tcp::iterate(s, call, timeout_ns, o.method(), win, r, stop)
            }
            Next::One(Conn::Udp(s), mut win) => {
                udp::iterate(s, &self.sh.udp_call, timeout_ns, &mut win, r, stop)
            }
            Next::Many(mut streams, mut calls) => {
                tcp::iterate_many(&mut streams, &self.sh.tcp_call, &mut calls, r, stop)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xid_bases_differ() {
        assert_ne!(base_xid(0, 0, 1), base_xid(1, 0, 1));
        assert_ne!(base_xid(0, 0, 1), base_xid(0, 0, 2));
        assert_ne!(base_xid(0, 0, 1), base_xid(0, 1, 1));
    }
}
