// SPDX-License-Identifier: GPL-2.0

//! NFSv3 on the client side: calls encoded with ksf-proto's encoders, and
//! results compared with the model's, leaving out what depends on the
//! server's state (times, the write verifier, the bytes a READ returns).

use ksf_proto::nfs3::{DirOpArgs, StableHow};
use ksf_proto::nfs3::{
    Fattr3, Fh, Getattr3Args, Getattr3Res, Lookup3Args, Lookup3Res, Nfstime3, Read3Args, Read3Res,
    Write3Args, Write3Res, GETATTR, LOOKUP, READ, WRITE,
};
use ksf_proto::rpc::Call;

use crate::wire::{encode, NFS_PROGRAM, NFS_VERSION};

/// The body of an NFSv3 call of `procedure` with `args` (AUTH_NONE).
pub fn call(xid: u32, procedure: u32, args: &[u8]) -> Vec<u8> {
    encode(&Call {
        args,
        ..Call::new(xid, NFS_PROGRAM, NFS_VERSION, procedure)
    })
}

fn args(n: usize, f: impl FnOnce(&mut [u8]) -> Option<usize>) -> Vec<u8> {
    let mut out = vec![0u8; n];
    let len = f(&mut out).unwrap_or(0);
    out.truncate(len);
    out
}

/// GETATTR's arguments (a handle of at most 64 bytes).
pub fn getattr_args(fh: &[u8]) -> Vec<u8> {
    args(fh.len() + 8, |o| {
        Getattr3Args { object: Fh(fh) }.encode(o).ok()
    })
}

/// LOOKUP's arguments (a handle of at most 64 bytes, a name of at most
/// 255).
pub fn lookup_args(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let what = DirOpArgs { dir: Fh(dir), name };
    args(dir.len() + name.len() + 16, |o| {
        Lookup3Args { what }.encode(o).ok()
    })
}

/// READ's arguments.
pub fn read_args(fh: &[u8], offset: u64, count: u32) -> Vec<u8> {
    let a = Read3Args {
        file: Fh(fh),
        offset,
        count,
    };
    args(fh.len() + 24, |o| a.encode(o).ok())
}

/// WRITE's arguments, `count` the length of `data`.
pub fn write_args(fh: &[u8], offset: u64, stable: StableHow, data: &[u8]) -> Vec<u8> {
    let a = Write3Args {
        file: Fh(fh),
        offset,
        count: data.len() as u32,
        stable,
        data,
    };
    args(fh.len() + data.len() + 40, |o| a.encode(o).ok())
}

fn timeless(a: Option<Fattr3>) -> Option<Fattr3> {
    a.map(|a| Fattr3 {
        atime: Nfstime3::default(),
        mtime: Nfstime3::default(),
        ctime: Nfstime3::default(),
        ..a
    })
}

/// NFSv3 results of `procedure` in words, without what depends on the
/// server's state; an error if they do not decode.
pub fn describe(procedure: u32, results: &[u8]) -> Result<String, String> {
    let bad = |e| format!("undecodable results: {e:?}");
    Ok(match procedure {
        GETATTR => match Getattr3Res::decode(results).map_err(bad)? {
            Getattr3Res::Ok(a) => format!("GETATTR OK {:?}", timeless(Some(a))),
            Getattr3Res::Fail(s) => format!("GETATTR {s:?}"),
        },
        LOOKUP => match Lookup3Res::decode(results).map_err(bad)? {
            Lookup3Res::Ok(ok) => format!(
                "LOOKUP OK {:02x?} {:?} dir {:?}",
                ok.object.0,
                timeless(ok.obj_attributes),
                timeless(ok.dir_attributes)
            ),
            Lookup3Res::Fail {
                status,
                dir_attributes,
            } => format!("LOOKUP {status:?} dir {:?}", timeless(dir_attributes)),
        },
        READ => match Read3Res::decode(results).map_err(bad)? {
            Read3Res::Ok { head, data } => format!(
                "READ OK count {} eof {} {} bytes {:?}",
                head.count,
                head.eof,
                data.len(),
                timeless(head.file_attributes)
            ),
            Read3Res::Fail {
                status,
                file_attributes,
            } => format!("READ {status:?} {:?}", timeless(file_attributes)),
        },
        WRITE => match Write3Res::decode(results).map_err(bad)? {
            Write3Res::Ok(ok) => format!(
                "WRITE OK count {} {:?} before {:?} after {:?}",
                ok.count,
                ok.committed,
                ok.file_wcc.before,
                timeless(ok.file_wcc.after)
            ),
            Write3Res::Fail { status, file_wcc } => format!(
                "WRITE {status:?} before {:?} after {:?}",
                file_wcc.before,
                timeless(file_wcc.after)
            ),
        },
        p => return Err(format!("results of procedure {p}")),
    })
}

/// Whether `got` are the results `want` (the model's) of `procedure`.
pub fn same_results(procedure: u32, want: &[u8], got: &[u8]) -> Result<(), String> {
    let w = describe(procedure, want).map_err(|e| format!("model: {e}"))?;
    let g = describe(procedure, got)?;
    if w != g {
        return Err(format!("expected {w}, got {g}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ksf_proto::rpc::decode_call;

    #[test]
    fn calls_decode_and_results_compare() {
        let fh = [7u8; 16];
        let body = call(5, READ, &read_args(&fh, 8, 100));
        let c = decode_call(&body).unwrap();
        assert_eq!((c.xid, c.procedure), (5, READ));
        let a = Read3Args::decode(c.args).unwrap();
        assert_eq!((a.file.0, a.offset, a.count), (&fh[..], 8, 100));
        let w = write_args(&fh, 0, StableHow::FileSync, b"abcde");
        assert_eq!(Write3Args::decode(&w).unwrap().data, b"abcde");
        let l = lookup_args(&fh, b"file0");
        assert_eq!(Lookup3Args::decode(&l).unwrap().what.name, b"file0");
        assert_eq!(
            Getattr3Args::decode(&getattr_args(&fh)).unwrap().object.0,
            fh
        );
        // A GETATTR failure: one word.
        let stale = 70u32.to_be_bytes();
        assert_eq!(same_results(GETATTR, &stale, &stale), Ok(()));
        let e = same_results(GETATTR, &stale, &10001u32.to_be_bytes()).unwrap_err();
        assert!(e.contains("expected GETATTR"), "{e}");
        assert!(same_results(GETATTR, &stale, &[0, 0, 0]).is_err());
        let mut trailing = stale.to_vec();
        trailing.extend([0; 4]);
        assert!(same_results(GETATTR, &stale, &trailing).is_err());
    }
}
