# SPDX-License-Identifier: GPL-2.0
"""The module's life: bad parameters refused, unloads under load."""

import shlex

from .common import SERVICES

# Bad parameters of every service, and of one service only.
BAD_PARAMS = ["port=0", "port=70000", "threads_min=0", "threads_min=65", "threads_max=1000",
              "sndbuf=12", "rcvbuf=2000000000", "max_conns=-1", "max_conns=2000000",
              "mem_max=4096", "idle_timeout=-1", "idle_timeout=100000", "request_timeout=-5",
              "backend=threads", "backend=", "affinity=cpu", "affinity=", "addr=bogus",
              "transport=udp", "transport="]
BAD_PARAMS_OF = {"krpc2": ["vers_min=1", "vers_max=5", "max_record=10", "max_record=2000000",
                           "files=65", "files=-1", "file_size=100", "max_io=2000000"]}


def params(c, name):
    """Every bad parameter refused with EINVAL and a dmesg line."""
    bad = BAD_PARAMS + BAD_PARAMS_OF.get(name, [])
    script = [f"rmmod {name} 2>/dev/null; dmesg -c >/dev/null; n=0"]
    for b in bad:
        key = b.split("=")[0]
        script.append(
            f"insmod /lib/modules/ksf/{name}.ko {shlex.quote(b)} 2>/tmp/e; rc=$?; "
            f"if [ $rc = 0 ]; then echo 'accepted: {b}'; rmmod {name}; exit 1; fi; "
            f"grep -q 'Invalid argument' /tmp/e || {{ echo 'not EINVAL: {b}'; cat /tmp/e; exit 1; }}; "
            f"dmesg -c | grep -q '{name}: invalid {key}=' || {{ echo 'no dmesg line: {b}'; exit 1; }}; "
            f"n=$((n + 1))")
    script.append(f"insmod /lib/modules/ksf/{name}.ko && echo \"refused $n\"")
    log = c.log(name, "params")
    ok, out, secs = c.vm("\n".join(script), log, timeout=600)
    c.record("params", name, f"{len(bad)} bad parameters refused with EINVAL", ok, out, secs, log)


def unload(c, name):
    """rmmod and insmod cycles under load, then a good client."""
    n = c.p["unloads"]
    _, _, load = SERVICES[name]
    good = ("rpctest -H -i 1 -c 2000 -j 2 -a 8 127.0.0.1" if name == "krpc2" else
            "echotest -H -i 1 -c 2000 -j 2 -a 8 127.0.0.1")
    script = f"""
lsmod | grep -q '^{name} ' || insmod /lib/modules/ksf/{name}.ko || exit 1
i=0
while [ $i -lt {n} ]; do
	{load} >/dev/null 2>&1 &
	load=$!
	sleep 1
	rmmod {name} || {{ echo "rmmod {name} failed at cycle $i"; exit 1; }}
	wait $load
	insmod /lib/modules/ksf/{name}.ko || {{ echo "insmod {name} failed at cycle $i"; exit 1; }}
	i=$((i + 1))
done
echo "unloaded under load $i times"
{good}
"""
    log = c.log(name, "unload")
    ok, out, secs = c.vm(script, log, timeout=600 + 60 * n)
    c.record("unload", name, f"{n} rmmod/insmod cycles under load", ok, out, secs, log)
