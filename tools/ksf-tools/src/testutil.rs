// SPDX-License-Identifier: GPL-2.0

//! Helpers of the tools' integration tests (feature `testutil`): running a
//! built tool with a time limit, and small in-process servers.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What a run of a tool produced.
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

    /// The `--json` records of a successful run of `iters` iterations of
    /// `ops` operations each: one per iteration, then the summary, and
    /// nothing else on stdout.
    pub fn json(&self, tool: &str, iters: u64, ops: u64) -> Vec<serde_json::Value> {
        let recs: Vec<serde_json::Value> = self
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert_eq!(recs.len() as u64, iters + 1, "{}", self.stdout);
        for (i, r) in recs.iter().enumerate() {
            let (kind, total) = match i as u64 {
                i if i == iters => ("summary", ops * iters),
                _ => ("iter", ops),
            };
            assert_eq!(
                (r["type"].as_str(), r["tool"].as_str()),
                (Some(kind), Some(tool))
            );
            assert_eq!(
                (r["ops"].as_u64(), r["errors"].as_u64()),
                (Some(total), Some(0))
            );
            let lat = |k: &str| r[k].as_f64().unwrap();
            assert!(lat("rate") > 0.0 && lat("cpu_us_per_op") > 0.0, "{r}");
            assert!(0.0 < lat("min_us") && lat("min_us") <= lat("max_us"), "{r}");
        }
        recs
    }

    /// The header's column names.
    pub fn header(&self) -> Vec<String> {
        let head = self.stdout.lines().next().unwrap_or("");
        head.split_whitespace().map(String::from).collect()
    }
}

fn read_all(mut from: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut s = String::new();
        from.read_to_string(&mut s).unwrap();
        s
    })
}

/// Runs the program `bin` (named `name` in messages) with `args`; fails
/// the test if it runs longer than 20 s (it must never hang).
pub fn run(name: &str, bin: &str, args: &[&str]) -> Run {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e:?}"));
    let o = read_all(child.stdout.take().unwrap());
    let e = read_all(child.stderr.take().unwrap());
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("{name} {args:?} hung");
        }
        thread::sleep(Duration::from_millis(5));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: o.join().unwrap(),
        stderr: e.join().unwrap(),
    }
}

/// Runs `name` and asserts success with nothing on stderr.
pub fn ok(name: &str, bin: &str, args: &[&str]) -> Run {
    let r = run(name, bin, args);
    assert_eq!(r.code, 0, "{name} {args:?} failed: {r:#?}");
    assert!(r.stderr.is_empty(), "unexpected stderr: {}", r.stderr);
    r
}

/// Runs `name` and asserts exit status `code` with `what` on stderr.
pub fn fails(name: &str, bin: &str, args: &[&str], code: i32, what: &str) -> Run {
    let r = run(name, bin, args);
    assert_eq!(r.code, code, "{name} {args:?}: {r:#?}");
    assert!(
        r.stderr.contains(what),
        "{name} {args:?}: expected '{what}' in {r:#?}"
    );
    r
}

/// Runs `name` with bad arguments `args` and asserts a usage error: exit
/// status 2, nothing on stdout, one line on stderr that holds `what` and
/// points to `--help`.
pub fn usage_error(name: &str, bin: &str, args: &[&str], what: &str) {
    let r = fails(name, bin, args, 2, what);
    let hint = format!("(try '{name} --help')");
    assert_eq!(r.stderr.lines().count(), 1, "{name} {args:?}: {r:#?}");
    assert!(r.stderr.contains(&hint), "{name} {args:?}: {r:#?}");
    assert!(r.stdout.is_empty(), "{name} {args:?}: {r:#?}");
}

/// Asserts that `name --version` prints one line: the name, a version and
/// the git revision.
pub fn version(name: &str, bin: &str) {
    let r = ok(name, bin, &["--version"]);
    let prefix = format!("{name} {} (git ", env!("CARGO_PKG_VERSION"));
    assert!(r.stdout.starts_with(&prefix), "{r:#?}");
    assert!(
        r.stdout.ends_with(")\n") && r.stdout.lines().count() == 1,
        "{r:#?}"
    );
}

/// Listens on 127.0.0.1:`port` (0: any) and serves each connection on a
/// thread of its own with `serve`; returns the port.
pub fn tcp_server_on<F>(port: u16, serve: F) -> u16
where
    F: Fn(TcpStream) + Clone + Send + 'static,
{
    let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming().flatten() {
            let serve = serve.clone();
            thread::spawn(move || serve(s));
        }
    });
    port
}

/// Binds a UDP socket on 127.0.0.1:`port` (0: any) and calls
/// `serve(socket, datagram, sender, i)` for the i-th datagram received
/// (from 1); returns the port.
pub fn udp_server_on<F>(port: u16, mut serve: F) -> u16
where
    F: FnMut(&UdpSocket, &mut [u8], SocketAddr, u64) + Send + 'static,
{
    let s = UdpSocket::bind(("127.0.0.1", port)).unwrap();
    let port = s.local_addr().unwrap().port();
    thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        let mut i: u64 = 0;
        while let Ok((n, peer)) = s.recv_from(&mut buf) {
            i += 1;
            serve(&s, &mut buf[..n], peer, i);
        }
    });
    port
}

/// A port on 127.0.0.1 where nothing listens (TCP and UDP).
pub fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
