// SPDX-License-Identifier: GPL-2.0

//! Shared pieces of the `ksf-proto` fuzz targets: how a target reads its
//! parameters from the input, how it splits a stream into chunks, a
//! reference model of record marking to compare the decoder with, and the
//! seed corpus (written by `gen_corpus`).
//!
//! Input layouts (every byte string is a valid input):
//!
//! - `rm_decoder`: `[limits_record, limits_fragments, chunk_seed (2), stream...]`,
//!   see [`rm_limits`] and [`split`];
//! - `rpc_call`: one record, as it would reach the server (no record mark);
//! - `rpc_stream`: `[max_record, versions_and_cap, chunk_seed (2), stream...]`,
//!   see [`StreamParams`];
//! - `nfs3_args`: `[procedure selector, args...]`, see [`nfs3`].

use ksf_proto::rm::{self, fragments, Decoder, Limits, Mark};
use ksf_proto::rpc::engine::{MAX_MARKED_REPLY, MAX_REPLY_LEN, NFS_PROGRAM as NFS};
use ksf_proto::rpc::{encode_call, encode_reply, AuthSys, Call, OpaqueAuth, Reply};

pub mod nfs3;

/// Round-trip checks shared with the host robustness test.
#[path = "../../rust/proto/tests/common/round_trip.rs"]
pub mod round_trip;

/// Bytes of header the stream targets read before their stream.
pub const HEADER_LEN: usize = 4;

/// Splits `input` into its header (zero-padded when the input is short)
/// and the rest.
pub fn header(input: &[u8]) -> ([u8; HEADER_LEN], &[u8]) {
    let mut h = [0u8; HEADER_LEN];
    let n = input.len().min(HEADER_LEN);
    h[..n].copy_from_slice(&input[..n]);
    (h, &input[n..])
}

/// The record-marking limits `rm_decoder` uses: small ones (so that the
/// fuzzer reaches them), the server default, and the largest possible.
pub fn rm_limits(record: u8, frags: u8) -> Limits {
    let low = u32::from(record & 0x3f);
    let max_record = match record >> 6 {
        0 => 1 + low,
        1 => 1 + low * 64,
        2 => Limits::DEFAULT.max_record,
        _ => u32::MAX,
    };
    let low = u32::from(frags & 0x3f);
    let max_fragments = match frags >> 6 {
        0 => 1 + low,
        1 => Limits::DEFAULT.max_fragments,
        2 => u32::MAX,
        _ => 1 + (low & 3),
    };
    Limits::new(max_record, max_fragments).expect("both limits are non-zero")
}

/// How `rpc_stream` runs the server (`ksf_proto::rpc::engine`): record
/// limit, versions served, and room for replies per `feed` call (small
/// values exercise backpressure).
#[derive(Clone, Copy, Debug)]
pub struct StreamParams {
    /// `max_record` (krpc2 accepts 64 to 1 MiB).
    pub max_record: u32,
    /// Lowest version served.
    pub low: u32,
    /// Highest version served.
    pub high: u32,
    /// Output room per `feed` call.
    pub cap: usize,
    /// Seed for [`split`].
    pub chunk_seed: u16,
}

impl StreamParams {
    /// Reads the parameters from a header.
    pub fn new(h: [u8; HEADER_LEN]) -> StreamParams {
        let max_record = match h[0] & 3 {
            0 => 64,
            1 => 64 + u32::from(h[0] >> 2) * 16,
            2 => 4096,
            _ => 1 << 20,
        };
        // krpc2's vers_min..=vers_max, both in 2..=4.
        const VERS: [(u32, u32); 6] = [(2, 2), (2, 3), (2, 4), (3, 3), (3, 4), (4, 4)];
        let (low, high) = VERS[usize::from(h[1] & 0x0f) % VERS.len()];
        let cap_sel = usize::from(h[1] >> 4);
        let cap = if cap_sel < 4 {
            MAX_MARKED_REPLY * (cap_sel + 1)
        } else {
            1 << 14
        };
        StreamParams {
            max_record,
            low,
            high,
            cap,
            chunk_seed: u16::from_le_bytes([h[2], h[3]]),
        }
    }
}

/// Splits `data` into chunks, as a stream may arrive in receives: seed 0
/// is one chunk, seed 1 one byte per chunk, anything else pseudo-random
/// lengths from 0 (an empty receive) up to a power of two picked by the
/// seed. The chunks always cover `data` in order.
pub fn split(data: &[u8], seed: u16) -> Vec<&[u8]> {
    match seed {
        0 => return vec![data],
        1 => return data.chunks(1).collect(),
        _ => {}
    }
    let max = 1usize << (seed & 0x0f).min(12);
    let mut state = u32::from(seed) | (u32::from(seed) << 16) | 1;
    let mut out = Vec::new();
    let mut rest = data;
    let mut last_empty = false;
    while !rest.is_empty() {
        // xorshift32
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let mut n = (state as usize) % (max + 1);
        if n == 0 && last_empty {
            n = 1;
        }
        last_empty = n == 0;
        let n = n.min(rest.len());
        out.push(&rest[..n]);
        rest = &rest[n..];
    }
    out
}

/// How a stream ends, as far as record marking goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// Between records.
    Boundary,
    /// Inside a record (or a mark): `declared` bytes declared by its marks
    /// so far, of which `payload` has arrived.
    Partial { declared: u32, payload: Vec<u8> },
    /// The stream was rejected.
    Error(rm::Error),
}

/// What a record-marked stream holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Records {
    /// The complete records, in order.
    pub records: Vec<Vec<u8>>,
    /// What follows them.
    pub end: End,
}

/// Reference model of record marking (RFC 5531, section 11) with the
/// [`Limits`] of `ksf_proto::rm`, written straight from the spec over the
/// whole stream at once. When a mark breaks several limits, the error is
/// the first of: too many fragments, record too large, empty record.
pub fn model(stream: &[u8], limits: Limits) -> Records {
    let mut records = Vec::new();
    let mut pos = 0;
    loop {
        let mut record = Vec::new();
        let mut declared: u64 = 0;
        let mut nfrags: u32 = 0;
        loop {
            let Some(word) = stream.get(pos..pos + 4) else {
                let end = if pos == stream.len() && nfrags == 0 {
                    End::Boundary
                } else {
                    End::Partial {
                        declared: declared as u32,
                        payload: record,
                    }
                };
                return Records { records, end };
            };
            pos += 4;
            let word = u32::from_be_bytes(word.try_into().unwrap());
            let last = word & 0x8000_0000 != 0;
            let len = word & 0x7fff_ffff;
            let err = if nfrags == limits.max_fragments {
                Some(rm::Error::TooManyFragments {
                    max: limits.max_fragments,
                })
            } else if declared + u64::from(len) > u64::from(limits.max_record) {
                Some(rm::Error::RecordTooLarge {
                    len: declared + u64::from(len),
                    max: limits.max_record,
                })
            } else if last && declared + u64::from(len) == 0 {
                Some(rm::Error::EmptyRecord)
            } else {
                None
            };
            if let Some(e) = err {
                return Records {
                    records,
                    end: End::Error(e),
                };
            }
            nfrags += 1;
            declared += u64::from(len);
            let avail = (stream.len() - pos).min(len as usize);
            record.extend_from_slice(&stream[pos..pos + avail]);
            pos += avail;
            if avail < len as usize {
                return Records {
                    records,
                    end: End::Partial {
                        declared: declared as u32,
                        payload: record,
                    },
                };
            }
            if last {
                records.push(record);
                break;
            }
        }
    }
}

/// Feeds `chunks` to a fresh [`Decoder`] the way a server does (each chunk
/// until it is used up) and collects the records, checking every step
/// against the decoder's documented contract on the way:
///
/// - a step never claims more than its input, its payload lies within
///   what it consumed, and it returns early only with a payload or at the
///   end of a record (so a non-empty input always makes progress);
/// - a record, and what the marks declare, never exceeds `max_record`;
///   a complete record is never empty, and leaves the decoder at a record
///   boundary;
/// - an error is sticky: every later call returns it again, whatever the
///   input.
pub fn feed(limits: Limits, chunks: &[&[u8]]) -> Records {
    let max = limits.max_record as usize;
    let mut dec = Decoder::new(limits);
    let mut records = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let mut rest: &[u8] = chunk;
        loop {
            if dec.at_record_boundary() {
                assert!(cur.is_empty() && dec.declared_len() == 0);
            }
            match dec.decode(rest) {
                Err(e) => {
                    // Sticky, whatever comes next.
                    assert_eq!(dec.decode(rest), Err(e));
                    assert_eq!(dec.decode(&[]), Err(e));
                    assert_eq!(dec.decode(&Mark::new(1, true).unwrap().encode()), Err(e));
                    for later in &chunks[i + 1..] {
                        assert_eq!(dec.decode(later), Err(e));
                    }
                    return Records {
                        records,
                        end: End::Error(e),
                    };
                }
                Ok(step) => {
                    assert!(step.consumed <= rest.len(), "{step:?} of {}", rest.len());
                    assert!(step.payload.start <= step.payload.end);
                    assert!(step.payload.end <= step.consumed, "{step:?}");
                    if step.consumed < rest.len() {
                        assert!(!step.payload.is_empty() || step.end_of_record, "{step:?}");
                    }
                    if !rest.is_empty() {
                        assert!(step.consumed > 0, "no progress: {step:?}");
                    }
                    cur.extend_from_slice(&rest[step.payload.clone()]);
                    assert!(cur.len() <= max, "record of {} > {max}", cur.len());
                    assert!(dec.declared_len() <= limits.max_record);
                    if step.end_of_record {
                        assert!(!cur.is_empty(), "empty record delivered");
                        assert!(dec.at_record_boundary() && dec.declared_len() == 0);
                        records.push(core::mem::take(&mut cur));
                    } else {
                        assert!(cur.len() <= dec.declared_len() as usize);
                    }
                    rest = &rest[step.consumed..];
                }
            }
            if rest.is_empty() {
                break;
            }
        }
    }
    let end = if dec.at_record_boundary() {
        End::Boundary
    } else {
        End::Partial {
            declared: dec.declared_len(),
            payload: cur,
        }
    };
    Records { records, end }
}

/// `record` framed as a record-marking stream in fragments of at most
/// `max_fragment` bytes.
pub fn marked(record: &[u8], max_fragment: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for (mark, range) in fragments(record.len(), max_fragment) {
        out.extend_from_slice(&mark.encode());
        out.extend_from_slice(&record[range]);
    }
    out
}

/// The wire form of `call`.
pub fn call_bytes(call: &Call<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let n = encode_call(&mut buf, call).expect("seed calls fit");
    buf.truncate(n);
    buf
}

/// The wire form of `reply`.
pub fn reply_bytes(reply: &Reply<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let n = encode_reply(&mut buf, reply).expect("seed replies fit");
    buf.truncate(n);
    buf
}

/// One seed input.
pub struct Seed {
    /// The target whose corpus it belongs to.
    pub target: &'static str,
    /// Its file name (`seed-...`).
    pub name: String,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// An `AUTH_SYS` credential body.
fn auth_sys_body(name: &[u8], gids: &[u32]) -> Vec<u8> {
    let sys = AuthSys::new(0x5eed, name, 1000, 1000, gids).expect("seed AUTH_SYS fits");
    let mut body = vec![0u8; AuthSys::MAX_LEN];
    let n = sys.encode(&mut body).expect("seed AUTH_SYS fits");
    body.truncate(n);
    body
}

/// Calls and non-calls a server may receive, each a record: valid calls
/// with and without `AUTH_SYS`, every policy outcome, and malformed ones.
fn records() -> Vec<(&'static str, Vec<u8>)> {
    use ksf_proto::rpc::{AcceptStat, AuthStat, RejectStat, ReplyKind};
    use ksf_proto::rpc::{AUTH_NONE, AUTH_SYS, AUTH_TLS, RPCSEC_GSS};

    let sys = auth_sys_body(b"client.example", &[4, 24, 27]);
    let sys_cred = OpaqueAuth {
        flavor: AUTH_SYS,
        body: &sys,
    };
    let with = |call: Call<'static>, cred: OpaqueAuth<'_>| -> Vec<u8> {
        call_bytes(&Call { cred, ..call })
    };
    let mut v: Vec<(&'static str, Vec<u8>)> = vec![
        ("null-auth-none", call_bytes(&Call::new(1, NFS, 3, 0))),
        ("null-auth-sys", with(Call::new(2, NFS, 3, 0), sys_cred)),
        (
            "null-auth-sys-16-gids-long-name",
            with(
                Call::new(3, NFS, 4, 0),
                OpaqueAuth {
                    flavor: AUTH_SYS,
                    body: &auth_sys_body(&[b'h'; 255], &[7; 16]),
                },
            ),
        ),
        (
            "getattr-auth-sys-args",
            call_bytes(&Call {
                cred: sys_cred,
                args: b"\0\0\0\x08filehndl",
                ..Call::new(4, NFS, 3, 1)
            }),
        ),
        ("null-vers2", call_bytes(&Call::new(5, NFS, 2, 0))),
        ("prog-unavail", call_bytes(&Call::new(6, 100005, 3, 0))),
        ("prog-mismatch", call_bytes(&Call::new(7, NFS, 9, 0))),
        ("proc-unavail", call_bytes(&Call::new(8, NFS, 3, 22))),
        (
            "rpcvers-3",
            call_bytes(&Call {
                rpcvers: 3,
                ..Call::new(9, NFS, 3, 0)
            }),
        ),
        (
            "auth-tls-null",
            with(
                Call::new(10, NFS, 3, 0),
                OpaqueAuth {
                    flavor: AUTH_TLS,
                    body: &[],
                },
            ),
        ),
        (
            "auth-tls-proc1",
            with(
                Call::new(11, NFS, 3, 1),
                OpaqueAuth {
                    flavor: AUTH_TLS,
                    body: &[],
                },
            ),
        ),
        (
            "rpcsec-gss",
            with(
                Call::new(12, NFS, 3, 0),
                OpaqueAuth {
                    flavor: RPCSEC_GSS,
                    body: b"\0\0\0\x01gss-ctx",
                },
            ),
        ),
        (
            "auth-none-with-body",
            with(
                Call::new(13, NFS, 3, 0),
                OpaqueAuth {
                    flavor: AUTH_NONE,
                    body: b"xyz",
                },
            ),
        ),
        (
            "bad-verifier",
            call_bytes(&Call {
                verf: OpaqueAuth {
                    flavor: 5,
                    body: b"abcde",
                },
                ..Call::new(14, NFS, 3, 0)
            }),
        ),
        (
            "cred-max-400",
            with(
                Call::new(15, NFS, 3, 0),
                OpaqueAuth {
                    flavor: 9,
                    body: &[0xaa; 400],
                },
            ),
        ),
    ];

    // Malformed: edited from valid calls.
    let null = call_bytes(&Call::new(20, NFS, 3, 0));
    v.push(("short-7", null[..7].to_vec()));
    v.push(("truncated-header-20", null[..20].to_vec()));
    v.push(("truncated-verifier", null[..36].to_vec()));
    let mut long = null.clone();
    long[28..32].copy_from_slice(&401u32.to_be_bytes());
    v.push(("cred-len-401", long));
    let mut bad = null.clone();
    bad[4..8].copy_from_slice(&7u32.to_be_bytes());
    v.push(("bad-msg-type", bad));
    let mut trailing = sys.clone();
    trailing.extend_from_slice(&[0; 4]);
    v.push((
        "auth-sys-trailing-bytes",
        with(
            Call::new(21, NFS, 3, 0),
            OpaqueAuth {
                flavor: AUTH_SYS,
                body: &trailing,
            },
        ),
    ));

    // Replies (a server closes on them; the reply decoder round-trips them).
    let reply = |xid, kind| reply_bytes(&Reply { xid, kind });
    v.push((
        "reply-success",
        reply(
            30,
            ReplyKind::accepted(AcceptStat::Success {
                results: b"results!",
            }),
        ),
    ));
    v.push((
        "reply-prog-mismatch",
        reply(
            31,
            ReplyKind::accepted(AcceptStat::ProgMismatch { low: 2, high: 4 }),
        ),
    ));
    v.push((
        "reply-denied-auth",
        reply(
            32,
            ReplyKind::Denied(RejectStat::AuthError(AuthStat::BADCRED)),
        ),
    ));
    v
}

/// The seed corpus of every target, deterministic.
pub fn seeds() -> Vec<Seed> {
    let mut out = Vec::new();
    let mut add = |target, name: &str, data| {
        out.push(Seed {
            target,
            name: format!("seed-{name}"),
            data,
        })
    };
    let records = records();

    for (name, rec) in &records {
        add("rpc_call", name, rec.clone());
    }

    // rm_decoder: [record limit, fragment limit, chunk seed (2)] + stream.
    let null = &records[0].1;
    let sys = &records[1].1;
    let hdr = |record: u8, frags: u8, seed: u16| {
        let s = seed.to_le_bytes();
        vec![record, frags, s[0], s[1]]
    };
    let cat = |h: Vec<u8>, parts: &[&[u8]]| -> Vec<u8> {
        let mut v = h;
        for p in parts {
            v.extend_from_slice(p);
        }
        v
    };
    let one = marked(null, u32::MAX);
    let frag8 = marked(sys, 8);
    let zero_frag = Mark::new(0, false).unwrap().encode();
    let empty_last = Mark::new(0, true).unwrap().encode();
    // DEFAULT limits are (0x80, 0x40).
    add("rm_decoder", "one-record", cat(hdr(0x80, 0x40, 0), &[&one]));
    add(
        "rm_decoder",
        "three-records-bytewise",
        cat(hdr(0x80, 0x40, 1), &[&one, &frag8, &one]),
    );
    add(
        "rm_decoder",
        "fragments-of-8-chunked",
        cat(hdr(0x80, 0x40, 0x1234), &[&frag8]),
    );
    add(
        "rm_decoder",
        "zero-length-fragments",
        cat(hdr(0x80, 0x40, 0x0203), &[&zero_frag, &zero_frag, &one]),
    );
    add(
        "rm_decoder",
        "at-limits",
        // max_record 40 (a NULL call), 64 fragments.
        cat(hdr(39, 0x40, 0x0105), &[&marked(null, 1)[..]]),
    );
    add(
        "rm_decoder",
        "record-too-large",
        cat(hdr(38, 0x40, 0x0007), &[&one]),
    );
    add(
        "rm_decoder",
        "too-many-fragments",
        cat(hdr(0x80, 3, 0x0009), &[&marked(null, 8)[..]]),
    );
    add(
        "rm_decoder",
        "empty-record-after-one",
        cat(hdr(0x80, 0x40, 0x000a), &[&one, &empty_last, &one]),
    );
    add(
        "rm_decoder",
        "partial-mark",
        cat(hdr(0x80, 0x40, 0x0003), &[&one, &one[..2]]),
    );
    add(
        "rm_decoder",
        "partial-body-max-u32",
        cat(hdr(0xc0, 0x80, 0x0004), &[&frag8[..30]]),
    );

    // rpc_stream: [max_record, versions | cap << 4, chunk seed (2)] + stream.
    let shdr = |rec: u8, vers_cap: u8, seed: u16| {
        let s = seed.to_le_bytes();
        vec![rec, vers_cap, s[0], s[1]]
    };
    // Versions: 1 = 2..=3, 2 = 2..=4, 3 = 3..=3. Reply room: 4 = 16 KiB,
    // 0 = one reply per feed, 1 = two.
    let mut pipelined = Vec::new();
    for (_, rec) in records.iter().filter(|(n, _)| {
        !n.starts_with("reply")
            && !n.starts_with("short")
            && !n.starts_with("trunc")
            && !n.starts_with("bad-msg")
    }) {
        pipelined.extend_from_slice(&marked(rec, u32::MAX));
    }
    add(
        "rpc_stream",
        "every-outcome-pipelined",
        cat(shdr(2, 0x40 | 3, 0), &[&pipelined]),
    );
    add(
        "rpc_stream",
        "every-outcome-one-reply-per-feed",
        cat(shdr(2, 3, 0x0406), &[&pipelined]),
    );
    add(
        "rpc_stream",
        "null-calls-bytewise",
        cat(shdr(2, 0x40 | 2, 1), &[&one, &frag8, &one]),
    );
    add(
        "rpc_stream",
        "fragmented-calls-chunked",
        cat(
            shdr(3, 0x10 | 1, 0x0305),
            &[&frag8, &marked(sys, 3)[..], &one],
        ),
    );
    add(
        "rpc_stream",
        "reply-closes",
        cat(
            shdr(2, 0x40 | 3, 0),
            &[
                &one,
                &marked(&records.last().unwrap().1, u32::MAX)[..],
                &one,
            ],
        ),
    );
    let short = records.iter().find(|(n, _)| *n == "short-7").unwrap();
    add(
        "rpc_stream",
        "short-record-closes",
        cat(
            shdr(2, 0x40 | 3, 0x0002),
            &[&one, &marked(&short.1, u32::MAX)[..]],
        ),
    );
    add(
        "rpc_stream",
        "too-large-closes",
        cat(
            shdr(0, 0x40 | 3, 0),
            &[&one, &marked(&[0; 65], u32::MAX)[..]],
        ),
    );
    add(
        "rpc_stream",
        "empty-record-closes",
        cat(shdr(2, 0x40 | 3, 0x0008), &[&one, &empty_last]),
    );
    for (name, data) in nfs3::seeds() {
        add("nfs3_args", name, data);
    }
    out
}

/// Checks that `wire` is a sequence of marked replies, each within
/// the engine's `MAX_REPLY_LEN` and a well-formed reply; returns their
/// xids.
pub fn reply_xids(wire: &[u8]) -> Vec<u32> {
    let got = model(wire, Limits::DEFAULT);
    assert_eq!(got.end, End::Boundary, "replies are whole records");
    got.records
        .iter()
        .map(|r| {
            assert!(r.len() <= MAX_REPLY_LEN, "reply of {} bytes", r.len());
            ksf_proto::rpc::decode_reply(r)
                .unwrap_or_else(|e| panic!("reply does not decode: {e}"))
                .xid
        })
        .collect()
}
