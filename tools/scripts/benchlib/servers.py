# SPDX-License-Identifier: GPL-2.0
"""The servers make bench measures: how to start and stop each in the
guest (shell commands), and where it listens."""

MODDIR = "/lib/modules/ksf"

def listening(port):
    """A shell test: something listens on TCP PORT (IPv4 or IPv6)."""
    return (f"grep -qE ':{port:04X} [0-9A-F]+:0000 0A' /proc/net/tcp /proc/net/tcp6 "
            f"2>/dev/null")


def wait_listening(port, alive=""):
    """Shell: wait up to 10 s for a listener on PORT; ALIVE, if given, is a
    test that the server process still runs."""
    dead = (f"{alive} || {{ echo 'the server exited:'; cat /tmp/bench-srv.log; exit 1; }}; "
            if alive else "")
    return (f"i=0; until {listening(port)}; do {dead}i=$((i + 1)); "
            f"[ $i -le 100 ] || {{ echo 'nothing listens on TCP port {port} after 10 s'; "
            f"exit 1; }}; sleep 0.1; done")


def wait_closed(port):
    return (f"i=0; while {listening(port)}; do i=$((i + 1)); "
            f"[ $i -le 50 ] || {{ echo 'TCP port {port} still listening 5 s after the stop'; "
            f"exit 1; }}; sleep 0.1; done")


class Server:
    """How to start and stop one server in the guest, and where it listens
    (port None: nothing to start, the driver is the whole test); ARGS:
    the load generator's extra arguments for it; TRANSPORT: "tcp", or
    "smc" for a server whose clients must all run over SMC-D (the bench
    checks the SMC counters around each of its points: smc_counters);
    STATS: its debugfs statistics file, for a ksf module."""

    def __init__(self, name, suite, port, start="", stop="", alive="", cpu=None, args="",
                 diag="", transport="tcp", stats=None):
        self.name, self.suite, self.port = name, suite, port
        self.start_cmd, self.stop_cmd, self.alive, self.cpu = start, stop, alive, cpu
        self.args, self.diag = args, diag
        self.transport, self.stats = transport, stats

    def start(self):
        if self.port is None:
            return "true"
        return (f"if {listening(self.port)}; then echo 'TCP port {self.port} is already in "
                f"use'; exit 1; fi; {self.start_cmd} && {wait_listening(self.port, self.alive)}")

    def stop(self):
        if self.port is None:
            return "true"
        return f"{self.stop_cmd}; {wait_closed(self.port)}"


def module(name, suite, mod, port, params="", args=""):
    """A ksf module MOD loaded with PARAMS; ARGS: the load generator's
    extra arguments (--smc for transport=smc)."""
    start = (f"insmod {MODDIR}/{mod}.ko {params} || {{ dmesg | tail -n 5; exit 1; }}").strip()
    # Linux ignores an unknown module parameter (with a line in dmesg):
    # the module must report the backend, affinity and transport asked
    # for in its statistics.
    stats = f"/sys/kernel/debug/{mod}/stats"
    transport = "tcp"
    for kv in params.split():
        key, want = kv.split("=", 1)
        if key == "transport":
            transport = want
        if key not in ("backend", "affinity", "transport"):
            continue
        start += (f" && if ! grep -q '^{key} {want}' {stats} 2>/dev/null; then "
                  f"echo \"{mod}: loaded with {params} but {stats} does not say "
                  f"'{key} {want}' ($(grep '^{key}' {stats} 2>/dev/null || echo no {key} "
                  f"line)); $(dmesg | grep -i 'unknown parameter' | tail -n 1)\"; rmmod {mod}; "
                  f"exit 1; fi")
    # After a failed point: why the service closed connections, if it did.
    diag = (f"awk '$1 ~ /^(closed|evicted|timeout_|shed|errors|io_errors|nomem_)/ && $2 != 0 "
            f"{{printf \"%s %s, \", $1, $2}}' {stats}; dmesg | grep '{mod}:' | tail -n 2")
    return Server(name, suite, port, start, f"rmmod {mod}", diag=diag, args=args,
                  transport=transport, stats=stats)


def smc_counters(server):
    """Shell: the SMC counters around a point of SERVER (transport smc):
    its module's statistics as 'mod NAME VALUE' lines (smcd, smc_fallback,
    smc_refused, ...), if it has them, and the kernel's (ksf-smc stats:
    smcd_srv_v2_succ, srv_fback, ...) as 'kern NAME VALUE' lines;
    smc.smc_check compares two of them. Exit status 1 if either cannot
    be read."""
    mod = (f"sed 's/^/mod /' {server.stats} || exit 1; " if server.stats else "")
    return (f"{mod}k=$(ksf-smc stats 2>&1) || {{ echo \"ksf-smc stats: $k\"; exit 1; }}; "
            "echo \"$k\" | sed 's/^/kern /'")


# Open files of usrv: its connections at the largest scale point and
# spare (the default soft limit, 1024, is below 1,024 connections plus
# listeners).
USRV_NOFILE = 65536


def usrv(suite, model, port):
    proto = "rpc" if suite == "rpc" else "echo"
    start = (f"ulimit -n {USRV_NOFILE} && "
             f"{{ usrv --proto {proto} --model {model} -p {port} -v >/tmp/bench-srv.log 2>&1 & "
             f"echo $! >/tmp/bench-srv.pid; }}")
    alive = "kill -0 $(cat /tmp/bench-srv.pid) 2>/dev/null"
    stop = ("pid=$(cat /tmp/bench-srv.pid); kill $pid; i=0; "
            "while kill -0 $pid 2>/dev/null; do i=$((i + 1)); "
            "[ $i -le 50 ] || { kill -9 $pid; break; }; sleep 0.1; done; "
            "rm -f /tmp/bench-srv.pid")
    return Server(f"usrv-{model}", suite, port, start, stop, alive)


# knfsd closes the oldest connection whose client never presented a file
# handle (all of rpctest's) once it has more than max_connections of them,
# 64 when it is 0 (Linux 6.12's default): raised above the largest scale
# point.
KNFSD_MAX_CONNS = 16384
# The NFSv3 suite's exports: krpc2's in memory (files=N: file0... of
# NFS_FILE_SIZE bytes; READ and WRITE up to its max_io, 1 MiB by default)
# and knfsd's on tmpfs (ksf-knfsd: 4 files of 1 MiB, READ and WRITE up to
# 1 MiB), whose root handle rpctest is given (krpc2's is its default).
NFS_FILES = 4
NFS_FILE_SIZE = 1 << 20
KNFSD_ROOT_FH = "0100010001000000"


def servers():
    return [
        module("krpc2", "rpc", "krpc2", 62049),
        module("krpc2-wq", "rpc", "krpc2", 62049, "backend=wq"),
        module("krpc2-conn", "rpc", "krpc2", 62049, "affinity=conn"),
        # Over SMC-D (issue #16): the module's listener takes SMC clients
        # only (transport=smc: a connection that fell back to TCP is closed
        # at accept and counted in smc_refused), the load generator's
        # sockets are SMC (--smc); the TCP side of the comparison is krpc2.
        module("krpc2-smc", "rpc", "krpc2", 62049, "transport=smc", args="--smc"),
        Server("knfsd", "rpc", 62050,
               f"ksf-knfsd start 62050 && echo {KNFSD_MAX_CONNS} >/proc/fs/nfsd/max_connections",
               "ksf-knfsd stop"),
        usrv("rpc", "epoll", 62051),
        usrv("rpc", "uring", 62051),
        module("kecho", "echo", "kecho", 60007),
        module("kecho-wq", "echo", "kecho", 60007, "backend=wq"),
        module("kecho-conn", "echo", "kecho", 60007, "affinity=conn"),
        module("kecho-smc", "echo", "kecho", 60007, "transport=smc", args="--smc"),
        usrv("echo", "epoll", 60008),
        usrv("echo", "uring", 60008),
        Server("floor", "echo", None),
        Server("floor-1cpu", "echo", None, cpu="0"),
        Server("floor-2cpu", "echo", None, cpu="0,1"),
        # The floor over SMC-D (loopback-ism): pingpong with SMC sockets at
        # both ends (issue #16).
        Server("floor-smc", "echo", None, args="--smc", transport="smc"),
        module("krpc2", "nfs3", "krpc2", 62049,
               f"files={NFS_FILES} file_size={NFS_FILE_SIZE}"),
        Server("knfsd", "nfs3", 62050,
               f"ksf-knfsd start 62050 8 {NFS_FILES} {NFS_FILE_SIZE}",
               "ksf-knfsd stop", args=f"--root-fh {KNFSD_ROOT_FH}"),
        Server("floor", "nfs3", None),
        Server("floor-1cpu", "nfs3", None, cpu="0"),
        Server("floor-2cpu", "nfs3", None, cpu="0,1"),
    ]
