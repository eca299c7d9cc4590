// SPDX-License-Identifier: GPL-2.0

//! ksf-finit: loads a kernel module with `finit_module(2)` alone.
//!
//! busybox's `insmod` loads a module again with `init_module(2)` when
//! `finit_module` fails, whatever the error: a load failed on purpose
//! (an allocation failure injected into its init, `make stress`) would
//! be retried at once and could succeed. This tool makes exactly one
//! attempt.
//!
//!     ksf-finit FILE [PARAM=VALUE...]
//!
//! Exit status: 0 loaded; 1 the load failed (the error on stderr); 2 bad
//! usage or an unreadable FILE.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: ksf-finit FILE [PARAM=VALUE...]");
        return ExitCode::from(2);
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("ksf-finit: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let Ok(params) = CString::new(args[1..].join(" ")) else {
        eprintln!("ksf-finit: a parameter holds a NUL byte");
        return ExitCode::from(2);
    };
    if let Err(e) = rustix::system::finit_module(&file, &params, 0) {
        eprintln!("ksf-finit: {path}: {}", io::Error::from(e));
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
