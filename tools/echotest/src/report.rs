// SPDX-License-Identifier: GPL-2.0

//! echotest's output: the shared message table (one row per iteration and
//! a summary row of medians) or JSON lines.

use crate::opts::Opts;
use crate::IterResult;
use ksf_tools::json::{self, Counted, Iteration, Shape};
use ksf_tools::msg_table::MsgTable;
use ksf_tools::output::Output;

/// The output `o` asks for.
pub fn output(tool: &'static str, o: &Opts) -> Box<dyn Output> {
    if o.json {
        return Box::new(json::Report::new(Shape {
            tool,
            jobs: o.jobs,
            inflight: o.inflight,
            conns: Some(o.jobs * o.conns),
            len: Some(o.len),
            quantiles: o.quantiles.clone(),
        }));
    }
    let fixed = [
        ("jobs", 4, o.jobs.to_string()),
        ("inflight", 8, o.inflight.to_string()),
        ("len", 7, o.len.to_string()),
    ];
    Box::new(MsgTable::new(&fixed, &o.quantiles, true, true))
}

/// The iteration of the jobs' `results`, with messages of `len` bytes.
pub fn iteration(results: &[IterResult], len: usize) -> Iteration {
    Iteration::of(results, |c| Counted {
        ops: c.msgs,
        bytes: c.msgs * len as u64,
        syscalls: Some((c.sends, c.recvs)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(job: usize, lat_us: &[u64], start: u64, end: u64) -> IterResult {
        let mut r = IterResult::new(job, 0);
        lat_us.iter().for_each(|&l| r.hist.record(l * 1000));
        r.counts.msgs = lat_us.len() as u64;
        (r.counts.sends, r.counts.recvs) = (r.counts.msgs, 2 * r.counts.msgs);
        (r.start_ns, r.end_ns) = (start, end);
        r
    }

    #[test]
    fn table_of_jobs() {
        let mut out = output("echotest", &crate::opts::test_opts("-j2 -l 125"));
        let h = out.header().unwrap();
        assert_eq!(
            h.split_whitespace().collect::<Vec<_>>(),
            [
                "Date", "iter", "jobs", "inflight", "len", "msgs", "usecs", "msgs/s", "Mbps",
                "MinLat", "MedLat", "p99", "MaxLat", "cpu/msg", "snd/msg", "rcv/msg", "errors"
            ]
        );
        // Two jobs, 4 messages in 2 ms: 2000 msgs/s, 2 Mbps.
        let rs = [
            result(0, &[10, 20], 0, 1_500_000),
            result(1, &[30, 40], 500_000, 2_000_000),
        ];
        let row = out.add(1, &iteration(&rs, 125));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(&cells[5..9], ["4", "2000", "2000", "2.0"]);
        assert_eq!(&cells[14..16], ["1.000", "2.000"]);
    }

    #[test]
    fn json_lines() {
        let mut out = output("echotest", &crate::opts::test_opts("--json"));
        assert_eq!(out.header(), None);
        let line = out.add(1, &iteration(&[result(0, &[10], 0, 1000)], 64));
        assert!(
            line.starts_with(r#"{"type":"iter","tool":"echotest","iter":1,"#),
            "{line}"
        );
    }
}
