// SPDX-License-Identifier: GPL-2.0

//! The subcommands, and what they share: the target, the seeded random
//! stream, the report and the good-client check.

mod churn;
pub mod flood;
mod fuzz;
mod halfclose;
mod hold;
mod noread;
mod reset;
mod slowloris;

use crate::engine::{Campaign, Tally};
use crate::opts::{Opts, Sub, Transport};
use crate::report::Report;
use crate::rng::Rng;
use crate::{checkcmd, good};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The longest a `--check-cmd` may run.
const MIN_CHECK_CMD_TIMEOUT: Duration = Duration::from_secs(60);

/// A running subcommand.
pub struct Ctx {
    pub o: Opts,
    pub addr: SocketAddr,
    pub rng: Rng,
    pub report: Report,
    pub good_checks: u64,
    pub good_failures: u64,
    start: Instant,
}

impl Ctx {
    /// A campaign of `conns` connections at once.
    pub fn campaign(&self, conns: usize) -> Campaign {
        Campaign {
            addr: self.addr,
            transport: self.o.transport,
            conns,
            timeout: self.o.timeout,
            lossy_close: self.o.lossy_close,
            stop_on_finding: !self.o.keep_going,
            stall_cmd: self.o.stall_cmd.clone(),
        }
    }

    /// The good-client check (and `--check-cmd`); a failure is a finding.
    pub fn good_check(&mut self) -> bool {
        self.good_checks += 1;
        let mut rng = self.rng.fork();
        let o = &self.o;
        let mut r = good::check(
            (self.addr, o.transport),
            o.proto,
            o.good_conns,
            o.good_calls,
            o.export(),
            o.timeout,
            &mut rng,
        );
        if let (Ok(()), Some(cmd)) = (&r, &o.check_cmd) {
            r = checkcmd::run(cmd, o.timeout.max(MIN_CHECK_CMD_TIMEOUT));
        }
        match r {
            Ok(()) => true,
            Err(e) => {
                self.good_failures += 1;
                self.report.finding(&e);
                false
            }
        }
    }

    /// The findings of a campaign not reported yet (from message `from`).
    pub fn campaign_findings(&mut self, t: &Tally, reported: &mut u64, from: &mut usize) {
        let new = t.findings - *reported;
        let messages = &t.messages[(*from).min(t.messages.len())..];
        self.report.findings(new, messages);
        *reported = t.findings;
        *from = t.messages.len();
    }

    /// Ends a campaign of one engine run that returned `r`: reports its
    /// findings and any fatal error, then makes the good-client check;
    /// returns the seconds since the start.
    pub fn end_campaign(&mut self, t: &Tally, r: Result<(), String>) -> f64 {
        let (mut reported, mut from) = (0, 0);
        self.campaign_findings(t, &mut reported, &mut from);
        if let Err(e) = r {
            self.report.finding(&e);
        }
        self.good_check();
        self.secs()
    }

    /// Seconds since the start.
    pub fn secs(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Ends the summary with the good-client counts and the time.
    fn finish(&mut self) -> i32 {
        let secs = format!("{:.2}", self.secs());
        self.report
            .kv("good_checks", self.good_checks)
            .kv("good_failures", self.good_failures)
            .kv("secs", secs);
        self.report.finish()
    }
}

/// Runs the subcommand of `o` against `addr`; the exit status.
pub fn run(o: Opts, addr: SocketAddr) -> i32 {
    let mut report = Report::new(o.sub.name());
    report
        .kv("proto", o.proto.name())
        .kv("transport", o.transport.name().to_lowercase())
        .kv("target", addr)
        .kv("seed", o.seed);
    if o.verbose {
        report.progress(&format!(
            "{} against {addr}, seed {}",
            o.proto.name(),
            o.seed
        ));
    }
    let mut cx = Ctx {
        rng: Rng::new(o.seed),
        o,
        addr,
        report,
        good_checks: 0,
        good_failures: 0,
        start: Instant::now(),
    };
    // Without SMC sockets every connection would fail: say so once.
    if cx.o.transport == Transport::Smc {
        if let Err(e) = ksf_tools::smc::socket(&addr, false) {
            cx.report.error(&format!("--smc: {e}"));
            return cx.finish();
        }
    }
    match cx.o.sub {
        Sub::Fuzz => fuzz::run(&mut cx),
        Sub::Hold => hold::run(&mut cx),
        Sub::Churn => churn::run(&mut cx),
        Sub::Reset => reset::run(&mut cx),
        Sub::HalfClose => halfclose::run(&mut cx),
        Sub::NoRead => noread::run(&mut cx),
        Sub::Flood => flood::run(&mut cx),
        Sub::Slowloris | Sub::Idle => slowloris::run(&mut cx),
    }
    cx.finish()
}
