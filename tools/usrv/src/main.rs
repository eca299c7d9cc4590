// SPDX-License-Identifier: GPL-2.0

//! usrv: user-space echo and ONC RPC (NFS NULL) servers that answer
//! exactly like ksf's kecho and krpc2, over epoll or io_uring, for
//! comparing the in-kernel servers with user space. See `--help`.
//!
//! Each thread owns a TCP listener (SO_REUSEPORT, so the kernel spreads
//! connections over the threads), optionally a UDP socket, and its event
//! loop; it is pinned to one CPU. The main thread waits for SIGINT or
//! SIGTERM, then sets [`STOP`] and wakes the threads through an eventfd.

mod bufring;
mod echo;
mod epoll;
mod opts;
mod rpc;
mod service;
mod sock;
mod udp;
mod uring;

use ksf_tools::common_opts::{self, Tool};
use opts::{Model, Opts, HELP};
use rustix::process::{getpid, kill_process, Signal};
use service::Service;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Set when the server is to stop.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// What one thread serves.
pub struct Worker {
    pub index: usize,
    pub listener: OwnedFd,
    pub udp: Option<OwnedFd>,
    /// The stop eventfd (readable once stopping; never read).
    pub wake: Arc<OwnedFd>,
    pub svc: Service,
    pub verbose: bool,
}

/// The tool, for its messages, `--help` and `--version`.
const TOOL: Tool = ksf_tools::tool!(HELP);

fn main() {
    common_opts::main(TOOL, opts::parse, |o| {
        run(&o).map(|()| 0).map_err(|e| e.to_string())
    })
}

/// Blocks SIGINT and SIGTERM in the calling thread (and the threads it
/// starts afterwards); the set, for `sigwait`.
fn block_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is initialised by sigemptyset before use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

fn run(o: &Opts) -> io::Result<()> {
    let sigs = block_signals();
    let cpus = ksf_tools::cpu::allowed_cpus().unwrap_or_default();
    let threads = match o.threads {
        // SAFETY: sysconf only reads a system setting.
        0 => match unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) } {
            n if n > 0 => n as usize,
            _ => 1,
        },
        n => n,
    };
    if o.model == Model::Uring {
        uring::probe(o.verbose)?;
    }
    let svc = Service::new(o);
    let wake = Arc::new(sock::eventfd()?);
    let mut port = o.port;
    let mut workers = Vec::with_capacity(threads);
    for index in 0..threads {
        let (listener, p) = sock::listen_tcp(port)
            .map_err(|e| io::Error::new(e.kind(), format!("TCP port {port}: {e}")))?;
        port = p;
        let udp = match o.udp {
            true => Some(
                sock::bind_udp(port)
                    .map_err(|e| io::Error::new(e.kind(), format!("UDP port {port}: {e}")))?,
            ),
            false => None,
        };
        workers.push(Worker {
            index,
            listener,
            udp,
            wake: Arc::clone(&wake),
            svc,
            verbose: o.verbose,
        });
    }
    if o.verbose {
        eprintln!(
            "usrv: {} {} listening on port {port} ({}), {threads} threads",
            match o.model {
                Model::Epoll => "epoll",
                Model::Uring => "uring",
            },
            match o.proto {
                opts::Proto::Rpc => "rpc",
                opts::Proto::Echo => "echo",
                opts::Proto::Mount => "mount",
            },
            if o.udp { "TCP and UDP" } else { "TCP" }
        );
    }
    let mut handles = Vec::new();
    for w in workers {
        let cpu = (!cpus.is_empty()).then(|| cpus[w.index % cpus.len()]);
        let model = o.model;
        let h = std::thread::Builder::new()
            .name(format!("usrv-{}", w.index))
            .spawn(move || {
                if let Some(cpu) = cpu {
                    let _ = ksf_tools::cpu::pin_current_thread(cpu);
                }
                let index = w.index;
                let r = match model {
                    Model::Epoll => epoll::run(w),
                    Model::Uring => uring::run(w),
                };
                if let Err(e) = &r {
                    eprintln!("usrv: thread {index}: {e}");
                    // Wakes the main thread, which stops the others.
                    let _ = kill_process(getpid(), Signal::TERM);
                }
                r
            })?;
        handles.push(h);
    }
    let mut sig: libc::c_int = 0;
    // SAFETY: a valid, initialised set and an out pointer.
    unsafe { libc::sigwait(&sigs, &mut sig) };
    STOP.store(true, Ordering::SeqCst);
    let _ = rustix::io::write(&*wake, &1u64.to_ne_bytes());
    let mut failed = None;
    for h in handles {
        if let Ok(Err(e)) = h.join() {
            failed = Some(e);
        }
    }
    if o.verbose {
        eprintln!("usrv: stopped by signal {sig}");
    }
    failed.map_or(Ok(()), Err)
}
