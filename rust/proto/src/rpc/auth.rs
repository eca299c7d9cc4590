// SPDX-License-Identifier: GPL-2.0

//! The `AUTH_SYS` credential body (RFC 5531, appendix A).

use super::xdr::{EncodeError, OpaqueError, Reader, Writer, UNIT};
use super::{MAX_GIDS, MAX_MACHINE_NAME};

/// An `AUTH_SYS` credential: the body of an [`super::OpaqueAuth`] whose
/// flavor is [`super::AUTH_SYS`].
///
/// ```text
/// struct authsys_parms {
///     unsigned int stamp;
///     string machinename<255>;
///     unsigned int uid;
///     unsigned int gid;
///     unsigned int gids<16>;
/// };
/// ```
///
/// A client encodes one into a buffer of [`AuthSys::MAX_LEN`] bytes and
/// puts that in [`super::Call::cred`].
///
/// # Examples
///
/// ```
/// use ksf_proto::rpc::{encode_call, AuthSys, Call, OpaqueAuth, AUTH_SYS, NULL_CALL_LEN};
///
/// let cred = AuthSys::new(0, b"client", 1000, 1000, &[1000, 27]).unwrap();
/// let mut body = [0u8; AuthSys::MAX_LEN];
/// let len = cred.encode(&mut body).unwrap();
/// let call = Call {
///     cred: OpaqueAuth { flavor: AUTH_SYS, body: &body[..len] },
///     ..Call::new(1, 100003, 3, 0)
/// };
/// let mut out = [0u8; 512];
/// assert_eq!(encode_call(&mut out, &call), Ok(NULL_CALL_LEN + len));
/// assert_eq!(AuthSys::decode(&body[..len]), Ok(cred));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthSys<'a> {
    /// Arbitrary id the client may generate.
    pub stamp: u32,
    /// The client's host name, at most [`MAX_MACHINE_NAME`] bytes (checked
    /// again when encoding).
    pub machine_name: &'a [u8],
    /// Effective user id.
    pub uid: u32,
    /// Effective group id.
    pub gid: u32,
    /// Supplementary groups; only the first `ngids` are used, the rest
    /// are zero.
    gids: [u32; MAX_GIDS],
    /// At most [`MAX_GIDS`].
    ngids: usize,
}

/// Why an `AUTH_SYS` body did not decode. The order of the checks follows
/// knfsd's `svcauth_unix_accept`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthSysError {
    /// A field runs past the end of the body.
    Truncated,
    /// The machine name is longer than [`MAX_MACHINE_NAME`].
    MachineNameTooLong {
        /// The declared length.
        len: u32,
    },
    /// More than [`MAX_GIDS`] supplementary groups.
    TooManyGids {
        /// The declared count.
        count: u32,
    },
    /// Bytes are left in the body after the last field.
    TrailingBytes,
}

impl<'a> AuthSys<'a> {
    /// Largest encoded body: stamp, a 255-byte name with its length word
    /// and padding, uid, gid and 16 groups with their count.
    pub const MAX_LEN: usize = 5 * UNIT + 256 + MAX_GIDS * UNIT;

    /// A credential, or `None` if `machine_name` or `gids` is over its
    /// bound.
    pub fn new(
        stamp: u32,
        machine_name: &'a [u8],
        uid: u32,
        gid: u32,
        gids: &[u32],
    ) -> Option<AuthSys<'a>> {
        if machine_name.len() > MAX_MACHINE_NAME || gids.len() > MAX_GIDS {
            return None;
        }
        let mut all = [0; MAX_GIDS];
        all.get_mut(..gids.len())?.copy_from_slice(gids);
        Some(AuthSys {
            stamp,
            machine_name,
            uid,
            gid,
            gids: all,
            ngids: gids.len(),
        })
    }

    /// The supplementary groups.
    pub fn gids(&self) -> &[u32] {
        self.gids.get(..self.ngids).unwrap_or(&self.gids)
    }

    /// Parses a credential body. The whole body must be used.
    pub fn decode(body: &'a [u8]) -> Result<AuthSys<'a>, AuthSysError> {
        let mut r = Reader::new(body);
        let stamp = r.u32().ok_or(AuthSysError::Truncated)?;
        let machine_name = r.opaque(MAX_MACHINE_NAME).map_err(|e| match e {
            OpaqueError::Truncated => AuthSysError::Truncated,
            OpaqueError::TooLong { len } => AuthSysError::MachineNameTooLong { len },
        })?;
        let uid = r.u32().ok_or(AuthSysError::Truncated)?;
        let gid = r.u32().ok_or(AuthSysError::Truncated)?;
        let count = r.u32().ok_or(AuthSysError::Truncated)?;
        let ngids = match usize::try_from(count) {
            Ok(n) if n <= MAX_GIDS => n,
            _ => return Err(AuthSysError::TooManyGids { count }),
        };
        let mut gids = [0; MAX_GIDS];
        for g in gids.iter_mut().take(ngids) {
            *g = r.u32().ok_or(AuthSysError::Truncated)?;
        }
        if r.remaining() != 0 {
            return Err(AuthSysError::TrailingBytes);
        }
        Ok(AuthSys {
            stamp,
            machine_name,
            uid,
            gid,
            gids,
            ngids,
        })
    }

    /// Writes the body into `out` and returns its length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        w.u32(self.stamp);
        w.opaque(self.machine_name, MAX_MACHINE_NAME)?;
        w.u32(self.uid);
        w.u32(self.gid);
        let gids = self.gids();
        // At most MAX_GIDS.
        w.u32(gids.len() as u32);
        for &g in gids {
            w.u32(g);
        }
        w.finish()
    }
}
