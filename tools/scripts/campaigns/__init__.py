# SPDX-License-Identifier: GPL-2.0
"""ksf's reliability campaigns against krpc2 and kecho (make stress, and
its short form in make check), one family a file:

  common.py  the services, the short and long forms, the summary table,
             Campaigns (the guest, results and logs they run with)
  fuzz.py    mutated traffic from the host and in the guest
  peers.py   hold, churn, reset, halfclose, noread (and its memory bound)
  module.py  bad module parameters, unloads under load
  flood.py   idle connection floods, against knfsd too
  linger.py  slowloris and idle peers closed by their timeouts
  faults.py  allocation failures under load and in the module's init
  smc.py     floods, peers, faults and unloads over SMC-D (transport=both)
  steps.py   the campaigns as steps of a harness.Plan
"""
