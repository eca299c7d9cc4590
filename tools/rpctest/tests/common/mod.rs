// SPDX-License-Identifier: GPL-2.0

//! Test support: the in-process servers ([`server`]) and a runner for the
//! built rpctest binary.

#![allow(dead_code)]

pub mod server;

pub use server::*;
use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What a run of rpctest produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The output rows split into cells (header excluded).
    pub fn rows(&self) -> Vec<Vec<String>> {
        self.stdout
            .lines()
            .filter(|l| !l.starts_with("Date"))
            .map(|l| l.split_whitespace().map(String::from).collect())
            .collect()
    }

    /// The header's column names.
    pub fn header(&self) -> Vec<String> {
        let head = self.stdout.lines().next().unwrap_or("");
        head.split_whitespace().map(String::from).collect()
    }
}

/// Runs rpctest with `args`; fails the test if it runs longer than 20 s
/// (it must never hang).
pub fn rpctest(args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rpctest"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rpctest");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let o = thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).unwrap();
        s
    });
    let e = thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).unwrap();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("rpctest {args:?} hung");
        }
        thread::sleep(Duration::from_millis(5));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: o.join().unwrap(),
        stderr: e.join().unwrap(),
    }
}

/// Asserts success and returns the run.
pub fn ok(args: &[&str]) -> Run {
    let r = rpctest(args);
    assert_eq!(r.code, 0, "rpctest {args:?} failed: {r:#?}");
    assert!(r.stderr.is_empty(), "unexpected stderr: {}", r.stderr);
    r
}

/// Asserts exit status `code` with `what` on stderr.
pub fn fails(args: &[&str], code: i32, what: &str) -> Run {
    let r = rpctest(args);
    assert_eq!(r.code, code, "rpctest {args:?}: {r:#?}");
    assert!(
        r.stderr.contains(what),
        "rpctest {args:?}: expected '{what}' in {r:#?}"
    );
    r
}
