// SPDX-License-Identifier: GPL-2.0

//! pingpong end to end: in one process, as separate server and client,
//! against in-process echo servers (correct or broken), and its command
//! line.

use ksf_tools::testutil::{self, dead_port, fails, ok, tcp_server_on};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_pingpong");

/// Rows of a successful run: `iters` rows and a summary, 12 columns
/// (with the default quantile), `msgs` round trips of `len` bytes each.
fn check_rows(rows: &[Vec<String>], iters: usize, msgs: u64, len: &str) {
    assert_eq!(rows.len(), iters + 1, "{rows:?}");
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.len(), 12, "{r:?}");
        let iter = if i == iters {
            "med".to_string()
        } else {
            (i + 1).to_string()
        };
        assert_eq!((r[1].as_str(), r[2].as_str()), (iter.as_str(), len));
        assert_eq!(r[3].parse::<u64>().unwrap(), msgs, "{r:?}");
        assert!(r[5].parse::<f64>().unwrap() > 0.0, "{r:?}");
        let lat: Vec<f64> = r[7..11].iter().map(|c| c.parse().unwrap()).collect();
        assert!(
            lat[0] > 0.0 && lat.windows(2).all(|w| w[0] <= w[1]),
            "{r:?}"
        );
    }
}

#[test]
fn help_and_usage_errors() {
    let r = ok("pingpong", BIN, &["--help"]);
    assert!(r.stdout.starts_with("Usage: pingpong"));
    for (args, what) in [
        (&["-s", "0"][..], "-s: 0 is out of range"),
        (&["-x"], "unknown option -x"),
        (&["host"], "needs a port"),
        (&["--server", "h:1"], "--server takes no HOST:PORT"),
        (&["-c"], "requires a value"),
    ] {
        testutil::usage_error("pingpong", BIN, args, what);
    }
    testutil::version("pingpong", BIN);
}

#[test]
fn in_process() {
    let r = ok("pingpong", BIN, &["-c", "2000", "-i", "3"]);
    assert_eq!(
        r.header(),
        [
            "Date", "iter", "len", "msgs", "usecs", "msgs/s", "Mbps", "MinLat", "MedLat", "p99",
            "MaxLat", "cpu/msg"
        ]
    );
    check_rows(&r.rows(), 3, 2000, "64");
}

#[test]
fn json_lines() {
    let r = ok(
        "pingpong",
        BIN,
        &["--json", "-c", "500", "-i", "2", "-q", "50,99"],
    );
    let recs = r.json("pingpong", 2, 500);
    assert_eq!(recs[0]["len"].as_u64(), Some(64));
    assert!(recs[2]["quantiles_us"]["p99"].as_f64().is_some());
}

#[test]
fn sizes_and_pinning() {
    let cpu = ksf_tools::cpu::allowed_cpus().unwrap()[0].to_string();
    for (size, len) in [
        ("1", "1"),
        ("1k", "1024"),
        ("16k", "16384"),
        ("1m", "1048576"),
    ] {
        let r = ok(
            "pingpong",
            BIN,
            &["-H", "-s", size, "-c", "50", "-i", "2", "--cpu", &cpu],
        );
        check_rows(&r.rows(), 2, 50, len);
    }
    let r = ok(
        "pingpong",
        BIN,
        &["-H", "-q", "50,99.9", "-c", "10", "-i", "1"],
    );
    assert_eq!(r.rows()[0].len(), 13);
}

#[test]
fn separate_server_and_client() {
    let mut server = Command::new(BIN)
        .args(["--server", "-p", "0", "-s", "100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .parse()
        .unwrap();
    let target = format!("127.0.0.1:{port}");
    // One connection at a time, for as long as the server runs.
    for _ in 0..2 {
        let r = ok(
            "pingpong",
            BIN,
            &["-s", "100", "-c", "500", "-i", "2", &target],
        );
        check_rows(&r.rows(), 2, 500, "100");
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn any_echo_server() {
    let port = tcp_server_on(0, |mut s: TcpStream| {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = s.read(&mut buf) {
            if s.write_all(&buf[..n]).is_err() {
                return;
            }
        }
    });
    let r = ok(
        "pingpong",
        BIN,
        &[
            "-s",
            "3000",
            "-c",
            "300",
            "-i",
            "2",
            &format!("127.0.0.1:{port}"),
        ],
    );
    check_rows(&r.rows(), 2, 300, "3000");
}

#[test]
fn broken_servers_fail() {
    fails(
        "pingpong",
        BIN,
        &[&format!("127.0.0.1:{}", dead_port())],
        1,
        "connection refused",
    );

    // Echoes the first message with its first byte changed.
    let port = tcp_server_on(0, |mut s: TcpStream| {
        let mut buf = [0u8; 64];
        if s.read_exact(&mut buf).is_ok() {
            buf[0] ^= 1;
            let _ = s.write_all(&buf);
        }
        let _ = s.read(&mut buf);
    });
    fails(
        "pingpong",
        BIN,
        &[&format!("127.0.0.1:{port}")],
        1,
        "wrong echo of message 1",
    );

    // Echoes 10 messages, then closes its side and reads what is left: a
    // close with the 11th message unread would be a reset, not an end.
    let port = tcp_server_on(0, |mut s: TcpStream| {
        let mut buf = [0u8; 64];
        for _ in 0..10 {
            if s.read_exact(&mut buf).is_err() || s.write_all(&buf).is_err() {
                return;
            }
        }
        let _ = s.shutdown(std::net::Shutdown::Write);
        let _ = std::io::copy(&mut s, &mut std::io::sink());
    });
    fails(
        "pingpong",
        BIN,
        &[&format!("127.0.0.1:{port}")],
        1,
        "closed by the server",
    );

    // Reads but never answers.
    let port = tcp_server_on(0, |mut s: TcpStream| {
        let mut buf = [0u8; 64];
        while matches!(s.read(&mut buf), Ok(1..)) {}
    });
    let r = testutil::run(
        "pingpong",
        BIN,
        &["-t", "200", &format!("127.0.0.1:{port}")],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("timeout: no progress within 200 ms"),
        "{r:?}"
    );
}
