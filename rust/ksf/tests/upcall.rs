// SPDX-License-Identifier: GPL-2.0

//! Socket upcalls: events reach the hooked target; a socket accepted from
//! a hooked listener carries the kernel's callbacks, not ksf's, until it
//! is hooked itself.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::sync::atomic::{AtomicU32, Ordering};

use kernel::alloc::flags::GFP_KERNEL;
use kernel::error::code::EAGAIN;
use kernel::sync::{Arc, ArcBorrow};

use super::wait_until;
use crate::ksf::kthread::sleep_ms;
use crate::ksf::socket::{Kind, Socket};
use crate::ksf::upcall::{callbacks_of, has_user_data, Event, Hooked, SkHook, UpcallTarget};

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A target that counts its events: write space apart from the rest.
pub(crate) struct Counter {
    hook: SkHook,
    pub(crate) data: AtomicU32,
    pub(crate) space: AtomicU32,
}

impl Counter {
    /// Every event so far.
    pub(crate) fn events(&self) -> u32 {
        self.data.load(Ordering::Relaxed) + self.space.load(Ordering::Relaxed)
    }
}

impl UpcallTarget for Counter {
    fn hook(&self) -> &SkHook {
        &self.hook
    }

    fn upcall(this: ArcBorrow<'_, Self>, event: Event) {
        match event {
            Event::WriteSpace => this.space.fetch_add(1, Ordering::Relaxed),
            _ => this.data.fetch_add(1, Ordering::Relaxed),
        };
    }
}

pub(crate) fn counter() -> Option<Arc<Counter>> {
    Arc::new(
        Counter {
            hook: SkHook::new(),
            data: AtomicU32::new(0),
            space: AtomicU32::new(0),
        },
        GFP_KERNEL,
    )
    .ok()
}

test_cases! {
    testing = crate::ksf::proto::testing;

    fn accepted_socket_has_the_kernel_callbacks(t) {
        let listener = Socket::bound(Kind::Tcp, &SocketAddr::new(V4, 0));
        check!(t, listener.is_ok());
        let Ok(listener) = listener else { return };
        check_eq!(t, listener.listen(16), Ok(()));
        let Ok(addr) = listener.local_addr() else { return check!(t, false) };
        let kernel = callbacks_of(&listener);
        let Some(target) = counter() else { return check!(t, false) };
        let listener = Hooked::new(listener, target.clone());
        check!(t, callbacks_of(listener.sock()) != kernel);
        check!(t, has_user_data(listener.sock()));

        let client = Socket::new(Kind::Tcp, &addr);
        check!(t, client.is_ok());
        let Ok(client) = client else { return };
        check_eq!(t, client.connect(&addr), Ok(()));
        // A plain kernel TCP socket, never hooked.
        check_eq!(t, callbacks_of(&client), kernel);
        check!(t, wait_until(1000, || target.events() > 0));
        let mut child = Err(EAGAIN);
        wait_until(1000, || {
            if child.is_err() {
                child = listener.accept();
            }
            child.is_ok()
        });
        check!(t, child.is_ok());
        let Ok(child) = child else { return };
        // The listener's originals, not ksf's inherited callbacks, and no
        // user data: released now, it would never call into ksf.
        check_eq!(t, callbacks_of(&child), kernel);
        check!(t, !has_user_data(&child));

        // Data for the child does not reach the listener's target.
        let before = target.events();
        check_eq!(t, client.send(b"ping"), Ok(4));
        check!(t, wait_until(1000, || child.poll().readable()));
        sleep_ms(20);
        check_eq!(t, target.events(), before);

        // Hooked on its own, the child's events go to its own target;
        // unhooked, it has the kernel's callbacks again.
        let Some(own) = counter() else { return check!(t, false) };
        let child = Hooked::new(child, own.clone());
        check_eq!(t, client.send(b"pong"), Ok(4));
        check!(t, wait_until(1000, || own.events() > 0));
        check_eq!(t, target.events(), before);
        let mut buf = [0u8; 8];
        check_eq!(t, child.sock().recv(&mut buf), Ok(8));
        check_eq!(t, &buf, b"pingpong");
        drop(child);

        // What `Hooked::accept` undoes: a plain accept from the hooked
        // listener gives a socket that still carries ksf's callbacks.
        let client2 = Socket::new(Kind::Tcp, &addr);
        check!(t, client2.is_ok());
        let Ok(client2) = client2 else { return };
        check_eq!(t, client2.connect(&addr), Ok(()));
        let mut raw = Err(EAGAIN);
        wait_until(1000, || {
            if raw.is_err() {
                raw = listener.sock().accept();
            }
            raw.is_ok()
        });
        check!(t, raw.is_ok());
        let Ok(raw) = raw else { return };
        check_eq!(t, callbacks_of(&raw), callbacks_of(listener.sock()));
        check!(t, !has_user_data(&raw));
        drop(raw);
        drop(listener);
    }
}
