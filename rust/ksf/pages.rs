// SPDX-License-Identifier: GPL-2.0

//! [`PageStore`]: bytes kept in pages of their own, sent without a copy.
//!
//! A store of `len` bytes owns `len / PAGE_SIZE` (rounded up) pages from
//! the page allocator, zeroed at creation and freed when it is dropped.
//! The CPU reads and writes them through [`PageStore::read`] and
//! [`PageStore::write`], which a lock orders; a socket sends them with
//! [`crate::ksf::socket::Socket::send_pages`] and the fragments of
//! [`PageStore::frags`], taking its own reference on each page it keeps,
//! so the store may be dropped while its pages are still in flight.
//!
//! Sending does not take the lock: the network stack reads the pages when
//! the segments leave (and again for a retransmission), so a write after
//! [`PageStore::frags`] may be what the peer receives. knfsd's spliced
//! reads have the same property.

use core::pin::Pin;

use kernel::alloc::flags::{__GFP_NOWARN, __GFP_ZERO, GFP_KERNEL};
use kernel::alloc::{KBox, KVec};
use kernel::error::{
    code::{EINVAL, ENOMEM},
    Result,
};
use kernel::init::InPlaceInit;
use kernel::new_mutex;
use kernel::page::{Page, PAGE_SIZE};
use kernel::sync::Mutex;

use crate::ksf::socket::PageFrag;
use crate::ksf::svc::limits::totalram;

/// The most bytes of stores at once a caller should ask for: a quarter of
/// RAM (the allocator would rather kill a process than fail a page, so
/// stores over it are refused instead).
pub fn max_bytes() -> u64 {
    totalram() / 4
}

/// Bytes in pages, read and written by the CPU, sent by sockets.
pub struct PageStore {
    pages: KVec<Page>,
    len: usize,
    /// Orders the copies of `read` and `write`.
    lock: Pin<KBox<Mutex<()>>>,
}

impl PageStore {
    /// A store of `len` zero bytes; `ENOMEM` if its pages cannot all be
    /// allocated (those that were are freed) or `len` is over
    /// [`max_bytes`].
    pub fn new(len: usize) -> Result<PageStore> {
        if len as u64 > max_bytes() {
            return Err(ENOMEM);
        }
        let n = len.div_ceil(PAGE_SIZE);
        let mut pages = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            let page = Page::alloc_page(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN)?;
            pages.push(page, GFP_KERNEL)?;
        }
        Ok(PageStore {
            pages,
            len,
            lock: KBox::pin_init(new_mutex!(()), GFP_KERNEL)?,
        })
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Pages owned.
    pub fn pages(&self) -> usize {
        self.pages.len()
    }

    /// `EINVAL` unless `offset..offset + len` lies within the store.
    fn check(&self, offset: usize, len: usize) -> Result {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(EINVAL),
        }
    }

    /// The pieces of `offset..offset + len` page by page: (page, offset
    /// in it, length). The range must be checked.
    fn pieces(&self, offset: usize, len: usize) -> impl Iterator<Item = (&Page, usize, usize)> {
        let end = offset + len;
        let mut at = offset;
        core::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let (i, off) = (at / PAGE_SIZE, at % PAGE_SIZE);
            let n = (PAGE_SIZE - off).min(end - at);
            at += n;
            Some((&self.pages[i], off, n))
        })
    }

    /// Copies `out.len()` bytes from `offset` into `out`; `EINVAL` if they
    /// are not all within the store.
    pub fn read(&self, offset: usize, out: &mut [u8]) -> Result {
        self.check(offset, out.len())?;
        let _guard = self.lock.lock();
        let mut done = 0;
        for (page, off, n) in self.pieces(offset, out.len()) {
            // SAFETY: `out[done..done + n]` is writable (the pieces total
            // `out.len()` bytes); the lock held keeps `write` from
            // changing the page meanwhile.
            unsafe { page.read_raw(out[done..].as_mut_ptr(), off, n)? };
            done += n;
        }
        Ok(())
    }

    /// Copies `data` into the store at `offset`; `EINVAL` if it does not
    /// fit.
    pub fn write(&self, offset: usize, data: &[u8]) -> Result {
        self.check(offset, data.len())?;
        let _guard = self.lock.lock();
        let mut done = 0;
        for (page, off, n) in self.pieces(offset, data.len()) {
            // SAFETY: `data[done..done + n]` is readable (the pieces total
            // `data.len()` bytes); the lock held keeps other copies off
            // the page meanwhile.
            unsafe { page.write_raw(data[done..].as_ptr(), off, n)? };
            done += n;
        }
        Ok(())
    }

    /// The fragments that send `offset..offset + len`, in order, for
    /// [`crate::ksf::socket::Socket::send_pages`]; `EINVAL` if the range is
    /// not within the store.
    pub fn frags(
        &self,
        offset: usize,
        len: usize,
    ) -> Result<impl Iterator<Item = PageFrag<'_>> + '_> {
        self.check(offset, len)?;
        Ok(self
            .pieces(offset, len)
            .map(|(page, offset, len)| PageFrag { page, offset, len }))
    }
}
