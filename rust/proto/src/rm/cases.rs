// SPDX-License-Identifier: GPL-2.0

//! Record-marking test cases, run by `cargo test` on the host and by the
//! `ksf_record_marking` KUnit suite in the guest.

use super::{fragments, Decoder, Error, Limits, Mark, Step, MARK_LEN, MAX_FRAGMENT_LEN};

/// Reassembles records from a stream into fixed storage (no allocation, so
/// the same helper runs in the kernel).
struct Collector {
    dec: Decoder,
    buf: [u8; 512],
    len: usize,
    /// End offsets of the records completed so far, in `buf`.
    ends: [usize; 8],
    records: usize,
}

impl Collector {
    fn new(limits: Limits) -> Collector {
        Collector {
            dec: Decoder::new(limits),
            buf: [0; 512],
            len: 0,
            ends: [0; 8],
            records: 0,
        }
    }

    /// Feeds `input` as one chunk of the stream.
    fn feed(&mut self, input: &[u8]) -> Result<(), Error> {
        let mut off = 0;
        while off < input.len() {
            let step = self.dec.decode(&input[off..])?;
            let payload = &input[off + step.payload.start..off + step.payload.end];
            self.buf[self.len..self.len + payload.len()].copy_from_slice(payload);
            self.len += payload.len();
            if step.end_of_record {
                self.ends[self.records] = self.len;
                self.records += 1;
            }
            off += step.consumed;
        }
        Ok(())
    }

    fn record(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }
}

/// Appends one fragment (mark and payload) to `out` at `*len`.
fn put(out: &mut [u8], len: &mut usize, payload: &[u8], last: bool) {
    let mark = Mark::new(payload.len(), last).unwrap_or(Mark { len: 0, last });
    out[*len..*len + MARK_LEN].copy_from_slice(&mark.encode());
    *len += MARK_LEN;
    out[*len..*len + payload.len()].copy_from_slice(payload);
    *len += payload.len();
}

/// A stream of three records: "hello" (one fragment), "split record" (three
/// fragments, one of them empty) and "x" (one fragment).
fn sample_stream(out: &mut [u8; 128]) -> usize {
    let mut len = 0;
    put(out, &mut len, b"hello", true);
    put(out, &mut len, b"split ", false);
    put(out, &mut len, b"", false);
    put(out, &mut len, b"record", true);
    put(out, &mut len, b"x", true);
    len
}

fn check_sample(t: &mut dyn super::super::testing::Tester, c: &Collector) {
    check_eq!(t, c.records, 3);
    check_eq!(t, c.record(0), b"hello");
    check_eq!(t, c.record(1), b"split record");
    check_eq!(t, c.record(2), b"x");
    check!(t, c.dec.at_record_boundary());
}

test_cases! {
    testing = super::super::testing;

    fn mark_round_trip(t) {
        for &(len, last) in &[(0usize, false), (1, true), (44, true), (MAX_FRAGMENT_LEN as usize, false)] {
            let mark = Mark::new(len, last);
            check!(t, mark.is_some());
            let mark = mark.unwrap_or(Mark { len: 0, last: false });
            check_eq!(t, Mark::decode(mark.encode()), mark);
        }
        check_eq!(t, Mark::new(44, true).map(Mark::encode), Some([0x80, 0, 0, 44]));
        check_eq!(t, Mark::decode([0xff, 0xff, 0xff, 0xff]), Mark { len: MAX_FRAGMENT_LEN, last: true });
    }

    fn mark_rejects_33_bit_lengths(t) {
        check_eq!(t, Mark::new(MAX_FRAGMENT_LEN as usize + 1, true), None);
        check_eq!(t, Mark::new(usize::MAX, false), None);
    }

    fn limits_reject_zero(t) {
        check_eq!(t, Limits::new(0, 1), None);
        check_eq!(t, Limits::new(1, 0), None);
        check_eq!(t, Limits::new(100, 2), Some(Limits { max_record: 100, max_fragments: 2 }));
    }

    fn single_fragment_is_zero_copy(t) {
        let mut wire = [0u8; 64];
        let mut len = 0;
        put(&mut wire, &mut len, b"one whole record", true);
        let mut dec = Decoder::new(Limits::DEFAULT);
        let step = dec.decode(&wire[..len]);
        check_eq!(t, step, Ok(Step { consumed: len, payload: MARK_LEN..len, end_of_record: true }));
        check!(t, dec.at_record_boundary());
    }

    fn whole_stream_at_once(t) {
        let mut wire = [0u8; 128];
        let len = sample_stream(&mut wire);
        let mut c = Collector::new(Limits::DEFAULT);
        check_eq!(t, c.feed(&wire[..len]), Ok(()));
        check_sample(t, &c);
    }

    fn byte_at_a_time(t) {
        let mut wire = [0u8; 128];
        let len = sample_stream(&mut wire);
        let mut c = Collector::new(Limits::DEFAULT);
        for i in 0..len {
            check_eq!(t, c.feed(&wire[i..i + 1]), Ok(()));
        }
        check_sample(t, &c);
    }

    fn split_at_every_byte(t) {
        let mut wire = [0u8; 128];
        let len = sample_stream(&mut wire);
        for cut in 0..=len {
            let mut c = Collector::new(Limits::DEFAULT);
            check_eq!(t, c.feed(&wire[..cut]), Ok(()));
            check_eq!(t, c.feed(&wire[cut..len]), Ok(()));
            check_sample(t, &c);
        }
    }

    fn partial_mark_waits(t) {
        let mut dec = Decoder::new(Limits::DEFAULT);
        check_eq!(t, dec.decode(&[0x80, 0]), Ok(Step { consumed: 2, payload: 2..2, end_of_record: false }));
        check!(t, !dec.at_record_boundary());
        check_eq!(t, dec.decode(&[0, 2, b'o']), Ok(Step { consumed: 3, payload: 2..3, end_of_record: false }));
        check_eq!(t, dec.decode(b"k"), Ok(Step { consumed: 1, payload: 0..1, end_of_record: true }));
        check_eq!(t, dec.decode(&[]), Ok(Step { consumed: 0, payload: 0..0, end_of_record: false }));
    }

    fn oversized_mark_rejected_before_payload(t) {
        let limits = Limits { max_record: 100, max_fragments: 8 };
        let mut dec = Decoder::new(limits);
        check_eq!(t, dec.decode(&Mark { len: 101, last: true }.encode()), Err(Error::RecordTooLarge { len: 101, max: 100 }));
        let mut dec = Decoder::new(limits);
        check_eq!(t, dec.decode(&[0xff, 0xff, 0xff, 0xff]), Err(Error::RecordTooLarge { len: MAX_FRAGMENT_LEN as u64, max: 100 }));
        let mut dec = Decoder::new(limits);
        check_eq!(t, dec.decode(&Mark { len: 100, last: true }.encode()).map(|s| s.consumed), Ok(MARK_LEN));
    }

    fn oversized_record_across_fragments(t) {
        let limits = Limits { max_record: 10, max_fragments: 8 };
        let mut wire = [0u8; 64];
        let mut len = 0;
        put(&mut wire, &mut len, b"123456", false);
        put(&mut wire, &mut len, b"12345", true);
        let mut c = Collector::new(limits);
        check_eq!(t, c.feed(&wire[..len]), Err(Error::RecordTooLarge { len: 11, max: 10 }));
        check_eq!(t, c.len, 6);
    }

    fn empty_record_rejected(t) {
        let mut dec = Decoder::new(Limits::DEFAULT);
        check_eq!(t, dec.decode(&[0x80, 0, 0, 0]), Err(Error::EmptyRecord));
        let mut c = Collector::new(Limits::DEFAULT);
        let mut wire = [0u8; 16];
        let mut len = 0;
        put(&mut wire, &mut len, b"", false);
        put(&mut wire, &mut len, b"", true);
        check_eq!(t, c.feed(&wire[..len]), Err(Error::EmptyRecord));
    }

    fn empty_last_fragment_ends_record(t) {
        let mut wire = [0u8; 32];
        let mut len = 0;
        put(&mut wire, &mut len, b"abc", false);
        put(&mut wire, &mut len, b"", true);
        let mut c = Collector::new(Limits::DEFAULT);
        check_eq!(t, c.feed(&wire[..len]), Ok(()));
        check_eq!(t, c.records, 1);
        check_eq!(t, c.record(0), b"abc");
    }

    fn zero_length_fragments_are_bounded(t) {
        let limits = Limits { max_record: 100, max_fragments: 4 };
        let mut wire = [0u8; 64];
        let mut len = 0;
        for _ in 0..4 {
            put(&mut wire, &mut len, b"", false);
        }
        put(&mut wire, &mut len, b"z", true);
        let mut c = Collector::new(limits);
        check_eq!(t, c.feed(&wire[..len]), Err(Error::TooManyFragments { max: 4 }));
        // The limit is per record: four fragments in each of two records pass.
        let mut len = 0;
        for _ in 0..2 {
            for _ in 0..3 {
                put(&mut wire, &mut len, b"", false);
            }
            put(&mut wire, &mut len, b"z", true);
        }
        let mut c = Collector::new(limits);
        check_eq!(t, c.feed(&wire[..len]), Ok(()));
        check_eq!(t, c.records, 2);
    }

    fn errors_are_sticky(t) {
        let mut dec = Decoder::new(Limits::DEFAULT);
        check_eq!(t, dec.decode(&[0x80, 0, 0, 0]), Err(Error::EmptyRecord));
        check_eq!(t, dec.decode(&[0x80, 0, 0, 1, b'a']), Err(Error::EmptyRecord));
        check_eq!(t, dec.decode(&[]), Err(Error::EmptyRecord));
    }

    fn fragments_cover_message(t) {
        let msg = [7u8; 100];
        let mut wire = [0u8; 256];
        let mut len = 0;
        let mut count = 0;
        for (mark, range) in fragments(msg.len(), 33) {
            check!(t, mark.len <= 33);
            put(&mut wire, &mut len, &msg[range], mark.last);
            count += 1;
        }
        check_eq!(t, count, 4);
        let mut c = Collector::new(Limits::DEFAULT);
        check_eq!(t, c.feed(&wire[..len]), Ok(()));
        check_eq!(t, c.records, 1);
        check_eq!(t, c.record(0), &msg[..]);
        check_eq!(t, fragments(0, 10).count(), 0);
        check_eq!(t, fragments(5, 0).count(), 5);
    }
}
