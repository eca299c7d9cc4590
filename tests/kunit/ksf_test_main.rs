// SPDX-License-Identifier: GPL-2.0

//! ksf_test: the KUnit suites of ksf.
//!
//! Loading this module runs every suite below; results are printed as KTAP
//! to the kernel log. The cases themselves live next to the code they test
//! and run on the host too (`cargo test`).

use kernel::prelude::*;

// The framework is compiled into each module, which uses only part of it
// and exports none of it.
#[allow(dead_code, unreachable_pub)]
#[macro_use]
#[path = "../../rust/ksf/mod.rs"]
mod ksf;

module! {
    type: KsfTest,
    name: "ksf_test",
    author: "ksf developers",
    description: "KUnit suites for the ksf kernel sockets framework",
    license: "GPL",
}

ksf_kunit_suites! {
    "ksf_record_marking" => ksf::proto::rm::cases::CASES,
    "ksf_rpc" => ksf::proto::rpc::cases::CASES,
    "ksf_rpc_engine" => ksf::proto::rpc::engine::cases::CASES,
    "ksf_nfs3" => ksf::proto::nfs3::cases::CASES,
    "ksf_nfs3_export" => ksf::proto::nfs3::export_cases::CASES,
    "ksf_runstate" => ksf::proto::runstate::cases::CASES,
    "ksf_addr" => ksf::tests::addr::CASES,
    "ksf_socket" => ksf::tests::socket::CASES,
    "ksf_upcall" => ksf::tests::upcall::CASES,
    "ksf_smc" => ksf::tests::smc::CASES,
    "ksf_pool" => ksf::tests::pool::CASES,
    "ksf_hotplug" => ksf::tests::hotplug::CASES,
    "ksf_svc" => ksf::tests::svc::CASES,
    "ksf_limits" => ksf::tests::limits::CASES,
}

struct KsfTest;

impl kernel::Module for KsfTest {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(KsfTest)
    }
}
