// SPDX-License-Identifier: GPL-2.0

//! kecho: an echo server on TCP and UDP, built on ksf.
//!
//! This file is the module glue (the `module!` declaration, the framework
//! mount, parameters); the service itself is `echo.rs`, safe Rust only.

use kernel::prelude::*;

// The framework is compiled into each module, which uses only part of it
// and exports none of it.
#[allow(dead_code, unreachable_pub)]
#[macro_use]
#[path = "../../rust/ksf/mod.rs"]
mod ksf;

mod echo;

module! {
    type: Kecho,
    name: "kecho",
    author: "ksf developers",
    description: "Echo server on TCP and UDP (ksf sample)",
    license: "GPL",
}

struct Kecho {
    // Dropped before the service: `/sys/kernel/debug/kecho/stats`.
    stats: Option<ksf::debugfs::File<ksf::svc::StatsView<echo::Echo>>>,
    svc: ksf::svc::Svc<echo::Echo>,
}

impl kernel::Module for Kecho {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let cfg = ksf::config::ServiceParams::from_module()?;
        let svc =
            echo::start(&cfg).inspect_err(|e| pr_err!("not started: error {}\n", e.to_errno()))?;
        let addr = core::net::SocketAddr::new(cfg.addr, cfg.port);
        pr_info!("listening on TCP and UDP {} ({})\n", addr, cfg.svc);
        let stats = svc
            .debugfs(c"kecho")
            .inspect_err(|e| pr_warn!("no statistics in debugfs: {:?}\n", e))
            .ok();
        Ok(Kecho { stats, svc })
    }
}

impl Drop for Kecho {
    fn drop(&mut self) {
        self.stats = None;
        self.svc.shutdown();
        let s = self.svc.stats();
        pr_info!(
            "stopped: {} connections served, {} bytes echoed\n",
            s.accepted,
            s.bytes_out
        );
    }
}
