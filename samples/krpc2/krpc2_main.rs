// SPDX-License-Identifier: GPL-2.0

//! krpc2: an ONC RPC server answering NFS NULL calls and, on a small
//! in-memory export, NFSv3 GETATTR, LOOKUP, ACCESS, READ, WRITE, FSSTAT,
//! FSINFO and PATHCONF, and the MOUNT protocol's MNT and UMNT on the same
//! port, built on ksf.
//!
//! This file is the module glue; the service is `rpc.rs` and the export's
//! files `files.rs`, safe Rust only.

use kernel::prelude::*;

// The framework is compiled into each module, which uses only part of it
// and exports none of it.
#[allow(dead_code, unreachable_pub)]
#[macro_use]
#[path = "../../rust/ksf/mod.rs"]
mod ksf;

mod files;
mod rpc;

module! {
    type: Krpc2,
    name: "krpc2",
    author: "ksf developers",
    description: "ONC RPC server answering NFS NULL calls on TCP and UDP, and NFSv3 (with MOUNT v3 on the same port) on a small in-memory export (ksf sample)",
    license: "GPL",
}

struct Krpc2 {
    // Dropped before the service: `/sys/kernel/debug/krpc2/stats`.
    stats: Option<ksf::debugfs::File<ksf::svc::StatsView<rpc::Rpc>>>,
    svc: ksf::svc::Svc<rpc::Rpc>,
}

impl kernel::Module for Krpc2 {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let cfg = rpc::Params::from_module()?;
        let svc =
            rpc::start(&cfg).inspect_err(|e| pr_err!("not started: error {}\n", e.to_errno()))?;
        if cfg.files > 0 {
            pr_info!(
                "exporting {} files of {} bytes on TCP (NFSv3 GETATTR, LOOKUP, ACCESS, READ, \
                 WRITE, FSSTAT, FSINFO, PATHCONF; MOUNT v3 MNT and UMNT of /; \
                 at most {} bytes a READ or WRITE, records of {} bytes)\n",
                cfg.files,
                cfg.file_size,
                cfg.max_io,
                cfg.record_limit()
            );
        }
        pr_info!(
            "serving NFS (program 100003) versions {}-{} NULL on TCP and UDP {} ({})\n",
            cfg.vers_min,
            cfg.vers_max,
            core::net::SocketAddr::new(cfg.common.addr, cfg.common.port),
            cfg.common.svc
        );
        let stats = svc
            .debugfs(c"krpc2")
            .inspect_err(|e| pr_warn!("no statistics in debugfs: {:?}\n", e))
            .ok();
        Ok(Krpc2 { stats, svc })
    }
}

impl Drop for Krpc2 {
    fn drop(&mut self) {
        self.stats = None;
        self.svc.shutdown();
        let s = self.svc.stats();
        pr_info!(
            "stopped: {} connections, {} calls, {} replies, {} errors, {} I/O errors\n",
            s.accepted,
            s.msgs_in,
            s.msgs_out,
            s.errors,
            s.io_errors
        );
    }
}
