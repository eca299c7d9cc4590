// SPDX-License-Identifier: GPL-2.0

//! The incremental record-marking decoder on arbitrary streams in
//! arbitrary chunkings.
//!
//! Input: `[record limit, fragment limit, chunk seed (2 bytes), stream...]`
//! (see `ksf_fuzz::rm_limits` and `ksf_fuzz::split`). Properties:
//!
//! - fed whole, in the chunks the input picks, and byte by byte, the
//!   decoder finds the same records and the same error, and both match a
//!   reference model written from RFC 5531 (`ksf_fuzz::model`);
//! - every step keeps the decoder's contract, records never exceed
//!   `max_record`, and errors are sticky (checked in `ksf_fuzz::feed`);
//! - marks round-trip, and `fragments` frames the stream as one record
//!   that decodes back to it exactly at its limits and fails just below.

#![no_main]

use ksf_fuzz::{feed, header, model, rm_limits, split, End, Records};
use ksf_proto::rm::{fragments, Error, Limits, Mark, MARK_LEN, MAX_FRAGMENT_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let (h, stream) = header(input);
    let limits = rm_limits(h[0], h[1]);
    let seed = u16::from_le_bytes([h[2], h[3]]);

    let want = model(stream, limits);
    let whole = feed(limits, &[stream]);
    assert_eq!(whole, want, "whole stream vs the model ({limits:?})");
    let chunked = feed(limits, &split(stream, seed));
    assert_eq!(
        chunked, whole,
        "chunked (seed {seed:#x}) vs whole ({limits:?})"
    );
    if stream.len() <= 512 && seed != 1 {
        assert_eq!(
            feed(limits, &split(stream, 1)),
            whole,
            "byte by byte vs whole"
        );
    }
    for r in &whole.records {
        assert!(!r.is_empty() && r.len() as u64 <= u64::from(limits.max_record));
    }

    // Marks: every word is one, and encodes back to itself.
    if let Some(word) = stream.get(..MARK_LEN) {
        let word: [u8; MARK_LEN] = word.try_into().unwrap();
        let mark = Mark::decode(word);
        assert_eq!(mark.encode(), word);
        assert_eq!(Mark::new(mark.len as usize, mark.last), Some(mark));
        assert_eq!(Mark::new(MAX_FRAGMENT_LEN as usize + 1, mark.last), None);
    }

    // Framing: the stream as the payload of one record, in fragments of at
    // most `max_fragment` bytes.
    let max_fragment = 1 + u32::from(h[2] ^ h[3]);
    let len = stream.len();
    let mut wire = Vec::new();
    let mut next = 0;
    let mut count = 0u32;
    for (mark, range) in fragments(len, max_fragment) {
        assert_eq!(range.start, next, "fragments are contiguous");
        assert!(!range.is_empty() && range.len() <= max_fragment as usize);
        assert_eq!(mark.len as usize, range.len());
        next = range.end;
        count += 1;
        assert_eq!(
            mark.last,
            next == len,
            "only the last fragment is marked last"
        );
        wire.extend_from_slice(&mark.encode());
        wire.extend_from_slice(&stream[range]);
    }
    assert_eq!(next, len, "fragments cover the message");
    assert_eq!(count as usize, len.div_ceil(max_fragment as usize));
    if len == 0 {
        return;
    }
    let exact = Limits::new(len as u32, count).unwrap();
    let chunks = split(&wire, seed);
    let got = feed(exact, &chunks);
    assert_eq!(
        got,
        Records {
            records: vec![stream.to_vec()],
            end: End::Boundary
        },
        "a record exactly at its limits"
    );
    if len > 1 {
        let small = Limits::new(len as u32 - 1, count).unwrap();
        let err = Error::RecordTooLarge {
            len: len as u64,
            max: len as u32 - 1,
        };
        assert_eq!(feed(small, &chunks).end, End::Error(err));
    }
    if count > 1 {
        let few = Limits::new(len as u32, count - 1).unwrap();
        let err = Error::TooManyFragments { max: count - 1 };
        assert_eq!(feed(few, &chunks).end, End::Error(err));
    }
});
