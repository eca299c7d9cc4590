#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The same NFSv3 calls to krpc2 and to knfsd, and their replies side by
side. `record` sends a fixed sequence of calls (LOOKUP, GETATTR, READ,
WRITE, ACCESS, FSINFO, PATHCONF, FSSTAT, good and bad) to one server through the forwarded port and writes
what each reply says as JSON: the RPC and NFS status and the fields a
client acts on (types, sizes, counts, eof, the data read, whether
attributes came back). `compare` reads two such files and fails on any
difference that is not one of krpc2's documented choices
(rust/proto/src/nfs3/export.rs). What the two exports are set up with
(handles, file ids, modes, owners, link counts, blocks used, times, write
verifiers) is not compared."""

import argparse
import hashlib
import json
import socket
import struct
import sys

from nfs3_client import (GETATTR, LOOKUP, READ, WRITE, FILE_SYNC, MAGIC, FSID, REG, ROOT,
                         call, opaque, pattern, read_record, u32, u64)

UNSTABLE = 0
ACCESS, FSSTAT, FSINFO, PATHCONF = 4, 18, 19, 20
# krpc2's root handle (nfs3_client.handle(ROOT)); knfsd's is given.
KRPC2_ROOT = (u32(MAGIC, FSID) + u64(ROOT)).hex()

# Differences krpc2 documents (rust/proto/src/nfs3/export.rs): the call's
# name, the fields that may differ, and why.
DOCUMENTED = {
    "WRITE UNSTABLE": ({"committed"},
                       "krpc2 always answers FILE_SYNC (its data is where every later "
                       "READ finds it); knfsd answers what was asked"),
    "WRITE past the end": ({"status", "count", "committed", "after", "same verifier"},
                           "krpc2's files do not grow: NFS3ERR_FBIG; knfsd extends the file"),
    "FSINFO of the root": ({"properties"},
                           "krpc2 has no links, no symbolic links and no SETATTR: only "
                           "FSF3_HOMOGENEOUS; knfsd all four"),
    "PATHCONF file0": ({"no_trunc"},
                       "a name over 255 bytes is an error on krpc2, which says so; knfsd "
                       "says so only for the file systems it knows, not a tmpfs"),
}


class Reader:
    """XDR decoding of one reply."""

    def __init__(self, data):
        self.d, self.at = data, 0

    def take(self, n):
        if self.at + n > len(self.d):
            raise ValueError(f"reply ends at byte {len(self.d)}, inside a field at {self.at}")
        b = self.d[self.at:self.at + n]
        self.at += n
        return b

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def opaque(self):
        n = self.u32()
        b = self.take(n)
        self.take(-n % 4)
        return b

    def fattr(self):
        """fattr3: its type, and a regular file's size (the rest, and a
        directory's size, are the export's setup)."""
        kind = self.u32()
        self.take(16)  # mode, nlink, uid, gid
        size = self.u64()
        self.take(8 + 8 + 8 + 8 + 24)  # used, rdev, fsid, fileid, times
        return {"type": kind, "size": size} if kind == REG else {"type": kind}

    def post_op(self):
        return self.fattr() if self.u32() else None

    def pre_op(self):
        if not self.u32():
            return None
        size = self.u64()
        self.take(16)  # mtime, ctime
        return {"size": size}


def decode(proc, record, state):
    """What the reply RECORD to PROC says. STATE keeps the first write
    verifier and the handles LOOKUP returned."""
    r = Reader(record)
    r.u32()  # xid, matched by the caller
    if r.u32() != 1:
        return {"rpc": "not a reply"}
    if r.u32() != 0:
        return {"rpc": "denied"}
    r.u32()
    r.opaque()  # verifier
    accept = r.u32()
    if accept != 0:
        return {"accept_stat": accept}
    out = {"status": r.u32()}
    ok = out["status"] == 0
    if proc == GETATTR and ok:
        out["attrs"] = r.fattr()
    elif proc == LOOKUP:
        if ok:
            state["handle"] = r.opaque().hex()
            out["obj"] = r.post_op()
        out["dir"] = r.post_op()
    elif proc == READ:
        out["attrs"] = r.post_op()
        if ok:
            out["count"], out["eof"] = r.u32(), r.u32()
            data = r.opaque()
            out["data"] = f"{len(data)} bytes, sha1 {hashlib.sha1(data).hexdigest()[:12]}"
    elif proc == WRITE:
        out["before"], out["after"] = r.pre_op(), r.post_op()
        if ok:
            out["count"], out["committed"] = r.u32(), r.u32()
            verf = r.take(8)
            state.setdefault("verf", verf)
            out["same verifier"] = verf == state["verf"]
    elif proc == ACCESS:
        out["attrs"] = r.post_op()
        if ok:
            out["access"] = r.u32()
    elif proc == FSINFO:
        out["attrs"] = r.post_op()
        if ok:
            (out["rtmax"], out["rtpref"], out["rtmult"], out["wtmax"], out["wtpref"],
             out["wtmult"]) = struct.unpack(">6I", r.take(24))
            r.take(4 + 8)  # dtpref, maxfilesize: the export's setup
            out["time_delta"] = list(struct.unpack(">2I", r.take(8)))
            out["properties"] = r.u32()
    elif proc == PATHCONF:
        out["attrs"] = r.post_op()
        if ok:
            r.take(4)  # linkmax: the export's setup
            out["name_max"] = r.u32()
            (out["no_trunc"], out["chown_restricted"], out["case_insensitive"],
             out["case_preserving"]) = struct.unpack(">4I", r.take(16))
    elif proc == FSSTAT:
        out["attrs"] = r.post_op()
        if ok:
            r.take(48)  # bytes and files: the export's setup
            out["invarsec"] = r.u32()
    if r.at != len(record):
        out["trailing bytes"] = len(record) - r.at
    return out


def calls(size):
    """The sequence: (name, procedure, arguments built from the handles
    learnt so far). Files of SIZE bytes; file0 and file1."""
    def fh(h):
        return opaque(bytes.fromhex(h))

    def read(h, offset, count):
        return fh(h) + u64(offset) + u32(count)

    def write(h, offset, data, stable=FILE_SYNC):
        return fh(h) + u64(offset) + u32(len(data), stable) + opaque(data)

    return [
        ("LOOKUP file0", LOOKUP, lambda s: fh(s["root"]) + opaque(b"file0"), "file0"),
        ("LOOKUP file1", LOOKUP, lambda s: fh(s["root"]) + opaque(b"file1"), "file1"),
        ("LOOKUP .", LOOKUP, lambda s: fh(s["root"]) + opaque(b"."), None),
        ("LOOKUP of a missing name", LOOKUP, lambda s: fh(s["root"]) + opaque(b"nothere"), None),
        ("LOOKUP in a file", LOOKUP, lambda s: fh(s["file0"]) + opaque(b"x"), None),
        ("LOOKUP of an empty name", LOOKUP, lambda s: fh(s["root"]) + opaque(b""), None),
        ("LOOKUP of a name with a slash", LOOKUP, lambda s: fh(s["root"]) + opaque(b"a/b"), None),
        ("GETATTR of the root", GETATTR, lambda s: fh(s["root"]), None),
        ("GETATTR file0", GETATTR, lambda s: fh(s["file0"]), None),
        ("WRITE 4 KiB", WRITE, lambda s: write(s["file0"], 0, pattern(1, 4096)), None),
        ("READ 4 KiB back", READ, lambda s: read(s["file0"], 0, 4096), None),
        ("READ 5 bytes at offset 1", READ, lambda s: read(s["file0"], 1, 5), None),
        ("WRITE UNSTABLE", WRITE,
         lambda s: write(s["file0"], 8192, pattern(2, 100), UNSTABLE), None),
        ("READ across the end", READ, lambda s: read(s["file0"], size - 100, 4096), None),
        ("READ at the end", READ, lambda s: read(s["file0"], size, 10), None),
        ("READ past the end", READ, lambda s: read(s["file0"], size + 4096, 10), None),
        ("READ a whole file", READ, lambda s: read(s["file1"], 0, size), None),
        ("READ of the root", READ, lambda s: read(s["root"], 0, 10), None),
        ("WRITE to the root", WRITE, lambda s: write(s["root"], 0, b"x"), None),
        ("GETATTR of an 8-byte handle", GETATTR, lambda s: opaque(b"12345678"), None),
        ("GETATTR of a 65-byte handle", GETATTR, lambda s: opaque(b"\1" * 65), None),
        ("GETATTR without arguments", GETATTR, lambda s: b"", None),
        ("READ with its count cut off", READ, lambda s: fh(s["file0"]) + u64(0), None),
        ("WRITE whose count is not its length", WRITE,
         lambda s: fh(s["file0"]) + u64(0) + u32(8, FILE_SYNC) + opaque(b"abcd"), None),
        ("WRITE whose data is cut off", WRITE,
         lambda s: fh(s["file0"]) + u64(0) + u32(8, FILE_SYNC) + u32(8) + b"abcd", None),
        ("ACCESS file0", ACCESS, lambda s: fh(s["file0"]) + u32(0x3f), None),
        ("ACCESS of the root", ACCESS, lambda s: fh(s["root"]) + u32(0x1f), None),
        ("ACCESS of an 8-byte handle", ACCESS, lambda s: opaque(b"12345678") + u32(1), None),
        ("ACCESS with its mask cut off", ACCESS, lambda s: fh(s["file0"]), None),
        ("FSINFO of the root", FSINFO, lambda s: fh(s["root"]), None),
        ("FSINFO without arguments", FSINFO, lambda s: b"", None),
        ("PATHCONF file0", PATHCONF, lambda s: fh(s["file0"]), None),
        ("FSSTAT of the root", FSSTAT, lambda s: fh(s["root"]), None),
        # Last: knfsd's file grows.
        ("WRITE past the end", WRITE, lambda s: write(s["file1"], size - 10, pattern(3, 100)),
         None),
    ]


def record(a):
    """Send the sequence to the server on A.port; write the decoded replies."""
    state = {"root": a.root_fh}
    s = socket.create_connection(("127.0.0.1", a.port), timeout=60)
    out = []
    for xid, (name, proc, args, keep) in enumerate(calls(a.file_size), 0x2000):
        s.sendall(call(xid, proc, args(state)))
        rec = read_record(s)
        got = struct.unpack(">I", rec[:4])[0]
        if got != xid:
            raise ValueError(f"{name}: reply to xid {got:#x}, want {xid:#x}")
        reply = decode(proc, rec, state)
        if keep:
            if "handle" not in state:
                raise ValueError(f"{name}: no handle in the reply {reply}")
            state[keep] = state.pop("handle")
        state.pop("handle", None)
        out.append({"call": name, "reply": reply})
    s.close()
    json.dump(out, a.out, indent=1)
    a.out.write("\n")
    print(f"{len(out)} calls recorded", file=sys.stderr)
    return 0


def compare(a):
    """Print the two records side by side; 1 on an undocumented difference."""
    mine, theirs = json.load(a.krpc2), json.load(a.knfsd)
    if [c["call"] for c in mine] != [c["call"] for c in theirs]:
        print("FAIL: the two records are not of the same calls", file=sys.stderr)
        return 1
    bad = 0
    for m, t in zip(mine, theirs):
        name, rm, rt = m["call"], m["reply"], t["reply"]
        differ = {f for f in list(rm) + list(rt) if rm.get(f) != rt.get(f)}
        if not differ:
            print(f"same        {name}: {json.dumps(rm)}")
            continue
        allowed, why = DOCUMENTED.get(name, (set(), ""))
        if differ <= allowed:
            print(f"documented  {name}: {why}")
        else:
            bad += 1
            print(f"DIFFERS     {name}:")
        for f in sorted(differ):
            print(f"              {f}: krpc2 {json.dumps(rm.get(f))}, knfsd {json.dumps(rt.get(f))}")
    print(f"{len(mine)} calls: {bad} undocumented difference(s)")
    return 1 if bad else 0


def main():
    """Parse the arguments and run the mode."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("record", help="send the calls to one server, write its replies")
    r.add_argument("port", type=int, help="the server's TCP port on 127.0.0.1")
    r.add_argument("--root-fh", default=KRPC2_ROOT,
                   help="the export root's handle in hex [krpc2's]")
    r.add_argument("--file-size", type=int, default=1 << 20,
                   help="the size of file0 and file1 [1048576]")
    r.add_argument("-o", "--out", type=argparse.FileType("w"), default=sys.stdout,
                   help="where the JSON goes [stdout]")
    c = sub.add_parser("compare", help="compare krpc2's record with knfsd's")
    c.add_argument("krpc2", type=argparse.FileType("r"))
    c.add_argument("knfsd", type=argparse.FileType("r"))
    a = p.parse_args()
    if a.mode == "record":
        try:
            bytes.fromhex(a.root_fh)
        except ValueError:
            p.error(f"--root-fh {a.root_fh!r} is not hex")
        if a.file_size < 8192 + 100:
            p.error("--file-size must be at least 8292 (a WRITE at 8 KiB)")
    try:
        return record(a) if a.mode == "record" else compare(a)
    except (ValueError, ConnectionError, socket.timeout, OSError) as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
