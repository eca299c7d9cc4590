// SPDX-License-Identifier: GPL-2.0

//! UDP: one datagram per call and per reply, no record marking; replies
//! are matched by xid. A call not answered within the timeout is lost;
//! lost calls and bad, duplicate or unexpected datagrams are counted and
//! the run goes on. The socket's loop is ksf-tools' [`datagram::run`].

use crate::call::Template;
use crate::window::Window;
use crate::IterResult;
use ksf_tools::datagram::{self, Datagrams};
use ksf_tools::jobs::set_rcvbuf;
use std::net::UdpSocket;
use std::sync::atomic::AtomicBool;

/// One iteration's calls and replies.
struct Calls<'a> {
    call: &'a Template,
    /// The next call, as sent.
    sbuf: Vec<u8>,
    win: &'a mut Window,
    r: &'a mut IterResult,
    timeout_ns: u64,
}

/// Asks for a receive buffer that holds a whole window of replies (best
/// effort: the kernel caps it at net.core.rmem_max).
fn grow_rcvbuf(sock: &UdpSocket, bytes: usize) {
    set_rcvbuf(sock, bytes.clamp(64 << 10, 16 << 20));
}

impl Datagrams for Calls<'_> {
    fn done(&self) -> bool {
        self.win.done()
    }

    fn next(&mut self) -> Option<&[u8]> {
        if !self.win.can_take() {
            return None;
        }
        let seq = self.win.taken();
        self.call.patch(self.win.next_xid(), seq, &mut self.sbuf);
        Some(&self.sbuf)
    }

    fn sent(&mut self, n: usize, now: u64) {
        self.win.take();
        self.win.stamp(now);
        self.r.counts.sends += 1;
        self.r.counts.bytes_out += n as u64;
    }

    fn expire(&mut self, now: u64) -> Option<u64> {
        self.win.expire(now, self.timeout_ns, self.r)
    }

    fn consume(&mut self, data: &[u8], now: u64) {
        self.r.counts.recvs += 1;
        self.r.counts.bytes_in += data.len() as u64;
        self.win.on_reply(data, now, self.r);
    }

    fn context(&self) -> String {
        format!("({})", self.win.context())
    }
}

/// Makes the calls of `win` on `sock` (connected, non-blocking), recording
/// into `r`. Returns early (Ok) when `stop` is set; an `Err` is fatal.
pub fn iterate(
    sock: UdpSocket,
    call: &Template,
    timeout_ns: u64,
    win: &mut Window,
    r: &mut IterResult,
    stop: &AtomicBool,
) -> Result<(), String> {
    grow_rcvbuf(&sock, 1024 * 1024);
    let mut calls = Calls {
        call,
        sbuf: call.message().to_vec(),
        win,
        r,
        timeout_ns,
    };
    let mut rbuf = vec![0u8; 65536];
    datagram::run(&sock, &mut rbuf, "RPC", &mut calls, stop)
}
