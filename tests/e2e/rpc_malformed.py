#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Malformed RPC input against krpc2 (host side, through the forwarded
port): every bad connection is closed by the server, and a good client on
another connection keeps getting correct NULL replies throughout."""

import socket
import struct
import sys

HOST, PORT = "127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 62049


def null_call(xid):
    body = struct.pack(">IIIIII", xid, 0, 2, 100003, 3, 0) + struct.pack(">IIII", 0, 0, 0, 0)
    return struct.pack(">I", 0x80000000 | len(body)) + body


def read_reply(s):
    hdr = recv_exact(s, 4)
    n = struct.unpack(">I", hdr)[0] & 0x7FFFFFFF
    return recv_exact(s, n)


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise ConnectionError("closed")
        out += chunk
    return out


def good_call(s, xid):
    s.sendall(null_call(xid))
    r = read_reply(s)
    want = struct.pack(">IIIIII", xid, 1, 0, 0, 0, 0)
    if r != want:
        sys.exit(f"FAIL: NULL reply for xid {xid}: {r.hex()} want {want.hex()}")


def closed_by_server(s):
    s.settimeout(10)
    try:
        while True:
            if not s.recv(4096):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


BAD = {
    "oversized mark": struct.pack(">I", 0xFFFFFFFF),
    "record over max_record": struct.pack(">I", 0x80000000 | 5000) + b"\0" * 100,
    "zero-length fragments": struct.pack(">I", 0) * 100,
    "empty record": struct.pack(">I", 0x80000000),
    "reply sent to the server": struct.pack(">I", 0x80000000 | 24) + struct.pack(">IIIIII", 7, 1, 0, 0, 0, 0),
    "garbage header (3 bytes)": struct.pack(">I", 0x80000003) + b"abc",
    "random bytes": bytes(range(256)) * 4,
}

good = socket.create_connection((HOST, PORT), timeout=10)
xid = 1
good_call(good, xid)
for name, data in BAD.items():
    bad = socket.create_connection((HOST, PORT), timeout=10)
    # A valid call first, answered, then the bad bytes on the same stream.
    good_call(bad, 1000 + xid)
    bad.sendall(data)
    if not closed_by_server(bad):
        sys.exit(f"FAIL: {name}: the server did not close the connection")
    bad.close()
    xid += 1
    good_call(good, xid)
    print(f"ok: {name}: closed; the good connection still served")

# Calls before a bad record are all answered before the connection closes,
# even when their replies overflow krpc2's reply buffer (16 KiB, ~500
# replies): 1200 calls and an empty record in one send.
bad = socket.create_connection((HOST, PORT), timeout=10)
bad.sendall(b"".join(null_call(5000 + i) for i in range(1200)) + BAD["empty record"])
for i in range(1200):
    try:
        r = read_reply(bad)
    except (ConnectionError, socket.timeout) as e:
        sys.exit(f"FAIL: replies lost before a bad record: got {i} of 1200 ({e})")
    if r[:4] != struct.pack(">I", 5000 + i):
        sys.exit(f"FAIL: reply {i} before a bad record has xid {r[:4].hex()}")
if not closed_by_server(bad):
    sys.exit("FAIL: no close after the replies before a bad record")
bad.close()
good_call(good, xid)
print("ok: 1200 calls then a bad record: every reply sent, then closed")
good.close()
