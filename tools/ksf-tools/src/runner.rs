// SPDX-License-Identifier: GPL-2.0

//! The run driver: job threads started together at a barrier once per
//! iteration, their results collected, reported and totalled.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Barrier;
use std::thread::JoinHandle;

/// What the driver needs of a job's result of one iteration.
pub trait JobResult {
    /// The job's number.
    fn job(&self) -> usize;
    /// Descriptions of errors, to print.
    fn notes(&self) -> &[String];
    /// The error that ended the job (and the run).
    fn fatal(&self) -> Option<&str>;
    /// Errors counted.
    fn errors(&self) -> u64;
    /// Errors counted but not described.
    fn unreported(&self) -> u64;
}

/// Implements [`JobResult`] for a struct with the fields `job`, `notes`,
/// `fatal`, `errors` and `unreported`.
#[macro_export]
macro_rules! impl_job_result {
    ($t:ty) => {
        impl $crate::runner::JobResult for $t {
            fn job(&self) -> usize {
                self.job
            }
            fn notes(&self) -> &[String] {
                &self.notes
            }
            fn fatal(&self) -> Option<&str> {
                self.fatal.as_deref()
            }
            fn errors(&self) -> u64 {
                self.errors
            }
            fn unreported(&self) -> u64 {
                self.unreported
            }
        }
    };
}

/// The totals of a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// A job failed or ended unexpectedly: the run stopped early.
    pub failed: bool,
    pub errors: u64,
    pub unreported: u64,
}

/// The job threads and the channel of their results.
pub struct Pool<R> {
    tool: &'static str,
    jobs: usize,
    rx: Receiver<R>,
    threads: Vec<JoinHandle<()>>,
}

impl<R: JobResult + Send + 'static> Pool<R> {
    /// Starts a thread `job<k>` for the k-th body, which gets the sender
    /// of results. Exits the process (status 1) if a thread cannot start.
    pub fn start<F, I>(tool: &'static str, bodies: I) -> Pool<R>
    where
        F: FnOnce(Sender<R>) + Send + 'static,
        I: IntoIterator<Item = F>,
    {
        let (tx, rx) = mpsc::channel();
        let mut threads = Vec::new();
        for (j, body) in bodies.into_iter().enumerate() {
            let tx = tx.clone();
            let t = std::thread::Builder::new()
                .name(format!("job{j}"))
                .spawn(move || body(tx));
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
            rx,
            threads,
        }
    }

    /// Runs `iters` iterations, each started at `start` (where the jobs
    /// wait too): prints the jobs' notes and fatal errors, calls `verbose`
    /// (if any) for each result and `row` for each complete iteration, in
    /// job order. Stops at the first failure; then sets `stop`, releases the
    /// jobs once more and waits for them.
    pub fn iterate(
        self,
        iters: u64,
        start: &Barrier,
        stop: &AtomicBool,
        verbose: Option<fn(u64, &R)>,
        mut row: impl FnMut(u64, &[R]),
    ) -> Totals {
        let (tool, jobs) = (self.tool, self.jobs);
        let mut t = Totals::default();
        for it in 1..=iters {
            start.wait();
            let mut results: Vec<R> = self.rx.iter().take(jobs).collect();
            if results.len() < jobs {
                eprintln!("{tool}: a job ended unexpectedly");
                t.failed = true;
                break;
            }
            results.sort_by_key(|r| r.job());
            for r in &results {
                for n in r.notes() {
                    eprintln!("{tool}: job {}: {n}", r.job());
                }
                if let Some(f) = r.fatal() {
                    eprintln!("{tool}: job {}: {f}", r.job());
                    t.failed = true;
                }
                t.errors += r.errors();
                t.unreported += r.unreported();
                if let Some(v) = verbose {
                    v(it, r);
                }
            }
            if t.failed {
                break;
            }
            row(it, &results);
        }
        stop.store(true, Ordering::Release);
        start.wait();
        for th in self.threads {
            let _ = th.join();
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct R(usize, u64);

    impl JobResult for R {
        fn job(&self) -> usize {
            self.0
        }
        fn notes(&self) -> &[String] {
            &[]
        }
        fn fatal(&self) -> Option<&str> {
            None
        }
        fn errors(&self) -> u64 {
            self.1
        }
        fn unreported(&self) -> u64 {
            0
        }
    }

    #[test]
    fn iterations_in_lock_step() {
        let sync = Arc::new((Barrier::new(3), AtomicBool::new(false)));
        let pool = Pool::start(
            "t",
            (0..2).map(|j| {
                let sync = Arc::clone(&sync);
                move |tx: Sender<R>| loop {
                    sync.0.wait();
                    if sync.1.load(Ordering::Acquire) || tx.send(R(j, 1)).is_err() {
                        break;
                    }
                }
            }),
        );
        let mut rows = Vec::new();
        let t = pool.iterate(3, &sync.0, &sync.1, None, |it, rs: &[R]| {
            rows.push((it, rs.iter().map(|r| r.0).collect::<Vec<_>>()))
        });
        assert_eq!(
            rows,
            vec![(1, vec![0, 1]), (2, vec![0, 1]), (3, vec![0, 1])]
        );
        assert_eq!((t.failed, t.errors), (false, 6));
    }
}
