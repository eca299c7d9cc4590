# SPDX-License-Identifier: GPL-2.0
"""A test script as a list of steps.

Each Step has a name (what --only matches), a title, the log(s) it
writes, the steps it needs, and the guest it runs in, if any. A Plan
runs them in order: it announces each one before running it
("== [6/16] kunit: KUnit suites ... (debug guest) — log: build/check/kunit-*.ktap"),
boots a guest before the first step that runs in it and stops it after
the last one, scanning its console, and prints a progress line when a
step has been quiet for 30 s. A step that needs one that failed is
skipped with a failure of its own. Before the summary, a line gives
each step's time ("time: host 190 s, ...; all 55 min"). The last line
is "N passed, N failed".

  --list          print the steps and exit
  --only PATTERN  only the steps whose name contains PATTERN (or matches
                  it, with * ? [...]); several: a,b; and what they need
  --no-build      no build step: use what is built
"""

import fnmatch
import os
import time
import traceback
from contextlib import ExitStack

from .build import missing
from .proc import Ticker, rel, say
from .results import Results


class Step:
    """NAME: FN(res) runs it and records its results; it returns False
    when the steps that need it cannot run. LOG: where its output goes (a
    path or a pattern). NEEDS: names of steps it needs; GUEST: the Guest it
    runs in. BUILDS: a build step (left out by --no-build)."""

    def __init__(self, name, title, fn, log, needs=(), guest=None, builds=False):
        self.name, self.title, self.fn, self.log = name, title, fn, log
        self.needs, self.guest, self.builds = tuple(needs), guest, builds

    def announce(self, i, n):
        where = f" ({self.guest.title})" if self.guest else ""
        return f"== [{i}/{n}] {self.name}: {self.title}{where} — log: {rel(self.log)}"


def time_line(times, total):
    """The steps' times, longest first: "time: e2e
    11.2 min, ...; all 55 min"."""
    def fmt(secs):
        return f"{secs / 60:.1f} min" if secs >= 60 else f"{secs:.0f} s"
    ordered = sorted(times, key=lambda t: -t[1])
    return ("time: " + ", ".join(f"{name} {fmt(secs)}" for name, secs in ordered)
            + f"; all {total / 60:.0f} min")


def _matches(name, pattern):
    return fnmatch.fnmatch(name, pattern) if any(c in pattern for c in "*?[") else pattern in name


class Plan:
    """STEPS of a script called PROG, its logs in LOGS; EPILOGUE() runs
    after the last step, before the summary."""

    def __init__(self, prog, logs, steps, epilogue=None):
        self.prog, self.logs, self.steps, self.epilogue = prog, logs, steps, epilogue

    @staticmethod
    def add_arguments(ap):
        """--list, --only and --no-build, for the script's argparse AP."""
        ap.add_argument("--list", action="store_true", help="print the steps and exit")
        ap.add_argument("--only", metavar="PATTERN",
                        help="only the steps matching PATTERN (a,b: any of them), and what "
                             "they need")
        ap.add_argument("--no-build", action="store_true",
                        help="no build step: use what is built")

    def select(self, only, no_build):
        """The steps to run, in order; raises ValueError for a pattern
        that matches no step."""
        chosen = {s.name for s in self.steps}
        if only:
            chosen = set()
            for pat in only.split(","):
                hits = {s.name for s in self.steps if _matches(s.name, pat.strip())}
                if not hits:
                    raise ValueError(f"--only {pat!r} matches no step (see --list)")
                chosen |= hits
            by_name = {s.name: s for s in self.steps}
            todo = list(chosen)
            while todo:
                for need in by_name[todo.pop()].needs:
                    if need not in chosen:
                        chosen.add(need)
                        todo.append(need)
        return [s for s in self.steps if s.name in chosen and not (no_build and s.builds)]

    def expand(self, steps, no_build):
        """STEPS with each guest's boot before its first step and its stop
        and console scan after its last."""
        out = []
        for i, s in enumerate(steps):
            g = s.guest
            if g and g not in [x.guest for x in steps[:i]]:
                needs = [n for n in s.needs if n in {x.name for x in steps}]
                out.append(Step(f"boot-{g.title.split()[0]}", f"boot {g}", self._booter(g, no_build),
                                os.path.join(g.logs, "vm-start.log"), needs))
            out.append(s)
            if g and g not in [x.guest for x in steps[i + 1:]]:
                out.append(Step(f"console-{g.title.split()[0]}",
                                f"stop the {g.title}, scan its console",
                                self._stopper(g), os.path.join(g.logs, "console.log")))
        return out

    def _booter(self, guest, no_build):
        def boot(res):
            if no_build:
                gone = missing(guest.flavor)
                if gone:
                    res.record(f"{guest.boot_name}: --no-build, but {', '.join(map(rel, gone))} "
                               f"not built", False)
                    return False
            self.up[guest] = ExitStack()
            self.booted[guest] = self.up[guest].enter_context(guest.running(res))
            return self.booted[guest]
        return boot

    def _stopper(self, guest):
        def stop(res):
            if guest in self.up:  # (not when it was not built)
                self.up.pop(guest).close()
        return stop

    def main(self, args):
        """Runs the plan as ARGS (parsed with add_arguments) say; the exit
        status."""
        try:
            plan = self.expand(self.select(args.only, args.no_build), args.no_build)
        except ValueError as e:
            print(f"{self.prog}: {e}", flush=True)
            return 2
        if args.list:
            for i, s in enumerate(plan, 1):
                print(s.announce(i, len(plan))[3:])
            return 0
        return self.run(plan)

    def run(self, plan):
        os.makedirs(self.logs, exist_ok=True)
        res = Results()
        self.up = {}  # guest: the ExitStack of its running()
        self.booted = {}  # guest: whether it booted
        say(f"{self.prog}: {len(plan)} steps, logs in {rel(self.logs)}/")
        failed = set()
        interrupted = False
        times = []  # (step, seconds)
        began = time.monotonic()
        try:
            for i, s in enumerate(plan, 1):
                say(s.announce(i, len(plan)))
                blocked = [n for n in s.needs if n in failed]
                if s.guest and not self.booted.get(s.guest):
                    blocked.append(f"the boot of the {s.guest.title}")
                if blocked:
                    res.record(f"{s.name}: skipped, {blocked[0]} failed", False)
                    failed.add(s.name)
                    continue
                t0 = time.monotonic()
                with Ticker(s.name):
                    try:
                        ok = s.fn(res)
                    except Exception as e:  # a bug or a broken tool: the run goes on
                        res.record(f"{s.name}: {type(e).__name__}: {e}", False,
                                   traceback.format_exc())
                        ok = False
                times.append((s.name, time.monotonic() - t0))
                if ok is False:
                    failed.add(s.name)
        except KeyboardInterrupt:
            res.record(f"{s.name}: interrupted", False)
            interrupted = True
        for stack in self.up.values():  # guests left up by the interruption
            stack.close()
        if self.epilogue:
            self.epilogue()
        say(time_line(times, time.monotonic() - began))
        status = res.summary()
        return 130 if interrupted else status
