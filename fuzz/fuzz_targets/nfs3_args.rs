// SPDX-License-Identifier: GPL-2.0

//! NFSv3 arguments from arbitrary bytes, and the in-memory export
//! answering them through the RPC engine (`ksf_proto::nfs3`,
//! `Server::reply`); the checks are in `ksf_fuzz::nfs3`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    ksf_fuzz::nfs3::check(input);
});
