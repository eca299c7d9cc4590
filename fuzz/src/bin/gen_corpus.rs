// SPDX-License-Identifier: GPL-2.0

//! Writes the seed corpus, fuzz/corpus/<target>/seed-*, from
//! `ksf_fuzz::seeds` (deterministic), removing stale seed-* files.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --no-default-features --features gen \
//!     --bin gen_corpus -- [--check] [DIR]
//! ```
//!
//! DIR defaults to the crate's corpus/ directory. With `--check` nothing is
//! written: the exit status is 1 when DIR differs from what would be.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut check = false;
    let mut dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                eprintln!("usage: gen_corpus [--check] [DIR]");
                return ExitCode::SUCCESS;
            }
            _ => dir = PathBuf::from(arg),
        }
    }

    let mut want: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    for seed in ksf_fuzz::seeds() {
        let path = dir.join(seed.target).join(&seed.name);
        assert!(
            want.insert(path, seed.data).is_none(),
            "duplicate seed {}",
            seed.name
        );
    }
    let targets: Vec<PathBuf> = {
        let mut t: Vec<PathBuf> = want.keys().map(|p| p.parent().unwrap().into()).collect();
        t.dedup();
        t
    };

    let mut have: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    for t in &targets {
        let Ok(entries) = fs::read_dir(t) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with("seed-") {
                have.insert(e.path(), fs::read(e.path()).unwrap_or_default());
            }
        }
    }

    if check {
        let mut ok = true;
        for (path, data) in &want {
            if have.get(path) != Some(data) {
                eprintln!("gen_corpus: {} is missing or out of date", path.display());
                ok = false;
            }
        }
        for path in have.keys().filter(|p| !want.contains_key(*p)) {
            eprintln!("gen_corpus: {} is stale", path.display());
            ok = false;
        }
        if !ok {
            eprintln!("gen_corpus: regenerate with tools/scripts/fuzz.sh --gen");
            return ExitCode::FAILURE;
        }
        println!("gen_corpus: {} seeds up to date", want.len());
        return ExitCode::SUCCESS;
    }

    for path in have.keys().filter(|p| !want.contains_key(*p)) {
        fs::remove_file(path).expect("remove a stale seed");
    }
    for t in &targets {
        fs::create_dir_all(t).expect("create the corpus directory");
    }
    let bytes: usize = want.values().map(Vec::len).sum();
    for (path, data) in &want {
        if have.get(path) != Some(data) {
            fs::write(path, data).expect("write a seed");
        }
    }
    println!(
        "gen_corpus: {} seeds, {bytes} bytes, in {}",
        want.len(),
        dir.display()
    );
    ExitCode::SUCCESS
}
