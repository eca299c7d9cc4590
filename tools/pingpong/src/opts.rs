// SPDX-License-Identifier: GPL-2.0

//! Command line of pingpong.

use ksf_tools::args::{Arg, Parser, UsageError};
use ksf_tools::jobs::Transport;
use ksf_tools::num::{parse_cpu_list, parse_quantiles};
use ksf_tools::target::split_target;

pub const HELP: &str = concat!(
    "\
Usage: pingpong [OPTIONS] [HOST:PORT]

The floor of a TCP round trip: the simplest blocking ping-pong, which no
server can beat. A server thread accepts a connection (blocking), reads
exactly SIZE bytes and writes them back, over and over; a client thread
writes SIZE bytes and reads SIZE bytes back, COUNT times per iteration.
Both ends set TCP_NODELAY. This is the original's method (rpctest's and
echotest's default): one message per send(2), never more than one per
recv(2) (a large message may take several of either). By default both
threads run in this process over 127.0.0.1; with HOST:PORT only the client
runs, against any echo server (another 'pingpong --server' started with the
same -s, kecho, usrv); with --server only the server runs. Only the first 8 bytes of each echo (a
sequence number) are checked. One row is printed per iteration, then a
summary row (\"med\") with the median of each column across iterations.

Options:
  -s N        message size in bytes [64, max 1m]; -l is the same
  -c N        round trips per iteration [10K]
  -i N        iterations, all on one connection [5]
  -q LIST     latency quantile columns in percent, between MedLat and MaxLat [99]
  -t MS       timeout of each blocking read and write, and of connect [5000]
  --cpu LIST  pin the client thread to the first CPU of LIST and the server
              thread to the second (to the first too if there is only one)
  --server    run only the server: listen on all addresses at -p, serve one
              connection at a time until killed; prints 'listening on PORT'
  -p PORT     --server: the port [60009; 0 picks a free one]
  --smc       SMC sockets (AF_SMC) at both ends it runs: SMC-D between two
              SMC ends in this OS, TCP otherwise (the floor over SMC-D)
  -H          no header line
  --json      JSON lines instead of the table (see JSON below)
  -h, --help  print this help
  --version   print the version and the git revision of the build

Numbers take suffixes k/m/g (2^10, 2^20, 2^30) and K/M/G (10^3, 10^6, 10^9).

Columns: Date iter len msgs usecs msgs/s Mbps MinLat MedLat <quantiles>
MaxLat cpu/msg. msgs counts round trips, usecs is the iteration's wall
time, Mbps the payload bit rate one way. Latencies, in microseconds, run
from the start of a message's write to the complete arrival of its echo
(monotonic clock). cpu/msg is the client thread's CPU time per round trip
in microseconds.

",
    ksf_tools::json_help!(),
    "\
Exit status: 0 success; 1 runtime error (bind or connect failed, connection
closed or reset, timeout, wrong echo); 2 bad usage.
"
);

/// Largest message.
pub const MAX_SIZE: u64 = 1 << 20;

/// Everything the command line sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Opts {
    pub size: usize,
    pub count: u64,
    pub iters: u64,
    pub quantiles: Vec<f64>,
    pub timeout_ms: u64,
    /// Client CPU and server CPU.
    pub cpus: Option<(usize, usize)>,
    pub server_only: bool,
    pub port: u16,
    /// `HOST:PORT` of an external server: only the client runs.
    pub target: Option<(String, u16)>,
    pub header: bool,
    /// `--json`: JSON lines instead of the table.
    pub json: bool,
    /// `--smc`: SMC sockets instead of TCP.
    pub smc: bool,
}

use ksf_tools::common_opts::Command;

impl Opts {
    /// SMC with `--smc`, else TCP.
    pub fn transport(&self) -> Transport {
        if self.smc {
            Transport::Smc
        } else {
            Transport::Tcp
        }
    }
}

/// Parses the arguments (without the program name).
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command<Opts>, UsageError> {
    let mut p = Parser::new(args);
    let mut o = Opts {
        size: 64,
        count: 10_000,
        iters: 5,
        quantiles: vec![99.0],
        timeout_ms: 5000,
        cpus: None,
        server_only: false,
        port: 60009,
        target: None,
        header: true,
        json: false,
        smc: false,
    };
    let mut port_given = false;
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Short('h') => return Ok(Command::Help),
            Arg::Long(ref l) if l == "help" => return Ok(Command::Help),
            Arg::Long(ref l) if l == "version" => return Ok(Command::Version),
            Arg::Short('s') | Arg::Short('l') => o.size = p.num(1, MAX_SIZE)? as usize,
            Arg::Short('c') => o.count = p.num(1, 1 << 40)?,
            Arg::Short('i') => o.iters = p.num(1, 1_000_000)?,
            Arg::Short('t') => o.timeout_ms = p.num(1, 3_600_000)?,
            Arg::Short('p') => {
                o.port = p.num(0, 65535)? as u16;
                port_given = true;
            }
            Arg::Short('H') => o.header = false,
            Arg::Short('q') => {
                let v = p.value()?;
                o.quantiles = parse_quantiles(&v).map_err(|e| p.error(e))?;
            }
            Arg::Long(ref l) if l == "cpu" => {
                let v = p.value()?;
                let cpus = parse_cpu_list(&v).map_err(|e| p.error(e))?;
                o.cpus = Some((cpus[0], *cpus.get(1).unwrap_or(&cpus[0])));
            }
            Arg::Long(ref l) if l == "server" => o.server_only = true,
            Arg::Long(ref l) if l == "json" => o.json = true,
            Arg::Long(ref l) if l == "smc" => o.smc = true,
            Arg::Positional(t) if o.target.is_none() => {
                let (host, port) = split_target(&t)?;
                let port = port
                    .ok_or_else(|| UsageError(format!("target '{t}' needs a port (HOST:PORT)")))?;
                o.target = Some((host, port));
            }
            other => return Err(p.unexpected(&other)),
        }
    }
    if o.server_only && o.target.is_some() {
        return Err(UsageError(
            "--server takes no HOST:PORT (it listens on -p)".to_string(),
        ));
    }
    if o.server_only && o.json {
        return Err(UsageError(
            "--json: the server prints no figures (drop --server or --json)".to_string(),
        ));
    }
    if port_given && !o.server_only {
        return Err(UsageError(
            "-p is the port of --server; a client takes HOST:PORT".to_string(),
        ));
    }
    Ok(Command::Run(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Opts, String> {
        ksf_tools::common_opts::outcome(parse(args.iter().map(|s| s.to_string())))
    }

    #[test]
    fn defaults() {
        let o = run(&[]).unwrap();
        assert_eq!(
            (o.size, o.count, o.iters, o.timeout_ms),
            (64, 10_000, 5, 5000)
        );
        assert_eq!(
            (o.cpus, o.server_only, o.target.is_none()),
            (None, false, true)
        );
        assert_eq!((o.quantiles, o.header, o.port), (vec![99.0], true, 60009));
    }

    #[test]
    fn all_options() {
        let o = run(&[
            "-s1k",
            "-c",
            "2K",
            "-i3",
            "-q50,99.9",
            "-t",
            "100",
            "--cpu=1,0",
            "-H",
            "h:7",
        ])
        .unwrap();
        assert_eq!(
            (o.size, o.count, o.iters, o.timeout_ms),
            (1024, 2000, 3, 100)
        );
        assert_eq!((o.quantiles, o.cpus), (vec![50.0, 99.9], Some((1, 0))));
        assert_eq!((o.header, o.target), (false, Some(("h".to_string(), 7))));
        assert_eq!(run(&["-l", "16k"]).unwrap().size, 16384);
        assert_eq!(run(&["--cpu", "1"]).unwrap().cpus, Some((1, 1)));
        let o = run(&["--server", "-p", "0"]).unwrap();
        assert_eq!((o.server_only, o.port), (true, 0));
        assert_eq!(run(&["-c1", "--help"]), Err("help".into()));
        assert!(run(&["--json"]).unwrap().json);
        assert!(run(&["--smc", "h:7"]).unwrap().smc && !run(&[]).unwrap().smc);
        assert_eq!(run(&["--smc"]).unwrap().transport(), Transport::Smc);
        assert_eq!(run(&[]).unwrap().transport(), Transport::Tcp);
    }

    #[test]
    fn bad_usage() {
        assert_eq!(
            run(&["-s", "0"]).unwrap_err(),
            "-s: 0 is out of range 1..1048576"
        );
        assert!(run(&["-s", "2m"]).unwrap_err().contains("out of range"));
        assert!(run(&["h"]).unwrap_err().contains("needs a port"));
        assert!(run(&["--server", "h:1"]).unwrap_err().contains("--server"));
        assert!(run(&["-p", "9"]).unwrap_err().contains("-p is the port"));
        assert!(run(&["--server", "--json"])
            .unwrap_err()
            .starts_with("--json: "));
        assert!(run(&["--cpu", "3-1"])
            .unwrap_err()
            .starts_with("--cpu: bad CPU range"));
        assert_eq!(run(&["-a"]).unwrap_err(), "unknown option -a");
        assert_eq!(
            run(&["h:1", "h:2"]).unwrap_err(),
            "unexpected argument 'h:2'"
        );
        assert_eq!(run(&["-c"]).unwrap_err(), "option -c requires a value");
    }
}
