// SPDX-License-Identifier: GPL-2.0

//! Buffers lent to connections while a request is in flight.
//!
//! A connection at rest holds no receive or reply buffer: its task takes a
//! [`Buf`] from its service's [`BufCache`] when a run needs one and gives
//! it back when the run ends with nothing left in it. The cache keeps a
//! few free buffers per CPU (two lock-free slots each), so a busy CPU
//! reuses the buffers of its last runs without allocating; a buffer given
//! back to full slots is freed. Buffers come from `kvmalloc`, so large ones
//! never need a high-order page allocation.

use core::ops::{Deref, DerefMut};
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use kernel::alloc::{flags::GFP_KERNEL, KVVec, KVec};
use kernel::error::Result;

use crate::ksf::cpu::{current_cpu, nr_cpu_ids};

/// Free buffers kept per CPU.
const SLOTS: usize = 2;

/// A buffer of its cache's size, zeroed when first allocated.
pub struct Buf {
    v: KVVec<u8>,
}

impl Deref for Buf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.v
    }
}

impl DerefMut for Buf {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.v
    }
}

impl Buf {
    /// Its size in bytes (what it costs while held).
    pub fn size(&self) -> usize {
        self.v.capacity()
    }
}

/// A per-CPU cache of free buffers of one size.
///
/// # Invariants
///
/// A non-null slot holds the pointer of a `KVVec<u8>` of length and
/// capacity `size`, taken apart with `into_raw_parts` and owned by the
/// slot: exactly one of `take` (which swaps it out) and `drop` turns it
/// back into a vector.
pub struct BufCache {
    size: usize,
    /// `SLOTS` slots per CPU id.
    slots: KVec<AtomicPtr<u8>>,
    /// Bytes in the slots now.
    cached: AtomicU64,
}

// SAFETY: The slots hold owned buffers handed over atomically (type
// invariant); a `KVVec<u8>` may move between threads.
unsafe impl Send for BufCache {}
// SAFETY: As above: every access to a slot is an atomic swap.
unsafe impl Sync for BufCache {}

impl BufCache {
    /// A cache of `size`-byte buffers, empty.
    pub fn new(size: usize) -> Result<BufCache> {
        let n = nr_cpu_ids().max(1) as usize * SLOTS;
        let mut slots = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            slots.push(AtomicPtr::new(ptr::null_mut()), GFP_KERNEL)?;
        }
        Ok(BufCache {
            size,
            slots,
            cached: AtomicU64::new(0),
        })
    }

    /// The size of its buffers.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Bytes held in the cache (free buffers).
    pub fn cached(&self) -> u64 {
        self.cached.load(Ordering::Relaxed)
    }

    fn local(&self) -> &[AtomicPtr<u8>] {
        let at = (current_cpu() as usize * SLOTS).min(self.slots.len() - SLOTS);
        &self.slots[at..at + SLOTS]
    }

    /// A buffer: a free one of this CPU's, or a new one.
    pub fn take(&self) -> Result<Buf> {
        for slot in self.local() {
            let p = slot.swap(ptr::null_mut(), Ordering::Acquire);
            if !p.is_null() {
                self.cached.fetch_sub(self.size as u64, Ordering::Relaxed);
                // SAFETY: A non-null slot holds a vector's parts of length
                // and capacity `size`, now ours alone (type invariant).
                let v = unsafe { KVVec::from_raw_parts(p, self.size, self.size) };
                return Ok(Buf { v });
            }
        }
        let mut v = KVVec::with_capacity(self.size, GFP_KERNEL)?;
        v.extend_with(self.size, 0, GFP_KERNEL)?;
        Ok(Buf { v })
    }

    /// Gives `buf` back: kept in a free slot of this CPU's, else freed.
    pub fn give(&self, buf: Buf) {
        if buf.v.len() != self.size || buf.v.capacity() != self.size {
            return;
        }
        let (p, _, _) = buf.v.into_raw_parts();
        for slot in self.local() {
            // INVARIANT: `p` is a vector's parts of length and capacity
            // `size`, handed to the slot if it is empty.
            if slot
                .compare_exchange(ptr::null_mut(), p, Ordering::Release, Ordering::Relaxed)
                .is_ok()
            {
                self.cached.fetch_add(self.size as u64, Ordering::Relaxed);
                return;
            }
        }
        // SAFETY: `p` came from `into_raw_parts` above with length and
        // capacity `size`, and no slot took it.
        drop(unsafe { KVVec::from_raw_parts(p, self.size, self.size) });
    }
}

impl Drop for BufCache {
    fn drop(&mut self) {
        for slot in self.slots.iter() {
            let p = slot.swap(ptr::null_mut(), Ordering::Acquire);
            if !p.is_null() {
                // SAFETY: As in `take`: the slot's vector is ours now.
                drop(unsafe { KVVec::from_raw_parts(p, self.size, self.size) });
            }
        }
    }
}
