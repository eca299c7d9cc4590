// SPDX-License-Identifier: GPL-2.0

//! ksfstress against servers broken on purpose, and with bad arguments:
//! each misbehaviour is a finding (exit 1), bad usage is exit 2.

mod common;

use common::broken::{self, RpcFault};
use common::*;

fn target(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

#[test]
fn fuzz_finds_lost_replies_and_a_dead_good_client() {
    let t = target(broken::rpc(RpcFault::LoseRepliesOnClose));
    let s = finds(
        &["fuzz", &t, "--records", "300", "--seed", "1"],
        "before sending every reply to the records before it",
    );
    assert!(num(&s, "errors") > 0);
    // Unless the path may turn resets into EOFs (QEMU user networking).
    ok(&[
        "fuzz",
        &t,
        "--records",
        "300",
        "--seed",
        "1",
        "--lossy-close",
    ]);
    let t = target(broken::rpc(RpcFault::Mute(20)));
    let s = finds(
        &[
            "fuzz",
            &t,
            "--records",
            "20",
            "--timeout",
            "500",
            "--seed",
            "1",
        ],
        "good client, connection 1: not served within 500 ms",
    );
    assert_eq!(num(&s, "good_failures"), 1);
}

#[test]
fn fuzz_finds_a_wrong_echo() {
    let t = target(broken::echo_flipping(1000));
    finds(
        &[
            "fuzz",
            &t,
            "--proto",
            "echo",
            "--records",
            "100",
            "--seed",
            "1",
        ],
        "echo differs at byte 1000",
    );
}

#[test]
fn halfclose_finds_missing_replies() {
    let t = target(broken::rpc(RpcFault::Mute(5)));
    finds(
        &[
            "halfclose",
            &t,
            "--count",
            "3",
            "--calls",
            "10",
            "--timeout",
            "500",
        ],
        "after the client's EOF with 5 of 10 replies sent",
    );
}

#[test]
fn hold_finds_closed_connections() {
    let t = target(broken::closing_after(50));
    let s = finds(
        &[
            "hold",
            &t,
            "--conns",
            "20",
            "--secs",
            "1",
            "--timeout",
            "300",
        ],
        "the server closed (or sent unasked data on) 20 of 20 held connections",
    );
    assert_eq!(num(&s, "served"), 0);
}

#[test]
fn noread_finds_a_server_without_backpressure() {
    let t = target(broken::sink());
    finds(
        &[
            "noread",
            &t,
            "--conns",
            "2",
            "--secs",
            "1",
            "--max-unread",
            "1m",
            "--timeout",
            "300",
        ],
        "over --max-unread",
    );
}

#[test]
fn unreachable_server() {
    let t = target(dead_port());
    for args in [
        &["fuzz", &t, "--records", "5"][..],
        &["hold", &t, "--conns", "2"],
        &["churn", &t, "--cycles", "2"],
        &["reset", &t, "--count", "2"],
        &["halfclose", &t, "--count", "2"],
        &["noread", &t, "--conns", "2"],
    ] {
        finds(args, "connection refused (is the server running?)");
    }
}

#[test]
fn help_and_usage() {
    let r = ksfstress(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("Usage: ksfstress SUBCOMMAND"));
    for sub in [
        "fuzz",
        "hold",
        "churn",
        "reset",
        "halfclose",
        "noread",
        "flood",
        "slowloris",
        "idle",
    ] {
        let r = ksfstress(&[sub, "--help"]);
        assert_eq!(r.code, 0);
        assert!(r
            .stdout
            .starts_with(&format!("Usage: ksfstress {sub} [OPTIONS] HOST[:PORT]")));
        assert!(r.stdout.contains("--check-cmd"));
    }
    for (args, what) in [
        (&["fuzz"][..], "missing target"),
        (&["frob", "h"][..], "unknown subcommand 'frob'"),
        (
            &["hold", "h", "--records", "1"][..],
            "unknown option --records",
        ),
        (
            &["churn", "h", "--cycles", "x"][..],
            "--cycles: invalid number 'x'",
        ),
    ] {
        let r = ksfstress(args);
        assert_eq!(r.code, 2, "{args:?}: {r:#?}");
        assert!(r.stderr.contains(what), "{args:?}: {r:#?}");
        assert!(r.stdout.is_empty());
    }
}

#[test]
fn check_cmd_failure_is_a_finding() {
    let srv = usrv("rpc");
    let s = finds(
        &[
            "reset",
            &srv.target(),
            "--count",
            "5",
            "--check-cmd",
            "echo broken >&2; exit 4",
        ],
        "check command 'echo broken >&2; exit 4' failed (exit status: 4): broken",
    );
    assert_eq!(num(&s, "good_failures"), 1);
}
