// SPDX-License-Identifier: GPL-2.0

//! [`Socket`] on the guest's loopback: TCP over IPv4 and IPv6, UDP,
//! non-blocking behaviour, shutdown, poll, errors; the options of a
//! service's sockets (`Socket::bound`); pages sent without a copy
//! (`Socket::send_pages`); `MSG_MORE` (`Socket::send_vectored_more`).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use kernel::alloc::{flags::GFP_KERNEL, KVVec, KVec};
use kernel::bindings;
use kernel::error::code::{EAGAIN, EINVAL};
use kernel::error::Result;
use kernel::page::{Page, PAGE_SIZE};

use super::wait_until;
use crate::ksf::ffi::errno;
use crate::ksf::kthread::sleep_ms;
use crate::ksf::pages::PageStore;
use crate::ksf::socket::{Kind, PageFrag, Shutdown, Socket, MAX_PAGE_FRAGS};
use crate::ksf::vec::zeroed;

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
/// `[::]`, as services bind by default.
const ANY6: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

/// A plain socket of `kind` with `SO_REUSEADDR` set to `reuse`, bound to
/// `addr`: what any local user can make.
fn bind_plain(kind: Kind, addr: &SocketAddr, reuse: bool) -> Result {
    let s = Socket::new(kind, addr)?;
    s.set_reuseaddr(reuse)?;
    s.bind(addr)
}

/// A connected TCP pair: (listener, client, server side).
fn pair(ip: IpAddr) -> Result<(Socket, Socket, Socket)> {
    pair_of(Kind::Tcp, Kind::Tcp, ip)
}

/// A `listen` listener on `ip`, a `connect` client connected to it, and
/// the server side of the connection (an SMC listener sets a connection up
/// in a work item before it can be accepted: up to 3 s).
pub(crate) fn pair_of(listen: Kind, connect: Kind, ip: IpAddr) -> Result<(Socket, Socket, Socket)> {
    let listener = Socket::bound(listen, &SocketAddr::new(ip, 0))?;
    listener.listen(16)?;
    let addr = listener.local_addr()?;
    let client = Socket::new(connect, &addr)?;
    client.connect(&addr)?;
    let mut server = Err(EAGAIN);
    wait_until(3000, || {
        if server.is_err() {
            server = listener.accept();
        }
        server.is_ok()
    });
    Ok((listener, client, server?))
}

/// Receives exactly `buf.len()` bytes, waiting up to a second.
fn recv_all(s: &Socket, buf: &mut [u8]) -> Result<usize> {
    let mut got = 0;
    let mut err = None;
    wait_until(1000, || {
        match s.recv(&mut buf[got..]) {
            Ok(0) => return true,
            Ok(n) => got += n,
            Err(e) if e == EAGAIN => {}
            Err(e) => {
                err = Some(e);
                return true;
            }
        }
        got == buf.len()
    });
    match err {
        Some(e) => Err(e),
        None => Ok(got),
    }
}

fn round_trip(t: &mut dyn crate::ksf::proto::testing::Tester, ip: IpAddr) {
    let p = pair(ip);
    check!(t, p.is_ok());
    let Ok((_l, client, server)) = p else { return };
    check_eq!(t, client.peer_addr().ok(), server.local_addr().ok());
    check_eq!(t, server.peer_addr().ok(), client.local_addr().ok());
    check_eq!(t, client.send(b"hello, ksf"), Ok(10));
    let mut buf = [0u8; 10];
    check_eq!(t, recv_all(&server, &mut buf), Ok(10));
    check_eq!(t, &buf, b"hello, ksf");
    check_eq!(t, server.send_vectored(&[b"a", b"", b"bc"]), Ok(3));
    let mut buf = [0u8; 3];
    check_eq!(t, recv_all(&client, &mut buf), Ok(3));
    check_eq!(t, &buf, b"abc");
}

/// The byte at `at` of the stores of [`store`].
fn pattern(at: usize) -> u8 {
    (at * 7 + at / 251) as u8
}

/// A store of `n` pages holding [`pattern`].
fn store(n: usize) -> Result<PageStore> {
    let store = PageStore::new(n * PAGE_SIZE)?;
    let mut bytes = zeroed(store.len())?;
    for (at, b) in bytes.iter_mut().enumerate() {
        *b = pattern(at);
    }
    store.write(0, &bytes)?;
    Ok(store)
}

/// The bytes the ranges (offset, length) of a [`store`] hold, in order.
fn expected(ranges: &[(usize, usize)]) -> Result<KVVec<u8>> {
    let mut v = KVVec::new();
    for &(offset, len) in ranges {
        for at in offset..offset + len {
            v.push(pattern(at), GFP_KERNEL)?;
        }
    }
    Ok(v)
}

/// The fragments of `ranges` of `store` past the first `sent` bytes.
fn rest<'a>(
    store: &'a PageStore,
    ranges: &[(usize, usize)],
    mut sent: usize,
) -> Result<KVec<PageFrag<'a>>> {
    let mut v = KVec::new();
    for &(offset, len) in ranges {
        let skip = sent.min(len);
        sent -= skip;
        for frag in store.frags(offset + skip, len - skip)? {
            v.push(frag, GFP_KERNEL)?;
        }
    }
    Ok(v)
}

/// Receives whatever is waiting into `buf[*got..]`.
fn drain(s: &Socket, buf: &mut [u8], got: &mut usize) {
    while *got < buf.len() {
        match s.recv(&mut buf[*got..]) {
            Ok(n) if n > 0 => *got += n,
            _ => return,
        }
    }
}

/// Sends `ranges` of a fresh [`store`] of `npages` pages from a client
/// to a server with small buffers, resuming each short send once the
/// receiver made room, drops the store, then checks every byte received.
/// Sets `short` if a send was short or refused.
fn send_pages_through(
    t: &mut dyn crate::ksf::proto::testing::Tester,
    ranges: &[(usize, usize)],
    npages: usize,
    short: &mut bool,
) {
    let p = pair(V4);
    check!(t, p.is_ok());
    let Ok((_l, client, server)) = p else { return };
    check_eq!(t, client.set_sndbuf(4096), Ok(()));
    check_eq!(t, server.set_rcvbuf(4096), Ok(()));
    let (pg, want) = (store(npages), expected(ranges));
    check!(t, pg.is_ok() && want.is_ok());
    let (Ok(pg), Ok(want)) = (pg, want) else {
        return;
    };
    let got_buf = zeroed(want.len());
    check!(t, got_buf.is_ok());
    let Ok(mut got_buf) = got_buf else { return };
    let (mut sent, mut got) = (0usize, 0usize);
    let done = wait_until(5000, || {
        let Ok(left) = rest(&pg, ranges, sent) else {
            return true;
        };
        if left.is_empty() {
            return true;
        }
        let want_now: usize = left.iter().take(MAX_PAGE_FRAGS).map(|f| f.len).sum();
        match client.send_pages(left.iter().copied(), false) {
            Ok(n) => {
                *short |= n < want_now;
                sent += n;
            }
            Err(e) => {
                *short = true;
                if e != EAGAIN {
                    return true;
                }
            }
        }
        drain(&server, &mut got_buf, &mut got);
        false
    });
    check!(t, done);
    check_eq!(t, sent, want.len());
    // The socket holds its own references: the pages may go now.
    drop(pg);
    check!(
        t,
        wait_until(5000, || {
            drain(&server, &mut got_buf, &mut got);
            got == want.len()
        })
    );
    check_eq!(t, got, want.len());
    check!(t, got_buf[..] == want[..]);
}

test_cases! {
    testing = crate::ksf::proto::testing;

    fn tcp_v4_round_trip(t) {
        round_trip(t, V4);
    }

    fn tcp_v6_round_trip(t) {
        round_trip(t, V6);
    }

    // MSG_MORE keeps a partial segment back until a send without it: a
    // reply's head and its data leave together, and nothing is left
    // waiting after the last send.
    fn send_more_holds_a_segment_for_what_follows(t) {
        let Ok((_l, client, server)) = pair(V4) else { return check!(t, false) };
        check_eq!(t, client.send_vectored_more(&[b"head"]), Ok(4));
        sleep_ms(50);
        let mut buf = [0u8; 8];
        check_eq!(t, server.recv(&mut buf), Err(EAGAIN));
        check_eq!(t, client.send(b"tail"), Ok(4));
        check_eq!(t, recv_all(&server, &mut buf), Ok(8));
        check_eq!(t, &buf, b"headtail");
    }

    fn nothing_to_accept_or_receive(t) {
        let p = pair(V4);
        check!(t, p.is_ok());
        let Ok((listener, client, _server)) = p else { return };
        check_eq!(t, listener.accept().err(), Some(EAGAIN));
        let mut buf = [0u8; 4];
        check_eq!(t, client.recv(&mut buf), Err(EAGAIN));
        check!(t, !client.poll().readable());
        check!(t, client.poll().writable());
    }

    fn shutdown_gives_eof(t) {
        let p = pair(V4);
        check!(t, p.is_ok());
        let Ok((_l, client, server)) = p else { return };
        check_eq!(t, client.shutdown(Shutdown::Write), Ok(()));
        check!(t, wait_until(1000, || server.poll().ended()));
        // End of stream alone is not input (`Poll::readable`).
        check!(t, !server.poll().readable());
        let mut buf = [0u8; 4];
        check_eq!(t, server.recv(&mut buf), Ok(0));
    }

    fn poll_sees_data(t) {
        let p = pair(V6);
        check!(t, p.is_ok());
        let Ok((_l, client, server)) = p else { return };
        check!(t, !server.poll().readable());
        check_eq!(t, client.send(b"x"), Ok(1));
        check!(t, wait_until(1000, || server.poll().readable()));
    }

    fn address_in_use(t) {
        let a = Socket::new(Kind::Tcp, &SocketAddr::new(V4, 0));
        check!(t, a.is_ok());
        let Ok(a) = a else { return };
        check_eq!(t, a.bind(&SocketAddr::new(V4, 0)), Ok(()));
        check_eq!(t, a.listen(1), Ok(()));
        let addr = a.local_addr();
        check!(t, addr.is_ok());
        let Ok(addr) = addr else { return };
        let b = Socket::new(Kind::Tcp, &addr);
        check!(t, b.is_ok());
        let Ok(b) = b else { return };
        check_eq!(t, b.bind(&addr), Err(errno(bindings::EADDRINUSE)));
    }

    fn send_is_short_when_full(t) {
        let p = pair(V4);
        check!(t, p.is_ok());
        let Ok((_l, client, server)) = p else { return };
        check_eq!(t, client.set_sndbuf(4096), Ok(()));
        check_eq!(t, server.set_rcvbuf(4096), Ok(()));
        let chunk = [0x5au8; 4096];
        // Without a reader, the buffers fill up: a send is eventually short
        // or refused, never blocking.
        let mut total = 0usize;
        let mut stopped = false;
        for _ in 0..1024 {
            match client.send(&chunk) {
                Ok(n) if n == chunk.len() => total += n,
                Ok(n) => { total += n; stopped = true; break; }
                Err(e) => { check_eq!(t, e, EAGAIN); stopped = true; break; }
            }
        }
        check!(t, stopped);
        check!(t, total < 1024 * 4096);
        check!(t, !client.poll().writable() || total > 0);
    }

    fn udp_round_trip(t) {
        let server = Socket::bound(Kind::Udp, &SocketAddr::new(V4, 0));
        check!(t, server.is_ok());
        let Ok(server) = server else { return };
        let saddr = server.local_addr();
        check!(t, saddr.is_ok());
        let Ok(saddr) = saddr else { return };
        let client = Socket::bound(Kind::Udp, &SocketAddr::new(V4, 0));
        check!(t, client.is_ok());
        let Ok(client) = client else { return };
        check!(t, !server.poll().readable());
        check!(t, server.poll().writable());
        check_eq!(t, client.send_to(b"dgram", &saddr), Ok(5));
        // udp_poll() looks at the file; ksf polls UDP without one.
        check!(t, wait_until(1000, || server.poll().readable()));
        let mut buf = [0u8; 16];
        let mut got = Err(EAGAIN);
        wait_until(1000, || { got = server.recv_from(&mut buf); got.is_ok() });
        check_eq!(t, got.map(|(n, _)| n), Ok(5));
        check_eq!(t, &buf[..5], b"dgram");
        check_eq!(t, got.map(|(_, from)| from).ok(), client.local_addr().ok());
    }

    fn udp_port_cannot_be_shared(t) {
        // A service's UDP socket on [::]: no other socket may bind its
        // port on a more specific address, even with SO_REUSEADDR.
        let server = Socket::bound(Kind::Udp, &SocketAddr::new(ANY6, 0));
        check!(t, server.is_ok());
        let Ok(server) = server else { return };
        let Ok(port) = server.local_addr().map(|a| a.port()) else { return check!(t, false) };
        let in_use = Err(errno(bindings::EADDRINUSE));
        for reuse in [true, false] {
            check_eq!(t, bind_plain(Kind::Udp, &SocketAddr::new(V4, port), reuse), in_use);
            check_eq!(t, bind_plain(Kind::Udp, &SocketAddr::new(V6, port), reuse), in_use);
        }
    }

    fn tcp_listener_rebinds_over_time_wait(t) {
        let p = pair(ANY6);
        check!(t, p.is_ok());
        let Ok((listener, client, server)) = p else { return };
        let Ok(addr) = listener.local_addr() else { return check!(t, false) };
        // The server side closes first: its end waits in TIME_WAIT.
        drop(server);
        let mut buf = [0u8; 4];
        check!(t, wait_until(1000, || client.recv(&mut buf) == Ok(0)));
        drop(client);
        drop(listener);
        crate::ksf::kthread::sleep_ms(50);
        // Without SO_REUSEADDR the port is taken; the service's listener
        // binds it again.
        check_eq!(t, bind_plain(Kind::Tcp, &addr, false), Err(errno(bindings::EADDRINUSE)));
        let again = Socket::bound(Kind::Tcp, &addr);
        check!(t, again.is_ok());
        let Ok(again) = again else { return };
        check_eq!(t, again.listen(16), Ok(()));
    }

    fn any_ipv6_serves_ipv4_and_a_v6_address_only_itself(t) {
        // [::] takes IPv4 clients too (IPV6_V6ONLY off)...
        let any = Socket::bound(Kind::Tcp, &SocketAddr::new(ANY6, 0));
        check!(t, any.is_ok());
        let Ok(any) = any else { return };
        check_eq!(t, any.listen(4), Ok(()));
        let Ok(port) = any.local_addr().map(|a| a.port()) else { return check!(t, false) };
        let c = Socket::new(Kind::Tcp, &SocketAddr::new(V4, port));
        check!(t, c.is_ok());
        let Ok(c) = c else { return };
        check_eq!(t, c.connect(&SocketAddr::new(V4, port)), Ok(()));
        // ...while ::1 is IPv6 only: 127.0.0.1 on its port is free.
        let one = Socket::bound(Kind::Udp, &SocketAddr::new(V6, 0));
        check!(t, one.is_ok());
        let Ok(one) = one else { return };
        let Ok(port) = one.local_addr().map(|a| a.port()) else { return check!(t, false) };
        check!(t, Socket::bound(Kind::Udp, &SocketAddr::new(V4, port)).is_ok());
    }

    fn send_pages_sends_the_fragments(t) {
        // Parts of pages, across a page boundary, one byte, a page twice.
        let ranges = [
            (100, PAGE_SIZE - 100),
            (PAGE_SIZE - 10, 20),
            (2 * PAGE_SIZE + 7, 1),
            (0, PAGE_SIZE),
            (0, 5),
        ];
        send_pages_through(t, &ranges, 3, &mut false);
    }

    fn send_pages_resumes_short_sends(t) {
        // 24 pages through 4 KiB buffers: sends are short or refused,
        // and resuming from the count gives every byte in order.
        let ranges = [(3, 24 * PAGE_SIZE - 5)];
        let mut short = false;
        send_pages_through(t, &ranges, 24, &mut short);
        check!(t, short);
    }

    fn send_pages_takes_at_most_max_frags(t) {
        let p = pair(V4);
        check!(t, p.is_ok());
        let Ok((_l, client, server)) = p else { return };
        let page = Page::alloc_page(GFP_KERNEL);
        check!(t, page.is_ok());
        let Ok(page) = page else { return };
        let one = PageFrag {
            page: &page,
            offset: 0,
            len: 1,
        };
        let mut frags = KVec::new();
        for _ in 0..MAX_PAGE_FRAGS + 1 {
            check!(t, frags.push(one, GFP_KERNEL).is_ok());
        }
        check_eq!(t, client.send_pages(frags.iter().copied(), false), Ok(MAX_PAGE_FRAGS));
        let mut buf = [0u8; MAX_PAGE_FRAGS];
        check_eq!(t, recv_all(&server, &mut buf), Ok(MAX_PAGE_FRAGS));
    }

    fn send_pages_refuses_a_fragment_past_its_page(t) {
        let p = pair(V4);
        check!(t, p.is_ok());
        let Ok((_l, client, _server)) = p else { return };
        let page = Page::alloc_page(GFP_KERNEL);
        check!(t, page.is_ok());
        let Ok(page) = page else { return };
        let bad = PageFrag { page: &page, offset: 1, len: PAGE_SIZE };
        check_eq!(t, client.send_pages([bad], false), Err(EINVAL));
        let bad = PageFrag { page: &page, offset: PAGE_SIZE + 1, len: 0 };
        check_eq!(t, client.send_pages([bad], false), Err(EINVAL));
    }

    fn page_store_reads_what_was_written(t) {
        let s = store(3);
        check!(t, s.is_ok());
        let Ok(s) = s else { return };
        check_eq!(t, (s.len(), s.pages()), (3 * PAGE_SIZE, 3));
        let mut buf = [0u8; 64];
        check_eq!(t, s.read(PAGE_SIZE - 32, &mut buf), Ok(()));
        check!(t, buf.iter().enumerate().all(|(i, &b)| b == pattern(PAGE_SIZE - 32 + i)));
        check_eq!(t, s.write(2 * PAGE_SIZE - 1, b"xy"), Ok(()));
        let mut two = [0u8; 2];
        check_eq!(t, s.read(2 * PAGE_SIZE - 1, &mut two), Ok(()));
        check_eq!(t, &two, b"xy");
        // Nothing outside the store, nor a range that ends past it.
        check_eq!(t, s.read(3 * PAGE_SIZE - 1, &mut two), Err(EINVAL));
        check_eq!(t, s.write(usize::MAX, b"x"), Err(EINVAL));
        check!(t, s.frags(3 * PAGE_SIZE, 1).is_err());
        check_eq!(t, s.frags(PAGE_SIZE - 1, 2).map(|f| f.count()).ok(), Some(2));
        let empty = PageStore::new(0);
        check!(t, empty.as_ref().is_ok_and(|e| e.is_empty() && e.pages() == 0));
    }
}
