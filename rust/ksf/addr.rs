// SPDX-License-Identifier: GPL-2.0

//! Socket addresses in their C form.
//!
//! The 6.12 bindings lack `struct sockaddr_in` and `struct sockaddr_in6`;
//! [`RawAddr`] lays them out as include/uapi/linux/in.h and in6.h do and
//! converts to and from `core::net::SocketAddr`.
//!
//! Also the rules about addresses a service binds: how the `addr`
//! parameter is read ([`parse_ip`]), whether an IPv6 socket is IPv6 only
//! ([`v6only`]), and what to bind instead of `[::]` when the kernel has
//! no IPv6 ([`ipv4_fallback`]).

use core::mem::size_of;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use kernel::bindings;
use kernel::error::Result;

use crate::ksf::ffi::errno;

/// `struct sockaddr_in`.
#[repr(C)]
#[derive(Clone, Copy)]
struct SockaddrIn {
    family: u16,
    /// Network byte order.
    port: [u8; 2],
    addr: [u8; 4],
    zero: [u8; 8],
}

/// `struct sockaddr_in6`.
#[repr(C)]
#[derive(Clone, Copy)]
struct SockaddrIn6 {
    family: u16,
    port: [u8; 2],
    flowinfo: [u8; 4],
    addr: [u8; 16],
    scope_id: u32,
}

/// Storage for either address family, as `struct sockaddr_storage` would
/// hold it.
#[repr(C)]
pub(crate) union RawAddr {
    v4: SockaddrIn,
    v6: SockaddrIn6,
    // `sockaddr_storage` is 128 bytes; the kernel may write that much.
    storage: [u64; 16],
}

impl RawAddr {
    /// Zeroed storage, to be filled in by the kernel.
    pub(crate) const fn zeroed() -> RawAddr {
        RawAddr { storage: [0; 16] }
    }

    /// The C form of `addr` and its length.
    pub(crate) fn from_addr(addr: &SocketAddr) -> (RawAddr, i32) {
        match addr {
            SocketAddr::V4(a) => (
                RawAddr {
                    v4: SockaddrIn {
                        family: bindings::AF_INET as u16,
                        port: a.port().to_be_bytes(),
                        addr: a.ip().octets(),
                        zero: [0; 8],
                    },
                },
                size_of::<SockaddrIn>() as i32,
            ),
            SocketAddr::V6(a) => (
                RawAddr {
                    v6: SockaddrIn6 {
                        family: bindings::AF_INET6 as u16,
                        port: a.port().to_be_bytes(),
                        flowinfo: a.flowinfo().to_be_bytes(),
                        addr: a.ip().octets(),
                        scope_id: a.scope_id(),
                    },
                },
                size_of::<SockaddrIn6>() as i32,
            ),
        }
    }

    /// The address the kernel wrote, if it is IPv4 or IPv6.
    pub(crate) fn to_addr(&self) -> Result<SocketAddr> {
        // SAFETY: Every variant starts with the family, and every bit
        // pattern is a valid `u16`.
        let family = unsafe { self.v4.family };
        if family == bindings::AF_INET as u16 {
            // SAFETY: The family says the IPv4 variant was written; all its
            // fields accept any bits.
            let a = unsafe { self.v4 };
            Ok(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(a.addr),
                u16::from_be_bytes(a.port),
            )))
        } else if family == bindings::AF_INET6 as u16 {
            // SAFETY: As above, for IPv6.
            let a = unsafe { self.v6 };
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a.addr),
                u16::from_be_bytes(a.port),
                u32::from_be_bytes(a.flowinfo),
                a.scope_id,
            )))
        } else {
            Err(errno(bindings::EAFNOSUPPORT))
        }
    }

    /// Pointer for the kernel's `struct sockaddr *` arguments.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut bindings::sockaddr {
        (self as *mut RawAddr).cast()
    }

    /// Size of the storage, for `msg_namelen`.
    pub(crate) const fn capacity() -> i32 {
        size_of::<RawAddr>() as i32
    }
}

/// The address family constant of `addr`.
pub(crate) fn family(addr: &SocketAddr) -> i32 {
    match addr {
        SocketAddr::V4(_) => bindings::AF_INET as i32,
        SocketAddr::V6(_) => bindings::AF_INET6 as i32,
    }
}

/// The IPv4 or IPv6 address written in `text` (as `127.0.0.1` or `::1`,
/// no brackets, port or scope), if it is one.
pub fn parse_ip(text: &[u8]) -> Option<IpAddr> {
    core::str::from_utf8(text).ok()?.parse().ok()
}

/// The `IPV6_V6ONLY` an IPv6 socket bound to `addr` takes: off for `::`
/// (IPv4 clients are served too) and for an IPv4-mapped address (which
/// needs it off), on for any other IPv6 address. `None` for IPv4.
pub(crate) fn v6only(addr: &SocketAddr) -> Option<bool> {
    match addr.ip() {
        IpAddr::V4(_) => None,
        IpAddr::V6(ip) => Some(!ip.is_unspecified() && ip.to_ipv4_mapped().is_none()),
    }
}

/// What to bind instead of `addr` when the kernel has no IPv6
/// (`ipv6.disable=1`): `0.0.0.0` with the same port instead of `[::]`;
/// `None` for any other address, which cannot be served then.
pub(crate) fn ipv4_fallback(addr: &SocketAddr) -> Option<SocketAddr> {
    match addr {
        SocketAddr::V6(a) if a.ip().is_unspecified() => {
            Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), a.port()))
        }
        _ => None,
    }
}
