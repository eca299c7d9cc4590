// SPDX-License-Identifier: GPL-2.0

//! `ksfstress flood`: an idle connection flood from several processes,
//! while a good client is served.
//!
//! The parent starts `--procs` copies of itself as hidden workers
//! (`ksfstress __flood-worker`), each raising its own open-file limit and
//! making its share of the attempts; it serves the good client (and
//! `--check-cmd`) meanwhile. A worker prints `opened ...` once its last
//! attempt is settled, waits for its standard input to close (the end of
//! `--hold-secs`), then prints `done ...` with its counts, resets its
//! connections and exits.

use super::Ctx;
use crate::good::GoodConn;
use crate::opts::{Proto, Transport};
use crate::peers::{self, Closed, Started};
use crate::rng::Rng;
use crate::{checkcmd, sock};
use ksf_tools::Histogram;
use rustix::event::PollFlags;
use rustix::io::Errno;
use rustix::net::SendFlags;
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

/// The hidden subcommand of a worker.
pub const WORKER: &str = "__flood-worker";
/// Connections being made at once per worker.
const MAX_PENDING: usize = 512;
/// The partial record mark of `--send-partial`: the first two bytes of a
/// last fragment's mark.
const PARTIAL: [u8; 2] = [0x80, 0x00];
/// Findings listed before the rest are only counted.
const MAX_LISTED: usize = 5;

/// What one worker counted.
#[derive(Default)]
struct Counts {
    attempted: u64,
    established: u64,
    failed: BTreeMap<String, u64>,
    reset: u64,
    eof: u64,
    open: u64,
}

impl Counts {
    fn line(&self, what: &str) -> String {
        format!(
            "{what} attempted={} established={} reset={} eof={} open={} failed={}",
            self.attempted,
            self.established,
            self.reset,
            self.eof,
            self.open,
            failed_text(&self.failed)
        )
    }

    fn add_line(&mut self, line: &str) {
        for kv in line.split_whitespace().skip(1) {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let n = |v: &str| v.parse::<u64>().unwrap_or(0);
            match k {
                "attempted" => self.attempted += n(v),
                "established" => self.established += n(v),
                "reset" => self.reset += n(v),
                "eof" => self.eof += n(v),
                "open" => self.open += n(v),
                "failed" if v != "none" => {
                    for e in v.split(',') {
                        if let Some((name, c)) = e.split_once(':') {
                            *self.failed.entry(name.to_string()).or_default() += n(c);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

fn failed_text(f: &BTreeMap<String, u64>) -> String {
    if f.is_empty() {
        return "none".into();
    }
    let v: Vec<String> = f.iter().map(|(k, n)| format!("{k}:{n}")).collect();
    v.join(",")
}

/// A worker: `__flood-worker ADDR ATTEMPTS FIRST PARTIAL TIMEOUT_MS
/// TRANSPORT` (TRANSPORT `tcp` or `smc`).
pub fn worker(args: &[String]) -> i32 {
    let parsed = (|| {
        let [addr, attempts, first, partial, timeout, transport] = args else {
            return None;
        };
        let transport = match transport.as_str() {
            "tcp" => Transport::Tcp,
            "smc" => Transport::Smc,
            _ => return None,
        };
        Some((
            addr.parse::<SocketAddr>().ok()?,
            attempts.parse::<u64>().ok()?,
            first.parse::<u64>().ok()?,
            partial == "1",
            Duration::from_millis(timeout.parse().ok()?),
            transport,
        ))
    })();
    let Some((addr, attempts, first, partial, timeout, transport)) = parsed else {
        eprintln!("ksfstress {WORKER}: bad arguments {args:?} (internal to ksfstress flood)");
        return 2;
    };
    if let Err(e) = sock::raise_nofile(attempts + 64) {
        eprintln!("ksfstress flood: error: worker: {e}");
        return 1;
    }
    let mut c = Counts::default();
    let mut held = open_all(addr, transport, attempts, first, partial, timeout, &mut c);
    let mut out = io::stdout();
    let _ = writeln!(out, "{}", c.line("opened"));
    let _ = out.flush();
    // Hold until the parent closes our standard input; meanwhile note the
    // connections the server closes.
    let stdin = io::stdin();
    loop {
        let mut want = vec![(stdin.as_fd(), PollFlags::IN)];
        want.extend(held.iter().map(peers::closing));
        let Ok(revents) = sock::poll(&want, 250) else {
            break;
        };
        drop(want);
        let mut k = 1;
        held.retain(|s| {
            let how = peers::closed_by(revents[k], s);
            k += 1;
            match how {
                Some(Closed::Eof) => c.eof += 1,
                Some(Closed::Reset) => c.reset += 1,
                None => return true,
            }
            false
        });
        if !revents[0].is_empty() {
            let mut line = String::new();
            if stdin.lock().read_line(&mut line).map_or(true, |n| n == 0) {
                break;
            }
        }
    }
    c.open = held.len() as u64;
    let _ = writeln!(out, "{}", c.line("done"));
    let _ = out.flush();
    // Resets: neither side keeps a TIME_WAIT socket.
    for s in held {
        sock::reset(s);
    }
    0
}

/// Makes `attempts` connections as fast as possible, at most
/// [`MAX_PENDING`] in progress at once; the established ones.
fn open_all(
    addr: SocketAddr,
    transport: Transport,
    attempts: u64,
    first: u64,
    partial: bool,
    timeout: Duration,
    c: &mut Counts,
) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(attempts as usize);
    let mut pending: Vec<(TcpStream, Instant)> = Vec::new();
    let fail = |c: &mut Counts, e: i32| {
        *c.failed.entry(peers::errno_name(e)).or_default() += 1;
    };
    let mut i = 0;
    while i < attempts || !pending.is_empty() {
        while i < attempts && pending.len() < MAX_PENDING {
            c.attempted += 1;
            match peers::start_connect(addr, transport, peers::source(addr, first + i)) {
                Ok(Started::Done(s)) => established(s, partial, c, &mut held),
                Ok(Started::Pending(s)) => pending.push((s, Instant::now())),
                Err(e) => fail(c, e.raw_os_error().unwrap_or(Errno::IO.raw_os_error())),
            }
            i += 1;
        }
        if pending.is_empty() {
            continue;
        }
        let want: Vec<_> = pending
            .iter()
            .map(|(s, _)| (s.as_fd(), PollFlags::OUT))
            .collect();
        // Wait only when no more attempts can start.
        let ms = if i < attempts && pending.len() < MAX_PENDING {
            0
        } else {
            50
        };
        let revents = sock::poll(&want, ms).unwrap_or_default();
        drop(want);
        let now = Instant::now();
        let mut still = Vec::with_capacity(pending.len());
        let ready = |k: usize| revents.get(k).is_some_and(|ev| !ev.is_empty());
        for (k, (s, t)) in pending.drain(..).enumerate() {
            if ready(k) {
                match peers::so_error(&s) {
                    0 => established(s, partial, c, &mut held),
                    e => fail(c, e),
                }
            } else if now.duration_since(t) >= timeout {
                fail(c, Errno::TIMEDOUT.raw_os_error());
            } else {
                still.push((s, t));
            }
        }
        pending = still;
    }
    held
}

fn established(s: TcpStream, partial: bool, c: &mut Counts, held: &mut Vec<TcpStream>) {
    c.established += 1;
    if partial {
        // Best effort: a peer that could not send them is still held.
        let _ = rustix::net::send(&s, &PARTIAL, SendFlags::NOSIGNAL | SendFlags::DONTWAIT);
    }
    held.push(s);
}

/// What the good client saw during the flood.
#[derive(Default)]
struct Probes {
    lat: Histogram,
    failures: u64,
    messages: Vec<String>,
}

/// Good-client probes until `stop`: each a fresh connection, one call
/// (echo: one message) checked, and a clean close, within `timeout`.
fn probe(
    addr: SocketAddr,
    transport: Transport,
    proto: Proto,
    timeout: Duration,
    mut rng: Rng,
    stop: Arc<AtomicBool>,
) -> Probes {
    let mut p = Probes::default();
    while !stop.load(Ordering::Relaxed) {
        let start = Instant::now();
        let deadline = start + timeout;
        let r = GoodConn::open(addr, transport, proto, &mut rng, deadline).and_then(|mut c| {
            c.calls(1, deadline)?;
            c.close(deadline)
        });
        match r {
            Ok(()) => p.lat.record(start.elapsed().as_nanos() as u64),
            Err(e) => {
                p.failures += 1;
                if p.messages.len() < MAX_LISTED {
                    let at = p.lat.count() + p.failures;
                    p.messages
                        .push(format!("good client, probe {at} during the flood: {e}"));
                }
            }
        }
        // Leave the (possibly slow, emulated) machine to the flood.
        thread::sleep(Duration::from_millis(100));
    }
    p
}

/// `--check-cmd` over and over until `stop`: its durations (ms) and
/// failures.
fn check_loop(cmd: String, timeout: Duration, stop: Arc<AtomicBool>) -> (Vec<f64>, Vec<String>) {
    let (mut secs, mut fails) = (Vec::new(), Vec::new());
    while !stop.load(Ordering::Relaxed) {
        let start = Instant::now();
        match checkcmd::run(&cmd, timeout) {
            Ok(()) => secs.push(start.elapsed().as_secs_f64() * 1000.0),
            Err(e) => fails.push(format!("during the flood: {e}")),
        }
        thread::sleep(Duration::from_millis(100));
    }
    (secs, fails)
}

/// A running worker.
struct Worker {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
}

pub fn run(cx: &mut Ctx) {
    let o = cx.o.clone();
    let procs = o.procs.min(o.attempts as usize).max(1);
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => return cx.report.error(&format!("cannot find my own program: {e}")),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let prober = {
        let (stop, rng) = (stop.clone(), cx.rng.fork());
        let (addr, transport, proto, timeout) = (cx.addr, o.transport, o.proto, o.timeout);
        thread::spawn(move || probe(addr, transport, proto, timeout, rng, stop))
    };
    let checker = o.check_cmd.clone().map(|cmd| {
        let stop = stop.clone();
        let t = o.timeout.max(super::MIN_CHECK_CMD_TIMEOUT);
        thread::spawn(move || check_loop(cmd, t, stop))
    });
    let start = Instant::now();
    let (tx, rx) = mpsc::channel::<(usize, Option<String>)>();
    let mut workers = Vec::new();
    let mut first = 0;
    for k in 0..procs {
        let n = o.attempts / procs as u64 + u64::from((k as u64) < o.attempts % procs as u64);
        let spawned = Command::new(&exe)
            .arg(WORKER)
            .arg(cx.addr.to_string())
            .arg(n.to_string())
            .arg(first.to_string())
            .arg(if o.send_partial { "1" } else { "0" })
            .arg(o.timeout.as_millis().to_string())
            .arg(match o.transport {
                Transport::Smc => "smc",
                _ => "tcp",
            })
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        first += n;
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                cx.report
                    .error(&format!("cannot start flood worker {}: {e}", k + 1));
                break;
            }
        };
        let out = child.stdout.take().expect("piped stdout");
        let tx = tx.clone();
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send((k, Some(line)));
            }
            let _ = tx.send((k, None));
        });
        let stdin = child.stdin.take();
        workers.push(Worker { child, stdin });
    }
    drop(tx);
    // Every worker's attempts settled, or it is gone.
    let mut opened = Counts::default();
    let mut done = Counts::default();
    let (mut n_opened, mut n_done, mut gone) = (0, 0, 0);
    let mut hold_started = false;
    let mut connect_secs = 0.0;
    while gone < workers.len() {
        if !hold_started && n_opened + gone >= workers.len() {
            hold_started = true;
            connect_secs = start.elapsed().as_secs_f64();
            if o.verbose {
                cx.report.progress(&format!(
                    "{} established of {} attempted in {connect_secs:.1} s; holding {} s",
                    opened.established, opened.attempted, o.hold_secs
                ));
            }
            thread::sleep(Duration::from_secs(o.hold_secs));
            for w in &mut workers {
                w.stdin = None;
            }
        }
        match rx.recv() {
            Ok((_, Some(line))) if line.starts_with("opened ") => {
                n_opened += 1;
                opened.add_line(&line);
            }
            Ok((_, Some(line))) if line.starts_with("done ") => {
                n_done += 1;
                done.add_line(&line);
            }
            Ok((_, Some(_))) => {}
            Ok((_, None)) => gone += 1,
            Err(_) => break,
        }
    }
    let held_secs = start.elapsed().as_secs_f64() - connect_secs;
    for (k, w) in workers.iter_mut().enumerate() {
        match w.child.wait() {
            Ok(st) if st.success() => {}
            Ok(st) => cx
                .report
                .error(&format!("flood worker {} failed ({st})", k + 1)),
            Err(e) => cx.report.error(&format!("flood worker {}: {e}", k + 1)),
        }
    }
    if n_done < workers.len() && !workers.is_empty() {
        cx.report.error(&format!(
            "{} of {} flood workers ended without their counts",
            workers.len() - n_done,
            workers.len()
        ));
    }
    stop.store(true, Ordering::Relaxed);
    let probes = prober.join().unwrap_or_default();
    for m in &probes.messages {
        cx.report.finding(m);
    }
    cx.report
        .findings(probes.failures - probes.messages.len() as u64, &[]);
    let (check_ms, check_fails) = checker
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default();
    for m in check_fails.iter().take(MAX_LISTED) {
        cx.report.finding(m);
    }
    if check_fails.len() > MAX_LISTED {
        cx.report
            .findings((check_fails.len() - MAX_LISTED) as u64, &[]);
    }
    cx.good_check();
    let ms = |ns: u64| format!("{:.1}", ns as f64 / 1e6);
    let mut check_ms = check_ms;
    check_ms.sort_by(f64::total_cmp);
    let check_p99 = check_ms
        .get(((check_ms.len() * 99).div_ceil(100)).saturating_sub(1))
        .map_or("-".to_string(), |v| format!("{v:.0}"));
    cx.report
        .kv("attempts", o.attempts)
        .kv("procs", workers.len())
        .kv("attempted", done.attempted)
        .kv("established", done.established)
        .kv("failed", done.failed.values().sum::<u64>())
        .kv("failed_by", failed_text(&done.failed))
        .kv("closed", done.reset + done.eof)
        .kv("closed_reset", done.reset)
        .kv("closed_eof", done.eof)
        .kv("open", done.open)
        .kv("partial", o.send_partial)
        .kv("connect_secs", format!("{connect_secs:.1}"))
        .kv("held_secs", format!("{held_secs:.1}"))
        .kv("probes", probes.lat.count() + probes.failures)
        .kv("probe_failures", probes.failures)
        .kv("probe_p50_ms", ms(probes.lat.percentile(50.0)))
        .kv("probe_p99_ms", ms(probes.lat.percentile(99.0)))
        .kv("probe_max_ms", ms(probes.lat.max()))
        .kv("check_runs", check_ms.len() + check_fails.len())
        .kv("check_failures", check_fails.len())
        .kv("check_p99_ms", check_p99);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_round_trip() {
        let mut c = Counts {
            attempted: 5,
            established: 3,
            reset: 1,
            ..Counts::default()
        };
        c.failed.insert("ECONNREFUSED".into(), 2);
        let mut sum = Counts::default();
        sum.add_line(&c.line("done"));
        sum.add_line(&c.line("done"));
        assert_eq!((sum.attempted, sum.established, sum.reset), (10, 6, 2));
        assert_eq!(failed_text(&sum.failed), "ECONNREFUSED:4");
        assert_eq!(failed_text(&BTreeMap::new()), "none");
    }
}
