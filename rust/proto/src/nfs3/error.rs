// SPDX-License-Identifier: GPL-2.0

//! Why NFSv3 arguments or results do not decode.

/// Why a message does not decode. A server answers every one of these
/// `GARBAGE_ARGS` (knfsd's `pc_decode` returning false).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The message ends inside a field.
    Truncated,
    /// An `nfs_fh3` of length 0 or over [`super::FHSIZE`] (knfsd's
    /// `svcxdr_decode_nfs_fh3`).
    BadHandleLength {
        /// The length word read.
        len: u32,
    },
    /// A `filename3` that is empty, longer than [`super::MAXNAMLEN`], or
    /// holds a NUL or a `/` (knfsd's `svcxdr_decode_filename3`).
    BadName {
        /// The length word read.
        len: u32,
    },
    /// WRITE's `count` differs from the length of its data (knfsd's
    /// `nfs3svc_decode_writeargs`), or READ's `count` from the length of
    /// the data returned.
    CountMismatch {
        /// The `count` field.
        count: u32,
        /// The data length word.
        len: u32,
    },
    /// A `stable_how` that is none of the three RFC 1813 values.
    BadStableHow {
        /// The value read.
        value: u32,
    },
    /// An XDR `bool` (or the discriminant of an optional value) that is
    /// neither 0 nor 1.
    BadBool {
        /// The value read.
        value: u32,
    },
    /// A MOUNT `dirpath` longer than [`super::mount::MNTPATHLEN`].
    BadPath {
        /// The length word read.
        len: u32,
    },
    /// A MOUNT result listing more than [`super::mount::MAX_FLAVORS`]
    /// credential flavors.
    TooManyFlavors {
        /// The count word read.
        len: u32,
    },
    /// Bytes follow a complete result (results only: like knfsd, the
    /// argument decoders ignore what follows the arguments).
    TrailingBytes,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            DecodeError::Truncated => write!(f, "truncated NFSv3 message"),
            DecodeError::BadHandleLength { len } => {
                write!(f, "file handle of {len} bytes (1 to 64 allowed)")
            }
            DecodeError::BadName { len } => write!(f, "invalid filename of {len} bytes"),
            DecodeError::CountMismatch { count, len } => {
                write!(f, "count {count} with {len} bytes of data")
            }
            DecodeError::BadStableHow { value } => write!(f, "bad stable_how {value}"),
            DecodeError::BadBool { value } => write!(f, "bad XDR bool {value}"),
            DecodeError::BadPath { len } => write!(f, "MOUNT path of {len} bytes (1024 allowed)"),
            DecodeError::TooManyFlavors { len } => write!(f, "{len} credential flavors (12 kept)"),
            DecodeError::TrailingBytes => write!(f, "bytes after the results"),
        }
    }
}
