#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make stress: ksf's reliability campaigns against krpc2 and kecho on the
debug kernel (KASAN, lockdep, kmemleak) in the guest.

For each service:
  fuzz       mutated traffic from the host through the forwarded port
             (tools/ksfstress fuzz), a good client after every batch, plus
             rpcinfo and rpctest (krpc2) or echotest (kecho), a console
             scan and a kmemleak scan at every check;
  hold       1,000 connections held at once, each served;
  churn      connect/close cycles (closing at once, after a call, by reset);
  reset      peers resetting in the middle of a record;
  halfclose  peers that shut down their sending side and must still get
             every reply;
  noread     peers that send and never read, while a good client is served;
             the service's memory (conn_mem_peak in its debugfs stats) must
             stay within its per-connection bound;
  params     bad module parameters refused with EINVAL and a dmesg line;
  unload     insmod/rmmod cycles under load, then a good client;
  flood      an idle connection flood (ksfstress flood) against the module
             loaded with its default parameters, its stats sampled every
             second: conn_mem within mem_max, at most 4 KiB per idle
             connection, memory back to the baseline afterwards, a good
             client served throughout; then again with a max_conns far
             below the flood (accepting pauses, silent connections are
             evicted for waiting ones);
  slowloris  peers sending a record one byte a second (echo: never
             reading), which must be closed by request_timeout;
  idle       peers sending nothing (and, in the long form, peers idle
             after one valid call), which must be closed by idle_timeout.
  faults     allocations failing under the module
             (tools/scripts/campaigns/faults.py):
             load at a failure rate and in a 100% burst, then everything
             served, counted and unloadable; insmod with each allocation
             of init failed in turn.
Then over SMC-D (tools/scripts/campaigns/smc.py), krpc2 and kecho loaded
with transport=both: an idle flood of SMC connections with good SMC and
TCP clients checked throughout, every connection closed and counted as
SMC-D or fallback afterwards; churn, resets and half-closes over SMC;
allocation failures under SMC load; rmmod/insmod cycles under SMC load,
each rmmod prompt.
Then the same idle flood against knfsd in the same guest, for comparison;
a kmemleak scan and a scan of the whole console. Then CPU hotplug under
load in a four-CPU guest (tools/scripts/hotplug.py: 10 transitions, 100
in the long form).

  stress.py            the short form, as `make check` runs it
  stress.py --long     the long form (make stress STRESS_LONG=1): every
                       campaign larger (100,000 mutated records in the guest per
                       service, 10,000 churn cycles, 50 unloads...),
                       then 1,000,000 mutated records and a flood of
                       50,000 connection attempts per service (and knfsd)
                       on the fast kernel (the debug kernel takes 50-70
                       records and some 25 connections a second)
  stress.py --volume   only the long form's fast-kernel part (--only 'fast-*')
  stress.py --floods   only its floods, 50,000 attempts per service and
                       knfsd (--only fast-floods)
  stress.py --list     the steps; --only PATTERN runs those matching it
                       (--only faults: the allocation-failure campaigns;
                       --only smc: the SMC-D ones; with --long, their
                       long form), --no-build uses what is built
                       (tools/scripts/harness/steps.py)
Both boot their own guest, in --vm-dir (default $KSF_VM_DIR, else
build/vm) with its service ports on host port + --forward-offset
(default $KSF_VM_FWD_OFFSET, else 0): another offset and directory let a
second run (say, from another worktree) go on beside make check. STRESS_RECORDS=N sets the number of mutated
records (per service, on the debug kernel) of either form. The campaigns
are in tools/scripts/campaigns/, one family a file.

Prints PASS/FAIL per campaign, a summary table, and "N passed, N failed";
the exit status is nonzero on any finding. Logs are under build/stress/.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hotplug  # noqa: E402
from campaigns.steps import Stress, Volume  # noqa: E402
from harness import BUILD, Guest, Plan, Step, build  # noqa: E402

LOGS = os.path.join(BUILD, "stress")


def build_step(flavor, name, logs):
    return Step(name, f"the {flavor} kernel, modules, tools and initramfs",
                lambda res: build(res, flavor, logs), os.path.join(logs, f"build-*-{flavor}.log"),
                builds=True)


def main(argv):
    ap = argparse.ArgumentParser(prog="stress.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--long", action="store_true", help="the long form")
    ap.add_argument("--volume", action="store_true", help="only the long form's fast-kernel part")
    ap.add_argument("--floods", action="store_true", help="only its floods")
    ap.add_argument("--vm-dir", metavar="DIR",
                    default=os.environ.get("KSF_VM_DIR") or os.path.join(BUILD, "vm"),
                    help="the debug (and fast) guest's directory [$KSF_VM_DIR, else build/vm]")
    ap.add_argument("--forward-offset", metavar="N", type=int,
                    default=int(os.environ.get("KSF_VM_FWD_OFFSET") or 0),
                    help="host port = guest service port + N [$KSF_VM_FWD_OFFSET, else 0]")
    Plan.add_arguments(ap)
    args = ap.parse_args(argv)
    vmdir = os.path.abspath(args.vm_dir)
    if args.volume or args.floods:
        if args.only:
            ap.error("--volume and --floods choose the steps: no --only with them")
        args.only = "fast-fuzz,fast-floods" if args.volume else "fast-floods"
    debug = Guest(vmdir, "debug", LOGS, forward_offset=args.forward_offset)
    stress = Stress(debug, LOGS, args.long)
    steps = [
        build_step("debug", "build", LOGS),
        *stress.steps(),
        Step("kmemleak", "a last kmemleak scan", lambda res: debug.kmemleak(res),
             os.path.join(LOGS, "kmemleak.log"), ("build",), debug),
        hotplug.step(hotplug.guest(os.path.join(LOGS, "hotplug")), args.long),
    ]
    tables = [stress.table]
    if args.long or args.only in ("fast-fuzz,fast-floods", "fast-floods"):
        logs = os.path.join(LOGS, "fast")
        fast = Guest(vmdir, "fast", logs, label="guest (fast kernel)",
                     forward_offset=args.forward_offset)
        volume = Volume(fast, logs)
        steps += [build_step("fast", "build-fast", logs), *volume.steps()]
        tables.append(volume.table)
    if not args.list:
        print(f"ksf stress ({'long' if args.long else 'short'} form)", flush=True)
    return Plan("stress", LOGS, steps, lambda: [t.print() for t in tables]).main(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
