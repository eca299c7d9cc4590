// SPDX-License-Identifier: GPL-2.0

//! Socket upcalls: the socket callbacks ksf installs.
//!
//! [`Hooked`] owns a [`Socket`] with ksf's `sk_data_ready`,
//! `sk_write_space` and `sk_state_change` installed and a reference to the
//! [`UpcallTarget`] they deliver to kept in `sk_user_data`. The callbacks
//! run in softirq context (or with bottom halves disabled): under
//! `read_lock_bh(&sk->sk_callback_lock)` they chain to the socket's original
//! callback and call [`UpcallTarget::upcall`], which must only queue work.
//!
//! Dropping a [`Hooked`] restores the original callbacks and clears
//! `sk_user_data` under `write_lock_bh(&sk->sk_callback_lock)` (which waits
//! for any callback still running), drops the target reference, and only
//! then releases the socket: no callback can reach the target afterwards.
//!
//! A socket accepted from a hooked listener inherits the listener's
//! callbacks but not its user data (`SK_USER_DATA_NOCOPY`): until it is
//! accepted the callbacks see a NULL user data and do nothing.
//! [`Hooked::accept`] then puts the listener's original callbacks on it
//! at once, as sunrpc's `svc_tcp_accept` does, so that a socket refused,
//! failed or dropped before it is hooked never calls into ksf again (nor
//! into a module that is gone). A socket accepted from an SMC listener is
//! a new sock with SMC's own callbacks, not a clone: it keeps them.
//!
//! The callbacks go on the sock that gets the socket's events
//! ([`Socket::event_sk`]): the socket's own, or for an SMC connection that
//! fell back, its TCP socket's.

use core::cell::UnsafeCell;
use core::marker::PhantomData;

use kernel::bindings;
use kernel::error::Result;
use kernel::sync::{Arc, ArcBorrow};

use crate::ksf::ffi::{self, SkCallbacks};
use crate::ksf::socket::{Kind, Socket};

/// What woke a socket up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// Data, a connection to accept, or an error arrived.
    DataReady,
    /// Send buffer space became available.
    WriteSpace,
    /// The connection changed state (established, closing, reset).
    StateChange,
}

/// The socket's original callbacks, kept by the target for chaining.
pub(crate) struct SkHook {
    saved: UnsafeCell<SkCallbacks>,
}

// SAFETY: `saved` is written only by `ksf_sk_install` under the socket's
// callback lock held for writing, once, when its target is hooked; it is
// read under that lock held for reading, or after the hooking (by
// `Hooked::accept` and `Hooked::drop`, through the `Hooked` it created).
unsafe impl Sync for SkHook {}
// SAFETY: As above; `SkCallbacks` holds plain function pointers.
unsafe impl Send for SkHook {}

impl SkHook {
    pub(crate) const fn new() -> SkHook {
        SkHook {
            saved: UnsafeCell::new(SkCallbacks::NONE),
        }
    }
}

/// An object socket events are delivered to.
pub(crate) trait UpcallTarget: Send + Sync + Sized + 'static {
    /// Where the socket's original callbacks are kept.
    fn hook(&self) -> &SkHook;

    /// Called for every event, in softirq context, with the socket's
    /// callback lock held for reading: must not sleep or take a lock that
    /// is not bottom-half safe; it should only queue work (it may clone
    /// `this` to hand a reference to the queue).
    fn upcall(this: ArcBorrow<'_, Self>, event: Event);
}

/// A socket with ksf's callbacks installed.
///
/// # Invariants
///
/// While `self` lives, `sk_user_data` of `sock.event_sk()` holds a pointer
/// from `Arc::into_raw` on a `T`, and that sock's callbacks are
/// `callback::<T, _>`; the original callbacks are in that `T`'s hook.
pub(crate) struct Hooked<T: UpcallTarget> {
    sock: Socket,
    target: *const T,
    _p: PhantomData<Arc<T>>,
}

// SAFETY: `Hooked` owns a `Socket` (`Send`) and a reference to a `T`
// (`Send + Sync`).
unsafe impl<T: UpcallTarget> Send for Hooked<T> {}
// SAFETY: As above, `&Hooked` only gives `&Socket` and `&T`.
unsafe impl<T: UpcallTarget> Sync for Hooked<T> {}

const EV_DATA: u8 = 0;
const EV_SPACE: u8 = 1;
const EV_STATE: u8 = 2;

/// The callback for event `EV` (one monomorphised function per event).
///
/// # Safety
///
/// Called by the network stack with a valid `sk` whose callbacks were
/// installed by [`Hooked::new`] for this `T`, or inherited from such a
/// listener by a socket not yet accepted (then `sk_user_data` is NULL).
unsafe extern "C" fn callback<T: UpcallTarget, const EV: u8>(sk: *mut bindings::sock) {
    // SAFETY: `sk` is valid (function contract).
    let ud = unsafe { ffi::ksf_sk_read_lock(sk) };
    if !ud.is_null() {
        // SAFETY: A non-NULL user data is the `T` `Hooked::new` put there,
        // kept alive by the reference it holds until `Hooked::drop`
        // restores the callbacks under the lock we hold for reading.
        let target = unsafe { ArcBorrow::<T>::from_raw(ud as *const T) };
        // SAFETY: `saved` is only written under the lock held for writing.
        let saved = unsafe { *target.hook().saved.get() };
        let (orig, event) = match EV {
            EV_DATA => (saved.data_ready, Event::DataReady),
            EV_SPACE => (saved.write_space, Event::WriteSpace),
            _ => (saved.state_change, Event::StateChange),
        };
        if let Some(orig) = orig {
            // SAFETY: The socket's own callback, called as the stack would.
            unsafe { orig(sk) };
        }
        // TCP calls `sk_write_space` for every ACK that frees space while
        // a sender waits, UDP for every datagram sent: wake the target
        // only once a send would make progress.
        // SAFETY: `sk` is valid (function contract).
        if event != Event::WriteSpace || unsafe { ffi::ksf_sk_writeable(sk) } {
            T::upcall(target, event);
        }
    }
    // SAFETY: Taken above.
    unsafe { ffi::ksf_sk_read_unlock(sk) };
}

impl<T: UpcallTarget> Hooked<T> {
    const CALLBACKS: SkCallbacks = SkCallbacks {
        data_ready: Some(callback::<T, EV_DATA>),
        write_space: Some(callback::<T, EV_SPACE>),
        state_change: Some(callback::<T, EV_STATE>),
    };

    /// Installs the callbacks on `sock`, delivering to `target`.
    ///
    /// `sock` must carry the kernel's callbacks: a new socket, or one from
    /// [`Hooked::accept`].
    pub(crate) fn new(sock: Socket, target: Arc<T>) -> Hooked<T> {
        let saved = target.hook().saved.get();
        let target = Arc::into_raw(target);
        // SAFETY: `sock.event_sk()` is valid while `sock` is; `CALLBACKS`
        // is static; `saved` lives in `target`, which the reference we
        // keep holds alive.
        unsafe {
            ffi::ksf_sk_install(
                sock.event_sk(),
                target as *mut kernel::ffi::c_void,
                &Self::CALLBACKS,
                saved,
            )
        };
        // INVARIANT: Installed just above, with the reference from
        // `into_raw` held by `self` until `drop`.
        Hooked {
            sock,
            target,
            _p: PhantomData,
        }
    }

    /// Accepts a connection on this hooked listener without waiting
    /// (`EAGAIN` when none is queued).
    ///
    /// A new TCP socket inherited the listener's callbacks, ksf's own;
    /// under its callback lock they are replaced at once by the listener's
    /// originals and its user data is cleared (an SMC socket has SMC's
    /// callbacks and keeps them). So the socket returned carries the
    /// kernel's callbacks and can be released, or hooked with
    /// [`Hooked::new`], like any new socket.
    pub(crate) fn accept(&self) -> Result<Socket> {
        let new = self.sock.accept()?;
        if new.kind() == Kind::Smc {
            return Ok(new);
        }
        let saved = self.target().hook().saved.get();
        // SAFETY: `new.sk()` is valid while `new` lives. `saved` holds the
        // listener's original callbacks: written when `self` was created
        // and never since (type invariant), alive as long as the target,
        // which `self` holds. The helper writes them on the new socket
        // under its callback lock held for writing, which waits out any
        // inherited callback still running on it.
        unsafe { ffi::ksf_sk_restore(new.sk(), saved) };
        Ok(new)
    }

    /// The socket.
    pub(crate) fn sock(&self) -> &Socket {
        &self.sock
    }

    /// The target the upcalls go to.
    pub(crate) fn target(&self) -> &T {
        // SAFETY: `self` holds a reference (type invariant).
        unsafe { &*self.target }
    }
}

impl<T: UpcallTarget> Drop for Hooked<T> {
    fn drop(&mut self) {
        let saved = self.target().hook().saved.get();
        // SAFETY: The socket is valid and its event sock hooked (type
        // invariant); the helper writes the saved callbacks back under the
        // callback lock held for writing, which waits out running
        // callbacks.
        unsafe { ffi::ksf_sk_restore(self.sock.event_sk(), saved) };
        // SAFETY: No callback can reach the target any more; this gives
        // back the reference `new` took with `into_raw`.
        drop(unsafe { Arc::from_raw(self.target) });
        // `self.sock` is released after this, by its own `Drop`.
    }
}

/// The addresses of the callbacks `sock`'s event sock has now (for
/// tests).
pub(crate) fn callbacks_of(sock: &Socket) -> [usize; 3] {
    let mut cb = SkCallbacks::NONE;
    // SAFETY: `sock.event_sk()` is valid while `sock` lives; the helper
    // only reads the three pointers into `cb`, under the callback lock.
    unsafe { ffi::ksf_sk_callbacks_get(sock.event_sk(), &mut cb) };
    cb.addrs()
}

/// Whether `sock`'s event sock has user data (for tests).
pub(crate) fn has_user_data(sock: &Socket) -> bool {
    let sk = sock.event_sk();
    // SAFETY: `sk` is valid while `sock` lives.
    let ud = unsafe { ffi::ksf_sk_read_lock(sk) };
    // SAFETY: Taken just above.
    unsafe { ffi::ksf_sk_read_unlock(sk) };
    !ud.is_null()
}
