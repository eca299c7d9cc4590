// SPDX-License-Identifier: GPL-2.0

//! What both event loops serve: a per-connection [`Session`] that turns
//! received bytes into bytes to send, and the answer to one datagram.

use crate::opts::{Opts, Proto};
use crate::{echo, rpc};
use ksf_proto::nfs3::mount::OneExport;
use ksf_proto::rpc::engine::Server;

/// Output buffered per connection before reading stops (backpressure):
/// about 450 NULL replies for RPC (as krpc2), one 64 KiB read for echo.
const RPC_TX_CAP: usize = 16 * 1024;
const ECHO_TX_CAP: usize = 64 * 1024;

/// The service's configuration, shared (copied) by all threads.
#[derive(Clone, Copy)]
pub struct Service {
    pub proto: Proto,
    server: Server,
    /// `--proto mount`: the export.
    mount: Option<OneExport>,
}

impl Service {
    pub fn new(o: &Opts) -> Service {
        let mount = match o.proto {
            // The options are checked: a path and a handle within bounds.
            Proto::Mount => OneExport::new(o.export.as_bytes(), &o.root_fh),
            _ => None,
        };
        let server = match o.proto {
            Proto::Mount => Server::mount3(o.max_record),
            _ => Server::nfs_null(o.vers_min, o.vers_max, o.max_record),
        };
        Service {
            proto: o.proto,
            server,
            mount,
        }
    }

    /// The state of a new connection.
    pub fn session(&self) -> Session {
        match self.proto {
            Proto::Rpc => Session::Rpc(rpc::RpcConn::new(self.server, None)),
            Proto::Mount => Session::Rpc(rpc::RpcConn::new(self.server, self.mount)),
            Proto::Echo => Session::Echo,
        }
    }

    /// The answer to datagram `input` written to `out`: its length, or
    /// `None` to drop it. One datagram is one RPC record, without a mark.
    pub fn datagram<'a>(&self, input: &'a [u8], out: &'a mut [u8]) -> Option<&'a [u8]> {
        match self.proto {
            Proto::Echo => Some(input),
            Proto::Rpc | Proto::Mount => {
                let n = self.server.datagram(input, out)?;
                out.get(..n)
            }
        }
    }
}

/// One connection's protocol state.
pub enum Session {
    Rpc(rpc::RpcConn),
    Echo,
}

impl Session {
    /// Output buffered before reading stops.
    pub fn cap(&self) -> usize {
        match self {
            Session::Rpc(_) => RPC_TX_CAP,
            Session::Echo => ECHO_TX_CAP,
        }
    }

    /// Consumes what of `input` fits, appending the output to `out`;
    /// returns the bytes consumed and whether to close once `out` is sent.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> (usize, bool) {
        let cap = self.cap();
        match self {
            Session::Rpc(c) => c.feed(input, out, cap),
            Session::Echo => (echo::feed(input, out, cap), false),
        }
    }
}
