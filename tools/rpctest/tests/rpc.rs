// SPDX-License-Identifier: GPL-2.0

//! rpctest against in-process RPC servers: correct ones must pass with
//! every reply checked; see broken.rs for the broken ones.

mod common;

use common::*;

fn target(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// Rows of a successful run with -x: `iters` rows and the summary, 21
/// columns each, `calls` successful calls per row, no errors.
fn check_rows(r: &Run, iters: usize, td: &str, inf: &str, calls: u64) {
    let rows = r.rows();
    assert_eq!(rows.len(), iters + 1, "{}", r.stdout);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), 21, "{row:?}");
        assert_eq!(row[0] == "all", i == iters, "{row:?}");
        assert_eq!((row[1].as_str(), row[2].as_str()), (td, inf));
        let want = if i == iters {
            calls * iters as u64
        } else {
            calls
        };
        assert_eq!(row[15].parse::<u64>().unwrap(), want, "{row:?}");
        assert_eq!(row[20], "0", "{row:?}");
        let num = |c: &str| c.parse::<f64>().unwrap();
        assert!(num(&row[3]) > 0.0 && num(&row[4]) > 0.0 && num(&row[5]) > 0.0);
        // MinLat <= quantiles <= MaxLat.
        let lat: Vec<f64> = row[6..15].iter().map(|c| num(c)).collect();
        assert!(lat.windows(2).all(|w| w[0] <= w[1]), "{row:?}");
    }
}

#[test]
fn json_lines() {
    let port = tcp_server(Fault::None);
    let r = ok(&[
        "--json",
        "-a8",
        "-c400",
        "-i2",
        "-q",
        "50,99",
        &target(port),
    ]);
    let recs = r.json("rpctest", 2, 400);
    assert!(recs[0]["sends_per_op"].as_f64().unwrap() <= 1.0);
    assert!(recs[2]["quantiles_us"]["p50"].as_f64().is_some());
}

/// The send and receive calls per call of a TCP run with `args` at -a32.
fn per_op(port: u16, args: &[&str]) -> (f64, f64) {
    let mut all = vec!["--json", "-a32", "-c2000", "-i1"];
    all.extend_from_slice(args);
    let t = target(port);
    all.push(&t);
    let recs = ok(&all).json("rpctest", 1, 2000);
    let v = |k: &str| recs[1][k].as_f64().unwrap();
    (v("sends_per_op"), v("recvs_per_op"))
}

#[test]
fn original_method_by_default() {
    let port = tcp_server(Fault::None);
    // One call per send; a receive never takes more than one reply (a
    // short read may split one).
    for extra in [&[][..], &["-f"]] {
        let (snd, rcv) = per_op(port, extra);
        assert!(
            snd == 1.0 && rcv >= 1.0,
            "{extra:?}: snd/call {snd} rcv/call {rcv}"
        );
    }
    // --batch: the first send alone carries the whole window.
    let (snd, _) = per_op(port, &["--batch"]);
    assert!(snd < 1.0, "snd/call {snd}");
    assert!(per_op(port, &["-b"]).0 < 1.0);
}

#[test]
fn synchronous() {
    let port = tcp_server(Fault::None);
    let r = ok(&["-x", "-c", "2000", "-i", "2", &target(port)]);
    check_rows(&r, 2, "1", "0", 2000);
    let head = r.header();
    assert_eq!(
        head[..7],
        ["Date", "TD", "INF", "MedRPC", "MedLat", "Mbps", "MinLat"]
    );
    assert_eq!(
        head[7..15],
        ["p0.3", "p4.6", "p31.7", "p50", "p68.3", "p95.4", "p99.7", "MaxLat"]
    );
    assert_eq!(
        head[15..],
        ["calls", "usecs", "cpu/call", "snd/call", "rcv/call", "errors"]
    );
    // One send and one receive per call.
    assert_eq!(
        (r.rows()[0][18].as_str(), r.rows()[0][19].as_str()),
        ("1.000", "1.000")
    );
}

#[test]
fn pipelined() {
    let port = tcp_server(Fault::None);
    let r = ok(&["-x", "-a1", "-c2000", "-i2", "-p", &port.to_string()]);
    check_rows(&r, 2, "1", "1", 2000);
    let r = ok(&["-x", "-a16", "-c5K", "-i2", &target(port)]);
    check_rows(&r, 2, "1", "16", 5000);
    assert_eq!(r.rows()[2][18], "1.000", "{}", r.stdout);
    // Batched: fewer sends than calls.
    let r = ok(&["-x", "-b", "-a16", "-c5K", "-i2", &target(port)]);
    check_rows(&r, 2, "1", "16", 5000);
    let sends: f64 = r.rows()[2][18].parse().unwrap();
    assert!(sends < 1.0, "{}", r.stdout);
    for method in ["-a1023", "-ba1023"] {
        let r = ok(&["-x", method, "-c3000", "-i1", &target(port)]);
        check_rows(&r, 1, "1", "1023", 3000);
    }
}

#[test]
fn jobs() {
    let port = tcp_server(Fault::None);
    let r = ok(&["-x", "-j3", "-a8", "-c2000", "-i2", &target(port)]);
    check_rows(&r, 2, "3", "8", 6000);
}

#[test]
fn fragments() {
    let port = tcp_server(Fault::RequireFragments(3));
    let r = ok(&["-x", "-f", "-a4", "-c1000", "-i1", &target(port)]);
    check_rows(&r, 1, "1", "4", 1000);
    // The server does see fragments: unfragmented calls are refused.
    let r = fails(
        &["-c10", "-i1", &target(port)],
        1,
        "expected an accepted SUCCESS reply, got GARBAGE_ARGS",
    );
    assert!(r.stderr.contains("rpctest: 10 error(s)"), "{}", r.stderr);
}

#[test]
fn auth_sys() {
    let port = tcp_server(Fault::RequireSys);
    let r = ok(&["-x", "-A", "sys", "-a2", "-c1000", "-i1", &target(port)]);
    check_rows(&r, 1, "1", "2", 1000);
    fails(
        &["-c5", "-i1", &target(port)],
        1,
        "got MSG_DENIED AUTH_ERROR AUTH_TOOWEAK (5)",
    );
}

#[test]
fn udp() {
    let port = udp_server(Fault::None);
    let r = ok(&["-x", "-u", "-j2", "-a16", "-c2000", "-i2", &target(port)]);
    check_rows(&r, 2, "2", "16", 4000);
    let r = ok(&["-x", "-u", "-A", "sys", "-c500", "-i1", &target(port)]);
    check_rows(&r, 1, "1", "0", 500);
}

#[test]
fn options_change_the_table() {
    let port = tcp_server(Fault::None);
    let cpu = ksf_tools::cpu::allowed_cpus().unwrap()[0].to_string();
    let r = rpctest(&[
        "-m",
        "-v",
        "-q",
        "50,99.9",
        "--cpu",
        &cpu,
        "-c200",
        "-i2",
        &target(port),
    ]);
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(
        r.header(),
        [
            "Date", "TD", "INF", "AvgRPC", "AvgLat", "Mbps", "MinLat", "p50", "p99.9", "MaxLat",
            "errors"
        ]
    );
    assert!(r.stderr.contains(
        "rpctest: 1 job(s) x 1 connection(s) x 0 in flight, 2 x 200 calls per job of 100003/3/0"
    ));
    assert!(
        r.stderr
            .contains("iter 2 job 0: 200 calls, 200 replies, 0 errors"),
        "{}",
        r.stderr
    );
    let r = ok(&["-H", "-c10", "-i3", &target(port)]);
    assert!(!r.stdout.contains("Date"));
    assert_eq!(r.stdout.lines().count(), 4);
    assert!(r.stdout.lines().last().unwrap().starts_with("all "));
}

#[test]
fn histogram_files() {
    let port = tcp_server(Fault::None);
    let dir = std::env::temp_dir().join(format!("rpctest-d-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.join("sub");
    ok(&[
        "-a4",
        "-c1000",
        "-i2",
        "-d",
        d.to_str().unwrap(),
        &target(port),
    ]);
    let csv = std::fs::read_to_string(d.join("rpctest-latency.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("lo_ns,hi_ns,count,cumulative,cumulative_percent")
    );
    let last: Vec<&str> = lines.last().unwrap().split(',').collect();
    assert_eq!((last[3], last[4]), ("2000", "100.0000"));
    let svg = std::fs::read_to_string(d.join("rpctest-latency.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("<path d=\"M") && svg.contains("n=2000"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help() {
    let r = rpctest(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(r
        .stdout
        .starts_with("Usage: rpctest [OPTIONS] [HOST[:PORT]]"));
    assert!(r.stdout.contains("MedRPC   running median"));
    assert_eq!(rpctest(&["-h"]).stdout, r.stdout);
}

#[test]
fn many_connections_per_job() {
    let port = tcp_server(Fault::None);
    // 2 jobs x 20 connections x 30 calls, 3 in flight on each: every call
    // answered and checked, one send per call, a latency for each.
    let r = ok(&[
        "--json",
        "-j2",
        "-C20",
        "-a3",
        "-c30",
        "-i2",
        "-q",
        "50,99",
        &target(port),
    ]);
    let recs = r.json("rpctest", 2, 2 * 20 * 30);
    assert_eq!(recs[0]["conns"].as_u64(), Some(40));
    assert_eq!(recs[0]["sends_per_op"].as_f64(), Some(1.0));
    assert!(recs[2]["process_cpu_us"].as_f64().unwrap() > 0.0);
    // Batched on many connections, and the table with -v describing them.
    let r = ok(&[
        "-x",
        "-b",
        "--conns",
        "5",
        "-a8",
        "-c100",
        "-i1",
        &target(port),
    ]);
    check_rows(&r, 1, "1", "8", 500);
    let r = rpctest(&["-v", "-C3", "-c10", "-i1", &target(port)]);
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(
        r.stderr
            .contains("1 job(s) x 3 connection(s) x 0 in flight"),
        "{}",
        r.stderr
    );
}
