# SPDX-License-Identifier: GPL-2.0
"""The test harness of make check, make stress, make bench and hotplug.py.

  proc.py      commands run with their output in a log file (run), the
               progress line a long step prints every 30 s (Ticker)
  results.py   Results: PASS/FAIL records and the "N passed, N failed" line
  build.py     the kernel, modules, tools and initramfs of a flavor
  guest.py     Guest: a QEMU guest of its own (tools/vm/ksfvm.py): boot,
               exec with a timeout and a log, stop, console scan; two
               guests on the lan (lan_port, running_together)
  steps.py     Step and Plan: a script as a list of steps, with --list,
               --only PATTERN and --no-build
"""

from .build import build, kernel_dir
from .guest import Guest, GuestError, lan_port, running_together
from .proc import BUILD, TOP, run
from .results import Results
from .steps import Plan, Step

__all__ = ["BUILD", "TOP", "Guest", "GuestError", "Plan", "Results", "Step", "build",
           "kernel_dir", "lan_port", "run", "running_together"]
