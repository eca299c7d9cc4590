// SPDX-License-Identifier: GPL-2.0

//! Unit tests of the reply matching and checking in `window.rs`.

use super::*;
use ksf_proto::rpc::{encode_reply, Reply};

const BASE: u32 = 0xffff_fff0; // xids wrap around within the window

fn reply(xid: u32, stat: AcceptStat<'static>) -> Vec<u8> {
    let mut buf = [0u8; 64];
    let kind = ReplyKind::accepted(stat);
    let len = encode_reply(&mut buf, &Reply { xid, kind }).unwrap();
    buf[..len].to_vec()
}

fn ok(xid: u32) -> Vec<u8> {
    reply(xid, AcceptStat::Success { results: &[] })
}

/// A window of `count` calls, `inflight` of them taken and sent at t=100.
fn sent(count: u64, inflight: usize, procedure: u32) -> (Window, IterResult) {
    let mut w = Window::new(BASE, count, inflight, procedure);
    while w.can_take() {
        w.take();
        w.stamp(100);
    }
    (w, IterResult::new(0, 10))
}

#[test]
fn in_order_and_out_of_order_replies() {
    let (mut w, mut r) = sent(6, 4, 0);
    assert_eq!(w.stamped(), 4);
    assert!(!w.can_take());
    assert_eq!(w.xid(1), BASE + 1);
    w.on_reply(&ok(BASE + 1), 150, &mut r); // out of order: window stays
    assert!(!w.can_take());
    w.on_reply(&ok(BASE), 300, &mut r); // 0 and 1 settled: two more
    assert_eq!(w.next_xid(), BASE.wrapping_add(4));
    assert_eq!(w.take(), BASE.wrapping_add(4));
    assert_eq!(w.take(), BASE.wrapping_add(5));
    assert!(!w.can_take());
    w.stamp(400);
    w.stamp(400);
    for s in 2..6 {
        w.on_reply(&ok(BASE.wrapping_add(s)), 500, &mut r);
    }
    assert!(w.done());
    assert_eq!((r.counts.calls, r.errors, r.counts.replies), (6, 0, 6));
    assert_eq!((r.hist.min(), r.hist.max()), (50, 400));
}

#[test]
fn unknown_xids() {
    let (mut w, mut r) = sent(2, 1, 0);
    w.on_reply(&ok(7), 200, &mut r);
    assert_eq!(
        r.notes,
        ["reply with unknown xid 0x00000007; expected xid 0xfffffff0"]
    );
    // Queued but not sent yet: no reply can be meant for it.
    let mut w = Window::new(BASE, 5, 4, 0);
    w.take();
    w.take();
    w.stamp(1);
    w.on_reply(&ok(BASE + 1), 2, &mut r);
    w.on_reply(&ok(BASE - 99), 2, &mut r);
    assert_eq!(r.errors, 3);
    assert!(r.notes[1]
        .ends_with("; expected one of the 2 calls in flight, xids 0xfffffff0..0xfffffff1"));
    // Stale ring slot: seq + RING.
    let (mut w, mut r) = sent(RING as u64 * 2, 1, 0);
    w.on_reply(&ok(BASE.wrapping_add(RING as u32)), 2, &mut r);
    assert_eq!(r.errors, 1);
}

#[test]
fn strays_give_up_calls_once_quiet() {
    let (mut w, mut r) = sent(3, 2, 0);
    w.on_reply(&ok(BASE ^ 0x8000_0000), 200, &mut r);
    w.on_reply(&ok(BASE + 1), 200, &mut r);
    // 2 replies for 2 calls sent: call 0 will not be answered.
    w.retire_strays(2, 3); // not yet: more calls were sent than answered
    assert!(w.context().starts_with("0 of 3 calls settled, 1 in flight"));
    w.retire_strays(2, 2);
    assert!(w.context().starts_with("2 of 3 calls settled, 0 in flight"));
    // Its late reply is not counted again.
    w.on_reply(&ok(BASE), 300, &mut r);
    assert_eq!((r.counts.calls, r.errors), (1, 1));
    w.retire_strays(3, 2);
    assert!(!w.done());
}

#[test]
fn duplicates_and_second_replies() {
    let (mut w, mut r) = sent(2, 2, 0);
    w.on_reply(&ok(BASE), 200, &mut r);
    w.on_reply(&ok(BASE), 200, &mut r);
    w.on_reply(&reply(BASE + 1, AcceptStat::SystemErr), 200, &mut r);
    w.on_reply(&ok(BASE + 1), 200, &mut r);
    assert_eq!(r.notes[0], "duplicate reply for xid 0xfffffff0");
    assert_eq!(
        r.notes[1],
        "xid 0xfffffff1: expected an accepted SUCCESS reply, got SYSTEM_ERR"
    );
    assert!(r.notes[2].starts_with("second reply for xid 0xfffffff1"));
    assert!(w.done());
    assert_eq!((r.counts.calls, r.errors), (1, 3));
}

#[test]
fn bad_replies() {
    let (mut w, mut r) = sent(5, 5, 0);
    let mismatch = AcceptStat::ProgMismatch { low: 2, high: 4 };
    w.on_reply(&reply(BASE, mismatch), 200, &mut r);
    let mut denied = [0u8; 64];
    let kind = ReplyKind::Denied(RejectStat::AuthError(AuthStat::BADCRED));
    let len = encode_reply(
        &mut denied,
        &Reply {
            xid: BASE + 1,
            kind,
        },
    )
    .unwrap();
    w.on_reply(&denied[..len], 200, &mut r);
    w.on_reply(
        &reply(BASE + 2, AcceptStat::Success { results: &[0; 4] }),
        200,
        &mut r,
    );
    w.on_reply(&ok(BASE + 3)[..10], 200, &mut r); // truncated, xid known
    w.on_reply(&[1, 2], 200, &mut r); // not even an xid
    assert_eq!(
        r.notes,
        [
            "xid 0xfffffff0: expected an accepted SUCCESS reply, got PROG_MISMATCH (versions 2..4 served)",
            "xid 0xfffffff1: expected an accepted SUCCESS reply, got MSG_DENIED AUTH_ERROR AUTH_BADCRED (1)",
            "xid 0xfffffff2: the NULL reply carries 4 bytes of results, expected none",
            "malformed reply of 10 bytes: xid 0xfffffff3: truncated reply: ff ff ff f3 00 00 00 01 00 00",
            "malformed reply of 2 bytes: truncated reply: 01 02",
        ]
    );
    assert_eq!((r.counts.calls, r.errors), (0, 5));
    assert!(w.context().starts_with("4 of 5 calls settled, 1 in flight"));
    // Results are fine for other procedures.
    let (mut w, mut r) = sent(1, 1, 7);
    w.on_reply(
        &reply(BASE, AcceptStat::Success { results: &[0; 4] }),
        200,
        &mut r,
    );
    assert_eq!((r.counts.calls, r.errors), (1, 0));
}

#[test]
fn udp_deadlines() {
    let (mut w, mut r) = sent(3, 2, 0);
    let t = 1_000_000;
    assert_eq!(w.expire(100 + t - 1, t, &mut r), Some(100 + t));
    assert_eq!(w.expire(100 + t, t, &mut r), None);
    assert_eq!(
        r.notes,
        [
            "no reply to xid 0xfffffff0 within 1 ms (lost)",
            "no reply to xid 0xfffffff1 within 1 ms (lost)"
        ]
    );
    w.on_reply(&ok(BASE), 200, &mut r); // late: already counted
    assert_eq!(r.errors, 2);
    assert!(w.can_take());
}

#[test]
fn helpers() {
    assert_eq!(hex(&[0, 255]), "00 ff");
    assert_eq!(hex(&[7; 17]).len(), 16 * 3 + 3);
    assert_eq!(hex(&[]), "");
    assert_eq!(auth_stat_name(AuthStat(99)), "unknown auth_stat");
    let k = ReplyKind::Denied(RejectStat::RpcMismatch { low: 2, high: 2 });
    assert_eq!(describe(&k), "MSG_DENIED RPC_MISMATCH (RPC versions 2..2)");
}
