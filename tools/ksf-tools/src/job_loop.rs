// SPDX-License-Identifier: GPL-2.0

//! The body of a job thread, shared by the load generators: pin the
//! thread if asked, then once per iteration wait for the start, get ready
//! (rpctest connects), meet the other jobs, run the tool's requests while
//! timing them, and hand the [`Outcome`] to the main thread
//! ([`runner::Pool`](crate::runner::Pool)). What differs between the tools
//! is a [`Job`].

use crate::cpu::{monotonic_ns, thread_cpu_ns};
use crate::jobs::pin_job;
use crate::Histogram;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Barrier;

/// One job's outcome of one iteration: what every tool measures, and the
/// tool's own `counts`.
#[derive(Debug)]
pub struct Outcome<C> {
    /// The job's number.
    pub job: usize,
    /// Errors counted (bad or lost answers); they do not stop the run.
    pub errors: u64,
    /// When the iteration started (monotonic nanoseconds).
    pub start_ns: u64,
    /// When the iteration ended (monotonic nanoseconds).
    pub end_ns: u64,
    /// The job thread's CPU time during the iteration.
    pub cpu_ns: u64,
    /// Latencies in nanoseconds.
    pub hist: Histogram,
    /// Descriptions of the first errors, to print.
    pub notes: Vec<String>,
    /// Errors counted but not described.
    pub unreported: u64,
    /// The error that ended this job (the whole run stops).
    pub fatal: Option<String>,
    /// The tool's counters.
    pub counts: C,
    /// Errors this job may still describe in the run.
    budget: u32,
}

impl<C: Default> Outcome<C> {
    /// An empty outcome of job `job`, which may still describe `budget`
    /// errors.
    pub fn new(job: usize, budget: u32) -> Outcome<C> {
        Outcome {
            job,
            errors: 0,
            start_ns: 0,
            end_ns: 0,
            cpu_ns: 0,
            hist: Histogram::new(),
            notes: Vec::new(),
            unreported: 0,
            fatal: None,
            counts: C::default(),
            budget,
        }
    }
}

impl<C> Outcome<C> {
    /// Counts an error and keeps its description while the job's budget
    /// lasts.
    pub fn note(&mut self, what: String) {
        self.errors += 1;
        if self.budget > 0 {
            self.budget -= 1;
            self.notes.push(what);
        } else {
            self.unreported += 1;
        }
    }

    /// The iteration's wall time in nanoseconds.
    pub fn ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }
}

/// What a tool's job does in each iteration; [`run`] does the rest.
pub trait Job: Send {
    /// The tool's counters of an iteration.
    type Counts: Default + Send;

    /// Gets ready for iteration `iter` (1, 2, ...) before the jobs start
    /// it together; an error ends the run. Nothing by default.
    fn prepare(&mut self, _iter: u64) -> Result<(), String> {
        Ok(())
    }

    /// Makes the iteration's requests, recording into `r`. Returns early
    /// (Ok) when `stop` is set; an error is fatal for the run.
    fn iterate(&mut self, r: &mut Outcome<Self::Counts>, stop: &AtomicBool) -> Result<(), String>;
}

impl<J: Job + ?Sized> Job for Box<J> {
    type Counts = J::Counts;

    fn prepare(&mut self, iter: u64) -> Result<(), String> {
        (**self).prepare(iter)
    }

    fn iterate(&mut self, r: &mut Outcome<Self::Counts>, stop: &AtomicBool) -> Result<(), String> {
        (**self).iterate(r, stop)
    }
}

/// Where the main thread and the jobs meet.
#[derive(Debug)]
pub struct Lockstep {
    /// The main thread and all jobs, before each iteration.
    pub start: Barrier,
    /// The jobs, once ready, so that all start their requests together.
    pub go: Barrier,
    /// Set by a job's fatal error: the other jobs end their iteration
    /// early, and the main thread ends the run.
    pub stop: AtomicBool,
    /// Set by the main thread before the last start: the jobs end.
    pub end: AtomicBool,
}

impl Lockstep {
    /// The meeting points of `jobs` jobs and the main thread.
    pub fn new(jobs: usize) -> Lockstep {
        Lockstep {
            start: Barrier::new(jobs + 1),
            go: Barrier::new(jobs),
            stop: AtomicBool::new(false),
            end: AtomicBool::new(false),
        }
    }

    /// Ends the run: releases the jobs, waiting at the start, for the last
    /// time.
    pub fn end(&self) {
        self.end.store(true, Ordering::Release);
        self.start.wait();
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }
}

/// How the jobs of a run behave, whatever the tool.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Job k is pinned to the (k mod n)-th of these CPUs (none: not pinned).
    pub cpus: Vec<usize>,
    /// Errors each job describes over the whole run; the rest are counted.
    pub max_notes: u32,
}

/// The body of job `job`'s thread: runs one iteration of `body` per start
/// until the run stops, sending each outcome to `tx`.
pub fn run<J: Job>(
    job: usize,
    mut body: J,
    settings: &Settings,
    sync: &Lockstep,
    tx: Sender<Outcome<J::Counts>>,
) {
    let mut setup_error = pin_job(job, &settings.cpus).err();
    let mut budget = settings.max_notes;
    for iter in 1.. {
        sync.start.wait();
        // Not `stop`: a job may set it before another one gets here, and
        // all must meet at `go`.
        if sync.end.load(Ordering::Acquire) {
            break;
        }
        let mut r = Outcome::new(job, budget);
        let ready = match setup_error.take() {
            Some(e) => Err(e),
            None => body.prepare(iter),
        };
        if ready.is_err() {
            sync.stop();
        }
        sync.go.wait();
        match ready {
            Err(e) => r.fatal = Some(e),
            Ok(()) if sync.stopped() => {}
            Ok(()) => {
                r.start_ns = monotonic_ns();
                let cpu0 = thread_cpu_ns();
                let outcome = catch_unwind(AssertUnwindSafe(|| body.iterate(&mut r, &sync.stop)))
                    .unwrap_or_else(|_| Err("internal error (panic)".to_string()));
                r.cpu_ns = thread_cpu_ns() - cpu0;
                r.end_ns = monotonic_ns();
                if let Err(e) = outcome {
                    r.fatal = Some(e);
                    sync.stop();
                }
            }
        }
        budget = r.budget;
        if tx.send(r).is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_capped() {
        let mut r = Outcome::<()>::new(0, 2);
        for i in 0..5 {
            r.note(format!("e{i}"));
        }
        assert_eq!((r.errors, r.unreported, r.budget), (5, 3, 0));
        assert_eq!(r.notes, vec!["e0", "e1"]);
    }
}
