// SPDX-License-Identifier: GPL-2.0

//! usrv --proto rpc answers like krpc2, with each model.

mod common;

use common::*;
use ksf_proto::rm::Mark;
use ksf_proto::rpc::AcceptStat;
use rustix::process::Signal;
use std::io::Write;
use std::net::UdpSocket;
use std::time::Duration;

fn each(extra: &[&str], f: impl Fn(&Server)) {
    for model in MODELS {
        if let Some(s) = start(model, "rpc", extra) {
            f(&s);
            assert_eq!(s.stop(Signal::TERM), Some(0), "{model}: clean exit");
        }
    }
}

#[test]
fn null_sync_pipelined_and_split() {
    each(&[], |srv| {
        let mut s = srv.connect();
        for xid in 1..=10 {
            s.write_all(&call(xid, 3, 0)).unwrap();
            expect_null(&mut s, xid);
        }
        let many: Vec<u8> = (100..200).flat_map(|x| call(x, 3, 0)).collect();
        s.write_all(&many).unwrap();
        for xid in 100..200 {
            expect_null(&mut s, xid);
        }
        let three: Vec<u8> = (300..303).flat_map(|x| call(x, 3, 0)).collect();
        for b in three.chunks(1) {
            s.write_all(b).unwrap();
        }
        for xid in 300..303 {
            expect_null(&mut s, xid);
        }
    });
}

#[test]
fn fragments_and_errors() {
    each(&[], |srv| {
        let mut s = srv.connect();
        // A NULL call in 8-byte fragments (5 fragments).
        let body = call_body(7, 3, 0);
        let mut frag = Vec::new();
        for (i, c) in body.chunks(8).enumerate() {
            let last = (i + 1) * 8 >= body.len();
            frag.extend_from_slice(&Mark::new(c.len(), last).unwrap().encode());
            frag.extend_from_slice(c);
        }
        s.write_all(&frag).unwrap();
        expect_null(&mut s, 7);
        s.write_all(&call(8, 4, 0)).unwrap();
        let rec = read_record(&mut s).unwrap();
        assert_eq!(
            stat(&rec),
            (8, AcceptStat::ProgMismatch { low: 3, high: 3 })
        );
        s.write_all(&call(9, 3, 1)).unwrap();
        assert_eq!(
            stat(&read_record(&mut s).unwrap()),
            (9, AcceptStat::ProcUnavail)
        );
    });
}

#[test]
fn bad_records_close_only_their_connection() {
    each(&[], |srv| {
        let mut good = srv.connect();
        let mut reply = call_body(5, 3, 0);
        reply[4..8].copy_from_slice(&1u32.to_be_bytes());
        let bad: [Vec<u8>; 3] = [
            Mark::new(5000, true).unwrap().encode().to_vec(),
            [
                Mark::new(reply.len(), true).unwrap().encode().to_vec(),
                reply,
            ]
            .concat(),
            Mark::new(0, true).unwrap().encode().to_vec(),
        ];
        for (i, b) in bad.iter().enumerate() {
            let mut s = srv.connect();
            // A good call first: its reply still goes out.
            s.write_all(&[call(1, 3, 0), b.clone()].concat()).unwrap();
            expect_null(&mut s, 1);
            expect_closed(&mut s);
            good.write_all(&call(i as u32, 3, 0)).unwrap();
            expect_null(&mut good, i as u32);
        }
    });
}

#[test]
fn udp_and_options() {
    each(
        &["--vers-min", "2", "--vers-max", "4", "--max-record", "64"],
        |srv| {
            let u = UdpSocket::bind("127.0.0.1:0").unwrap();
            u.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            u.connect(("127.0.0.1", srv.port)).unwrap();
            let mut buf = [0u8; 256];
            for (xid, vers, want) in [
                (1, 3, SUCCESS),
                (2, 4, SUCCESS),
                (3, 5, AcceptStat::ProgMismatch { low: 2, high: 4 }),
            ] {
                u.send(&call_body(xid, vers, 0)).unwrap();
                let n = u.recv(&mut buf).unwrap();
                assert_eq!(stat(&buf[..n]), (xid, want), "{}", srv.model);
            }
            // --max-record 64: a 100-byte record closes the connection.
            let mut s = srv.connect();
            s.write_all(&Mark::new(100, true).unwrap().encode())
                .unwrap();
            expect_closed(&mut s);
        },
    );
}

#[test]
fn backpressure_then_all_replies() {
    each(&[], |srv| {
        // 20000 calls (880 KB) sent while nothing is read: the server stops
        // reading when its replies cannot go out, then answers them all.
        let mut s = srv.connect();
        let mut w = s.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            let all: Vec<u8> = (0..20_000).flat_map(|x| call(x, 3, 0)).collect();
            w.write_all(&all).unwrap();
        });
        std::thread::sleep(Duration::from_millis(200));
        for xid in 0..20_000 {
            expect_null(&mut s, xid);
        }
        writer.join().unwrap();
    });
}
