// SPDX-License-Identifier: GPL-2.0

//! One socket of a service: a listener, a TCP connection or a UDP socket.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::net::SocketAddr;
use core::ptr::NonNull;
use core::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, Ordering};

use kernel::error::{code::EAGAIN, Result};
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};

use super::ctx::is_nomem;
use super::stats::{CpuCounters, Stats};
use super::{ConnCtx, DgramCtx, Service, SvcConfig, SvcInner, Verdict};
use crate::ksf::pool::now_ns;
use crate::ksf::pool::task::{impl_has_task, Runnable, TaskLink};
use crate::ksf::proto::runstate::{RunState, State};
use crate::ksf::smc::SmcMode;
use crate::ksf::socket::Socket;
use crate::ksf::upcall::{Event, Hooked, SkHook, UpcallTarget};

/// Connections accepted per run of a listener's task.
const ACCEPT_BUDGET: usize = 16;
/// Connections a listener at a limit evicts at most per run.
const EVICT_BUDGET: usize = 256;
/// `Conn::home` of a task that runs on the CPU of each event.
const NO_HOME: u32 = u32::MAX;

/// What a [`Conn`]'s socket is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Listener,
    Stream,
    Dgram,
}

/// Why the sweeper closes a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timeout {
    /// No request for `idle_timeout`.
    Idle,
    /// In one request for `request_timeout`.
    Request,
}

/// Why a listener's run stops without a verdict.
enum Stop {
    /// At a limit: accepting pauses (`Conn::park`).
    Limit,
    /// No memory for a new socket: the run backs off (`Conn::back_off`).
    NoMemory,
}

/// What only the connection's task touches.
struct Owned<S: Service> {
    io: Option<Hooked<Conn<S>>>,
    state: Option<S::Conn>,
    /// What this connection adds to the `conn_mem` statistic.
    mem: usize,
    /// A listener's last run ended paused at a limit.
    paused: bool,
    /// Runs in a row whose send found no room while the socket had room
    /// (the network stack could not allocate; see `run`).
    nomem_sends: u8,
}

/// The right to a connection's [`Owned`] part, and so to its socket: held
/// by its running task, and given up by arming or parking ([`Conn::arm`]
/// and [`Conn::park`] consume it), so that nothing borrowed from it can be
/// used afterwards.
///
/// It holds a pointer, not a reference: once given up, another CPU may run
/// the task and take the right at once, while the function that consumed
/// it still runs; a `&mut` argument would claim exclusive access for all
/// of that call.
///
/// # Invariants
///
/// `ptr` points to the `owned` part of a live [`Conn`] whose task is
/// running on this thread and has not armed or parked yet.
struct Exclusive<'a, S: Service> {
    ptr: NonNull<Owned<S>>,
    _p: PhantomData<&'a mut Owned<S>>,
}

impl<'a, S: Service> Exclusive<'a, S> {
    /// The owned part, for as long as the right is held.
    fn get(&mut self) -> &mut Owned<S> {
        // SAFETY: The task runs, so no one else touches `owned` until the
        // right is given up (type invariant), which takes `self` by value
        // and so ends this borrow first.
        unsafe { self.ptr.as_mut() }
    }
}

/// A socket of a service.
///
/// # Invariants
///
/// `owned` is accessed only by the connection's task: `attach` fills it
/// before the task is first queued, and afterwards only `run` touches it.
/// `state` (the protocol of [`RunState`]) guarantees that the task is
/// queued or running at most once at any moment, so `run` has exclusive
/// access: only an event that finds it armed queues it, `run` arms only
/// through [`Conn::arm`] and parks only through [`Conn::park`], which take
/// its [`Exclusive`] right, and only the `unpark` that clears `parked`
/// queues a parked task.
pub(crate) struct Conn<S: Service> {
    link: TaskLink,
    hook: SkHook,
    svc: Arc<SvcInner<S>>,
    role: Role,
    peer: Option<SocketAddr>,
    /// How a stream carries its data (`Tcp` for listeners and UDP
    /// sockets).
    mode: SmcMode,
    id: AtomicU64,
    /// The CPU every run is queued on, or `NO_HOME`: the CPU of the event.
    home: AtomicU32,
    /// When the last run started (`now_ns`): activity, for the idle
    /// timeout and the statistics.
    last_run_ns: AtomicU64,
    /// Since when the connection is in its current request (`now_ns`), or
    /// 0 when it is not in one: for the request timeout.
    busy_since: AtomicU64,
    /// Armed, queued, running or running again.
    state: RunState,
    /// The connection is to close (shutdown, a timeout, eviction).
    closing: AtomicBool,
    /// The connection completed a request (knfsd's `XPT_PEER_VALID`):
    /// it is not evicted for a waiting one.
    valid: AtomicBool,
    /// The task waits for send space (its last run asked for it): then
    /// write-space upcalls wake it and data upcalls do not; otherwise the
    /// reverse.
    wants_write: AtomicBool,
    /// A listener paused at a limit: not armed, and no event queues it;
    /// `unpark` does.
    parked: AtomicBool,
    /// A run could not get memory: not armed, and no event queues it;
    /// `resume` does (the sweeper, `close_soon`).
    backoff: AtomicBool,
    owned: UnsafeCell<Owned<S>>,
}

// SAFETY: `owned` is only touched by one task at a time (type invariant);
// the rest is atomics and `Send + Sync` parts.
unsafe impl<S: Service> Sync for Conn<S> {}
// SAFETY: As above; `S::Conn: Send`.
unsafe impl<S: Service> Send for Conn<S> {}

impl_has_task!(Conn<S>, link; S: Service);

impl<S: Service> Conn<S> {
    pub(crate) fn new(
        svc: Arc<SvcInner<S>>,
        role: Role,
        peer: Option<SocketAddr>,
        mode: SmcMode,
        state: Option<S::Conn>,
    ) -> Result<Arc<Self>> {
        Ok(Arc::new(
            Conn {
                link: TaskLink::new::<Conn<S>>(),
                hook: SkHook::new(),
                svc,
                role,
                peer,
                mode,
                id: AtomicU64::new(0),
                home: AtomicU32::new(NO_HOME),
                last_run_ns: AtomicU64::new(now_ns() as u64),
                busy_since: AtomicU64::new(0),
                // `attach` queues the task once; until then no event can
                // queue it.
                state: RunState::new(State::Queued),
                closing: AtomicBool::new(false),
                valid: AtomicBool::new(false),
                wants_write: AtomicBool::new(false),
                parked: AtomicBool::new(false),
                backoff: AtomicBool::new(false),
                owned: UnsafeCell::new(Owned {
                    io: None,
                    state,
                    mem: 0,
                    paused: false,
                    nomem_sends: 0,
                }),
            },
            GFP_KERNEL,
        )?)
    }

    pub(crate) fn set_id(&self, id: u64) {
        self.id.store(id, Ordering::Relaxed);
    }

    pub(crate) fn role(&self) -> Role {
        self.role
    }

    /// Writes the connection's line of the statistics:
    /// `conn ID ROLE STATE last_run_ms_ago N [cpu N] [busy_ms N] [valid]
    /// [parked] [closing] [smcd|smcr|fallback]`.
    pub(crate) fn show(&self, out: &mut impl core::fmt::Write, now_ns: i64) -> core::fmt::Result {
        let role = match self.role {
            Role::Listener => "listener",
            Role::Stream => "stream",
            Role::Dgram => "dgram",
        };
        let state = match self.state.get() {
            State::Armed => "armed",
            State::Queued => "queued",
            State::Running => "running",
            State::RunningAgain => "running_again",
        };
        let last = self.last_run_ns.load(Ordering::Relaxed) as i64;
        write!(
            out,
            "conn {} {} {} last_run_ms_ago {}",
            self.id.load(Ordering::Relaxed),
            role,
            state,
            (now_ns - last) / 1_000_000
        )?;
        let home = self.home.load(Ordering::Relaxed);
        if home != NO_HOME {
            write!(out, " cpu {home}")?;
        }
        let busy = self.busy_since.load(Ordering::Relaxed) as i64;
        if busy != 0 {
            write!(out, " busy_ms {}", (now_ns - busy) / 1_000_000)?;
        }
        for (flag, name) in [
            (&self.valid, " valid"),
            (&self.parked, " parked"),
            (&self.closing, " closing"),
        ] {
            if flag.load(Ordering::Relaxed) {
                out.write_str(name)?;
            }
        }
        if self.mode != SmcMode::Tcp {
            write!(out, " {}", self.mode.name())?;
        }
        out.write_str("\n")
    }

    /// Queues every run on `cpu` from now on. Before `attach`.
    pub(crate) fn set_home(&self, cpu: u32) {
        self.home.store(cpu, Ordering::Relaxed);
    }

    /// Hooks `sock` and queues the task once. Called once, before the task
    /// can have been queued (`state` is still queued).
    pub(crate) fn attach(self: &Arc<Self>, sock: Socket) {
        let hooked = Hooked::new(sock, self.clone());
        // SAFETY: The task has never been queued and cannot be until the
        // enqueue below (`state` is queued), so no one else touches `owned`.
        let owned = unsafe { &mut *self.owned.get() };
        owned.io = Some(hooked);
        self.account(owned.state.as_ref(), &mut owned.mem);
        self.clone().queue();
    }

    /// Hands the service back the state of a connection that will never
    /// start (refused after `accept`). Only before `attach`.
    pub(crate) fn discard(&self) {
        // SAFETY: Before `attach` the task was never queued and no one
        // else touches `owned` (type invariant).
        let owned = unsafe { &mut *self.owned.get() };
        if let Some(state) = owned.state.take() {
            self.svc.service.closed(state);
        }
    }

    /// Queues the task on its home CPU's group, or else the current CPU's.
    fn queue(self: Arc<Self>) {
        let pool: *const crate::ksf::pool::Pool = &self.svc.pool;
        let home = self.home.load(Ordering::Relaxed);
        // SAFETY: The pool outlives every task it runs (the service joins
        // it only after all connections are closed and their tasks ran),
        // and `enqueue`/`enqueue_on` stop touching the pool before the
        // item can run.
        unsafe {
            if home == NO_HOME {
                (*pool).enqueue(self)
            } else {
                (*pool).enqueue_on(home, self)
            }
        }
    }

    /// Asks the connection to close and makes sure its task runs; false
    /// if it was closing already.
    pub(crate) fn close_soon(self: &Arc<Self>) -> bool {
        if self.closing.swap(true, Ordering::SeqCst) {
            return false;
        }
        // A parked listener is queued by `unpark` only, and a task backed
        // off for memory by `resume`; one parking or backing off right
        // now sees `closing` (see `park` and `back_off`).
        if !self.unpark() && !self.resume() {
            self.kick();
        }
        true
    }

    /// A timeout the connection has reached at `now`, if any.
    pub(crate) fn expired(&self, now: i64, cfg: &SvcConfig) -> Option<Timeout> {
        if self.role != Role::Stream || self.closing.load(Ordering::Relaxed) {
            return None;
        }
        let since = |t: &AtomicU64| now - t.load(Ordering::Relaxed) as i64;
        let secs = |s: u32| i64::from(s) * 1_000_000_000;
        if self.busy_since.load(Ordering::Relaxed) != 0 {
            let limit = cfg.request_timeout_s;
            (limit != 0 && since(&self.busy_since) > secs(limit)).then_some(Timeout::Request)
        } else {
            let limit = cfg.idle_timeout_s;
            (limit != 0 && since(&self.last_run_ns) > secs(limit)).then_some(Timeout::Idle)
        }
    }

    /// Whether the connection may be evicted: open, and it never
    /// completed a request.
    pub(crate) fn evictable(&self) -> bool {
        self.role == Role::Stream
            && !self.valid.load(Ordering::Relaxed)
            && !self.closing.load(Ordering::Relaxed)
    }

    /// An event: queues the task if it is armed, makes a running task
    /// run again, and does nothing to a queued one (which will look at the
    /// socket). Callable from any context.
    fn kick(self: &Arc<Self>) {
        if self.state.event() {
            self.clone().queue();
        }
    }

    /// Ends a run waiting for an event. `None`: armed, and the right to
    /// the connection is gone (the next event may run the task on another
    /// CPU at once). `Some`: an event came during the run; it runs again.
    fn arm<'a>(&self, ex: Exclusive<'a, S>) -> Option<Exclusive<'a, S>> {
        if self.state.try_arm() {
            None
        } else {
            Some(ex)
        }
    }

    /// Ends a listener's run at a limit without arming it: no event
    /// queues it until `unpark` (a connection closed, the sweeper, or
    /// shutdown). Gives up the right to the connection.
    fn park(self: &Arc<Self>, ex: Exclusive<'_, S>) {
        // Count pauses, not the sweeper's looks at a paused listener. The
        // right to the connection ends with this block.
        let first = {
            let mut ex = ex;
            !core::mem::replace(&mut ex.get().paused, true)
        };
        let svc = &self.svc;
        if first {
            Stats::bump(&svc.stats.paused);
        }
        self.parked.store(true, Ordering::SeqCst);
        svc.parked.fetch_add(1, Ordering::SeqCst);
        // Room may have been made, or shutdown begun, since the run looked
        // (those who did it saw no parked listener): look again.
        fence(Ordering::SeqCst);
        if self.closing.load(Ordering::SeqCst) || svc.admits() {
            self.unpark();
        }
    }

    /// Ends a run that could not get memory without arming it: no event
    /// queues it until `resume` (the sweeper's next look, within a
    /// second, or `close_soon`), so that a lasting shortage does not keep
    /// a CPU busy retrying. Gives up the right to the connection.
    fn back_off(self: &Arc<Self>, _ex: Exclusive<'_, S>) {
        self.backoff.store(true, Ordering::SeqCst);
        // Against `close_soon`: it sees the flag, or this sees `closing`.
        fence(Ordering::SeqCst);
        if self.closing.load(Ordering::SeqCst) {
            self.resume();
        }
    }

    /// Queues a task backed off for memory; false if it was not.
    pub(crate) fn resume(self: &Arc<Self>) -> bool {
        if !self.backoff.load(Ordering::SeqCst) || !self.backoff.swap(false, Ordering::SeqCst) {
            return false;
        }
        self.state.requeue();
        self.clone().queue();
        true
    }

    /// Queues a parked listener; false if it was not parked.
    pub(crate) fn unpark(self: &Arc<Self>) -> bool {
        if !self.parked.swap(false, Ordering::SeqCst) {
            return false;
        }
        self.svc.parked.fetch_sub(1, Ordering::SeqCst);
        self.state.requeue();
        self.clone().queue();
        true
    }

    /// Brings the `conn_mem` statistic up to date with this connection:
    /// its own size and its service state's buffers while it has a state.
    /// `accounted` is what the connection adds now (`Owned::mem`). True if
    /// it grew and the service is now over its memory budget.
    fn account(&self, state: Option<&S::Conn>, accounted: &mut usize) -> bool {
        let mem = match state {
            Some(state) => core::mem::size_of::<Self>() + self.svc.service.conn_memory(state),
            None => 0,
        };
        let stats = &self.svc.stats;
        let mut over = false;
        if mem > *accounted {
            let grow = (mem - *accounted) as u64;
            let now = stats.conn_mem.fetch_add(grow, Ordering::Relaxed) + grow;
            stats.conn_mem_peak.fetch_max(now, Ordering::Relaxed);
            over = now > self.svc.cfg.mem_max;
        } else if mem < *accounted {
            let shrink = (*accounted - mem) as u64;
            stats.conn_mem.fetch_sub(shrink, Ordering::Relaxed);
        }
        *accounted = mem;
        over
    }

    fn close(&self, owned: &mut Owned<S>) {
        // Closed by ksf (a timeout, eviction, shutdown): an SMC connection
        // does not wait for its peer to take what is queued.
        if let Some(io) = owned.io.as_ref() {
            if self.closing.load(Ordering::Relaxed) {
                io.sock().close_now();
            }
        }
        // Restores the callbacks (no upcall can run after this), then
        // releases the socket.
        drop(owned.io.take());
        if let Some(state) = owned.state.take() {
            self.svc.service.closed(state);
        }
        self.account(None, &mut owned.mem);
        self.svc.forget(self.id.load(Ordering::Relaxed), self.role);
    }

    /// The listener's work: accept up to a budget of connections. `Err`
    /// at a limit (accepting pauses, see `park`) or without memory for a
    /// new socket (the connection stays in the accept queue, see
    /// `back_off`).
    fn accept_some(&self, listener: &Hooked<Conn<S>>) -> core::result::Result<Verdict, Stop> {
        let svc = &*self.svc;
        for _ in 0..ACCEPT_BUDGET {
            // Limits first: a connection over them is left in the accept
            // queue, not accepted and reset.
            if !svc.admits() {
                // As knfsd: each connection waiting to be accepted
                // displaces the oldest one that never completed a request
                // (all at once, up to `EVICT_BUDGET`: a flood's queue must
                // turn over faster than it fills, or new connections'
                // SYNs are dropped, good clients' too).
                let waiting = listener.sock().accept_backlog() as usize;
                if waiting > 0 {
                    svc.evict(waiting.min(EVICT_BUDGET));
                }
                return Err(Stop::Limit);
            }
            let new = match listener.accept() {
                Ok(new) => new,
                Err(e) if e == EAGAIN => return Ok(Verdict::WaitRead),
                // No memory for the new socket: the connection stays in
                // the accept queue; try again later.
                Err(e) if is_nomem(e) => {
                    CpuCounters::add(&svc.stats.local().nomem_retried, 1);
                    return Err(Stop::NoMemory);
                }
                Err(_) => {
                    CpuCounters::add(&svc.stats.local().errors, 1);
                    return Ok(Verdict::WaitRead);
                }
            };
            // On an SMC listener: SMC-D, or a fallback to TCP, which a
            // service that serves SMC only refuses.
            let mode = new.smc_mode();
            svc.stats.smc.count(mode);
            if !svc.cfg.transport.admits(mode) {
                Stats::bump(&svc.stats.smc.refused);
                Stats::bump(&svc.stats.refused);
                continue;
            }
            // The peer may already be gone; then there is nothing to serve.
            let Ok(peer) = new.peer_addr() else { continue };
            let Ok(state) = svc.service.accept(&peer) else {
                Stats::bump(&svc.stats.refused);
                continue;
            };
            // On failure (a limit, shutdown, no memory) the state is
            // dropped without `closed`: the connection never started.
            let _ = self
                .svc
                .start(new, Role::Stream, Some(peer), mode, Some(state));
        }
        Ok(Verdict::Yield)
    }

    /// After a service's `receive`: the request and eviction state.
    fn after_receive(&self, ctx: &ConnCtx<'_>, state: &S::Conn, started: i64) {
        if ctx.received && !self.valid.load(Ordering::Relaxed) {
            self.valid.store(true, Ordering::Relaxed);
        }
        let busy = self.svc.service.busy(state);
        let since = self.busy_since.load(Ordering::Relaxed);
        let next = match (busy, since) {
            (false, _) => 0,
            // A new request, or a message completed and another begun.
            (true, 0) => started as u64,
            (true, _) if ctx.completed => started as u64,
            (true, since) => since,
        };
        if next != since {
            self.busy_since.store(next, Ordering::Relaxed);
        }
    }
}

impl<S: Service> Runnable for Conn<S> {
    fn run(self: Arc<Self>) {
        let svc = &*self.svc;
        let cpu = svc.stats.local();
        CpuCounters::add(&cpu.runs, 1);
        let started = now_ns();
        self.last_run_ns.store(started as u64, Ordering::Relaxed);
        // From queued: events from now on make the task run again.
        self.state.begin();
        // INVARIANT: We are the connection's task (type invariant of
        // `Conn`), running, and have not armed or parked.
        let mut ex = Exclusive {
            ptr: NonNull::from(&self.owned).cast(),
            _p: PhantomData,
        };
        let owned = ex.get();
        if owned.io.is_none() {
            return;
        }
        if self.closing.load(Ordering::SeqCst) {
            return self.close(owned);
        }
        let Some(io) = owned.io.as_ref() else { return };
        let sock = io.sock();
        // The run's last send found no room (`EAGAIN`).
        let mut send_full = false;
        let verdict = match self.role {
            Role::Listener => match self.accept_some(io) {
                Ok(v) => {
                    owned.paused = false;
                    v
                }
                Err(Stop::Limit) => return self.park(ex),
                Err(Stop::NoMemory) => return self.back_off(ex),
            },
            Role::Dgram => svc.service.datagrams(&mut DgramCtx { sock, stats: cpu }),
            Role::Stream => {
                let Some(state) = owned.state.as_mut() else {
                    return self.close(owned);
                };
                let mut ctx = ConnCtx {
                    sock,
                    stats: cpu,
                    peer: self
                        .peer
                        .unwrap_or(SocketAddr::new(core::net::Ipv4Addr::UNSPECIFIED.into(), 0)),
                    id: self.id.load(Ordering::Relaxed),
                    received: false,
                    completed: false,
                    nomem: false,
                    send_full: false,
                };
                let verdict = svc.service.receive(&mut ctx, state);
                self.after_receive(&ctx, state, started);
                send_full = ctx.send_full;
                // A connection that grows over the budget is shed: the
                // budget bounds what all of them hold at once.
                if self.account(Some(state), &mut owned.mem) && verdict != Verdict::Close {
                    Stats::bump(&svc.stats.shed);
                    Verdict::Close
                } else if ctx.nomem && verdict == Verdict::Yield {
                    return self.back_off(ex);
                } else {
                    verdict
                }
            }
        };
        match verdict {
            Verdict::Close => return self.close(ex.get()),
            Verdict::Yield => {}
            // Wait for an event, unless the socket is ready already (the
            // last look is here, while the socket is still ours) or an
            // event came during this run.
            Verdict::WaitRead | Verdict::WaitWrite => {
                let write = verdict == Verdict::WaitWrite;
                // Write-space upcalls wake the task only when it waits for
                // write, data upcalls only when it does not; the fence
                // orders this flag before the look at the socket, against
                // the upcall's fence (`upcall`).
                self.wants_write.store(write, Ordering::Relaxed);
                fence(Ordering::SeqCst);
                let Some(io) = ex.get().io.as_ref() else {
                    return;
                };
                let p = io.sock().poll();
                // Not end of stream or a hang-up alone: a service that
                // waits for input after them is woken by nothing but an
                // event, never requeued in a loop.
                let ready = if write {
                    p.writable() || p.failed()
                } else {
                    p.readable()
                };
                // A send with no room while the socket has room: TCP could
                // not allocate (an empty send queue brings no write-space
                // event). Once may be an ACK that came in between; twice
                // in a row, the run backs off as one without memory does,
                // instead of running again at once.
                let owned = ex.get();
                if write && send_full && p.writable() && !p.failed() {
                    owned.nomem_sends = owned.nomem_sends.saturating_add(1);
                    if owned.nomem_sends >= 2 {
                        owned.nomem_sends = 0;
                        CpuCounters::add(&cpu.nomem_retried, 1);
                        return self.back_off(ex);
                    }
                } else {
                    owned.nomem_sends = 0;
                }
                // Arming gives up `ex`, and with it everything borrowed
                // from it: the socket cannot be touched after this.
                if !ready && self.arm(ex).is_none() {
                    return;
                }
            }
        }
        // Run again (an event came, or the budget is used up): at the back
        // of this CPU's queue. Events meanwhile need nothing more.
        self.state.requeue();
        self.queue();
    }
}

impl<S: Service> UpcallTarget for Conn<S> {
    fn hook(&self) -> &SkHook {
        &self.hook
    }

    fn upcall(this: ArcBorrow<'_, Self>, event: Event) {
        // A listener's callbacks are inherited by sockets accepted from it
        // before they are hooked; those have no user data and never get
        // here, so every call is for this socket.
        // A task waiting for write space wants nothing else but an error
        // or a state change: input waits in the socket (that is the
        // backpressure), and a task waiting for input wants no write
        // space. Waking it would only make it run and wait again, once
        // for every segment or ACK.
        if event != Event::StateChange {
            // Against the task's fence between setting `wants_write` and
            // its last look at the socket: one of them sees the other.
            fence(Ordering::SeqCst);
            let write = this.wants_write.load(Ordering::Relaxed);
            if write != (event == Event::WriteSpace) {
                return;
            }
        }
        if this.state.event() {
            let conn: Arc<Self> = this.into();
            conn.queue();
        }
    }
}
