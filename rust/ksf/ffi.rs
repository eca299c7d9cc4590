// SPDX-License-Identifier: GPL-2.0

//! C functions ksf calls that the 6.12 bindings lack.
//!
//! Two kinds: the wrappers of `helpers.c` (inline functions and macros of
//! the kernel headers), and functions the kernel exports whose headers are
//! not part of the generated bindings. Every declaration matches its C
//! prototype exactly; callers uphold the C function's own rules.

use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_uint, c_void};

/// The kernel error `code` (a positive errno from the bindings), for the
/// codes `kernel::error::code` of 6.12 lacks.
pub(crate) fn errno(code: u32) -> kernel::error::Error {
    kernel::error::Error::from_errno(-(code as i32))
}

/// Decodes a pointer returned the kernel's `ERR_PTR` way (`IS_ERR()`: the
/// last `MAX_ERRNO` addresses hold an errno); NULL, which no such function
/// returns, is taken as `ENOMEM`.
pub(crate) fn from_err_ptr<T>(p: *mut T) -> kernel::error::Result<core::ptr::NonNull<T>> {
    const MAX_ERRNO: isize = 4095; // include/linux/err.h
    let v = p as isize;
    if (-MAX_ERRNO..0).contains(&v) {
        return Err(kernel::error::Error::from_errno(v as i32));
    }
    core::ptr::NonNull::new(p).ok_or(kernel::error::code::ENOMEM)
}

/// The three socket callbacks ksf replaces (`struct ksf_sk_callbacks`).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct SkCallbacks {
    pub(crate) data_ready: Option<unsafe extern "C" fn(sk: *mut bindings::sock)>,
    pub(crate) write_space: Option<unsafe extern "C" fn(sk: *mut bindings::sock)>,
    pub(crate) state_change: Option<unsafe extern "C" fn(sk: *mut bindings::sock)>,
}

impl SkCallbacks {
    pub(crate) const NONE: SkCallbacks = SkCallbacks {
        data_ready: None,
        write_space: None,
        state_change: None,
    };

    /// The addresses of the three callbacks (0 for none), to compare them.
    pub(crate) fn addrs(&self) -> [usize; 3] {
        [
            self.data_ready.map_or(0, |f| f as usize),
            self.write_space.map_or(0, |f| f as usize),
            self.state_change.map_or(0, |f| f as usize),
        ]
    }
}

/// Part of one page to send (`struct ksf_page_frag`).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct PageFrag {
    pub(crate) page: *mut bindings::page,
    pub(crate) offset: c_uint,
    pub(crate) len: c_uint,
}

/// Most fragments one `ksf_sock_send_pages` call takes
/// (`KSF_MAX_PAGE_FRAGS`).
pub(crate) const MAX_PAGE_FRAGS: usize = 32;

// `struct socket` embeds structs that are empty in this configuration,
// which the lint flags; the generated bindings allow it the same way.
#[allow(improper_ctypes)]
extern "C" {
    // helpers.c
    pub(crate) fn ksf_sk_install(
        sk: *mut bindings::sock,
        user_data: *mut c_void,
        cb: *const SkCallbacks,
        saved: *mut SkCallbacks,
    );
    pub(crate) fn ksf_sk_restore(sk: *mut bindings::sock, saved: *const SkCallbacks);
    pub(crate) fn ksf_sk_callbacks_get(sk: *mut bindings::sock, out: *mut SkCallbacks);
    pub(crate) fn ksf_sk_read_lock(sk: *mut bindings::sock) -> *mut c_void;
    pub(crate) fn ksf_sk_read_unlock(sk: *mut bindings::sock);
    pub(crate) fn ksf_sk_state(sk: *const bindings::sock) -> u8;
    pub(crate) fn ksf_sk_ack_backlog(sk: *const bindings::sock) -> c_uint;
    pub(crate) fn ksf_sk_writeable(sk: *const bindings::sock) -> bool;
    pub(crate) fn ksf_totalram_bytes() -> u64;
    pub(crate) fn ksf_sock_poll(sock: *mut bindings::socket) -> c_uint;
    pub(crate) fn ksf_sock_setsockopt_int(
        sock: *mut bindings::socket,
        level: c_int,
        optname: c_int,
        val: c_int,
    ) -> c_int;
    pub(crate) fn ksf_sock_send_pages(
        sock: *mut bindings::socket,
        frags: *const PageFrag,
        n: c_uint,
        len: usize,
        more: bool,
    ) -> c_int;
    pub(crate) fn ksf_init_net() -> *mut bindings::net;
    pub(crate) fn ksf_spin_lock_bh(lock: *mut bindings::spinlock_t);
    pub(crate) fn ksf_spin_unlock_bh(lock: *mut bindings::spinlock_t);
    pub(crate) fn ksf_cpu() -> c_uint;
    pub(crate) fn ksf_cond_resched();
    pub(crate) fn ksf_sched_batch_current() -> c_int;
    pub(crate) fn ksf_nr_cpu_ids() -> c_uint;
    pub(crate) fn ksf_cpu_online(cpu: c_uint) -> bool;
    pub(crate) fn ksf_cpuhp_setup(
        name: *const c_char,
        online: CpuhpCallback,
        offline: CpuhpCallback,
    ) -> c_int;
    pub(crate) fn ksf_cpuhp_add(state: c_int, node: *mut bindings::hlist_node) -> c_int;
    pub(crate) fn ksf_cpuhp_remove(state: c_int, node: *mut bindings::hlist_node);
    pub(crate) fn ksf_cpuhp_teardown(state: c_int);
    pub(crate) fn ksf_task_bind(p: *mut bindings::task_struct, cpu: c_int) -> c_int;
    pub(crate) fn ksf_task_bound_cpu(p: *mut bindings::task_struct) -> c_int;
    pub(crate) fn ksf_warn(cond: bool, msg: *const c_char) -> bool;
    pub(crate) fn ksf_debugfs_create(
        dir: *const c_char,
        file: *const c_char,
        entry: *mut c_void,
    ) -> *mut bindings::dentry;
    pub(crate) fn ksf_debugfs_remove(d: *mut bindings::dentry);
    pub(crate) fn ksf_wq_alloc(name: *const c_char) -> *mut bindings::workqueue_struct;
    pub(crate) fn ksf_wq_destroy(wq: *mut bindings::workqueue_struct);
    pub(crate) fn ksf_work_init(
        work: *mut bindings::work_struct,
        func: unsafe extern "C" fn(work: *mut bindings::work_struct),
    );
    pub(crate) fn ksf_queue_work_on(
        cpu: c_int,
        wq: *mut bindings::workqueue_struct,
        work: *mut bindings::work_struct,
    ) -> bool;

    // smc.c
    pub(crate) fn ksf_sock_accept_file(
        lsock: *mut bindings::socket,
        newsock: *mut *mut bindings::socket,
        newfile: *mut *mut bindings::file,
    ) -> c_int;
    pub(crate) fn ksf_sock_traffic(
        sock: *mut bindings::socket,
        file: *mut bindings::file,
    ) -> *mut bindings::socket;
    pub(crate) fn ksf_sock_release(sock: *mut bindings::socket, file: *mut bindings::file);
    pub(crate) fn ksf_sock_close_now(sock: *mut bindings::socket);
    pub(crate) fn ksf_smc_mode(sk: *mut bindings::sock, rsn: *mut u32) -> c_int;

    // Exported by the kernel, header not in the bindings.
    pub(crate) fn seq_write(m: *mut SeqFileRaw, data: *const c_void, len: usize) -> c_int;
}

/// A CPU hotplug callback of a multi-instance state.
pub(crate) type CpuhpCallback =
    unsafe extern "C" fn(cpu: c_uint, node: *mut bindings::hlist_node) -> c_int;

/// `struct seq_file`, only ever handled by pointer.
#[repr(C)]
pub(crate) struct SeqFileRaw {
    _opaque: [u8; 0],
}

/// Socket option levels and names (include/uapi/asm-generic/socket.h,
/// include/linux/socket.h, include/uapi/linux/tcp.h, in6.h).
pub(crate) mod sockopt {
    pub(crate) const SOL_SOCKET: i32 = 1;
    pub(crate) const SOL_TCP: i32 = 6;
    pub(crate) const SOL_IPV6: i32 = 41;
    pub(crate) const SO_REUSEADDR: i32 = 2;
    pub(crate) const SO_SNDBUF: i32 = 7;
    pub(crate) const SO_RCVBUF: i32 = 8;
    pub(crate) const SO_REUSEPORT: i32 = 15;
    pub(crate) const TCP_NODELAY: i32 = 1;
    pub(crate) const IPV6_V6ONLY: i32 = 26;
}

/// Protocol numbers (include/uapi/linux/in.h).
pub(crate) const IPPROTO_TCP: i32 = 6;
pub(crate) const IPPROTO_UDP: i32 = 17;

/// The SMC socket family and its protocols (include/linux/socket.h,
/// net/smc/smc.h): the protocol picks the family of SMC's internal TCP
/// socket.
pub(crate) const AF_SMC: i32 = 43;
pub(crate) const SMCPROTO_SMC: i32 = 0;
pub(crate) const SMCPROTO_SMC6: i32 = 1;

/// What `ksf_smc_mode` returns (`KSF_SMC_*` in smc.c).
pub(crate) mod smc_mode {
    pub(crate) const NONE: i32 = 0;
    pub(crate) const SMCD: i32 = 1;
    pub(crate) const SMCR: i32 = 2;
    pub(crate) const FALLBACK: i32 = 3;
}

/// Poll bits (include/uapi/linux/eventpoll.h).
pub(crate) mod poll {
    pub(crate) const EPOLLIN: u32 = 0x0001;
    pub(crate) const EPOLLOUT: u32 = 0x0004;
    pub(crate) const EPOLLERR: u32 = 0x0008;
    pub(crate) const EPOLLHUP: u32 = 0x0010;
    pub(crate) const EPOLLRDHUP: u32 = 0x2000;
}

/// TCP states (include/net/tcp_states.h).
pub(crate) const TCP_LISTEN: u8 = 10;
