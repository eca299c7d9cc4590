// SPDX-License-Identifier: GPL-2.0

//! The stream loops against real sockets.

use super::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

/// Echoes of `len`-byte requests, `window` in flight, `count` in all;
/// checks only the number of bytes.
#[derive(Default)]
struct Echo {
    len: usize,
    window: u64,
    count: u64,
    queued: u64,
    received: u64,
    quiet: u64,
}

impl Exchange for Echo {
    fn done(&self) -> bool {
        self.received == self.count * self.len as u64
    }
    fn fill(&mut self, out: &mut Vec<u8>) -> bool {
        let answered = self.received / self.len as u64;
        if self.queued == self.count || self.queued - answered >= self.window {
            return false;
        }
        out.resize(out.len() + self.len, self.queued as u8);
        self.queued += 1;
        true
    }
    fn sent(&mut self, _: u64, _: u64) {}
    fn consume(&mut self, data: &[u8], _: u64) -> Result<(), String> {
        self.received += data.len() as u64;
        Ok(())
    }
    fn want(&self) -> usize {
        self.len - (self.received % self.len as u64) as usize
    }
    fn progress(&self) -> u64 {
        self.received
    }
    fn quiet(&mut self) {
        self.quiet += 1;
    }
    fn owed(&self) -> u64 {
        self.queued - self.received / self.len as u64
    }
    fn context(&self) -> String {
        format!("({} bytes back)", self.received)
    }
}

impl Exchanges for Vec<Echo> {
    type X<'a> = &'a mut Echo;
    fn get(&mut self, i: usize) -> &mut Echo {
        &mut self[i]
    }
}

impl<X: Exchange> Exchange for &mut X {
    fn done(&self) -> bool {
        (**self).done()
    }
    fn fill(&mut self, out: &mut Vec<u8>) -> bool {
        (**self).fill(out)
    }
    fn sent(&mut self, w: u64, t: u64) {
        (**self).sent(w, t)
    }
    fn consume(&mut self, d: &[u8], t: u64) -> Result<(), String> {
        (**self).consume(d, t)
    }
    fn want(&self) -> usize {
        (**self).want()
    }
    fn progress(&self) -> u64 {
        (**self).progress()
    }
    fn quiet(&mut self) {
        (**self).quiet()
    }
    fn owed(&self) -> u64 {
        (**self).owed()
    }
    fn context(&self) -> String {
        (**self).context()
    }
}

/// `n` connections to a loopback server that runs `serve` on each.
fn connections(n: usize, serve: fn(TcpStream)) -> Vec<TcpStream> {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    thread::spawn(move || {
        for s in l.incoming().flatten() {
            thread::spawn(move || serve(s));
        }
    });
    (0..n)
        .map(|_| {
            let s = TcpStream::connect(addr).unwrap();
            s.set_nonblocking(true).unwrap();
            s
        })
        .collect()
}

fn echo(mut s: TcpStream) {
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = s.read(&mut buf) {
        if s.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

fn sink(mut s: TcpStream) {
    thread::sleep(std::time::Duration::from_secs(2));
    let _ = s.flush();
}

#[test]
fn many_connections_in_one_loop() {
    for method in [Method::OnePerSend, Method::Batched] {
        let socks = connections(40, echo);
        let mut xs: Vec<Echo> = (0..40)
            .map(|i| Echo {
                len: 100 + i,
                window: 3,
                count: 25,
                ..Echo::default()
            })
            .collect();
        let mut st = Streams::new(socks, "echo", method, 5_000_000_000).unwrap();
        assert_eq!((st.len(), st.is_empty()), (40, false));
        st.run(&mut xs, &AtomicBool::new(false)).unwrap();
        assert!(xs.iter().all(|x| x.done()), "{method:?}");
    }
}

#[test]
fn a_stalled_connection_times_out() {
    // A server that never reads: the window's 64 MiB of requests fill
    // the socket buffers, the connection waits for EPOLLOUT and fails.
    let socks = connections(3, sink);
    let mut xs: Vec<Echo> = (0..3)
        .map(|_| Echo {
            len: 64 * 1024,
            window: 1024,
            count: 1024,
            ..Echo::default()
        })
        .collect();
    let mut st = Streams::new(socks, "echo", Method::Batched, 300_000_000).unwrap();
    let e = st.run(&mut xs, &AtomicBool::new(false)).unwrap_err();
    // All three stall; whichever is first fails the run.
    assert!(
        e.starts_with("connection ")
            && e.contains(": timeout: no progress for 300 ms (0 bytes back)")
            && e.ends_with("; the server does not read"),
        "{e}"
    );
    assert!(xs.iter().any(|x| x.quiet > 0), "quiet was never called");
    // Stopped from outside, the loop returns at once.
    let mut st = Streams::new(connections(1, sink), "echo", Method::Batched, 1 << 40).unwrap();
    let mut xs = vec![Echo {
        len: 10,
        window: 1,
        count: 1,
        ..Echo::default()
    }];
    assert_eq!(st.run(&mut xs, &AtomicBool::new(true)), Ok(()));
}
