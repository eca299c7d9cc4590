// SPDX-License-Identifier: GPL-2.0

//! The run-state protocol under real concurrency: event threads hammer a
//! task that a worker thread runs. The task must never be queued twice or
//! queued while it runs, and once the events stop it must be armed, having
//! run after the last of them.

use ksf_proto::runstate::{RunState, State};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

struct Shared {
    rs: RunState,
    /// Times the task is in the (one-slot) run queue.
    queued: AtomicU64,
    /// Events announced so far (counted before `event()`).
    events: AtomicU64,
    /// What the last run saw of `events`.
    last_seen: AtomicU64,
    /// Set by a broken promise.
    broken: AtomicBool,
    done: AtomicBool,
}

impl Shared {
    fn enqueue(&self) {
        if self.queued.fetch_add(1, Ordering::SeqCst) != 0 {
            self.broken.store(true, Ordering::SeqCst);
        }
    }
}

fn quiet(sh: &Shared) {
    let start = Instant::now();
    while sh.queued.load(Ordering::SeqCst) != 0 || sh.rs.get() != State::Armed {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never armed: {:?}",
            sh.rs.get()
        );
        std::hint::spin_loop();
    }
}

#[test]
fn events_from_many_threads_are_never_lost_nor_doubled() {
    const EVENTERS: usize = 2;
    const ROUNDS: u64 = 2_000;
    let sh = Arc::new(Shared {
        rs: RunState::new(State::Queued),
        queued: AtomicU64::new(1),
        events: AtomicU64::new(0),
        last_seen: AtomicU64::new(0),
        broken: AtomicBool::new(false),
        done: AtomicBool::new(false),
    });
    let worker = {
        let sh = sh.clone();
        thread::spawn(move || {
            let mut runs = 0u64;
            loop {
                if sh.queued.load(Ordering::SeqCst) == 0 {
                    if sh.done.load(Ordering::SeqCst) {
                        return runs;
                    }
                    std::hint::spin_loop();
                    continue;
                }
                sh.queued.fetch_sub(1, Ordering::SeqCst);
                sh.rs.begin();
                runs += 1;
                // The run looks at its "socket": every event counted so
                // far. Then it works a little: events keep coming.
                sh.last_seen
                    .store(sh.events.load(Ordering::SeqCst), Ordering::SeqCst);
                for _ in 0..runs % 64 {
                    std::hint::spin_loop();
                }
                if runs.is_multiple_of(7) {
                    // Budget used up: run again.
                    sh.rs.requeue();
                    sh.enqueue();
                } else if !sh.rs.try_arm() {
                    sh.rs.requeue();
                    sh.enqueue();
                }
            }
        })
    };
    // Rounds: every eventer sends a burst, then all is quiet and the last
    // run must have seen every event.
    let go = Arc::new(Barrier::new(EVENTERS + 1));
    let eventers: Vec<_> = (0..EVENTERS)
        .map(|_| {
            let (sh, go) = (sh.clone(), go.clone());
            thread::spawn(move || {
                for round in 0..ROUNDS {
                    go.wait();
                    for _ in 0..round % 13 + 1 {
                        sh.events.fetch_add(1, Ordering::SeqCst);
                        if sh.rs.event() {
                            sh.enqueue();
                        }
                    }
                    go.wait();
                }
            })
        })
        .collect();
    let mut lost = 0;
    for _ in 0..ROUNDS {
        go.wait();
        go.wait();
        quiet(&sh);
        if sh.last_seen.load(Ordering::SeqCst) != sh.events.load(Ordering::SeqCst) {
            lost += 1;
        }
    }
    for e in eventers {
        e.join().unwrap();
    }
    sh.done.store(true, Ordering::SeqCst);
    let runs = worker.join().unwrap();
    assert!(!sh.broken.load(Ordering::SeqCst), "queued twice");
    assert_eq!(lost, 0, "rounds whose last events no run saw");
    assert!(runs >= ROUNDS, "{runs} runs");
}
