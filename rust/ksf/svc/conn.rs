// SPDX-License-Identifier: GPL-2.0

//! One socket of a service: a listener, a TCP connection or a UDP socket.

use core::cell::UnsafeCell;
use core::net::SocketAddr;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use kernel::error::{code::EAGAIN, Result};
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};

use super::super::pool::task::{impl_has_task, Runnable, TaskLink};
use super::super::proto::runstate::{RunState, State};
use super::super::socket::Socket;
use super::super::upcall::{Event, Hooked, SkHook, UpcallTarget};
use super::{ConnCtx, DgramCtx, Service, SvcInner, Verdict};

/// Connections accepted per run of a listener's task.
const ACCEPT_BUDGET: usize = 16;
/// `Conn::home` of a task that runs on the CPU of each event.
const NO_HOME: u32 = u32::MAX;

/// What a [`Conn`]'s socket is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Listener,
    Stream,
    Dgram,
}

/// What only the connection's task touches.
struct Owned<S: Service> {
    io: Option<Hooked<Conn<S>>>,
    state: Option<S::Conn>,
    /// What this connection adds to the `conn_mem` statistic.
    mem: usize,
}

/// The right to a connection's [`Owned`] part, and so to its socket: held
/// by its running task, and given up by arming ([`Conn::arm`] consumes
/// it), so that nothing borrowed from it can be used afterwards.
struct Exclusive<'a, S: Service>(&'a mut Owned<S>);

/// A socket of a service.
///
/// # Invariants
///
/// `owned` is accessed only by the connection's task: `attach` fills it
/// before the task is first queued, and afterwards only `run` touches it.
/// `state` (the protocol of [`RunState`]) guarantees that the task is
/// queued or running at most once at any moment, so `run` has exclusive
/// access: only an event that finds it armed queues it, and `run` arms
/// only through [`Conn::arm`], which takes its [`Exclusive`] right.
pub(crate) struct Conn<S: Service> {
    link: TaskLink,
    hook: SkHook,
    svc: Arc<SvcInner<S>>,
    role: Role,
    peer: Option<SocketAddr>,
    id: AtomicU64,
    /// The CPU every run is queued on, or `NO_HOME`: the CPU of the event.
    home: AtomicU32,
    /// When the last run started (`now_ns`), for the statistics.
    last_run_ns: AtomicU64,
    /// Armed, queued, running or running again.
    state: RunState,
    /// Shutdown asked for this connection to close.
    closing: AtomicBool,
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
        state: Option<S::Conn>,
    ) -> Result<Arc<Self>> {
        Ok(Arc::new(
            Conn {
                link: TaskLink::new::<Conn<S>>(),
                hook: SkHook::new(),
                svc,
                role,
                peer,
                id: AtomicU64::new(0),
                home: AtomicU32::new(NO_HOME),
                last_run_ns: AtomicU64::new(0),
                // `attach` queues the task once; until then no event can
                // queue it.
                state: RunState::new(State::Queued),
                closing: AtomicBool::new(false),
                owned: UnsafeCell::new(Owned {
                    io: None,
                    state,
                    mem: 0,
                }),
            },
            GFP_KERNEL,
        )?)
    }

    pub(crate) fn set_id(&self, id: u64) {
        self.id.store(id, Ordering::Relaxed);
    }

    /// Writes the connection's line of the statistics:
    /// `conn ID ROLE STATE last_run_ms_ago N [cpu N] [closing]`.
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
        let ago_ms = if last == 0 {
            -1
        } else {
            (now_ns - last) / 1_000_000
        };
        write!(
            out,
            "conn {} {} {} last_run_ms_ago {}",
            self.id.load(Ordering::Relaxed),
            role,
            state,
            ago_ms
        )?;
        let home = self.home.load(Ordering::Relaxed);
        if home != NO_HOME {
            write!(out, " cpu {home}")?;
        }
        if self.closing.load(Ordering::Relaxed) {
            out.write_str(" closing")?;
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
        let pool: *const super::super::pool::Pool = &self.svc.pool;
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

    /// Asks the connection to close and makes sure its task runs.
    pub(crate) fn close_soon(self: &Arc<Self>, _svc: &SvcInner<S>) {
        self.closing.store(true, Ordering::SeqCst);
        self.kick();
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

    /// Brings the `conn_mem` statistic up to date with this connection:
    /// its own size and its service state's buffers while it has a state.
    /// `accounted` is what the connection adds now (`Owned::mem`).
    fn account(&self, state: Option<&S::Conn>, accounted: &mut usize) {
        let mem = match state {
            Some(state) => core::mem::size_of::<Self>() + self.svc.service.conn_memory(state),
            None => 0,
        };
        let stats = &self.svc.stats;
        if mem > *accounted {
            let grow = (mem - *accounted) as u64;
            let now = stats.conn_mem.fetch_add(grow, Ordering::Relaxed) + grow;
            stats.conn_mem_peak.fetch_max(now, Ordering::Relaxed);
        } else if mem < *accounted {
            let shrink = (*accounted - mem) as u64;
            stats.conn_mem.fetch_sub(shrink, Ordering::Relaxed);
        }
        *accounted = mem;
    }

    fn close(&self, owned: &mut Owned<S>) {
        // Restores the callbacks (no upcall can run after this), then
        // releases the socket.
        drop(owned.io.take());
        if let Some(state) = owned.state.take() {
            self.svc.service.closed(state);
        }
        self.account(None, &mut owned.mem);
        self.svc.forget(self.id.load(Ordering::Relaxed), self.role);
    }

    /// The listener's work: accept up to a budget of connections.
    fn accept_some(&self, listener: &Hooked<Conn<S>>) -> Verdict {
        for _ in 0..ACCEPT_BUDGET {
            let new = match listener.accept() {
                Ok(new) => new,
                Err(e) if e == EAGAIN => return Verdict::WaitRead,
                Err(_) => {
                    self.svc.stats.errors.fetch_add(1, Ordering::Relaxed);
                    return Verdict::WaitRead;
                }
            };
            // The peer may already be gone; then there is nothing to serve.
            let Ok(peer) = new.peer_addr() else { continue };
            self.svc.stats.accepted.fetch_add(1, Ordering::Relaxed);
            let Ok(state) = self.svc.service.accept(&peer) else {
                self.svc.stats.refused.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            // On failure (a limit, shutdown, no memory) the state is
            // dropped without `closed`: the connection never started.
            let _ = self.svc.start(new, Role::Stream, Some(peer), Some(state));
        }
        Verdict::Yield
    }
}

impl<S: Service> Runnable for Conn<S> {
    fn run(self: Arc<Self>) {
        let svc = &*self.svc;
        svc.stats.runs.fetch_add(1, Ordering::Relaxed);
        self.last_run_ns
            .store(super::super::pool::now_ns() as u64, Ordering::Relaxed);
        // From queued: events from now on make the task run again.
        self.state.begin();
        // SAFETY: We are the connection's task (type invariant).
        let ex = Exclusive(unsafe { &mut *self.owned.get() });
        let owned = &mut *ex.0;
        if owned.io.is_none() {
            return;
        }
        if self.closing.load(Ordering::SeqCst) {
            return self.close(owned);
        }
        let Some(io) = owned.io.as_ref() else { return };
        let sock = io.sock();
        let verdict = match self.role {
            Role::Listener => self.accept_some(io),
            Role::Dgram => svc.service.datagrams(&mut DgramCtx {
                sock,
                stats: &svc.stats,
            }),
            Role::Stream => {
                let Some(state) = owned.state.as_mut() else {
                    return self.close(owned);
                };
                let mut ctx = ConnCtx {
                    sock,
                    stats: &svc.stats,
                    peer: self
                        .peer
                        .unwrap_or(SocketAddr::new(core::net::Ipv4Addr::UNSPECIFIED.into(), 0)),
                    id: self.id.load(Ordering::Relaxed),
                };
                let verdict = svc.service.receive(&mut ctx, state);
                self.account(Some(state), &mut owned.mem);
                verdict
            }
        };
        match verdict {
            Verdict::Close => return self.close(owned),
            Verdict::Yield => {}
            // Wait for an event, unless the socket is ready already (the
            // last look is here, while the socket is still ours) or an
            // event came during this run.
            Verdict::WaitRead | Verdict::WaitWrite => {
                let p = sock.poll();
                let ready = p.failed()
                    || if verdict == Verdict::WaitWrite {
                        p.writable()
                    } else {
                        p.readable()
                    };
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

    fn upcall(this: ArcBorrow<'_, Self>, _event: Event) {
        // A listener's callbacks are inherited by sockets accepted from it
        // before they are hooked; those have no user data and never get
        // here, so every call is for this socket.
        if this.state.event() {
            let conn: Arc<Self> = this.into();
            conn.queue();
        }
    }
}
