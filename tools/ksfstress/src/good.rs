// SPDX-License-Identifier: GPL-2.0

//! The good client: a well-behaved peer whose every call (or echo) must be
//! answered correctly and in time, whatever the other peers did.

use crate::model::Nfs;
use crate::nfs;
use crate::opts::{Proto, Transport};
use crate::rng::Rng;
use crate::sock;
use crate::wire::{check_null_reply, describe, null_call, record, Cred, RecordReader};
use ksf_proto::nfs3::{
    Ftype3, Getattr3Res, Handle, Lookup3Res, Read3Res, StableHow, Write3Res, GETATTR, KSF_FSID,
    LOOKUP, READ, WRITE,
};
use ksf_proto::rpc::{decode_reply, AcceptStat, ReplyKind};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One good connection. Every operation must finish by its deadline.
pub struct GoodConn {
    s: TcpStream,
    proto: Proto,
    reader: RecordReader,
    records: VecDeque<Vec<u8>>,
    xid: u32,
    rng: Rng,
}

fn remaining(deadline: Instant) -> Result<Duration, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err("timed out".into());
    }
    Ok(left)
}

impl GoodConn {
    /// Connects by `deadline`.
    pub fn open(
        addr: SocketAddr,
        transport: Transport,
        proto: Proto,
        rng: &mut Rng,
        deadline: Instant,
    ) -> Result<GoodConn, String> {
        let s = sock::connect(addr, transport, remaining(deadline)?)
            .map_err(|e| sock::connect_text(&e, addr))?;
        let mut rng = rng.fork();
        Ok(GoodConn {
            s,
            proto,
            reader: RecordReader::new(),
            records: VecDeque::new(),
            xid: rng.u32(),
            rng,
        })
    }

    fn send(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), String> {
        self.s
            .set_write_timeout(Some(remaining(deadline)?))
            .map_err(|e| e.to_string())?;
        self.s.write_all(bytes).map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "send timed out".to_string(),
            _ => format!("send: {}", sock::io_text(&e)),
        })
    }

    /// Reads some bytes by `deadline`; an error at EOF.
    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, String> {
        loop {
            self.s
                .set_read_timeout(Some(remaining(deadline)?))
                .map_err(|e| e.to_string())?;
            match self.s.read(buf) {
                Ok(0) => return Err("the server closed the connection".into()),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err("no answer in time".into())
                }
                Err(e) => return Err(format!("receive: {}", sock::io_text(&e))),
            }
        }
    }

    /// The next reply record.
    fn reply(&mut self, deadline: Instant) -> Result<Vec<u8>, String> {
        let mut buf = [0u8; 4096];
        while self.records.is_empty() {
            let n = self.recv(&mut buf, deadline)?;
            let records = &mut self.records;
            self.reader.feed(&buf[..n], |r| {
                records.push_back(r.to_vec());
                Ok(())
            })?;
        }
        Ok(self.records.pop_front().unwrap_or_default())
    }

    /// Sends `n` calls (echo: messages) in one write and checks every
    /// answer, by `deadline`.
    pub fn calls(&mut self, n: usize, deadline: Instant) -> Result<(), String> {
        match self.proto {
            Proto::Rpc => {
                let first = self.xid;
                let mut out = Vec::new();
                for _ in 0..n {
                    let cred = if self.rng.chance(1, 4) {
                        Cred::Sys
                    } else {
                        Cred::None
                    };
                    out.extend(record(&null_call(self.xid, cred)));
                    self.xid = self.xid.wrapping_add(1);
                }
                self.send(&out, deadline)?;
                for i in 0..n as u32 {
                    let rec = self.reply(deadline)?;
                    check_null_reply(&rec, first.wrapping_add(i))?;
                }
                Ok(())
            }
            Proto::Echo => {
                let mut out = Vec::new();
                for _ in 0..n {
                    let len = self.rng.range(1, 2048);
                    out.extend(self.rng.bytes(len));
                }
                // Small enough to be sent whole before reading.
                for chunk in out.chunks(64 * 1024) {
                    self.send(chunk, deadline)?;
                    self.expect_echo(chunk, deadline)?;
                }
                Ok(())
            }
        }
    }

    fn expect_echo(&mut self, sent: &[u8], deadline: Instant) -> Result<(), String> {
        let mut back = vec![0u8; sent.len()];
        let mut got = 0;
        while got < sent.len() {
            got += self.recv(&mut back[got..], deadline)?;
        }
        match sent.iter().zip(&back).position(|(a, b)| a != b) {
            None => Ok(()),
            Some(i) => Err(format!(
                "echo differs at byte {i}: sent {:#04x}, got {:#04x}",
                sent[i], back[i]
            )),
        }
    }

    /// One NFSv3 call and its results (of a `SUCCESS` reply).
    fn nfs_call(
        &mut self,
        procedure: u32,
        args: &[u8],
        deadline: Instant,
    ) -> Result<Vec<u8>, String> {
        let xid = self.xid;
        self.xid = self.xid.wrapping_add(1);
        self.send(&record(&nfs::call(xid, procedure, args)), deadline)?;
        let rec = self.reply(deadline)?;
        let r = decode_reply(&rec).map_err(|e| format!("malformed reply: {e}"))?;
        match r.kind {
            ReplyKind::Accepted {
                stat: AcceptStat::Success { results },
                ..
            } if r.xid == xid => Ok(results.to_vec()),
            _ => Err(format!(
                "NFSv3 procedure {procedure}, xid {xid:#x}: got {}",
                describe(&r)
            )),
        }
    }

    /// The export's last file: LOOKUP, WRITE of a random pattern, READ
    /// of it back (every byte compared), GETATTR (its size). Other
    /// clients may have written the file before; none writes it now (the
    /// fuzzer spares it).
    pub fn nfs(&mut self, e: &Nfs, deadline: Instant) -> Result<(), String> {
        let file = e.files - 1;
        let root = Handle::root(KSF_FSID).to_bytes();
        let name = format!("file{file}");
        let res = self.nfs_call(LOOKUP, &nfs::lookup_args(&root, name.as_bytes()), deadline)?;
        let fh = match Lookup3Res::decode(&res) {
            Ok(Lookup3Res::Ok(ok)) => ok.object.0.to_vec(),
            other => return Err(format!("LOOKUP {name}: {other:?}")),
        };
        if Handle::parse(&fh) != Some(Handle::file(KSF_FSID, file)) {
            return Err(format!("LOOKUP {name}: handle {fh:02x?}"));
        }
        let most = e.max_io.min(64 * 1024) as usize;
        let len = self.rng.range(1, most.min(e.file_size as usize));
        let offset = self.rng.below(e.file_size - len as u64 + 1);
        let data = self.rng.bytes(len);
        let args = nfs::write_args(&fh, offset, StableHow::FileSync, &data);
        let res = self.nfs_call(WRITE, &args, deadline)?;
        match Write3Res::decode(&res) {
            Ok(Write3Res::Ok(ok))
                if ok.count as usize == len && ok.committed == StableHow::FileSync => {}
            other => return Err(format!("WRITE of {len} bytes at {offset}: {other:?}")),
        }
        let res = self.nfs_call(READ, &nfs::read_args(&fh, offset, len as u32), deadline)?;
        match Read3Res::decode(&res) {
            Ok(Read3Res::Ok { head, data: back }) => {
                let eof = offset + len as u64 == e.file_size;
                if head.count as usize != len || head.eof != eof {
                    return Err(format!("READ of {len} bytes at {offset}: {head:?}"));
                }
                if let Some(i) = data.iter().zip(back).position(|(a, b)| a != b) {
                    return Err(format!(
                        "READ back at {}: wrote {:#04x}, read {:#04x}",
                        offset + i as u64,
                        data[i],
                        back[i]
                    ));
                }
            }
            other => return Err(format!("READ of {len} bytes at {offset}: {other:?}")),
        }
        let res = self.nfs_call(GETATTR, &nfs::getattr_args(&fh), deadline)?;
        match Getattr3Res::decode(&res) {
            Ok(Getattr3Res::Ok(a)) if a.size == e.file_size && a.ftype == Ftype3::REG => Ok(()),
            other => Err(format!("GETATTR {name}: {other:?}")),
        }
    }

    /// One call (echo: one message) and its answer; the round-trip time.
    pub fn round_trip(&mut self, timeout: Duration) -> Result<Duration, String> {
        let start = Instant::now();
        self.calls(1, start + timeout)?;
        Ok(start.elapsed())
    }

    /// Closes the connection at once with a reset (`SO_LINGER` 0).
    pub fn reset(self) {
        sock::reset(self.s);
    }

    /// Sends one call (echo: one message) and reads nothing.
    pub fn send_one(&mut self, deadline: Instant) -> Result<(), String> {
        let msg = match self.proto {
            Proto::Rpc => record(&null_call(self.xid, Cred::None)),
            Proto::Echo => self.rng.bytes(64),
        };
        self.xid = self.xid.wrapping_add(1);
        self.send(&msg, deadline)
    }

    /// Ends the connection: EOF from us, then the server's EOF.
    pub fn close(mut self, deadline: Instant) -> Result<(), String> {
        self.s
            .shutdown(Shutdown::Write)
            .map_err(|e| format!("shutdown: {e}"))?;
        let mut buf = [0u8; 256];
        match self.recv(&mut buf, deadline) {
            Err(e) if e.contains("closed the connection") => Ok(()),
            Err(e) => Err(format!("after the client's EOF: {e}")),
            Ok(n) => Err(format!("{n} unexpected bytes after the last answer")),
        }
    }
}

/// The good-client check: `conns` connections one after the other, each
/// with `calls` calls (half one at a time, half in one write), then, with
/// an export, one connection writing and reading back a file
/// ([`GoodConn::nfs`]), within `timeout` in all. `to`: the server's
/// address and the transport to it.
pub fn check(
    to: (SocketAddr, Transport),
    proto: Proto,
    conns: usize,
    calls: usize,
    export: Option<Nfs>,
    timeout: Duration,
    rng: &mut Rng,
) -> Result<(), String> {
    let (addr, transport) = to;
    let deadline = Instant::now() + timeout;
    let in_time = |r: Result<(), String>| {
        r.map_err(|e| match e.as_str() {
            "timed out" | "no answer in time" | "send timed out" => {
                format!("not served within {} ms", timeout.as_millis())
            }
            _ => e,
        })
    };
    for i in 0..conns {
        let per = calls / conns + usize::from(i < calls % conns);
        let r = (|| {
            let mut c = GoodConn::open(addr, transport, proto, rng, deadline)?;
            for _ in 0..per / 2 {
                c.calls(1, deadline)?;
            }
            c.calls(per - per / 2, deadline)?;
            c.close(deadline)
        })();
        in_time(r).map_err(|e| format!("good client, connection {}: {e}", i + 1))?;
    }
    if let (Some(e), Proto::Rpc) = (export, proto) {
        let r = (|| {
            let mut c = GoodConn::open(addr, transport, proto, rng, deadline)?;
            c.nfs(&e, deadline)?;
            c.close(deadline)
        })();
        in_time(r).map_err(|e| format!("good client, NFSv3: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ksf_proto::nfs3::{Config, Export, Nfstime3, Storage};
    use ksf_proto::rpc::engine::{Server, Stop, Stream};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    const SIZE: usize = 65536;

    /// Files in memory; `lossy` drops every write.
    struct Mem {
        data: Mutex<Vec<u8>>,
        lossy: bool,
    }

    impl Storage for Mem {
        fn read(&self, f: u32, off: u64, out: &mut [u8]) {
            let at = f as usize * SIZE + off as usize;
            out.copy_from_slice(&self.data.lock().unwrap()[at..at + out.len()]);
        }
        fn write(&self, f: u32, off: u64, data: &[u8]) {
            if !self.lossy {
                let at = f as usize * SIZE + off as usize;
                self.data.lock().unwrap()[at..at + data.len()].copy_from_slice(data);
            }
        }
        fn mtime(&self, _f: u32) -> Nfstime3 {
            Nfstime3::default()
        }
    }

    /// A one-thread NFSv3 server of ksf-proto's engine and export, for
    /// `conns` connections; its address.
    fn server(nfs: Nfs, lossy: bool, conns: usize) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let export = Arc::new(Export::new(
            Config {
                verf: *b"12345678",
                ..nfs.config()
            },
            Mem {
                data: Mutex::new(vec![0; nfs.files as usize * SIZE]),
                lossy,
            },
        ));
        std::thread::spawn(move || {
            let server = Server::nfs3(nfs.max_io + 1024);
            for s in l.incoming().take(conns) {
                let mut s = s.unwrap();
                let mut conn = Stream::new(&server, Vec::new());
                let (mut buf, mut out) = (vec![0u8; 1 << 17], vec![0u8; 1 << 17]);
                loop {
                    let n = s.read(&mut buf).unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    let mut input = &buf[..n];
                    loop {
                        let r = conn.serve(&server, &*export, input, &mut out);
                        input = &input[r.fed.consumed..];
                        s.write_all(&out[..r.fed.written]).unwrap();
                        if let Some(p) = r.payload {
                            let mut d = vec![0; p.len as usize + p.pad()];
                            export
                                .storage()
                                .read(p.file, p.offset, &mut d[..p.len as usize]);
                            s.write_all(&d).unwrap();
                        }
                        if matches!(r.fed.stop, Stop::Drained | Stop::Close(_)) {
                            break;
                        }
                    }
                }
            }
        });
        addr
    }

    #[test]
    fn nfs_write_read_back() {
        let nfs = Nfs {
            files: 2,
            file_size: SIZE as u64,
            max_io: 8192,
        };
        let mut rng = Rng::new(4);
        let t = Duration::from_secs(10);
        let addr = server(nfs, false, 6);
        for _ in 0..3 {
            check(
                (addr, Transport::Tcp),
                Proto::Rpc,
                1,
                4,
                Some(nfs),
                t,
                &mut rng,
            )
            .unwrap();
        }
        let addr = server(nfs, true, 2);
        let e = check(
            (addr, Transport::Tcp),
            Proto::Rpc,
            1,
            4,
            Some(nfs),
            t,
            &mut rng,
        )
        .unwrap_err();
        assert!(e.starts_with("good client, NFSv3: READ back at"), "{e}");
    }
}
