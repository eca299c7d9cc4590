// SPDX-License-Identifier: GPL-2.0

//! ONC RPC record marking (RFC 5531, section 11).
//!
//! On a stream transport every RPC message is a *record*, sent as one or
//! more *fragments*. Each fragment starts with a 4-byte big-endian mark: bit
//! 31 set on the last fragment of the record, bits 0-30 the fragment length.
//!
//! [`Decoder`] parses a byte stream incrementally. It never trusts a length:
//! a mark is checked against the [`Limits`] before any of its payload is
//! accepted, and it holds no buffer of its own, so the caller decides where
//! payload goes. When a whole record arrives as a single fragment in one
//! input slice the payload is handed back as a range of that slice and can
//! be used in place, without a copy.

use core::ops::Range;

#[cfg(any(test, KSF_KUNIT))]
pub mod cases;

/// Size of a record mark.
pub const MARK_LEN: usize = 4;
/// The last-fragment bit of a mark.
pub const LAST_FRAGMENT: u32 = 1 << 31;
/// The largest length a single fragment can declare.
pub const MAX_FRAGMENT_LEN: u32 = LAST_FRAGMENT - 1;

/// A decoded record mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// Length of the fragment that follows the mark, in bytes.
    pub len: u32,
    /// Whether this is the last fragment of its record.
    pub last: bool,
}

impl Mark {
    /// A mark for a fragment of `len` bytes, or `None` if `len` does not fit
    /// in 31 bits.
    pub const fn new(len: usize, last: bool) -> Option<Mark> {
        if len > MAX_FRAGMENT_LEN as usize {
            return None;
        }
        Some(Mark {
            len: len as u32,
            last,
        })
    }

    /// The mark's wire form.
    pub const fn encode(self) -> [u8; MARK_LEN] {
        let word = if self.last {
            self.len | LAST_FRAGMENT
        } else {
            self.len
        };
        word.to_be_bytes()
    }

    /// Parses a mark's wire form. Every 32-bit value is a valid mark.
    pub const fn decode(bytes: [u8; MARK_LEN]) -> Mark {
        let word = u32::from_be_bytes(bytes);
        Mark {
            len: word & MAX_FRAGMENT_LEN,
            last: word & LAST_FRAGMENT != 0,
        }
    }
}

/// Bounds a [`Decoder`] enforces on every record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest record, summed over its fragments, in bytes.
    pub max_record: u32,
    /// Most fragments in one record, zero-length ones included.
    pub max_fragments: u32,
}

impl Limits {
    /// Defaults suited to an RPC server: 1 MiB records of up to 64 fragments.
    pub const DEFAULT: Limits = Limits {
        max_record: 1 << 20,
        max_fragments: 64,
    };

    /// Limits with the given maximum record size and fragment count, or
    /// `None` if either is zero.
    pub const fn new(max_record: u32, max_fragments: u32) -> Option<Limits> {
        if max_record == 0 || max_fragments == 0 {
            return None;
        }
        Some(Limits {
            max_record,
            max_fragments,
        })
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Why a stream was rejected. Once a [`Decoder`] has failed it keeps
/// returning the same error: the stream has no recoverable framing left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A mark would take the record past `max_record` bytes.
    RecordTooLarge {
        /// The record length the mark asked for.
        len: u64,
        /// The limit.
        max: u32,
    },
    /// A record has more than `max_fragments` fragments.
    TooManyFragments {
        /// The limit.
        max: u32,
    },
    /// A record ended with no payload at all.
    EmptyRecord,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::RecordTooLarge { len, max } => {
                write!(f, "record of {len} bytes exceeds the {max}-byte limit")
            }
            Error::TooManyFragments { max } => write!(f, "record has more than {max} fragments"),
            Error::EmptyRecord => write!(f, "empty record"),
        }
    }
}

/// The outcome of one [`Decoder::decode`] call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Bytes of the input used; the next call starts after them.
    pub consumed: usize,
    /// Record payload found in the input (a range of it, within
    /// `..consumed`; may be empty).
    pub payload: Range<usize>,
    /// The record is complete with this step's payload.
    pub end_of_record: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading a mark; `have` of its bytes are in `mark`.
    Mark {
        have: u8,
    },
    /// Inside a fragment with `remaining` payload bytes to go.
    Body {
        remaining: u32,
        last: bool,
    },
    Failed(Error),
}

/// An incremental record-marking decoder.
///
/// # Examples
///
/// ```
/// use ksf_proto::rm::{Decoder, Limits, Mark};
///
/// let mut wire = [0u8; 9];
/// wire[..4].copy_from_slice(&Mark::new(5, true).unwrap().encode());
/// wire[4..].copy_from_slice(b"hello");
///
/// let mut dec = Decoder::new(Limits::DEFAULT);
/// let step = dec.decode(&wire).unwrap();
/// assert_eq!(&wire[step.payload], b"hello");
/// assert!(step.end_of_record);
/// assert_eq!(step.consumed, 9);
/// ```
#[derive(Clone, Debug)]
pub struct Decoder {
    limits: Limits,
    state: State,
    mark: [u8; MARK_LEN],
    /// Payload bytes of the current record accepted so far (marks
    /// included in the check, so never above `limits.max_record`).
    record_len: u32,
    /// Fragments of the current record begun so far.
    fragments: u32,
}

impl Decoder {
    /// A decoder at the start of a stream.
    pub const fn new(limits: Limits) -> Decoder {
        Decoder {
            limits,
            state: State::Mark { have: 0 },
            mark: [0; MARK_LEN],
            record_len: 0,
            fragments: 0,
        }
    }

    /// The limits this decoder enforces.
    pub const fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether the decoder is between records (no partial record pending).
    pub const fn at_record_boundary(&self) -> bool {
        matches!(self.state, State::Mark { have: 0 }) && self.fragments == 0
    }

    /// Payload bytes of the current, unfinished record declared so far by
    /// its marks (what a reassembly buffer must be able to hold).
    pub const fn declared_len(&self) -> u32 {
        self.record_len
    }

    /// Bytes of the current fragment's body still to come, or `None`
    /// between fragments (a reader that takes one record at a time asks
    /// for no more than this).
    ///
    /// ```
    /// use ksf_proto::rm::{Decoder, Limits, Mark};
    ///
    /// let mut dec = Decoder::new(Limits::DEFAULT);
    /// assert_eq!((dec.mark_left(), dec.fragment_left()), (4, None));
    /// let mark = Mark::new(5, true).unwrap().encode();
    /// dec.decode(&mark[..3]).unwrap();
    /// assert_eq!((dec.mark_left(), dec.fragment_left()), (1, None));
    /// dec.decode(&[mark[3], b'h', b'e']).unwrap();
    /// assert_eq!((dec.mark_left(), dec.fragment_left()), (0, Some(3)));
    /// ```
    pub const fn fragment_left(&self) -> Option<usize> {
        match self.state {
            State::Body { remaining, .. } => Some(remaining as usize),
            _ => None,
        }
    }

    /// Bytes of the next fragment's mark still to come (0 within a body).
    pub const fn mark_left(&self) -> usize {
        match self.state {
            State::Mark { have } => MARK_LEN - have as usize,
            _ => 0,
        }
    }

    /// Parses the front of `input`.
    ///
    /// Returns after the first payload run, at the end of a record, or when
    /// the input is used up, whichever comes first. Call again with
    /// `&input[step.consumed..]` until the input is used up.
    pub fn decode(&mut self, input: &[u8]) -> Result<Step, Error> {
        let mut pos = 0;
        loop {
            match self.state {
                State::Failed(e) => return Err(e),
                State::Mark { have } => {
                    let want = MARK_LEN - have as usize;
                    let take = want.min(input.len() - pos);
                    let have = have as usize;
                    self.mark[have..have + take].copy_from_slice(&input[pos..pos + take]);
                    pos += take;
                    if take < want {
                        self.state = State::Mark {
                            have: (have + take) as u8,
                        };
                        return Ok(Step {
                            consumed: pos,
                            payload: pos..pos,
                            end_of_record: false,
                        });
                    }
                    self.begin_fragment(Mark::decode(self.mark))?;
                }
                State::Body { remaining, last } => {
                    let take = (remaining as usize).min(input.len() - pos);
                    let payload = pos..pos + take;
                    pos += take;
                    let remaining = remaining - take as u32;
                    let end_of_record = remaining == 0 && last;
                    if remaining > 0 {
                        self.state = State::Body { remaining, last };
                    } else {
                        self.state = State::Mark { have: 0 };
                        if end_of_record {
                            self.record_len = 0;
                            self.fragments = 0;
                        }
                    }
                    if take > 0 || end_of_record || pos == input.len() {
                        return Ok(Step {
                            consumed: pos,
                            payload,
                            end_of_record,
                        });
                    }
                }
            }
        }
    }

    fn begin_fragment(&mut self, mark: Mark) -> Result<(), Error> {
        let len = u64::from(self.record_len) + u64::from(mark.len);
        let err = if self.fragments >= self.limits.max_fragments {
            Some(Error::TooManyFragments {
                max: self.limits.max_fragments,
            })
        } else if len > u64::from(self.limits.max_record) {
            Some(Error::RecordTooLarge {
                len,
                max: self.limits.max_record,
            })
        } else if len == 0 && mark.last {
            Some(Error::EmptyRecord)
        } else {
            None
        };
        if let Some(e) = err {
            self.state = State::Failed(e);
            return Err(e);
        }
        // `len` is at most `max_record`, a `u32`.
        self.record_len = len as u32;
        self.fragments += 1;
        self.state = State::Body {
            remaining: mark.len,
            last: mark.last,
        };
        Ok(())
    }
}

/// Splits a message of `len` bytes into fragments of at most `max_fragment`
/// bytes (at least 1), yielding each fragment's mark and its range of the
/// message. A zero-length message yields nothing (it is not a valid record).
pub fn fragments(len: usize, max_fragment: u32) -> Fragments {
    let max = (max_fragment.clamp(1, MAX_FRAGMENT_LEN)) as usize;
    Fragments { len, max, pos: 0 }
}

/// Iterator returned by [`fragments`].
#[derive(Clone, Debug)]
pub struct Fragments {
    len: usize,
    max: usize,
    pos: usize,
}

impl Iterator for Fragments {
    type Item = (Mark, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.len {
            return None;
        }
        let take = self.max.min(self.len - self.pos);
        let range = self.pos..self.pos + take;
        self.pos += take;
        // `take` is at most `max`, which fits in 31 bits.
        let mark = Mark {
            len: take as u32,
            last: self.pos == self.len,
        };
        Some((mark, range))
    }
}
