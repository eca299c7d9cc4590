#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The files the build and test scripts name are in the repository.

A clean clone has only what git tracks. A file that a script, the Makefile
or a Kbuild file names but that is untracked or ignored works on the
machine where it was written and is missing everywhere else (as
tools/scripts/demo.d/ once was, hidden by a '*.d' in .gitignore). This
check finds such names without a clean clone:

- every path under the repository's top folders (rust/, samples/, tests/,
  tools/, fuzz/, Documentation/) named in the Makefile, the Kbuild files,
  .ci/run and the scripts under tools/ must be tracked if it exists;
- a name with a wildcard (tools/scripts/demo.d/*.sh) must match at least
  one tracked file, and every file it matches must be tracked.

Names under build/ or with a shell or make variable in them are build
products or computed, and not checked. Prints each problem and exits 1 if
there is any.

  tracked.py          check the repository this script is in
  tracked.py --test   the self-test
"""

import fnmatch
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIRS = ("rust", "samples", "tests", "tools", "fuzz", "Documentation")
NAME = re.compile(r"(?<![\w./$-])((?:%s)/[\w.*?/-]*[\w*])" % "|".join(DIRS))


def names(text):
    """The repository paths TEXT names."""
    for m in NAME.finditer(text):
        name = m.group(1).rstrip(".")
        if "$" in name or name.endswith("/"):
            continue
        yield name


def problems(top, tracked, sources):
    """(source, name, why) for each name in SOURCES (path -> text) that a
    clean clone of TOP, whose tracked files are TRACKED, would lack."""
    out = []
    tracked_dirs = {os.path.dirname(f) for f in tracked}
    for d in list(tracked_dirs):
        while d:
            d = os.path.dirname(d)
            tracked_dirs.add(d)
    for src, text in sources.items():
        for name in sorted(set(names(text))):
            if any(c in name for c in "*?"):
                hits = [f for f in tracked if fnmatch.fnmatch(f, name)]
                here = [os.path.relpath(p, top) for p in _glob(top, name)]
                untracked = [p for p in here if p not in tracked]
                if untracked:
                    out.append((src, name, f"matches untracked {', '.join(untracked[:3])}"))
                elif not hits:
                    out.append((src, name, "matches no tracked file"))
            elif name in tracked or name in tracked_dirs:
                continue
            elif os.path.exists(os.path.join(top, name)):
                out.append((src, name, "exists but is not tracked (ignored or never added)"))
    return out


def _glob(top, pattern):
    import glob
    return glob.glob(os.path.join(top, pattern))


def sources(top, tracked):
    """The files whose names are checked: the Makefile, Kbuild files,
    .ci/run, and the scripts under tools/ (shell, Python, the guest's)."""
    out = {}
    me = os.path.relpath(os.path.abspath(__file__), top)
    for f in tracked:
        base = os.path.basename(f)
        if f == me:
            continue  # its examples are not names
        if (f in ("Makefile", ".ci/run") or base == "Kbuild"
                or (f.startswith("tools/") and (f.endswith((".sh", ".py"))
                                                or f.startswith("tools/vm/")))):
            try:
                with open(os.path.join(top, f), errors="replace") as fh:
                    out[f] = fh.read()
            except OSError:
                pass
    return out


def self_test():
    import tempfile
    with tempfile.TemporaryDirectory() as top:
        for f in ("tools/a.sh", "tools/d/x.sh", "tools/d/y.sh", "tools/e/z.sh", "rust/k.rs"):
            os.makedirs(os.path.join(top, os.path.dirname(f)), exist_ok=True)
            open(os.path.join(top, f), "w").close()
        tracked = {"tools/a.sh", "tools/d/x.sh", "rust/k.rs"}
        src = {"Makefile": "run tools/a.sh and rust/k.rs, then tools/d/*.sh and "
                           "tools/e/*.sh, $(BUILD)/tools/x, build/tools/y, tools/gone.sh, "
                           "and rust/k.rs."}
        got = {(n, why.split()[0]) for _, n, why in problems(top, tracked, src)}
        want = {("tools/d/*.sh", "matches"), ("tools/e/*.sh", "matches")}
        if got != want:
            print(f"tracked.py self-test: got {got}, want {want}")
            return 1
        print("tracked.py self-test: ok")
        return 0


def main(argv):
    if "--test" in argv:
        return self_test()
    if argv:
        print(__doc__.strip())
        return 0 if argv[0] in ("-h", "--help") else 2
    tracked = set(subprocess.run(["git", "ls-files"], cwd=TOP, capture_output=True, text=True,
                                 check=True).stdout.split())
    found = problems(TOP, tracked, sources(TOP, tracked))
    for src, name, why in found:
        print(f"{src}: {name}: {why}")
    n = len(sources(TOP, tracked))
    print(f"tracked.py: {n} files checked, {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
