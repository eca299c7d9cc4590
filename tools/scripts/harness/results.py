# SPDX-License-Identifier: GPL-2.0
"""The results of a run: one PASS or FAIL line per check, and last the
summary "N passed, N failed" (the last line of make check)."""

from .proc import rel, say


class Record:
    def __init__(self, name, ok, detail, log):
        self.name, self.ok, self.detail, self.log = name, ok, detail, log


class Results:
    def __init__(self):
        self.records = []

    @property
    def failed(self):
        return [r for r in self.records if not r.ok]

    @property
    def passed(self):
        return [r for r in self.records if r.ok]

    def record(self, name, ok, detail="", log=None):
        """One check: NAME passed if OK; a failure shows the end of DETAIL
        and where LOG, its whole output, is."""
        self.records.append(Record(name, ok, detail, log))
        say(f"{'PASS' if ok else 'FAIL'} {name}")
        if not ok:
            for line in detail.rstrip().splitlines()[-40:]:
                say(f"     | {line}")
            if log:
                say(f"     | log: {rel(log)}")

    def summary(self):
        """Prints the failures and the summary line; the exit status."""
        if self.failed:
            say("\nfailed:")
            for r in self.failed:
                say(f"  {r.name}" + (f"  ({rel(r.log)})" if r.log else ""))
        say(f"{len(self.passed)} passed, {len(self.failed)} failed")
        return 1 if self.failed else 0
