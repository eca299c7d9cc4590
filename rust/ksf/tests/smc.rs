// SPDX-License-Identifier: GPL-2.0

//! SMC sockets on the guest's loopback-ism device: a kernel SMC client gets
//! SMC-D from an SMC listener, a TCP client falls back (and the accept
//! does not oops); ksf's callbacks sit on the sock that gets the events in
//! both cases; a send that finds no room does not wake a task waiting for
//! room; a service with `transport` both or smc counts and serves (or
//! refuses) each kind of client.
//!
//! SMC-D on x86 needs the guest's user EID (`ksf-smc ueid add`, set by the
//! guest's init): without it every connection falls back with `NOUEID`.
//! On a kernel without SMC the cases have nothing to test and say so.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::sync::atomic::Ordering;

use kernel::bindings;
use kernel::error::code::EAGAIN;
use kernel::prelude::*;

use super::socket::pair_of;
use super::svc::{closed_by_server, echo_through, Echo};
use super::upcall::counter;
use super::{offer_smc, wait_until};
use crate::ksf::ffi::errno;
use crate::ksf::kthread::sleep_ms;
use crate::ksf::pool::now_ns;
use crate::ksf::proto::testing::Tester;
use crate::ksf::smc::{SmcMode, Transport, DECL_PEERNOSMC};
use crate::ksf::socket::{Kind, Socket};
use crate::ksf::svc::{Svc, SvcConfig};
use crate::ksf::upcall::{callbacks_of, has_user_data, Hooked};

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

/// Whether this kernel has SMC sockets; logs that the case is void if not.
fn have_smc() -> bool {
    match Socket::new(Kind::Smc, &SocketAddr::new(V4, 0)) {
        Err(e) if e == errno(bindings::EAFNOSUPPORT) => {
            pr_info!("ksf_smc: this kernel has no SMC (CONFIG_SMC): nothing to test\n");
            false
        }
        _ => true,
    }
}

/// Hooks `server`, checks that the callbacks sit on its event sock and
/// that data from `client` reaches the target.
fn events_reach_target(t: &mut dyn Tester, client: &Socket, server: Socket) {
    let before = callbacks_of(&server);
    let Some(target) = counter() else {
        return check!(t, false);
    };
    let server = Hooked::new(server, target.clone());
    check!(t, callbacks_of(server.sock()) != before);
    check!(t, has_user_data(server.sock()));
    check_eq!(t, client.send(b"ping"), Ok(4));
    check!(
        t,
        wait_until(2000, || target.data.load(Ordering::Relaxed) > 0)
    );
    let mut buf = [0u8; 8];
    check!(t, wait_until(1000, || server.sock().poll().readable()));
    check_eq!(t, server.sock().recv(&mut buf), Ok(4));
    check_eq!(t, &buf[..4], b"ping");
    check_eq!(t, server.sock().send(b"pong"), Ok(4));
    check!(t, wait_until(1000, || client.poll().readable()));
    check_eq!(t, client.recv(&mut buf), Ok(4));
    check_eq!(t, &buf[..4], b"pong");
}

fn smc_client(t: &mut dyn Tester, ip: IpAddr) {
    if !have_smc() {
        return;
    }
    let p = pair_of(Kind::Smc, Kind::Smc, ip);
    check!(t, p.is_ok());
    let Ok((_l, client, server)) = p else { return };
    // Both ends over SMC-D: a fallback here is the silent kind the
    // tests must catch (NOUEID 0x03030008: the guest has no user EID).
    check_eq!(t, server.smc_mode(), SmcMode::SmcD);
    check_eq!(t, client.smc_mode(), SmcMode::SmcD);
    check_eq!(t, server.event_sk(), server.sk());
    check_eq!(t, server.peer_addr().ok(), client.local_addr().ok());
    events_reach_target(t, &client, server);
}

test_cases! {
    testing = crate::ksf::proto::testing;

    fn smc_client_gets_smcd_v4(t) {
        smc_client(t, V4);
    }

    fn smc_client_gets_smcd_v6(t) {
        smc_client(t, V6);
    }

    fn tcp_client_falls_back(t) {
        if !have_smc() {
            return;
        }
        // The accept of a fallback connection: `kernel_accept` would
        // write through a NULL file here.
        let p = pair_of(Kind::Smc, Kind::Tcp, V4);
        check!(t, p.is_ok());
        let Ok((_l, client, server)) = p else { return };
        check_eq!(t, server.smc_mode(), SmcMode::Fallback(DECL_PEERNOSMC));
        check_eq!(t, client.smc_mode(), SmcMode::Tcp);
        // Its events come on SMC's internal TCP socket.
        check!(t, server.event_sk() != server.sk());
        events_reach_target(t, &client, server);
    }

    fn full_send_does_not_wake_writer(t) {
        if !have_smc() {
            return;
        }
        let p = pair_of(Kind::Smc, Kind::Smc, V4);
        check!(t, p.is_ok());
        let Ok((_l, client, server)) = p else { return };
        check_eq!(t, server.smc_mode(), SmcMode::SmcD);
        let Some(target) = counter() else { return check!(t, false) };
        let server = Hooked::new(server, target.clone());
        let chunk = [0x5au8; 4096];
        let mut sent = 0usize;
        // Fill the peer's buffer (it does not read).
        check!(t, wait_until(2000, || match server.sock().send(&chunk) {
            Ok(n) => {
                sent += n;
                false
            }
            Err(e) => e == EAGAIN,
        }));
        check!(t, sent > 0);
        check!(t, !server.sock().poll().writable());
        // SMC calls the write-space callback on every send that fails
        // (smc_tx_sendmsg): with the generic test, each would wake the
        // task that waits for room, and a service would spin.
        sleep_ms(20);
        let space = target.space.load(Ordering::Relaxed);
        for _ in 0..100 {
            check_eq!(t, server.sock().send(&chunk), Err(EAGAIN));
        }
        sleep_ms(100);
        check_eq!(t, target.space.load(Ordering::Relaxed), space);
        // Room made by the peer's reads does wake it.
        let mut buf = [0u8; 4096];
        let mut got = 0usize;
        check!(t, wait_until(2000, || {
            while let Ok(n) = client.recv(&mut buf) {
                if n == 0 {
                    break;
                }
                got += n;
            }
            got == sent
        }));
        check!(t, wait_until(2000, || target.space.load(Ordering::Relaxed) > space));
        check!(t, server.sock().poll().writable());
    }

    fn service_serves_smc_and_tcp_clients(t) {
        if !have_smc() {
            return;
        }
        let cfg = SvcConfig { transport: Transport::Both, ..SvcConfig::DEFAULT };
        let Ok(svc) = Svc::new(Echo::new(), cfg) else { return check!(t, false) };
        let addr = svc.listen(&SocketAddr::new(V4, 0), 16);
        check!(t, addr.is_ok());
        let Ok(addr) = addr else { return };
        for kind in [Kind::Smc, Kind::Tcp, Kind::Smc] {
            let c = Socket::new(kind, &addr);
            check!(t, c.is_ok());
            let Ok(c) = c else { return };
            check_eq!(t, c.connect(&addr), Ok(()));
            check!(t, echo_through(&c, b"hello over smc or tcp"));
        }
        let s = svc.smc_stats();
        check_eq!(t, (s.smcd, s.fallback, s.fallback_peer_nosmc), (2, 1, 1));
        check_eq!(t, s.fallback_last_reason, DECL_PEERNOSMC);
        check_eq!(t, s.refused, 0);
        check_eq!(t, svc.stats().accepted, 3);
    }

    fn smc_only_service_refuses_fallback(t) {
        if !have_smc() {
            return;
        }
        let cfg = SvcConfig { transport: Transport::Smc, ..SvcConfig::DEFAULT };
        let Ok(svc) = Svc::new(Echo::new(), cfg) else { return check!(t, false) };
        let addr = svc.listen(&SocketAddr::new(V4, 0), 16);
        check!(t, addr.is_ok());
        let Ok(addr) = addr else { return };
        let tcp = Socket::new(Kind::Tcp, &addr);
        check!(t, tcp.is_ok());
        let Ok(tcp) = tcp else { return };
        check_eq!(t, tcp.connect(&addr), Ok(()));
        check!(t, closed_by_server(&tcp));
        let smc = Socket::new(Kind::Smc, &addr);
        check!(t, smc.is_ok());
        let Ok(smc) = smc else { return };
        check_eq!(t, smc.connect(&addr), Ok(()));
        check!(t, echo_through(&smc, b"smc only"));
        let s = svc.smc_stats();
        check_eq!(t, (s.smcd, s.fallback, s.refused), (1, 1, 1));
        check_eq!(t, svc.stats().refused, 1);
        check_eq!(t, svc.stats().accepted, 1);
    }

    #[slow]
    fn listener_release_waits_for_handshakes(t) {
        if !have_smc() {
            return;
        }
        let listener = Socket::bound(Kind::Smc, &SocketAddr::new(V4, 0));
        check!(t, listener.is_ok());
        let Ok(listener) = listener else { return };
        check_eq!(t, listener.listen(16), Ok(()));
        let Ok(addr) = listener.local_addr() else { return check!(t, false) };
        // A client whose SYN offers SMC but that never sends SMC's
        // proposal: the listener's handshake worker waits for it (up to
        // CLC_WAIT_TIME, 6 s), holding the listener, whose callback it
        // calls when it is done.
        let client = Socket::new(Kind::Tcp, &addr);
        check!(t, client.is_ok());
        let Ok(client) = client else { return };
        offer_smc(&client);
        check_eq!(t, client.connect(&addr), Ok(()));
        sleep_ms(300);
        let start = now_ns();
        drop(listener);
        let waited_ms = (now_ns() - start) / 1_000_000;
        // The release returned only after the worker was done.
        check!(t, waited_ms >= 1000);
        check!(t, waited_ms <= 15_000);
        drop(client);
    }
}
