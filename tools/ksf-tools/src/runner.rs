// SPDX-License-Identifier: GPL-2.0

//! The run driver: job threads started together at a barrier once per
//! iteration, their results collected, reported and totalled.

use crate::job_loop::{self, Job, Lockstep, Outcome, Settings};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

/// The totals of a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// A job failed or ended unexpectedly: the run stopped early.
    pub failed: bool,
    /// Errors counted by all jobs.
    pub errors: u64,
    /// Errors counted but not described.
    pub unreported: u64,
}

/// The job threads and the channel of their results.
pub struct Pool<C> {
    tool: &'static str,
    jobs: usize,
    sync: Arc<Lockstep>,
    rx: Receiver<Outcome<C>>,
    threads: Vec<JoinHandle<()>>,
}

impl<C: Default + Send + 'static> Pool<C> {
    /// Starts a thread `job<k>` running [`job_loop::run`] for the k-th of
    /// `jobs`. Exits the process (status 1) if a thread cannot start.
    pub fn start<J>(tool: &'static str, jobs: Vec<J>, settings: Settings) -> Pool<C>
    where
        J: Job<Counts = C> + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let sync = Arc::new(Lockstep::new(jobs.len()));
        let settings = Arc::new(settings);
        let mut threads = Vec::new();
        for (j, body) in jobs.into_iter().enumerate() {
            let (tx, sync, settings) = (tx.clone(), Arc::clone(&sync), Arc::clone(&settings));
            let t = std::thread::Builder::new()
                .name(format!("job{j}"))
                .spawn(move || job_loop::run(j, body, &settings, &sync, tx));
            match t {
                Ok(t) => threads.push(t),
                Err(e) => {
                    eprintln!("{tool}: cannot start job {j}: {e}");
                    std::process::exit(1);
                }
            }
        }
        Pool {
            tool,
            jobs: threads.len(),
            sync,
            rx,
            threads,
        }
    }

    /// Runs `iters` iterations: prints the jobs' notes and fatal errors,
    /// calls `verbose` (if any) for each outcome and `row` for each
    /// complete iteration, in job order. Stops at the first failure; then
    /// stops the jobs and waits for them.
    pub fn iterate(
        self,
        iters: u64,
        verbose: Option<fn(u64, &Outcome<C>)>,
        mut row: impl FnMut(u64, &[Outcome<C>]),
    ) -> Totals {
        let (tool, jobs) = (self.tool, self.jobs);
        let mut t = Totals::default();
        for it in 1..=iters {
            self.sync.start.wait();
            let mut results: Vec<Outcome<C>> = self.rx.iter().take(jobs).collect();
            if results.len() < jobs {
                eprintln!("{tool}: a job ended unexpectedly");
                t.failed = true;
                break;
            }
            results.sort_by_key(|r| r.job);
            for r in &results {
                for n in &r.notes {
                    eprintln!("{tool}: job {}: {n}", r.job);
                }
                if let Some(f) = &r.fatal {
                    eprintln!("{tool}: job {}: {f}", r.job);
                    t.failed = true;
                }
                t.errors += r.errors;
                t.unreported += r.unreported;
                if let Some(v) = verbose {
                    v(it, r);
                }
            }
            if t.failed {
                break;
            }
            row(it, &results);
        }
        self.sync.end();
        for th in self.threads {
            let _ = th.join();
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// Records one error per iteration.
    struct Counting;

    impl Job for Counting {
        type Counts = u64;
        fn iterate(&mut self, r: &mut Outcome<u64>, _: &AtomicBool) -> Result<(), String> {
            r.counts += 1;
            r.note("e".into());
            Ok(())
        }
    }

    /// Fails to get ready for its second iteration.
    struct Failing;

    impl Job for Failing {
        type Counts = u64;
        fn prepare(&mut self, iter: u64) -> Result<(), String> {
            if iter == 2 {
                Err("no".into())
            } else {
                Ok(())
            }
        }
        fn iterate(&mut self, _: &mut Outcome<u64>, _: &AtomicBool) -> Result<(), String> {
            Ok(())
        }
    }

    #[test]
    fn iterations_in_lock_step() {
        let settings = Settings {
            cpus: Vec::new(),
            max_notes: 1,
        };
        let pool = Pool::start("t", vec![Counting, Counting], settings);
        let mut rows = Vec::new();
        let t = pool.iterate(3, None, |it, rs| {
            rows.push((it, rs.iter().map(|r| (r.job, r.counts)).collect::<Vec<_>>()))
        });
        let row = vec![(0, 1), (1, 1)];
        assert_eq!(rows, vec![(1, row.clone()), (2, row.clone()), (3, row)]);
        assert_eq!((t.failed, t.errors, t.unreported), (false, 6, 4));
    }

    #[test]
    fn a_failure_stops_the_run() {
        let jobs: Vec<Box<dyn Job<Counts = u64>>> = vec![Box::new(Counting), Box::new(Failing)];
        let pool = Pool::start("t", jobs, Settings::default());
        let mut rows = 0;
        let t = pool.iterate(5, None, |_, _| rows += 1);
        assert_eq!((rows, t.failed), (1, true));
    }
}
