// SPDX-License-Identifier: GPL-2.0

//! usrv's command line: help, bad arguments, bind failures.

use ksf_tools::testutil::{self, fails, ok};

const BIN: &str = env!("CARGO_BIN_EXE_usrv");

#[test]
fn help_and_usage_errors() {
    let r = ok("usrv", BIN, &["--help"]);
    assert!(r.stdout.starts_with("Usage: usrv"));
    for (args, what) in [
        (&["--model", "x"][..], "unknown model 'x'"),
        (&["--proto", "nfs"], "unknown protocol 'nfs'"),
        (&["--threads", "0"], "--threads: 0 is out of range"),
        (&["--vers-min", "4", "--vers-max", "3"], "below --vers-min"),
        (&["-p"], "requires a value"),
        (&["--bogus"], "unknown option --bogus"),
        (&["extra"], "unexpected argument 'extra'"),
    ] {
        testutil::usage_error("usrv", BIN, args, what);
    }
    testutil::version("usrv", BIN);
}

#[test]
fn bind_failure_exits_1() {
    // A port held by a listener without SO_REUSEPORT cannot be shared.
    let l = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    fails("usrv", BIN, &["-p", &port, "--threads", "1"], 1, "TCP port");
}
