// SPDX-License-Identifier: GPL-2.0

//! pingpong: the floor of a TCP round trip for `make bench`.
//!
//! A server thread and a client thread exchange one message at a time
//! with blocking reads and writes and nothing else: no poll, no event
//! loop, no verification beyond a sequence number. No server can answer a
//! round trip over the same loopback faster than this. See `--help`.

#![forbid(unsafe_code)]

mod opts;

use ksf_tools::common_opts::{self, Tool};
use ksf_tools::cpu::{monotonic_ns, pin_current_thread, thread_cpu_ns};
use ksf_tools::jobs::{connect_stream, io_text, listen_stream};
use ksf_tools::json::{self, Iteration, Shape};
use ksf_tools::msg_table::MsgTable;
use ksf_tools::output::Output;
use ksf_tools::target::resolve;
use ksf_tools::Histogram;
use opts::{Opts, HELP};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// The tool, for its messages, `--help` and `--version`.
const TOOL: Tool = ksf_tools::tool!(HELP);

fn main() {
    common_opts::main(TOOL, opts::parse, |o| run(&o).map(|()| 0))
}

fn pin(cpu: Option<usize>, who: &str) -> Result<(), String> {
    match cpu {
        Some(c) => {
            pin_current_thread(c).map_err(|e| format!("cannot pin the {who} to CPU {c}: {e}"))
        }
        None => Ok(()),
    }
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` on end of file before the
/// first byte.
fn read_msg(s: &mut TcpStream, buf: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match s.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Echoes `size`-byte messages on `s` until the peer closes.
fn serve_conn(mut s: TcpStream, size: usize) -> io::Result<()> {
    s.set_nodelay(true)?;
    let mut buf = vec![0u8; size];
    while read_msg(&mut s, &mut buf)? {
        s.write_all(&buf)?;
    }
    Ok(())
}

/// The server: blocking accept, then one connection at a time; only the
/// first with `once`.
fn serve(l: TcpListener, size: usize, once: bool) {
    loop {
        match l.accept() {
            Ok((s, _)) => {
                if let Err(e) = serve_conn(s, size) {
                    eprintln!("pingpong: server: {e}");
                }
            }
            Err(e) => eprintln!("pingpong: server: accept: {e}"),
        }
        if once {
            return;
        }
    }
}

/// What a client-side socket error means.
fn client_error(e: io::Error, timeout_ms: u64) -> String {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            format!("timeout: no progress within {timeout_ms} ms")
        }
        io::ErrorKind::UnexpectedEof => "connection closed by the server".to_string(),
        _ => io_text(&e, "echo"),
    }
}

/// One iteration: `count` round trips, latencies in `hist`.
fn iterate(s: &mut TcpStream, o: &Opts, seq: &mut u64, hist: &mut Histogram) -> Result<(), String> {
    let mut out = vec![0x5au8; o.size];
    let mut back = vec![0u8; o.size];
    let tag = o.size.min(8);
    for _ in 0..o.count {
        *seq += 1;
        out[..tag].copy_from_slice(&seq.to_le_bytes()[..tag]);
        let t = monotonic_ns();
        s.write_all(&out)
            .map_err(|e| client_error(e, o.timeout_ms))?;
        match read_msg(s, &mut back) {
            Ok(true) => {}
            Ok(false) => return Err("connection closed by the server".to_string()),
            Err(e) => return Err(client_error(e, o.timeout_ms)),
        }
        hist.record(monotonic_ns() - t);
        if back[..tag] != out[..tag] {
            return Err(format!(
                "wrong echo of message {seq}: sent {:02x?}, got {:02x?}",
                &out[..tag],
                &back[..tag]
            ));
        }
    }
    Ok(())
}

/// The output `o` asks for: the message table, or JSON lines.
fn output(o: &Opts) -> Box<dyn Output> {
    if o.json {
        return Box::new(json::Report::new(Shape {
            tool: TOOL.name,
            jobs: 1,
            inflight: 1,
            conns: None,
            len: Some(o.size),
            quantiles: o.quantiles.clone(),
        }));
    }
    Box::new(MsgTable::new(
        &[("len", 7, o.size.to_string())],
        &o.quantiles,
        false,
        false,
    ))
}

fn run(o: &Opts) -> Result<(), String> {
    let (client_cpu, server_cpu) = match o.cpus {
        Some((c, s)) => (Some(c), Some(s)),
        None => (None, None),
    };
    let transport = o.transport();
    if o.server_only {
        let any = |ip: &str| SocketAddr::new(ip.parse().unwrap(), o.port);
        let l = listen_stream(any("::"), transport)
            .or_else(|_| listen_stream(any("0.0.0.0"), transport))
            .map_err(|e| format!("cannot listen on {} port {}: {e}", transport.name(), o.port))?;
        let port = l.local_addr().map_err(|e| e.to_string())?.port();
        pin(server_cpu, "server")?;
        println!("listening on {port}");
        let _ = io::stdout().flush();
        serve(l, o.size, false);
        return Ok(());
    }

    let timeout = Duration::from_millis(o.timeout_ms);
    let addr = match &o.target {
        Some((host, port)) => resolve(host, *port)?,
        None => {
            let l = listen_stream("127.0.0.1:0".parse().unwrap(), transport)
                .map_err(|e| format!("cannot listen on 127.0.0.1 ({}): {e}", transport.name()))?;
            let addr = l.local_addr().map_err(|e| e.to_string())?;
            let size = o.size;
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::Builder::new()
                .name("pingpong-server".into())
                .spawn(move || {
                    let pinned = pin(server_cpu, "server");
                    let ok = pinned.is_ok();
                    let _ = tx.send(pinned);
                    if ok {
                        serve(l, size, true);
                    }
                })
                .map_err(|e| format!("cannot start the server thread: {e}"))?;
            rx.recv()
                .map_err(|_| "the server thread ended".to_string())??;
            addr
        }
    };
    pin(client_cpu, "client")?;
    let mut s = connect_stream(addr, transport, timeout).map_err(|e| {
        format!(
            "cannot connect to {addr} ({}): {}",
            transport.name(),
            client_error(e, o.timeout_ms)
        )
    })?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;

    let mut report = output(o);
    let mut out = io::stdout().lock();
    if let Some(h) = report.header().filter(|_| o.header) {
        let _ = writeln!(out, "{h}");
    }
    let mut seq = 0u64;
    for it in 1..=o.iters {
        let mut hist = Histogram::new();
        let (t0, c0) = (monotonic_ns(), thread_cpu_ns());
        iterate(&mut s, o, &mut seq, &mut hist)?;
        let (ns, cpu_ns) = (monotonic_ns() - t0, thread_cpu_ns() - c0);
        let i = Iteration {
            ops: hist.count(),
            ns,
            cpu_ns,
            bytes: hist.count() * o.size as u64,
            errors: 0,
            hist,
            syscalls: None,
            payload: None,
        };
        let _ = writeln!(out, "{}", report.add(it, &i));
        let _ = out.flush();
    }
    if let Some(row) = report.summary() {
        let _ = writeln!(out, "{row}");
    }
    let _ = out.flush();
    Ok(())
}
