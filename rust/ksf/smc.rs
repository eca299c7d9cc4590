// SPDX-License-Identifier: GPL-2.0

//! SMC-D: services that serve clients in the same OS over shared memory.
//!
//! An SMC listener ([`Kind::Smc`]) is one TCP port for every client: a
//! client that speaks SMC (an `AF_SMC` or `IPPROTO_SMC` socket) and has a
//! shared-memory device in common with the server (on x86, the
//! loopback-ism device and a user EID) is served over SMC-D; any other
//! falls back to the listener's internal TCP socket, transparently. The
//! service's [`Transport`] says whether it listens on TCP, on SMC with
//! fallback (`both`), or on SMC only (`smc`: fallback connections are
//! closed as they are accepted, so that a silent fallback shows).
//!
//! [`SmcMode`] tells how an accepted connection carries its data. The
//! traps of SMC sockets in the kernel (an accept that oopses on fallback,
//! events on another sock, a send-space test that does not see SMC's
//! space) are handled in [`Socket`] and the upcalls; see
//! Documentation/notes/smc.md.

use crate::ksf::ffi::{self, smc_mode};
use crate::ksf::socket::{Kind, Socket};

/// How a connection carries its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmcMode {
    /// Not an SMC socket: plain TCP (or UDP).
    Tcp,
    /// SMC-D: shared memory between the two ends in one OS.
    SmcD,
    /// SMC-R: RDMA.
    SmcR,
    /// An SMC socket that fell back to TCP, for this reason (an
    /// `SMC_CLC_DECL_*` code, net/smc/smc_clc.h).
    Fallback(u32),
    /// An SMC socket whose connection is not set up yet.
    Pending,
}

/// Why an SMC connection fell back: the client did not offer SMC (a plain
/// TCP client).
pub const DECL_PEERNOSMC: u32 = 0x0301_0000;
/// Why an SMC connection fell back: the client proposed no user EID the
/// server has (`ksf-smc ueid add` was not run).
pub const DECL_NOUEID: u32 = 0x0303_0008;

impl SmcMode {
    /// The name in the statistics' connection lines.
    pub fn name(self) -> &'static str {
        match self {
            SmcMode::Tcp => "tcp",
            SmcMode::SmcD => "smcd",
            SmcMode::SmcR => "smcr",
            SmcMode::Fallback(_) => "fallback",
            SmcMode::Pending => "smc_pending",
        }
    }
}

/// How a service's stream clients reach it (the `transport` module
/// parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A TCP listener.
    Tcp,
    /// One SMC listener: SMC-D for SMC clients, TCP through fallback for
    /// the others.
    Both,
    /// One SMC listener that serves SMC-D only: a connection that fell
    /// back is closed when it is accepted (and counted).
    Smc,
}

impl Transport {
    /// The name used by the `transport` module parameter.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Both => "both",
            Transport::Smc => "smc",
        }
    }

    /// The transport called `name`.
    pub fn from_name(name: &[u8]) -> Option<Transport> {
        match name {
            b"tcp" => Some(Transport::Tcp),
            b"both" => Some(Transport::Both),
            b"smc" => Some(Transport::Smc),
            _ => None,
        }
    }

    /// The kind of socket the service listens on.
    pub fn listener(self) -> Kind {
        match self {
            Transport::Tcp => Kind::Tcp,
            Transport::Both | Transport::Smc => Kind::Smc,
        }
    }

    /// Whether a connection that carries its data as `mode` is served.
    pub fn admits(self, mode: SmcMode) -> bool {
        self != Transport::Smc || matches!(mode, SmcMode::SmcD | SmcMode::SmcR)
    }
}

impl Socket {
    /// How the socket carries its data.
    pub fn smc_mode(&self) -> SmcMode {
        let mut rsn = 0u32;
        // SAFETY: `sk()` is valid while `self` is; `rsn` is a valid place.
        match unsafe { ffi::ksf_smc_mode(self.sk(), &mut rsn) } {
            smc_mode::NONE => SmcMode::Tcp,
            smc_mode::SMCD => SmcMode::SmcD,
            smc_mode::SMCR => SmcMode::SmcR,
            smc_mode::FALLBACK => SmcMode::Fallback(rsn),
            _ => SmcMode::Pending,
        }
    }

    /// Makes the release close an SMC connection at once instead of
    /// waiting (up to 2 s) for the peer to take what is still queued; for
    /// connections closed by a timeout, eviction or shutdown. No effect on
    /// other sockets.
    pub fn close_now(&self) {
        // SAFETY: `self.as_ptr()` is valid while `self` is.
        unsafe { ffi::ksf_sock_close_now(self.as_ptr()) }
    }
}
