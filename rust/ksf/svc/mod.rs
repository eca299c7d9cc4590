// SPDX-License-Identifier: GPL-2.0

//! Services and their connections.
//!
//! A [`Svc`] runs a [`Service`]: it listens on TCP addresses and binds UDP
//! ones, owns every connection (listeners included) in a registry, and
//! runs their work on its own [`Pool`].
//!
//! Each socket of the service is a [`conn::Conn`]: reference counted,
//! with its socket callbacks installed and one task embedded. Its receive
//! invariant is the original's: at any moment the connection's upcall is
//! armed or its task is queued or running, never both. An event (upcall or
//! kick) queues the task only by moving its state from armed to queued; an
//! event while it runs marks it to run again, and the task then queues
//! itself instead of arming; the task never touches the socket after
//! arming. So each connection has exactly one receiver, no lock on the
//! receive path and no lost wake-up.
//!
//! Dropping the service (or [`Svc::shutdown`]) stops accepting, marks every
//! connection closing and kicks its task, which closes it through the
//! normal path (callbacks restored, state dropped, socket released); it
//! then waits until the registry is empty and joins the pool.

mod conn;
mod ctx;

use core::net::SocketAddr;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::error::{code::EINVAL, Result};
use kernel::prelude::*;
use kernel::rbtree::RBTree;
use kernel::sync::{Arc, CondVar, Mutex};
use kernel::{new_condvar, new_mutex};

use super::debugfs;
use super::pool::{Config, Pool};
use super::socket::{Kind, Socket};
use conn::{Conn, Role};
pub use ctx::{ConnCtx, DgramCtx};

/// What a service's callback wants next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Input is drained (`EAGAIN`): wake up when more arrives.
    WaitRead,
    /// A send could not complete: wake up when the socket is writable.
    /// Input is left in the socket meanwhile (that is the backpressure).
    WaitWrite,
    /// The budget for this run is used up but work remains: run again
    /// after the other tasks queued on this CPU.
    Yield,
    /// Close the connection.
    Close,
}

/// A network service: the protocol, and nothing else.
pub trait Service: Send + Sync + Sized + 'static {
    /// The service's state for one TCP connection.
    type Conn: Send;

    /// A TCP connection from `peer` was accepted: its initial state, or an
    /// error to refuse it (the connection is closed).
    fn accept(&self, peer: &SocketAddr) -> Result<Self::Conn>;

    /// Data, end of stream, an error or send space may be waiting on the
    /// connection. Called on the connection's task, never concurrently for
    /// one connection.
    fn receive(&self, ctx: &mut ConnCtx<'_>, conn: &mut Self::Conn) -> Verdict;

    /// The connection is gone (its socket is already released).
    fn closed(&self, _conn: Self::Conn) {}

    /// Bytes of memory `conn` holds beyond its own size (its buffers), for
    /// the `conn_mem` statistic; asked after every `receive`.
    fn conn_memory(&self, _conn: &Self::Conn) -> usize {
        0
    }

    /// Datagrams may be waiting on a UDP socket of the service.
    fn datagrams(&self, _ctx: &mut DgramCtx<'_>) -> Verdict {
        Verdict::Close
    }
}

/// A service's counters.
#[derive(Default)]
pub struct Stats {
    pub(crate) accepted: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) closed: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) msgs_in: AtomicU64,
    pub(crate) msgs_out: AtomicU64,
    pub(crate) sends: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) runs: AtomicU64,
    /// Memory held by open TCP connections (see `Service::conn_memory`).
    pub(crate) conn_mem: AtomicU64,
    pub(crate) conn_mem_peak: AtomicU64,
}

/// A snapshot of [`Stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// TCP connections accepted.
    pub accepted: u64,
    /// Connections refused by the service or a limit.
    pub refused: u64,
    /// TCP connections open now.
    pub active: u64,
    /// TCP connections closed.
    pub closed: u64,
    /// Payload bytes received.
    pub bytes_in: u64,
    /// Payload bytes sent.
    pub bytes_out: u64,
    /// Messages received (as the service counts them).
    pub msgs_in: u64,
    /// Messages sent.
    pub msgs_out: u64,
    /// Send calls.
    pub sends: u64,
    /// Protocol errors.
    pub errors: u64,
    /// Task runs.
    pub runs: u64,
    /// Bytes held by open TCP connections: their ksf state and what the
    /// service reports with `Service::conn_memory`.
    pub conn_mem: u64,
    /// The most `conn_mem` has been.
    pub conn_mem_peak: u64,
}

/// The part of a service its connections share.
#[pin_data]
pub(crate) struct SvcInner<S: Service> {
    service: S,
    pool: Pool,
    /// Every socket of the service, by id; process context only.
    #[pin]
    conns: Mutex<Registry<S>>,
    /// Signalled when the registry empties during shutdown.
    #[pin]
    empty: CondVar,
    stopping: AtomicBool,
    stats: Stats,
    cfg: SvcConfig,
}

struct Registry<S: Service> {
    map: RBTree<u64, Arc<Conn<S>>>,
    next_id: u64,
    /// TCP connections (listeners and UDP sockets excluded).
    streams: u64,
}

/// A running service.
pub struct Svc<S: Service> {
    inner: Arc<SvcInner<S>>,
}

/// Where a connection's task runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Affinity {
    /// On the CPU that took the socket callback (the original's choice):
    /// no cross-CPU wake-up, but on loopback that is the peer's CPU.
    Upcall,
    /// On a home CPU given to each connection in turn when it starts
    /// (as nvmet-tcp does): a connection's runs stay on one CPU, and the
    /// connections are spread over all of them.
    Conn,
}

impl Affinity {
    /// The name used by the `affinity` module parameter.
    pub fn name(self) -> &'static str {
        match self {
            Affinity::Upcall => "upcall",
            Affinity::Conn => "conn",
        }
    }

    /// The affinity called `name`.
    pub fn from_name(name: &[u8]) -> Option<Affinity> {
        match name {
            b"upcall" => Some(Affinity::Upcall),
            b"conn" => Some(Affinity::Conn),
            _ => None,
        }
    }
}

/// How a service runs.
#[derive(Clone, Copy, Debug)]
pub struct SvcConfig {
    /// The thread pool.
    pub pool: Config,
    /// Where connections' tasks run.
    pub affinity: Affinity,
    /// Most TCP connections open at once; more are refused.
    pub max_conns: u64,
    /// `SO_SNDBUF` and `SO_RCVBUF` of connections, 0 for the defaults.
    pub sndbuf: i32,
    /// See `sndbuf`.
    pub rcvbuf: i32,
}

impl SvcConfig {
    /// Defaults: the pool's defaults, 65536 connections, system buffers.
    pub const DEFAULT: SvcConfig = SvcConfig {
        pool: Config::DEFAULT,
        affinity: Affinity::Upcall,
        max_conns: 65536,
        sndbuf: 0,
        rcvbuf: 0,
    };
}

impl core::fmt::Display for SvcConfig {
    /// The pool, and the affinity unless it is the default, for log lines:
    /// "pool of 1-8 threads per CPU, connections on home CPUs".
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.pool)?;
        match self.affinity {
            Affinity::Upcall => Ok(()),
            Affinity::Conn => f.write_str(", connections on home CPUs"),
        }
    }
}

impl<S: Service> Svc<S> {
    /// Starts a service with its pool; it serves nothing until
    /// [`Svc::listen`] or [`Svc::bind_udp`].
    pub fn new(service: S, cfg: SvcConfig) -> Result<Svc<S>> {
        if cfg.max_conns == 0 || cfg.sndbuf < 0 || cfg.rcvbuf < 0 {
            return Err(EINVAL);
        }
        let pool = Pool::new(cfg.pool)?;
        let inner = Arc::pin_init(
            pin_init!(SvcInner {
                service,
                pool,
                conns <- new_mutex!(Registry { map: RBTree::new(), next_id: 1, streams: 0 }, "ksf_svc_conns"),
                empty <- new_condvar!("ksf_svc_empty"),
                stopping: AtomicBool::new(false),
                stats: Stats::default(),
                cfg,
            }),
            GFP_KERNEL,
        )?;
        Ok(Svc { inner })
    }

    /// The service.
    pub fn service(&self) -> &S {
        &self.inner.service
    }

    /// Listens for TCP connections on `addr`; returns the bound address
    /// (with the port chosen if `addr`'s was 0).
    pub fn listen(&self, addr: &SocketAddr, backlog: i32) -> Result<SocketAddr> {
        let sock = Socket::bound(Kind::Tcp, addr)?;
        sock.listen(backlog)?;
        let bound = sock.local_addr()?;
        self.inner.start(sock, Role::Listener, None, None)?;
        Ok(bound)
    }

    /// Serves UDP datagrams on `addr`; returns the bound address.
    pub fn bind_udp(&self, addr: &SocketAddr) -> Result<SocketAddr> {
        let sock = Socket::bound(Kind::Udp, addr)?;
        let bound = sock.local_addr()?;
        self.inner.start(sock, Role::Dgram, None, None)?;
        Ok(bound)
    }

    /// The service's counters now.
    pub fn stats(&self) -> StatsSnapshot {
        self.inner.snapshot()
    }

    /// Shows the statistics in `/sys/kernel/debug/<dir>/stats`; keep the
    /// returned file for as long as it should exist.
    pub fn debugfs(&self, dir: &'static core::ffi::CStr) -> Result<debugfs::File<StatsView<S>>> {
        debugfs::File::new(dir, c"stats", StatsView(self.inner.clone()))
    }

    /// The thread pool's counters.
    pub fn pool_stats(&self, out: &mut KVec<super::pool::GroupStats>) -> Result {
        self.inner.pool.stats(out)
    }

    /// Stops the service: no more accepts, every connection closed through
    /// its normal path, then the pool joined. Idempotent; `Drop` calls it.
    pub fn shutdown(&self) {
        let inner = &self.inner;
        let mut snapshot = KVec::new();
        {
            let reg = inner.conns.lock();
            inner.stopping.store(true, Ordering::SeqCst);
            for c in reg.map.values() {
                // Without memory for the snapshot, close what fits and
                // come back for the rest below.
                if snapshot.push(c.clone(), GFP_KERNEL).is_err() {
                    break;
                }
            }
            drop(reg);
        }
        loop {
            for c in snapshot.iter() {
                c.close_soon(inner);
            }
            while super::vec::pop(&mut snapshot).is_some() {}
            let mut reg = inner.conns.lock();
            if reg.map.iter().next().is_none() {
                break;
            }
            // Wait for the closings to land, then re-kick stragglers
            // (connections accepted while the snapshot was taken).
            let _ = inner
                .empty
                .wait_interruptible_timeout(&mut reg, kernel::time::msecs_to_jiffies(100));
            for c in reg.map.values() {
                if snapshot.push(c.clone(), GFP_KERNEL).is_err() {
                    break;
                }
            }
        }
        inner.pool.shutdown();
    }
}

impl<S: Service> Drop for Svc<S> {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What the debugfs `stats` file shows.
pub struct StatsView<S: Service>(Arc<SvcInner<S>>);

impl<S: Service> debugfs::Show for StatsView<S> {
    fn show(&self, out: &mut debugfs::SeqFile<'_>) -> core::fmt::Result {
        use core::fmt::Write;
        let s = self.0.snapshot();
        writeln!(
            out,
            "accepted {}\nrefused {}\nactive {}\nclosed {}",
            s.accepted, s.refused, s.active, s.closed
        )?;
        writeln!(
            out,
            "bytes_in {}\nbytes_out {}\nmsgs_in {}\nmsgs_out {}",
            s.bytes_in, s.bytes_out, s.msgs_in, s.msgs_out
        )?;
        writeln!(
            out,
            "sends {}\nerrors {}\nruns {}\nconn_mem {}\nconn_mem_peak {}",
            s.sends, s.errors, s.runs, s.conn_mem, s.conn_mem_peak
        )?;
        writeln!(out, "backend {}", self.0.pool.config().backend.name())?;
        writeln!(out, "affinity {}", self.0.cfg.affinity.name())?;
        let mut groups = KVec::new();
        if self.0.pool.stats(&mut groups).is_ok() {
            for g in groups.iter() {
                writeln!(
                    out,
                    "cpu{} queued {} ran {} max_wait_us {} workers {} spawned {}",
                    g.cpu,
                    g.queued,
                    g.ran,
                    g.max_wait_ns / 1000,
                    g.workers,
                    g.spawned
                )?;
            }
        }
        // Every socket of the service, with its task's state: a connection
        // that stays queued, or armed while its socket has data, is a bug.
        let now = super::pool::now_ns();
        let reg = self.0.conns.lock();
        for c in reg.map.values() {
            c.show(out, now)?;
        }
        Ok(())
    }
}

impl<S: Service> SvcInner<S> {
    fn snapshot(&self) -> StatsSnapshot {
        let s = &self.stats;
        let active = self.conns.lock().streams;
        StatsSnapshot {
            accepted: s.accepted.load(Ordering::Relaxed),
            refused: s.refused.load(Ordering::Relaxed),
            active,
            closed: s.closed.load(Ordering::Relaxed),
            bytes_in: s.bytes_in.load(Ordering::Relaxed),
            bytes_out: s.bytes_out.load(Ordering::Relaxed),
            msgs_in: s.msgs_in.load(Ordering::Relaxed),
            msgs_out: s.msgs_out.load(Ordering::Relaxed),
            sends: s.sends.load(Ordering::Relaxed),
            errors: s.errors.load(Ordering::Relaxed),
            runs: s.runs.load(Ordering::Relaxed),
            conn_mem: s.conn_mem.load(Ordering::Relaxed),
            conn_mem_peak: s.conn_mem_peak.load(Ordering::Relaxed),
        }
    }

    /// Registers `sock` as a new connection of `role`, hooks its upcalls
    /// and queues its task once (for whatever arrived before the hook).
    fn start(
        self: &Arc<Self>,
        sock: Socket,
        role: Role,
        peer: Option<SocketAddr>,
        state: Option<S::Conn>,
    ) -> Result {
        if role == Role::Stream {
            // Replies go out as soon as they are written.
            sock.set_nodelay(true)?;
        }
        if role != Role::Listener {
            if self.cfg.sndbuf > 0 {
                sock.set_sndbuf(self.cfg.sndbuf)?;
            }
            if self.cfg.rcvbuf > 0 {
                sock.set_rcvbuf(self.cfg.rcvbuf)?;
            }
        }
        let conn = Conn::new(self.clone(), role, peer, state)?;
        {
            let mut reg = self.conns.lock();
            if self.stopping.load(Ordering::SeqCst) {
                drop(reg);
                conn.discard();
                return Err(super::ffi::errno(kernel::bindings::ESHUTDOWN));
            }
            if role == Role::Stream && reg.streams >= self.cfg.max_conns {
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                drop(reg);
                conn.discard();
                return Err(kernel::error::code::EBUSY);
            }
            let id = reg.next_id;
            reg.next_id += 1;
            conn.set_id(id);
            if role == Role::Stream && self.cfg.affinity == Affinity::Conn {
                conn.set_home(self.pool.cpu_of(id));
            }
            if let Err(e) = reg.map.try_create_and_insert(id, conn.clone(), GFP_KERNEL) {
                drop(reg);
                conn.discard();
                return Err(e);
            }
            if role == Role::Stream {
                reg.streams += 1;
            }
        }
        conn.attach(sock);
        Ok(())
    }

    /// Removes a closed connection from the registry.
    fn forget(&self, id: u64, role: Role) {
        let mut reg = self.conns.lock();
        if reg.map.remove(&id).is_some() && role == Role::Stream {
            reg.streams -= 1;
            self.stats.closed.fetch_add(1, Ordering::Relaxed);
        }
        if reg.map.iter().next().is_none() && self.stopping.load(Ordering::SeqCst) {
            self.empty.notify_all();
        }
    }
}
