// SPDX-License-Identifier: GPL-2.0

//! rpctest's NFSv3 procedures end to end against the in-process export
//! (common/nfs.rs): setup by LOOKUP and GETATTR, every reply checked, the
//! WRITE pattern read back, and servers or handles that must fail.

mod common;

use common::*;

fn target(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// A successful JSON run of `args` against `port`: its records.
fn json(port: u16, args: &[&str], iters: u64, ops: u64) -> Vec<serde_json::Value> {
    let t = target(port);
    let mut all = vec!["--json", "-q", "50"];
    all.extend_from_slice(args);
    all.push(&t);
    ok(&all).json("rpctest", iters, ops)
}

#[test]
fn getattr_and_lookup() {
    let port = nfs_server(export(3, 10_000), NfsFault::None);
    for proc in ["getattr", "1", "lookup"] {
        let recs = json(port, &["--proc", proc, "-a8", "-c500", "-i2"], 2, 500);
        assert_eq!(recs[0]["payload_bytes"].as_u64(), Some(0), "{proc}");
        // One receive per reply once the first told their length.
        let rcv = recs[2]["recvs_per_op"].as_f64().unwrap();
        assert!((1.0..1.01).contains(&rcv), "{proc}: rcv/call {rcv}");
    }
    // Another file, batched and on many connections.
    json(
        port,
        &[
            "--proc", "getattr", "--file", "2", "-b", "-C3", "-a4", "-c100", "-i1",
        ],
        1,
        300,
    );
    let r = rpctest(&[
        "-v",
        "--proc",
        "lookup",
        "--file=1",
        "-c10",
        "-i1",
        &target(port),
    ]);
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(
        r.stderr
            .contains("file1 is 10000 bytes (fileid 3), handle 6b 73 66 33 00 00 6b 32"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("calls per job of 100003/3/3 (lookup)"),
        "{}",
        r.stderr
    );
}

#[test]
fn write_then_read_the_pattern() {
    // 64 KiB: 16 slots of 4 KiB.
    let port = nfs_server(export(1, 65536), NfsFault::None);
    // Nothing written yet: the zeros are not the pattern.
    let r = fails(
        &[
            "--proc",
            "read",
            "--verify-pattern",
            "-c4",
            "-i1",
            &target(port),
        ],
        1,
        "READ at 0: byte 0 of the file is 0x00, the pattern has",
    );
    assert!(r.stderr.contains("rpctest: 4 error(s)"), "{}", r.stderr);
    // Without --verify-pattern count and eof are all that is checked.
    json(port, &["--proc", "read", "-c4", "-i1"], 1, 4);
    let recs = json(port, &["--proc", "write", "-a4", "-c16", "-i1"], 1, 16);
    assert_eq!(recs[1]["payload_bytes"].as_u64(), Some(65536));
    assert!(recs[1]["MBps"].as_f64().unwrap() > 0.0);
    let recs = json(
        port,
        &["--proc", "read", "--verify-pattern", "-a8", "-c64", "-i2"],
        2,
        64,
    );
    assert_eq!(recs[2]["payload_bytes"].as_u64(), Some(2 * 64 * 4096));
    // Other sizes over the same bytes: 1000-byte calls (unaligned offsets,
    // eof on none: 65 slots end at 65000), batched and in fragments.
    json(
        port,
        &[
            "--proc",
            "read",
            "--verify-pattern",
            "-l1000",
            "-b",
            "-a16",
            "-c200",
            "-i1",
        ],
        1,
        200,
    );
    json(
        port,
        &[
            "--proc",
            "read",
            "--verify-pattern",
            "-f",
            "-l",
            "8k",
            "-c8",
            "-i1",
        ],
        1,
        8,
    );
    // The last slot reaches the end of the file: eof.
    json(port, &["--proc", "read", "-l", "32k", "-c4", "-i1"], 1, 4);
}

#[test]
fn large_calls() {
    // 1 MiB READs and WRITEs, one per send and batched, on 2 jobs.
    let port = nfs_server(export(1, 2 << 20), NfsFault::None);
    for method in ["-a2", "-ba4"] {
        let args = ["--proc", "write", "-l", "1m", method, "-j2", "-c6", "-i1"];
        let recs = json(port, &args, 1, 12);
        assert_eq!(recs[1]["payload_bytes"].as_u64(), Some(12 << 20));
        let args = [
            "--proc",
            "read",
            "--verify-pattern",
            "-l1m",
            method,
            "-j2",
            "-c6",
            "-i1",
        ];
        json(port, &args, 1, 12);
    }
    // The table: MB/s next to RPC/s for READ and WRITE only.
    let r = ok(&[
        "--proc",
        "read",
        "-l1m",
        "-c4",
        "-i1",
        "-q",
        "50",
        &target(port),
    ]);
    let head = r.header();
    assert_eq!(head[3..6], ["MedRPC", "MB/s", "MedLat"]);
    let rows = r.rows();
    let mb: f64 = rows[1][4].parse().unwrap();
    assert!(mb > 0.0, "{}", r.stdout);
    let r = ok(&["--proc", "getattr", "-c4", "-i1", "-q", "50", &target(port)]);
    assert_eq!(r.header()[3..5], ["MedRPC", "MedLat"]);
}

#[test]
fn bad_replies_are_errors() {
    let port = nfs_server(export(1, 65536), NfsFault::None);
    json(port, &["--proc", "write", "-c16", "-i1"], 1, 16);
    let bad = nfs_server(export(1, 65536), NfsFault::CorruptRead);
    // Corrupt data passes count and eof, not the pattern.
    let r = fails(
        &[
            "--proc",
            "read",
            "--verify-pattern",
            "-l",
            "64",
            "-c5",
            "-i1",
            &target(bad),
        ],
        1,
        "READ at 0: byte 0 of the file is 0xff, the pattern has 0x",
    );
    assert!(r.stderr.contains("rpctest: 5 error(s)"), "{}", r.stderr);
    let short = nfs_server(export(1, 65536), NfsFault::ShortRead);
    fails(
        &["--proc", "read", "-c3", "-i1", &target(short)],
        1,
        "READ of 4096 bytes at 0: count 4095 eof false, expected count 4096 eof false",
    );
    // GETATTR answered STALE after setup's two calls on their connection
    // and on the run's from its third call.
    let stale = nfs_server(export(1, 65536), NfsFault::StaleAfter(2));
    let r = fails(
        &["--proc", "getattr", "-c10", "-i1", &target(stale)],
        1,
        "NFS3ERR_STALE (70), expected NFS3_OK",
    );
    assert!(r.stderr.contains("rpctest: 8 error(s)"), "{}", r.stderr);
    // WRITE past the end of the export's file: NFS3ERR_FBIG on every call
    // (--file-size claims more than the file has: refused at setup).
    fails(
        &[
            "--proc",
            "write",
            "--file-size",
            "65537",
            "-c1",
            "-i1",
            &target(port),
        ],
        1,
        "--file-size 65537 is over the size of file0, 65536 bytes",
    );
    fails(
        &["--proc", "write", "-l", "128k", "-c1", "-i1", &target(port)],
        1,
        "-l 131072: file0 has only 65536 bytes to read or write",
    );
}

#[test]
fn bad_handles_and_names() {
    let port = nfs_server(export(2, 4096), NfsFault::None);
    let t = target(port);
    fails(
        &[
            "--proc",
            "getattr",
            "--root-fh",
            "0011223344",
            "-c1",
            "-i1",
            &t,
        ],
        1,
        "setup: LOOKUP of file0 in the root directory: NFS3ERR_BADHANDLE (10001)",
    );
    fails(
        &["--proc", "read", "--fsid", "2", "-c1", "-i1", &t],
        1,
        "setup: LOOKUP of file0 in the root directory: NFS3ERR_STALE (70)",
    );
    fails(
        &["--proc", "write", "--file", "2", "-c1", "-i1", &t],
        1,
        "setup: LOOKUP of file2 in the root directory: NFS3ERR_NOENT (2)",
    );
    // The root handle the export documents, given as hex: fine.
    let root = "6b73663300006b32".to_string() + "0000000000000001";
    json(
        port,
        &["--proc", "getattr", "--root-fh", &root, "-c10", "-i1"],
        1,
        10,
    );
    // A server that does not serve NFSv3 procedures fails setup.
    let null_only = tcp_server(Fault::None);
    fails(
        &["--proc", "getattr", "-c1", "-i1", &target(null_only)],
        1,
        "setup: LOOKUP of file0 in the root directory: expected an accepted SUCCESS \
         reply, got PROC_UNAVAIL",
    );
}

#[test]
fn root_handle_by_mount() {
    let port = nfs_server(export(1, 8192), NfsFault::None);
    let mnt = mount_server("/srv/ksf").to_string();
    let t = target(port);
    let args = [
        "--proc",
        "write",
        "--export",
        "/srv/ksf",
        "--mount-port",
        &mnt,
    ];
    let mut all = args.to_vec();
    all.extend_from_slice(&["-A", "sys", "-c2", "-i1"]);
    json(port, &all, 1, 2);
    fails(
        &[
            "--proc",
            "getattr",
            "--export",
            "/srv/other",
            "--mount-port",
            &mnt,
            "-c1",
            &t,
        ],
        1,
        &format!("setup: MNT of /srv/other at 127.0.0.1:{mnt}: MNT3ERR_NOENT (2)"),
    );
    // Without --mount-port MNT goes to the NFS port, which serves the
    // MOUNT program too (as krpc2) for its one export, "/".
    fails(
        &["--proc", "getattr", "--export", "/srv/ksf", "-c1", &t],
        1,
        &format!("setup: MNT of /srv/ksf at 127.0.0.1:{port}: MNT3ERR_NOENT (2)"),
    );
    json(
        port,
        &["--proc", "getattr", "--export", "/", "-c2", "-i1"],
        1,
        2,
    );
}

#[test]
fn help_documents_nfs() {
    let r = rpctest(&["--help"]);
    assert_eq!(r.code, 0);
    for what in [
        "getattr (1)",
        "--verify-pattern",
        "MB/s",
        "payload_bytes",
        "MBps",
        "'ksf3'",
    ] {
        assert!(r.stdout.contains(what), "{what}");
    }
}
