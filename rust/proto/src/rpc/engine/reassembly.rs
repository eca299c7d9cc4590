// SPDX-License-Identifier: GPL-2.0

//! Where a record split across fragments or receives is put back together.
//!
//! The engine owns no memory: its caller lends it a [`Reassembly`] buffer
//! (krpc2 a `KVVec` that it keeps while the connection is busy and frees
//! when the connection waits, the user-space tools a `Vec`, the test cases
//! a [`Fixed`] array). The record-marking limits bound what is ever
//! appended to it by `max_record`.

/// A [`Reassembly`] buffer could not take more bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoMemory;

/// A growable buffer for one record.
pub trait Reassembly {
    /// Appends `bytes` to the record, or fails without changing it when
    /// the memory cannot be had.
    fn append(&mut self, bytes: &[u8]) -> Result<(), NoMemory>;

    /// The bytes appended since the last [`Reassembly::clear`].
    fn bytes(&self) -> &[u8];

    /// Empties the buffer once its record is answered; an implementation
    /// may keep its memory for the next record.
    fn clear(&mut self);

    /// Gives the memory of an empty buffer back: its connection has
    /// nothing left to read for now ([`super::Stream::release`]). Nothing
    /// by default.
    fn release(&mut self) {}
}

/// A [`Reassembly`] buffer of at most `N` bytes, in place (no allocation).
#[derive(Clone, Debug)]
pub struct Fixed<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Fixed<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Fixed {
            buf: [0; N],
            len: 0,
        }
    }
}

impl<const N: usize> Default for Fixed<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Reassembly for Fixed<N> {
    fn append(&mut self, bytes: &[u8]) -> Result<(), NoMemory> {
        let end = self.len.checked_add(bytes.len()).ok_or(NoMemory)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(NoMemory)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

// The user-space tools (cargo feature `alloc`); the kernel modules mount
// this tree without it and lend a `KVVec` of their own.
#[cfg(feature = "alloc")]
extern crate alloc;

#[cfg(feature = "alloc")]
impl Reassembly for alloc::vec::Vec<u8> {
    fn append(&mut self, bytes: &[u8]) -> Result<(), NoMemory> {
        self.extend_from_slice(bytes);
        Ok(())
    }

    fn bytes(&self) -> &[u8] {
        self
    }

    fn clear(&mut self) {
        alloc::vec::Vec::clear(self);
    }
}
