// SPDX-License-Identifier: GPL-2.0

//! What Linux 6.12's `KVec` lacks and ksf needs.

use core::ptr;

use kernel::alloc::KVec;

/// Removes and returns the last element.
pub(crate) fn pop<T>(v: &mut KVec<T>) -> Option<T> {
    let len = v.len();
    if len == 0 {
        return None;
    }
    // SAFETY: Index `len - 1` holds an initialised element; shrinking the
    // length first hands its ownership to the `read`, exactly once.
    unsafe {
        v.set_len(len - 1);
        Some(ptr::read(v.as_ptr().add(len - 1)))
    }
}

/// Removes element `i`, moving the last element into its place.
pub(crate) fn swap_remove<T>(v: &mut KVec<T>, i: usize) -> Option<T> {
    if i >= v.len() {
        return None;
    }
    let last = v.len() - 1;
    v.as_mut_slice().swap(i, last);
    pop(v)
}

/// A buffer of `len` zero bytes (for receive and send buffers), from
/// `kvmalloc`: a large one never needs a high-order page allocation.
pub fn zeroed(len: usize) -> kernel::error::Result<kernel::alloc::KVVec<u8>> {
    let mut v = kernel::alloc::KVVec::with_capacity(len, kernel::alloc::flags::GFP_KERNEL)?;
    v.extend_with(len, 0, kernel::alloc::flags::GFP_KERNEL)?;
    Ok(v)
}

/// Empties `v`, keeping its memory (`Vec::clear`, which 6.12's `Vec`
/// lacks). Only for elements without a destructor (`Copy`), so nothing
/// is leaked.
pub fn clear<T: Copy, A: kernel::alloc::Allocator>(v: &mut kernel::alloc::Vec<T, A>) {
    // SAFETY: 0 is at most the capacity, and no element is left to be
    // initialised; `Copy` elements need no drop.
    unsafe { v.set_len(0) };
}
