// SPDX-License-Identifier: GPL-2.0

//! Command line of usrv.

use ksf_tools::args::{Arg, Parser, UsageError};

pub const HELP: &str = "\
Usage: usrv [OPTIONS]

User-space reference servers for comparison with ksf's in-kernel ones:
  --proto echo  echoes every byte, like kecho (default port 60007);
  --proto rpc   answers ONC RPC calls to NFS (program 100003) like krpc2:
                NULL succeeds, other procedures get PROC_UNAVAIL, versions
                outside --vers-min..--vers-max get PROG_MISMATCH (default
                port 62049). A record over --max-record, an empty record, a
                reply or a record too short for a call closes the connection.
  --proto mount answers the MOUNT protocol (program 100005, version 3) for
                one export, a stand-in for rpc.mountd in front of an NFS
                server that has none (knfsd set up by ksf-knfsd): MNT of
                --export gives --root-fh and the flavors AUTH_UNIX and
                AUTH_NONE, of any other path MNT3ERR_NOENT; UMNT answers;
                other procedures get PROC_UNAVAIL (default port 20048).
Each thread has its own listening socket (SO_REUSEPORT) and event loop and
is pinned to one CPU. IPv6 and IPv4 ([::], dual stack).

Options:
  --model M       event loop: epoll or uring (io_uring) [epoll]
  --proto P       rpc, echo or mount [rpc]
  -p, --port N    port [62049 for rpc, 60007 for echo, 20048 for mount]; 0
                  picks a free one
  --root-fh HEX   mount: the export's root handle (1 to 64 bytes, in hex)
  --export PATH   mount: the export's path [/]
  --threads N     threads [one per online CPU, max 1024]
  --udp           also serve UDP on the same port
  --max-record N  largest RPC record in bytes [4096, 64..1m]
  --vers-min N    lowest NFS version served [3, 2..4]
  --vers-max N    highest NFS version served [3, 2..4]
  -v              verbose: the port, threads and I/O mode chosen, on stderr
  -h, --help      print this help
  --version       print the version and the git revision of the build

Numbers take suffixes k/m/g (2^10, 2^20, 2^30) and K/M/G (10^3, 10^6, 10^9).
USRV_NO_BUNDLE=1 in the environment makes the uring model use single-buffer
receives even where the kernel offers receive bundles (Linux 6.10 and later).
SIGINT and SIGTERM stop the server (exit status 0).

Exit status: 0 stopped by a signal; 1 runtime error (bind failed, io_uring
unavailable, ...); 2 bad usage.
";

/// The event loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    Epoll,
    Uring,
}

/// The protocol served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Rpc,
    Echo,
    Mount,
}

/// Everything the command line sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opts {
    pub model: Model,
    pub proto: Proto,
    pub port: u16,
    /// 0: one per online CPU.
    pub threads: usize,
    pub udp: bool,
    pub max_record: u32,
    pub vers_min: u32,
    pub vers_max: u32,
    pub verbose: bool,
    /// `--proto mount`: the export's path and root handle.
    pub export: String,
    pub root_fh: Vec<u8>,
}

use ksf_tools::common_opts::Command;

/// Parses the arguments (without the program name).
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command<Opts>, UsageError> {
    let mut p = Parser::new(args);
    let mut o = Opts {
        model: Model::Epoll,
        proto: Proto::Rpc,
        port: 0,
        threads: 0,
        udp: false,
        max_record: 4096,
        vers_min: 3,
        vers_max: 3,
        verbose: false,
        export: "/".to_string(),
        root_fh: Vec::new(),
    };
    let mut port = None;
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Short('h') => return Ok(Command::Help),
            Arg::Long(ref l) if l == "help" => return Ok(Command::Help),
            Arg::Long(ref l) if l == "version" => return Ok(Command::Version),
            Arg::Short('v') => o.verbose = true,
            Arg::Short('p') => port = Some(p.num(0, 65535)? as u16),
            Arg::Long(l) => match l.as_str() {
                "port" => port = Some(p.num(0, 65535)? as u16),
                "model" => {
                    o.model = match p.value()?.as_str() {
                        "epoll" => Model::Epoll,
                        "uring" | "io_uring" => Model::Uring,
                        v => return Err(p.error(format!("unknown model '{v}' (epoll, uring)"))),
                    }
                }
                "proto" => {
                    o.proto = match p.value()?.as_str() {
                        "rpc" => Proto::Rpc,
                        "echo" => Proto::Echo,
                        "mount" => Proto::Mount,
                        v => {
                            return Err(
                                p.error(format!("unknown protocol '{v}' (rpc, echo, mount)"))
                            )
                        }
                    }
                }
                "threads" => o.threads = p.num(1, 1024)? as usize,
                "udp" => o.udp = true,
                "max-record" => o.max_record = p.num(64, 1 << 20)? as u32,
                "vers-min" => o.vers_min = p.num(2, 4)? as u32,
                "vers-max" => o.vers_max = p.num(2, 4)? as u32,
                "export" => o.export = p.value()?,
                "root-fh" => {
                    let v = p.value()?;
                    o.root_fh =
                        hex(&v)
                            .filter(|h| (1..=64).contains(&h.len()))
                            .ok_or_else(|| {
                                p.error(format!("bad --root-fh '{v}' (1 to 64 bytes in hex)"))
                            })?;
                }
                _ => return Err(p.unexpected(&Arg::Long(l))),
            },
            other => return Err(p.unexpected(&other)),
        }
    }
    if o.vers_max < o.vers_min {
        return Err(UsageError(format!(
            "--vers-max {} is below --vers-min {}",
            o.vers_max, o.vers_min
        )));
    }
    if (o.proto == Proto::Mount) == o.root_fh.is_empty() {
        return Err(UsageError(
            "--root-fh goes with --proto mount, and --proto mount needs it".to_string(),
        ));
    }
    if o.export.len() > 1024 {
        return Err(UsageError("--export is over 1024 bytes".to_string()));
    }
    o.port = port.unwrap_or(match o.proto {
        Proto::Rpc => 62049,
        Proto::Echo => 60007,
        Proto::Mount => 20048,
    });
    Ok(Command::Run(o))
}

/// The bytes of an even number of hex digits.
fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Opts, String> {
        ksf_tools::common_opts::outcome(parse(args.iter().map(|s| s.to_string())))
    }

    #[test]
    fn defaults_and_ports() {
        let o = run(&[]).unwrap();
        assert_eq!(
            (o.model, o.proto, o.port, o.threads),
            (Model::Epoll, Proto::Rpc, 62049, 0)
        );
        assert_eq!(
            (o.max_record, o.vers_min, o.vers_max, o.udp),
            (4096, 3, 3, false)
        );
        assert_eq!(run(&["--proto", "echo"]).unwrap().port, 60007);
        assert_eq!(run(&["--proto=echo", "-p0"]).unwrap().port, 0);
        let o = run(&[
            "--model=uring",
            "--threads",
            "4",
            "--udp",
            "--max-record",
            "1k",
        ])
        .unwrap();
        assert_eq!(
            (o.model, o.threads, o.udp, o.max_record),
            (Model::Uring, 4, true, 1024)
        );
    }

    #[test]
    fn errors() {
        assert_eq!(run(&["-h"]), Err("help".into()));
        assert!(run(&["--model", "poll"])
            .unwrap_err()
            .contains("unknown model"));
        assert!(run(&["--vers-min", "4", "--vers-max", "3"]).is_err());
        assert!(run(&["--threads", "0"]).is_err());
        assert!(run(&["--max-record", "10"]).is_err());
        assert!(run(&["-p", "70000"]).is_err());
        assert!(run(&["host"]).unwrap_err().contains("unexpected argument"));
        assert!(run(&["--proto", "mount"]).is_err());
        assert!(run(&["--root-fh", "01"]).is_err());
        assert!(run(&["--proto", "mount", "--root-fh", "0"]).is_err());
        assert!(run(&["--proto", "mount", "--root-fh", "zz"]).is_err());
    }

    #[test]
    fn mount() {
        let o = run(&["--proto", "mount", "--root-fh", "0100010001000000"]).unwrap();
        assert_eq!(
            (o.proto, o.port, o.export.as_str()),
            (Proto::Mount, 20048, "/")
        );
        assert_eq!(o.root_fh, [1, 0, 1, 0, 1, 0, 0, 0]);
        let o = run(&[
            "--proto=mount",
            "--root-fh=ab",
            "--export",
            "/export",
            "-p",
            "1",
        ])
        .unwrap();
        assert_eq!(
            (o.root_fh.as_slice(), o.export.as_str(), o.port),
            (&[0xab][..], "/export", 1)
        );
    }
}
