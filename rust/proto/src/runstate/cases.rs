// SPDX-License-Identifier: GPL-2.0

//! Run-state test cases, run by `cargo test` on the host and by the
//! `ksf_runstate` KUnit suite in the guest.
//!
//! Besides the transitions one by one, a case explores every interleaving
//! of a task's runs with a few events and checks the protocol's promises
//! at every step: a task is never queued twice nor queued while it runs,
//! and once all is quiet it is armed and has run after the last event.

use super::{RunState, State};

test_cases! {
    testing = super::super::testing;

    fn event_queues_an_armed_task_once(t) {
        let s = RunState::new(State::Armed);
        check!(t, s.event());
        check_eq!(t, s.get(), State::Queued);
        check!(t, !s.event());
        check!(t, !s.event());
        check_eq!(t, s.get(), State::Queued);
    }

    fn event_during_a_run_makes_it_run_again(t) {
        let s = RunState::new(State::Queued);
        s.begin();
        check_eq!(t, s.get(), State::Running);
        check!(t, !s.event());
        check_eq!(t, s.get(), State::RunningAgain);
        check!(t, !s.event());
        check!(t, !s.try_arm());
        s.requeue();
        check_eq!(t, s.get(), State::Queued);
        s.begin();
        check!(t, s.try_arm());
        check_eq!(t, s.get(), State::Armed);
    }

    fn quiet_run_arms(t) {
        let s = RunState::new(State::Queued);
        check!(t, !s.event());
        s.begin();
        check!(t, s.try_arm());
        check!(t, s.event());
    }

    fn every_interleaving_keeps_the_promises(t) {
        for events in 0..=4 {
            for yields in 0..=2 {
                let w = World {
                    st: State::Queued,
                    pending: 1,
                    running: false,
                    unseen: false,
                    events_left: events,
                    yields_left: yields,
                };
                let mut x = Explorer { paths: 0, broken: None };
                x.explore(w);
                check_eq!(t, x.broken, None);
                check!(t, x.paths > 0);
            }
        }
        // The largest world has many paths: the search is not vacuous.
        let w = World {
            st: State::Queued,
            pending: 1,
            running: false,
            unseen: false,
            events_left: 4,
            yields_left: 2,
        };
        let mut x = Explorer { paths: 0, broken: None };
        x.explore(w);
        check!(t, x.paths > 1000);
    }
}

/// The abstract system: one task's state, its queue and runner, and the
/// events still to come.
#[derive(Clone, Copy, Debug)]
struct World {
    st: State,
    /// Times the task is in a run queue.
    pending: u8,
    /// A run is under way.
    running: bool,
    /// An event came that no run has started after.
    unseen: bool,
    events_left: u8,
    /// Runs that may still end asking to run again.
    yields_left: u8,
}

/// The steps of the system.
#[derive(Clone, Copy)]
enum Step {
    Event,
    Begin,
    EndArm,
    EndYield,
}

const STEPS: [Step; 4] = [Step::Event, Step::Begin, Step::EndArm, Step::EndYield];

struct Explorer {
    /// Complete interleavings explored.
    paths: u64,
    /// The first broken promise.
    broken: Option<&'static str>,
}

impl Explorer {
    fn explore(&mut self, w: World) {
        if self.broken.is_some() {
            return;
        }
        if let Some(why) = broken(&w) {
            self.broken = Some(why);
            return;
        }
        let mut moved = false;
        for step in STEPS {
            if let Some(next) = apply(w, step) {
                moved = true;
                self.explore(next);
            }
        }
        if !moved {
            self.paths += 1;
            if w.st != State::Armed {
                self.broken = Some("quiet but not armed");
            } else if w.unseen {
                self.broken = Some("an event was lost");
            }
        }
    }
}

/// The promise `w` breaks, if any.
fn broken(w: &World) -> Option<&'static str> {
    if w.pending + u8::from(w.running) > 1 {
        return Some("queued twice, or queued while running");
    }
    let expected = match (w.pending, w.running) {
        (1, _) => w.st == State::Queued,
        (_, true) => matches!(w.st, State::Running | State::RunningAgain),
        _ => w.st == State::Armed,
    };
    (!expected).then_some("state does not match the queue")
}

/// `w` after `step`, if the step can be taken; the real [`RunState`] does
/// each transition.
fn apply(mut w: World, step: Step) -> Option<World> {
    let s = RunState::new(w.st);
    match step {
        Step::Event if w.events_left > 0 => {
            w.events_left -= 1;
            w.unseen = true;
            if s.event() {
                w.pending += 1;
            }
        }
        Step::Begin if w.pending > 0 && !w.running => {
            w.pending -= 1;
            w.running = true;
            w.unseen = false;
            s.begin();
        }
        Step::EndArm if w.running => {
            w.running = false;
            if !s.try_arm() {
                s.requeue();
                w.pending += 1;
            }
        }
        Step::EndYield if w.running && w.yields_left > 0 => {
            w.yields_left -= 1;
            w.running = false;
            s.requeue();
            w.pending += 1;
        }
        _ => return None,
    }
    w.st = s.get();
    Some(w)
}
