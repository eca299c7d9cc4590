// SPDX-License-Identifier: GPL-2.0

//! flood, slowloris and idle against usrv (which never closes a peer) and
//! against a server with idle and request timeouts.

mod common;

use common::*;
use std::time::Duration;

fn secs(s: &std::collections::HashMap<String, String>, key: &str) -> f64 {
    s[key].parse().unwrap_or_else(|_| panic!("{key} in {s:?}"))
}

/// A server closing idle peers after 1 s and slow requests after 1.5 s.
fn guarded(proto: &'static str) -> String {
    let port = timeouts::server(
        proto,
        Duration::from_millis(1000),
        Duration::from_millis(1500),
    );
    format!("127.0.0.1:{port}")
}

#[test]
fn flood_held_and_served() {
    for proto in ["rpc", "echo"] {
        let srv = usrv(proto);
        let t = srv.target();
        let s = ok(&[
            "flood",
            &t,
            "--proto",
            proto,
            "--attempts",
            "300",
            "--procs",
            "3",
            "--hold-secs",
            "1",
            "--send-partial",
            "--check-cmd",
            "true",
        ]);
        assert_eq!(
            (num(&s, "attempted"), num(&s, "established")),
            (300, 300),
            "{s:?}"
        );
        assert_eq!(
            (num(&s, "open"), num(&s, "closed"), num(&s, "failed")),
            (300, 0, 0)
        );
        assert_eq!((num(&s, "procs"), s["failed_by"].as_str()), (3, "none"));
        assert!(
            num(&s, "probes") > 0 && num(&s, "probe_failures") == 0,
            "{s:?}"
        );
        assert!(num(&s, "check_runs") > 0, "{s:?}");
        assert!(secs(&s, "probe_p99_ms") > 0.0, "{s:?}");
    }
}

#[test]
fn flood_closed_by_the_server_and_refused() {
    let s = ok(&[
        "flood",
        &guarded("rpc"),
        "--attempts",
        "200",
        "--procs",
        "2",
        "--hold-secs",
        "2",
    ]);
    assert_eq!(num(&s, "established"), 200);
    assert_eq!((num(&s, "closed"), num(&s, "open")), (200, 0), "{s:?}");
    let t = format!("127.0.0.1:{}", dead_port());
    let s = finds(
        &[
            "flood",
            &t,
            "--attempts",
            "50",
            "--procs",
            "2",
            "--hold-secs",
            "0",
        ],
        "good client, probe 1 during the flood",
    );
    assert_eq!(s["failed_by"], "ECONNREFUSED:50");
    assert_eq!(num(&s, "established"), 0);
}

#[test]
fn slowloris_closed_in_time() {
    for proto in ["rpc", "echo"] {
        let s = ok(&[
            "slowloris",
            &guarded(proto),
            "--proto",
            proto,
            "--conns",
            "4",
            "--expect-close-secs",
            "5",
        ]);
        assert_eq!((num(&s, "closed"), num(&s, "open")), (4, 0), "{s:?}");
        let (min, max) = (secs(&s, "close_min_s"), secs(&s, "close_max_s"));
        // Echo peers first fill the socket buffers (small on both
        // sides: a few hundred KiB) before the server's send stalls.
        let bound = if proto == "rpc" { 3.0 } else { 5.0 };
        assert!(min >= 1.4 && max <= bound, "{proto}: {s:?}");
        assert!(num(&s, "sent_total") >= 4, "{s:?}");
    }
}

#[test]
fn idle_closed_in_time() {
    for proto in ["rpc", "echo"] {
        for first in [false, true] {
            let mut args = vec![
                "idle",
                "--proto",
                proto,
                "--conns",
                "4",
                "--expect-close-secs",
                "4",
            ];
            if first {
                args.push("--valid-first");
            }
            let t = guarded(proto);
            args.push(&t);
            let s = ok(&args);
            assert_eq!((num(&s, "closed"), num(&s, "open")), (4, 0), "{s:?}");
            let (min, max) = (secs(&s, "close_min_s"), secs(&s, "close_max_s"));
            assert!(min >= 0.9 && max <= 2.5, "{proto} {first}: {s:?}");
            assert_eq!(s["valid_first"], first.to_string());
        }
    }
}

#[test]
fn peers_never_closed_are_findings() {
    let srv = usrv("rpc");
    let t = srv.target();
    let s = finds(
        &["idle", &t, "--conns", "3", "--expect-close-secs", "1"],
        "3 of 3 idle peers still open after 1 s",
    );
    assert_eq!((num(&s, "open"), num(&s, "closed")), (3, 0));
    assert_eq!(s["close_max_s"], "-");
    let s = finds(
        &["slowloris", &t, "--conns", "2", "--expect-close-secs", "2"],
        "2 of 2 slow peers still open after 2 s",
    );
    assert_eq!(num(&s, "open"), 2);
}

/// `--smc` against a TCP server (usrv): served by fallback where the
/// kernel has SMC sockets; else one clear error and exit status 1.
#[test]
fn smc_served_by_fallback_or_a_clear_error() {
    let srv = usrv("rpc");
    let t = srv.target();
    let args = ["churn", &t, "--smc", "--cycles", "40"];
    let r = ksfstress(&args);
    let s = summary(&r, "churn");
    assert_eq!(s["transport"], "smc", "{s:?}");
    if r.stderr.contains("no SMC sockets") {
        assert_eq!(r.code, 1, "{r:#?}");
        assert!(r.stderr.contains("--smc: this kernel has no SMC sockets"));
        return;
    }
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(num(&s, "cycles"), 40, "{s:?}");
    let s = ok(&[
        "flood",
        &t,
        "--smc",
        "--attempts",
        "50",
        "--procs",
        "2",
        "--hold-secs",
        "0",
    ]);
    assert_eq!(num(&s, "established"), 50, "{s:?}");
}
