// SPDX-License-Identifier: GPL-2.0

//! The command line: a subcommand, its options and the target.

use crate::help;
use ksf_tools::args::{Arg, Parser, UsageError};
pub use ksf_tools::jobs::Transport;
use ksf_tools::target::split_target;
use std::time::Duration;

/// The protocol of the service under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// krpc2: ONC RPC NFS NULL calls over TCP record marking.
    Rpc,
    /// kecho: every byte comes back.
    Echo,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Rpc => "rpc",
            Proto::Echo => "echo",
        }
    }

    /// The service's default port.
    pub fn port(self) -> u16 {
        match self {
            Proto::Rpc => 62049,
            Proto::Echo => 60007,
        }
    }
}

/// The subcommands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sub {
    Fuzz,
    Hold,
    Churn,
    Reset,
    HalfClose,
    NoRead,
    Flood,
    Slowloris,
    Idle,
}

impl Sub {
    pub const ALL: [Sub; 9] = [
        Sub::Fuzz,
        Sub::Hold,
        Sub::Churn,
        Sub::Reset,
        Sub::HalfClose,
        Sub::NoRead,
        Sub::Flood,
        Sub::Slowloris,
        Sub::Idle,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Sub::Fuzz => "fuzz",
            Sub::Hold => "hold",
            Sub::Churn => "churn",
            Sub::Reset => "reset",
            Sub::HalfClose => "halfclose",
            Sub::NoRead => "noread",
            Sub::Flood => "flood",
            Sub::Slowloris => "slowloris",
            Sub::Idle => "idle",
        }
    }

    /// The subcommand's own long options.
    fn options(self) -> &'static [&'static str] {
        match self {
            Sub::Fuzz => &[
                "conns",
                "records",
                "batch",
                "keep-going",
                "max-record",
                "max-message",
                "lossy-close",
            ],
            Sub::Hold => &["conns", "secs"],
            Sub::Churn => &["cycles", "jobs"],
            Sub::Reset => &["count", "conns"],
            Sub::HalfClose => &["count", "calls", "conns"],
            Sub::NoRead => &["conns", "secs", "max-unread"],
            Sub::Flood => &["attempts", "procs", "hold-secs", "send-partial"],
            Sub::Slowloris => &["conns", "interval-secs", "expect-close-secs"],
            Sub::Idle => &["conns", "valid-first", "expect-close-secs"],
        }
    }
}

impl Opts {
    /// The server's export, if it has one.
    pub fn export(&self) -> Option<crate::model::Nfs> {
        (self.files > 0).then_some(crate::model::Nfs {
            files: self.files,
            file_size: self.file_size,
            max_io: self.max_io,
        })
    }
}

/// Everything the command line sets; each subcommand reads its part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opts {
    pub sub: Sub,
    pub host: String,
    pub port: u16,
    pub proto: Proto,
    /// `--smc`: every connection is an SMC socket ([`ksf_tools::smc`]):
    /// SMC-D to a server in this OS that speaks SMC, TCP by fallback
    /// otherwise. Else TCP.
    pub transport: Transport,
    pub timeout: Duration,
    /// The seed, and whether it was given (else it comes from the clock).
    pub seed: u64,
    pub seed_given: bool,
    pub verbose: bool,
    /// The good client: calls (or round trips) and connections per check.
    pub good_calls: usize,
    pub good_conns: usize,
    pub check_cmd: Option<String>,
    pub stall_cmd: Option<String>,
    pub max_record: u32,
    /// The server's NFSv3 export (krpc2's `files`, `file_size`, `max_io`):
    /// none when `files` is 0.
    pub files: u32,
    pub file_size: u64,
    pub max_io: u32,
    /// Echo fuzzing: the largest message.
    pub max_message: usize,
    pub conns: usize,
    pub records: u64,
    pub batch: u64,
    pub keep_going: bool,
    pub lossy_close: bool,
    pub secs: u64,
    pub cycles: u64,
    pub jobs: usize,
    pub count: u64,
    pub calls: usize,
    pub max_unread: u64,
    pub attempts: u64,
    pub procs: usize,
    pub hold_secs: u64,
    pub send_partial: bool,
    pub interval_secs: u64,
    pub expect_close_secs: u64,
    pub valid_first: bool,
}

/// What the command line asks for (made once: its size does not matter).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Help for the tool, or for one subcommand.
    Help(Option<Sub>),
    /// `--version`.
    Version,
    Run(Opts),
}

impl Opts {
    fn defaults(sub: Sub) -> Opts {
        Opts {
            sub,
            host: String::new(),
            port: 0,
            proto: Proto::Rpc,
            transport: Transport::Tcp,
            timeout: Duration::from_millis(10_000),
            seed: 0,
            seed_given: false,
            verbose: false,
            good_calls: 100,
            good_conns: 2,
            check_cmd: None,
            stall_cmd: None,
            max_record: 4096,
            files: 0,
            file_size: 262_144,
            max_io: 1 << 20,
            max_message: crate::mutate::echo::MAX_MESSAGE,
            conns: if sub == Sub::Hold { 1000 } else { 16 },
            records: 10_000,
            batch: 1000,
            keep_going: false,
            lossy_close: false,
            secs: if sub == Sub::Hold { 1 } else { 5 },
            cycles: 10_000,
            jobs: 2,
            count: 1000,
            calls: 10,
            max_unread: 64 << 20,
            attempts: 1000,
            procs: 1,
            hold_secs: 1,
            send_partial: false,
            interval_secs: 1,
            // The services' default request and idle timeouts, plus 2 s
            // of sweep slack.
            expect_close_secs: if sub == Sub::Idle { 362 } else { 32 },
            valid_first: false,
        }
    }
}

fn sub_named(name: &str) -> Option<Sub> {
    Sub::ALL.into_iter().find(|s| s.name() == name)
}

/// Parses the arguments (without the program name).
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, UsageError> {
    let mut p = Parser::new(args);
    let sub = match p.next()? {
        None => return Err(UsageError("missing subcommand".into())),
        Some(Arg::Short('h')) => return Ok(Command::Help(None)),
        Some(Arg::Long(l)) if l == "help" => return Ok(Command::Help(None)),
        Some(Arg::Long(l)) if l == "version" => return Ok(Command::Version),
        Some(Arg::Positional(s)) if s == "help" => return Ok(Command::Help(None)),
        Some(Arg::Positional(s)) => sub_named(&s).ok_or_else(|| {
            UsageError(format!(
                "unknown subcommand '{s}' ({})",
                help::SUBCOMMANDS.join(", ")
            ))
        })?,
        Some(other) => {
            return Err(UsageError(format!(
                "{}: a subcommand comes first",
                p.unexpected(&other)
            )))
        }
    };
    let mut o = Opts::defaults(sub);
    let mut target = None;
    let mut port = None;
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Short('h') => return Ok(Command::Help(Some(sub))),
            Arg::Long(l) if l == "help" => return Ok(Command::Help(Some(sub))),
            Arg::Short('v') => o.verbose = true,
            Arg::Short('p') => port = Some(p.num(1, 65535)? as u16),
            Arg::Positional(t) if target.is_none() => target = Some(t),
            Arg::Long(l) => {
                if !common_option(&mut o, &mut p, &l, &mut port)? {
                    if !sub.options().contains(&l.as_str()) {
                        return Err(p.unexpected(&Arg::Long(l)));
                    }
                    own_option(&mut o, &mut p, &l)?;
                }
            }
            other => return Err(p.unexpected(&other)),
        }
    }
    let Some(target) = target else {
        return Err(UsageError("missing target HOST[:PORT]".into()));
    };
    let (host, tport) = split_target(&target)?;
    o.host = host;
    o.port = port.or(tport).unwrap_or(o.proto.port());
    if o.batch > o.records {
        o.batch = o.records;
    }
    if !o.seed_given {
        o.seed = ksf_tools::cpu::monotonic_ns() ^ (u64::from(std::process::id()) << 32);
    }
    Ok(Command::Run(o))
}

/// Takes a long option every subcommand has; false if `l` is not one.
fn common_option(
    o: &mut Opts,
    p: &mut Parser,
    l: &str,
    port: &mut Option<u16>,
) -> Result<bool, UsageError> {
    match l {
        "proto" => {
            o.proto = match p.value()?.as_str() {
                "rpc" => Proto::Rpc,
                "echo" => Proto::Echo,
                v => return Err(p.error(format!("unknown protocol '{v}' (rpc, echo)"))),
            }
        }
        "port" => *port = Some(p.num(1, 65535)? as u16),
        "smc" => o.transport = Transport::Smc,
        "timeout" => o.timeout = Duration::from_millis(p.num(1, 3_600_000)?),
        "seed" => {
            o.seed = p.num(0, u64::MAX)?;
            o.seed_given = true;
        }
        "good-calls" => o.good_calls = p.num(1, 1_000_000)? as usize,
        "good-conns" => o.good_conns = p.num(1, 1024)? as usize,
        "check-cmd" => o.check_cmd = Some(p.value()?),
        "stall-cmd" => o.stall_cmd = Some(p.value()?),
        "verbose" => o.verbose = true,
        "files" => o.files = p.num(0, 64)? as u32,
        "file-size" => o.file_size = p.num(4096, 16 << 20)?,
        "max-io" => o.max_io = p.num(4096, 1 << 20)? as u32,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Takes one of the subcommand's own options.
fn own_option(o: &mut Opts, p: &mut Parser, l: &str) -> Result<(), UsageError> {
    match l {
        "conns" => o.conns = p.num(1, 1_000_000)? as usize,
        "records" => o.records = p.num(1, u64::MAX >> 8)?,
        "batch" => o.batch = p.num(1, u64::MAX >> 8)?,
        "keep-going" => o.keep_going = true,
        "lossy-close" => o.lossy_close = true,
        "max-record" => o.max_record = p.num(64, 1 << 20)? as u32,
        "max-message" => o.max_message = p.num(16, 1 << 20)? as usize,
        "secs" => o.secs = p.num(0, 86_400)?,
        "cycles" => o.cycles = p.num(1, u64::MAX >> 8)?,
        "jobs" => o.jobs = p.num(1, 1024)? as usize,
        "count" => o.count = p.num(1, u64::MAX >> 8)?,
        "calls" => o.calls = p.num(1, 100_000)? as usize,
        "max-unread" => o.max_unread = p.num(1, u64::MAX >> 8)?,
        "attempts" => o.attempts = p.num(1, 10_000_000)?,
        "procs" => o.procs = p.num(1, 256)? as usize,
        "hold-secs" => o.hold_secs = p.num(0, 86_400)?,
        "send-partial" => o.send_partial = true,
        "interval-secs" => o.interval_secs = p.num(1, 3600)?,
        "expect-close-secs" => o.expect_close_secs = p.num(1, 86_400)?,
        "valid-first" => o.valid_first = true,
        _ => return Err(UsageError(format!("unknown option --{l}"))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Opts, String> {
        match parse(args.iter().map(|s| s.to_string())) {
            Ok(Command::Run(o)) => Ok(o),
            Ok(Command::Help(s)) => Err(format!("help {s:?}")),
            Ok(Command::Version) => Err("version".to_string()),
            Err(e) => Err(e.0),
        }
    }

    #[test]
    fn defaults_per_subcommand_and_proto() {
        let o = run(&["fuzz", "h"]).unwrap();
        assert_eq!(
            (o.port, o.conns, o.records, o.batch),
            (62049, 16, 10_000, 1000)
        );
        assert!(!o.seed_given);
        let o = run(&["hold", "--proto", "echo", "h"]).unwrap();
        assert_eq!((o.port, o.conns, o.proto), (60007, 1000, Proto::Echo));
        let o = run(&["churn", "h:7", "--cycles=5k", "--seed", "3"]).unwrap();
        assert_eq!((o.port, o.cycles, o.seed, o.seed_given), (7, 5120, 3, true));
        let o = run(&["fuzz", "h", "-p", "9", "--records", "10", "--timeout", "5"]).unwrap();
        assert_eq!((o.port, o.records, o.batch), (9, 10, 10));
        assert_eq!(o.timeout, Duration::from_millis(5));
        assert_eq!(o.export(), None);
        let o = run(&[
            "fuzz",
            "h",
            "--files",
            "4",
            "--file-size",
            "64k",
            "--max-io=4k",
        ])
        .unwrap();
        let e = o.export().unwrap();
        assert_eq!((e.files, e.file_size, e.max_io), (4, 65536, 4096));
        assert!(run(&["fuzz", "h", "--files", "65"]).is_err());
        assert!(run(&["fuzz", "h", "--file-size", "100"]).is_err());
    }

    #[test]
    fn hostile_peers() {
        let o = run(&["flood", "h", "--attempts", "6K", "--procs", "4"]).unwrap();
        assert_eq!((o.attempts, o.procs, o.hold_secs), (6000, 4, 1));
        assert!(!o.send_partial);
        let o = run(&["flood", "h", "--send-partial", "--hold-secs", "0"]).unwrap();
        assert!(o.send_partial && o.hold_secs == 0);
        let o = run(&["slowloris", "h", "--interval-secs", "2"]).unwrap();
        assert_eq!((o.interval_secs, o.expect_close_secs), (2, 32));
        let o = run(&["idle", "h", "--valid-first", "--expect-close-secs", "8"]).unwrap();
        assert_eq!((o.valid_first, o.expect_close_secs, o.conns), (true, 8, 16));
        assert_eq!(run(&["idle", "h"]).unwrap().expect_close_secs, 362);
        assert_eq!(
            run(&["idle", "h", "--send-partial"]).unwrap_err(),
            "unknown option --send-partial"
        );
        assert!(run(&["flood", "h", "--procs", "0"]).is_err());
        assert!(run(&["slowloris", "h", "--interval-secs", "0"]).is_err());
    }

    #[test]
    fn smc_for_every_subcommand() {
        for sub in help::SUBCOMMANDS {
            let o = run(&[sub, "h"]).unwrap();
            assert_eq!(o.transport, Transport::Tcp, "{sub}");
            let o = run(&[sub, "--smc", "h"]).unwrap();
            assert_eq!(o.transport, Transport::Smc, "{sub}");
        }
        let o = run(&["flood", "h:7", "--smc", "--procs", "2", "--proto=echo"]).unwrap();
        assert_eq!(
            (o.transport, o.port, o.procs, o.proto),
            (Transport::Smc, 7, 2, Proto::Echo)
        );
        assert_eq!(
            run(&["churn", "h", "--smc=yes"]).unwrap_err(),
            "option --smc does not take a value (got 'yes')"
        );
        assert_eq!(
            run(&["churn", "h", "--smcd"]).unwrap_err(),
            "unknown option --smcd"
        );
    }

    #[test]
    fn errors_and_help() {
        assert_eq!(run(&["-h"]).unwrap_err(), "help None");
        assert_eq!(run(&["--version"]).unwrap_err(), "version");
        assert_eq!(run(&["fuzz", "--help"]).unwrap_err(), "help Some(Fuzz)");
        assert_eq!(run(&["noread", "-h"]).unwrap_err(), "help Some(NoRead)");
        assert_eq!(run(&[]).unwrap_err(), "missing subcommand");
        assert!(run(&["bogus"])
            .unwrap_err()
            .starts_with("unknown subcommand 'bogus'"));
        assert_eq!(run(&["fuzz"]).unwrap_err(), "missing target HOST[:PORT]");
        assert_eq!(
            run(&["hold", "h", "--records", "3"]).unwrap_err(),
            "unknown option --records"
        );
        assert!(run(&["fuzz", "h", "--proto", "x"])
            .unwrap_err()
            .contains("unknown protocol"));
        assert!(run(&["fuzz", "h", "h2"])
            .unwrap_err()
            .contains("unexpected argument"));
        assert!(run(&["fuzz", "h", "--conns", "0"]).is_err());
        assert!(run(&["-x"])
            .unwrap_err()
            .contains("a subcommand comes first"));
    }
}
