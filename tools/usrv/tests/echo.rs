// SPDX-License-Identifier: GPL-2.0

//! usrv --proto echo echoes like kecho, with each model.

mod common;

use common::*;
use rustix::process::Signal;
use std::io::{Read, Write};
use std::net::UdpSocket;
use std::time::Duration;

#[test]
fn one_mib_byte_exact_and_udp() {
    for model in MODELS {
        let Some(srv) = start(model, "echo", &[]) else {
            continue;
        };
        let data: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7 + i / 251) as u8).collect();
        let mut s = srv.connect();
        let mut w = s.try_clone().unwrap();
        let sent = data.clone();
        let writer = std::thread::spawn(move || {
            for c in sent.chunks(10_000) {
                w.write_all(c).unwrap();
            }
        });
        let mut back = vec![0u8; data.len()];
        s.read_exact(&mut back).unwrap();
        writer.join().unwrap();
        assert!(back == data, "{model}: echo differs");
        // The server closes when the client does.
        s.shutdown(std::net::Shutdown::Write).unwrap();
        expect_closed(&mut s);

        let u = UdpSocket::bind("127.0.0.1:0").unwrap();
        u.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        u.connect(("127.0.0.1", srv.port)).unwrap();
        let mut buf = vec![0u8; 70_000];
        for len in [1, 100, 60_000] {
            u.send(&data[..len]).unwrap();
            let n = u.recv(&mut buf).unwrap();
            assert!(buf[..n] == data[..len], "{model}: UDP echo of {len}");
        }
        assert_eq!(srv.stop(Signal::INT), Some(0), "{model}: clean exit");
    }
}
