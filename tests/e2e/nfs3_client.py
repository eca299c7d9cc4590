#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""An NFSv3 client for krpc2's in-memory export (host side, through the
forwarded port). `check` runs LOOKUP, GETATTR, WRITE and READ (small,
unaligned, max_io, pipelined behind each other) and the error cases, and
compares every reply byte for byte with the layout of RFC 1813 built
here from the export's documented shape; `load` keeps connections busy
with pipelined READs until the server goes away (for rmmod under load)."""

import argparse
import socket
import struct
import sys
import threading
import time

PROGRAM, VERSION = 100003, 3
GETATTR, SETATTR, LOOKUP, READ, WRITE = 1, 2, 3, 6, 7
# The export's handles (rust/proto/src/nfs3/handle.rs) and krpc2's fsid.
MAGIC, FSID, ROOT, FIRST = 0x6B736633, 0x6B32, 1, 2
NFS3_OK, NOENT, FBIG, STALE, BADHANDLE = 0, 2, 27, 70, 10001
PROC_UNAVAIL, GARBAGE_ARGS = 3, 4
FILE_SYNC = 2
REG, DIR = 1, 2


class Fail(Exception):
    """A reply that is not what the RFC layout says."""


def u32(*words):
    """XDR unsigned ints."""
    return struct.pack(f">{len(words)}I", *words)


def u64(v):
    """An XDR unsigned hyper."""
    return struct.pack(">Q", v)


def opaque(data):
    """Variable-length XDR opaque data, padded to 4 bytes."""
    return u32(len(data)) + data + b"\0" * (-len(data) % 4)


def handle(fileid):
    """The handle of FILEID on krpc2's export."""
    return u32(MAGIC, FSID) + u64(fileid)


def call(xid, proc, args):
    """A marked call record with AUTH_NONE."""
    body = u32(xid, 0, 2, PROGRAM, VERSION, proc, 0, 0, 0, 0) + args
    return u32(0x80000000 | len(body)) + body


def recv_exact(s, n):
    """N bytes from S, or ConnectionError at the end of the stream."""
    out = bytearray()
    while len(out) < n:
        chunk = s.recv(min(n - len(out), 1 << 20))
        if not chunk:
            raise ConnectionError("closed by the server")
        out += chunk
    return bytes(out)


def read_record(s):
    """One reply record (a single last fragment, as krpc2 sends)."""
    mark = struct.unpack(">I", recv_exact(s, 4))[0]
    if not mark & 0x80000000:
        raise Fail(f"reply fragment is not the last: mark {mark:#x}")
    return recv_exact(s, mark & 0x7FFFFFFF)


def success(xid):
    """An accepted SUCCESS reply header with an AUTH_NONE verifier."""
    return u32(xid, 1, 0, 0, 0, 0)


def expect(what, got, want):
    """Raise Fail with the first differing byte unless GOT == WANT."""
    if got == want:
        return
    at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    raise Fail(f"{what}: {len(got)} bytes, want {len(want)}; first difference at byte {at}: "
               f"got {got[at:at + 16].hex()} want {want[at:at + 16].hex()}")


class Export:
    """The export's shape, and the attributes RFC 1813 says it has."""

    def __init__(self, files, file_size):
        self.files, self.file_size = files, file_size
        self.dir_time = None

    def fattr(self, fileid, times):
        """fattr3 of FILEID (the root or a file) with TIMES (8 bytes)."""
        if fileid == ROOT:
            kind, mode, nlink, size = DIR, 0o755, 2, 4096
        else:
            kind, mode, nlink, size = REG, 0o644, 1, self.file_size
        used = -(-size // 4096) * 4096
        return (u32(kind, mode, nlink, 0, 0) + u64(size) + u64(used) + u32(0, 0) +
                u64(FSID) + u64(fileid) + times * 3)

    def post_op(self, fileid, times):
        """post_op_attr with attributes."""
        return u32(1) + self.fattr(fileid, times)


def times_of(attr_at, reply):
    """The mtime (8 bytes) of the fattr3 at ATTR_AT in REPLY."""
    return reply[attr_at + 68:attr_at + 76]


class Client:
    """One connection, with xids and the checks of each procedure."""

    def __init__(self, port, export):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.xid, self.ex = 0x1000, export
        self.mtime = {}
        self.verf = None

    def next_xid(self):
        """A fresh xid."""
        self.xid += 1
        return self.xid

    def rpc(self, proc, args):
        """Send one call; its xid and reply."""
        xid = self.next_xid()
        self.s.sendall(call(xid, proc, args))
        return xid, read_record(self.s)

    def lookup(self, name, index):
        """LOOKUP NAME in the root: file INDEX's handle and attributes."""
        xid, r = self.rpc(LOOKUP, opaque(handle(ROOT)) + opaque(name.encode()))
        head = success(xid) + u32(NFS3_OK) + opaque(handle(FIRST + index))
        mtime = times_of(len(head) + 4, r)
        dir_time = times_of(len(head) + 4 + 84 + 4, r)
        want = head + self.ex.post_op(FIRST + index, mtime) + self.ex.post_op(ROOT, dir_time)
        expect(f"LOOKUP {name}", r, want)
        self.mtime[index] = mtime
        self.ex.dir_time = self.ex.dir_time or dir_time
        expect("root directory times", dir_time, self.ex.dir_time)

    def getattr(self, index):
        """GETATTR of file INDEX: its known attributes."""
        xid, r = self.rpc(GETATTR, opaque(handle(FIRST + index)))
        expect(f"GETATTR file{index}", r,
               success(xid) + u32(NFS3_OK) + self.ex.fattr(FIRST + index, self.mtime[index]))

    def write_args(self, index, offset, data):
        """WRITE3args, FILE_SYNC."""
        fh = opaque(handle(FIRST + index))
        return fh + u64(offset) + u32(len(data), FILE_SYNC) + opaque(data)

    def check_write(self, xid, r, index, count, verf):
        """A WRITE3resok of COUNT bytes (no attributes before the write, as
        knfsd); the verifier it gives."""
        head = success(xid) + u32(NFS3_OK) + u32(0)
        mtime = times_of(len(head) + 4, r)
        body = head + self.ex.post_op(FIRST + index, mtime) + u32(count, FILE_SYNC)
        got_verf = r[len(body):len(body) + 8]
        expect(f"WRITE file{index}", r, body + (verf or got_verf))
        self.mtime[index] = mtime
        return got_verf

    def check_read(self, xid, r, index, offset, data):
        """A READ3resok with DATA read at OFFSET."""
        eof = offset + len(data) >= self.ex.file_size
        want = (success(xid) + u32(NFS3_OK) + self.ex.post_op(FIRST + index, self.mtime[index]) +
                u32(len(data), int(eof)) + opaque(data))
        expect(f"READ file{index} {len(data)} bytes at {offset}", r, want)

    def read(self, index, offset, data):
        """READ len(DATA) bytes of file INDEX at OFFSET, expecting DATA."""
        xid, r = self.rpc(READ, opaque(handle(FIRST + index)) + u64(offset) + u32(len(data)))
        self.check_read(xid, r, index, offset, data)

    def status_only(self, what, proc, args, status, rest=b""):
        """A reply of STATUS followed by REST (a failure's attributes)."""
        xid, r = self.rpc(proc, args)
        expect(what, r, success(xid) + u32(status) + rest)

    def refused(self, what, proc, args, stat):
        """An accepted reply with STAT and no results."""
        xid, r = self.rpc(proc, args)
        expect(what, r, u32(xid, 1, 0, 0, 0, stat))


def pattern(seed, n):
    """N bytes that differ with SEED and position."""
    return bytes((i * 7 + i // 253 + seed) & 0xFF for i in range(n))


def check_io(c, max_io):
    """WRITE then READ back: 4 KiB, unaligned, max_io; pipelined order."""
    ex = c.ex
    verf = c.check_write(*c.rpc(WRITE, c.write_args(0, 0, pattern(1, 4096))), 0, 4096, None)
    c.verf = verf
    c.read(0, 0, pattern(1, 4096))
    print("ok: WRITE 4 KiB, READ it back")
    c.read(0, 1, pattern(1, 4096)[1:6])
    print("ok: READ 5 bytes at offset 1 (3 bytes of padding)")
    big = min(max_io, ex.file_size)
    c.lookup("file1", 1)
    c.check_write(*c.rpc(WRITE, c.write_args(1, 0, pattern(2, big))), 1, big, verf)
    c.read(1, 0, pattern(2, big))
    print(f"ok: WRITE {big} bytes, READ them back (eof {big >= ex.file_size})")
    # READ, WRITE, READ in one send: the first READ's data leaves before
    # the WRITE runs.
    xids = [c.next_xid() for _ in range(3)]
    c.s.sendall(call(xids[0], READ, opaque(handle(FIRST + 1)) + u64(0) + u32(big)) +
                call(xids[1], WRITE, c.write_args(1, 0, pattern(3, 4096))) +
                call(xids[2], READ, opaque(handle(FIRST + 1)) + u64(0) + u32(4096)))
    c.check_read(xids[0], read_record(c.s), 1, 0, pattern(2, big))
    c.check_write(xids[1], read_record(c.s), 1, 4096, verf)
    c.check_read(xids[2], read_record(c.s), 1, 0, pattern(3, 4096))
    print("ok: READ, WRITE, READ pipelined: the first READ has the data before the WRITE")
    c.read(1, ex.file_size, b"")
    print("ok: READ at the end of the file: no data, eof")


def check_max_io(c, max_io):
    """A READ or WRITE of more than max_io moves max_io bytes (when the file
    is larger): a short READ without eof, a WRITE whose count says so."""
    if max_io + 2048 > c.ex.file_size:
        return
    data = pattern(4, max_io + 2048)
    c.check_write(*c.rpc(WRITE, c.write_args(0, 0, data)), 0, max_io, c.verf)
    xid, r = c.rpc(READ, opaque(handle(FIRST)) + u64(0) + u32(max_io + 4096))
    c.check_read(xid, r, 0, 0, data[:max_io])
    print(f"ok: READ of {max_io + 4096} and WRITE of {max_io + 2048} bytes move max_io = {max_io}")


def check_errors(c):
    """Handles that are bad or stale, names not there, writes past the end,
    garbage arguments, a procedure not served."""
    ex = c.ex
    c.status_only("GETATTR of an 8-byte handle", GETATTR, opaque(b"12345678"), BADHANDLE)
    c.status_only("READ of an 8-byte handle", READ, opaque(b"12345678") + u64(0) + u32(10),
                  BADHANDLE, u32(0))
    stale = u32(MAGIC, FSID + 1) + u64(FIRST)
    c.status_only("GETATTR of another fsid", GETATTR, opaque(stale), STALE)
    c.status_only("GETATTR of a file past the last", GETATTR,
                  opaque(handle(FIRST + ex.files)), STALE)
    c.status_only("LOOKUP of a missing name", LOOKUP, opaque(handle(ROOT)) + opaque(b"nothere"),
                  NOENT, ex.post_op(ROOT, ex.dir_time))
    xid, r = c.rpc(WRITE, c.write_args(0, ex.file_size, b"x"))
    wcc = u32(0) + ex.post_op(FIRST, c.mtime[0])
    expect("WRITE past the end", r, success(xid) + u32(FBIG) + wcc)
    print("ok: BADHANDLE, STALE, NOENT, FBIG")
    c.refused("GETATTR without arguments", GETATTR, b"", GARBAGE_ARGS)
    c.refused("READ with its count cut off", READ, opaque(handle(FIRST)) + u64(0), GARBAGE_ARGS)
    c.refused("WRITE whose data is shorter than said", WRITE,
              opaque(handle(FIRST)) + u64(0) + u32(8, FILE_SYNC) + u32(8) + b"abcd", GARBAGE_ARGS)
    c.refused("SETATTR (not served)", SETATTR, opaque(handle(FIRST)), PROC_UNAVAIL)
    print("ok: GARBAGE_ARGS, PROC_UNAVAIL")


def check_record_limit(a):
    """A record one byte over the limit (max_record raised to fit a WRITE of
    max_io) closes its connection, after the reply to the call before it."""
    limit = max(a.max_record, a.max_io + 1024)
    c = Client(a.port, Export(a.files, a.file_size))
    c.refused("SETATTR before the oversized record", SETATTR, b"", PROC_UNAVAIL)
    c.s.sendall(u32(0x80000000 | (limit + 1)) + b"\0" * 100)
    try:
        closed = c.s.recv(1) == b""
    except ConnectionError:
        closed = True
    if not closed:
        raise Fail(f"a record of {limit + 1} bytes did not close the connection")
    c.s.close()
    print(f"ok: a record over {limit} bytes closes the connection")


def run_check(a):
    """Every check on one connection; 0 if all pass."""
    c = Client(a.port, Export(a.files, a.file_size))
    c.lookup("file0", 0)
    c.getattr(0)
    print("ok: LOOKUP file0, GETATTR")
    check_io(c, a.max_io)
    check_max_io(c, a.max_io)
    check_errors(c)
    c.getattr(0)
    c.s.close()
    check_record_limit(a)
    return 0


def load_one(port, size, deadline, tally, lock):
    """Pipelined READs of SIZE bytes until the server closes the connection
    (or DEADLINE passes); every reply a successful READ of SIZE bytes."""
    n, why = 0, "time"
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        req = call(7, READ, opaque(handle(FIRST)) + u64(0) + u32(size))
        s.sendall(req * 4)
        while time.monotonic() < deadline:
            r = read_record(s)
            if r[:28] != success(7) + u32(NFS3_OK) or len(r) != 28 + 88 + 12 + size:
                raise Fail(f"load: a READ reply of {len(r)} bytes: {r[:28].hex()}")
            n += 1
            s.sendall(req)
    except (ConnectionError, socket.timeout, OSError) as e:
        why = f"{type(e).__name__}"
    except Fail as e:
        why = f"FAIL: {e}"
    with lock:
        tally.append((n, why))


def run_load(a):
    """JOBS connections of pipelined READs until closed (at most SECONDS);
    0 unless a reply was wrong."""
    tally, lock = [], threading.Lock()
    deadline = time.monotonic() + a.seconds
    size = min(a.max_io, a.file_size)
    jobs = [threading.Thread(target=load_one, args=(a.port, size, deadline, tally, lock))
            for _ in range(a.jobs)]
    for j in jobs:
        j.start()
    for j in jobs:
        j.join()
    print(f"load: {sum(n for n, _ in tally)} READs of {size} bytes; ended by "
          f"{', '.join(sorted(set(w for _, w in tally)))}")
    return 1 if any(w.startswith("FAIL") for _, w in tally) else 0


def main():
    """Parse the arguments and run the mode."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=["check", "load"], help="check the replies, or load")
    p.add_argument("port", type=int, help="krpc2's TCP port on 127.0.0.1")
    p.add_argument("--files", type=int, default=4, help="krpc2's files parameter")
    p.add_argument("--file-size", type=int, default=262144, help="krpc2's file_size parameter")
    p.add_argument("--max-io", type=int, default=1 << 20, help="krpc2's max_io parameter")
    p.add_argument("--max-record", type=int, default=4096, help="krpc2's max_record parameter")
    p.add_argument("--seconds", type=float, default=20, help="load: how long")
    p.add_argument("--jobs", type=int, default=4, help="load: connections")
    a = p.parse_args()
    if a.files < 2 or a.file_size < 4096 or a.max_io < 4096:
        p.error("the checks need files >= 2, file_size and max_io >= 4096")
    try:
        return run_check(a) if a.mode == "check" else run_load(a)
    except (Fail, ConnectionError, socket.timeout, OSError) as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
