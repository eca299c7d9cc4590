// SPDX-License-Identifier: GPL-2.0

//! Test support: usrv started on a free port, in-process servers broken on
//! purpose, and a runner for the built ksfstress.

#![allow(dead_code)]

pub mod broken;
pub mod timeouts;

use ksf_tools::testutil;
#[allow(unused_imports)] // not every test uses every helper
pub use ksf_tools::testutil::{dead_port, Run};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_ksfstress");

/// Runs ksfstress with `args`; fails the test if it runs over 20 s.
pub fn ksfstress(args: &[&str]) -> Run {
    testutil::run("ksfstress", BIN, args)
}

/// Runs ksfstress, asserts exit status 0, and returns the summary.
pub fn ok(args: &[&str]) -> HashMap<String, String> {
    let r = ksfstress(args);
    assert_eq!(r.code, 0, "ksfstress {args:?}: {r:#?}");
    summary(&r, args[0])
}

/// Runs ksfstress, asserts exit status 1 with `what` on stderr, and
/// returns the summary.
pub fn finds(args: &[&str], what: &str) -> HashMap<String, String> {
    let r = ksfstress(args);
    assert_eq!(r.code, 1, "ksfstress {args:?}: {r:#?}");
    assert!(
        r.stderr.contains(what),
        "ksfstress {args:?}: expected '{what}' in {r:#?}"
    );
    summary(&r, args[0])
}

/// The `key=value` pairs of the one summary line of subcommand `sub`.
pub fn summary(r: &Run, sub: &str) -> HashMap<String, String> {
    let prefix = format!("ksfstress {sub}: ");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one summary line: {r:#?}");
    let rest = lines[0].strip_prefix(&prefix).expect("summary prefix");
    rest.split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("key=value");
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// A number of the summary.
pub fn num(s: &HashMap<String, String>, key: &str) -> u64 {
    s.get(key)
        .unwrap_or_else(|| panic!("no {key} in {s:?}"))
        .parse()
        .unwrap_or_else(|_| panic!("{key} not a number in {s:?}"))
}

/// The usrv binary, built once (next to ksfstress, same profile).
fn usrv_bin() -> &'static PathBuf {
    static BIN_PATH: OnceLock<PathBuf> = OnceLock::new();
    BIN_PATH.get_or_init(|| {
        let me = PathBuf::from(BIN);
        let dir = me.parent().expect("a directory").to_path_buf();
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(["build", "-q", "-p", "usrv"]);
        if let Some(target) = dir.parent() {
            cmd.arg("--target-dir").arg(target);
        }
        if dir.file_name().is_some_and(|p| p == "release") {
            cmd.arg("--release");
        }
        let st = cmd.status().expect("run cargo build -p usrv");
        assert!(st.success(), "cargo build -p usrv failed");
        dir.join("usrv")
    })
}

/// A running usrv, killed when dropped.
pub struct Usrv {
    child: Child,
    pub port: u16,
}

impl Drop for Usrv {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Usrv {
    /// `127.0.0.1:PORT`.
    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// Starts `usrv --proto proto` (epoll, two threads) on a free port.
pub fn usrv(proto: &str) -> Usrv {
    let mut child = Command::new(usrv_bin())
        .args(["--proto", proto, "-p", "0", "-v", "--threads", "2"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start usrv");
    let err = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            if let Some(p) = line.split("listening on port ").nth(1) {
                let port = p.split_whitespace().next().and_then(|p| p.parse().ok());
                let _ = tx.send(port);
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Some(port)) => Usrv { child, port },
        other => panic!("usrv --proto {proto} did not start: {other:?}"),
    }
}
