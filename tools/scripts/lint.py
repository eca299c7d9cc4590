#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ksf's lints: make lint, and make check (each lint is one PASS/FAIL line).

Each lint is a function returning (ok, output):

- clippy_tools: `cargo clippy --all-targets -- -D warnings` over the tools'
  workspace and over the fuzz crate (its own workspace);
- checkpatch: the kernel tree's scripts/checkpatch.pl --strict on every
  tracked .c and .h file (CHECKPATCH_IGNORE lists the few exceptions);
- shellcheck: every tracked shell script (*.sh and files with an sh or
  bash shebang), with the settings of .shellcheckrc;
- rustfmt: `rustfmt --check` on every tracked .rs file (make check runs
  its own);
- modules(log): the warnings in the output of a module build made with
  KSF_CLIPPY=1 (tools/scripts/modules.sh: clippy-driver under Kbuild with
  the kernel's lint set); every warning counts, clippy's, rustc's, clang's
  and modpost's.

  lint.py [LINT...]          the host lints, or only those named (clippy,
                             checkpatch, shellcheck, rustfmt)
  lint.py --modules MODDIR [VAR=VALUE...]
                             the host lints, then `make modules VAR=VALUE...`
                             with KSF_CLIPPY=1 and its warnings (MODDIR is
                             where that build goes: build/modules/FLAVOR);
                             this is make lint

Prints "PASS name (N s)" or "FAIL name" and the end of the findings (all
of them in build/lint/), then "N passed, N failed"; exits 1 if any lint
failed.
"""

import glob
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Results  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(TOP, "build")

# checkpatch: what a maintainer asks of new code (--strict: CHECKs too,
# which is also what reports lines over 100 columns when checking files
# with -f). --no-tree: these files are not in a kernel tree.
CHECKPATCH_FLAGS = ["--no-tree", "--strict", "--terse", "--show-types", "--quiet", "--no-summary"]
# Per file, the checkpatch types that do not apply, and why.
CHECKPATCH_IGNORE = {
    # KSF_SERVICE_PARAMS and KSF_SERVICE_P declare module parameters at
    # file scope and list them in an initializer: neither do-while nor
    # parentheses can wrap them. The KSF_PARAM_* macros' name argument
    # must be a plain identifier (module_param needs one), so reusing it
    # has no side effects and parentheses around it would not compile.
    "rust/ksf/params.h": ["MULTISTATEMENT_MACRO_USE_DO_WHILE", "COMPLEX_MACRO",
                          "MACRO_ARG_REUSE", "MACRO_ARG_PRECEDENCE"],
}


def _run(cmd, **kw):
    """(ok, output) of CMD run in TOP, stderr with stdout."""
    try:
        r = subprocess.run(cmd, cwd=TOP, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace", **kw)
    except OSError as e:
        return False, f"{cmd[0]}: {e}"
    return r.returncode == 0, r.stdout


def tracked(*patterns):
    """The tracked files matching git pathspecs PATTERNS."""
    out = subprocess.run(["git", "ls-files", "-z", "--", *patterns], cwd=TOP,
                         capture_output=True, text=True, check=True).stdout
    return [f for f in out.split("\0") if f]


def shell_scripts():
    """Every tracked shell script: *.sh and files with a sh/bash shebang."""
    out = []
    for f in tracked():
        path = os.path.join(TOP, f)
        if f.endswith(".sh"):
            out.append(f)
            continue
        if not os.path.isfile(path) or os.path.islink(path):
            continue
        with open(path, "rb") as fh:
            first = fh.readline(200)
        if re.match(rb"#!\s*\S*/(env\s+)?(busybox\s+)?(sh|bash|dash|ash)\b", first):
            out.append(f)
    return out


def clippy_tools():
    """cargo clippy, warnings denied, on the workspace and the fuzz crate."""
    outs = []
    ok = True
    for what, args in (
            ("workspace", ["--workspace", "--target-dir", os.path.join(BUILD, "target")]),
            ("fuzz", ["--manifest-path", "fuzz/Cargo.toml", "--all-features",
                      "--target-dir", os.path.join(BUILD, "target-fuzz-clippy")])):
        one_ok, out = _run(["cargo", "clippy", "--quiet", "--all-targets", *args,
                            "--", "-D", "warnings"])
        ok &= one_ok
        if not one_ok:
            outs.append(f"== cargo clippy ({what})\n{out}")
    return ok, "\n".join(outs)


def _checkpatch_pl():
    """scripts/checkpatch.pl of a kernel source tree: a built ksf kernel's
    (its O= directory links "source" to the tree), else the tree
    kernel.sh extracted, else the script and its data files taken from
    the linux-source tarball into build/lint."""
    scripts = os.path.join(TOP, "tools", "scripts")
    for flavor in ("debug", "fast"):
        r = subprocess.run([os.path.join(scripts, "kernel.sh"), "dir", flavor],
                           capture_output=True, text=True)
        cand = os.path.join(r.stdout.strip(), "source", "scripts", "checkpatch.pl")
        if r.returncode == 0 and os.path.isfile(cand):
            return cand
    cache = os.environ.get("KSF_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ksf")
    for cand in sorted(glob.glob(os.path.join(cache, "src", "linux-*", "scripts",
                                              "checkpatch.pl")), reverse=True):
        if os.path.exists(os.path.join(os.path.dirname(os.path.dirname(cand)),
                                       ".ksf-extracted")):
            return cand
    dest = os.path.join(BUILD, "lint", "linux")
    cand = os.path.join(dest, "scripts", "checkpatch.pl")
    if not os.path.isfile(cand):
        os.makedirs(dest, exist_ok=True)
        subprocess.run(["tar", "-C", dest, "--strip-components=1", "--wildcards", "-xf",
                        "/usr/src/linux-source-6.12.tar.xz", "*/scripts/checkpatch.pl",
                        "*/scripts/spelling.txt", "*/scripts/const_structs.checkpatch"],
                       check=False)
    return cand if os.path.isfile(cand) else None


def checkpatch():
    """checkpatch.pl --strict on every tracked C file and header."""
    pl = _checkpatch_pl()
    if not pl:
        return False, "checkpatch.pl not found: build a kernel (make kernel) or run make deps"
    files = tracked("*.c", "*.h")
    groups = [([f for f in files if f not in CHECKPATCH_IGNORE], [])]
    groups += [([f], types) for f, types in sorted(CHECKPATCH_IGNORE.items()) if f in files]
    ok, outs = True, []
    for group, ignore in groups:
        if not group:
            continue
        cmd = ["perl", pl, *CHECKPATCH_FLAGS, *(["--ignore", ",".join(ignore)] if ignore else []),
               "-f", *group]
        one_ok, out = _run(cmd)
        ok &= one_ok
        outs.append(out.strip())
    return ok, "\n".join(o for o in outs if o)


def shellcheck():
    """shellcheck on every tracked shell script (settings: .shellcheckrc)."""
    return _run(["shellcheck", "--format=gcc", *shell_scripts()])


def rustfmt():
    """rustfmt --check on every tracked Rust file (as make check runs it)."""
    return _run(["/usr/bin/rustfmt", "--check", "--edition", "2021", *tracked("*.rs")])


def modules(log):
    """The distinct warnings in LOG, the output of modules.sh OUT_DIR with
    KSF_CLIPPY=1 (OUT_DIR/build.log); paths are given from the repository
    (the build compiles a mirror in OUT_DIR/src)."""
    try:
        with open(log, errors="replace") as f:
            text = f.read()
    except OSError as e:
        return False, f"no module build log: {e}"
    if not text.startswith("modules: CLIPPY=1 "):
        return False, f"{log} is not from a build with KSF_CLIPPY=1:\n{text[:500]}"
    src = os.path.join(os.path.dirname(os.path.abspath(log)), "src") + os.sep

    def repo_path(m):
        p = os.path.normpath(m.group(0))
        return p[len(src):] if p.startswith(src) else p

    found, seen = [], set()
    block = None
    for line in text.splitlines() + [""]:
        line = re.sub(r"/[^\s:]+\.(?:rs|c|h|o|ko)\b", repo_path, line)
        if block is not None:
            # A rustc diagnostic goes on to its first empty line.
            if line.strip():
                block.append(line)
                continue
            body = "\n".join(block)
            if body not in seen:
                seen.add(body)
                found.append(body)
            block = None
            continue
        if re.match(r"(warning|error)(\[\w+\])?: ", line):
            if re.match(r"warning: \d+ warnings? emitted", line):
                continue
            block = [line]
        elif re.match(r"\d+ warnings? generated\.$", line):
            continue  # clang's count of the warnings above
        elif re.search(r"\bwarning\b", line, re.I) and line not in seen:
            seen.add(line)
            found.append(line)
    if not found:
        return True, ""
    # Then one line each, last: make check shows the end of the output.
    short = []
    for body in found:
        first = body.splitlines()[0]
        where = re.search(r"--> (\S+)", body)
        lint = re.search(r"index\.html#(\w+)", body) or re.search(r"#\[warn\((\w+)\)\]", body)
        short.append((f"{where.group(1)}: " if where else "") + first +
                     (f" [{lint.group(1)}]" if lint else ""))
    return False, ("\n\n".join(found) + "\n\n" + "\n".join(short) +
                   f"\n{len(found)} distinct warnings (full log: {log})")


# The host lints: (name in make check, function).
HOST = (
    ("host: clippy (tools)", clippy_tools),
    ("host: checkpatch", checkpatch),
    ("host: shellcheck", shellcheck),
)
MODULES = "build: modules have no clippy warnings"


def _record(res, logs, name, fn, *args):
    t0 = time.monotonic()
    ok, out = fn(*args)
    secs = time.monotonic() - t0
    os.makedirs(logs, exist_ok=True)
    log = os.path.join(logs, re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".log")
    with open(log, "w") as f:
        f.write(out)
    res.record(f"{name} ({secs:.0f} s)" if ok else name, ok, out, log)
    return ok


def record_host(res, logs):
    """Runs every host lint; one result each in RES (make check's Results),
    their output in LOGS."""
    for name, fn in HOST:
        _record(res, logs, name, fn)


def record_modules(res, log, logs):
    """The module build's warnings (LOG: its build.log) as one result."""
    _record(res, logs, MODULES, modules, log)


def main(argv):
    res = Results()
    logs = os.path.join(BUILD, "lint")
    lints = {"clippy": HOST[0], "checkpatch": HOST[1], "shellcheck": HOST[2],
             "rustfmt": ("host: rustfmt --check", rustfmt)}
    moddir = None
    if argv[:1] == ["--modules"] and len(argv) >= 2:
        moddir, make_vars, argv = argv[1], argv[2:], []
    if any(a not in lints for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    for name in argv or lints:
        _record(res, logs, *lints[name])
    if moddir:
        env = dict(os.environ, KSF_CLIPPY="1")
        ok, out = _run(["make", "-s", "modules", *make_vars], env=env)
        if ok:
            record_modules(res, os.path.join(moddir, "build.log"), logs)
        else:
            res.record("build: modules (KSF_CLIPPY=1)", False, out)
    return res.summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
