// SPDX-License-Identifier: GPL-2.0

//! Read-only debugfs files rendered by Rust.
//!
//! [`File`] creates `/sys/kernel/debug/<dir>/<name>` whose contents are
//! whatever [`Show::show`] writes at each read, and removes the directory
//! when dropped (debugfs waits for readers in flight, and the file's
//! operations hold the module, so the object outlives every read).

use core::ffi::CStr;
use core::fmt;
use core::marker::PhantomData;

use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::bindings;
use kernel::error::Result;
use kernel::ffi::c_void;

use crate::ksf::ffi::{self, SeqFileRaw};

/// Renders a file's contents.
pub trait Show: Send + Sync + 'static {
    /// Writes the contents; called for each read of the file.
    fn show(&self, out: &mut SeqFile<'_>) -> fmt::Result;
}

/// The output of one read.
pub struct SeqFile<'a> {
    m: *mut SeqFileRaw,
    _p: PhantomData<&'a mut SeqFileRaw>,
}

impl fmt::Write for SeqFile<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // SAFETY: `m` is the seq_file of the read in progress (see
        // `show_entry`); `s` is valid for `s.len()` bytes.
        unsafe { ffi::seq_write(self.m, s.as_ptr().cast(), s.len()) };
        // An overflow is not an error: seq_file retries with more room.
        Ok(())
    }
}

/// `struct ksf_debugfs_entry` followed by the object.
#[repr(C)]
struct Entry<T> {
    show: unsafe extern "C" fn(m: *mut SeqFileRaw, entry: *const c_void),
    obj: T,
}

/// The `show` of every `Entry<T>`: the C side calls it for each read.
///
/// # Safety
///
/// `m` is the `seq_file` of a read in progress and `entry` points to the
/// live `Entry<T>` this function was registered with.
unsafe extern "C" fn show_entry<T: Show>(m: *mut SeqFileRaw, entry: *const c_void) {
    // SAFETY: By the safety requirements, `entry` is the `Entry<T>` that
    // `File::new` registered, alive until `File::drop` has removed the file
    // and waited for readers.
    let entry = unsafe { &*(entry as *const Entry<T>) };
    let _ = entry.obj.show(&mut SeqFile { m, _p: PhantomData });
}

/// A debugfs directory with one file.
///
/// # Invariants
///
/// `dir` is the directory `ksf_debugfs_create` made, holding a file whose
/// private data is `entry`.
pub struct File<T: Show> {
    dir: *mut bindings::dentry,
    entry: KBox<Entry<T>>,
}

// SAFETY: The dentry is only used to remove it; `T` is `Send + Sync`.
unsafe impl<T: Show> Send for File<T> {}
// SAFETY: `&File` gives nothing but `&T`.
unsafe impl<T: Show> Sync for File<T> {}

impl<T: Show> File<T> {
    /// Creates `/sys/kernel/debug/<dir>/<name>` showing `obj`.
    pub fn new(dir: &'static CStr, name: &'static CStr, obj: T) -> Result<File<T>> {
        let mut entry = KBox::new(
            Entry {
                show: show_entry::<T>,
                obj,
            },
            GFP_KERNEL,
        )?;
        let ptr = &mut *entry as *mut Entry<T> as *mut c_void;
        // SAFETY: The names are NUL-terminated; `ptr` stays valid until
        // `drop` removes the directory (the box does not move its heap
        // allocation).
        let d = unsafe { ffi::ksf_debugfs_create(dir.as_ptr().cast(), name.as_ptr().cast(), ptr) };
        let d = ffi::from_err_ptr(d)?.as_ptr();
        // INVARIANT: Created above with `entry`.
        Ok(File { dir: d, entry })
    }

    /// The object shown.
    pub fn obj(&self) -> &T {
        &self.entry.obj
    }
}

impl<T: Show> Drop for File<T> {
    fn drop(&mut self) {
        // SAFETY: `dir` is ours (type invariant); removal waits for reads
        // in flight, after which `entry` may be freed.
        unsafe { ffi::ksf_debugfs_remove(self.dir) };
    }
}
