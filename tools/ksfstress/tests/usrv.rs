// SPDX-License-Identifier: GPL-2.0

//! Every subcommand at small sizes against usrv, which behaves like krpc2
//! and kecho: no finding, and the summary says what was done.

mod common;

use common::*;

const PROTOS: [&str; 2] = ["rpc", "echo"];

#[test]
fn fuzz() {
    for proto in PROTOS {
        let srv = usrv(proto);
        let t = srv.target();
        let s = ok(&[
            "fuzz",
            &t,
            "--proto",
            proto,
            "--records",
            "1500",
            "--batch",
            "500",
            "--conns",
            "8",
            "--seed",
            "11",
            "--good-calls",
            "20",
        ]);
        assert_eq!(s["seed"], "11");
        assert!(num(&s, "records") >= 1500);
        assert_eq!((num(&s, "batches"), num(&s, "good_checks")), (3, 3));
        assert_eq!((num(&s, "good_failures"), num(&s, "errors")), (0, 0));
        if proto == "rpc" {
            assert!(num(&s, "closed_by_server") > 50, "{s:?}");
            assert!(num(&s, "valid_calls") > 500, "{s:?}");
        } else {
            assert_eq!(num(&s, "closed_by_server"), 0);
        }
    }
}

#[test]
fn hold_churn_reset() {
    for proto in PROTOS {
        let srv = usrv(proto);
        let t = srv.target();
        let p = ["--proto", proto, "--seed", "3"];
        let s = ok(&[&["hold", &t, "--conns", "300", "--secs", "0"][..], &p].concat());
        assert_eq!((num(&s, "held"), num(&s, "served")), (300, 300));
        let s = ok(&[&["churn", &t, "--cycles", "400"][..], &p].concat());
        assert_eq!(num(&s, "cycles"), 400);
        assert!(num(&s, "resets") > 100 && num(&s, "calls") > 100, "{s:?}");
        let s = ok(&[&["reset", &t, "--count", "150"][..], &p].concat());
        assert_eq!((num(&s, "peers"), num(&s, "good_checks")), (150, 1));
    }
}

#[test]
fn halfclose_and_noread() {
    for proto in PROTOS {
        let srv = usrv(proto);
        let t = srv.target();
        let p = ["--proto", proto];
        let s = ok(&[&["halfclose", &t, "--count", "150", "--calls", "7"][..], &p].concat());
        assert_eq!(num(&s, "peers"), 150);
        let what = if proto == "rpc" { "calls" } else { "messages" };
        assert_eq!(num(&s, what), 150 * 7);
        let s = ok(&[&["noread", &t, "--conns", "3", "--secs", "1"][..], &p].concat());
        assert_eq!(num(&s, "peers"), 3);
        assert!(num(&s, "sent_min") > 0, "{s:?}");
        // The good client is served while the peers do not read; how many
        // round trips fit in the second depends on the host's load.
        assert!(num(&s, "good_rtts") > 0, "{s:?}");
        assert_eq!(s["sent_each"].split(',').count(), 3);
    }
}
