#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run the ksf QEMU guest: start it, run commands in it, stop it.

  ksfvm.py start --kernel BZIMAGE --initrd CPIO [--load "kecho krpc2"]
                 [--lan server|client [--lan-port PORT]]
  ksfvm.py exec [--timeout S] -- COMMAND...
  ksfvm.py stop
  ksfvm.py status

The guest talks to the host through a virtio-serial port (ksf.ctl) bound to
a Unix socket under the state directory: the guest's agent (tools/vm/agent)
runs each command with sh and streams its output back, followed by its exit
status. Networking is QEMU user mode with restrict=on: the guest reaches
nothing, and only the service ports are forwarded from host 127.0.0.1.
The console always goes to <state>/console.log.

--lan adds a second virtio-net NIC on a point-to-point "lan" between two
guests: a QEMU dgram backend, UDP on host 127.0.0.1, the server guest on
PORT and the client guest on PORT+1, each sending its frames to the other
(no host stack or forwarding in between but the UDP socket pair; either
guest may start first, a frame sent while the other is down is lost like
on a cable). The server is 10.9.0.1/24, the client 10.9.0.2/24 (set by
the guest's init from ksf.lan= on the kernel command line).
"""

import argparse
import base64
import fcntl
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import time

# (protocol, port): host 127.0.0.1:port+offset reaches the guest's port.
FORWARDS = (("tcp", 60007), ("udp", 60007), ("tcp", 62049))


def forwards(offset):
    """QEMU hostfwd rules; OFFSET shifts the host side so that two guests
    (a check and a benchmark, say) can run at once."""
    if offset < 0:
        return []
    top = max(port for _, port in FORWARDS) + offset
    if top > 65535:
        raise SystemExit(f"ksfvm: forward offset {offset} puts guest port "
                         f"{top - offset} at host port {top}, above 65535; the "
                         f"offset may be at most {offset - (top - 65535)} "
                         "(a negative one forwards nothing)")
    return [f"hostfwd={proto}:127.0.0.1:{port + offset}-:{port}" for proto, port in FORWARDS]


# The lan's two ends: (guest address/prefix, MAC, port above --lan-port).
LAN = {"server": ("10.9.0.1/24", "52:54:00:09:00:01", 0),
       "client": ("10.9.0.2/24", "52:54:00:09:00:02", 1)}
LAN_PORT = 61000


def lan_args(role, port):
    """(QEMU arguments, kernel command line) of ROLE's lan NIC, its dgram
    socket on host 127.0.0.1:PORT (+1 for the client), sending to the
    other end. No vnet header on this backend: virtio-net offers the guest
    no checksum or segmentation offload, so each side checksums and
    segments in software, and receives one frame of up to the MTU (1500)
    per UDP datagram."""
    if not 1024 <= port <= 65534:
        raise SystemExit(f"ksfvm: --lan-port {port} is not a port in 1024..65534")
    addr, mac, mine = LAN[role]
    peer = LAN["client" if role == "server" else "server"][2]
    netdev = (f"dgram,id=lan,local.type=inet,local.host=127.0.0.1,local.port={port + mine},"
              f"remote.type=inet,remote.host=127.0.0.1,remote.port={port + peer}")
    return (["-netdev", netdev, "-device", f"virtio-net-pci,netdev=lan,mac={mac}"],
            f"ksf.lan={addr},{mac}")


def die(msg, code=1):
    print(f"ksfvm: {msg}", file=sys.stderr)
    sys.exit(code)


class State:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.pidfile = os.path.join(self.root, "qemu.pid")
        self.ctl = os.path.join(self.root, "ctl.sock")
        self.monitor = os.path.join(self.root, "monitor.sock")
        self.console = os.path.join(self.root, "console.log")
        self.lock = os.path.join(self.root, "ctl.lock")

    def pid(self):
        """The running QEMU's pid, or None."""
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"qemu" not in f.read():
                    return None
        except OSError:
            return None
        return pid


def console_tail(st, lines=30):
    try:
        with open(st.console, "rb") as f:
            data = f.read().decode(errors="replace").splitlines()
    except OSError:
        return "(no console log)"
    return "\n".join(data[-lines:])


# What the guest agent prints when it kills a command past its time.
KILLED = b"\nksf-agent: killed after %d s\n"


def run_in_guest(st, command, timeout, out=None, quiet_errors=False):
    """Runs COMMAND in the guest; streams its output to OUT; returns its
    exit status. Raises TimeoutError or ConnectionError."""
    out = out or sys.stdout.buffer
    token = secrets.token_hex(8).encode()
    # The guest kills the command at TIMEOUT; the host waits a little
    # longer for the status that says so.
    secs = max(1, math.ceil(timeout))
    grace = 15
    start_mark = token + b" start\n"
    end_mark = b"\n" + token + b" rc="
    deadline = time.monotonic() + secs + grace
    with open(st.lock, "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            s.connect(st.ctl)
            s.sendall(b"%s %d %s\n" % (token, secs, base64.b64encode(command.encode())))
            buf = b""
            recent = b""  # the end of what was written out, for KILLED
            started = False
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"command did not finish in {timeout} s")
                s.settimeout(left)
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    raise TimeoutError(f"command did not finish in {timeout} s")
                if not chunk:
                    raise ConnectionError("guest closed the control channel")
                buf += chunk
                if not started:
                    i = buf.find(start_mark)
                    if i < 0:
                        buf = buf[-len(start_mark):]
                        continue
                    buf = buf[i + len(start_mark):]
                    started = True
                i = buf.find(end_mark)
                if i >= 0:
                    tail = buf[i + len(end_mark):]
                    nl = tail.find(b"\n")
                    if nl >= 0:
                        out.write(buf[:i])
                        out.flush()
                        if (recent + buf[:i]).endswith(KILLED % secs):
                            raise TimeoutError(f"command did not finish in {timeout} s "
                                               "(killed in the guest)")
                        return int(tail[:nl])
                    continue
                keep = len(end_mark) + 8
                if len(buf) > keep:
                    out.write(buf[:-keep])
                    out.flush()
                    recent = (recent + buf[:-keep])[-len(KILLED) - 16:]
                    buf = buf[-keep:]
        finally:
            s.close()


def cmd_start(args, st):
    if st.pid():
        die(f"a guest is already running (pid {st.pid()}); run 'make vm-stop' first")
    for path, what in ((args.kernel, "kernel"), (args.initrd, "initramfs")):
        if not os.path.isfile(path):
            die(f"{what} not found: {path}")
    os.makedirs(st.root, exist_ok=True)
    for p in (st.ctl, st.monitor, st.pidfile):
        if os.path.exists(p):
            os.unlink(p)
    accel = args.accel
    if accel not in ("tcg", "kvm"):
        die(f"unknown accelerator '{accel}' (tcg or kvm)")
    # Emulated CPUs stall when the host is busy: keep the soft-lockup and
    # RCU-stall detectors for real hangs (120 s) rather than host load.
    # pci=noacpi: PCI interrupt routing from the BIOS tables instead of the
    # ACPI _PRT method, whose AML runs into its 30 s loop timeout under TCG
    # with KASAN (twice); virtio uses MSI-X anyway.
    append = ("console=ttyS0 panic=-1 watchdog_thresh=60 rcupdate.rcu_cpu_stall_timeout=120 "
              "pci=noacpi ksf.load=" + ",".join(args.load.split()))
    lan = []
    if args.lan:
        lan, lan_append = lan_args(args.lan, args.lan_port)
        append += " " + lan_append
    if args.append:
        append += " " + args.append
    # No 5-level paging under TCG: a debug kernel booted with LA57 hit a
    # KASAN wild-memory-access report in early boot (rcu_is_watching from an
    # interrupt during identify_cpu); the guest needs none of it.
    cpu = "host" if accel == "kvm" else "max,la57=off"
    cmd = [
        "qemu-system-x86_64", "-accel", accel, "-cpu", cpu,
        "-smp", str(args.smp), "-m", str(args.mem),
        "-kernel", args.kernel, "-initrd", args.initrd, "-append", append,
        "-display", "none", "-no-reboot",
        "-chardev", f"file,id=con,path={st.console}", "-serial", "chardev:con",
        "-netdev", ",".join(["user,id=n0,restrict=on", *forwards(args.forward_offset)]),
        "-device", "virtio-net-pci,netdev=n0", *lan,
        "-device", "virtio-serial-pci",
        "-chardev", f"socket,id=ctl,path={st.ctl},server=on,wait=off",
        "-device", "virtserialport,chardev=ctl,name=ksf.ctl",
        "-monitor", f"unix:{st.monitor},server=on,wait=off",
        "-pidfile", st.pidfile, "-daemonize",
    ]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        die(f"qemu failed to start:\n{r.stdout.strip()}")
    t0 = time.monotonic()
    deadline = t0 + args.boot_timeout
    while time.monotonic() < deadline:
        if not st.pid():
            die("the guest died while booting; console:\n" + console_tail(st))
        try:
            sink = open(os.devnull, "wb")
            if run_in_guest(st, "test -e /run/ksf-ready", 5, out=sink) == 0:
                print(f"ksfvm: guest ready in {time.monotonic() - t0:.1f} s "
                      f"(pid {st.pid()}, {accel}, console {st.console})")
                return 0
        except (OSError, TimeoutError, ConnectionError):
            pass
        time.sleep(0.5)
    cmd_stop(args, st)
    die(f"the guest was not ready within {args.boot_timeout} s; console:\n" + console_tail(st))


def cmd_exec(args, st):
    if not st.pid():
        die("no guest is running; run 'make vm-start' first")
    command = " ".join(args.command)
    if not command.strip():
        die("nothing to run", 2)
    try:
        return run_in_guest(st, command, args.timeout)
    except TimeoutError as e:
        die(str(e), 124)
    except (OSError, ConnectionError) as e:
        if not st.pid():
            die(f"the guest died ({e}); console:\n" + console_tail(st))
        die(f"cannot reach the guest: {e}")


def cmd_stop(args, st):
    pid = st.pid()
    if not pid:
        print("ksfvm: no guest running")
        return 0
    try:
        # -no-reboot turns the guest's reboot into a QEMU exit.
        run_in_guest(st, "sync; (sleep 0.2; reboot -f) >/dev/null 2>&1 &", 5,
                     out=open(os.devnull, "wb"))
    except (OSError, TimeoutError, ConnectionError):
        pass
    for sig, wait in ((None, 15), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if sig:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
        end = time.monotonic() + wait
        while time.monotonic() < end and st.pid():
            time.sleep(0.1)
        if not st.pid():
            break
    for p in (st.ctl, st.monitor, st.pidfile):
        if os.path.exists(p):
            os.unlink(p)
    print("ksfvm: guest stopped")
    return 0


def cmd_status(args, st):
    pid = st.pid()
    print(f"ksfvm: running (pid {pid})" if pid else "ksfvm: not running")
    return 0 if pid else 1


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", default=os.environ.get("KSF_VM_DIR", "build/vm"),
                   help="state directory (console.log, sockets, pid file)")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start", help="boot the guest in the background")
    s.add_argument("--kernel", required=True)
    s.add_argument("--initrd", required=True)
    s.add_argument("--load", default="", help="modules to load at boot (names)")
    s.add_argument("--accel", default=os.environ.get("KSF_ACCEL", "tcg"))
    s.add_argument("--smp", type=int, default=2)
    s.add_argument("--mem", type=int, default=1024, help="MiB")
    s.add_argument("--append", default="", help="extra kernel command line")
    s.add_argument("--boot-timeout", type=float, default=300)
    s.add_argument("--lan", choices=sorted(LAN),
                   help="a second NIC on the two-guest lan: server (10.9.0.1) or client "
                        "(10.9.0.2)")
    s.add_argument("--lan-port", type=int, metavar="PORT",
                   help="the lan's UDP ports on host 127.0.0.1: PORT (server) and PORT+1 "
                        f"(client) [{LAN_PORT} + the forward offset when that is positive]")
    s.add_argument("--forward-offset", type=int,
                   default=int(os.environ.get("KSF_VM_FWD_OFFSET", "0")),
                   help="host port = guest port + this (-1: no forwarding) [0, or "
                        "$KSF_VM_FWD_OFFSET]")
    e = sub.add_parser("exec", help="run a shell command in the guest")
    e.add_argument("--timeout", type=float, default=600)
    e.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("stop", help="stop the guest")
    sub.add_parser("status", help="exit 0 if a guest is running")
    args = p.parse_args()
    if args.cmd == "start" and args.lan_port is None:
        args.lan_port = LAN_PORT + max(0, args.forward_offset)
    if args.cmd == "exec" and args.command[:1] == ["--"]:
        args.command = args.command[1:]
    st = State(args.dir)
    return {"start": cmd_start, "exec": cmd_exec, "stop": cmd_stop,
            "status": cmd_status}[args.cmd](args, st)


if __name__ == "__main__":
    sys.exit(main())
