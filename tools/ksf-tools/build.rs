// SPDX-License-Identifier: GPL-2.0

//! Records the git revision the tools are built from, for `--version`:
//! `KSF_GIT_REV` is the 12-digit short hash of HEAD, with `-dirty` if
//! tracked files differ from it, or `unknown` without git or a repository.
//!
//! The script runs again when HEAD, the branch it names or the index
//! change (a commit, a checkout, `git add`, or any `git status`, which
//! refreshes the index), not on every edit: the tools build incrementally,
//! and a clean tree's revision is always right.

use std::path::Path;
use std::process::Command;

/// The trimmed output of `git ARGS`, or `None` if git is absent or fails.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Asks cargo to run this script again when `path` changes, if it exists.
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let rev = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(rev) => {
            let status = git(&["status", "--porcelain", "--untracked-files=no"]);
            let dirty = status.is_none_or(|s| !s.is_empty());
            format!("{rev}{}", if dirty { "-dirty" } else { "" })
        }
        None => "unknown".to_string(),
    };
    println!("cargo:rustc-env=KSF_GIT_REV={rev}");
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        watch(&Path::new(&dir).join("HEAD"));
        watch(&Path::new(&dir).join("index"));
    }
    if let Some(common) = git(&["rev-parse", "--git-common-dir"]) {
        let common = Path::new(&common);
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch(&common.join(branch));
        }
        watch(&common.join("packed-refs"));
    }
}
