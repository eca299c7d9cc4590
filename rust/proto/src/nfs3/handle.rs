// SPDX-License-Identifier: GPL-2.0

//! The file handles of the in-memory export ([`super::export`]).
//!
//! A handle is [`HANDLE_LEN`] = 16 bytes, all big-endian, and never
//! changes for the life of the export (nor across module reloads with the
//! same `fsid`), so a client can build one itself:
//!
//! | bytes | field | value |
//! |---|---|---|
//! | 0..4 | magic | [`HANDLE_MAGIC`], `"ksf3"` |
//! | 4..8 | fsid | the export's file system id |
//! | 8..16 | fileid | [`ROOT_FILEID`] for the root directory, [`FIRST_FILEID`] `+ i` for file `i` |
//!
//! The files are named `file0`, `file1`, ... in the root directory (decimal,
//! no leading zeros).

/// Bytes of a handle.
pub const HANDLE_LEN: usize = 16;
/// The first word of every handle: `"ksf3"`.
pub const HANDLE_MAGIC: u32 = 0x6b73_6633;
/// The fileid of the root directory.
pub const ROOT_FILEID: u64 = 1;
/// The file system id of krpc2's export (`"k2"`), the one rpctest assumes
/// unless told another.
pub const KSF_FSID: u32 = 0x6b32;
/// The fileid of file 0; file `i` has `FIRST_FILEID + i`.
pub const FIRST_FILEID: u64 = 2;

/// A handle's contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle {
    /// The file system id.
    pub fsid: u32,
    /// The object within it.
    pub fileid: u64,
}

impl Handle {
    /// The root directory's handle on file system `fsid`.
    pub const fn root(fsid: u32) -> Handle {
        Handle {
            fsid,
            fileid: ROOT_FILEID,
        }
    }

    /// File `index`'s handle on file system `fsid`.
    pub const fn file(fsid: u32, index: u32) -> Handle {
        Handle {
            fsid,
            fileid: FIRST_FILEID + index as u64,
        }
    }

    /// The handle's bytes.
    pub fn to_bytes(self) -> [u8; HANDLE_LEN] {
        let mut b = [0u8; HANDLE_LEN];
        b[..4].copy_from_slice(&HANDLE_MAGIC.to_be_bytes());
        b[4..8].copy_from_slice(&self.fsid.to_be_bytes());
        b[8..].copy_from_slice(&self.fileid.to_be_bytes());
        b
    }

    /// Parses handle bytes; `None` unless they are [`HANDLE_LEN`] bytes
    /// starting with [`HANDLE_MAGIC`].
    pub fn parse(bytes: &[u8]) -> Option<Handle> {
        let b: &[u8; HANDLE_LEN] = bytes.try_into().ok()?;
        let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        if word(0) != HANDLE_MAGIC {
            return None;
        }
        let fileid = (u64::from(word(8)) << 32) | u64::from(word(12));
        Some(Handle {
            fsid: word(4),
            fileid,
        })
    }
}
