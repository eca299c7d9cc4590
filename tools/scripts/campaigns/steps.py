# SPDX-License-Identifier: GPL-2.0
"""The campaigns as steps of a harness.Plan (make check, make stress)."""

import os

from harness import Step

from . import faults, flood, linger, module, peers, smc
from .common import LONG, SERVICES, SHORT, Campaigns, Table, export_params
from .fuzz import fuzz


class Stress:
    """The campaigns in GUEST (a harness.Guest), logs in LOGS; LONG: the
    long form. Its steps share one Campaigns and one summary table."""

    def __init__(self, guest, logs, long=False, p=None):
        self.guest, self.logs, self.long = guest, logs, long
        self.p = dict(p or (LONG if long else SHORT))
        if os.environ.get("STRESS_RECORDS"):
            self.p["records"] = int(os.environ["STRESS_RECORDS"])
        self.table = Table()
        self.c = None

    def campaigns(self, res):
        if self.c is None:
            self.c = Campaigns(res, self.table, self.p, self.logs, self.guest)
        return self.c

    def service(self, name):
        """Every campaign against NAME, then a kmemleak scan. krpc2 is
        fuzzed with its NFSv3 export (common.EXPORT), the rest of its
        campaigns run without."""
        def step(res):
            c = self.campaigns(res)
            export = name == "krpc2"
            ok, out = c.load(name, export_params() if export else "")
            if not ok:
                return c.record("insmod", name, "", False, out, 0)
            fuzz(c, name, "host", export=export)
            fuzz(c, name, "guest", export=export)
            if export:
                c.load(name)
            peers.run(c, name)
            peers.noread(c, name)
            module.params(c, name)
            module.unload(c, name)
            flood.flood(c, name)
            if self.p["flood_limit"]:
                flood.flood(c, name, self.p["flood_limit"])
            linger.run(c, name)
            c.load(name)
            self.guest.kmemleak(res, f" after the {name} campaigns")
        return step

    def faults(self, res):
        for name in SERVICES:
            faults.run(self.campaigns(res), name, self.long)

    def smc(self, res):
        for name in SERVICES:
            smc.run(self.campaigns(res), name, self.long)
        self.guest.kmemleak(res, " after the SMC campaigns")

    def knfsd(self, res):
        c = self.campaigns(res)
        flood.knfsd(c)
        flood.comparison(c)

    def steps(self, needs=("build",)):
        """stress-krpc2, stress-kecho, faults, stress-smc, flood-knfsd."""
        log = os.path.join(self.logs, "{}-*.log")
        return [
            *(Step(f"stress-{name}", f"fuzzing, peers, parameters, unloads, floods, timeouts "
                                     f"against {name}", self.service(name), log.format(name),
                   needs, self.guest) for name in SERVICES),
            Step("faults", "allocation failures under krpc2 and kecho", self.faults,
                 log.format("*-faults"), needs, self.guest),
            Step("stress-smc", "floods, peers, allocation failures and unloads over SMC-D "
                               "against krpc2 and kecho (transport=both)", self.smc,
                 log.format("*-smc"), needs, self.guest),
            Step("flood-knfsd", "the idle flood against knfsd, for comparison", self.knfsd,
                 log.format("knfsd"), needs, self.guest),
        ]


class Volume(Stress):
    """The long form's volume, on the fast kernel: 1,000,000 mutated
    records per service, then a flood of 50,000 connection attempts per
    service with its default limits (the debug kernel accepts some 25 a
    second: it floods 5,000), and against knfsd."""

    RECORDS = 1_000_000

    def __init__(self, guest, logs):
        super().__init__(guest, logs, True, dict(LONG, batch=50000, fuzz_conns=32,
                                                 flood_attempts=50000))

    def fuzz(self, res):
        c = self.campaigns(res)
        for name in SERVICES:
            export = name == "krpc2"
            ok, out = c.load(name, export_params() if export else "")
            if not ok:
                c.record("fuzz", name, "insmod failed", False, out, 0)
                continue
            fuzz(c, name, "guest, fast kernel", self.RECORDS, leak_scans=False, export=export)

    def floods(self, res):
        c = self.campaigns(res)
        for name in SERVICES:
            flood.flood(c, name)
        self.knfsd(res)

    def steps(self, needs=("build-fast",)):
        """fast-fuzz, fast-floods."""
        return [
            Step("fast-fuzz", f"{self.RECORDS:,} mutated records per service",
                 self.fuzz, os.path.join(self.logs, "*-fuzz-*.log"), needs, self.guest),
            Step("fast-floods", f"{self.p['flood_attempts']:,} connection attempts per service "
                                "and knfsd", self.floods, os.path.join(self.logs, "*-flood.log"),
                 needs, self.guest),
        ]
