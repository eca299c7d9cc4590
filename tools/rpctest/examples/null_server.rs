// SPDX-License-Identifier: GPL-2.0

//! A user-space RPC NULL server (NFSv3 NULL, with krpc2's policy) on
//! 127.0.0.1, TCP and UDP, to try rpctest without the kernel module:
//!
//! ```text
//! cargo run --release -p rpctest --example null_server -- 62050 &
//! rpctest -a16 127.0.0.1:62050
//! ```
//!
//! It is the correct server of the integration tests.

#[path = "../tests/common/server.rs"]
mod server;

use server::{tcp_server_on, udp_server_on, Fault};

fn main() {
    let port: u16 = match std::env::args().nth(1).map(|p| p.parse()) {
        None => 62050,
        Some(Ok(p)) => p,
        Some(Err(_)) => {
            eprintln!("usage: null_server [PORT]");
            std::process::exit(2);
        }
    };
    let tcp = tcp_server_on(port, Fault::None);
    udp_server_on(tcp, Fault::None);
    eprintln!("null_server: NFSv3 NULL on 127.0.0.1:{tcp}, TCP and UDP");
    loop {
        std::thread::park();
    }
}
