// SPDX-License-Identifier: GPL-2.0

//! The address rules of a service: the `addr` parameter's parser, the
//! `IPV6_V6ONLY` of IPv6 sockets, the IPv4 fallback without IPv6.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::ksf::addr::{ipv4_fallback, parse_ip, v6only};

const ANY6: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
const ANY4: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

test_cases! {
    testing = crate::ksf::proto::testing;

    fn parses_ipv4_and_ipv6(t) {
        check_eq!(t, parse_ip(b"::"), Some(ANY6));
        check_eq!(t, parse_ip(b"0.0.0.0"), Some(ANY4));
        check_eq!(t, parse_ip(b"127.0.0.1"), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        check_eq!(t, parse_ip(b"::1"), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        check_eq!(t, parse_ip(b"10.1.2.3"), Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))));
        check_eq!(
            t,
            parse_ip(b"fe80::1:2"),
            Some(IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 1, 2)))
        );
        check_eq!(
            t,
            parse_ip(b"::ffff:192.0.2.1"),
            Some(IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped()))
        );
    }

    fn rejects_what_is_not_an_address(t) {
        let bad: [&[u8]; 16] = [
            b"", b"bogus", b"localhost", b"1.2.3", b"1.2.3.4.5", b"256.0.0.1",
            b"01.2.3.4", b" ::1", b"::1 ", b"::1\n", b"[::1]", b"::1%lo",
            b"127.0.0.1:80", b":::", b"1::2::3", b"\xff\xfe",
        ];
        for b in bad {
            check_eq!(t, parse_ip(b), None);
        }
    }

    fn ipv6_only_unless_any_or_mapped(t) {
        let v6only_of = |ip: IpAddr| v6only(&SocketAddr::new(ip, 60007));
        check_eq!(t, v6only_of(ANY6), Some(false));
        check_eq!(t, v6only_of(IpAddr::V6(Ipv6Addr::LOCALHOST)), Some(true));
        check_eq!(
            t,
            v6only_of(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped())),
            Some(false)
        );
        check_eq!(t, v6only_of(ANY4), None);
        check_eq!(t, v6only_of(IpAddr::V4(Ipv4Addr::LOCALHOST)), None);
    }

    fn only_any_falls_back_to_ipv4(t) {
        check_eq!(
            t,
            ipv4_fallback(&SocketAddr::new(ANY6, 60007)),
            Some(SocketAddr::new(ANY4, 60007))
        );
        check_eq!(t, ipv4_fallback(&SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 1)), None);
        check_eq!(t, ipv4_fallback(&SocketAddr::new(ANY4, 1)), None);
        check_eq!(t, ipv4_fallback(&SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 1)), None);
    }
}
