// SPDX-License-Identifier: GPL-2.0

//! The export's files: the [`Storage`] of proto's NFSv3 export, one
//! [`PageStore`] per file, allocated at load and freed at unload.
//!
//! WRITE copies into the pages under the store's lock; READ does not copy
//! at all: its reply's data is sent from the pages themselves
//! ([`Files::store`] and `PageStore::frags`, see `rpc.rs`).

#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};

use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::error::code::ENOMEM;
use kernel::prelude::*;

use crate::ksf::pages::{self, PageStore};
use crate::ksf::proto::nfs3::{Nfstime3, Storage};
use crate::ksf::time::realtime;

/// The time of day, as NFS keeps it (seconds wrap in 2106).
pub(crate) fn now() -> Nfstime3 {
    let (seconds, nseconds) = realtime();
    Nfstime3 {
        seconds: seconds as u32,
        nseconds,
    }
}

fn pack(t: Nfstime3) -> u64 {
    (u64::from(t.seconds) << 32) | u64::from(t.nseconds)
}

fn unpack(v: u64) -> Nfstime3 {
    Nfstime3 {
        seconds: (v >> 32) as u32,
        nseconds: v as u32,
    }
}

/// The files, numbered from 0.
pub(crate) struct Files {
    stores: KVec<PageStore>,
    /// Each file's modification time (`pack`ed).
    mtimes: KVec<AtomicU64>,
}

impl Files {
    /// `files` zeroed files of `file_size` bytes; `ENOMEM` when their
    /// pages cannot all be allocated, or would take over a quarter of RAM.
    pub(crate) fn new(files: u32, file_size: usize) -> Result<Files> {
        let total = u64::from(files) * file_size as u64;
        if total > pages::max_bytes() {
            pr_err!(
                "an export of {} bytes is over a quarter of RAM ({} bytes)\n",
                total,
                pages::max_bytes()
            );
            return Err(ENOMEM);
        }
        let n = files as usize;
        let mut stores = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut mtimes = KVec::with_capacity(n, GFP_KERNEL)?;
        let t = pack(now());
        for _ in 0..n {
            stores.push(PageStore::new(file_size)?, GFP_KERNEL)?;
            mtimes.push(AtomicU64::new(t), GFP_KERNEL)?;
        }
        Ok(Files { stores, mtimes })
    }

    /// The pages of every file.
    pub(crate) fn pages(&self) -> usize {
        self.stores.iter().map(PageStore::pages).sum()
    }

    /// The pages of `file`.
    pub(crate) fn store(&self, file: u32) -> Option<&PageStore> {
        self.stores.get(file as usize)
    }
}

// The export checks every range against the file size before it calls
// these, so the stores' range errors cannot happen and are not reported.
impl Storage for Files {
    fn read(&self, file: u32, offset: u64, out: &mut [u8]) {
        if let Some(s) = self.store(file) {
            let _ = s.read(offset as usize, out);
        }
    }

    fn write(&self, file: u32, offset: u64, data: &[u8]) {
        if let Some(s) = self.store(file) {
            let _ = s.write(offset as usize, data);
        }
        if let Some(m) = self.mtimes.get(file as usize) {
            m.store(pack(now()), Ordering::Relaxed);
        }
    }

    fn mtime(&self, file: u32) -> Nfstime3 {
        self.mtimes
            .get(file as usize)
            .map_or_else(Nfstime3::default, |m| unpack(m.load(Ordering::Relaxed)))
    }
}
