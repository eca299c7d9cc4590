// SPDX-License-Identifier: GPL-2.0

//! rpctest against broken servers and with bad arguments: it must exit 1
//! (2 for usage) with a clear message, never hang and never panic.

mod common;

use common::*;
use ksf_tools::testutil;

fn target(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// The errors column of the summary row.
fn errors(r: &Run) -> u64 {
    let rows = r.rows();
    let all = rows.last().expect("a summary row");
    assert_eq!(all[0], "all", "{}", r.stdout);
    all.last().unwrap().parse().unwrap()
}

#[test]
fn wrong_xid() {
    let port = tcp_server(Fault::WrongXid(5));
    let r = fails(
        &["-c20", "-i1", &target(port)],
        1,
        "job 0: reply with unknown xid 0x",
    );
    assert!(r.stderr.contains("; expected xid 0x"), "{}", r.stderr);
    assert!(r.stderr.contains("rpctest: 1 error(s)"), "{}", r.stderr);
    assert_eq!(errors(&r), 1);
    let r = fails(
        &["-a8", "-c40", "-i2", &target(port)],
        1,
        "reply with unknown xid",
    );
    assert!(
        r.stderr.contains("calls in flight, xids 0x"),
        "{}",
        r.stderr
    );
    assert_eq!(errors(&r), 2);
}

#[test]
fn duplicate_reply() {
    let port = tcp_server(Fault::DupReply(3));
    let r = fails(
        &["-c10", "-i1", &target(port)],
        1,
        "duplicate reply for xid 0x",
    );
    assert_eq!(errors(&r), 1);
}

#[test]
fn not_success() {
    let port = tcp_server(Fault::None);
    let r = fails(
        &["--proc", "5", "-a4", "-c50", "-i1", &target(port)],
        1,
        "expected an accepted SUCCESS reply, got PROC_UNAVAIL (no such procedure)",
    );
    assert!(
        r.stderr
            .contains("rpctest: 50 error(s): bad replies or calls left unanswered (45 not shown)"),
        "{}",
        r.stderr
    );
    assert_eq!(errors(&r), 50);
    fails(
        &["--vers", "4", "-c5", "-i1", &target(port)],
        1,
        "got PROG_MISMATCH (versions 3..3 served)",
    );
    fails(
        &[
            "-u",
            "--prog",
            "100005",
            "-c5",
            "-i1",
            &target(udp_server(Fault::None)),
        ],
        1,
        "got PROG_UNAVAIL (program not served)",
    );
}

#[test]
fn malformed_reply() {
    let port = tcp_server(Fault::Truncated(2));
    let r = fails(
        &["-c10", "-i1", &target(port)],
        1,
        "malformed reply of 12 bytes: xid 0x",
    );
    assert!(r.stderr.contains(": truncated reply: "), "{}", r.stderr);
    assert_eq!(errors(&r), 1);
}

#[test]
fn garbage_and_huge_marks_are_fatal() {
    let port = tcp_server(Fault::Garbage(3));
    let r = fails(
        &["-c10", &target(port)],
        1,
        "malformed record stream from the server after 3 replies: record of 1213486160 bytes \
         exceeds the 1048576-byte limit (received: 48 54 54 50",
    );
    assert!(r.rows().is_empty(), "{}", r.stdout);
    let port = tcp_server(Fault::HugeMark(0));
    fails(
        &["-a8", "-c100", &target(port)],
        1,
        "record of 2147483647 bytes exceeds the 1048576-byte limit",
    );
}

#[test]
fn server_closes_early() {
    let port = tcp_server(Fault::CloseAfter(30));
    let r = fails(
        &["-j2", "-a4", "-c100", &target(port)],
        1,
        "connection closed by the server (30 of 100 calls settled, 4 in flight",
    );
    assert!(r.stderr.contains("job 0: ") || r.stderr.contains("job 1: "));
}

#[test]
fn server_never_answers() {
    let port = tcp_server(Fault::StallAfter(0));
    fails(
        &["-t", "200", "-c10", &target(port)],
        1,
        "job 0: timeout: no progress for 200 ms (0 of 10 calls settled, 1 in flight, oldest xid 0x",
    );
    let port = udp_server(Fault::StallAfter(0));
    let r = fails(
        &["-u", "-t", "100", "-a4", "-c4", "-i1", &target(port)],
        1,
        "within 100 ms (lost)",
    );
    assert_eq!(errors(&r), 4);
}

#[test]
fn udp_lost_datagrams_counted() {
    let port = udp_server(Fault::DropEvery(50));
    let r = fails(
        &[
            "-x",
            "-u",
            "-t",
            "100",
            "-a4",
            "-c200",
            "-i1",
            &target(port),
        ],
        1,
        "within 100 ms (lost)",
    );
    // Every call is either answered or counted as an error once.
    let row = &r.rows()[0];
    let (calls, errors): (u64, u64) = (row[15].parse().unwrap(), row[20].parse().unwrap());
    assert!(errors >= 4 && calls + errors == 200, "{row:?}");
}

#[test]
fn connection_refused() {
    let port = dead_port();
    let r = fails(
        &["-c10", &target(port)],
        1,
        "job 0: cannot connect to 127.0.0.1:",
    );
    assert!(r
        .stderr
        .contains("(TCP): connection refused (is the RPC server running?)"));
    assert!(r.stdout.lines().count() <= 1, "{}", r.stdout);
    fails(
        &["-j3", "-u", "-c10", &target(port)],
        1,
        "connection refused",
    );
    fails(
        &["-c1", "no-such-host.invalid"],
        1,
        "cannot resolve host 'no-such-host.invalid'",
    );
}

#[test]
fn bad_arguments_exit_2() {
    for (args, what) in [
        (&["-a", "1024"][..], "-a: 1024 is out of range 0..1023"),
        (&["-c", "0"], "-c: 0 is out of range 1..2147483648"),
        (&["-j", "2k"], "-j: 2048 is out of range 1..1024"),
        (&["-A", "des"], "-A: unknown flavor 'des' (none or sys)"),
        (&["-u", "-f"], "-f: UDP has no record marking"),
        (&["-q", "200"], "-q: bad quantile '200'"),
        (&["--cpu", "x"], "--cpu: bad CPU 'x'"),
        (&["--proc"], "option --proc requires a value"),
        (&["-k"], "unknown option -k"),
        (&["a", "b"], "unexpected argument 'b'"),
        (&["host:0"], "bad port in 'host:0'"),
    ] {
        testutil::usage_error("rpctest", BIN, args, what);
    }
}

#[test]
fn version() {
    testutil::version("rpctest", BIN);
}

#[test]
fn unwritable_directory() {
    let port = tcp_server(Fault::None);
    fails(
        &["-c10", "-i1", "-d", "/proc/version/x", &target(port)],
        1,
        "-d: cannot create directory /proc/version/x",
    );
}

#[test]
fn many_connections_one_broken_or_stalled() {
    // Every connection of the job gets the fault: each counts its wrong
    // reply, and the iteration still ends.
    let port = tcp_server(Fault::WrongXid(2));
    let r = fails(
        &["-C4", "-a2", "-c10", "-i1", &target(port)],
        1,
        "reply with unknown xid",
    );
    assert_eq!(errors(&r), 4);
    // A connection that stops answering times out, named (all of them
    // stall; whichever is first).
    let port = tcp_server(Fault::StallAfter(3));
    let r = fails(
        &["-C3", "-a2", "-c10", "-i1", "-t300", &target(port)],
        1,
        ": timeout: no progress for 300 ms",
    );
    assert!(
        r.stderr.starts_with("rpctest: job 0: connection "),
        "{}",
        r.stderr
    );
    // One closed by the server ends the run.
    let port = tcp_server(Fault::CloseAfter(1));
    fails(
        &["-C2", "-c5", "-i1", &target(port)],
        1,
        "connection closed by the server",
    );
    testutil::usage_error("rpctest", BIN, &["-u", "-C2"], "-C: UDP has no connections");
}
