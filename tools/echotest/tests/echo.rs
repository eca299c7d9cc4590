// SPDX-License-Identifier: GPL-2.0

//! echotest against in-process echo servers: correct ones must pass with
//! every byte verified; broken ones must make it fail with a clear message.

mod common;

use common::*;
use ksf_tools::testutil;

fn target(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// Rows of a successful run: `iters` rows and a summary, 17 columns each,
/// `msgs` echoes per row, no errors.
fn check_rows(rows: &[Vec<String>], iters: usize, msgs: u64) {
    assert_eq!(rows.len(), iters + 1, "{rows:?}");
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.len(), 17, "{r:?}");
        let iter = if i == iters {
            "med".to_string()
        } else {
            (i + 1).to_string()
        };
        assert_eq!(r[1], iter);
        assert_eq!(r[5].parse::<u64>().unwrap(), msgs, "{r:?}");
        assert_eq!(r[16], "0", "{r:?}");
        let lat: Vec<f64> = r[9..13].iter().map(|c| c.parse().unwrap()).collect();
        assert!(
            lat[0] > 0.0 && lat.windows(2).all(|w| w[0] <= w[1]),
            "{r:?}"
        );
    }
}

#[test]
fn json_lines() {
    let port = tcp_server(TcpFault::None);
    let r = testutil::ok(
        "echotest",
        BIN,
        &["--json", "-j2", "-a4", "-c300", "-i2", &target(port)],
    );
    let recs = r.json("echotest", 2, 600);
    assert_eq!(
        (recs[0]["jobs"].as_u64(), recs[0]["inflight"].as_u64()),
        (Some(2), Some(4))
    );
    assert_eq!(recs[2]["iters"].as_u64(), Some(2));
}

/// The send and receive calls per echo of a TCP run with `args` at -a32.
fn per_op(port: u16, args: &[&str]) -> (f64, f64) {
    let mut all = vec!["--json", "-a32", "-c2000", "-i1", "-l100"];
    all.extend_from_slice(args);
    let t = target(port);
    all.push(&t);
    let recs = testutil::ok("echotest", BIN, &all).json("echotest", 1, 2000);
    let v = |k: &str| recs[1][k].as_f64().unwrap();
    (v("sends_per_op"), v("recvs_per_op"))
}

#[test]
fn original_method_by_default() {
    let port = tcp_server(TcpFault::None);
    // One message per send; a receive never takes more than one echo (a
    // short read may split one).
    let (snd, rcv) = per_op(port, &[]);
    assert!(snd == 1.0 && rcv >= 1.0, "snd/msg {snd} rcv/msg {rcv}");
    // --batch: the first send alone carries the whole window.
    let (snd, _) = per_op(port, &["--batch"]);
    assert!(snd < 1.0, "snd/msg {snd}");
    assert!(per_op(port, &["-b"]).0 < 1.0);
}

#[test]
fn tcp_ping_pong() {
    let port = tcp_server(TcpFault::None);
    let rows = ok(&["-c", "2000", "-i", "2", &target(port)]);
    check_rows(&rows, 2, 2000);
    assert_eq!(&rows[0][2..5], ["1", "1", "64"]);
}

#[test]
fn tcp_pipelined_jobs() {
    let port = tcp_server(TcpFault::None);
    let rows = ok(&["-j3", "-a16", "-c3K", "-i2", "-p", &port.to_string()]);
    check_rows(&rows, 2, 9000);
    assert_eq!(&rows[0][2..5], ["3", "16", "64"]);
}

#[test]
fn tcp_lengths() {
    let port = tcp_server(TcpFault::None);
    for len in ["1", "64", "16384", "1m"] {
        let count = if len == "1m" { "12" } else { "300" };
        let rows = ok(&[
            "-H",
            "-a4",
            "-j2",
            "-c",
            count,
            "-i1",
            "-l",
            len,
            &target(port),
        ]);
        check_rows(&rows, 1, 2 * count.parse::<u64>().unwrap());
    }
}

#[test]
fn udp_echo() {
    let port = udp_server(UdpFault::None);
    let rows = ok(&["-u", "-j2", "-a16", "-c2000", "-i2", &target(port)]);
    check_rows(&rows, 2, 4000);
    // A window of big datagrams may overflow default socket buffers.
    for (len, window) in [
        ("1", "-a4"),
        ("64", "-a4"),
        ("16384", "-a2"),
        ("65507", "-a1"),
    ] {
        let rows = ok(&["-u", window, "-c200", "-i1", "-l", len, "-H", &target(port)]);
        check_rows(&rows, 1, 200);
    }
    // Pinning, verbose details and quantile columns.
    let cpu = ksf_tools::cpu::allowed_cpus().unwrap()[0].to_string();
    let r = echotest(&[
        "-u",
        "-v",
        "--cpu",
        &cpu,
        "-q",
        "50,90,99.9",
        "-c100",
        "-i1",
        &target(port),
    ]);
    assert_eq!(r.code, 0, "{r:#?}");
    let head: Vec<&str> = r
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(head[10..15], ["MedLat", "p50", "p90", "p99.9", "MaxLat"]);
    assert!(
        r.stderr.contains("iter 1 job 0: 100 msgs, 0 errors"),
        "{}",
        r.stderr
    );
}

#[test]
fn help_and_header() {
    let r = echotest(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(r
        .stdout
        .starts_with("Usage: echotest [OPTIONS] [HOST[:PORT]]"));
    let r = echotest(&["-h"]);
    assert!(r.code == 0 && r.stdout.contains("-a N"));
    let port = tcp_server(TcpFault::None);
    let r = echotest(&["-c10", "-i1", &target(port)]);
    let head: Vec<&str> = r
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        head[..6],
        ["Date", "iter", "jobs", "inflight", "len", "msgs"]
    );
    let r = echotest(&["-H", "-c10", "-i1", &target(port)]);
    assert!(
        !r.stdout.contains("Date") && r.stdout.lines().count() == 2,
        "{r:#?}"
    );
}

#[test]
fn bad_arguments_exit_2() {
    for (args, what) in [
        (&["-a", "0"][..], "-a: 0 is out of range 1..1023"),
        (&["-a", "5000"], "-a: 5000 is out of range 1..1023"),
        (&["-l", "1x"], "-l: invalid number '1x'"),
        (&["-l", "2m"], "-l: 2097152 is out of range 1..1048576"),
        (&["-x"], "unknown option -x"),
        (&["--frobnicate"], "unknown option --frobnicate"),
        (&["-c"], "option -c requires a value"),
        (&["-u", "-l", "65508"], "too long for UDP"),
        (&["a", "b"], "unexpected argument 'b'"),
        (&["host:0"], "bad port in 'host:0'"),
    ] {
        testutil::usage_error("echotest", BIN, args, what);
    }
}

#[test]
fn version() {
    testutil::version("echotest", BIN);
}

#[test]
fn connection_refused_exits_1() {
    let port = dead_port();
    let r = fails(
        &["-c10", &target(port)],
        1,
        "job 0: cannot connect to 127.0.0.1:",
    );
    assert!(r.stderr.contains("connection refused"), "{}", r.stderr);
    fails(&["-u", "-c10", &target(port)], 1, "connection refused");
}

#[test]
fn tcp_corrupted_byte() {
    let port = tcp_server(TcpFault::Flip(1000));
    let r = fails(
        &["-a4", "-c1000", "-i2", &target(port)],
        1,
        "job 0: echo of seq 15 differs",
    );
    assert!(
        r.stderr.contains("at byte 40 of 64: expected "),
        "{}",
        r.stderr
    );
}

#[test]
fn tcp_dropped_byte() {
    let port = tcp_server(TcpFault::Drop(64 * 7 + 20));
    fails(
        &["-c100", &target(port)],
        1,
        "echo of seq 7 differs at byte 20 of 64",
    );
}

#[test]
fn tcp_duplicated_byte() {
    // In the middle of the stream: the next message does not match, or,
    // if it was not sent yet, there are more bytes than were sent.
    let port = tcp_server(TcpFault::Dup(64 * 9 + 63));
    let r = fails(&["-a8", "-c100", &target(port)], 1, "job 0: ");
    assert!(
        r.stderr
            .contains("echo of seq 10 differs at byte 0 of 64: expected 0a 00 00 00")
            || r.stderr
                .contains("received 1 bytes more than were sent, after the echo of seq 9"),
        "{}",
        r.stderr
    );
    // Ping-pong: each receive asks for one echo, so the extra byte is read
    // as the next echo; a batched read takes it while nothing is in flight.
    let port = tcp_server(TcpFault::Dup(5));
    let what = "echo of seq 6 differs at byte 0 of 1: expected 06, received 05";
    fails(&["-c100", "-l", "1", &target(port)], 1, what);
    let port = tcp_server(TcpFault::Dup(5));
    let what = "received 1 bytes more than were sent, after the echo of seq 5: 05";
    fails(&["-b", "-c100", "-l", "1", &target(port)], 1, what);
}

#[test]
fn tcp_server_closes_early() {
    let port = tcp_server(TcpFault::CloseAfter(64 * 50 + 10));
    let r = fails(
        &["-j2", "-a2", "-c1000", &target(port)],
        1,
        "connection closed by the server",
    );
    assert!(
        r.stderr.contains("echo of seq 50 (10 of 64 bytes received"),
        "{}",
        r.stderr
    );
}

#[test]
fn tcp_server_resets() {
    let port = tcp_server(TcpFault::Reset);
    fails(
        &["-c100", &target(port)],
        1,
        "connection reset by the server",
    );
}

#[test]
fn tcp_server_stalls() {
    let port = tcp_server(TcpFault::StallAfter(640));
    let r = fails(
        &["-t", "200", "-a3", "-c100", &target(port)],
        1,
        "timeout: no progress for 200 ms",
    );
    assert!(
        r.stderr
            .contains("echo of seq 10 (0 of 64 bytes received, 3 messages in flight)"),
        "{}",
        r.stderr
    );
}

#[test]
fn udp_silent_server_times_out() {
    let port = udp_server(UdpFault::Silent);
    let r = fails(
        &["-u", "-t", "100", "-a8", "-c8", "-i1", &target(port)],
        1,
        "job 0: echo of seq 0 lost (no answer within 100 ms)",
    );
    assert!(
        r.stderr.contains("echotest: 8 UDP echo error(s)"),
        "{}",
        r.stderr
    );
    let rows = r.rows();
    assert_eq!(rows.len(), 2, "{}", r.stdout);
    assert_eq!((rows[0][5].as_str(), rows[0][16].as_str()), ("0", "8"));
}

#[test]
fn udp_lost_datagrams_counted() {
    let port = udp_server(UdpFault::DropEvery(50));
    let r = fails(
        &["-u", "-t", "100", "-a4", "-c200", "-i1", &target(port)],
        1,
        "lost (no answer within 100 ms)",
    );
    // Every message is either echoed intact or counted as an error once
    // (a late echo on a slow machine counts as lost, not twice).
    let row = &r.rows()[0];
    let (msgs, errors): (u64, u64) = (row[5].parse().unwrap(), row[16].parse().unwrap());
    assert!(errors >= 4 && msgs + errors == 200, "{row:?}");
}

#[test]
fn udp_corrupt_duplicate_and_short_echoes() {
    let port = udp_server(UdpFault::FlipEvery(7));
    fails(
        &["-u", "-c20", "-i1", &target(port)],
        1,
        "echo of seq 6 differs at byte 63 of 64",
    );
    let port = udp_server(UdpFault::Dup);
    fails(
        &["-u", "-c20", "-i1", &target(port)],
        1,
        "duplicate echo of seq 0",
    );
    let port = udp_server(UdpFault::Truncate);
    fails(
        &["-u", "-c20", "-i1", &target(port)],
        1,
        "echo of seq 0 is 63 bytes long, expected 64",
    );
}

#[test]
fn many_connections_per_job() {
    let port = tcp_server(TcpFault::None);
    // 2 jobs x 10 connections x 50 messages, 4 in flight on each, kept
    // over 2 iterations: every echo checked.
    let r = testutil::ok(
        "echotest",
        BIN,
        &[
            "--json",
            "-j2",
            "-C10",
            "-a4",
            "-c50",
            "-i2",
            "-l100",
            &target(port),
        ],
    );
    let recs = r.json("echotest", 2, 2 * 10 * 50);
    assert_eq!(recs[0]["conns"].as_u64(), Some(20));
    assert_eq!(recs[0]["sends_per_op"].as_f64(), Some(1.0));
    let rows = ok(&["-b", "--conns", "3", "-a8", "-c200", "-i1", &target(port)]);
    check_rows(&rows, 1, 600);
    // Every connection's stream is checked: a flipped byte is found (on
    // whichever connection reports first; all have it).
    let port = tcp_server(TcpFault::Flip(1000));
    let r = fails(
        &["-C3", "-a4", "-c100", "-i1", &target(port)],
        1,
        "echo of seq 15 differs at byte 40 of 64",
    );
    assert!(
        r.stderr.starts_with("echotest: job 0: connection "),
        "{}",
        r.stderr
    );
}
