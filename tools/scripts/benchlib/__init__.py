# SPDX-License-Identifier: GPL-2.0
"""Helpers of tools/scripts/bench.py (make bench): parsing and summarising
the load generators' output (results), the text and Markdown tables and
the goals (report), the SVG plot (plot)."""
