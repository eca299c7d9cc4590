// SPDX-License-Identifier: GPL-2.0

//! The SMC generic netlink family (include/uapi/linux/smc.h): commands,
//! attributes, user EIDs, and the text of its answers. No I/O here.

use crate::nl::{self, find, string, uint, uint_or_0, Attr};

/// The family name.
pub const FAMILY: &str = "SMC_GEN_NETLINK";
/// `SMC_GENL_FAMILY_VERSION`.
pub const VERSION: u8 = 1;

pub const GET_SYS_INFO: u8 = 1;
pub const GET_LGR_SMCD: u8 = 4;
pub const GET_DEV_SMCD: u8 = 5;
pub const GET_STATS: u8 = 7;
pub const GET_FBACK_STATS: u8 = 8;
pub const DUMP_UEID: u8 = 9;
pub const ADD_UEID: u8 = 10;
pub const REMOVE_UEID: u8 = 11;
pub const FLUSH_UEID: u8 = 12;

/// Top-level nests (`SMC_GEN_*`).
const GEN_SYS_INFO: u16 = 1;
const GEN_LGR_SMCD: u16 = 4;
const GEN_DEV_SMCD: u16 = 5;
const GEN_STATS: u16 = 7;
const GEN_FBACK_STATS: u16 = 8;

/// `SMC_NLA_EID_TABLE_ENTRY`.
pub const EID_TABLE_ENTRY: u16 = 1;
/// `SMC_MAX_EID_LEN`.
pub const MAX_EID_LEN: usize = 32;
/// The CHID of the loopback-ism device (`SMC_LO_RESERVED_CHID`).
pub const LOOPBACK_CHID: u64 = 0xffff;

/// Checks a user EID as the kernel does (`smc_clc_ueid_valid`,
/// net/smc/smc_clc.c): 1 to 32 of A-Z, 0-9, `.` and `-`, the first a
/// letter or digit.
pub fn check_ueid(id: &str) -> Result<(), String> {
    let b = id.as_bytes();
    if b.is_empty() || b.len() > MAX_EID_LEN {
        return Err(format!(
            "a UEID has 1 to {MAX_EID_LEN} characters, '{id}' has {}",
            b.len()
        ));
    }
    let upper_alnum = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    if !upper_alnum(b[0]) {
        return Err(format!("a UEID starts with A-Z or 0-9: '{id}'"));
    }
    if !b.iter().all(|&c| upper_alnum(c) || c == b'.' || c == b'-') {
        return Err(format!("a UEID has only A-Z, 0-9, '.' and '-': '{id}'"));
    }
    Ok(())
}

/// The `SMC_NLA_EID_TABLE_ENTRY` data of `id`: padded with blanks to 32
/// characters plus a NUL, the exact 33 bytes `smc_nl_add_ueid` wants.
pub fn ueid_entry(id: &str) -> Vec<u8> {
    let mut e = id.as_bytes().to_vec();
    e.resize(MAX_EID_LEN, b' ');
    e.push(0);
    e
}

/// The attributes of an ADD_UEID or REMOVE_UEID request for `id`.
pub fn ueid_attrs(id: &str) -> Vec<u8> {
    let mut a = Vec::new();
    nl::put_attr(&mut a, EID_TABLE_ENTRY, &ueid_entry(id));
    a
}

/// The attributes of a dump message of command `cmd`, checked.
fn msg_attrs(payload: &[u8], cmd: u8) -> Result<Vec<Attr<'_>>, String> {
    let (got, a) = nl::genl_split(payload)?;
    if got != cmd {
        return Err(format!("answer to command {cmd} has command {got}"));
    }
    nl::attrs(a)
}

/// The attributes inside the top-level nest `ty` of a message, if any.
fn nest<'a>(list: &[Attr<'a>], ty: u16) -> Result<Vec<Attr<'a>>, String> {
    find(list, ty).map_or(Ok(Vec::new()), nl::attrs)
}

/// The UEID of one DUMP_UEID message, without its padding blanks.
pub fn ueid_of(payload: &[u8]) -> Result<String, String> {
    let a = msg_attrs(payload, DUMP_UEID)?;
    let e = find(&a, EID_TABLE_ENTRY).ok_or("UEID dump message without an entry")?;
    Ok(string(e).trim_end().to_string())
}

/// Whether the GET_SYS_INFO message says SMC-Dv2 capable
/// (`SMC_NLA_SYS_IS_ISM_V2`).
pub fn ism_v2(payload: &[u8]) -> Result<bool, String> {
    let a = nest(&msg_attrs(payload, GET_SYS_INFO)?, GEN_SYS_INFO)?;
    Ok(uint_or_0(&a, 3)? != 0)
}

/// The line of one GET_DEV_SMCD message (a PCI ISM device):
/// `ism PCI_ID chid 0xCHID pnetid PNETID lgrs N`.
pub fn dev_line(payload: &[u8]) -> Result<String, String> {
    let a = nest(&msg_attrs(payload, GET_DEV_SMCD)?, GEN_DEV_SMCD)?;
    let num = |ty| uint_or_0(&a, ty);
    let pci = find(&a, 7).map(string).unwrap_or_default(); // SMC_NLA_DEV_PCI_ID
    let port = nest(&a, 8)?; // SMC_NLA_DEV_PORT
    let pnetid = find(&port, 2).map(string).unwrap_or_default(); // ..._PORT_PNETID
    let pnetid = pnetid.trim_end();
    Ok(format!(
        "ism {pci} chid {:#06x} pnetid {} lgrs {}",
        num(4)?, // SMC_NLA_DEV_PCI_CHID
        if pnetid.is_empty() { "-" } else { pnetid },
        num(1)?, // SMC_NLA_DEV_USE_CNT
    ))
}

/// The line of one GET_LGR_SMCD message (an SMC-D link group):
/// `lgr ID dev DEV chid 0xCHID conns N`, DEV `loopback-ism` or `ism`.
pub fn lgr_line(payload: &[u8]) -> Result<String, String> {
    let a = nest(&msg_attrs(payload, GET_LGR_SMCD)?, GEN_LGR_SMCD)?;
    let num = |ty| uint_or_0(&a, ty);
    let chid = num(7)?; // SMC_NLA_LGR_D_CHID
    let dev = if chid == LOOPBACK_CHID {
        "loopback-ism"
    } else {
        "ism"
    };
    Ok(format!(
        "lgr {:08x} dev {dev} chid {chid:#06x} conns {}",
        num(1)?, // SMC_NLA_LGR_D_ID
        num(5)?, // SMC_NLA_LGR_D_CONNS_NUM
    ))
}

/// The SMC-D counters of GET_STATS, in this order, and their attribute in
/// the `SMC_NLA_STATS_SMCD_TECH` nest (`SMC_NLA_STATS_T_CLNT_V1_SUCC` = 7
/// .. `SMC_NLA_STATS_T_SRV_V2_SUCC` = 10, `SMC_NLA_STATS_T_RX_BYTES` = 16
/// .. `SMC_NLA_STATS_T_TX_CNT` = 19).
const SMCD_COUNTERS: [(&str, u16); 8] = [
    ("smcd_clnt_v1_succ", 7),
    ("smcd_clnt_v2_succ", 8),
    ("smcd_srv_v1_succ", 9),
    ("smcd_srv_v2_succ", 10),
    ("smcd_rx_bytes", 16),
    ("smcd_tx_bytes", 17),
    ("smcd_rx_cnt", 18),
    ("smcd_tx_cnt", 19),
];

/// `name value` lines of the GET_STATS message: the SMC-D counters, then
/// the handshake errors of clients and servers (SMC-D and SMC-R).
pub fn stats_lines(payload: &[u8]) -> Result<Vec<String>, String> {
    let top = nest(&msg_attrs(payload, GET_STATS)?, GEN_STATS)?;
    let smcd = nest(&top, 1)?; // SMC_NLA_STATS_SMCD_TECH
    let mut out = Vec::new();
    for (name, ty) in SMCD_COUNTERS {
        out.push(format!("{name} {}", uint_or_0(&smcd, ty)?));
    }
    out.push(format!("clnt_hshake_err {}", uint_or_0(&top, 3)?)); // ..._CLNT_HS_ERR_CNT
    out.push(format!("srv_hshake_err {}", uint_or_0(&top, 4)?)); // ..._SRV_HS_ERR_CNT
    Ok(out)
}

/// The fallbacks of the GET_FBACK_STATS messages: totals and counts by
/// reason code, for clients and servers (all SMC sockets of the netns).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fallbacks {
    pub srv: u64,
    pub clnt: u64,
    /// `(is server, reason code, count)`, in the kernel's order.
    pub reasons: Vec<(bool, u32, u64)>,
}

impl Fallbacks {
    /// Adds one GET_FBACK_STATS message.
    pub fn add(&mut self, payload: &[u8]) -> Result<(), String> {
        let a = nest(&msg_attrs(payload, GET_FBACK_STATS)?, GEN_FBACK_STATS)?;
        let get = |ty| find(&a, ty).map(uint).transpose();
        if let Some(n) = get(2)? {
            self.srv = n; // SMC_NLA_FBACK_STATS_SRV_CNT
        }
        if let Some(n) = get(3)? {
            self.clnt = n; // SMC_NLA_FBACK_STATS_CLNT_CNT
        }
        if let Some(code) = get(4)? {
            let is_srv = get(1)?.unwrap_or(0) != 0; // SMC_NLA_FBACK_STATS_TYPE
            self.reasons
                .push((is_srv, code as u32, get(5)?.unwrap_or(0)));
        }
        Ok(())
    }

    /// `srv_fback N`, `clnt_fback N`, then `srv_fback_0xCODE N` and
    /// `clnt_fback_0xCODE N` lines, servers first.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![
            format!("srv_fback {}", self.srv),
            format!("clnt_fback {}", self.clnt),
        ];
        for want_srv in [true, false] {
            for &(is_srv, code, n) in self.reasons.iter().filter(|r| r.0 == want_srv) {
                let who = if is_srv { "srv" } else { "clnt" };
                out.push(format!("{who}_fback_{code:#010x} {n}"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nl::put_attr;

    /// A genl payload: command `cmd` and attribute bytes `a`.
    fn genl(cmd: u8, a: &[u8]) -> Vec<u8> {
        let mut p = vec![cmd, 1, 0, 0];
        p.extend_from_slice(a);
        p
    }

    fn nested(ty: u16, inner: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        put_attr(&mut b, 0x8000 | ty, inner);
        b
    }

    #[test]
    fn ueid_rules() {
        assert!(check_ueid("KSF-SMC-LOOPBACK").is_ok());
        assert!(check_ueid("0.A-9").is_ok());
        assert!(check_ueid(&"A".repeat(32)).is_ok());
        assert!(check_ueid(&"A".repeat(33)).is_err());
        assert!(check_ueid("").is_err());
        assert!(check_ueid("-ABC").is_err());
        assert!(check_ueid(".ABC").is_err());
        assert!(check_ueid("abc").is_err());
        assert!(check_ueid("A B").is_err());
        assert!(check_ueid("A_B").is_err());
    }

    #[test]
    fn ueid_entry_is_33_bytes() {
        let e = ueid_entry("KSF");
        assert_eq!(e.len(), 33);
        assert_eq!(&e[..3], b"KSF");
        assert!(e[3..32].iter().all(|&c| c == b' '));
        assert_eq!(e[32], 0);
        let a = ueid_attrs("KSF");
        assert_eq!(a.len(), 40); // 4 + 33, padded
        assert_eq!(u16::from_ne_bytes([a[0], a[1]]), 37);
        assert_eq!(u16::from_ne_bytes([a[2], a[3]]), EID_TABLE_ENTRY);
    }

    #[test]
    fn ueid_dump_message() {
        let mut a = Vec::new();
        let mut s = ueid_entry("KSF-SMC-LOOPBACK");
        s.truncate(33);
        put_attr(&mut a, EID_TABLE_ENTRY, &s);
        assert_eq!(ueid_of(&genl(DUMP_UEID, &a)).unwrap(), "KSF-SMC-LOOPBACK");
        assert!(ueid_of(&genl(DUMP_UEID, &[])).is_err());
        assert!(ueid_of(&genl(GET_STATS, &a)).is_err());
    }

    #[test]
    fn sys_info_v2() {
        let mut inner = Vec::new();
        put_attr(&mut inner, 1, &[2]);
        put_attr(&mut inner, 3, &[1]);
        put_attr(&mut inner, 5, b"SEID-X   \0");
        let p = genl(GET_SYS_INFO, &nested(GEN_SYS_INFO, &inner));
        assert!(ism_v2(&p).unwrap());
        let p = genl(GET_SYS_INFO, &nested(GEN_SYS_INFO, &[]));
        assert!(!ism_v2(&p).unwrap());
        assert!(ism_v2(&genl(GET_STATS, &[])).is_err());
    }

    #[test]
    fn dev_and_lgr_lines() {
        let mut port = Vec::new();
        put_attr(&mut port, 2, b"NET1            \0");
        let mut d = Vec::new();
        put_attr(&mut d, 1, &3u32.to_ne_bytes());
        put_attr(&mut d, 4, &0x12u16.to_ne_bytes());
        put_attr(&mut d, 7, b"0000:00:05.0\0");
        d.extend(nested(8, &port));
        let p = genl(GET_DEV_SMCD, &nested(GEN_DEV_SMCD, &d));
        assert_eq!(
            dev_line(&p).unwrap(),
            "ism 0000:00:05.0 chid 0x0012 pnetid NET1 lgrs 3"
        );

        let mut l = Vec::new();
        put_attr(&mut l, 1, &0xabcdu32.to_ne_bytes());
        put_attr(&mut l, 5, &2u32.to_ne_bytes());
        put_attr(&mut l, 7, &0xffffu32.to_ne_bytes());
        let p = genl(GET_LGR_SMCD, &nested(GEN_LGR_SMCD, &l));
        assert_eq!(
            lgr_line(&p).unwrap(),
            "lgr 0000abcd dev loopback-ism chid 0xffff conns 2"
        );
    }

    #[test]
    fn stats_smcd_counters() {
        let mut t = Vec::new();
        put_attr(&mut t, 0, &[]); // a pad attribute
        put_attr(&mut t, 8, &5u64.to_ne_bytes());
        put_attr(&mut t, 10, &6u64.to_ne_bytes());
        put_attr(&mut t, 15, &77u64.to_ne_bytes()); // URG_DATA_CNT: not printed
        put_attr(&mut t, 16, &20u64.to_ne_bytes());
        put_attr(&mut t, 19, &4u64.to_ne_bytes());
        let mut r = Vec::new();
        put_attr(&mut r, 8, &99u64.to_ne_bytes());
        let mut top = nested(1, &t);
        top.extend(nested(2, &r)); // SMC-R: not counted
        put_attr(&mut top, 4, &1u64.to_ne_bytes());
        let lines = stats_lines(&genl(GET_STATS, &nested(GEN_STATS, &top))).unwrap();
        assert_eq!(lines.len(), 10);
        assert_eq!(lines[0], "smcd_clnt_v1_succ 0");
        assert_eq!(lines[1], "smcd_clnt_v2_succ 5");
        assert_eq!(lines[3], "smcd_srv_v2_succ 6");
        assert_eq!(lines[4], "smcd_rx_bytes 20");
        assert_eq!(lines[5], "smcd_tx_bytes 0");
        assert_eq!(lines[7], "smcd_tx_cnt 4");
        assert_eq!(lines[8], "clnt_hshake_err 0");
        assert_eq!(lines[9], "srv_hshake_err 1");
    }

    #[test]
    fn fallback_reasons() {
        let msg = |is_srv: u8, totals: bool, code: u32, n: u16| {
            let mut a = Vec::new();
            put_attr(&mut a, 1, &[is_srv]);
            if totals {
                put_attr(&mut a, 2, &4u64.to_ne_bytes());
                put_attr(&mut a, 3, &1u64.to_ne_bytes());
            }
            put_attr(&mut a, 4, &code.to_ne_bytes());
            put_attr(&mut a, 5, &n.to_ne_bytes());
            genl(GET_FBACK_STATS, &nested(GEN_FBACK_STATS, &a))
        };
        let mut f = Fallbacks::default();
        assert_eq!(f.lines(), ["srv_fback 0", "clnt_fback 0"]);
        f.add(&msg(1, true, 0x0303_0008, 4)).unwrap();
        f.add(&msg(0, false, 0x0303_0008, 1)).unwrap();
        assert_eq!(
            f.lines(),
            [
                "srv_fback 4",
                "clnt_fback 1",
                "srv_fback_0x03030008 4",
                "clnt_fback_0x03030008 1"
            ]
        );
    }
}
