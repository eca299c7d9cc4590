// SPDX-License-Identifier: GPL-2.0

//! Command line of echotest.

use ksf_tools::args::{Arg, Parser, UsageError};
use ksf_tools::common_opts::{self, CommonOpts, ToolOpts};

pub const HELP: &str = concat!(
    "\
Usage: echotest [OPTIONS] [HOST[:PORT]]

Load generator and verifier for an echo server (ksf's kecho: TCP and UDP
port 60007). Each job (a thread) opens one connection and sends messages
that carry its job id, a sequence number and a pattern; every echoed byte is
checked. One row is printed per iteration, then a summary row (\"med\") with
the median of each column across iterations.

Options:
  -a N        messages in flight per job, pipelined; 1 = ping-pong [1, max 1023]
  -b, --batch TCP: write the messages the window allows together (up to
              64 KiB queued, one send where the socket takes them) and read
              echoes 256 KiB at a time. Default: the original's method, one
              message per send(2) and at most (the rest of) one echo per
              recv(2), -a messages still in flight
  -c N        messages per connection (per job, unless -C) per iteration [100K]
  -C N, --conns N
              TCP connections per job [1, max 16384], opened at the start
              and kept: -a messages in flight on each, -c per connection,
              all served by one epoll loop in the job's thread; every echo
              is still checked and timed
  -i N        iterations [5]
  -j N        jobs: threads, one connection each unless -C [1, max 1024]
  -l N        message length in bytes [64, max 1m; UDP max 65507]
  -p PORT     server port [60007]; the port of HOST:PORT takes precedence
  -q LIST     latency quantile columns in percent, between MedLat and MaxLat [99]
  -t MS       timeout: UDP echo deadline, TCP no-progress and connect limit
              [1000 for UDP, 5000 for TCP]
  -u          UDP, one datagram per message (default TCP)
  --smc       SMC sockets (AF_SMC): SMC-D to a server in this OS that
              speaks SMC, TCP otherwise
  -H          no header line
  -v          verbose: connection and per-job details on stderr
  --json      JSON lines instead of the table (see JSON below)
  --cpu LIST  pin job k to the (k mod n)-th CPU of LIST, e.g. 0-3,6
  -h, --help  print this help
  --version   print the version and the git revision of the build

Numbers take suffixes k/m/g (2^10, 2^20, 2^30) and K/M/G (10^3, 10^6, 10^9).
HOST is a name or an address, default 127.0.0.1; an IPv6 address with a port
is written in brackets: [::1]:60007.

Columns: Date iter jobs inflight len msgs usecs msgs/s Mbps MinLat MedLat
<quantiles> MaxLat cpu/msg snd/msg rcv/msg errors. msgs counts intact echoes
of all jobs, usecs is the iteration's wall time, Mbps the payload bit rate
one way. Latencies, in microseconds, run from a message's send to the
complete arrival of its echo (monotonic clock). cpu/msg is echotest's own
CPU time per message in microseconds. snd/msg and rcv/msg are send and
receive system calls per message: 1 and at least 1 (more when a read comes
up short) in the default method, far below 1 with -b at a deep window; UDP
is one datagram per send and per receive. errors counts lost, late, corrupt
or unexpected echoes.

",
    ksf_tools::json_help!(),
    "\
Exit status: 0 success; 1 runtime error (connect failed, connection reset or
closed, echo corrupted or lost, timeout); 2 bad usage.
"
);

pub use ksf_tools::common_opts::Command;

/// Largest message.
pub const MAX_LEN: u64 = 1 << 20;
/// Largest UDP payload over IPv4.
pub const MAX_UDP_LEN: usize = 65507;

/// Everything the command line sets: the shared options (reached through
/// `Deref`) and the message length.
#[derive(Debug, Clone, PartialEq)]
pub struct Opts {
    pub common: CommonOpts,
    pub len: usize,
}

ksf_tools::deref_common_opts!(Opts);

impl ToolOpts for Opts {
    const MIN_INFLIGHT: u64 = 1;
    const MAX_COUNT: u64 = 1 << 40;

    fn common_mut(&mut self) -> &mut CommonOpts {
        &mut self.common
    }

    fn option(&mut self, p: &mut Parser, arg: Arg) -> Result<Option<Arg>, UsageError> {
        match arg {
            Arg::Short('l') => self.len = p.num(1, MAX_LEN)? as usize,
            other => return Ok(Some(other)),
        }
        Ok(None)
    }

    fn check(&self) -> Result<(), UsageError> {
        if self.udp && self.len > MAX_UDP_LEN {
            return Err(UsageError(format!(
                "-l: {} bytes is too long for UDP (at most {MAX_UDP_LEN})",
                self.len
            )));
        }
        if self.udp && self.len == 1 && self.inflight > 256 {
            return Err(UsageError(
                "-a: with -u -l 1 a datagram holds only 8 bits of its sequence \
                 number, so at most 256 may be in flight"
                    .to_string(),
            ));
        }
        Ok(())
    }
}

/// Parses the arguments (without the program name).
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command<Opts>, UsageError> {
    let o = Opts {
        common: CommonOpts::new(1, 60007, vec![99.0]),
        len: 64,
    };
    common_opts::parse(args, o)
}

/// The options of `args` (words separated by spaces), in unit tests.
#[cfg(test)]
pub fn test_opts(args: &str) -> Opts {
    match parse(args.split_whitespace().map(String::from)).unwrap() {
        Command::Run(o) => o,
        _ => unreachable!(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Opts, String> {
        common_opts::outcome(parse(args.iter().map(|s| s.to_string())))
    }

    #[test]
    fn defaults() {
        let o = run(&[]).unwrap();
        assert_eq!(
            (o.inflight, o.count, o.iters, o.jobs, o.len),
            (1, 100_000, 5, 1, 64)
        );
        assert_eq!(
            (o.port, o.udp, o.header, o.timeout_ms),
            (60007, false, true, 5000)
        );
        assert_eq!(o.host, "127.0.0.1");
        assert_eq!(run(&["-u"]).unwrap().timeout_ms, 1000);
    }

    #[test]
    fn all_options() {
        let o = run(&[
            "-a16",
            "-c",
            "2k",
            "-i3",
            "-j",
            "4",
            "-l",
            "1m",
            "-p",
            "7",
            "-t",
            "50",
            "-Hv",
            "-q",
            "50,99.9",
            "--cpu=0-1",
            "h",
        ])
        .unwrap();
        assert_eq!(
            (o.inflight, o.count, o.iters, o.jobs, o.len),
            (16, 2048, 3, 4, 1 << 20)
        );
        assert_eq!(
            (o.port, o.timeout_ms, o.header, o.verbose),
            (7, 50, false, true)
        );
        assert_eq!(o.quantiles, vec![50.0, 99.9]);
        assert_eq!(o.cpus, vec![0, 1]);
        assert_eq!(o.host, "h");
        assert_eq!(run(&["--help"]), Err("help".into()));
        assert_eq!(run(&["-j2", "-h"]), Err("help".into()));
    }

    #[test]
    fn bad_options() {
        assert_eq!(
            run(&["-a", "0"]).unwrap_err(),
            "-a: 0 is out of range 1..1023"
        );
        assert_eq!(
            run(&["-a", "5000"]).unwrap_err(),
            "-a: 5000 is out of range 1..1023"
        );
        assert!(run(&["-l", "1x"])
            .unwrap_err()
            .starts_with("-l: invalid number '1x'"));
        assert_eq!(run(&["-z"]).unwrap_err(), "unknown option -z");
        assert_eq!(run(&["--bogus"]).unwrap_err(), "unknown option --bogus");
        assert_eq!(run(&["a", "b"]).unwrap_err(), "unexpected argument 'b'");
        assert_eq!(run(&["-c"]).unwrap_err(), "option -c requires a value");
        assert!(run(&["-u", "-l", "65508"])
            .unwrap_err()
            .contains("too long for UDP"));
        assert!(run(&["-u", "-l", "65507"]).is_ok());
        assert!(run(&["-l", "1048577"]).is_err());
        assert!(run(&["-u", "-l1", "-a257"]).unwrap_err().contains("256"));
        assert!(run(&["-q", "50,x"])
            .unwrap_err()
            .starts_with("-q: bad quantile 'x'"));
        assert!(run(&["--cpu", "3-1"])
            .unwrap_err()
            .starts_with("--cpu: bad CPU range"));
    }
}
