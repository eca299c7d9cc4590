// SPDX-License-Identifier: GPL-2.0

//! rpctest's job: a new connection for every iteration, a new window of
//! calls on it. The thread around it is ksf-tools' job loop.

use crate::call::Template;
use crate::opts::Opts;
use crate::window::Window;
use crate::{tcp, udp, Counts, IterResult};
use ksf_tools::cpu::monotonic_ns;
use ksf_tools::job_loop::Job;
use ksf_tools::jobs::{connect, io_text, Conn};
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
}

/// One job: its number, and the connection and calls of the iteration
/// about to run.
pub struct RpcJob {
    job: usize,
    sh: Arc<Shared>,
    next: Option<(Conn, Window)>,
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

/// A first xid for each job and iteration, different from run to run.
fn base_xid(job: usize, iter: u64) -> u32 {
    let mut z = (u64::from(std::process::id()) << 32)
        ^ monotonic_ns().rotate_left(17)
        ^ ((job as u64) << 20)
        ^ iter;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) as u32
}

impl Job for RpcJob {
    type Counts = Counts;

    /// Connects: every iteration has a connection of its own.
    fn prepare(&mut self, iter: u64) -> Result<(), String> {
        let (o, addr) = (&self.sh.opts, self.sh.addr);
        let conn = connect(addr, o.udp, Duration::from_millis(o.timeout_ms)).map_err(|e| {
            format!(
                "cannot connect to {addr} ({}): {}",
                o.proto(),
                io_text(&e, "RPC")
            )
        })?;
        let win = Window::new(base_xid(self.job, iter), o.count, o.inflight, o.procedure);
        self.next = Some((conn, win));
        Ok(())
    }

    fn iterate(&mut self, r: &mut IterResult, stop: &AtomicBool) -> Result<(), String> {
        let Some((conn, mut win)) = self.next.take() else {
            return Err("internal error: no connection".to_string());
        };
        let o = &self.sh.opts;
        let timeout_ns = o.timeout_ms * 1_000_000;
        match conn {
            Conn::Tcp(s) => {
                let call = &self.sh.tcp_call;
                tcp::iterate(s, call, timeout_ns, o.method(), &mut win, r, stop)
            }
            Conn::Udp(s) => udp::iterate(s, &self.sh.udp_call, timeout_ns, &mut win, r, stop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xid_bases_differ() {
        assert_ne!(base_xid(0, 1), base_xid(1, 1));
        assert_ne!(base_xid(0, 1), base_xid(0, 2));
    }
}
