// SPDX-License-Identifier: GPL-2.0

//! The run state of a task that events wake: the protocol between a
//! connection's socket callbacks and its task in `ksf::svc`.
//!
//! Events (socket callbacks, a close request) may come on any CPU at any
//! time; the task must then run, once, and never twice at the same time.
//! Four states, one atomic byte:
//!
//! ```text
//!            event: queue it              begin
//!   ARMED ---------------------> QUEUED ----------> RUNNING
//!     ^                            ^   \              |   |
//!     |        try_arm succeeds    |    `-- event: ---'   | event
//!     `----------------------------+------- nothing       v
//!                                  `-- requeue ----- RUNNING_AGAIN
//! ```
//!
//! - Only the event that finds the task [`State::Armed`] queues it, so a
//!   task is queued at most once; events that find it queued do nothing,
//!   as the coming run will look at the socket anyway.
//! - An event during a run leaves [`State::RunningAgain`]: arming then
//!   fails and the task runs again, so no event is lost.
//! - Once [`RunState::try_arm`] succeeds the next event may queue and run
//!   the task on another CPU at once: the run that armed must not touch
//!   anything of its connection after that, not even its socket.
//!
//! A run that closes its connection ends without arming: the state stays
//! [`State::Running`] and no event queues the task again.

use core::sync::atomic::{fence, AtomicU8, Ordering};

#[cfg(any(test, KSF_KUNIT))]
pub mod cases;

/// The states of [`RunState`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// Waiting for an event; the next one queues the task.
    Armed = 0,
    /// Queued, or about to be: events need nothing more.
    Queued = 1,
    /// Running.
    Running = 2,
    /// Running, and an event came meanwhile: it runs again.
    RunningAgain = 3,
}

impl State {
    fn from_u8(v: u8) -> State {
        match v {
            0 => State::Armed,
            1 => State::Queued,
            2 => State::Running,
            _ => State::RunningAgain,
        }
    }
}

/// The run state of one task (see the module documentation).
#[derive(Debug)]
pub struct RunState(AtomicU8);

impl RunState {
    /// A task in state `s`. A new task starts [`State::Queued`]: its owner
    /// queues it once, and no event can queue it before.
    pub const fn new(s: State) -> RunState {
        RunState(AtomicU8::new(s as u8))
    }

    /// The current state (for statistics and tests: it may change at once).
    pub fn get(&self) -> State {
        State::from_u8(self.0.load(Ordering::SeqCst))
    }

    /// Records an event; true if the caller must queue the task (it was
    /// armed). Callable from any context.
    ///
    /// Begins with a full barrier (the pattern of `skwq_has_sleeper`): the
    /// event's cause (data queued on the socket, a flag set) is ordered
    /// before the look at the state. Without it the look could be served
    /// before the cause is visible, see a run that then looks at the
    /// socket, finds nothing and arms, and the wake-up would be lost.
    pub fn event(&self) -> bool {
        fence(Ordering::SeqCst);
        let mut cur = self.0.load(Ordering::SeqCst);
        loop {
            let next = match State::from_u8(cur) {
                State::Armed => State::Queued,
                State::Running => State::RunningAgain,
                State::Queued | State::RunningAgain => return false,
            };
            match self
                .0
                .compare_exchange(cur, next as u8, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return next == State::Queued,
                Err(now) => cur = now,
            }
        }
    }

    /// A run starts (the task was queued): events from now on make it run
    /// again.
    pub fn begin(&self) {
        self.0.store(State::Running as u8, Ordering::SeqCst);
    }

    /// A run ends waiting for an event. True if armed: the caller must not
    /// touch the task's object any more. False if an event came during
    /// the run: the caller must [`requeue`](Self::requeue) it.
    pub fn try_arm(&self) -> bool {
        self.0
            .compare_exchange(
                State::Running as u8,
                State::Armed as u8,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
    }

    /// A run ends asking to run again; the caller then queues the task.
    /// Events until it starts need nothing more.
    pub fn requeue(&self) {
        self.0.store(State::Queued as u8, Ordering::SeqCst);
    }
}
