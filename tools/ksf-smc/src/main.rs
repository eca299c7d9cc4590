// SPDX-License-Identifier: GPL-2.0

//! ksf-smc: the SMC settings and counters of the running kernel over
//! generic netlink (family `SMC_GEN_NETLINK`), and its SMC sockets over
//! sock_diag, for the ksf guest, which has no smc-tools. See `--help`.

#![forbid(unsafe_code)]

mod diag;
mod nl;
mod smc;

use ksf_tools::args::{Arg, Parser, UsageError};
use ksf_tools::common_opts::{self, Command, Tool};
use rustix::fd::OwnedFd;
use rustix::net::netlink::{self as rnl, SocketAddrNetlink};
use rustix::net::{self, AddressFamily, RecvFlags, SendFlags, SocketType};
use Failure::Errno;

const HELP: &str = "\
Usage: ksf-smc COMMAND

The SMC settings and counters of the running kernel, over generic netlink
(the SMC_GEN_NETLINK family; a kernel without CONFIG_SMC has none), and
its SMC sockets over sock_diag (needs CONFIG_SMC_DIAG).

Commands:
  ueid add ID   add the user EID ID (needs CAP_NET_ADMIN). SMC-Dv2, the
                only SMC-D over loopback-ism on x86, needs one: without it
                every SMC connection falls back to TCP (reason NOUEID).
                ID: 1 to 32 of A-Z 0-9 . -, the first A-Z or 0-9
  ueid del ID   remove the user EID ID
  ueid flush    remove every user EID
  ueid list     print the user EIDs, one a line
  devs          print the SMC-D devices, one a line: 'ism PCI_ID chid
                0xCHID pnetid P lgrs N' for each PCI ISM device, and
                'loopback-ism' if the kernel is SMC-Dv2 capable without
                one (the kernel leaves loopback-ism out of its device
                dump; on x86 only loopback-ism makes it SMC-Dv2 capable)
  lgrs          print the SMC-D link groups, one a line: 'lgr ID dev
                loopback-ism|ism chid 0xCHID conns N'
  stats         print counters as 'name value' lines: the SMC-D ones
                (smcd_clnt_v2_succ, smcd_srv_v2_succ, ...), handshake
                errors, then fallbacks of all SMC sockets (srv_fback,
                clnt_fback, and srv_fback_0xCODE, clnt_fback_0xCODE by
                reason code, e.g. 0x03030008 NOUEID, 0x03010000
                PEERNOSMC)
  socks [--inode N]
                print the SMC sockets (AF_SMC and IPPROTO_SMC), one a
                line: 'sock INODE state STATE mode MODE local ADDR:PORT
                peer ADDR:PORT', then ' fallback 0xREASON peer 0xPEERDIAG'
                if the socket has a fallback reason or the peer's decline
                code. STATE: ACTIVE, INIT, CLOSED, LISTEN, PEERCLOSEWAIT1,
                ... (enum smc_state), or its number. MODE: smcd, smcr,
                fallback (TCP), or - (no link group: a listener, a
                socket not connected yet or closed). Addresses and ports
                are those of the internal TCP socket; for IPPROTO_SMC
                sockets Linux gives only the ports (the addresses print
                as 0.0.0.0 or [::]). With --inode N, only the socket of
                inode N (as in /proc/PID/fd: 'socket:[N]'), and exit
                status 1 if there is none

Options:
  -h, --help    print this help
  --version     print the version and the git revision of the build

Counters and sockets are those of the caller's network namespace.

Exit status: 0 success; 1 error (no SMC in the kernel, a netlink error,
no socket of inode N); 2 bad usage.
";

const TOOL: Tool = ksf_tools::tool!(HELP);

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Cmd {
    UeidAdd(String),
    UeidDel(String),
    UeidFlush,
    UeidList,
    Devs,
    Lgrs,
    Stats,
    /// The SMC sockets; only the one of this inode if given.
    Socks(Option<u64>),
}

impl Cmd {
    /// Its name in messages: `ueid add`, `stats`.
    fn name(&self) -> &'static str {
        match self {
            Cmd::UeidAdd(_) => "ueid add",
            Cmd::UeidDel(_) => "ueid del",
            Cmd::UeidFlush => "ueid flush",
            Cmd::UeidList => "ueid list",
            Cmd::Devs => "devs",
            Cmd::Lgrs => "lgrs",
            Cmd::Stats => "stats",
            Cmd::Socks(_) => "socks",
        }
    }
}

/// Parses the command line (without the program name).
fn parse(args: impl IntoIterator<Item = String>) -> Result<Command<Cmd>, UsageError> {
    let mut p = Parser::new(args);
    let mut words = Vec::new();
    let mut inode = None;
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Short('h') => return Ok(Command::Help),
            Arg::Long(l) if l == "help" => return Ok(Command::Help),
            Arg::Long(l) if l == "version" => return Ok(Command::Version),
            Arg::Long(l) if l == "inode" => {
                let v = p.value()?;
                inode = Some(
                    v.parse::<u64>()
                        .map_err(|_| p.error(format!("not an inode number: '{v}'")))?,
                );
            }
            Arg::Positional(w) => words.push(w),
            other => return Err(p.unexpected(&other)),
        }
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let id = |id: &str| {
        smc::check_ueid(id)
            .map(|()| id.to_string())
            .map_err(UsageError)
    };
    if inode.is_some() && words[..] != ["socks"] {
        return Err(UsageError("--inode goes with socks only".into()));
    }
    let cmd = match words[..] {
        ["ueid", "add", i] => Cmd::UeidAdd(id(i)?),
        ["ueid", "del", i] => Cmd::UeidDel(id(i)?),
        ["ueid", "flush"] => Cmd::UeidFlush,
        ["ueid", "list"] => Cmd::UeidList,
        ["devs"] => Cmd::Devs,
        ["lgrs"] => Cmd::Lgrs,
        ["stats"] => Cmd::Stats,
        ["socks"] => Cmd::Socks(inode),
        [] => return Err(UsageError("no command".into())),
        ["ueid", "add" | "del"] => {
            return Err(UsageError(format!("ueid {}: missing ID", words[1])))
        }
        ["ueid", ..] => {
            return Err(UsageError(format!(
                "bad ueid command '{}'",
                words[1..].join(" ")
            )))
        }
        _ => return Err(UsageError(format!("unknown command '{}'", words.join(" ")))),
    };
    Ok(Command::Run(cmd))
}

/// A netlink socket and the sequence number of its last request.
struct Netlink {
    fd: OwnedFd,
    seq: u32,
}

/// Largest datagram read: dumps fill skbs of up to 32 KiB here.
const RECV_BUF: usize = 64 << 10;

impl Netlink {
    /// Opens and binds a netlink socket of protocol `proto`.
    fn open(proto: net::Protocol) -> Result<Netlink, String> {
        let fd = net::socket(AddressFamily::NETLINK, SocketType::RAW, Some(proto))
            .map_err(|e| format!("netlink socket: {e}"))?;
        net::bind(&fd, &SocketAddrNetlink::new(0, 0)).map_err(|e| format!("netlink bind: {e}"))?;
        Ok(Netlink { fd, seq: 0 })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq += 1;
        self.seq
    }

    /// Sends `req` (sequence `seq`) and collects the payloads of the
    /// answers: until `NLMSG_DONE` if `dump`, else until the first data
    /// message or the acknowledgement.
    fn exchange(&self, req: &[u8], seq: u32, dump: bool) -> Result<Vec<Vec<u8>>, Failure> {
        net::sendto(
            &self.fd,
            req,
            SendFlags::empty(),
            &SocketAddrNetlink::new(0, 0),
        )
        .map_err(|e| Failure::Io(format!("netlink send: {e}")))?;
        let mut out = Vec::new();
        let mut buf = vec![0u8; RECV_BUF];
        loop {
            let (n, _) = net::recv(&self.fd, &mut buf[..], RecvFlags::empty())
                .map_err(|e| Failure::Io(format!("netlink receive: {e}")))?;
            for m in nl::messages(&buf[..n]).map_err(Failure::Io)? {
                if m.seq() != seq {
                    continue;
                }
                match m {
                    nl::Msg::Error { errno: 0, .. } => return Ok(out),
                    nl::Msg::Error { errno, .. } => return Err(Errno(errno)),
                    nl::Msg::Done { status, .. } if status < 0 => return Err(Errno(-status)),
                    nl::Msg::Done { .. } => return Ok(out),
                    nl::Msg::Data { payload, .. } => {
                        out.push(payload.to_vec());
                        if !dump {
                            return Ok(out);
                        }
                    }
                }
            }
        }
    }
}

/// A generic netlink socket and the id of the SMC family.
struct Genl {
    nl: Netlink,
    family: u16,
}

impl Genl {
    /// Opens the socket and resolves the SMC family.
    fn open() -> Result<Genl, String> {
        let mut nl = Netlink::open(rnl::GENERIC)?;
        let seq = nl.next_seq();
        let answers = nl
            .exchange(&nl::getfamily_request(seq, smc::FAMILY), seq, false)
            .map_err(|e| match e {
                Errno(e) if e == rustix::io::Errno::NOENT.raw_os_error() => {
                    "no SMC in this kernel (generic netlink family SMC_GEN_NETLINK not found)"
                        .to_string()
                }
                e => format!("resolving {}: {}", smc::FAMILY, e.text()),
            })?;
        let first = answers.first().ok_or("nlctrl gave no answer")?;
        let family = nl::family_id(first)?;
        Ok(Genl { nl, family })
    }

    /// Runs SMC command `cmd` with attributes `attrs`: a dump if `dump`,
    /// else a request acknowledged by the kernel.
    fn call(&mut self, cmd: u8, attrs: &[u8], dump: bool) -> Result<Vec<Vec<u8>>, Failure> {
        let seq = self.nl.next_seq();
        let flags = nl::NLM_F_REQUEST | if dump { nl::NLM_F_DUMP } else { nl::NLM_F_ACK };
        self.nl.exchange(
            &nl::genl_request(self.family, flags, seq, cmd, smc::VERSION, attrs),
            seq,
            dump,
        )
    }
}

/// Why an exchange failed: the kernel's errno, or anything else.
#[derive(Debug)]
enum Failure {
    Errno(i32),
    Io(String),
}

impl Failure {
    fn text(&self) -> String {
        match self {
            Errno(e) => nl::errno_text(*e),
            Failure::Io(s) => s.clone(),
        }
    }
}

/// Applies `f` to every payload and collects the lines.
fn each(ps: &[Vec<u8>], f: fn(&[u8]) -> Result<String, String>) -> Result<Vec<String>, Failure> {
    ps.iter()
        .map(|p| f(p))
        .collect::<Result<_, _>>()
        .map_err(Failure::Io)
}

/// Runs `cmd` on `g`; the lines to print.
fn execute(g: &mut Genl, cmd: &Cmd) -> Result<Vec<String>, Failure> {
    let none = |_| Vec::new();
    match cmd {
        Cmd::UeidAdd(id) => g.call(smc::ADD_UEID, &smc::ueid_attrs(id), false).map(none),
        Cmd::UeidDel(id) => g
            .call(smc::REMOVE_UEID, &smc::ueid_attrs(id), false)
            .map(none),
        Cmd::UeidFlush => g.call(smc::FLUSH_UEID, &[], false).map(none),
        Cmd::UeidList => each(&g.call(smc::DUMP_UEID, &[], true)?, smc::ueid_of),
        Cmd::Devs => {
            let mut devs = each(&g.call(smc::GET_DEV_SMCD, &[], true)?, smc::dev_line)?;
            let sys = g.call(smc::GET_SYS_INFO, &[], true)?;
            let v2 = sys
                .first()
                .map(|p| smc::ism_v2(p))
                .transpose()
                .map_err(Failure::Io)?;
            if devs.is_empty() && v2 == Some(true) {
                devs.push("loopback-ism".to_string());
            }
            Ok(devs)
        }
        Cmd::Lgrs => each(&g.call(smc::GET_LGR_SMCD, &[], true)?, smc::lgr_line),
        Cmd::Stats => {
            let stats = g.call(smc::GET_STATS, &[], true)?;
            let first = stats
                .first()
                .ok_or(Failure::Io("no statistics in the answer".into()))?;
            let mut lines = smc::stats_lines(first).map_err(Failure::Io)?;
            let mut fb = smc::Fallbacks::default();
            for p in g.call(smc::GET_FBACK_STATS, &[], true)? {
                fb.add(&p).map_err(Failure::Io)?;
            }
            lines.extend(fb.lines());
            Ok(lines)
        }
        Cmd::Socks(_) => unreachable!("socks runs over sock_diag, see run()"),
    }
}

/// The lines of `socks`: every SMC socket of the netns, or the one of
/// inode `only` (an error if there is none).
fn socks(only: Option<u64>) -> Result<Vec<String>, Failure> {
    let mut sd = Netlink::open(rnl::SOCK_DIAG).map_err(Failure::Io)?;
    let seq = sd.next_seq();
    let answers = sd
        .exchange(&diag::dump_request(seq), seq, true)
        .map_err(|e| match e {
            // No sock_diag handler for AF_SMC (sock_diag.c:
            // __sock_diag_cmd).
            Errno(e) if e == rustix::io::Errno::NOENT.raw_os_error() => {
                Failure::Io("this kernel has no SMC diagnostics (CONFIG_SMC_DIAG)".into())
            }
            e => e,
        })?;
    let mut lines = Vec::new();
    for p in &answers {
        let s = diag::sock(p).map_err(Failure::Io)?;
        if only.is_none_or(|i| i == s.inode) {
            lines.push(s.line());
        }
    }
    match only {
        Some(i) if lines.is_empty() => Err(Failure::Io(format!("no SMC socket of inode {i}"))),
        _ => Ok(lines),
    }
}

fn run(cmd: Cmd) -> Result<i32, String> {
    let lines = if let Cmd::Socks(only) = cmd {
        socks(only)
    } else {
        execute(&mut Genl::open()?, &cmd)
    }
    .map_err(|e| format!("{}: {}", cmd.name(), e.text()))?;
    for l in lines {
        println!("{l}");
    }
    Ok(0)
}

fn main() {
    let mut args = std::env::args();
    args.next();
    std::process::exit(common_opts::exit_status(TOOL, parse(args), run))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Cmd, String> {
        common_opts::outcome(parse(args.iter().map(|s| s.to_string())))
    }

    #[test]
    fn commands() {
        assert_eq!(
            p(&["ueid", "add", "KSF-1"]).unwrap(),
            Cmd::UeidAdd("KSF-1".into())
        );
        assert_eq!(
            p(&["ueid", "del", "KSF-1"]).unwrap(),
            Cmd::UeidDel("KSF-1".into())
        );
        assert_eq!(p(&["ueid", "flush"]).unwrap(), Cmd::UeidFlush);
        assert_eq!(p(&["ueid", "list"]).unwrap(), Cmd::UeidList);
        assert_eq!(p(&["devs"]).unwrap(), Cmd::Devs);
        assert_eq!(p(&["lgrs"]).unwrap(), Cmd::Lgrs);
        assert_eq!(p(&["stats"]).unwrap(), Cmd::Stats);
        assert_eq!(p(&["socks"]).unwrap(), Cmd::Socks(None));
        assert_eq!(
            p(&["socks", "--inode", "4242"]).unwrap(),
            Cmd::Socks(Some(4242))
        );
        assert_eq!(p(&["--inode=7", "socks"]).unwrap(), Cmd::Socks(Some(7)));
        assert_eq!(p(&["--help"]).unwrap_err(), "help");
        assert_eq!(p(&["--version"]).unwrap_err(), "version");
    }

    #[test]
    fn bad_usage() {
        assert_eq!(p(&[]).unwrap_err(), "no command");
        assert_eq!(p(&["ueid", "add"]).unwrap_err(), "ueid add: missing ID");
        assert!(p(&["ueid", "add", "lower"]).unwrap_err().contains("A-Z"));
        assert!(p(&["ueid", "add", "A", "B"])
            .unwrap_err()
            .contains("bad ueid command"));
        assert!(p(&["ueid"]).is_err());
        assert!(p(&["stats", "x"]).unwrap_err().contains("unknown command"));
        assert!(p(&["-x"]).is_err());
        assert!(p(&["socks", "x"]).unwrap_err().contains("unknown command"));
        assert!(p(&["socks", "--inode"])
            .unwrap_err()
            .contains("requires a value"));
        assert!(p(&["socks", "--inode", "12k"])
            .unwrap_err()
            .contains("not an inode number"));
        assert_eq!(
            p(&["stats", "--inode", "1"]).unwrap_err(),
            "--inode goes with socks only"
        );
    }

    #[test]
    fn help_lists_every_command() {
        for c in [
            "ueid add",
            "ueid list",
            "devs",
            "lgrs",
            "stats",
            "socks [--inode N]",
        ] {
            assert!(HELP.contains(&format!("  {c}")), "{c}");
        }
    }
}
