// SPDX-License-Identifier: GPL-2.0

//! The RPC protocol state of one connection: ksf-proto's engine, the one
//! krpc2 runs, with a `Vec` as its reassembly buffer; with a MOUNT
//! server's procedures for `--proto mount`.

use ksf_proto::nfs3::mount::OneExport;
use ksf_proto::rpc::engine::{Server, Stop, Stream};

/// One TCP connection.
pub struct RpcConn {
    server: Server,
    /// Boxed: a connection without it stays small.
    mount: Option<Box<OneExport>>,
    stream: Stream<Vec<u8>>,
    /// Where the engine writes replies before they join the connection's
    /// output (zeroed once, when it grows, not on every call).
    scratch: Vec<u8>,
}

impl RpcConn {
    pub fn new(server: Server, mount: Option<OneExport>) -> RpcConn {
        RpcConn {
            server,
            mount: mount.map(Box::new),
            stream: Stream::new(&server, Vec::new()),
            scratch: Vec::new(),
        }
    }

    /// Decodes `input`, appending one marked reply per complete call to
    /// `out` while it has room for another below `cap`. Returns the bytes
    /// consumed and whether the connection must close (after what `out`
    /// already holds is sent).
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, cap: usize) -> (usize, bool) {
        let room = cap.saturating_sub(out.len());
        if self.scratch.len() < room {
            self.scratch.resize(room, 0);
        }
        let out_room = &mut self.scratch[..room];
        let fed = match &self.mount {
            Some(m) => self.stream.serve(&self.server, &**m, input, out_room).fed,
            None => self.stream.feed(&self.server, input, out_room),
        };
        out.extend_from_slice(&self.scratch[..fed.written]);
        (fed.consumed, matches!(fed.stop, Stop::Close(_)))
    }
}
