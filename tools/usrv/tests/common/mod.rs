// SPDX-License-Identifier: GPL-2.0

//! Starting usrv for a test, and a tiny RPC client.

#![allow(dead_code)]

use ksf_proto::rm::{Mark, MARK_LEN};
use ksf_proto::rpc::{decode_reply, encode_call, AcceptStat, Call, Reply, ReplyKind};
use rustix::process::{kill_process, Pid, Signal};
use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_usrv");
/// The models tested; "uring-single" is uring with bundles disabled
/// (`USRV_NO_BUNDLE`), the fallback of kernels before 6.10.
pub const MODELS: [&str; 3] = ["epoll", "uring", "uring-single"];

/// A running server, killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    pub model: &'static str,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Stops the server with `signal`; its exit status.
    pub fn stop(mut self, signal: Signal) -> Option<i32> {
        let pid = Pid::from_child(&self.child);
        kill_process(pid, signal).expect("signal the server");
        for _ in 0..500 {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.set_nodelay(true).unwrap();
        s
    }
}

/// Starts usrv with `--model model --proto proto -p 0 -v --udp` and
/// `extra`; `None` (with the reason printed) when the model cannot run
/// on this host (io_uring not permitted).
pub fn start(model: &'static str, proto: &str, extra: &[&str]) -> Option<Server> {
    let mut cmd = Command::new(BIN);
    if model == "uring-single" {
        cmd.env("USRV_NO_BUNDLE", "1");
    }
    let mut child = cmd
        .args([
            "--model",
            model.split('-').next().unwrap(),
            "--proto",
            proto,
            "-p",
            "0",
            "-v",
            "--udp",
            "--threads",
            "2",
        ])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            if let Some(p) = line.split("listening on port ").nth(1) {
                let port = p.split_whitespace().next().unwrap().parse::<u16>().unwrap();
                let _ = tx.send(Ok(port));
            }
            all.push_str(&line);
            all.push('\n');
        }
        let _ = tx.send(Err(all));
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(port)) => Some(Server { child, port, model }),
        Ok(Err(stderr)) => {
            let code = child.wait().unwrap().code();
            if model.starts_with("uring") && code == Some(1) && stderr.contains("io_uring") {
                eprintln!("SKIP uring: {}", stderr.trim());
                return None;
            }
            panic!("usrv {model} {proto} did not start ({code:?}): {stderr}");
        }
        Err(_) => panic!("usrv {model} {proto} did not start in time"),
    }
}

/// A call with its record mark.
pub fn call(xid: u32, vers: u32, procedure: u32) -> Vec<u8> {
    let body = call_body(xid, vers, procedure);
    let mut b = Mark::new(body.len(), true).unwrap().encode().to_vec();
    b.extend_from_slice(&body);
    b
}

/// A call without its record mark (a UDP datagram).
pub fn call_body(xid: u32, vers: u32, procedure: u32) -> Vec<u8> {
    let mut b = vec![0u8; 128];
    let n = encode_call(&mut b, &Call::new(xid, 100003, vers, procedure)).unwrap();
    b.truncate(n);
    b
}

/// Reads one record (all its fragments); `None` at EOF or reset.
pub fn read_record(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut rec = Vec::new();
    loop {
        let mut m = [0u8; MARK_LEN];
        s.read_exact(&mut m).ok()?;
        let mark = Mark::decode(m);
        let at = rec.len();
        rec.resize(at + mark.len as usize, 0);
        s.read_exact(&mut rec[at..]).ok()?;
        if mark.last {
            return Some(rec);
        }
    }
}

/// The accept_stat of a reply record (and its xid).
pub fn stat(rec: &[u8]) -> (u32, AcceptStat<'static>) {
    let r: Reply<'_> = decode_reply(rec).expect("a reply");
    match r.kind {
        ReplyKind::Accepted { stat, .. } => {
            let stat = match stat {
                AcceptStat::Success { results: [] } => SUCCESS,
                AcceptStat::ProgMismatch { low, high } => AcceptStat::ProgMismatch { low, high },
                AcceptStat::ProcUnavail => AcceptStat::ProcUnavail,
                other => panic!("unexpected {other:?}"),
            };
            (r.xid, stat)
        }
        other => panic!("unexpected {other:?}"),
    }
}

pub const SUCCESS: AcceptStat<'static> = AcceptStat::Success { results: &[] };

/// Asserts the next reply on `s` is `SUCCESS` for `xid`.
pub fn expect_null(s: &mut TcpStream, xid: u32) {
    let rec = read_record(s).expect("a reply");
    assert_eq!(stat(&rec), (xid, SUCCESS));
}

/// Asserts the peer closes `s` (EOF or reset) without sending anything.
pub fn expect_closed(s: &mut TcpStream) {
    let mut b = [0u8; 64];
    match s.read(&mut b) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("expected the connection closed, got {other:?}"),
    }
}
