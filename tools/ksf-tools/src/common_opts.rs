// SPDX-License-Identifier: GPL-2.0

//! The options the load generators share, and the parse loop around a
//! tool's own options.
//!
//! Shared: `-a -b -c -i -j -p -q -t -u -C -H -v --cpu --json`, `--version`, `-h`/`--help` and one
//! positional `HOST[:PORT]`. A tool keeps a [`CommonOpts`] in its options,
//! implements [`ToolOpts`] for its own options and checks, and calls
//! [`parse`].

use crate::args::{Arg, Parser, UsageError};
use crate::jobs::Transport;
use crate::num::{parse_cpu_list, parse_quantiles};
use crate::stream::Method;
use crate::target::split_target;
use crate::version;

/// What the command line asks for.
#[derive(Debug)]
pub enum Command<T> {
    /// A run with these options.
    Run(T),
    /// `-h`, `--help`.
    Help,
    /// `--version`.
    Version,
}

/// For tests: the options of a parse, `"help"`, `"version"`, or the usage
/// error's text.
pub fn outcome<T>(parsed: Result<Command<T>, UsageError>) -> Result<T, String> {
    match parsed {
        Ok(Command::Run(o)) => Ok(o),
        Ok(Command::Help) => Err("help".into()),
        Ok(Command::Version) => Err("version".into()),
        Err(e) => Err(e.0),
    }
}

/// The [`Tool`] of the calling crate (its package name and version) with
/// the `--help` text `help`.
#[macro_export]
macro_rules! tool {
    ($help:expr) => {
        $crate::common_opts::Tool {
            name: env!("CARGO_PKG_NAME"),
            help: $help,
            version: env!("CARGO_PKG_VERSION"),
        }
    };
}

/// The whole `main` of a tool: parses the process arguments with `parse`,
/// then exits with [`exit_status`].
pub fn main<T>(
    tool: Tool,
    parse: impl FnOnce(std::env::Args) -> Result<Command<T>, UsageError>,
    run: impl FnOnce(T) -> Result<i32, String>,
) -> ! {
    let mut args = std::env::args();
    args.next();
    std::process::exit(exit_status(tool, parse(args), run))
}

/// A tool: its name, `--help` text and crate version ([`tool!`](crate::tool)).
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    /// The program's name, which prefixes its messages.
    pub name: &'static str,
    /// What `--help` prints.
    pub help: &'static str,
    /// The crate version (`env!("CARGO_PKG_VERSION")`).
    pub version: &'static str,
}

/// The one-line message of a usage error: `tool: what (try 'tool --help')`.
pub fn usage_line(tool: &str, e: &UsageError) -> String {
    format!("{tool}: {e} (try '{tool} --help')")
}

/// A tool's exit status for the parse of its command line: 0 after
/// printing the help or the version; 2 after a usage error (one line on
/// stderr, see [`usage_line`]); otherwise what `run` returns for the
/// options, or 1 after printing its error, prefixed with the tool's name.
pub fn exit_status<T>(
    tool: Tool,
    parsed: Result<Command<T>, UsageError>,
    run: impl FnOnce(T) -> Result<i32, String>,
) -> i32 {
    let print = |text: &str| {
        let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
        0
    };
    match parsed {
        Ok(Command::Help) => print(tool.help),
        Ok(Command::Version) => print(&(version::line(tool.name, tool.version) + "\n")),
        Ok(Command::Run(o)) => run(o).unwrap_or_else(|e| {
            eprintln!("{}: {e}", tool.name);
            1
        }),
        Err(e) => {
            eprintln!("{}", usage_line(tool.name, &e));
            2
        }
    }
}

/// The settings of the shared options.
#[derive(Debug, Clone, PartialEq)]
pub struct CommonOpts {
    /// `-a`: requests in flight per job.
    pub inflight: usize,
    /// `-c`: requests per job per iteration.
    pub count: u64,
    /// `-i`: iterations.
    pub iters: u64,
    /// `-j`: jobs (threads, one connection each unless `-C`).
    pub jobs: usize,
    /// `-C`, `--conns`: TCP connections per job, served by one event loop
    /// ([`Streams`](crate::stream::Streams)).
    pub conns: usize,
    /// `-p`, or the port of `HOST:PORT`.
    pub port: u16,
    /// `-u`: UDP instead of TCP.
    pub udp: bool,
    /// `--smc`: SMC sockets instead of TCP ([`crate::smc`]).
    pub smc: bool,
    /// `-b`, `--batch`: TCP requests written together and answers read in
    /// large chunks, instead of the original's one per system call.
    pub batch: bool,
    /// Not `-H`: print the header line.
    pub header: bool,
    /// `-v`.
    pub verbose: bool,
    /// `--json`: JSON lines instead of the table.
    pub json: bool,
    /// `-t`; without it 1000 for UDP and 5000 for TCP.
    pub timeout_ms: u64,
    /// `-q`: latency quantile columns in percent.
    pub quantiles: Vec<f64>,
    /// `--cpu`: CPUs to pin the jobs to.
    pub cpus: Vec<usize>,
    /// The host of `HOST[:PORT]`.
    pub host: String,
}

/// Largest in-flight window (as in the original tools).
pub const MAX_INFLIGHT: u64 = 1023;
/// Most connections per job (`-C`).
pub const MAX_CONNS: u64 = 16384;

impl CommonOpts {
    /// The defaults, but for the tool's in-flight window, port and
    /// quantile columns.
    pub fn new(inflight: usize, port: u16, quantiles: Vec<f64>) -> CommonOpts {
        CommonOpts {
            inflight,
            count: 100_000,
            iters: 5,
            jobs: 1,
            conns: 1,
            port,
            udp: false,
            smc: false,
            batch: false,
            header: true,
            verbose: false,
            json: false,
            timeout_ms: 0,
            quantiles,
            cpus: Vec::new(),
            host: "127.0.0.1".to_string(),
        }
    }

    /// "TCP", "SMC" or "UDP".
    pub fn proto(&self) -> &'static str {
        self.transport().name()
    }

    /// The jobs' transport (`-u`, `--smc`).
    pub fn transport(&self) -> Transport {
        if self.udp {
            Transport::Udp
        } else if self.smc {
            Transport::Smc
        } else {
            Transport::Tcp
        }
    }

    /// How a TCP stream writes requests and reads answers (`-b`).
    pub fn method(&self) -> Method {
        if self.batch {
            Method::Batched
        } else {
            Method::OnePerSend
        }
    }

    /// Takes `arg` if it is a shared option (fetching its value from `p`);
    /// otherwise hands it back. `-a` takes `min_inflight..=MAX_INFLIGHT`,
    /// `-c` `1..=max_count`.
    pub fn option(
        &mut self,
        p: &mut Parser,
        arg: Arg,
        min_inflight: u64,
        max_count: u64,
    ) -> Result<Option<Arg>, UsageError> {
        match arg {
            Arg::Short('a') => self.inflight = p.num(min_inflight, MAX_INFLIGHT)? as usize,
            Arg::Short('c') => self.count = p.num(1, max_count)?,
            Arg::Short('i') => self.iters = p.num(1, 1_000_000)?,
            Arg::Short('j') => self.jobs = p.num(1, 1024)? as usize,
            Arg::Short('C') => self.conns = p.num(1, MAX_CONNS)? as usize,
            Arg::Long(l) if l == "conns" => self.conns = p.num(1, MAX_CONNS)? as usize,
            Arg::Short('p') => self.port = p.num(1, 65535)? as u16,
            Arg::Short('t') => self.timeout_ms = p.num(1, 3_600_000)?,
            Arg::Short('q') => {
                let v = p.value()?;
                self.quantiles = parse_quantiles(&v).map_err(|e| p.error(e))?;
            }
            Arg::Long(l) if l == "cpu" => {
                let v = p.value()?;
                self.cpus = parse_cpu_list(&v).map_err(|e| p.error(e))?;
            }
            Arg::Short('u') => self.udp = true,
            Arg::Long(l) if l == "smc" => self.smc = true,
            Arg::Short('b') => self.batch = true,
            Arg::Long(l) if l == "batch" => self.batch = true,
            Arg::Short('H') => self.header = false,
            Arg::Short('v') => self.verbose = true,
            Arg::Long(l) if l == "json" => self.json = true,
            other => return Ok(Some(other)),
        }
        Ok(None)
    }

    /// Applies `HOST[:PORT]` and the protocol's default timeout.
    fn finish(&mut self, target: Option<String>) -> Result<(), UsageError> {
        if let Some(t) = target {
            let (host, port) = split_target(&t)?;
            self.host = host;
            if let Some(port) = port {
                self.port = port;
            }
        }
        if self.timeout_ms == 0 {
            self.timeout_ms = if self.udp { 1000 } else { 5000 };
        }
        if self.udp && self.smc {
            return Err(UsageError(
                "--smc: SMC sockets are streams, like TCP (drop -u or --smc)".to_string(),
            ));
        }
        if self.udp && self.conns > 1 {
            return Err(UsageError(
                "-C: UDP has no connections, each job has one socket (drop -u or -C)".to_string(),
            ));
        }
        if self.udp && self.batch {
            return Err(UsageError(
                "-b: UDP sends one datagram per request and receives one per answer \
                 either way (drop -u or -b)"
                    .to_string(),
            ));
        }
        Ok(())
    }
}

/// Implements `Deref<Target = CommonOpts>` for a tool's options struct
/// with a field `common`, so that the shared settings read as its own.
#[macro_export]
macro_rules! deref_common_opts {
    ($t:ty) => {
        impl std::ops::Deref for $t {
            type Target = $crate::common_opts::CommonOpts;
            fn deref(&self) -> &Self::Target {
                &self.common
            }
        }
    };
}

/// A tool's options around a [`CommonOpts`].
pub trait ToolOpts: Sized {
    /// Lower bound of `-a`.
    const MIN_INFLIGHT: u64;
    /// Upper bound of `-c`.
    const MAX_COUNT: u64;

    /// The shared options within.
    fn common_mut(&mut self) -> &mut CommonOpts;

    /// Takes one of the tool's own options, or hands `arg` back (it is then
    /// a usage error).
    fn option(&mut self, p: &mut Parser, arg: Arg) -> Result<Option<Arg>, UsageError>;

    /// Checks the complete options.
    fn check(&self) -> Result<(), UsageError>;
}

/// Parses `args` (without the program name) into `o`, which holds the
/// defaults.
pub fn parse<T: ToolOpts, I: IntoIterator<Item = String>>(
    args: I,
    mut o: T,
) -> Result<Command<T>, UsageError> {
    let mut target: Option<String> = None;
    let mut p = Parser::new(args);
    while let Some(arg) = p.next()? {
        let Some(arg) = o
            .common_mut()
            .option(&mut p, arg, T::MIN_INFLIGHT, T::MAX_COUNT)?
        else {
            continue;
        };
        match arg {
            Arg::Short('h') => return Ok(Command::Help),
            Arg::Long(l) if l == "help" => return Ok(Command::Help),
            Arg::Long(l) if l == "version" => return Ok(Command::Version),
            Arg::Positional(t) if target.is_none() => target = Some(t),
            arg => {
                if let Some(other) = o.option(&mut p, arg)? {
                    return Err(p.unexpected(&other));
                }
            }
        }
    }
    o.common_mut().finish(target)?;
    o.check()?;
    Ok(Command::Run(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses() {
        let run = |r: Result<i32, String>| move |_: ()| r;
        let usage = || Err(UsageError("bad".into()));
        let t = Tool {
            name: "t",
            help: "",
            version: "1",
        };
        assert_eq!(exit_status(t, Ok(Command::Help), run(Ok(7))), 0);
        assert_eq!(exit_status(t, Ok(Command::Version), run(Ok(7))), 0);
        assert_eq!(exit_status(t, Ok(Command::Run(())), run(Ok(7))), 7);
        assert_eq!(
            exit_status(t, Ok(Command::Run(())), run(Err("x".into()))),
            1
        );
        assert_eq!(exit_status(t, usage(), run(Ok(0))), 2);
        let e = UsageError("-a: bad".into());
        assert_eq!(usage_line("t", &e), "t: -a: bad (try 't --help')");
    }

    #[derive(Debug)]
    struct Only(CommonOpts, bool);

    impl ToolOpts for Only {
        const MIN_INFLIGHT: u64 = 0;
        const MAX_COUNT: u64 = 10;
        fn common_mut(&mut self) -> &mut CommonOpts {
            &mut self.0
        }
        fn option(&mut self, _: &mut Parser, arg: Arg) -> Result<Option<Arg>, UsageError> {
            match arg {
                Arg::Short('x') => self.1 = true,
                other => return Ok(Some(other)),
            }
            Ok(None)
        }
        fn check(&self) -> Result<(), UsageError> {
            Ok(())
        }
    }

    fn run(args: &[&str]) -> Result<Only, String> {
        let o = Only(CommonOpts::new(0, 7, vec![50.0]), false);
        outcome(parse(args.iter().map(|s| s.to_string()), o))
    }

    #[test]
    fn shared_and_own_options() {
        let o = run(&["-xu", "-a0", "-c10", "--json", "[::1]:9"]).unwrap();
        assert!(o.1 && o.0.json);
        assert_eq!((o.0.udp, o.0.inflight, o.0.count), (true, 0, 10));
        assert_eq!(
            (o.0.host.as_str(), o.0.port, o.0.timeout_ms),
            ("::1", 9, 1000)
        );
        assert_eq!(o.0.proto(), "UDP");
        let o = run(&["-p", "1", "h:2"]).unwrap();
        assert_eq!((o.0.host.as_str(), o.0.port), ("h", 2));
        assert_eq!(run(&["-c11"]).unwrap_err(), "-c: 11 is out of range 1..10");
        assert_eq!(
            (
                run(&[]).unwrap().0.conns,
                run(&["-C", "3"]).unwrap().0.conns
            ),
            (1, 3)
        );
        assert_eq!(run(&["--conns=1k"]).unwrap().0.conns, 1024);
        assert_eq!(run(&["-C0"]).unwrap_err(), "-C: 0 is out of range 1..16384");
        assert!(run(&["-u", "-C2"])
            .unwrap_err()
            .starts_with("-C: UDP has no connections"));
        assert_eq!(run(&[]).unwrap().0.transport(), Transport::Tcp);
        let o = run(&["--smc", "-C2"]).unwrap();
        assert_eq!(
            (o.0.transport(), o.0.proto(), o.0.conns),
            (Transport::Smc, "SMC", 2)
        );
        assert!(run(&["-u", "--smc"])
            .unwrap_err()
            .starts_with("--smc: SMC sockets are streams"));
        assert_eq!(run(&["-y"]).unwrap_err(), "unknown option -y");
        assert_eq!(run(&["a", "b"]).unwrap_err(), "unexpected argument 'b'");
        assert_eq!(run(&["-x", "--help"]).unwrap_err(), "help");
        assert_eq!(run(&["--version"]).unwrap_err(), "version");
    }

    #[test]
    fn method() {
        assert_eq!(run(&[]).unwrap().0.method(), Method::OnePerSend);
        assert_eq!(run(&["-b"]).unwrap().0.method(), Method::Batched);
        assert_eq!(run(&["--batch"]).unwrap().0.method(), Method::Batched);
        assert!(run(&["-u", "-b"])
            .unwrap_err()
            .starts_with("-b: UDP sends one datagram per request"));
    }
}
