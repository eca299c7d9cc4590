// SPDX-License-Identifier: GPL-2.0

//! The XDR primitives RPC needs (RFC 4506): big-endian 32-bit words and
//! opaque data padded to a multiple of four bytes.
//!
//! [`Reader`] reads from a byte slice and returns `None` (or an error)
//! instead of reading past its end. [`Writer`] writes into a byte slice and,
//! when the slice is too small, keeps counting so that [`Writer::finish`]
//! can report the size that was needed.

/// Size of an XDR unit, in bytes.
pub const UNIT: usize = 4;

/// `len` rounded up to a multiple of [`UNIT`], or `None` on overflow.
pub const fn padded_len(len: usize) -> Option<usize> {
    match len.checked_add(UNIT - 1) {
        Some(n) => Some(n & !(UNIT - 1)),
        None => None,
    }
}

/// Why an encoder wrote nothing usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The output buffer is too small; the message needs `need` bytes.
    BufferTooSmall {
        /// Bytes the whole message needs (`usize::MAX` if it overflows).
        need: usize,
    },
    /// A variable-length field is longer than its XDR bound.
    TooLong {
        /// The field's length.
        len: usize,
        /// Its bound.
        max: usize,
    },
}

impl core::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EncodeError::BufferTooSmall { need } => {
                write!(f, "output buffer too small ({need} bytes needed)")
            }
            EncodeError::TooLong { len, max } => {
                write!(f, "field of {len} bytes exceeds its {max}-byte bound")
            }
        }
    }
}

/// Why [`Reader::opaque`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpaqueError {
    /// The length word, the data or its padding runs past the input.
    Truncated,
    /// The length word exceeds the bound (checked before anything else).
    TooLong {
        /// The length read.
        len: u32,
    },
}

/// A bounds-checked XDR reader over a byte slice.
///
/// A read that fails leaves the position unchanged.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub const fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Bytes read so far.
    pub const fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left to read.
    pub const fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Reads one big-endian 32-bit word.
    pub fn u32(&mut self) -> Option<u32> {
        let end = self.pos.checked_add(UNIT)?;
        let word: [u8; UNIT] = self.buf.get(self.pos..end)?.try_into().ok()?;
        self.pos = end;
        Some(u32::from_be_bytes(word))
    }

    /// Reads one big-endian 64-bit word (XDR `hyper`), two units.
    pub fn u64(&mut self) -> Option<u64> {
        let end = self.pos.checked_add(2 * UNIT)?;
        let word: [u8; 2 * UNIT] = self.buf.get(self.pos..end)?.try_into().ok()?;
        self.pos = end;
        Some(u64::from_be_bytes(word))
    }

    /// Reads `len` bytes of fixed-length opaque data and skips their
    /// padding (which is not checked). Returns the data without padding.
    pub fn fixed(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(padded_len(len)?)?;
        let data = self.buf.get(self.pos..end)?.get(..len)?;
        self.pos = end;
        Some(data)
    }

    /// Reads variable-length opaque data of at most `max` bytes: a length
    /// word, the data and its padding.
    pub fn opaque(&mut self, max: usize) -> Result<&'a [u8], OpaqueError> {
        let start = self.pos;
        let len = self.u32().ok_or(OpaqueError::Truncated)?;
        let data = match usize::try_from(len) {
            Ok(n) if n <= max => self.fixed(n).ok_or(OpaqueError::Truncated),
            _ => Err(OpaqueError::TooLong { len }),
        };
        if data.is_err() {
            self.pos = start;
        }
        data
    }

    /// Reads everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        rest
    }
}

/// An XDR writer into a caller buffer that never writes past its end.
///
/// Once a write does not fit, nothing more is written but the length keeps
/// growing, so [`Writer::finish`] reports the size the message needs.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    /// Bytes the message needs so far (`usize::MAX` after an overflow).
    len: usize,
}

impl<'a> Writer<'a> {
    /// A writer at the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Writer<'a> {
        Writer { buf, len: 0 }
    }

    /// Bytes written (or needed) so far.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written yet.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `bytes` as they are (no padding).
    pub fn bytes(&mut self, bytes: &[u8]) {
        let Some(end) = self.len.checked_add(bytes.len()) else {
            self.len = usize::MAX;
            return;
        };
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
        }
        self.len = end;
    }

    /// Appends one big-endian 32-bit word.
    pub fn u32(&mut self, value: u32) {
        self.bytes(&value.to_be_bytes());
    }

    /// Appends one big-endian 64-bit word (XDR `hyper`).
    pub fn u64(&mut self, value: u64) {
        self.bytes(&value.to_be_bytes());
    }

    /// Appends fixed-length opaque data followed by zero padding.
    pub fn fixed(&mut self, data: &[u8]) {
        self.bytes(data);
        let pad = padded_len(data.len()).map_or(0, |p| p - data.len());
        self.bytes([0u8; UNIT].get(..pad).unwrap_or(&[]));
    }

    /// Appends variable-length opaque data of at most `max` bytes: a length
    /// word, the data and its padding. Writes nothing if it is too long.
    pub fn opaque(&mut self, data: &[u8], max: usize) -> Result<(), EncodeError> {
        let len = match u32::try_from(data.len()) {
            Ok(len) if data.len() <= max => len,
            _ => {
                return Err(EncodeError::TooLong {
                    len: data.len(),
                    max,
                })
            }
        };
        self.u32(len);
        self.fixed(data);
        Ok(())
    }

    /// The message length, or [`EncodeError::BufferTooSmall`] if it did not
    /// fit (in which case the buffer holds a partial message).
    pub fn finish(self) -> Result<usize, EncodeError> {
        if self.len <= self.buf.len() {
            Ok(self.len)
        } else {
            Err(EncodeError::BufferTooSmall { need: self.len })
        }
    }
}
