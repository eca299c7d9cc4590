// SPDX-License-Identifier: GPL-2.0

//! ksfstress: the reliability client of ksf's servers (krpc2, kecho). See
//! `ksfstress --help` and [`help`].
//!
//! - [`rng`], [`wire`], [`model`]: a seeded random stream, valid RPC
//!   traffic, and the model of what krpc2 answers to any byte stream;
//! - [`mutate`], [`plan`]: the fuzzer's traffic, as per-connection plans;
//! - [`engine`], [`verify`]: plans run over many non-blocking connections,
//!   every byte the server sends back checked;
//! - [`peers`]: hostile peers' plumbing (flood, slowloris, idle);
//! - [`good`], [`checkcmd`]: the good client and `--check-cmd`;
//! - [`cmd`]: the subcommands; [`opts`], [`help`], [`report`]: the
//!   command line and the output.

mod checkcmd;
mod cmd;
mod engine;
mod good;
mod help;
mod model;
mod mutate;
mod nfs;
mod opts;
mod peers;
mod plan;
mod report;
mod rng;
mod sock;
mod verify;
mod wire;

use opts::Command;
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(cmd::flood::WORKER) {
        std::process::exit(cmd::flood::worker(&args[1..]));
    }
    let code = match opts::parse(args) {
        Ok(Command::Help(sub)) => {
            let text = sub.map_or_else(|| help::TOOL.to_string(), help::sub);
            let _ = std::io::stdout().write_all(text.as_bytes());
            0
        }
        Ok(Command::Version) => {
            let line = ksf_tools::version::line("ksfstress", env!("CARGO_PKG_VERSION"));
            println!("{line}");
            0
        }
        Ok(Command::Run(o)) => match ksf_tools::target::resolve(&o.host, o.port) {
            Ok(addr) => cmd::run(o, addr),
            Err(e) => {
                eprintln!("ksfstress: {e}");
                2
            }
        },
        Err(e) => {
            eprintln!("{}", ksf_tools::common_opts::usage_line("ksfstress", &e));
            2
        }
    };
    std::process::exit(code);
}
