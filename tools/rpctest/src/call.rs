// SPDX-License-Identifier: GPL-2.0

//! The calls on the wire: one template per run, encoded once with
//! `ksf_proto`, of which each call is a copy with its own xid.

use crate::opts::{Flavor, Opts};
use ksf_proto::rm;
use ksf_proto::rpc::{encode_call, AuthSys, Call, OpaqueAuth, AUTH_SYS, MAX_GIDS};

/// One call as sent (record marks included on TCP) and where its xid is.
#[derive(Debug, Clone)]
pub struct Template {
    wire: Vec<u8>,
    xid_at: usize,
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

impl Template {
    /// The call the options describe, framed for TCP (`stream`: one
    /// record, three fragments with `-f`) or bare for UDP.
    pub fn new(o: &Opts, stream: bool) -> Result<Template, String> {
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
            ..Call::new(0, o.prog, o.vers, o.procedure)
        };
        let mut msg = [0u8; 1024];
        let len = encode_call(&mut msg, &call).map_err(|e| format!("encoding the call: {e}"))?;
        let msg = &msg[..len];
        if !stream {
            return Ok(Template {
                wire: msg.to_vec(),
                xid_at: 0,
            });
        }
        let per_fragment = if o.fragments { len.div_ceil(3) } else { len };
        let mut wire = Vec::with_capacity(len + 3 * rm::MARK_LEN);
        for (mark, range) in rm::fragments(len, per_fragment as u32) {
            wire.extend_from_slice(&mark.encode());
            wire.extend_from_slice(&msg[range]);
        }
        // The first fragment holds at least 14 of the call's 40 or more
        // bytes, so the xid follows the first mark.
        Ok(Template {
            wire,
            xid_at: rm::MARK_LEN,
        })
    }

    /// Bytes of one call on the wire.
    pub fn len(&self) -> usize {
        self.wire.len()
    }

    /// One call with xid 0.
    pub fn bytes(&self) -> &[u8] {
        &self.wire
    }

    /// Appends the call with `xid` to `out`.
    #[inline]
    pub fn append(&self, xid: u32, out: &mut Vec<u8>) {
        let at = out.len() + self.xid_at;
        out.extend_from_slice(&self.wire);
        out[at..at + 4].copy_from_slice(&xid.to_be_bytes());
    }

    /// Sets the xid of `buf`, a copy of [`bytes`](Self::bytes).
    #[inline]
    pub fn set_xid(&self, xid: u32, buf: &mut [u8]) {
        buf[self.xid_at..self.xid_at + 4].copy_from_slice(&xid.to_be_bytes());
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
        let t = Template::new(&opts(&[]), true).unwrap();
        assert_eq!(t.len(), 4 + NULL_CALL_LEN);
        let mut out = Vec::new();
        t.append(7, &mut out);
        t.append(0xdead_beef, &mut out);
        let recs = records(&out);
        assert_eq!(recs.len(), 2);
        assert_eq!((recs[0].0, recs[0].1), (7, 1));
        assert_eq!(recs[1].0, 0xdead_beef);
        let c = decode_call(&recs[1].2).unwrap();
        assert_eq!((c.prog, c.vers, c.procedure), (100003, 3, 0));
    }

    #[test]
    fn three_fragments() {
        let t = Template::new(&opts(&["-f", "--proc", "5"]), true).unwrap();
        assert_eq!(t.len(), 3 * 4 + NULL_CALL_LEN);
        let mut out = Vec::new();
        t.append(42, &mut out);
        let recs = records(&out);
        assert_eq!((recs[0].0, recs[0].1), (42, 3));
        assert_eq!(decode_call(&recs[0].2).unwrap().procedure, 5);
    }

    #[test]
    fn auth_sys_and_udp() {
        let t = Template::new(&opts(&["-A", "sys"]), false).unwrap();
        let mut buf = t.bytes().to_vec();
        t.set_xid(9, &mut buf);
        let c = decode_call(&buf).unwrap();
        assert_eq!((c.xid, c.cred.flavor), (9, AUTH_SYS));
        let sys = AuthSys::decode(c.cred.body).unwrap();
        assert_eq!(sys.uid, rustix::process::geteuid().as_raw());
        assert!(!sys.machine_name.is_empty());
        assert_eq!(ksf_proto::rpc::authenticate(&c), Ok(()));
    }
}
