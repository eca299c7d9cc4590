// SPDX-License-Identifier: GPL-2.0

//! Command line of rpctest.

use crate::nfs;
use ksf_proto::nfs3::{self, FHSIZE};
use ksf_tools::args::{Arg, Parser, UsageError};
use ksf_tools::common_opts::{self, CommonOpts, ToolOpts};
use ksf_tools::num::{parse_num_in, parse_quantiles, DEFAULT_QUANTILES};
use std::path::PathBuf;

pub const HELP: &str = concat!(
    "\
Usage: rpctest [OPTIONS] [HOST[:PORT]]

Load generator and checker for an ONC RPC server (ksf's krpc2 on TCP port
62049, or knfsd and others with --prog/--vers/--proc). Each job (a thread)
opens a new connection per iteration and makes -c calls on it, by default
the NFSv3 NULL procedure; every reply is matched to its call by xid and
must be an accepted SUCCESS. One row is printed per iteration, then a
summary row.

Options:
  -a N         calls in flight per job, pipelined on one connection; 0 is a
               synchronous loop: send a call, wait for its reply [0, max 1023]
  -b, --batch  TCP: write the calls the window allows together (up to 64 KiB
               queued, one send where the socket takes them) and read
               replies 256 KiB at a time. Default: the original's method,
               one call per send(2) and at most one reply per recv(2), -a
               calls still in flight (see Method)
  -c N         calls per connection (per job, unless -C) per iteration [100K;
               the original's 1M takes long on a slow emulated guest]
  -C N, --conns N
               TCP connections per job [1, max 16384]: each opens N new
               connections per iteration and keeps -a calls in flight on
               each, -c calls per connection, all served by one epoll loop
               in the job's thread (many connections without a thread
               each); every reply is still matched and checked, and every
               call's latency recorded. rpctest raises its open-file limit
               to the hard limit when it needs more descriptors
  -i N         iterations, each with new connections [5]
  -j N         jobs: threads, one connection each [1, max 1024]
  -q LIST      latency quantile columns in percent, between MinLat and MaxLat
               [.3,4.6,31.7,50,68.3,95.4,99.7]
  -A FLAVOR    credential: none, or sys (AUTH_SYS with this host's name and
               the process's uid, gid and groups; 'unix' is the same) [none]
  -f           send each call as three record-marking fragments (TCP only)
  -u           UDP, one datagram per call (default TCP with record marking)
  --smc        SMC sockets (AF_SMC): SMC-D to a server in this OS that
               speaks SMC, TCP otherwise (the records as over TCP)
  -m           AvgRPC/AvgLat: means instead of medians (see Columns)
  -x           extra columns: calls usecs cpu/call snd/call rcv/call
  -d DIR       write the latency histogram of all iterations to
               DIR/rpctest-latency.csv and its plot (a CDF) to
               DIR/rpctest-latency.svg; DIR is created if missing
  -t MS        timeout: TCP no-progress and connect limit, UDP reply deadline
               [5000 for TCP, 1000 for UDP]
  -p PORT      server port [62049]; the port of HOST:PORT takes precedence
  -H           no header line
  -v           verbose: setup and per-job details on stderr
  --prog N     program number [100003, NFS]
  --vers N     program version [3]
  --proc P     procedure: a number, called without arguments, or an NFSv3
               name: null (0), getattr (1), lookup (3), read (6), write (7)
               [0, NULL]; GETATTR, LOOKUP, READ and WRITE of --prog 100003
               --vers 3 (by name or number) carry their arguments and
               their replies are checked (see NFSv3)
  -l SIZE      READ and WRITE: bytes per call [4k, max 1m]
  --file N     NFSv3: the file, file<N> in the export's root [0]
  --file-size N  NFSv3: READ and WRITE only the first N bytes of the file
               [its size, from GETATTR]
  --fsid N     NFSv3: the fsid of the root handle ksf's export documents
               [27442 = 0x6b32, 'k2', krpc2's]
  --root-fh HEX  NFSv3: the root directory's handle, as hex digits,
               instead of the one of --fsid (another server's): knfsd's
               for an export with fsid=1 on a little-endian machine is
               0100010001000000 (version 1, FSID_NUM, the fsid)
  --export PATH  NFSv3: the root handle from the MOUNT protocol: MNT
               (program 100005 version 3, over TCP) of PATH, as knfsd's
               rpc.mountd exports it
  --mount-port PORT  the MOUNT server's port (rpc.mountd -p PORT) [the
               NFS port]
  --verify-pattern  READ: check the data read against the pattern a WRITE
               run writes (see NFSv3); without it count and eof are checked
  --json       JSON lines instead of the table (see JSON below)
  --cpu LIST   pin job k to the (k mod n)-th CPU of LIST, e.g. 0-3,6
  -h, --help   print this help
  --version    print the version and the git revision of the build

Numbers take suffixes k/m/g (2^10, 2^20, 2^30) and K/M/G (10^3, 10^6, 10^9).
HOST is a name or an address, default 127.0.0.1; an IPv6 address with a port
is written in brackets: [::1]:62049.

Columns: Date TD INF MedRPC [MB/s] MedLat Mbps MinLat <quantiles> MaxLat
[calls usecs cpu/call snd/call rcv/call] errors.
  TD       jobs (threads, one connection each, or -C)
  INF      calls in flight per job (-a; 0 = synchronous)
  MedRPC   running median, over the iterations so far, of each iteration's
           successful calls per second (all jobs); AvgRPC with -m: the mean
  MB/s     READ and WRITE only: megabytes (10^6 bytes) of file data per
           second, READ data received or WRITE data the server took
  MedLat   running median of each iteration's median latency; AvgLat with
           -m: the mean of each iteration's mean latency
  Mbps     RPC bytes of the iteration (calls and replies, record marks
           included) in megabits per second
  MinLat, quantiles, MaxLat   this iteration's latencies, all jobs together
  calls    successful calls; usecs: the iteration's wall time
  cpu/call rpctest's CPU time per call in microseconds (all jobs)
  snd/call, rcv/call   send and receive system calls per call
  errors   bad replies (unknown, duplicate or malformed, not SUCCESS,
           denied) and calls left unanswered
Method: by default, as FreeBSD KSF's rpctest, each send writes one call and
each receive asks for the record mark and as many bytes as the last reply
had (the rest of a fragment, once its mark is read), so snd/call is 1 and
rcv/call at least 1 (more when a read comes up short). With -b both fall
far below 1 at a deep window. UDP is one datagram per send and per receive
either way.

Latencies, in microseconds, run from the send of a call's first byte to the
complete arrival of its reply (monotonic clock). The last row, 'all' in the
Date column, holds the final running values, the median Mbps and the
latencies of all iterations together.

NFSv3: before the jobs start, one TCP connection learns the file: a LOOKUP
of file<N> in the root directory, whose handle is ksf's documented one
(16 bytes: 'ksf3', the fsid, fileid 1; krpc2's export), --root-fh or
the one a MNT of --export returns, then a GETATTR of the handle found, which must name a regular file. Every
call then names that file: GETATTR its handle, LOOKUP the same name (the
reply must give the same handle), READ and WRITE -l bytes at offsets
(seq mod slots) * -l, seq the call's number on its connection from 0 and
slots the (--file-size or file size) / -l, so a run of at least slots
calls covers the area. Every reply must be an accepted SUCCESS with
NFS3_OK, results that decode exactly, and attributes (where the reply has
them) of a regular file of the size and fileid of setup; READ must return
count -l with eof set when it reaches the end of the file, WRITE count -l
(UNSTABLE). WRITE sends a fixed pattern that depends only on the byte's
position in the file (64-bit big-endian words of position * 0x9e3779b97f4a7c15
xor 0x6b73663370617474, the word of position p holding bytes p..p+8 for p a
multiple of 8), so a READ run with --verify-pattern after a WRITE run over
the same area checks every byte.

Each job describes its first 5 errors on stderr (expected and received);
the rest are only counted. On TCP a reply matching no call in flight stands
for a call that will not be answered once the connection is quiet.

",
    ksf_tools::json_help!(),
    "\
Exit status: 0 success; 1 runtime error (connect failed, NFSv3 setup
failed, connection closed or reset, malformed record stream, timeout, or
any bad reply); 2 bad usage.
"
);

pub use ksf_tools::common_opts::Command;

/// Most calls per job per iteration: xids stay unique within an iteration.
pub const MAX_CALLS: u64 = 1 << 31;
/// Default port of krpc2.
pub const DEFAULT_PORT: u16 = 62049;
/// Default fsid of the export's root handle: krpc2's.
pub const DEFAULT_FSID: u32 = nfs3::KSF_FSID;

/// The credential flavor of the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    None,
    Sys,
}

/// Everything the command line sets: the shared options (reached through
/// `Deref`) and rpctest's own.
#[derive(Debug, Clone, PartialEq)]
pub struct Opts {
    pub common: CommonOpts,
    pub flavor: Flavor,
    pub fragments: bool,
    pub mean: bool,
    pub extra: bool,
    pub dir: Option<PathBuf>,
    pub prog: u32,
    pub vers: u32,
    pub procedure: u32,
    /// READ and WRITE: bytes per call (`-l`).
    pub len: u32,
    /// NFSv3: the file (`file<N>` in the root directory), the area of it
    /// the offsets cover, the export's fsid or its root handle.
    pub file: u32,
    pub file_size: Option<u64>,
    pub fsid: u32,
    pub root_fh: Option<Vec<u8>>,
    /// NFSv3: the root handle from a MNT of this path, at this port.
    pub export: Option<String>,
    pub mount_port: Option<u16>,
    /// READ: check the data against the WRITE pattern.
    pub verify_pattern: bool,
}

/// Parses `--proc`: a name of [`nfs::NAMES`] or a number.
fn procedure(p: &mut Parser) -> Result<u32, UsageError> {
    let v = p.value()?;
    if let Some(&(_, n)) = nfs::NAMES
        .iter()
        .find(|(name, _)| v.eq_ignore_ascii_case(name))
    {
        return Ok(n);
    }
    if !v.starts_with(|c: char| c.is_ascii_digit()) {
        let names: Vec<&str> = nfs::NAMES.iter().map(|&(name, _)| name).collect();
        let names = names.join(", ");
        return Err(p.error(format!("unknown procedure '{v}' ({names} or a number)")));
    }
    Ok(parse_num_in(&v, 0, u64::from(u32::MAX)).map_err(|e| p.error(e))? as u32)
}

/// Parses a file handle written in hex (`--root-fh`).
fn handle(p: &mut Parser) -> Result<Vec<u8>, UsageError> {
    let v = p.value()?;
    let ok = v.len() % 2 == 0 && (2..=2 * FHSIZE).contains(&v.len());
    let bytes: Option<Vec<u8>> = (0..v.len())
        .step_by(2)
        .map(|i| v.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect();
    match bytes {
        Some(b) if ok => Ok(b),
        _ => Err(p.error(format!(
            "bad handle '{v}' (1 to {FHSIZE} bytes as hex digits, two per byte)"
        ))),
    }
}

ksf_tools::deref_common_opts!(Opts);

impl ToolOpts for Opts {
    const MIN_INFLIGHT: u64 = 0;
    const MAX_COUNT: u64 = MAX_CALLS;

    fn common_mut(&mut self) -> &mut CommonOpts {
        &mut self.common
    }

    fn option(&mut self, p: &mut Parser, arg: Arg) -> Result<Option<Arg>, UsageError> {
        let u32_max = u64::from(u32::MAX);
        match arg {
            Arg::Short('A') => {
                self.flavor = match p.value()?.as_str() {
                    "none" => Flavor::None,
                    "sys" | "unix" => Flavor::Sys,
                    v => return Err(p.error(format!("unknown flavor '{v}' (none or sys)"))),
                }
            }
            Arg::Short('d') => {
                let v = p.value()?;
                if v.is_empty() {
                    return Err(p.error("empty directory name"));
                }
                self.dir = Some(PathBuf::from(v));
            }
            Arg::Short('f') => self.fragments = true,
            Arg::Short('m') => self.mean = true,
            Arg::Short('x') => self.extra = true,
            Arg::Long(l) if l == "prog" => self.prog = p.num(0, u32_max)? as u32,
            Arg::Long(l) if l == "vers" => self.vers = p.num(0, u32_max)? as u32,
            Arg::Long(l) if l == "proc" => self.procedure = procedure(p)?,
            Arg::Short('l') => self.len = p.num(1, nfs::MAX_IO)? as u32,
            Arg::Long(l) if l == "file" => self.file = p.num(0, u32_max)? as u32,
            Arg::Long(l) if l == "file-size" => self.file_size = Some(p.num(1, u64::MAX)?),
            Arg::Long(l) if l == "fsid" => self.fsid = p.num(0, u32_max)? as u32,
            Arg::Long(l) if l == "root-fh" => self.root_fh = Some(handle(p)?),
            Arg::Long(l) if l == "export" => {
                let v = p.value()?;
                if !v.starts_with('/') {
                    return Err(p.error(format!("'{v}' is not an absolute path")));
                }
                self.export = Some(v);
            }
            Arg::Long(l) if l == "mount-port" => self.mount_port = Some(p.num(1, 65535)? as u16),
            Arg::Long(l) if l == "verify-pattern" => self.verify_pattern = true,
            other => return Ok(Some(other)),
        }
        Ok(None)
    }

    fn check(&self) -> Result<(), UsageError> {
        if self.udp && self.fragments {
            return Err(UsageError(
                "-f: UDP has no record marking, so no fragments (drop -u or -f)".to_string(),
            ));
        }
        if self.udp && nfs::with_args(self) {
            return Err(UsageError(
                "-u: NFSv3 GETATTR, LOOKUP, READ and WRITE are run over TCP only (drop -u)"
                    .to_string(),
            ));
        }
        if self.root_fh.is_some() && self.export.is_some() {
            return Err(UsageError(
                "--export: the root handle is --root-fh's already (drop one)".to_string(),
            ));
        }
        if self.mount_port.is_some() && self.export.is_none() {
            return Err(UsageError(
                "--mount-port: nothing to mount without --export".to_string(),
            ));
        }
        if self.verify_pattern && !(nfs::with_args(self) && self.procedure == nfs3::READ) {
            return Err(UsageError(
                "--verify-pattern: only NFSv3 READ has data to verify (--proc read)".to_string(),
            ));
        }
        Ok(())
    }
}

/// Parses the arguments (without the program name).
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command<Opts>, UsageError> {
    let quantiles = parse_quantiles(DEFAULT_QUANTILES).unwrap_or_default();
    let o = Opts {
        common: CommonOpts::new(0, DEFAULT_PORT, quantiles),
        flavor: Flavor::None,
        fragments: false,
        mean: false,
        extra: false,
        dir: None,
        prog: 100003,
        vers: 3,
        procedure: 0,
        len: 4096,
        file: 0,
        file_size: None,
        fsid: DEFAULT_FSID,
        root_fh: None,
        export: None,
        mount_port: None,
        verify_pattern: false,
    };
    common_opts::parse(args, o)
}

/// The options of `args`, in unit tests.
#[cfg(test)]
pub fn test_opts(args: &[&str]) -> Opts {
    match parse(args.iter().map(|s| s.to_string())).unwrap() {
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
        assert_eq!((o.inflight, o.count, o.iters, o.jobs), (0, 100_000, 5, 1));
        assert_eq!((o.prog, o.vers, o.procedure), (100003, 3, 0));
        assert_eq!((o.port, o.timeout_ms, o.udp), (62049, 5000, false));
        assert_eq!(o.quantiles, vec![0.3, 4.6, 31.7, 50.0, 68.3, 95.4, 99.7]);
        assert_eq!(
            (o.flavor, o.fragments, o.header),
            (Flavor::None, false, true)
        );
        assert_eq!((o.host.as_str(), o.conns), ("127.0.0.1", 1));
        assert_eq!(run(&["-u"]).unwrap().timeout_ms, 1000);
        assert_eq!(run(&["-C", "1k"]).unwrap().conns, 1024);
        assert_eq!(run(&["--conns=3"]).unwrap().conns, 3);
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
            "-q",
            "50,99",
            "-A",
            "unix",
            "-f",
            "-mxHv",
            "-d",
            "out",
            "-t",
            "50",
            "--prog=100000",
            "--vers",
            "4",
            "--proc",
            "1M",
            "--cpu=0-1",
            "h:7",
        ])
        .unwrap();
        assert_eq!((o.inflight, o.count, o.iters, o.jobs), (16, 2048, 3, 4));
        assert_eq!(o.quantiles, vec![50.0, 99.0]);
        assert_eq!(
            (o.flavor, o.fragments, o.mean, o.extra),
            (Flavor::Sys, true, true, true)
        );
        assert_eq!((o.header, o.verbose, o.timeout_ms), (false, true, 50));
        assert_eq!(o.dir, Some(PathBuf::from("out")));
        assert_eq!((o.prog, o.vers, o.procedure), (100000, 4, 1_000_000));
        assert_eq!(o.cpus, vec![0, 1]);
        assert_eq!((o.host.as_str(), o.port), ("h", 7));
        assert_eq!(run(&["-p", "9", "h"]).unwrap().port, 9);
        assert_eq!(run(&["-A", "sys"]).unwrap().flavor, Flavor::Sys);
        assert_eq!(run(&["--help"]), Err("help".into()));
        assert_eq!(run(&["-j2", "-h"]), Err("help".into()));
    }

    #[test]
    fn nfs_options() {
        let o = run(&[
            "--proc",
            "read",
            "-l",
            "64k",
            "--file=2",
            "--file-size",
            "1m",
        ])
        .unwrap();
        assert_eq!((o.procedure, o.len, o.file), (6, 65536, 2));
        assert_eq!(
            (o.file_size, o.fsid, &o.root_fh),
            (Some(1 << 20), nfs3::KSF_FSID, &None)
        );
        assert!(nfs::moves_data(&o) && nfs::with_args(&o));
        let o = run(&["--proc=WRITE", "--fsid", "9", "--root-fh", "6b73Ff01"]).unwrap();
        assert_eq!((o.procedure, o.fsid), (7, 9));
        assert_eq!(o.root_fh, Some(vec![0x6b, 0x73, 0xff, 0x01]));
        let o = run(&["--export", "/srv/ksf", "--mount-port", "2049"]).unwrap();
        assert_eq!(
            (o.export.as_deref(), o.mount_port),
            (Some("/srv/ksf"), Some(2049))
        );
        for (name, n) in [("null", 0), ("getattr", 1), ("lookup", 3), ("7", 7)] {
            assert_eq!(run(&["--proc", name]).unwrap().procedure, n);
        }
        assert_eq!(run(&[]).unwrap().len, 4096);
        let o = run(&["--proc", "read", "--verify-pattern"]).unwrap();
        assert!(o.verify_pattern);
        // Numbers of another program are called without arguments.
        let o = run(&["--prog", "100005", "--proc", "1"]).unwrap();
        assert!(!nfs::with_args(&o));
        assert!(!nfs::with_args(
            &run(&["--proc", "getattr", "--vers=4"]).unwrap()
        ));
    }

    #[test]
    fn bad_options() {
        let e = |args: &[&str]| run(args).unwrap_err();
        assert_eq!(e(&["-a", "1024"]), "-a: 1024 is out of range 0..1023");
        assert_eq!(e(&["-c", "0"]), "-c: 0 is out of range 1..2147483648");
        assert_eq!(e(&["-j", "0"]), "-j: 0 is out of range 1..1024");
        assert_eq!(
            e(&["-A", "krb5"]),
            "-A: unknown flavor 'krb5' (none or sys)"
        );
        assert!(e(&["-u", "-f"]).starts_with("-f: UDP has no record marking"));
        assert!(e(&["-u", "-C2"]).starts_with("-C: UDP has no connections"));
        assert_eq!(e(&["-C", "0"]), "-C: 0 is out of range 1..16384");
        assert_eq!(e(&["-C", "16385"]), "-C: 16385 is out of range 1..16384");
        assert!(e(&["--proc", "4294967296"]).starts_with("--proc: 4294967296 is out of range"));
        assert!(e(&["-c", "1x"]).starts_with("-c: invalid number '1x'"));
        assert_eq!(
            e(&["--proc", "readdir"]),
            "--proc: unknown procedure 'readdir' (null, getattr, lookup, read, write or a number)"
        );
        assert!(e(&["--proc", "6x"]).starts_with("--proc: invalid number '6x'"));
        assert_eq!(e(&["-l", "0"]), "-l: 0 is out of range 1..1048576");
        assert_eq!(
            e(&["-l", "1025k"]),
            "-l: 1049600 is out of range 1..1048576"
        );
        assert!(e(&["--root-fh", "abc"]).starts_with("--root-fh: bad handle 'abc'"));
        assert!(e(&["--root-fh", "zz"]).starts_with("--root-fh: bad handle 'zz'"));
        assert!(e(&["--root-fh", &"00".repeat(65)]).starts_with("--root-fh: bad handle"));
        assert!(e(&["-u", "--proc", "read"]).starts_with("-u: NFSv3 GETATTR"));
        assert_eq!(
            e(&["--export", "ksf"]),
            "--export: 'ksf' is not an absolute path"
        );
        assert!(e(&["--export=/a", "--root-fh=01"]).starts_with("--export: the root handle"));
        assert!(e(&["--mount-port=9"]).starts_with("--mount-port: nothing to mount"));
        assert!(e(&["--verify-pattern"]).starts_with("--verify-pattern: only NFSv3 READ"));
        assert!(e(&["--proc", "write", "--verify-pattern"]).starts_with("--verify-pattern"));
        assert!(e(&["-q", "50,x"]).starts_with("-q: bad quantile 'x'"));
        assert_eq!(e(&["-d", ""]), "-d: empty directory name");
        assert_eq!(e(&["-z"]), "unknown option -z");
        assert_eq!(e(&["--bogus"]), "unknown option --bogus");
        assert_eq!(e(&["a", "b"]), "unexpected argument 'b'");
        assert_eq!(e(&["-c"]), "option -c requires a value");
    }
}
