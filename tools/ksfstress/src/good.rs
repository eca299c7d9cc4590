// SPDX-License-Identifier: GPL-2.0

//! The good client: a well-behaved peer whose every call (or echo) must be
//! answered correctly and in time, whatever the other peers did.

use crate::opts::Proto;
use crate::rng::Rng;
use crate::sock;
use crate::wire::{check_null_reply, null_call, record, Cred, RecordReader};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One good connection. Every operation must finish by its deadline.
pub struct GoodConn {
    s: TcpStream,
    proto: Proto,
    reader: RecordReader,
    records: VecDeque<Vec<u8>>,
    xid: u32,
    rng: Rng,
}

fn remaining(deadline: Instant) -> Result<Duration, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err("timed out".into());
    }
    Ok(left)
}

impl GoodConn {
    /// Connects by `deadline`.
    pub fn open(
        addr: SocketAddr,
        proto: Proto,
        rng: &mut Rng,
        deadline: Instant,
    ) -> Result<GoodConn, String> {
        let s =
            sock::connect(addr, remaining(deadline)?).map_err(|e| sock::connect_text(&e, addr))?;
        let mut rng = rng.fork();
        Ok(GoodConn {
            s,
            proto,
            reader: RecordReader::new(),
            records: VecDeque::new(),
            xid: rng.u32(),
            rng,
        })
    }

    fn send(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), String> {
        self.s
            .set_write_timeout(Some(remaining(deadline)?))
            .map_err(|e| e.to_string())?;
        self.s.write_all(bytes).map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "send timed out".to_string(),
            _ => format!("send: {}", sock::io_text(&e)),
        })
    }

    /// Reads some bytes by `deadline`; an error at EOF.
    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, String> {
        loop {
            self.s
                .set_read_timeout(Some(remaining(deadline)?))
                .map_err(|e| e.to_string())?;
            match self.s.read(buf) {
                Ok(0) => return Err("the server closed the connection".into()),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err("no answer in time".into())
                }
                Err(e) => return Err(format!("receive: {}", sock::io_text(&e))),
            }
        }
    }

    /// The next reply record.
    fn reply(&mut self, deadline: Instant) -> Result<Vec<u8>, String> {
        let mut buf = [0u8; 4096];
        while self.records.is_empty() {
            let n = self.recv(&mut buf, deadline)?;
            let records = &mut self.records;
            self.reader.feed(&buf[..n], |r| {
                records.push_back(r.to_vec());
                Ok(())
            })?;
        }
        Ok(self.records.pop_front().unwrap_or_default())
    }

    /// Sends `n` calls (echo: messages) in one write and checks every
    /// answer, by `deadline`.
    pub fn calls(&mut self, n: usize, deadline: Instant) -> Result<(), String> {
        match self.proto {
            Proto::Rpc => {
                let first = self.xid;
                let mut out = Vec::new();
                for _ in 0..n {
                    let cred = if self.rng.chance(1, 4) {
                        Cred::Sys
                    } else {
                        Cred::None
                    };
                    out.extend(record(&null_call(self.xid, cred)));
                    self.xid = self.xid.wrapping_add(1);
                }
                self.send(&out, deadline)?;
                for i in 0..n as u32 {
                    let rec = self.reply(deadline)?;
                    check_null_reply(&rec, first.wrapping_add(i))?;
                }
                Ok(())
            }
            Proto::Echo => {
                let mut out = Vec::new();
                for _ in 0..n {
                    let len = self.rng.range(1, 2048);
                    out.extend(self.rng.bytes(len));
                }
                // Small enough to be sent whole before reading.
                for chunk in out.chunks(64 * 1024) {
                    self.send(chunk, deadline)?;
                    self.expect_echo(chunk, deadline)?;
                }
                Ok(())
            }
        }
    }

    fn expect_echo(&mut self, sent: &[u8], deadline: Instant) -> Result<(), String> {
        let mut back = vec![0u8; sent.len()];
        let mut got = 0;
        while got < sent.len() {
            got += self.recv(&mut back[got..], deadline)?;
        }
        match sent.iter().zip(&back).position(|(a, b)| a != b) {
            None => Ok(()),
            Some(i) => Err(format!(
                "echo differs at byte {i}: sent {:#04x}, got {:#04x}",
                sent[i], back[i]
            )),
        }
    }

    /// One call (echo: one message) and its answer; the round-trip time.
    pub fn round_trip(&mut self, timeout: Duration) -> Result<Duration, String> {
        let start = Instant::now();
        self.calls(1, start + timeout)?;
        Ok(start.elapsed())
    }

    /// Closes the connection at once with a reset (`SO_LINGER` 0).
    pub fn reset(self) {
        sock::reset(self.s);
    }

    /// Sends one call (echo: one message) and reads nothing.
    pub fn send_one(&mut self, deadline: Instant) -> Result<(), String> {
        let msg = match self.proto {
            Proto::Rpc => record(&null_call(self.xid, Cred::None)),
            Proto::Echo => self.rng.bytes(64),
        };
        self.xid = self.xid.wrapping_add(1);
        self.send(&msg, deadline)
    }

    /// Ends the connection: EOF from us, then the server's EOF.
    pub fn close(mut self, deadline: Instant) -> Result<(), String> {
        self.s
            .shutdown(Shutdown::Write)
            .map_err(|e| format!("shutdown: {e}"))?;
        let mut buf = [0u8; 256];
        match self.recv(&mut buf, deadline) {
            Err(e) if e.contains("closed the connection") => Ok(()),
            Err(e) => Err(format!("after the client's EOF: {e}")),
            Ok(n) => Err(format!("{n} unexpected bytes after the last answer")),
        }
    }
}

/// The good-client check: `conns` connections one after the other, each
/// with `calls` calls (half one at a time, half in one write), within
/// `timeout` in all.
pub fn check(
    addr: SocketAddr,
    proto: Proto,
    conns: usize,
    calls: usize,
    timeout: Duration,
    rng: &mut Rng,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let in_time = |r: Result<(), String>| {
        r.map_err(|e| match e.as_str() {
            "timed out" | "no answer in time" | "send timed out" => {
                format!("not served within {} ms", timeout.as_millis())
            }
            _ => e,
        })
    };
    for i in 0..conns {
        let per = calls / conns + usize::from(i < calls % conns);
        let r = (|| {
            let mut c = GoodConn::open(addr, proto, rng, deadline)?;
            for _ in 0..per / 2 {
                c.calls(1, deadline)?;
            }
            c.calls(per - per / 2, deadline)?;
            c.close(deadline)
        })();
        in_time(r).map_err(|e| format!("good client, connection {}: {e}", i + 1))?;
    }
    Ok(())
}
