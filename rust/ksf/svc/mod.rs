// SPDX-License-Identifier: GPL-2.0

//! Services and their connections.
//!
//! A [`Svc`] runs a [`Service`]: it listens on TCP or SMC addresses (its
//! [`Transport`]) and binds UDP ones, owns every connection (listeners included) in a registry, and
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
//! A service is safe against any client by default ([`limits`]): it holds
//! at most `max_conns` connections and `mem_max` bytes for them, stops
//! accepting at either limit (making room by closing the oldest connection
//! that never completed a request when others wait), and closes
//! connections idle for `idle_timeout` or stuck in one request for
//! `request_timeout`.
//!
//! Dropping the service (or [`Svc::shutdown`]) stops accepting, marks every
//! connection closing and kicks its task, which closes it through the
//! normal path (callbacks restored, state dropped, socket released); it
//! then waits until the registry is empty and joins the pool.

mod conn;
mod ctx;
pub(crate) mod limits;
mod stats;

use core::net::SocketAddr;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::error::{code::EINVAL, Result};
use kernel::prelude::*;
use kernel::rbtree::RBTree;
use kernel::sync::{Arc, CondVar, Mutex};
use kernel::{new_condvar, new_mutex};

use crate::ksf::debugfs;
use crate::ksf::kthread::KThread;
use crate::ksf::pool::{Config, Pool};
use crate::ksf::smc::{SmcMode, Transport};
use crate::ksf::socket::{Kind, Socket};
use conn::{Conn, Role};
pub use ctx::{ConnCtx, DgramCtx};
use stats::Stats;
pub use stats::{SmcSnapshot, StatsSnapshot};

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
    /// the `conn_mem` statistic and the memory budget; asked after every
    /// `receive`. A connection at rest should hold none.
    fn conn_memory(&self, _conn: &Self::Conn) -> usize {
        0
    }

    /// Whether `conn` is in the middle of a request (part of one received,
    /// or a reply not all sent): then `request_timeout` applies to it,
    /// counted from the last message it completed (see
    /// [`ConnCtx::count_msgs`]); otherwise `idle_timeout` does. Asked after
    /// every `receive`.
    fn busy(&self, _conn: &Self::Conn) -> bool {
        false
    }

    /// Datagrams may be waiting on a UDP socket of the service. A service
    /// that binds no UDP socket need not implement it; the default drops
    /// what arrives (counting each as an error) and waits for more.
    fn datagrams(&self, ctx: &mut DgramCtx<'_>) -> Verdict {
        ctx.drop_some()
    }

    /// Lines of the service's own (`name value`) for the debugfs `stats`
    /// file, after the framework's settings.
    fn show_stats(&self, _out: &mut dyn core::fmt::Write) -> core::fmt::Result {
        Ok(())
    }
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
    /// The configuration, its defaults resolved (`SvcConfig::resolve`).
    cfg: SvcConfig,
    /// TCP connections open (listeners and UDP sockets excluded); changed
    /// under the registry lock, read without it by the limits.
    streams: AtomicU64,
    /// Listeners paused at a limit (see `limits`).
    parked: AtomicU32,
    /// The thread that closes timed-out connections and resumes paused
    /// listeners (which holds a reference to this service until
    /// `shutdown` stops it).
    #[pin]
    sweeper: Mutex<Option<KThread<Arc<SvcInner<S>>>>>,
}

struct Registry<S: Service> {
    map: RBTree<u64, Arc<Conn<S>>>,
    next_id: u64,
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
    /// How stream clients reach the service: TCP, or SMC (see
    /// [`crate::ksf::smc`]).
    pub transport: Transport,
    /// Most TCP connections open at once; 0 for a default derived from
    /// the machine's memory ([`SvcConfig::resolve`]).
    pub max_conns: u64,
    /// Most bytes the service holds for its connections (their ksf state
    /// and buffers, not the kernel's sockets); 0 for a default derived
    /// from the machine's memory.
    pub mem_max: u64,
    /// Seconds a connection may stay without a request before it is
    /// closed; 0 for never.
    pub idle_timeout_s: u32,
    /// Seconds a connection may spend in one request (a record started
    /// and not finished, a reply the peer does not read) before it is
    /// closed; 0 for never.
    pub request_timeout_s: u32,
    /// `SO_SNDBUF` and `SO_RCVBUF` of connections, 0 for the defaults.
    pub sndbuf: i32,
    /// See `sndbuf`.
    pub rcvbuf: i32,
}

impl SvcConfig {
    /// Defaults: the pool's, limits derived from memory, knfsd's idle
    /// timeout (6 minutes), 30 s per request, system socket buffers.
    pub const DEFAULT: SvcConfig = SvcConfig {
        pool: Config::DEFAULT,
        affinity: Affinity::Upcall,
        transport: Transport::Tcp,
        max_conns: 0,
        mem_max: 0,
        idle_timeout_s: 360,
        request_timeout_s: 30,
        sndbuf: 0,
        rcvbuf: 0,
    };
}

impl core::fmt::Display for SvcConfig {
    /// The pool, the affinity unless it is the default, and the limits,
    /// for log lines: "pool of 1-8 threads per CPU, connections on home
    /// CPUs; at most 7936 connections and 31744 KiB, idle timeout 360 s,
    /// request timeout 30 s".
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.pool)?;
        if self.affinity == Affinity::Conn {
            f.write_str(", connections on home CPUs")?;
        }
        match self.transport {
            Transport::Tcp => {}
            Transport::Both => f.write_str(", SMC-D or TCP")?,
            Transport::Smc => f.write_str(", SMC-D only")?,
        }
        write!(
            f,
            "; at most {} connections and {} KiB",
            self.max_conns,
            self.mem_max / 1024
        )?;
        let secs = |f: &mut core::fmt::Formatter<'_>, what, s: u32| {
            if s == 0 {
                write!(f, ", no {what} timeout")
            } else {
                write!(f, ", {what} timeout {s} s")
            }
        };
        secs(f, "idle", self.idle_timeout_s)?;
        secs(f, "request", self.request_timeout_s)
    }
}

impl<S: Service> Svc<S> {
    /// Starts a service with its pool; it serves nothing until
    /// [`Svc::listen`] or [`Svc::bind_udp`].
    pub fn new(service: S, cfg: SvcConfig) -> Result<Svc<S>> {
        if cfg.sndbuf < 0 || cfg.rcvbuf < 0 {
            return Err(EINVAL);
        }
        let cfg = cfg.resolve();
        let pool = Pool::new(cfg.pool)?;
        let stats = Stats::new()?;
        let inner = Arc::pin_init(
            pin_init!(SvcInner {
                service,
                pool,
                conns <- new_mutex!(Registry { map: RBTree::new(), next_id: 1 }, "ksf_svc_conns"),
                empty <- new_condvar!("ksf_svc_empty"),
                stopping: AtomicBool::new(false),
                stats,
                cfg,
                streams: AtomicU64::new(0),
                parked: AtomicU32::new(0),
                sweeper <- new_mutex!(None, "ksf_svc_sweeper"),
            }),
            GFP_KERNEL,
        )?;
        let svc = Svc { inner };
        // From here on, `Drop` stops whatever was started.
        let sweeper = KThread::spawn(None, c"ksf-sweep", svc.inner.clone(), limits::sweeper)?;
        *svc.inner.sweeper.lock() = Some(sweeper);
        Ok(svc)
    }

    /// The service.
    pub fn service(&self) -> &S {
        &self.inner.service
    }

    /// The configuration, with its defaults resolved.
    pub fn config(&self) -> &SvcConfig {
        &self.inner.cfg
    }

    /// Listens for stream connections on `addr`, on TCP or SMC as the
    /// configuration's transport says; returns the bound address (with the
    /// port chosen if `addr`'s was 0).
    pub fn listen(&self, addr: &SocketAddr, backlog: i32) -> Result<SocketAddr> {
        let cfg = &self.inner.cfg;
        let sock = Socket::bound(cfg.transport.listener(), addr)?;
        if sock.kind() == Kind::Smc {
            // SMC sizes a connection's shared-memory buffers from its
            // listener's, when it sets the connection up before accept.
            if cfg.sndbuf > 0 {
                sock.set_sndbuf(cfg.sndbuf)?;
            }
            if cfg.rcvbuf > 0 {
                sock.set_rcvbuf(cfg.rcvbuf)?;
            }
        }
        sock.listen(backlog)?;
        let bound = sock.local_addr()?;
        self.inner
            .start(sock, Role::Listener, None, SmcMode::Tcp, None)?;
        Ok(bound)
    }

    /// Serves UDP datagrams on `addr`; returns the bound address.
    pub fn bind_udp(&self, addr: &SocketAddr) -> Result<SocketAddr> {
        let sock = Socket::bound(Kind::Udp, addr)?;
        let bound = sock.local_addr()?;
        self.inner
            .start(sock, Role::Dgram, None, SmcMode::Tcp, None)?;
        Ok(bound)
    }

    /// The service's counters now.
    pub fn stats(&self) -> StatsSnapshot {
        self.inner.snapshot()
    }

    /// How the connections it accepted on SMC carried their data.
    pub fn smc_stats(&self) -> SmcSnapshot {
        self.inner.stats.smc.snapshot()
    }

    /// Shows the statistics in `/sys/kernel/debug/<dir>/stats`; keep the
    /// returned file for as long as it should exist.
    pub fn debugfs(&self, dir: &'static core::ffi::CStr) -> Result<debugfs::File<StatsView<S>>> {
        debugfs::File::new(dir, c"stats", StatsView(self.inner.clone()))
    }

    /// The thread pool's counters.
    pub fn pool_stats(&self, out: &mut KVec<crate::ksf::pool::GroupStats>) -> Result {
        self.inner.pool.stats(out)
    }

    /// Stops the service: no more accepts, every connection closed through
    /// its normal path, then the pool joined. Idempotent; `Drop` calls it.
    ///
    /// Waits uninterruptibly: it runs in `rmmod`'s context, where a
    /// pending signal must not turn the wait into a spin.
    pub fn shutdown(&self) {
        let inner = &self.inner;
        // No more timeouts or resumed listeners: the sweeper kicks tasks.
        let sweeper = inner.sweeper.lock().take();
        drop(sweeper);
        let mut reg = inner.conns.lock();
        // Under the registry lock: no connection starts after this (see
        // `start`), so every one there is, is kicked here.
        inner.stopping.store(true, Ordering::SeqCst);
        for c in reg.map.values() {
            c.close_soon();
        }
        while reg.map.iter().next().is_some() {
            // `forget` signals when the last one is gone.
            inner.empty.wait(&mut reg);
        }
        drop(reg);
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
        let inner = &*self.0;
        let cfg = &inner.cfg;
        write!(out, "{}", inner.snapshot())?;
        writeln!(out, "max_conns {}\nmem_max {}", cfg.max_conns, cfg.mem_max)?;
        writeln!(
            out,
            "idle_timeout {}\nrequest_timeout {}",
            cfg.idle_timeout_s, cfg.request_timeout_s
        )?;
        writeln!(
            out,
            "accepting {}",
            (inner.parked.load(Ordering::Relaxed) == 0) as u8
        )?;
        writeln!(out, "backend {}", inner.pool.config().backend.name())?;
        writeln!(out, "affinity {}", cfg.affinity.name())?;
        writeln!(out, "transport {}", cfg.transport.name())?;
        if cfg.transport != Transport::Tcp {
            write!(out, "{}", inner.stats.smc.snapshot())?;
        }
        inner.service.show_stats(out)?;
        let mut groups = KVec::new();
        if inner.pool.stats(&mut groups).is_ok() {
            for g in groups.iter() {
                writeln!(
                    out,
                    "cpu{} queued {} ran {} max_wait_us {} workers {} spawned {} \
                     spawn_failed {} online {}",
                    g.cpu,
                    g.queued,
                    g.ran,
                    g.max_wait_ns / 1000,
                    g.workers,
                    g.spawned,
                    g.spawn_failed,
                    g.online as u8
                )?;
            }
        }
        // Every socket of the service, with its task's state: a connection
        // that stays queued, or armed while its socket has data, is a bug.
        let now = crate::ksf::pool::now_ns();
        let reg = inner.conns.lock();
        for c in reg.map.values() {
            c.show(out, now)?;
        }
        Ok(())
    }
}

impl<S: Service> SvcInner<S> {
    fn snapshot(&self) -> StatsSnapshot {
        self.stats.snapshot(self.streams.load(Ordering::Relaxed))
    }

    /// Registers `sock` as a new connection of `role`, hooks its upcalls
    /// and queues its task once (for whatever arrived before the hook);
    /// `mode`: how a stream carries its data, as `accept_some` found it.
    /// A TCP connection that cannot start (shutdown, a limit reached
    /// meanwhile, no memory) is counted as refused, and also as
    /// `nomem_refused` for want of memory.
    fn start(
        self: &Arc<Self>,
        sock: Socket,
        role: Role,
        peer: Option<SocketAddr>,
        mode: SmcMode,
        state: Option<S::Conn>,
    ) -> Result {
        let r = self.try_start(sock, role, peer, mode, state);
        if role == Role::Stream {
            let c = match r {
                Ok(()) => &self.stats.accepted,
                Err(e) => {
                    if ctx::is_nomem(e) {
                        stats::CpuCounters::add(&self.stats.local().nomem_refused, 1);
                    }
                    &self.stats.refused
                }
            };
            Stats::bump(c);
        }
        r
    }

    fn try_start(
        self: &Arc<Self>,
        sock: Socket,
        role: Role,
        peer: Option<SocketAddr>,
        mode: SmcMode,
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
        let conn = Conn::new(self.clone(), role, peer, mode, state)?;
        {
            let mut reg = self.conns.lock();
            if self.stopping.load(Ordering::SeqCst) {
                drop(reg);
                conn.discard();
                return Err(crate::ksf::ffi::errno(kernel::bindings::ESHUTDOWN));
            }
            let streams = self.streams.load(Ordering::Relaxed);
            if role == Role::Stream && streams >= self.cfg.max_conns {
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
                self.streams.store(streams + 1, Ordering::Relaxed);
            }
        }
        conn.attach(sock);
        Ok(())
    }

    /// Removes a closed connection from the registry; resumes listeners
    /// paused at a limit if it made room.
    fn forget(&self, id: u64, role: Role) {
        let mut reg = self.conns.lock();
        if reg.map.remove(&id).is_some() && role == Role::Stream {
            self.streams.fetch_sub(1, Ordering::Relaxed);
            Stats::bump(&self.stats.closed);
        }
        if reg.map.iter().next().is_none() && self.stopping.load(Ordering::SeqCst) {
            self.empty.notify_all();
        }
        // Against `Conn::park`'s fence: a listener parking now sees the
        // room made, or this sees it parked.
        core::sync::atomic::fence(Ordering::SeqCst);
        if role == Role::Stream && self.parked.load(Ordering::SeqCst) != 0 && self.admits() {
            self.resume_listeners(&reg);
        }
    }
}
