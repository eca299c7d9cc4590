// SPDX-License-Identifier: GPL-2.0

//! UDP, the same for both models: when the socket is readable, up to
//! [`BUDGET`] datagrams are received and answered with plain system calls.
//! A datagram that cannot be answered (undecodable call, full send
//! buffer) is dropped, as UDP allows.

use crate::service::Service;
use crate::sock;
use std::os::fd::BorrowedFd;

/// Datagrams per readiness event.
const BUDGET: usize = 64;
/// Largest datagram.
pub const MAX_DGRAM: usize = 64 * 1024;

/// One thread's UDP socket and its buffers.
pub struct Udp<'fd> {
    pub fd: BorrowedFd<'fd>,
    buf: Vec<u8>,
    out: [u8; 64],
}

impl<'fd> Udp<'fd> {
    /// Serves the UDP socket `fd`.
    pub fn new(fd: BorrowedFd<'fd>) -> Udp<'fd> {
        Udp {
            fd,
            buf: vec![0; MAX_DGRAM],
            out: [0; 64],
        }
    }

    /// Answers what has arrived, up to the budget; whether more may wait.
    pub fn drain(&mut self, svc: &Service) -> bool {
        for _ in 0..BUDGET {
            let Ok((n, peer)) = sock::recv_from(self.fd, &mut self.buf) else {
                return false;
            };
            if let Some(reply) = svc.datagram(&self.buf[..n], &mut self.out) {
                let _ = sock::send_to(self.fd, reply, &peer);
            }
        }
        true
    }
}
