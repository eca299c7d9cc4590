// SPDX-License-Identifier: GPL-2.0

//! Command line of echotest.

use ksf_tools::args::{Arg, Parser, UsageError};
use ksf_tools::num::{parse_cpu_list, parse_num_in, parse_quantiles};

pub const HELP: &str = "\
Usage: echotest [OPTIONS] [HOST[:PORT]]

Load generator and verifier for an echo server (ksf's kecho: TCP and UDP
port 60007). Each job (a thread) opens one connection and sends messages
that carry its job id, a sequence number and a pattern; every echoed byte is
checked. One row is printed per iteration, then a summary row (\"med\") with
the median of each column across iterations.

Options:
  -a N        messages in flight per job, pipelined; 1 = ping-pong [1, max 1023]
  -c N        messages per job per iteration [100K]
  -i N        iterations [5]
  -j N        jobs: threads, one connection each [1, max 1024]
  -l N        message length in bytes [64, max 1m; UDP max 65507]
  -p PORT     server port [60007]; the port of HOST:PORT takes precedence
  -q LIST     latency quantile columns in percent, between MedLat and MaxLat [99]
  -t MS       timeout: UDP echo deadline, TCP no-progress and connect limit
              [1000 for UDP, 5000 for TCP]
  -u          UDP, one datagram per message (default TCP)
  -H          no header line
  -v          verbose: connection and per-job details on stderr
  --cpu LIST  pin job k to the (k mod n)-th CPU of LIST, e.g. 0-3,6
  -h, --help  print this help

Numbers take suffixes k/m/g (2^10, 2^20, 2^30) and K/M/G (10^3, 10^6, 10^9).
HOST is a name or an address, default 127.0.0.1; an IPv6 address with a port
is written in brackets: [::1]:60007.

Columns: Date iter jobs inflight len msgs usecs msgs/s Mbps MinLat MedLat
<quantiles> MaxLat cpu/msg errors. msgs counts intact echoes of all jobs,
usecs is the iteration's wall time, Mbps the payload bit rate one way.
Latencies, in microseconds, run from a message's send to the complete arrival
of its echo (monotonic clock). cpu/msg is echotest's own CPU time per message
in microseconds. errors counts lost, late, corrupt or unexpected echoes.

Exit status: 0 success; 1 runtime error (connect failed, connection reset or
closed, echo corrupted or lost, timeout); 2 bad usage.
";

/// Largest in-flight window (as in the original).
pub const MAX_INFLIGHT: u64 = 1023;
/// Largest message.
pub const MAX_LEN: u64 = 1 << 20;
/// Largest UDP payload over IPv4.
pub const MAX_UDP_LEN: usize = 65507;

/// Everything the command line sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Opts {
    pub inflight: usize,
    pub count: u64,
    pub iters: u64,
    pub jobs: usize,
    pub len: usize,
    pub port: u16,
    pub udp: bool,
    pub header: bool,
    pub verbose: bool,
    pub timeout_ms: u64,
    pub quantiles: Vec<f64>,
    pub cpus: Vec<usize>,
    pub host: String,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    Run(Opts),
    Help,
}

/// Parses the arguments (without the program name).
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, UsageError> {
    let mut o = Opts {
        inflight: 1,
        count: 100_000,
        iters: 5,
        jobs: 1,
        len: 64,
        port: 60007,
        udp: false,
        header: true,
        verbose: false,
        timeout_ms: 0,
        quantiles: vec![99.0],
        cpus: Vec::new(),
        host: "127.0.0.1".to_string(),
    };
    let mut target: Option<String> = None;
    let mut p = Parser::new(args);
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Short('a') => o.inflight = p.num(1, MAX_INFLIGHT)? as usize,
            Arg::Short('c') => o.count = p.num(1, 1 << 40)?,
            Arg::Short('i') => o.iters = p.num(1, 1_000_000)?,
            Arg::Short('j') => o.jobs = p.num(1, 1024)? as usize,
            Arg::Short('l') => o.len = p.num(1, MAX_LEN)? as usize,
            Arg::Short('p') => o.port = p.num(1, 65535)? as u16,
            Arg::Short('t') => o.timeout_ms = p.num(1, 3_600_000)?,
            Arg::Short('q') => {
                let v = p.value()?;
                o.quantiles = parse_quantiles(&v).map_err(|e| p.error(e))?;
            }
            Arg::Long(l) if l == "cpu" => {
                let v = p.value()?;
                o.cpus = parse_cpu_list(&v).map_err(|e| p.error(e))?;
            }
            Arg::Short('u') => o.udp = true,
            Arg::Short('H') => o.header = false,
            Arg::Short('v') => o.verbose = true,
            Arg::Short('h') => return Ok(Command::Help),
            Arg::Long(l) if l == "help" => return Ok(Command::Help),
            Arg::Positional(t) if target.is_none() => target = Some(t),
            other => return Err(p.unexpected(&other)),
        }
    }
    if let Some(t) = target {
        let (host, port) = split_target(&t)?;
        o.host = host;
        if let Some(port) = port {
            o.port = port;
        }
    }
    if o.timeout_ms == 0 {
        o.timeout_ms = if o.udp { 1000 } else { 5000 };
    }
    if o.udp && o.len > MAX_UDP_LEN {
        return Err(UsageError(format!(
            "-l: {} bytes is too long for UDP (at most {MAX_UDP_LEN})",
            o.len
        )));
    }
    if o.udp && o.len == 1 && o.inflight > 256 {
        return Err(UsageError(
            "-a: with -u -l 1 a datagram holds only 8 bits of its sequence \
             number, so at most 256 may be in flight"
                .to_string(),
        ));
    }
    Ok(Command::Run(o))
}

/// Splits `host`, `host:port`, `[v6]` or `[v6]:port`; a bare IPv6 address
/// (several colons) is a host without port.
pub fn split_target(t: &str) -> Result<(String, Option<u16>), UsageError> {
    let bad = || UsageError(format!("bad target '{t}' (expected HOST or HOST:PORT)"));
    let port = |p: &str| {
        parse_num_in(p, 1, 65535)
            .map(|p| Some(p as u16))
            .map_err(|e| UsageError(format!("bad port in '{t}': {e}")))
    };
    let (host, port) = if let Some(rest) = t.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        match after {
            "" => (host, None),
            _ => (host, port(after.strip_prefix(':').ok_or_else(bad)?)?),
        }
    } else {
        match t.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, port(p)?),
            _ => (t, None),
        }
    };
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Opts, String> {
        match parse(args.iter().map(|s| s.to_string())) {
            Ok(Command::Run(o)) => Ok(o),
            Ok(Command::Help) => Err("help".into()),
            Err(e) => Err(e.0),
        }
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

    #[test]
    fn targets() {
        let t = |s: &str| split_target(s).map_err(|e| e.0);
        assert_eq!(t("host"), Ok(("host".into(), None)));
        assert_eq!(t("10.0.0.1:99"), Ok(("10.0.0.1".into(), Some(99))));
        assert_eq!(t("::1"), Ok(("::1".into(), None)));
        assert_eq!(t("[::1]"), Ok(("::1".into(), None)));
        assert_eq!(t("[::1]:5"), Ok(("::1".into(), Some(5))));
        assert!(t("h:0").is_err());
        assert!(t("h:x").is_err());
        assert!(t(":5").is_err());
        assert!(t("[::1").is_err());
        assert!(t("[::1]5").is_err());
        let o = run(&["-p", "1", "h:2"]).unwrap();
        assert_eq!((o.host.as_str(), o.port), ("h", 2));
    }
}
