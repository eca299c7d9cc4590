// SPDX-License-Identifier: GPL-2.0

//! The SMC sockets over sock_diag (`smc_diag`, net/smc/smc_diag.c; needs
//! `CONFIG_SMC_DIAG`): the dump request and the text of its answers. No
//! I/O here.
//!
//! Layouts (include/uapi/linux/smc_diag.h, inet_diag.h), integers in host
//! byte order unless said otherwise:
//! - `struct inet_diag_sockid` (48 bytes): sport and dport (big-endian
//!   u16), src and dst (16 bytes each, network order; IPv4 in the first
//!   4), if u32, cookie [u32; 2].
//! - `struct smc_diag_req` (52 bytes): diag_family u8 (`AF_SMC`), pad
//!   [u8; 2], diag_ext u8, then the sockid (ignored by the dump).
//! - `struct smc_diag_msg` (64 bytes): diag_family, diag_state, diag_mode,
//!   diag_shutdown (u8 each), the sockid of the clcsock at 4, diag_uid u32
//!   at 52, diag_inode u64 at 56; then attributes (`SMC_DIAG_*`).

use crate::nl::{self, u32_at};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// `SOCK_DIAG_BY_FAMILY`: the request type, and the type of the answers.
pub const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `AF_SMC`.
pub const AF_SMC: u8 = 43;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// Size of `struct smc_diag_req`.
pub const REQ_LEN: usize = 52;
/// Size of `struct smc_diag_msg`.
pub const MSG_LEN: usize = 64;

/// `SMC_DIAG_LGRINFO`: the SMC-R link group, only when asked for.
const DIAG_LGRINFO: u16 = 2;
/// `SMC_DIAG_FALLBACK`: `struct smc_diag_fallback` {reason u32,
/// peer_diagnosis u32}, put for every socket, asked for or not.
const DIAG_FALLBACK: u16 = 5;

/// The `diag_ext` of the request: attribute N comes when bit N - 1 is set
/// (only `SMC_DIAG_CONNINFO`, `_LGRINFO` and `_DMBINFO` depend on it). We
/// ask for `SMC_DIAG_LGRINFO`, which tells SMC-R from "no link group yet":
/// both have `diag_mode` `SMC_DIAG_MODE_SMCR`.
pub const DIAG_EXT: u8 = 1 << (DIAG_LGRINFO - 1);

/// `SMC_DIAG_MODE_SMCR`, `_FALLBACK_TCP`, `_SMCD`.
const MODE_SMCR: u8 = 0;
const MODE_FALLBACK_TCP: u8 = 1;
const MODE_SMCD: u8 = 2;

/// The dump request of every SMC socket of the caller's netns, sequence
/// `seq`.
pub fn dump_request(seq: u32) -> Vec<u8> {
    let mut req = vec![0u8; REQ_LEN];
    req[0] = AF_SMC;
    req[3] = DIAG_EXT;
    nl::request(
        SOCK_DIAG_BY_FAMILY,
        nl::NLM_F_REQUEST | nl::NLM_F_DUMP,
        seq,
        &req,
    )
}

/// One SMC socket of the dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sock {
    /// `AF_SMC`, or `AF_INET`/`AF_INET6` for an `IPPROTO_SMC` socket.
    pub family: u8,
    /// `enum smc_state` (net/smc/smc.h).
    pub state: u8,
    pub mode: u8,
    pub inode: u64,
    pub local: SocketAddr,
    pub peer: SocketAddr,
    /// `(reason, peer_diagnosis)` of `SMC_DIAG_FALLBACK`.
    pub fallback: Option<(u32, u32)>,
    /// Whether `SMC_DIAG_LGRINFO` came: an SMC-R link group.
    pub smcr_lgr: bool,
}

/// The name of SMC state `s` without its `SMC_` prefix (`enum smc_state`,
/// net/smc/smc.h).
pub fn state_name(s: u8) -> Option<&'static str> {
    Some(match s {
        1 => "ACTIVE",
        2 => "INIT",
        7 => "CLOSED",
        10 => "LISTEN",
        20 => "PEERCLOSEWAIT1",
        21 => "PEERCLOSEWAIT2",
        22 => "APPCLOSEWAIT1",
        23 => "APPCLOSEWAIT2",
        24 => "APPFINCLOSEWAIT",
        25 => "PEERFINCLOSEWAIT",
        26 => "PEERABORTWAIT",
        27 => "PROCESSABORT",
        _ => return None,
    })
}

/// An address of a sockid: 16 bytes in network order, and the port as
/// stored (big-endian).
fn sock_addr(v6: bool, a: &[u8], port: [u8; 2]) -> SocketAddr {
    let port = u16::from_be_bytes(port);
    let ip = if v6 {
        let b: [u8; 16] = a[..16].try_into().unwrap_or_default();
        IpAddr::V6(Ipv6Addr::from(b))
    } else {
        IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
    };
    SocketAddr::new(ip, port)
}

/// The socket of one dump message's payload (after the netlink header).
///
/// IPv4 or IPv6: by `diag_family` for an `IPPROTO_SMC` socket; an
/// `AF_SMC` socket is IPv4 (`SMCPROTO_SMC`) or IPv6 (`SMCPROTO_SMC6`) and
/// the message does not say which, so it counts as IPv6 when any byte
/// past the first 4 of either address is set (an IPv6 socket on `::`
/// prints as `0.0.0.0`). `smc_diag_msg_common_fill` copies the addresses
/// for `SMCPROTO_SMC` and `SMCPROTO_SMC6` only: an `IPPROTO_SMC` socket
/// (`sk_protocol` 256) has only its ports, and `0.0.0.0` or `[::]`.
pub fn sock(payload: &[u8]) -> Result<Sock, String> {
    if payload.len() < MSG_LEN {
        return Err(format!("short smc_diag message ({} bytes)", payload.len()));
    }
    let m = &payload[..MSG_LEN];
    let family = m[0];
    let (src, dst) = (&m[8..24], &m[24..40]);
    let v6 = match family {
        AF_INET => false,
        AF_INET6 => true,
        _ => src[4..].iter().chain(&dst[4..]).any(|&b| b != 0),
    };
    let attrs = nl::attrs(&payload[MSG_LEN..])?;
    let fallback = match nl::find(&attrs, DIAG_FALLBACK) {
        None => None,
        Some(f) if f.len() >= 8 => Some((u32_at(f, 0), u32_at(f, 4))),
        Some(f) => return Err(format!("SMC_DIAG_FALLBACK of {} bytes", f.len())),
    };
    Ok(Sock {
        family,
        state: m[1],
        mode: m[2],
        inode: u64::from(u32_at(m, 56)) | u64::from(u32_at(m, 60)) << 32,
        local: sock_addr(v6, src, [m[4], m[5]]),
        peer: sock_addr(v6, dst, [m[6], m[7]]),
        fallback,
        smcr_lgr: nl::find(&attrs, DIAG_LGRINFO).is_some(),
    })
}

impl Sock {
    /// `smcd`, `fallback`, `smcr` (an SMC-R link group), `-` (no link
    /// group: not connected yet, a listener, or closed), or the number of
    /// an unknown mode.
    pub fn mode_text(&self) -> String {
        match self.mode {
            MODE_SMCD => "smcd".into(),
            MODE_FALLBACK_TCP => "fallback".into(),
            MODE_SMCR if self.smcr_lgr => "smcr".into(),
            MODE_SMCR => "-".into(),
            n => n.to_string(),
        }
    }

    /// `sock INODE state STATE mode MODE local ADDR:PORT peer ADDR:PORT`,
    /// then ` fallback 0xREASON peer 0xPEERDIAG` if either is set.
    pub fn line(&self) -> String {
        let state = state_name(self.state).map_or_else(|| self.state.to_string(), str::to_string);
        let mut l = format!(
            "sock {} state {state} mode {} local {} peer {}",
            self.inode,
            self.mode_text(),
            self.local,
            self.peer
        );
        if let Some((reason, peer)) = self.fallback.filter(|&f| f != (0, 0)) {
            l.push_str(&format!(" fallback {reason:#010x} peer {peer:#010x}"));
        }
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nl::{put_attr, u16_at};

    /// A `struct smc_diag_msg` of `family`, `state`, `mode` and `inode`,
    /// with addresses `src`, `dst` (16 bytes each) and ports.
    fn msg(family: u8, state: u8, mode: u8, inode: u64, src: [u8; 16], dst: [u8; 16]) -> Vec<u8> {
        let mut m = vec![family, state, mode, 0];
        m.extend_from_slice(&40000u16.to_be_bytes());
        m.extend_from_slice(&7u16.to_be_bytes());
        m.extend_from_slice(&src);
        m.extend_from_slice(&dst);
        m.extend_from_slice(&0u32.to_ne_bytes()); // if
        m.extend_from_slice(&[0xaa; 8]); // cookie
        m.extend_from_slice(&1000u32.to_ne_bytes()); // uid
        m.extend_from_slice(&inode.to_ne_bytes());
        assert_eq!(m.len(), MSG_LEN);
        m
    }

    fn v4(a: [u8; 4]) -> [u8; 16] {
        let mut b = [0; 16];
        b[..4].copy_from_slice(&a);
        b
    }

    fn fallback(reason: u32, peer: u32) -> Vec<u8> {
        let mut a = Vec::new();
        put_attr(&mut a, 3, &[0]); // SMC_DIAG_SHUTDOWN
        let mut f = reason.to_ne_bytes().to_vec();
        f.extend_from_slice(&peer.to_ne_bytes());
        put_attr(&mut a, DIAG_FALLBACK, &f);
        a
    }

    #[test]
    fn request_layout() {
        let r = dump_request(9);
        assert_eq!(r.len(), nl::NLMSG_HDRLEN + REQ_LEN);
        assert_eq!(u32_at(&r, 0) as usize, r.len());
        assert_eq!(u16_at(&r, 4), SOCK_DIAG_BY_FAMILY);
        assert_eq!(u16_at(&r, 6), 0x301); // NLM_F_REQUEST | NLM_F_DUMP
        assert_eq!(u32_at(&r, 8), 9);
        assert_eq!(&r[16..20], &[43, 0, 0, 2]); // AF_SMC, pad, 1 << (LGRINFO - 1)
        assert!(r[20..].iter().all(|&b| b == 0));
    }

    #[test]
    fn smcd_connection() {
        let mut p = msg(AF_SMC, 1, 2, 123456, v4([10, 0, 2, 15]), v4([10, 0, 2, 2]));
        p.extend(fallback(0, 0));
        let s = sock(&p).unwrap();
        assert_eq!(s.fallback, Some((0, 0)));
        assert_eq!(
            s.line(),
            "sock 123456 state ACTIVE mode smcd local 10.0.2.15:40000 peer 10.0.2.2:7"
        );
    }

    #[test]
    fn fallback_with_reason() {
        let mut p = msg(
            AF_SMC,
            1,
            1,
            1 << 33,
            v4([127, 0, 0, 1]),
            v4([127, 0, 0, 1]),
        );
        p.extend(fallback(0x0303_0008, 0x0303_0008));
        assert_eq!(
            sock(&p).unwrap().line(),
            "sock 8589934592 state ACTIVE mode fallback local 127.0.0.1:40000 \
             peer 127.0.0.1:7 fallback 0x03030008 peer 0x03030008"
        );
    }

    #[test]
    fn listener_smcr_and_unknown() {
        // A listener: mode SMCR without a link group.
        let p = msg(AF_SMC, 10, 0, 5, [0; 16], [0; 16]);
        let s = sock(&p).unwrap();
        assert_eq!(s.fallback, None);
        assert_eq!(
            s.line(),
            "sock 5 state LISTEN mode - local 0.0.0.0:40000 peer 0.0.0.0:7"
        );
        // SMC-R: the link group came.
        let mut p = msg(AF_SMC, 25, 0, 6, [0; 16], [0; 16]);
        put_attr(&mut p, DIAG_LGRINFO, &[0; 147]);
        assert!(sock(&p)
            .unwrap()
            .line()
            .contains("state PEERFINCLOSEWAIT mode smcr "));
        // Unknown state and mode: numbers.
        let p = msg(AF_SMC, 99, 7, 6, [0; 16], [0; 16]);
        assert!(sock(&p)
            .unwrap()
            .line()
            .starts_with("sock 6 state 99 mode 7 "));
    }

    #[test]
    fn ipv6_addresses() {
        let lo6 = Ipv6Addr::LOCALHOST.octets();
        // AF_SMC (SMCPROTO_SMC6): told by the address bytes.
        let p = msg(AF_SMC, 1, 2, 1, lo6, lo6);
        assert!(sock(&p)
            .unwrap()
            .line()
            .ends_with("local [::1]:40000 peer [::1]:7"));
        // IPPROTO_SMC over IPv6: told by the family, even on ::.
        let p = msg(AF_INET6, 2, 0, 1, [0; 16], [0; 16]);
        assert!(sock(&p)
            .unwrap()
            .line()
            .ends_with("local [::]:40000 peer [::]:7"));
        // IPPROTO_SMC over IPv4.
        let p = msg(AF_INET, 1, 2, 1, v4([1, 2, 3, 4]), v4([5, 6, 7, 8]));
        assert!(sock(&p)
            .unwrap()
            .line()
            .ends_with("local 1.2.3.4:40000 peer 5.6.7.8:7"));
    }

    #[test]
    fn rejects_bad_messages() {
        assert!(sock(&[0; MSG_LEN - 1]).is_err());
        let mut p = msg(AF_SMC, 1, 1, 1, [0; 16], [0; 16]);
        put_attr(&mut p, DIAG_FALLBACK, &[0; 4]);
        assert!(sock(&p).unwrap_err().contains("SMC_DIAG_FALLBACK"));
        let mut p = msg(AF_SMC, 1, 1, 1, [0; 16], [0; 16]);
        p.extend_from_slice(&[9, 0]);
        assert!(sock(&p).is_err());
    }
}
