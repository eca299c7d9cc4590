// SPDX-License-Identifier: GPL-2.0

//! The server a tool talks to: `HOST[:PORT]` on the command line, and its
//! resolution to one socket address.

use crate::args::UsageError;
use crate::num::parse_num_in;
use std::net::{SocketAddr, ToSocketAddrs};

/// Splits `host`, `host:port`, `[v6]` or `[v6]:port`; a bare IPv6 address
/// (several colons) is a host without port.
pub fn split_target(t: &str) -> Result<(String, Option<u16>), UsageError> {
    let bad = || UsageError(format!("bad target '{t}' (expected HOST or HOST:PORT)"));
    let port = |p: &str| {
        parse_num_in(p, 1, 65535)
            .map(|p| Some(p as u16))
            .map_err(|e| UsageError(format!("bad port in '{t}': {e}")))
    };
    let (host, port) = if let Some(rest) = t.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        match after {
            "" => (host, None),
            _ => (host, port(after.strip_prefix(':').ok_or_else(bad)?)?),
        }
    } else {
        match t.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, port(p)?),
            _ => (t, None),
        }
    };
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_string(), port))
}

/// The server address; IPv4 addresses are preferred when a name has both.
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    let mut addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve host '{host}': {e}"))?
        .collect();
    addrs.sort_by_key(|a| !a.is_ipv4());
    addrs
        .first()
        .copied()
        .ok_or_else(|| format!("host '{host}' has no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = |s: &str| split_target(s).map_err(|e| e.0);
        assert_eq!(t("host"), Ok(("host".into(), None)));
        assert_eq!(t("10.0.0.1:99"), Ok(("10.0.0.1".into(), Some(99))));
        assert_eq!(t("::1"), Ok(("::1".into(), None)));
        assert_eq!(t("[::1]"), Ok(("::1".into(), None)));
        assert_eq!(t("[v6]:7"), Ok(("v6".into(), Some(7))));
        for bad in ["h:x", ":5", "[::1", "[::1]5"] {
            assert!(t(bad).is_err(), "{bad}");
        }
        assert_eq!(
            t("h:0").unwrap_err(),
            "bad port in 'h:0': 0 is out of range 1..65535"
        );
        assert_eq!(
            t("[x]y").unwrap_err(),
            "bad target '[x]y' (expected HOST or HOST:PORT)"
        );
    }

    #[test]
    fn resolves_numeric_addresses() {
        assert_eq!(resolve("127.0.0.1", 9), Ok("127.0.0.1:9".parse().unwrap()));
    }
}
