// SPDX-License-Identifier: GPL-2.0

//! NFSv3 codec test cases, run by `cargo test` on the host and by the
//! `ksf_nfs3` KUnit suite in the guest. The export and the engine's
//! NFSv3 path are tested in [`super::export_cases`].

use super::super::rpc::xdr::{EncodeError, Reader};
use super::{Access3Args, Access3Res, Fsinfo3Args, Fsinfo3Res, Fsinfo3ResOk};
use super::{DecodeError, DirOpArgs, Fattr3, Fh, Ftype3, Nfsstat3, Nfstime3, WccAttr, WccData};
use super::{DirPath, Flavors, Mountres3, Mountres3Ok, Mountstat3};
use super::{Fsstat3Args, Fsstat3Res, Fsstat3ResOk, Pathconf3Args, Pathconf3Res, Pathconf3ResOk};
use super::{Getattr3Args, Getattr3Res, Lookup3Args, Lookup3Res, Lookup3ResOk};
use super::{Read3Args, Read3Res, ReadHead, StableHow, Write3Args, Write3Res, Write3ResOk};
use super::{FATTR3_LEN, FHSIZE, MAXNAMLEN};

/// Attributes with a different value in every field.
pub(super) const ATTR: Fattr3 = Fattr3 {
    ftype: Ftype3::REG,
    mode: 0o644,
    nlink: 3,
    uid: 1000,
    gid: 100,
    size: 0x1_0000_0002,
    used: 0x2_0000_0003,
    rdev: (4, 5),
    fsid: 0x6_0000_0007,
    fileid: 0x8_0000_0009,
    atime: Nfstime3 {
        seconds: 10,
        nseconds: 11,
    },
    mtime: Nfstime3 {
        seconds: 12,
        nseconds: 13,
    },
    ctime: Nfstime3 {
        seconds: 14,
        nseconds: 15,
    },
};

/// [`ATTR`] as RFC 1813 lays out an `fattr3`, word by word.
const ATTR_WORDS: [u32; 21] = [
    1, 0o644, 3, 1000, 100, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
];

/// Writes `words` big-endian into `out`; the byte count.
pub(super) fn put_words(out: &mut [u8], words: &[u32]) -> usize {
    for (i, w) in words.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
    4 * words.len()
}

/// Whether every proper prefix of `bytes` fails to decode with
/// [`DecodeError::Truncated`].
fn truncations_fail<'a, T>(
    bytes: &'a [u8],
    decode: impl Fn(&'a [u8]) -> Result<T, DecodeError>,
) -> bool {
    (0..bytes.len()).all(|n| matches!(decode(&bytes[..n]), Err(DecodeError::Truncated)))
}

/// Whether `encode` writes exactly `want`, reports the size it needs
/// into one byte less, and the bytes decode back to `value`.
fn round_trip<'a, T: PartialEq>(
    want: &'a [u8],
    value: &T,
    encode: impl Fn(&T, &mut [u8]) -> Result<usize, EncodeError>,
    decode: impl Fn(&'a [u8]) -> Result<T, DecodeError>,
) -> bool {
    let mut out = [0u8; 512];
    let n = want.len();
    encode(value, &mut out) == Ok(n)
        && out[..n] == *want
        && encode(value, &mut out[..n - 1]) == Err(EncodeError::BufferTooSmall { need: n })
        && decode(want).is_ok_and(|d| d == *value)
        && truncations_fail(want, &decode)
}

test_cases! {
    testing = super::super::testing;

    fn getattr_reply_bytes_from_the_rfc_layout(t) {
        let mut want = [0u8; 4 + FATTR3_LEN];
        let mut words = [0u32; 22];
        words[1..].copy_from_slice(&ATTR_WORDS);
        check_eq!(t, put_words(&mut want, &words), 88);
        check!(t, round_trip(&want, &Getattr3Res::Ok(ATTR), Getattr3Res::encode, Getattr3Res::decode));
        let fail = Getattr3Res::Fail(Nfsstat3::BADHANDLE);
        check!(t, round_trip(&[0, 0, 0x27, 0x11], &fail, Getattr3Res::encode, Getattr3Res::decode));
        // Trailing bytes after a result, a bool that is not one.
        check_eq!(t, Getattr3Res::decode(&[0, 0, 0, 70, 0]), Err(DecodeError::TrailingBytes));
        check_eq!(t, Lookup3Res::decode(&[0, 0, 0, 2, 0, 0, 0, 2]), Err(DecodeError::BadBool { value: 2 }));
    }

    fn args_bytes_from_the_rfc_layout(t) {
        // A 5-byte handle pads to 8.
        let fh = Fh(b"abcde");
        let mut want = [0u8; 64];
        let n = put_words(&mut want, &[5, 0x6162_6364, 0x6500_0000]);
        check!(t, round_trip(&want[..n], &Getattr3Args { object: fh }, Getattr3Args::encode, Getattr3Args::decode));
        let n = put_words(&mut want, &[5, 0x6162_6364, 0x6500_0000, 1, 2, 4096]);
        let read = Read3Args { file: fh, offset: 0x1_0000_0002, count: 4096 };
        check!(t, round_trip(&want[..n], &read, Read3Args::encode, Read3Args::decode));
        let n = put_words(&mut want, &[5, 0x6162_6364, 0x6500_0000, 5, 0x6669_6c65, 0x3000_0000]);
        let lookup = Lookup3Args { what: DirOpArgs { dir: fh, name: b"file0" } };
        check!(t, round_trip(&want[..n], &lookup, Lookup3Args::encode, Lookup3Args::decode));
        let n = put_words(&mut want, &[5, 0x6162_6364, 0x6500_0000, 0, 8, 3, 2, 3, 0x7879_7a00]);
        let write = Write3Args { file: fh, offset: 8, count: 3, stable: StableHow::FileSync, data: b"xyz" };
        check!(t, round_trip(&want[..n], &write, Write3Args::encode, Write3Args::decode));
        // Padding is not checked, and bytes after the arguments are ignored.
        want[n - 1] = 0xff;
        check_eq!(t, Write3Args::decode(&want[..n + 8]), Ok(write));
    }

    fn results_round_trip(t) {
        let fh = Fh(&[7; FHSIZE]);
        let mut want = [0u8; 512];
        let ok = Lookup3Res::Ok(Lookup3ResOk { object: fh, obj_attributes: Some(ATTR), dir_attributes: None });
        let mut words = [0u32; 1 + 1 + 16 + 1 + 21 + 1];
        words[1] = 64;
        words[2..18].fill(0x0707_0707);
        words[18] = 1;
        words[19..40].copy_from_slice(&ATTR_WORDS);
        let n = put_words(&mut want, &words);
        check!(t, round_trip(&want[..n], &ok, Lookup3Res::encode, Lookup3Res::decode));
        let fail = Lookup3Res::Fail { status: Nfsstat3::NOENT, dir_attributes: Some(ATTR) };
        let mut words = [0u32; 23];
        words[0] = 2;
        words[1] = 1;
        words[2..].copy_from_slice(&ATTR_WORDS);
        let n = put_words(&mut want, &words);
        check!(t, round_trip(&want[..n], &fail, Lookup3Res::encode, Lookup3Res::decode));

        // READ: head, 5 bytes of data, 3 of padding.
        let head = ReadHead { file_attributes: None, count: 5, eof: true };
        let read = Read3Res::Ok { head, data: b"hello" };
        let n = put_words(&mut want, &[0, 0, 5, 1, 5, 0x6865_6c6c, 0x6f00_0000]);
        check!(t, round_trip(&want[..n], &read, Read3Res::encode, Read3Res::decode));
        check_eq!(t, Read3Res::decode(&want[..n - 4]), Err(DecodeError::Truncated));
        want[19] = 6;
        check_eq!(t, Read3Res::decode(&want[..n]), Err(DecodeError::CountMismatch { count: 5, len: 6 }));
        let short = Read3Res::Ok { head, data: b"hell" };
        check_eq!(t, short.encode(&mut want), Err(EncodeError::TooLong { len: 4, max: 5 }));
        let fail = Read3Res::Fail { status: Nfsstat3::ISDIR, file_attributes: None };
        check!(t, round_trip(&[0, 0, 0, 21, 0, 0, 0, 0], &fail, Read3Res::encode, Read3Res::decode));

        // WRITE: wcc_data with both parts, count, committed, verifier.
        let wcc = WccData { before: Some(WccAttr { size: 9, mtime: ATTR.mtime, ctime: ATTR.ctime }), after: Some(ATTR) };
        let ok = Write3Res::Ok(Write3ResOk { file_wcc: wcc, count: 3, committed: StableHow::DataSync, verf: *b"verifier" });
        let mut words = [0u32; 1 + 7 + 22 + 4];
        words[1..8].copy_from_slice(&[1, 0, 9, 12, 13, 14, 15]);
        words[8] = 1;
        words[9..30].copy_from_slice(&ATTR_WORDS);
        words[30..].copy_from_slice(&[3, 1, 0x7665_7269, 0x6669_6572]);
        let n = put_words(&mut want, &words);
        check!(t, round_trip(&want[..n], &ok, Write3Res::encode, Write3Res::decode));
        let fail = Write3Res::Fail { status: Nfsstat3::FBIG, file_wcc: WccData { before: None, after: None } };
        check!(t, round_trip(&[0, 0, 0, 27, 0, 0, 0, 0, 0, 0, 0, 0], &fail, Write3Res::encode, Write3Res::decode));
        want[n - 12] = 0;
        want[n - 9] = 3;
        check_eq!(t, Write3Res::decode(&want[..n]), Err(DecodeError::BadStableHow { value: 3 }));
    }

    fn handle_and_name_limits(t) {
        let mut buf = [0u8; 4 + 4 + 260];
        let max = Fh(&[1; FHSIZE]);
        check!(t, Getattr3Args { object: max }.encode(&mut buf).is_ok());
        check_eq!(t, Getattr3Args::decode(&buf), Ok(Getattr3Args { object: max }));
        put_words(&mut buf, &[65]);
        check_eq!(t, Getattr3Args::decode(&buf), Err(DecodeError::BadHandleLength { len: 65 }));
        put_words(&mut buf, &[0]);
        check_eq!(t, Getattr3Args::decode(&buf), Err(DecodeError::BadHandleLength { len: 0 }));
        put_words(&mut buf, &[u32::MAX]);
        check_eq!(t, Getattr3Args::decode(&buf), Err(DecodeError::BadHandleLength { len: u32::MAX }));
        let over = Getattr3Args { object: Fh(&[1; FHSIZE + 1]) };
        check_eq!(t, over.encode(&mut buf), Err(EncodeError::TooLong { len: 65, max: 64 }));

        // Names: 1 to 255 bytes, no NUL, no '/'.
        let name = [b'n'; MAXNAMLEN + 1];
        let dir = Fh(b"dir!");
        let args = |name| Lookup3Args { what: DirOpArgs { dir, name } };
        let n = args(&name[..MAXNAMLEN]).encode(&mut buf).unwrap_or(0);
        check_eq!(t, Lookup3Args::decode(&buf[..n]), Ok(args(&name[..MAXNAMLEN])));
        check_eq!(t, args(&name).encode(&mut buf), Err(EncodeError::TooLong { len: 256, max: 255 }));
        put_words(&mut buf[8..], &[256]);
        check_eq!(t, Lookup3Args::decode(&buf), Err(DecodeError::BadName { len: 256 }));
        for (bad, len) in [(&b""[..], 0), (b"a/b", 3), (b"a\0", 2), (b"/", 1)] {
            let n = args(bad).encode(&mut buf).unwrap_or(0);
            check_eq!(t, Lookup3Args::decode(&buf[..n]), Err(DecodeError::BadName { len }));
        }
    }

    fn write_count_and_stable_how(t) {
        let mut buf = [0u8; 64];
        let fh = Fh(b"fh");
        let mut write = Write3Args { file: fh, offset: 0, count: 4, stable: StableHow::Unstable, data: b"abc" };
        let n = write.encode(&mut buf).unwrap_or(0);
        check_eq!(t, Write3Args::decode(&buf[..n]), Err(DecodeError::CountMismatch { count: 4, len: 3 }));
        // The mismatch is found before the data is looked for (knfsd's order).
        check_eq!(t, Write3Args::decode(&buf[..n - 4]), Err(DecodeError::CountMismatch { count: 4, len: 3 }));
        write.count = 3;
        let n = write.encode(&mut buf).unwrap_or(0);
        check_eq!(t, Write3Args::decode(&buf[..n]), Ok(write));
        for stable in [StableHow::Unstable, StableHow::DataSync, StableHow::FileSync] {
            let w = Write3Args { stable, ..write };
            let n = w.encode(&mut buf).unwrap_or(0);
            check_eq!(t, Write3Args::decode(&buf[..n]), Ok(w));
        }
        buf[8 + 8 + 4 + 3] = 3;
        check_eq!(t, Write3Args::decode(&buf[..n]), Err(DecodeError::BadStableHow { value: 3 }));
        // A length word past the end of the input.
        let n = put_words(&mut buf, &[2, 0x6668_0000, 0, 0, u32::MAX, 0, u32::MAX]);
        check_eq!(t, Write3Args::decode(&buf[..n]), Err(DecodeError::Truncated));
        let mut r = Reader::new(&buf[..n]);
        check!(t, r.u64().is_some() && r.u64() == Some(0) && r.u32() == Some(u32::MAX));
    }

    fn access_fsstat_fsinfo_pathconf_bytes_from_the_rfc_layout(t) {
        let fh = Fh(b"abcde");
        let mut want = [0u8; 256];
        let n = put_words(&mut want, &[5, 0x6162_6364, 0x6500_0000, 0x3f]);
        let access = Access3Args { object: fh, access: 0x3f };
        check!(t, round_trip(&want[..n], &access, Access3Args::encode, Access3Args::decode));
        let n = put_words(&mut want, &[5, 0x6162_6364, 0x6500_0000]);
        check!(t, round_trip(&want[..n], &Fsstat3Args { object: fh }, Fsstat3Args::encode, Fsstat3Args::decode));
        check!(t, round_trip(&want[..n], &Fsinfo3Args { object: fh }, Fsinfo3Args::encode, Fsinfo3Args::decode));
        check!(t, round_trip(&want[..n], &Pathconf3Args { object: fh }, Pathconf3Args::encode, Pathconf3Args::decode));

        // ACCESS3resok: status, post_op_attr, access.
        let mut words = [0u32; 1 + 22 + 1];
        words[1] = 1;
        words[2..23].copy_from_slice(&ATTR_WORDS);
        words[23] = 0x5;
        let n = put_words(&mut want, &words);
        let ok = Access3Res::Ok { obj_attributes: Some(ATTR), access: 5 };
        check!(t, round_trip(&want[..n], &ok, Access3Res::encode, Access3Res::decode));
        let fail = Access3Res::Fail { status: Nfsstat3::STALE, obj_attributes: None };
        check!(t, round_trip(&[0, 0, 0, 70, 0, 0, 0, 0], &fail, Access3Res::encode, Access3Res::decode));

        // FSSTAT3resok: six size3 (hyper) then invarsec.
        let ok = Fsstat3Res::Ok(Fsstat3ResOk {
            obj_attributes: None, tbytes: 0x1_0000_0002, fbytes: 3, abytes: 4,
            tfiles: 5, ffiles: 6, afiles: 0x7_0000_0008, invarsec: 9,
        });
        let n = put_words(&mut want, &[0, 0, 1, 2, 0, 3, 0, 4, 0, 5, 0, 6, 7, 8, 9]);
        check!(t, round_trip(&want[..n], &ok, Fsstat3Res::encode, Fsstat3Res::decode));
        let fail = Fsstat3Res::Fail { status: Nfsstat3::IO, obj_attributes: None };
        check!(t, round_trip(&[0, 0, 0, 5, 0, 0, 0, 0], &fail, Fsstat3Res::encode, Fsstat3Res::decode));

        // FSINFO3resok: seven uint32, size3, nfstime3, properties.
        let ok = Fsinfo3Res::Ok(Fsinfo3ResOk {
            obj_attributes: None, rtmax: 1, rtpref: 2, rtmult: 3, wtmax: 4, wtpref: 5,
            wtmult: 6, dtpref: 7, maxfilesize: 0x8_0000_0009,
            time_delta: Nfstime3 { seconds: 10, nseconds: 11 }, properties: 0x1b,
        });
        let n = put_words(&mut want, &[0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x1b]);
        check!(t, round_trip(&want[..n], &ok, Fsinfo3Res::encode, Fsinfo3Res::decode));
        let fail = Fsinfo3Res::Fail { status: Nfsstat3::BADHANDLE, obj_attributes: None };
        check!(t, round_trip(&[0, 0, 0x27, 0x11, 0, 0, 0, 0], &fail, Fsinfo3Res::encode, Fsinfo3Res::decode));

        // PATHCONF3resok: linkmax, name_max, four bools.
        let ok = Pathconf3Res::Ok(Pathconf3ResOk {
            obj_attributes: Some(ATTR), linkmax: 1, name_max: 255, no_trunc: true,
            chown_restricted: false, case_insensitive: false, case_preserving: true,
        });
        let mut words = [0u32; 1 + 22 + 6];
        words[1] = 1;
        words[2..23].copy_from_slice(&ATTR_WORDS);
        words[23..].copy_from_slice(&[1, 255, 1, 0, 0, 1]);
        let n = put_words(&mut want, &words);
        check!(t, round_trip(&want[..n], &ok, Pathconf3Res::encode, Pathconf3Res::decode));
        want[n - 1] = 2;
        check_eq!(t, Pathconf3Res::decode(&want[..n]), Err(DecodeError::BadBool { value: 2 }));
        let fail = Pathconf3Res::Fail { status: Nfsstat3::STALE, obj_attributes: None };
        check!(t, round_trip(&[0, 0, 0, 70, 0, 0, 0, 0], &fail, Pathconf3Res::encode, Pathconf3Res::decode));
    }

    fn mount_bytes_from_the_rfc_layout(t) {
        // dirpath: string<1024>, "/" padded to a word.
        let mut want = [0u8; 2048];
        let n = put_words(&mut want, &[1, 0x2f00_0000]);
        check!(t, round_trip(&want[..n], &DirPath(b"/"), DirPath::encode, DirPath::decode));
        let long = [b'p'; 1025];
        check_eq!(t, DirPath(&long).encode(&mut want), Err(EncodeError::TooLong { len: 1025, max: 1024 }));
        check_eq!(t, DirPath(&long[..1024]).encode(&mut want), Ok(4 + 1024));
        check_eq!(t, DirPath::decode(&want[..4 + 1024]), Ok(DirPath(&long[..1024])));
        put_words(&mut want, &[1025]);
        check_eq!(t, DirPath::decode(&want[..4 + 1028]), Err(DecodeError::BadPath { len: 1025 }));

        // mountres3_ok: status, fhandle3, auth_flavors<>.
        let Some(auth_flavors) = Flavors::new(&[1, 0]) else {
            check!(t, false);
            return;
        };
        let ok = Mountres3::Ok(Mountres3Ok { fhandle: Fh(b"abcde"), auth_flavors });
        let n = put_words(&mut want, &[0, 5, 0x6162_6364, 0x6500_0000, 2, 1, 0]);
        check!(t, round_trip(&want[..n], &ok, Mountres3::encode, Mountres3::decode));
        let fail = Mountres3::Fail(Mountstat3::NOENT);
        check!(t, round_trip(&[0, 0, 0, 2], &fail, Mountres3::encode, Mountres3::decode));
        check_eq!(t, Flavors::new(&[0; 13]), None);
        check_eq!(t, Flavors::new(&[0; 12]).map(|f| f.as_slice().len()), Some(12));
        // Thirteen flavors: more than kept.
        let n = put_words(&mut want, &[0, 5, 0x6162_6364, 0x6500_0000, 13, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
        check_eq!(t, Mountres3::decode(&want[..n]), Err(DecodeError::TooManyFlavors { len: 13 }));
    }
}
