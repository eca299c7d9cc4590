// SPDX-License-Identifier: GPL-2.0

//! A spinlock that is safe against softirqs.
//!
//! Socket callbacks run in softirq context. A lock they take must be taken
//! with bottom halves disabled everywhere else, or a softirq arriving on the
//! CPU that holds it deadlocks. The kernel crate's `SpinLock` uses plain
//! `spin_lock()`; [`SpinLockBh`] is the same `Lock` with a backend that uses
//! `spin_lock_bh()`, so it works with the kernel's `Guard` and `CondVar`
//! (which unlocks, and so re-enables bottom halves, before sleeping).

use kernel::bindings;
use kernel::sync::lock::{Backend, Lock};

use crate::ksf::ffi;

/// A [`Lock`] over `spinlock_t`, taken with bottom halves disabled.
pub(crate) type SpinLockBh<T> = Lock<T, SpinLockBhBackend>;

/// Creates a [`SpinLockBh`] initialiser with a lock class of its own.
macro_rules! new_spinlock_bh {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        ::kernel::sync::lock::Lock::<_, $crate::ksf::sync::SpinLockBhBackend>::new(
            $inner,
            ::kernel::optional_name!($($name)?),
            ::kernel::static_lock_class!(),
        )
    };
}
pub(crate) use new_spinlock_bh;

/// The backend of [`SpinLockBh`].
pub(crate) struct SpinLockBhBackend;

// SAFETY: `lock` and `unlock` are `spin_lock_bh()` and `spin_unlock_bh()`
// on the same `spinlock_t`, initialised by `init`: they give mutual
// exclusion, and the state needs no extra data.
unsafe impl Backend for SpinLockBhBackend {
    type State = bindings::spinlock_t;
    type GuardState = ();

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut bindings::lock_class_key,
    ) {
        // SAFETY: The caller passes a valid, writable `spinlock_t` and a
        // name and key that live forever.
        unsafe { bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The caller passes an initialised lock.
        unsafe { ffi::ksf_spin_lock_bh(ptr) }
    }

    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: The caller holds the lock.
        unsafe { ffi::ksf_spin_unlock_bh(ptr) }
    }
}
