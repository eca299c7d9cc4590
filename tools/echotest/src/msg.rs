// SPDX-License-Identifier: GPL-2.0

//! Message layout and verification.
//!
//! Message `seq` of job `job` is `len` bytes: the sequence number (8 bytes,
//! little endian), the job id (4 bytes, little endian), then a pseudo-random
//! pattern seeded by the job id, cut at `len`. Shorter messages keep a
//! prefix of that, so even 1-byte messages carry the low byte of their
//! sequence number: in a TCP stream a lost, duplicated or reordered message
//! shifts the following bytes and is caught.

use std::fmt::Write as _;

/// Bytes of sequence number and job id at the start of a message.
pub const HDR: usize = 12;

/// The messages of one job.
pub struct Pattern {
    job: u32,
    /// A whole message whose header bytes are rewritten per sequence number.
    tmpl: Vec<u8>,
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Bytes as hex pairs: `"0a ff 00"`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::new();
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    if s.is_empty() {
        s.push_str("nothing");
    }
    s
}

impl Pattern {
    /// The messages of job `job`, `len` bytes each.
    pub fn new(job: u32, len: usize) -> Pattern {
        let mut tmpl = vec![0u8; len];
        let mut state = 0x6b73_665f_6563_686f ^ u64::from(job).wrapping_mul(0x2545_f491_4f6c_dd1d);
        for chunk in tmpl.chunks_mut(8) {
            let w = splitmix64(&mut state).to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        Pattern { job, tmpl }
    }

    /// Message length.
    pub fn len(&self) -> usize {
        self.tmpl.len()
    }

    /// The header of message `seq`.
    pub fn header(&self, seq: u64) -> [u8; HDR] {
        let mut h = [0u8; HDR];
        h[..8].copy_from_slice(&seq.to_le_bytes());
        h[8..].copy_from_slice(&self.job.to_le_bytes());
        h
    }

    /// Appends message `seq` to `out`.
    pub fn append(&self, seq: u64, out: &mut Vec<u8>) {
        let h = self.len().min(HDR);
        out.extend_from_slice(&self.header(seq)[..h]);
        out.extend_from_slice(&self.tmpl[h..]);
    }

    /// Makes `buf` (a buffer from [`message`](Self::message)) message `seq`.
    pub fn set_seq(&self, seq: u64, buf: &mut [u8]) {
        let h = self.len().min(HDR);
        buf[..h].copy_from_slice(&self.header(seq)[..h]);
    }

    /// A new buffer holding message `seq`.
    pub fn message(&self, seq: u64) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len());
        self.append(seq, &mut v);
        v
    }

    /// Bytes `from..to` of message `seq`.
    pub fn expected(&self, seq: u64, from: usize, to: usize) -> Vec<u8> {
        let mut v = self.tmpl[from..to].to_vec();
        let h = self.header(seq);
        for (i, b) in v.iter_mut().enumerate().take(HDR.saturating_sub(from)) {
            *b = h[from + i];
        }
        v
    }

    /// Compares `data` with bytes `off..off + data.len()` of message `seq`;
    /// returns the index in `data` of the first difference.
    #[inline]
    pub fn check(&self, seq: u64, off: usize, data: &[u8]) -> Option<usize> {
        let end = off + data.len();
        let mut i = 0;
        if off < HDR {
            let h = self.header(seq);
            let hend = end.min(HDR);
            if let Some(p) = (off..hend).position(|k| data[k - off] != h[k]) {
                return Some(p);
            }
            i = hend.saturating_sub(off).min(data.len());
        }
        let (got, want) = (&data[i..], &self.tmpl[off + i..end]);
        if got == want {
            None
        } else {
            got.iter()
                .zip(want)
                .position(|(a, b)| a != b)
                .map(|p| i + p)
        }
    }

    /// Describes a difference found by [`check`](Self::check): `data` was
    /// received at byte `off` of message `seq` and differs at `data[at]`.
    pub fn describe(&self, seq: u64, off: usize, data: &[u8], at: usize) -> String {
        let pos = off + at;
        let want = self.expected(seq, pos, (pos + 16).min(self.len()));
        let got = &data[at..(at + 16).min(data.len())];
        let mut s = format!(
            "echo of seq {seq} differs at byte {pos} of {}: expected {}, received {}",
            self.len(),
            hex(&want),
            hex(got)
        );
        if pos < HDR && self.len() >= HDR {
            // Bytes before `pos` matched, so the received header is ours up
            // to there and `data` from `at` on.
            let mut head = self.header(seq)[..pos].to_vec();
            head.extend_from_slice(&data[at..]);
            if head.len() >= HDR {
                let (s2, j2) = decode(&head);
                let _ = write!(s, " (received header: job {j2} seq {s2})");
            }
        }
        s
    }
}

/// Sequence number and job id from a full header.
pub fn decode(head: &[u8]) -> (u64, u32) {
    let seq = u64::from_le_bytes(head[..8].try_into().unwrap());
    let job = u32::from_le_bytes(head[8..12].try_into().unwrap());
    (seq, job)
}

/// The sequence number of a received UDP message: in full if the message
/// holds 8 bytes of it, else the newest number below `next` (the next one
/// to be sent) whose low bytes match. `None` for an empty message or if no
/// number sent so far matches.
pub fn seq_of(data: &[u8], next: u64) -> Option<u64> {
    let k = data.len().min(8);
    if k == 0 {
        return None;
    }
    let mut low = [0u8; 8];
    low[..k].copy_from_slice(&data[..k]);
    let low = u64::from_le_bytes(low);
    if k == 8 {
        return Some(low);
    }
    let mask = (1u64 << (8 * k)) - 1;
    let last = next.checked_sub(1)?;
    let back = last.wrapping_sub(low) & mask;
    last.checked_sub(back)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let p = Pattern::new(3, 20);
        let m = p.message(0x0102);
        assert_eq!(m.len(), 20);
        assert_eq!(&m[..12], &[2, 1, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(decode(&m), (0x0102, 3));
        assert_ne!(m[12..], Pattern::new(4, 20).message(0x0102)[12..]);
        assert_eq!(Pattern::new(0, 1).message(0x1ff), vec![0xff]);
        let mut buf = p.message(7);
        p.set_seq(9, &mut buf);
        assert_eq!(buf, p.message(9));
        assert_eq!(p.expected(9, 0, 20), buf);
        assert_eq!(p.expected(9, 5, 15), buf[5..15]);
        assert_eq!(p.expected(9, 14, 20), buf[14..]);
    }

    #[test]
    fn check_any_split() {
        for len in [1, 5, 12, 13, 100] {
            let p = Pattern::new(1, len);
            let m = p.message(77);
            for off in 0..len {
                for end in off..=len {
                    assert_eq!(p.check(77, off, &m[off..end]), None, "{len} {off} {end}");
                }
            }
            for bad in 0..len {
                let mut c = m.clone();
                c[bad] ^= 0x40;
                for off in 0..=bad {
                    assert_eq!(p.check(77, off, &c[off..]), Some(bad - off));
                }
            }
            assert_eq!(p.check(78, 0, &m), Some(0));
        }
    }

    #[test]
    fn descriptions() {
        let p = Pattern::new(2, 64);
        let mut m = p.message(5);
        m[20] ^= 1;
        let at = p.check(5, 0, &m).unwrap();
        let d = p.describe(5, 0, &m, at);
        assert!(
            d.starts_with("echo of seq 5 differs at byte 20 of 64: expected "),
            "{d}"
        );
        // A message from the wrong place names what it is.
        let other = Pattern::new(2, 64).message(9);
        let at = p.check(5, 0, &other).unwrap();
        let d = p.describe(5, 0, &other, at);
        assert!(d.ends_with("(received header: job 2 seq 9)"), "{d}");
        assert_eq!(hex(&[0, 0xab]), "00 ab");
        assert_eq!(hex(&[]), "nothing");
    }

    #[test]
    fn sequence_from_short_messages() {
        let full = Pattern::new(0, 12).message(1 << 40);
        assert_eq!(seq_of(&full, 0), Some(1 << 40));
        assert_eq!(seq_of(&[], 5), None);
        assert_eq!(seq_of(&[3], 0), None);
        assert_eq!(seq_of(&[3], 4), Some(3));
        assert_eq!(seq_of(&[3], 3), None);
        assert_eq!(seq_of(&[0xff], 0x105), Some(0xff));
        assert_eq!(seq_of(&[0x02], 0x105), Some(0x102));
        assert_eq!(seq_of(&[0x02, 0x01], 0x20000), Some(0x10102));
        assert_eq!(
            seq_of(&[0x02, 0x01, 0x01, 0, 0, 0, 0], 0x10103),
            Some(0x10102)
        );
    }
}
