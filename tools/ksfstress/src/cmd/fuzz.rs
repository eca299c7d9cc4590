// SPDX-License-Identifier: GPL-2.0

//! `ksfstress fuzz`: batches of mutated traffic, each followed by a
//! good-client check.

use super::Ctx;
use crate::engine::{self, Tally};
use crate::model::Model;
use crate::mutate;
use crate::opts::Proto;
use crate::report::rate;

pub fn run(cx: &mut Ctx) {
    let model = match cx.o.export() {
        Some(nfs) => Model::nfs3(cx.o.max_record, nfs),
        None => Model::new(cx.o.max_record),
    };
    let mut gen = cx.rng.fork();
    let campaign = cx.campaign(cx.o.conns);
    let (proto, total, batch) = (cx.o.proto, cx.o.records, cx.o.batch.max(1));
    let mut t = Tally::default();
    let (mut issued, mut batches) = (0u64, 0u64);
    let (mut reported, mut from) = (0u64, 0usize);
    while issued < total {
        batches += 1;
        let target = (issued + batch).min(total);
        let first_id = t.plans;
        let r = engine::run(
            &campaign,
            first_id,
            || {
                if issued >= target {
                    return None;
                }
                let p = match proto {
                    Proto::Rpc => mutate::rpc::plan(&mut gen, &model),
                    Proto::Echo => mutate::echo::plan(&mut gen, cx.o.max_message),
                };
                issued += p.records;
                Some(p)
            },
            &mut t,
        );
        cx.campaign_findings(&t, &mut reported, &mut from);
        if let Err(e) = r {
            cx.report.finding(&e);
            break;
        }
        let good = cx.good_check();
        if cx.o.verbose {
            cx.report.progress(&format!(
                "batch {batches}: records={} conns={} closed_by_server={} findings={} good={}",
                t.records,
                t.plans,
                t.closed_by_server,
                t.findings,
                if good { "ok" } else { "FAILED" }
            ));
        }
        if cx.report.errors() > 0 && !cx.o.keep_going {
            break;
        }
    }
    let secs = cx.secs();
    cx.report
        .kv("records", t.records)
        .kv("valid_calls", t.calls)
        .kv("nfs_records", t.nfs_records)
        .kv("nfs_garbage_args", t.nfs_replies[0])
        .kv("nfs_ok", t.nfs_replies[1])
        .kv("nfs_errors", t.nfs_replies[2])
        .kv("conns", t.plans)
        .kv("closed_by_server", t.closed_by_server)
        .kv("server_resets", t.server_resets)
        .kv("bytes_sent", t.bytes_sent)
        .kv("bytes_received", t.bytes_received)
        .kv("batches", batches)
        .kv("records_per_sec", rate(t.records, secs));
}
