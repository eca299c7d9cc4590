// SPDX-License-Identifier: GPL-2.0

//! A provided-buffer ring (`IORING_REGISTER_PBUF_RING`, Linux 5.19): the
//! kernel picks receive buffers from it for multishot receives, in ring
//! order; the application hands each buffer back by appending it at the
//! tail once its data is consumed.

use io_uring::types::BufRingEntry;
use io_uring::IoUring;
use std::io;
use std::sync::atomic::{AtomicU16, Ordering};

/// Ring entries (a power of two) and the size of each buffer.
pub const ENTRIES: u16 = 128;
pub const BUF_SIZE: usize = 16 * 1024;

/// The ring and its buffers, in one anonymous mapping: the entries in the
/// first page(s), then `ENTRIES` buffers of `BUF_SIZE`.
pub struct BufRing {
    base: *mut u8,
    map_len: usize,
    bufs: *mut u8,
    /// Next position the kernel takes (a mirror of its head) and ours to
    /// fill.
    head: u16,
    tail: u16,
}

impl BufRing {
    /// Maps the memory and registers it as buffer group `bgid`.
    pub fn new(ring: &IoUring, bgid: u16) -> io::Result<BufRing> {
        let ring_len =
            (ENTRIES as usize * std::mem::size_of::<BufRingEntry>()).next_multiple_of(4096);
        let map_len = ring_len + ENTRIES as usize * BUF_SIZE;
        // SAFETY: a fresh private anonymous mapping.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let mut br = BufRing {
            base: base.cast(),
            map_len,
            // SAFETY: within the mapping.
            bufs: unsafe { base.cast::<u8>().add(ring_len) },
            head: 0,
            tail: 0,
        };
        // SAFETY: the mapping is page aligned and lives as long as `br`,
        // which the caller keeps until the ring is gone (see Drop).
        unsafe {
            ring.submitter()
                .register_buf_ring_with_flags(base as u64, ENTRIES, bgid, 0)?
        };
        for bid in 0..ENTRIES {
            br.push(bid);
        }
        Ok(br)
    }

    fn entry(&self, pos: u16) -> *mut BufRingEntry {
        let i = (pos & (ENTRIES - 1)) as usize;
        // SAFETY: `i` < ENTRIES, within the entries area.
        unsafe { self.base.cast::<BufRingEntry>().add(i) }
    }

    /// Hands buffer `bid` back to the kernel.
    pub fn push(&mut self, bid: u16) {
        let bid = bid & (ENTRIES - 1);
        // SAFETY: the entry is ours until the tail passes it.
        unsafe {
            let e = &mut *self.entry(self.tail);
            e.set_addr(self.bufs.add(bid as usize * BUF_SIZE) as u64);
            e.set_len(BUF_SIZE as u32);
            e.set_bid(bid);
        }
        self.tail = self.tail.wrapping_add(1);
        // SAFETY: the tail field overlays entry 0's `resv`, a u16 the
        // kernel reads concurrently: published with a release store.
        unsafe {
            let t = BufRingEntry::tail(self.base.cast()) as *const AtomicU16;
            (*t).store(self.tail, Ordering::Release);
        }
    }

    /// The buffers holding the `len` bytes of a completion whose first
    /// buffer is `bid`: one for a plain receive, consecutive ring entries
    /// for a bundle. Each is (bid, bytes); hand them back with [`push`].
    pub fn take(&mut self, bid: u16, len: usize, out: &mut Vec<(u16, usize)>) {
        let bid = bid & (ENTRIES - 1);
        // The kernel consumes entries in ring order, and completions come
        // in that order: the first buffer is at our head mirror (searched
        // for, should that ever not hold), the next ones follow it.
        let mut pos = self.head;
        for i in 0..ENTRIES {
            let p = self.head.wrapping_add(i);
            if self.bid_at(p) == bid {
                pos = p;
                break;
            }
        }
        let mut left = len;
        loop {
            let n = left.min(BUF_SIZE);
            out.push((self.bid_at(pos), n));
            pos = pos.wrapping_add(1);
            left -= n;
            if left == 0 {
                break;
            }
        }
        self.head = pos;
    }

    fn bid_at(&self, pos: u16) -> u16 {
        // SAFETY: a valid, initialised entry.
        unsafe { (*self.entry(pos)).bid() }
    }

    /// Buffer `bid`'s first `len` bytes.
    pub fn data(&self, bid: u16, len: usize) -> &[u8] {
        let bid = (bid & (ENTRIES - 1)) as usize;
        // SAFETY: within the mapping; the kernel wrote it before posting
        // the completion and does not touch it until it is pushed back.
        unsafe { std::slice::from_raw_parts(self.bufs.add(bid * BUF_SIZE), len.min(BUF_SIZE)) }
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // SAFETY: our mapping; only dropped after the io_uring instance.
        unsafe { libc::munmap(self.base.cast(), self.map_len) };
    }
}
