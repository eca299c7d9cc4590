// SPDX-License-Identifier: GPL-2.0

//! The calls on the wire: one template per run, encoded once with
//! `ksf_proto`, of which each call is a copy with its own xid.

use crate::nfs::{fill_pattern, Plan};
use crate::opts::{Flavor, Opts};
use ksf_proto::nfs3;
use ksf_proto::rm;
use ksf_proto::rpc::{encode_call, AuthSys, Call, OpaqueAuth, AUTH_SYS, MAX_GIDS};
use std::sync::Arc;

/// One call: its message, how it is framed, and where the parts that
/// change from call to call are (the xid; READ and WRITE: the offset and
/// WRITE's data).
#[derive(Debug, Clone)]
pub struct Template {
    /// The call message with xid 0 (and offset 0, zero data).
    msg: Vec<u8>,
    /// Bytes of a call on the wire, record marks included.
    len: usize,
    /// TCP: bytes per fragment (the whole message unless -f); UDP: None.
    per_fragment: Option<usize>,
    /// TCP without -f: the record mark of the one fragment.
    mark: [u8; rm::MARK_LEN],
    /// Where in `msg` the offset of a READ or WRITE is.
    offset_at: Option<usize>,
    /// WRITE: bytes of data (after the offset, count, stable and length).
    data: Option<usize>,
    plan: Option<Arc<Plan>>,
}

/// The host name, uid, gid and groups of this process for `AUTH_SYS`.
struct Identity {
    name: Vec<u8>,
    uid: u32,
    gid: u32,
    gids: Vec<u32>,
}

fn identity() -> Identity {
    let uname = rustix::system::uname();
    let node = uname.nodename().to_bytes();
    let name = if node.is_empty() {
        b"localhost".to_vec()
    } else {
        node[..node.len().min(ksf_proto::rpc::MAX_MACHINE_NAME)].to_vec()
    };
    let mut gids: Vec<u32> = rustix::process::getgroups()
        .unwrap_or_default()
        .into_iter()
        .map(|g| g.as_raw())
        .collect();
    gids.truncate(MAX_GIDS);
    Identity {
        name,
        uid: rustix::process::geteuid().as_raw(),
        gid: rustix::process::getegid().as_raw(),
        gids,
    }
}

/// The RPC call message (no record mark) of procedure `procedure` of
/// program `prog` version `vers` with `args`, credential as `o` says.
pub fn encode_message(
    o: &Opts,
    (prog, vers): (u32, u32),
    xid: u32,
    procedure: u32,
    args: &[u8],
) -> Result<Vec<u8>, String> {
    let id = identity();
    let mut body = [0u8; AuthSys::MAX_LEN];
    let cred = match o.flavor {
        Flavor::None => OpaqueAuth::NONE,
        Flavor::Sys => {
            let stamp = std::process::id();
            let sys = AuthSys::new(stamp, &id.name, id.uid, id.gid, &id.gids)
                .ok_or("cannot build the AUTH_SYS credential")?;
            let len = sys
                .encode(&mut body)
                .map_err(|e| format!("AUTH_SYS credential: {e}"))?;
            OpaqueAuth {
                flavor: AUTH_SYS,
                body: &body[..len],
            }
        }
    };
    let call = Call {
        cred,
        args,
        ..Call::new(xid, prog, vers, procedure)
    };
    let mut msg = vec![0u8; 1024 + args.len()];
    let len = encode_call(&mut msg, &call).map_err(|e| format!("encoding the call: {e}"))?;
    msg.truncate(len);
    Ok(msg)
}

impl Template {
    /// The call the options describe, framed for TCP (`stream`: one
    /// record, three fragments with `-f`) or bare for UDP; with the
    /// arguments of `plan`'s NFSv3 procedure, if any.
    pub fn new(o: &Opts, stream: bool, plan: Option<Arc<Plan>>) -> Result<Template, String> {
        let (args, offset_in_args) = match &plan {
            Some(p) => p.args()?,
            None => (Vec::new(), 0),
        };
        let msg = encode_message(o, (o.prog, o.vers), 0, o.procedure, &args)?;
        let args_at = msg.len() - args.len();
        let data = match &plan {
            Some(p) if p.procedure == nfs3::WRITE => Some(p.len as usize),
            _ => None,
        };
        let (per_fragment, marks) = match (stream, o.fragments) {
            (false, _) => (msg.len(), 0),
            (true, false) => (msg.len(), 1),
            (true, true) => {
                let per = msg.len().div_ceil(3);
                (per, rm::fragments(msg.len(), per as u32).count())
            }
        };
        let mark = rm::Mark::new(msg.len(), true).ok_or("call too long")?;
        Ok(Template {
            len: msg.len() + marks * rm::MARK_LEN,
            mark: mark.encode(),
            per_fragment: stream.then_some(per_fragment),
            offset_at: plan
                .as_ref()
                .filter(|p| matches!(p.procedure, nfs3::READ | nfs3::WRITE))
                .map(|_| args_at + offset_in_args),
            data,
            plan,
            msg,
        })
    }

    /// The record-marking limits of the replies: the default (1 MiB
    /// records), plus the data of a READ.
    pub fn reply_limits(&self) -> rm::Limits {
        let read = match &self.plan {
            Some(p) if p.procedure == nfs3::READ => p.len,
            _ => 0,
        };
        rm::Limits {
            max_record: rm::Limits::DEFAULT.max_record + read,
            ..rm::Limits::DEFAULT
        }
    }

    /// Bytes of one call on the wire.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The call message (without record marks: a UDP datagram) with xid 0.
    pub fn message(&self) -> &[u8] {
        &self.msg
    }

    /// Makes `msg`, a copy of the call message, call `seq` with `xid`: its
    /// xid, its offset and (WRITE) the pattern's data at that offset.
    #[inline]
    pub fn patch(&self, xid: u32, seq: u64, msg: &mut [u8]) {
        msg[..4].copy_from_slice(&xid.to_be_bytes());
        let (Some(at), Some(plan)) = (self.offset_at, &self.plan) else {
            return;
        };
        let offset = plan.offset(seq);
        msg[at..at + 8].copy_from_slice(&offset.to_be_bytes());
        if let Some(n) = self.data {
            // offset, count, stable, data length, then the data.
            let data = at + 8 + 4 + 4 + 4;
            fill_pattern(offset, &mut msg[data..data + n]);
        }
    }

    /// Appends call `seq` with `xid` to `out`, framed as the template is.
    #[inline]
    pub fn append(&self, xid: u32, seq: u64, out: &mut Vec<u8>) {
        let Some(per_fragment) = self.per_fragment else {
            let at = out.len();
            out.extend_from_slice(&self.msg);
            return self.patch(xid, seq, &mut out[at..]);
        };
        if per_fragment == self.msg.len() {
            out.extend_from_slice(&self.mark);
            let at = out.len();
            out.extend_from_slice(&self.msg);
            return self.patch(xid, seq, &mut out[at..]);
        }
        let mut msg = self.msg.clone();
        self.patch(xid, seq, &mut msg);
        for (mark, range) in rm::fragments(msg.len(), per_fragment as u32) {
            out.extend_from_slice(&mark.encode());
            out.extend_from_slice(&msg[range]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opts::test_opts as opts;
    use ksf_proto::rm::{Decoder, Limits};
    use ksf_proto::rpc::{decode_call, NULL_CALL_LEN};

    /// Decodes a stream of calls into (xid, fragments, record) triples.
    fn records(stream: &[u8]) -> Vec<(u32, usize, Vec<u8>)> {
        let mut dec = Decoder::new(Limits::DEFAULT);
        let (mut out, mut rec, mut frags, mut data) = (Vec::new(), Vec::new(), 0, stream);
        while !data.is_empty() {
            let step = dec.decode(data).unwrap();
            if !step.payload.is_empty() {
                frags += 1;
            }
            rec.extend_from_slice(&data[step.payload.clone()]);
            if step.end_of_record {
                let xid = decode_call(&rec).unwrap().xid;
                out.push((xid, frags, std::mem::take(&mut rec)));
                frags = 0;
            }
            data = &data[step.consumed..];
        }
        out
    }

    #[test]
    fn null_calls_with_xids() {
        let t = Template::new(&opts(&[]), true, None).unwrap();
        assert_eq!(t.len(), 4 + NULL_CALL_LEN);
        let mut out = Vec::new();
        t.append(7, 0, &mut out);
        t.append(0xdead_beef, 1, &mut out);
        let recs = records(&out);
        assert_eq!(recs.len(), 2);
        assert_eq!((recs[0].0, recs[0].1), (7, 1));
        assert_eq!(recs[1].0, 0xdead_beef);
        let c = decode_call(&recs[1].2).unwrap();
        assert_eq!((c.prog, c.vers, c.procedure), (100003, 3, 0));
    }

    #[test]
    fn three_fragments() {
        let t = Template::new(&opts(&["-f", "--proc", "5"]), true, None).unwrap();
        assert_eq!(t.len(), 3 * 4 + NULL_CALL_LEN);
        let mut out = Vec::new();
        t.append(42, 0, &mut out);
        let recs = records(&out);
        assert_eq!((recs[0].0, recs[0].1), (42, 3));
        assert_eq!(decode_call(&recs[0].2).unwrap().procedure, 5);
    }

    #[test]
    fn write_calls_carry_offset_and_pattern() {
        use crate::nfs::{pattern_mismatch, Plan};
        use ksf_proto::nfs3::{Write3Args, WRITE};
        let plan = Arc::new(Plan {
            procedure: WRITE,
            root: vec![1; 16],
            name: "file0".into(),
            fh: vec![7; 13],
            size: 1 << 20,
            fileid: 2,
            len: 1000,
            slots: 1048,
            verify_pattern: false,
        });
        for args in [
            &["--proc", "write"][..],
            &["--proc", "write", "-f", "-A", "sys"],
        ] {
            let t = Template::new(&opts(args), true, Some(Arc::clone(&plan))).unwrap();
            let mut out = Vec::new();
            t.append(5, 3, &mut out);
            t.append(6, 1050, &mut out);
            assert_eq!(out.len(), 2 * t.len());
            let recs = records(&out);
            for (rec, (xid, seq)) in recs.iter().zip([(5, 3), (6, 1050)]) {
                let c = decode_call(&rec.2).unwrap();
                assert_eq!((c.xid, c.procedure), (xid, WRITE));
                let w = Write3Args::decode(c.args).unwrap();
                assert_eq!(
                    (w.offset, w.count, w.file.0),
                    (plan.offset(seq), 1000, &[7; 13][..])
                );
                assert_eq!(pattern_mismatch(w.offset, w.data), None, "{args:?}");
            }
            assert_eq!(plan.offset(1050), 2000);
        }
    }

    #[test]
    fn auth_sys_and_udp() {
        let t = Template::new(&opts(&["-A", "sys"]), false, None).unwrap();
        let mut buf = t.message().to_vec();
        t.patch(9, 0, &mut buf);
        let c = decode_call(&buf).unwrap();
        assert_eq!((c.xid, c.cred.flavor), (9, AUTH_SYS));
        let sys = AuthSys::decode(c.cred.body).unwrap();
        assert_eq!(sys.uid, rustix::process::geteuid().as_raw());
        assert!(!sys.machine_name.is_empty());
        assert_eq!(ksf_proto::rpc::authenticate(&c), Ok(()));
    }
}
