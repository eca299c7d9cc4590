// SPDX-License-Identifier: GPL-2.0

//! NFSv3 calls with valid RPC headers and malformed or hostile arguments,
//! for a server with an export (krpc2 `files=N`): GETATTR, LOOKUP, READ
//! and WRITE with handles of every bad length and content, unknown file
//! ids, offsets and counts at and past the end of the file and of `u32`,
//! WRITEs whose data length is not their count or whose `stable` is out
//! of range, names of bad lengths and characters, truncations at every
//! word, trailing bytes and random bytes; and a share of valid calls.
//! Arguments are encoded with ksf-proto's encoders, then patched where
//! the encoders refuse the value (a 65-byte handle, a 256-byte name, a
//! length word past the record).
//!
//! Valid WRITEs never go to the last file when there are several: that
//! one is the good client's ([`crate::good`]).

use crate::model::Nfs;
use crate::nfs::{call, getattr_args, lookup_args, read_args, write_args};
use crate::rng::Rng;
use ksf_proto::nfs3::{Handle, StableHow, GETATTR, HANDLE_LEN, KSF_FSID, LOOKUP, READ, WRITE};

/// Sets the big-endian word at `at`.
fn put(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// A handle (its bytes, encodable: at most 64) or a raw XDR prefix that
/// replaces the encoded handle (a length the encoders refuse).
enum Fh {
    Bytes(Vec<u8>),
    Raw(Vec<u8>),
}

/// The file the valid WRITEs may change: any but the good client's.
fn writable(rng: &mut Rng, nfs: &Nfs) -> u32 {
    match nfs.files {
        0 | 1 => 0,
        n => rng.below(u64::from(n - 1)) as u32,
    }
}

/// A handle of file `file`.
fn file_fh(file: u32) -> Vec<u8> {
    Handle::file(KSF_FSID, file).to_bytes().to_vec()
}

/// A bad handle, and what is wrong with it.
fn bad_fh(rng: &mut Rng, nfs: &Nfs) -> (&'static str, Fh) {
    let good = file_fh(rng.below(u64::from(nfs.files.max(1))) as u32);
    match rng.below(10) {
        0 => ("fh-len0", Fh::Bytes(Vec::new())),
        1 => ("fh-len7", Fh::Bytes(rng.bytes(7))),
        2 => ("fh-len8", Fh::Bytes(good[..8].to_vec())),
        3 => {
            let mut h = good;
            h[rng.below(4) as usize] ^= 1 << rng.below(8);
            ("fh-magic", Fh::Bytes(h))
        }
        4 => {
            let mut h = good;
            put(&mut h, 4, rng.pick(&[0, KSF_FSID + 1, u32::MAX]));
            ("fh-fsid", Fh::Bytes(h))
        }
        5 => {
            let r = rng.next_u64();
            let id = rng.pick(&[
                0,
                2 + u64::from(nfs.files),
                3 + u64::from(nfs.files),
                u64::from(u32::MAX),
                u64::MAX,
                r,
            ]);
            let h = Handle {
                fsid: KSF_FSID,
                fileid: id,
            };
            ("fh-fileid", Fh::Bytes(h.to_bytes().to_vec()))
        }
        6 => {
            let mut h = good;
            let n = rng.range(1, 48);
            h.extend(rng.bytes(n));
            ("fh-long", Fh::Bytes(h))
        }
        7 => ("fh-len64", Fh::Bytes(rng.bytes(64))),
        8 => {
            let mut raw = 65u32.to_be_bytes().to_vec();
            raw.extend(rng.bytes(68));
            ("fh-len65", Fh::Raw(raw))
        }
        _ => {
            let len = rng.pick(&[0x7fff_ffff, u32::MAX, 0x8000_0000, 1 << 20, 68]);
            ("fh-len-huge", Fh::Raw(len.to_be_bytes().to_vec()))
        }
    }
}

/// `args` encoded with a stand-in handle of 4 bytes, the handle then
/// replaced by `fh`.
fn with_fh(fh: &Fh, encode: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    match fh {
        Fh::Bytes(b) => encode(b),
        Fh::Raw(raw) => {
            let mut a = encode(&[0; 4]);
            a.splice(..8, raw.iter().copied());
            a
        }
    }
}

/// An offset and a count around the file's end, `max_io` and `u32::MAX`.
fn range(rng: &mut Rng, nfs: &Nfs) -> (u64, u32) {
    let size = nfs.file_size;
    let offset = match rng.below(8) {
        0 => 0,
        1 => size - 1,
        2 => size,
        3 => size + 1,
        4 => u64::MAX,
        5 => u64::MAX - rng.below(4096),
        6 => rng.next_u64(),
        _ => rng.below(size),
    };
    let count = match rng.below(8) {
        0 => 0,
        1 => 1,
        2 => nfs.max_io,
        3 => nfs.max_io + 1,
        4 => u32::MAX,
        5 => u32::MAX - rng.below(8) as u32,
        6 => rng.u32(),
        _ => rng.range(1, 8192) as u32,
    };
    (offset, count)
}

/// A valid call: GETATTR of the root or a file, LOOKUP of a file, `.`
/// or `..`, READ or WRITE of a range within a file.
fn valid(rng: &mut Rng, nfs: &Nfs, xid: u32) -> (&'static str, Vec<u8>) {
    let root = Handle::root(KSF_FSID).to_bytes();
    let file = rng.below(u64::from(nfs.files.max(1))) as u32;
    match rng.below(4) {
        0 => {
            let fh = if rng.chance(1, 3) {
                root.to_vec()
            } else {
                file_fh(file)
            };
            ("nfs-getattr", call(xid, GETATTR, &getattr_args(&fh)))
        }
        1 => {
            let name = match rng.below(4) {
                0 => b".".to_vec(),
                1 => b"..".to_vec(),
                _ => format!("file{file}").into_bytes(),
            };
            ("nfs-lookup", call(xid, LOOKUP, &lookup_args(&root, &name)))
        }
        2 => {
            let offset = rng.below(nfs.file_size);
            let count = rng.range(0, 8192) as u32;
            let a = read_args(&file_fh(file), offset, count);
            ("nfs-read", call(xid, READ, &a))
        }
        _ => {
            let len = rng.range(0, 4096).min(nfs.max_io as usize);
            let offset = rng.below(nfs.file_size - len as u64 + 1);
            let stable = rng.pick(&[
                StableHow::Unstable,
                StableHow::DataSync,
                StableHow::FileSync,
            ]);
            let data = rng.bytes(len);
            let a = write_args(&file_fh(writable(rng, nfs)), offset, stable, &data);
            ("nfs-write", call(xid, WRITE, &a))
        }
    }
}

/// A LOOKUP name that is bad or not there: lengths 0, 255, 256 and huge,
/// with `/` or NUL, random, or a file beyond the last.
fn name_case(rng: &mut Rng, nfs: &Nfs) -> (&'static str, Fh, Vec<u8>) {
    let root = Fh::Bytes(Handle::root(KSF_FSID).to_bytes().to_vec());
    let mut name = match rng.below(9) {
        0 => Vec::new(),
        1 => vec![b'a'; 255],
        2 => b"file0/file1".to_vec(),
        3 => b"file0\0".to_vec(),
        4 => format!("file{}", nfs.files).into_bytes(),
        5 => b"file01".to_vec(),
        6 => b"/".to_vec(),
        7 => {
            let n = rng.range(1, 40);
            rng.bytes(n)
        }
        _ => format!("file{}", u64::from(u32::MAX) + 1).into_bytes(),
    };
    if rng.chance(1, 8) {
        name = b"file0".to_vec();
        let (_, fh) = bad_fh(rng, nfs);
        return ("lookup-bad-dir", fh, name);
    }
    if rng.chance(1, 8) {
        // In a file, not a directory.
        return ("lookup-in-file", Fh::Bytes(file_fh(0)), name);
    }
    (
        match name.len() {
            0 => "lookup-name-empty",
            255 => "lookup-name-255",
            _ => "lookup-name",
        },
        root,
        name,
    )
}

/// The arguments of a hostile call of `procedure`, and its kind.
fn hostile_args(rng: &mut Rng, nfs: &Nfs, procedure: u32) -> (&'static str, Vec<u8>) {
    let good_fh = |rng: &mut Rng| {
        if rng.chance(1, 8) {
            // READ and WRITE of the directory: NFS3ERR_ISDIR.
            Fh::Bytes(Handle::root(KSF_FSID).to_bytes().to_vec())
        } else {
            Fh::Bytes(file_fh(writable(rng, nfs)))
        }
    };
    match procedure {
        GETATTR => {
            let (kind, fh) = bad_fh(rng, nfs);
            (kind, with_fh(&fh, getattr_args))
        }
        LOOKUP => match rng.below(3) {
            0 => {
                // Names the encoder refuses: 256 bytes, a huge length.
                let mut a = lookup_args(&Handle::root(KSF_FSID).to_bytes(), b"x");
                a.truncate(a.len() - 8);
                if rng.chance(1, 2) {
                    a.extend(256u32.to_be_bytes());
                    a.extend(vec![b'b'; 256]);
                    ("lookup-name-256", a)
                } else {
                    let len = rng.pick(&[0x7fff_ffff, u32::MAX, 1 << 20, 300]);
                    a.extend(len.to_be_bytes());
                    let n = rng.range(0, 12);
                    a.extend(rng.bytes(n));
                    ("lookup-name-huge", a)
                }
            }
            _ => {
                let (kind, fh, name) = name_case(rng, nfs);
                (kind, with_fh(&fh, |h| lookup_args(h, &name)))
            }
        },
        READ => {
            if rng.chance(1, 3) {
                let (kind, fh) = bad_fh(rng, nfs);
                return (kind, with_fh(&fh, |h| read_args(h, 0, 512)));
            }
            let (offset, count) = range(rng, nfs);
            let fh = good_fh(rng);
            ("read-range", with_fh(&fh, |h| read_args(h, offset, count)))
        }
        _ => write_case(rng, nfs, good_fh),
    }
}

/// A hostile WRITE.
fn write_case(
    rng: &mut Rng,
    nfs: &Nfs,
    good_fh: impl Fn(&mut Rng) -> Fh,
) -> (&'static str, Vec<u8>) {
    let len = if rng.chance(1, 16) {
        rng.range(0, nfs.max_io as usize + 16)
    } else {
        rng.range(0, 1024)
    };
    let data = rng.bytes(len);
    // Offsets of the words after a 16-byte handle: offset, count,
    // stable, data length.
    let (count_at, stable_at, len_at) =
        (4 + HANDLE_LEN + 8, 4 + HANDLE_LEN + 12, 4 + HANDLE_LEN + 16);
    let fh = good_fh(rng);
    let offset = rng.below(nfs.file_size);
    let mut a = with_fh(&fh, |h| write_args(h, offset, StableHow::FileSync, &data));
    let kind = match rng.below(6) {
        0 => {
            let (kind, fh) = bad_fh(rng, nfs);
            a = with_fh(&fh, |h| write_args(h, offset, StableHow::Unstable, &data));
            kind
        }
        1 => {
            let (offset, _) = range(rng, nfs);
            a = with_fh(&fh, |h| write_args(h, offset, StableHow::Unstable, &data));
            "write-range"
        }
        2 => {
            let c = rng.pick(&[len as u32 + 1, len as u32 + 4, u32::MAX, 0, len as u32 ^ 1]);
            put(&mut a, count_at, c);
            "write-count-ne-len"
        }
        3 => {
            // Not +1..3: the data's padding may hold that.
            let c = rng.pick(&[len as u32 + 4, len as u32 + 64, u32::MAX, 0x7fff_ffff]);
            put(&mut a, count_at, c);
            put(&mut a, len_at, c);
            "write-len-past-end"
        }
        4 => {
            let r = rng.u32() | 4;
            put(&mut a, stable_at, rng.pick(&[3, 4, 0x100, u32::MAX, r]));
            "write-stable"
        }
        _ => "write-ok-args",
    };
    (kind, a)
}

/// A record body: an NFSv3 call to a server with export `nfs`, valid
/// (one time in four) or hostile, and its kind.
pub fn nfs_call(rng: &mut Rng, nfs: &Nfs) -> (&'static str, Vec<u8>) {
    let xid = rng.u32();
    if rng.chance(1, 4) {
        return valid(rng, nfs, xid);
    }
    let procedure = rng.pick(&[GETATTR, LOOKUP, READ, WRITE]);
    let (mut kind, mut args) = hostile_args(rng, nfs, procedure);
    match rng.below(10) {
        0 => {
            // Truncated at a word, or inside one.
            let at = if rng.chance(3, 4) {
                4 * rng.range(0, args.len().saturating_sub(1) / 4)
            } else {
                rng.range(0, args.len().saturating_sub(1))
            };
            args.truncate(at);
            kind = "nfs-truncated";
        }
        1 => {
            let n = rng.range(1, 16);
            args.extend(rng.bytes(n));
            kind = "nfs-trailing";
        }
        2 => {
            let n = rng.range(0, 120);
            args = rng.bytes(n);
            kind = "nfs-random-args";
        }
        3 => {
            for _ in 0..rng.range(1, 3) {
                if !args.is_empty() {
                    let bit = rng.below(args.len() as u64 * 8) as usize;
                    args[bit / 8] ^= 1 << (bit % 8);
                }
            }
            kind = "nfs-bit-flip";
        }
        _ => {}
    }
    (kind, call(xid, procedure, &args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::wire::record;
    use ksf_proto::rpc::{AcceptStat, ReplyKind};
    use std::collections::BTreeMap;

    const NFS: Nfs = Nfs {
        files: 4,
        file_size: 65536,
        max_io: 65536,
    };

    /// What the model answers to one record: GARBAGE_ARGS, an NFS status
    /// (`ok`, or the error's number), or another outcome.
    fn outcome(model: &Model, body: &[u8]) -> String {
        let e = model.expect(&record(body));
        if let Some(why) = e.closes {
            return format!("close: {why}");
        }
        let Some(r) = e.replies.first() else {
            return "wait".into();
        };
        match (r.kind, &e.nfs[0]) {
            (
                ReplyKind::Accepted {
                    stat: AcceptStat::GarbageArgs,
                    ..
                },
                None,
            ) => "garbage".into(),
            (_, Some(n)) => {
                let stat = u32::from_be_bytes(n.results[..4].try_into().unwrap());
                crate::nfs::describe(n.procedure, &n.results).unwrap();
                if stat == 0 {
                    "ok".into()
                } else {
                    stat.to_string()
                }
            }
            (k, None) => format!("{k:?}"),
        }
    }

    #[test]
    fn every_call_is_answered_as_rfc_1813_says() {
        let model = Model::nfs3(4096, NFS);
        let mut rng = Rng::new(3);
        let mut seen: BTreeMap<&str, BTreeMap<String, u32>> = BTreeMap::new();
        for _ in 0..20_000 {
            let (kind, body) = nfs_call(&mut rng, &NFS);
            let o = outcome(&model, &body);
            // Never a close, a wait or another accept_stat: GARBAGE_ARGS
            // or an NFS status.
            assert!(
                o == "garbage" || o.parse::<u32>().is_ok() || o == "ok",
                "{kind}: {o}"
            );
            let want: Option<&[&str]> = match kind {
                "fh-len0" | "fh-len65" | "fh-len-huge" | "lookup-name-empty"
                | "lookup-name-256" | "lookup-name-huge" | "write-count-ne-len"
                | "write-len-past-end" | "write-stable" | "nfs-random-args" => Some(&["garbage"]),
                "fh-len7" | "fh-len8" | "fh-magic" | "fh-long" | "fh-len64" => {
                    Some(&["garbage", "10001"])
                }
                "fh-fsid" | "fh-fileid" => Some(&["garbage", "70"]),
                "nfs-getattr" | "nfs-lookup" | "nfs-read" | "nfs-write" => Some(&["ok"]),
                _ => None,
            };
            if let Some(w) = want {
                assert!(w.contains(&o.as_str()), "{kind}: {o} {body:02x?}");
            }
            *seen.entry(kind).or_default().entry(o).or_default() += 1;
        }
        let statuses = |k: &str| seen.get(k).map(|m| m.keys().cloned().collect::<Vec<_>>());
        // Each family reaches the answers it is there for.
        assert!(seen.len() >= 25, "{seen:?}");
        let range = statuses("read-range").unwrap();
        assert!(
            range.contains(&"ok".into()) && range.contains(&"21".into()),
            "{range:?}"
        );
        let w = statuses("write-range").unwrap();
        assert!(
            w.contains(&"27".into()) && w.contains(&"ok".into()),
            "{w:?}"
        );
        assert!(statuses("lookup-name").unwrap().contains(&"2".into()));
        assert!(statuses("lookup-name").unwrap().contains(&"garbage".into()));
        assert!(statuses("lookup-in-file").unwrap().contains(&"20".into()));
        let t = statuses("nfs-truncated").unwrap();
        assert!(t.contains(&"garbage".into()), "{t:?}");
        for k in ["fh-len7", "fh-fsid", "fh-fileid", "fh-len64"] {
            assert!(!statuses(k).unwrap().is_empty(), "{k}");
        }
        assert!(statuses("fh-fileid").unwrap().contains(&"70".into()));
        assert!(statuses("fh-len7").unwrap().contains(&"10001".into()));
    }

    #[test]
    fn valid_writes_spare_the_last_file() {
        let mut rng = Rng::new(5);
        for _ in 0..2000 {
            assert!(writable(&mut rng, &NFS) < 3);
        }
        assert_eq!(writable(&mut rng, &Nfs { files: 1, ..NFS }), 0);
    }
}
