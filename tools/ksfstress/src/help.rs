// SPDX-License-Identifier: GPL-2.0

//! Help texts.

use crate::opts::Sub;

/// The subcommands' names, for messages.
pub const SUBCOMMANDS: [&str; 9] = [
    "fuzz",
    "hold",
    "churn",
    "reset",
    "halfclose",
    "noread",
    "flood",
    "slowloris",
    "idle",
];

pub const TOOL: &str = "\
Usage: ksfstress SUBCOMMAND [OPTIONS] HOST[:PORT]

Reliability client for ksf's servers: krpc2 (--proto rpc, ONC RPC NFS NULL
over TCP record marking, port 62049) and kecho (--proto echo, port 60007).
Every reply is checked; a misbehaving server is a finding.

Subcommands:
  fuzz       mutated RPC records (or random echo traffic) over many
             connections, checked against a model of the server, with a
             good client checked after every batch
  hold       many connections opened and held at once, then each served
  churn      connect/close cycles: immediate close, one call, reset
  reset      peers that send part of a record, then reset the connection
  halfclose  peers that send calls, shut down their sending side, and must
             still get every reply, then EOF
  noread     peers that send as fast as they can and never read, while a
             good client measures its latency
  flood      an idle connection flood from several processes, held open,
             while a good client is served
  slowloris  peers that send a record one byte at a time (echo: send and
             never read); the server must close them in time
  idle       peers that send nothing (or one call first); the server must
             close them in time

Run 'ksfstress SUBCOMMAND --help' for a subcommand's options.

Each run prints one summary line of key=value pairs on stdout; findings and
errors go to stderr. Exit status: 0 no finding; 1 a finding (the server
misbehaved, could not be reached, or the run could not be done); 2 bad usage.
";

const COMMON: &str = "
Common options:
  --proto P         rpc or echo [rpc]
  -p, --port N      port [from HOST:PORT, else 62049 for rpc, 60007 for echo]
  --smc             every connection (the peers', the flood's, the good
                    client's) is an SMC socket (AF_SMC): SMC-D to a server
                    in this OS that speaks SMC (kecho, krpc2 transport=both
                    or smc), TCP by fallback to one that does not [TCP]
  --timeout MS      longest wait for any progress, and for a good-client
                    check [10000]
  --seed S          seed of the random traffic [from the clock; printed]
  --good-calls N    calls (echo: round trips) per good-client check [100]
  --good-conns N    connections per good-client check [2]
  --check-cmd CMD   also run 'sh -c CMD' at each good-client check; a
                    nonzero exit (or a run over max(--timeout, 60 s)) is a
                    finding
  --stall-cmd CMD   when a connection stalls, run 'sh -c CMD' (with
                    KSF_STALL_PORT, the connection's local port, in the
                    environment) and add its output to the finding: say,
                    the server's socket queues
  --files N         the server's NFSv3 export (krpc2 files=N) [0: none];
                    fuzz then sends NFSv3 calls with hostile arguments too,
                    and the good client WRITEs and READs back the last file
  --file-size N     bytes of each exported file (krpc2 file_size) [262144]
  --max-io N        the export's most bytes per READ or WRITE (krpc2
                    max_io) [1048576]
  -v, --verbose     progress on stderr
  -h, --help        this help
  --version         the version and the git revision of the build

Numbers take suffixes k/m/g (2^10, 2^20, 2^30) and K/M/G (10^3, 10^6, 10^9).
";

const FUZZ: &str = "\
Usage: ksfstress fuzz [OPTIONS] HOST[:PORT]

Sends mutated traffic over many connections at once. RPC: valid NULL calls
mixed with calls whose header, credential or verifier is broken, calls cut
into fragments and writes at random byte offsets (sometimes with pauses),
and broken record marking (empty, huge, short, long or unterminated marks,
many empty fragments, random bytes); one connection in 64 pipelines 450 to
1200 calls ended by an empty record. Each connection's byte stream is run
through a model of krpc2 (ksf-proto's record marking and dispatch policy)
and every reply must be the model's, in order; a connection the model says
is closed (malformed record) must be closed, after the replies to the
records before it. Echo: messages of random sizes and contents, split at
random; every byte must come back, in order, and the server closes nothing.
The client ends each connection with EOF (sometimes a reset), so the server
must close it too. After every batch a good client must be served. A
finding ends the run after its batch, unless --keep-going.

Options:
  --conns N         connections at once [16]
  --records N       mutated records to send (echo: messages) [10000]
  --batch N         records between good-client checks [1000]
  --max-record N    the server's largest record (krpc2 max_record, usrv
                    --max-record) for the model [4096]
  --max-message N   echo: the largest message [524288]; smaller keeps the
                    bytes down on a slow path (QEMU user networking)
  --keep-going      go on with the next batch after a finding
  --lossy-close     a connection the server closes on a malformed record may
                    end with an EOF before the replies to the records ahead
                    of it (else only a reset may lose them). For paths that
                    turn the server's reset into an EOF, such as QEMU user
                    networking (host -> guest forwarded ports)
";

const HOLD: &str = "\
Usage: ksfstress hold [OPTIONS] HOST[:PORT]

Opens --conns connections and holds them all (raising the open-file limit
as needed), waits --secs, checks that the server closed none of them, then
sends one call (echo: one message) on each while all are held, checks
every reply, and closes them all.

Options:
  --conns N         connections to hold [1000]
  --secs S          seconds to hold them before serving [1]
";

const CHURN: &str = "\
Usage: ksfstress churn [OPTIONS] HOST[:PORT]

Runs --cycles connect/close cycles: some close at once, some make one call
(echo: one round trip) and check it, some reset the connection (SO_LINGER
0), at once or with a call unanswered. Then a good-client check.

Options:
  --cycles N        connect/close cycles [10000]
  --jobs N          threads running cycles [2]
";

const RESET: &str = "\
Usage: ksfstress reset [OPTIONS] HOST[:PORT]

Runs --count peers that each send part of a record (a partial mark, a mark
and part of its payload, or calls then a partial one, or many calls whose
replies they never read; echo: data never read) and then reset the
connection (SO_LINGER 0). Then a good-client check.

Options:
  --count N         peers [1000]
  --conns N         peers at once [16]
";

const HALFCLOSE: &str = "\
Usage: ksfstress halfclose [OPTIONS] HOST[:PORT]

Runs --count peers that each send --calls valid calls (echo: messages),
split at random, then shut down their sending side (shutdown SHUT_WR). Each
must still receive every reply (echo: every byte), then EOF. A server that
closes or resets before delivering everything is a finding.

Options:
  --count N         peers [1000]
  --calls K         calls (echo: messages) per peer [10]
  --conns N         peers at once [16]
";

const NOREAD: &str = "\
Usage: ksfstress noread [OPTIONS] HOST[:PORT]

Opens --conns peers that send valid calls (echo: data) as fast as they can
and never read, for --secs. Meanwhile a good client makes round trips one
after another; each must be answered within --timeout, and its latency is
reported. The non-readers must stall once the socket buffers are full: one
that gets more than --max-unread bytes accepted, or that the server closes,
is a finding. Then the non-readers are closed and a good-client check runs.
The summary gives the bytes each non-reader got accepted (sent_each, up to
64 peers), and how many had stalled (no write accepted in the last second,
or the last quarter of a shorter run).

Options:
  --conns N         non-reading peers [16]
  --secs S          seconds to run [5]
  --max-unread N    most bytes one non-reader may get accepted [64m]
";

const FLOOD: &str = "\
Usage: ksfstress flood [OPTIONS] HOST[:PORT]

An idle connection flood: --procs processes (copies of ksfstress, each
raising its own open-file limit) make --attempts connections in all, as
fast as they can, with at most 512 in progress per process, and hold them
open without sending anything. Against a loopback IPv4 target the source
addresses are spread over 127.0.0.1-127.0.0.250 (bound before connecting)
so that ephemeral ports do not run out. A connection not established
within --timeout counts as failed (ETIMEDOUT). After the last attempt the
connections are held --hold-secs, then reset.

Meanwhile a good client probes the server over and over (a fresh
connection, one call or echo checked, a clean close, each within
--timeout), and --check-cmd, if given, runs over and over: a failure of
either is a finding. Refused, failed or closed flood connections are not
findings: a server defending itself may do that.

The summary gives the attempts, the connections established, those that
failed (failed_by: per errno), closed by the server while held (reset or
EOF), and still open at the end; the good client's probes and their p50,
p99 and max latency (ms), and the check command's runs.

Options:
  --attempts N      connection attempts in all [1000]
  --procs P         processes making them [1]
  --hold-secs S     seconds to hold them after the last attempt [1]
  --send-partial    send a partial record mark (2 bytes) on each
                    connection instead of nothing
";

const SLOWLORIS: &str = "\
Usage: ksfstress slowloris [OPTIONS] HOST[:PORT]

Opens --conns connections that never complete a request. RPC: each sends a
NULL call's record (mark included) one byte every --interval-secs. Echo:
each sends data as fast as the server takes it and never reads, so the
server's echo cannot go out (small socket buffers make it stall within a
few KiB). Every connection is watched (without reading) until the server
closes it; the summary gives how many it closed (by reset or EOF) and
after how long, from the first byte sent, once all are open (min, median,
max seconds). A connection still open after --expect-close-secs (from
then) is a finding. Then a good-client check.

Options:
  --conns N              slow peers [16]
  --interval-secs S      seconds between an RPC peer's bytes [1]
  --expect-close-secs S  the server must have closed every peer by then
                         [32: the default request_timeout 30 s + 2]
";

const IDLE: &str = "\
Usage: ksfstress idle [OPTIONS] HOST[:PORT]

Opens --conns connections that send nothing (with --valid-first, one valid
call or echo each first, checked), and watches them (without reading) until
the server closes them; the summary gives how many it closed (by reset or
EOF) and after how long, from the connect or the valid call's answer (min,
median, max seconds). A connection still open after --expect-close-secs is
a finding. Then a good-client check.

Options:
  --conns N              idle peers [16]
  --valid-first          one valid call (echo: message) on each first
  --expect-close-secs S  the server must have closed every peer by then
                         [362: the default idle_timeout 360 s + 2]
";

/// The help of `sub`.
pub fn sub(sub: Sub) -> String {
    let text = match sub {
        Sub::Fuzz => FUZZ,
        Sub::Hold => HOLD,
        Sub::Churn => CHURN,
        Sub::Reset => RESET,
        Sub::HalfClose => HALFCLOSE,
        Sub::NoRead => NOREAD,
        Sub::Flood => FLOOD,
        Sub::Slowloris => SLOWLORIS,
        Sub::Idle => IDLE,
    };
    format!("{text}{COMMON}")
}
