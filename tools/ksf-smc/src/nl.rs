// SPDX-License-Identifier: GPL-2.0

//! Netlink and generic netlink messages as bytes: building requests and
//! splitting answers into messages and attributes. No I/O here.
//!
//! Layouts (include/uapi/linux/netlink.h, genetlink.h): `struct nlmsghdr`
//! (len u32, type u16, flags u16, seq u32, pid u32), then for generic
//! netlink `struct genlmsghdr` (cmd u8, version u8, reserved u16), then
//! attributes: `struct nlattr` (len u16, type u16) and the data, each
//! padded to 4 bytes. Integers are in host byte order.

/// Size of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = 16;
/// Size of `struct genlmsghdr`.
pub const GENL_HDRLEN: usize = 4;
/// Size of `struct nlattr`.
pub const NLA_HDRLEN: usize = 4;

/// `NLM_F_REQUEST`.
pub const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_ACK`.
pub const NLM_F_ACK: u16 = 0x4;
/// `NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`).
pub const NLM_F_DUMP: u16 = 0x300;

/// `NLMSG_ERROR`: an error, or an acknowledgement when its errno is 0.
pub const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: the end of a dump.
pub const NLMSG_DONE: u16 = 3;

/// `GENL_ID_CTRL`: the nlctrl family, which resolves the others.
pub const GENL_ID_CTRL: u16 = 0x10;
/// `CTRL_CMD_GETFAMILY`.
pub const CTRL_CMD_GETFAMILY: u8 = 3;
/// `CTRL_ATTR_FAMILY_ID` (u16).
pub const CTRL_ATTR_FAMILY_ID: u16 = 1;
/// `CTRL_ATTR_FAMILY_NAME` (NUL-terminated string).
pub const CTRL_ATTR_FAMILY_NAME: u16 = 2;

/// `NLA_TYPE_MASK`: the type without the nested and byte-order flags.
const NLA_TYPE_MASK: u16 = 0x3fff;

/// `n` rounded up to a multiple of 4 (`NLMSG_ALIGN`, `NLA_ALIGN`).
pub fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Appends attribute `ty` with `data` to `buf`, padded to 4 bytes.
pub fn put_attr(buf: &mut Vec<u8>, ty: u16, data: &[u8]) {
    let len = NLA_HDRLEN + data.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(data);
    buf.resize(buf.len() + align4(len) - len, 0);
}

/// A netlink request: the netlink header (type `ty`, `flags`, sequence
/// `seq`, port 0), then `body`.
pub fn request(ty: u16, flags: u16, seq: u32, body: &[u8]) -> Vec<u8> {
    let len = NLMSG_HDRLEN + body.len();
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&ty.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(body);
    m
}

/// A generic netlink request: the netlink header (type `family`, `flags`,
/// sequence `seq`, port 0), the genl header (`cmd`, `version`) and the
/// already encoded attributes `attrs`.
pub fn genl_request(
    family: u16,
    flags: u16,
    seq: u32,
    cmd: u8,
    version: u8,
    attrs: &[u8],
) -> Vec<u8> {
    let mut body = Vec::with_capacity(GENL_HDRLEN + attrs.len());
    body.extend_from_slice(&[cmd, version, 0, 0]);
    body.extend_from_slice(attrs);
    request(family, flags, seq, &body)
}

/// The CTRL_CMD_GETFAMILY request for the family called `name`.
pub fn getfamily_request(seq: u32, name: &str) -> Vec<u8> {
    let mut attrs = Vec::new();
    let mut z = name.as_bytes().to_vec();
    z.push(0);
    put_attr(&mut attrs, CTRL_ATTR_FAMILY_NAME, &z);
    genl_request(
        GENL_ID_CTRL,
        NLM_F_REQUEST,
        seq,
        CTRL_CMD_GETFAMILY,
        1,
        &attrs,
    )
}

/// One netlink message of an answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Msg<'a> {
    /// A message of type `ty` with sequence number `seq` and payload
    /// `payload` (everything after the netlink header).
    Data {
        ty: u16,
        seq: u32,
        payload: &'a [u8],
    },
    /// `NLMSG_DONE` with its status (0, or a negative errno).
    Done { seq: u32, status: i32 },
    /// `NLMSG_ERROR` with its errno as a positive number (0: an ack).
    Error { seq: u32, errno: i32 },
}

impl Msg<'_> {
    /// The sequence number of the request this answers.
    pub fn seq(&self) -> u32 {
        match self {
            Msg::Data { seq, .. } | Msg::Done { seq, .. } | Msg::Error { seq, .. } => *seq,
        }
    }
}

/// The host-order `u16` at byte `at` of `b` (which must hold it).
pub fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

/// The host-order `u32` at byte `at` of `b` (which must hold it).
pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The `i32` at the start of `p` (the errno of `NLMSG_ERROR`, the status
/// of `NLMSG_DONE`).
fn status(p: &[u8], what: &str) -> Result<i32, String> {
    if p.len() < 4 {
        return Err(format!("short {what} message ({} bytes)", p.len()));
    }
    Ok(u32_at(p, 0) as i32)
}

/// Splits a received datagram into its netlink messages.
pub fn messages(buf: &[u8]) -> Result<Vec<Msg<'_>>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        if buf.len() - at < NLMSG_HDRLEN {
            return Err(format!("truncated netlink header at byte {at}"));
        }
        let len = u32_at(buf, at) as usize;
        if len < NLMSG_HDRLEN || len > buf.len() - at {
            return Err(format!("bad netlink message length {len} at byte {at}"));
        }
        let ty = u16_at(buf, at + 4);
        let seq = u32_at(buf, at + 8);
        let payload = &buf[at + NLMSG_HDRLEN..at + len];
        out.push(match ty {
            NLMSG_ERROR => Msg::Error {
                seq,
                errno: -status(payload, "error")?,
            },
            NLMSG_DONE => Msg::Done {
                seq,
                status: if payload.is_empty() {
                    0
                } else {
                    status(payload, "done")?
                },
            },
            _ => Msg::Data { ty, seq, payload },
        });
        at += align4(len);
    }
    Ok(out)
}

/// The command and the attribute bytes of a generic netlink payload.
pub fn genl_split(payload: &[u8]) -> Result<(u8, &[u8]), String> {
    if payload.len() < GENL_HDRLEN {
        return Err(format!(
            "short generic netlink message ({} bytes)",
            payload.len()
        ));
    }
    Ok((payload[0], &payload[GENL_HDRLEN..]))
}

/// One attribute: its type (flags masked off) and its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    pub ty: u16,
    pub data: &'a [u8],
}

/// Splits attribute bytes (a message's, or a nested attribute's data).
pub fn attrs(mut b: &[u8]) -> Result<Vec<Attr<'_>>, String> {
    let mut out = Vec::new();
    while !b.is_empty() {
        if b.len() < NLA_HDRLEN {
            return Err(format!(
                "truncated attribute header ({} bytes left)",
                b.len()
            ));
        }
        let len = u16_at(b, 0) as usize;
        if len < NLA_HDRLEN || len > b.len() {
            return Err(format!(
                "bad attribute length {len} ({} bytes left)",
                b.len()
            ));
        }
        out.push(Attr {
            ty: u16_at(b, 2) & NLA_TYPE_MASK,
            data: &b[NLA_HDRLEN..len],
        });
        b = &b[align4(len).min(b.len())..];
    }
    Ok(out)
}

/// The data of the first attribute of type `ty`.
pub fn find<'a>(list: &[Attr<'a>], ty: u16) -> Option<&'a [u8]> {
    list.iter().find(|a| a.ty == ty).map(|a| a.data)
}

/// An unsigned integer attribute of 1, 2, 4 or 8 bytes (`NLA_UINT` is 4 or
/// 8).
pub fn uint(data: &[u8]) -> Result<u64, String> {
    Ok(match data.len() {
        1 => data[0].into(),
        2 => u16_at(data, 0).into(),
        4 => u32_at(data, 0).into(),
        8 => u64::from_ne_bytes(data.try_into().unwrap_or_default()),
        n => return Err(format!("integer attribute of {n} bytes")),
    })
}

/// The unsigned integer attribute of type `ty` in `list`, 0 when absent.
pub fn uint_or_0(list: &[Attr<'_>], ty: u16) -> Result<u64, String> {
    find(list, ty).map_or(Ok(0), uint)
}

/// A string attribute, up to its first NUL.
pub fn string(data: &[u8]) -> String {
    let end = data.iter().position(|&c| c == 0).unwrap_or(data.len());
    String::from_utf8_lossy(&data[..end]).into_owned()
}

/// The family id in a CTRL_CMD_GETFAMILY answer's payload.
pub fn family_id(payload: &[u8]) -> Result<u16, String> {
    let (_, a) = genl_split(payload)?;
    let id = find(&attrs(a)?, CTRL_ATTR_FAMILY_ID).ok_or("no family id in the nlctrl answer")?;
    Ok(uint(id)? as u16)
}

/// The text of a positive errno, without std's " (os error N)".
pub fn errno_text(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A netlink message of type `ty`, sequence `seq`, with `payload`.
    fn nlmsg(ty: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = NLMSG_HDRLEN + payload.len();
        let mut m = Vec::new();
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&ty.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&7u32.to_ne_bytes());
        m.extend_from_slice(payload);
        m.resize(align4(m.len()), 0);
        m
    }

    #[test]
    fn attr_is_padded_to_four_bytes() {
        let mut b = Vec::new();
        put_attr(&mut b, 2, b"abcde");
        assert_eq!(b.len(), 12);
        assert_eq!(
            &b[..4],
            &[9u16.to_ne_bytes(), 2u16.to_ne_bytes()].concat()[..]
        );
        assert_eq!(&b[4..9], b"abcde");
        assert_eq!(&b[9..], &[0, 0, 0]);
    }

    #[test]
    fn getfamily_request_layout() {
        let m = getfamily_request(5, "SMC_GEN_NETLINK");
        // 16 header + 4 genl + 4 attr header + 16 name+NUL = 40.
        assert_eq!(m.len(), 40);
        assert_eq!(u32_at(&m, 0), 40);
        assert_eq!(u16_at(&m, 4), GENL_ID_CTRL);
        assert_eq!(u16_at(&m, 6), NLM_F_REQUEST);
        assert_eq!(u32_at(&m, 8), 5);
        assert_eq!(&m[16..20], &[CTRL_CMD_GETFAMILY, 1, 0, 0]);
        assert_eq!(u16_at(&m, 20), 20);
        assert_eq!(u16_at(&m, 22), CTRL_ATTR_FAMILY_NAME);
        assert_eq!(&m[24..40], b"SMC_GEN_NETLINK\0");
    }

    #[test]
    fn splits_data_error_and_done() {
        let mut genl = vec![3, 1, 0, 0];
        put_attr(&mut genl, CTRL_ATTR_FAMILY_ID, &0x1234u16.to_ne_bytes());
        let mut buf = nlmsg(0x10, 9, &genl);
        let mut err = (-1i32).to_ne_bytes().to_vec();
        err.extend_from_slice(&[0; 16]); // the echoed request header
        buf.extend(nlmsg(NLMSG_ERROR, 9, &err));
        buf.extend(nlmsg(NLMSG_DONE, 9, &0i32.to_ne_bytes()));
        let ms = messages(&buf).unwrap();
        assert_eq!(ms.len(), 3);
        match ms[0] {
            Msg::Data { ty, seq, payload } => {
                assert_eq!((ty, seq), (0x10, 9));
                assert_eq!(family_id(payload).unwrap(), 0x1234);
            }
            ref m => panic!("{m:?}"),
        }
        assert_eq!(ms[1], Msg::Error { seq: 9, errno: 1 });
        assert_eq!(ms[2], Msg::Done { seq: 9, status: 0 });
    }

    #[test]
    fn rejects_bad_lengths() {
        let mut buf = nlmsg(0x10, 1, &[0; 8]);
        buf[0] = 200;
        assert!(messages(&buf).is_err());
        assert!(messages(&buf[..10]).is_err());
        assert!(attrs(&[8, 0, 1, 0, 0]).is_err());
        assert!(attrs(&[2, 0, 1, 0]).is_err());
        assert!(genl_split(&[1, 2]).is_err());
    }

    #[test]
    fn nested_attributes_and_flags() {
        let mut inner = Vec::new();
        put_attr(&mut inner, 8, &42u64.to_ne_bytes());
        put_attr(&mut inner, 3, b"x\0");
        let mut outer = Vec::new();
        put_attr(&mut outer, 0x8000 | 7, &inner); // NLA_F_NESTED
        let top = attrs(&outer).unwrap();
        assert_eq!(top.len(), 1);
        assert_eq!(top[0].ty, 7);
        let sub = attrs(top[0].data).unwrap();
        assert_eq!(uint(find(&sub, 8).unwrap()).unwrap(), 42);
        assert_eq!(string(find(&sub, 3).unwrap()), "x");
        assert!(find(&sub, 9).is_none());
    }

    #[test]
    fn integer_sizes() {
        assert_eq!(uint(&[7]).unwrap(), 7);
        assert_eq!(uint(&0xffffu16.to_ne_bytes()).unwrap(), 0xffff);
        assert_eq!(uint(&5u32.to_ne_bytes()).unwrap(), 5);
        assert!(uint(&[0; 3]).is_err());
    }

    #[test]
    fn errno_text_has_no_suffix() {
        assert_eq!(errno_text(1), "Operation not permitted");
    }
}
