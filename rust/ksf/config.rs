// SPDX-License-Identifier: GPL-2.0

//! The parameters every ksf service module has, checked at load.
//!
//! A bad value refuses the module with `EINVAL` and one clear line in the
//! kernel log naming the parameter, the value and the accepted range.

use core::net::{IpAddr, Ipv6Addr};

use kernel::error::{code::EINVAL, Result};
use kernel::prelude::*;

use crate::ksf::addr::parse_ip;
use crate::ksf::params;
use crate::ksf::pool::{Backend, Config};
use crate::ksf::smc::Transport;
use crate::ksf::svc::{Affinity, SvcConfig};

/// A service's address, port and how it runs.
#[derive(Clone, Copy, Debug)]
pub struct ServiceParams {
    /// The address it serves (`::`, every address, by default).
    pub addr: IpAddr,
    /// The port it serves.
    pub port: u16,
    /// Pool, connection limit and socket buffers.
    pub svc: SvcConfig,
}

/// Reads integer parameter `name` and checks it is in `min..=max`
/// (or 0 when `zero_ok`).
pub fn checked(name: &str, min: i32, max: i32, zero_ok: bool) -> Result<i32> {
    let Some(v) = params::int(name) else {
        pr_err!("no parameter '{}' in this module\n", name);
        return Err(EINVAL);
    };
    if (zero_ok && v == 0) || (min..=max).contains(&v) {
        return Ok(v);
    }
    if zero_ok {
        pr_err!("invalid {}={}: must be 0 or {}..{}\n", name, v, min, max);
    } else {
        pr_err!("invalid {}={}: must be {}..{}\n", name, v, min, max);
    }
    Err(EINVAL)
}

/// Reads string parameter `name`, one of the names `parse` knows
/// (`accepted` lists them for the error line); `default` when the module
/// has no such parameter.
fn choice<T>(name: &str, default: T, parse: fn(&[u8]) -> Option<T>, accepted: &str) -> Result<T> {
    let Some(value) = params::str(name) else {
        return Ok(default);
    };
    parse(value.to_bytes()).ok_or_else(|| {
        pr_err!(
            "invalid {}='{}': must be {}\n",
            name,
            value.to_str().unwrap_or("(not UTF-8)"),
            accepted
        );
        EINVAL
    })
}

impl ServiceParams {
    /// Reads and checks `addr`, `port`, `threads_min`, `threads_max`,
    /// `sndbuf`, `rcvbuf`, `max_conns`, `mem_max`, `idle_timeout`,
    /// `request_timeout`, `backend`, `affinity` and `transport`; zero limits are
    /// resolved to their defaults (see [`SvcConfig::resolve`]).
    pub fn from_module() -> Result<ServiceParams> {
        let addr = choice(
            "addr",
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            parse_ip,
            "an IPv4 or IPv6 address",
        )?;
        let port = checked("port", 1, 65535, false)?;
        let min = checked("threads_min", 1, 64, false)?;
        let max = checked("threads_max", 1, 64, false)?;
        if max < min {
            pr_err!(
                "invalid threads_max={}: must be at least threads_min={}\n",
                max,
                min
            );
            return Err(EINVAL);
        }
        let sndbuf = checked("sndbuf", 4096, 64 << 20, true)?;
        let rcvbuf = checked("rcvbuf", 4096, 64 << 20, true)?;
        let max_conns = checked("max_conns", 1, 1 << 20, true)?;
        let mem_max = params::ulong("mem_max").unwrap_or(0);
        if mem_max != 0 && mem_max < 65536 {
            pr_err!("invalid mem_max={}: must be 0 or at least 65536\n", mem_max);
            return Err(EINVAL);
        }
        let idle_timeout = checked("idle_timeout", 1, 86400, true)?;
        let request_timeout = checked("request_timeout", 1, 86400, true)?;
        let backend = choice(
            "backend",
            Backend::Kthreads,
            Backend::from_name,
            "pool or wq",
        )?;
        let affinity = choice(
            "affinity",
            Affinity::Upcall,
            Affinity::from_name,
            "upcall or conn",
        )?;
        let transport = choice(
            "transport",
            Transport::Tcp,
            Transport::from_name,
            "tcp, both or smc",
        )?;
        Ok(ServiceParams {
            addr,
            port: port as u16,
            svc: SvcConfig {
                pool: Config {
                    backend,
                    min_per_cpu: min as u32,
                    max_per_cpu: max as u32,
                    ..Config::DEFAULT
                },
                affinity,
                transport,
                max_conns: max_conns as u64,
                mem_max,
                idle_timeout_s: idle_timeout as u32,
                request_timeout_s: request_timeout as u32,
                sndbuf,
                rcvbuf,
            }
            .resolve(),
        })
    }
}
