// SPDX-License-Identifier: GPL-2.0

//! Work items embedded in their owners, and the queue that links them.
//!
//! An object the pool runs embeds a [`TaskLink`] and implements
//! [`Runnable`] and [`HasTask`] (with [`impl_has_task!`]). Queueing an
//! `Arc<T>` moves its reference into the queue through the link: no
//! allocation. The worker recovers the `Arc<T>` from the link and calls
//! [`Runnable::run`], which consumes that reference.
//!
//! A link is in at most one queue at a time: owners guarantee it (ksf's
//! connections queue their task only after winning a flag, so a task is
//! queued or running, never both).

use core::cell::Cell;
use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};

use kernel::bindings;
use kernel::sync::Arc;
use kernel::types::Opaque;

use super::Group;
use crate::ksf::ffi;

/// Something the pool runs.
pub(crate) trait Runnable: Send + Sync + 'static {
    /// Runs the work; the `Arc` is the reference the queue held.
    fn run(self: Arc<Self>);
}

/// The queue link embedded in a [`Runnable`].
pub(crate) struct TaskLink {
    next: Cell<*const TaskLink>,
    queued_ns: Cell<i64>,
    run: unsafe fn(*const TaskLink),
    /// The workqueue backend's work item (`pool::wq`), initialised when
    /// the link is first queued there (`work_ready`).
    work: Opaque<bindings::work_struct>,
    work_ready: AtomicBool,
    /// The group that queued the link on the workqueue.
    group: Cell<*const Group>,
}

// SAFETY: The cells are only touched by the queue, under its lock, or by
// whoever queues an idle link and then by its one run.
unsafe impl Send for TaskLink {}
// SAFETY: As above.
unsafe impl Sync for TaskLink {}

/// Gives the offset of a `T`'s [`TaskLink`].
///
/// # Safety
///
/// `OFFSET` must be the offset of a `TaskLink` field inside `T`.
pub(crate) unsafe trait HasTask: Runnable + Sized {
    const OFFSET: usize;
}

/// Implements [`HasTask`] for a type from the name of its link field.
macro_rules! impl_has_task {
    ($t:ty, $field:ident $(; $($gen:tt)*)?) => {
        // SAFETY: `offset_of!` gives the offset of the named `TaskLink`.
        unsafe impl$(<$($gen)*>)? $crate::ksf::pool::task::HasTask for $t {
            const OFFSET: usize = ::core::mem::offset_of!($t, $field);
        }
    };
}
pub(crate) use impl_has_task;

/// # Safety
///
/// `link` comes from `Arc::into_raw` on the `T` containing it (via
/// [`TaskLink::into_raw`]), and that reference is handed over.
unsafe fn run_link<T: HasTask>(link: *const TaskLink) {
    // SAFETY: `link` is `T::OFFSET` bytes into a `T` (trait contract).
    let obj = unsafe { (link as *const u8).sub(T::OFFSET) } as *const T;
    // SAFETY: The reference was moved into the queue by `into_raw`.
    let arc = unsafe { Arc::from_raw(obj) };
    arc.run();
}

impl TaskLink {
    /// A link for a `T`.
    pub(crate) const fn new<T: HasTask>() -> TaskLink {
        TaskLink {
            next: Cell::new(ptr::null()),
            queued_ns: Cell::new(0),
            run: run_link::<T>,
            work: Opaque::uninit(),
            work_ready: AtomicBool::new(false),
            group: Cell::new(ptr::null()),
        }
    }

    /// Readies `link`'s work item to run `func` for group `g`, stamped
    /// with `now_ns`, and returns it.
    ///
    /// # Safety
    ///
    /// `link` is valid, pinned for as long as it is queued, and in no
    /// queue; its work item is not pending.
    pub(crate) unsafe fn prepare_work(
        link: *const TaskLink,
        g: &Group,
        now_ns: i64,
        func: unsafe extern "C" fn(*mut bindings::work_struct),
    ) -> *mut bindings::work_struct {
        // SAFETY: `link` is valid and idle (caller), so its cells are ours.
        let l = unsafe { &*link };
        let work = l.work.get();
        // Initialised once, at the first queueing: later ones may come
        // while the previous run is still returning, and re-initialising
        // would lose the workqueue's knowledge that it is running.
        if !l.work_ready.load(Ordering::Relaxed) {
            // SAFETY: The work item was never queued, and the link does not
            // move while queued (caller).
            unsafe { ffi::ksf_work_init(work, func) };
            l.work_ready.store(true, Ordering::Relaxed);
        }
        l.group.set(g);
        l.queued_ns.set(now_ns);
        work
    }

    /// The link, group and queueing time of a work item from
    /// [`TaskLink::prepare_work`].
    ///
    /// # Safety
    ///
    /// `work` is the work item of a valid link, queued and now running.
    pub(crate) unsafe fn from_work(
        work: *mut bindings::work_struct,
    ) -> (*const TaskLink, *const Group, i64) {
        let offset = core::mem::offset_of!(TaskLink, work);
        // SAFETY: `work` is `offset` bytes into a `TaskLink` (caller).
        let link = unsafe { (work as *const u8).sub(offset) } as *const TaskLink;
        // SAFETY: `queue_work_on` ordered the cells' stores before the run.
        unsafe { (link, (*link).group.get(), (*link).queued_ns.get()) }
    }

    /// Moves `item`'s reference into a raw link pointer for the queue.
    pub(crate) fn into_raw<T: HasTask>(item: Arc<T>) -> *const TaskLink {
        let obj = Arc::into_raw(item);
        // SAFETY: `T::OFFSET` is within the `T` (trait contract).
        unsafe { (obj as *const u8).add(T::OFFSET) as *const TaskLink }
    }

    /// Runs the item behind `link`, consuming the queue's reference.
    ///
    /// # Safety
    ///
    /// `link` comes from [`TaskLink::into_raw`] and is out of every queue.
    pub(crate) unsafe fn run(link: *const TaskLink) {
        // SAFETY: `link` is valid (caller) and `run` matches its owner.
        unsafe { ((*link).run)(link) }
    }
}

/// A FIFO of links, used under its group's lock.
pub(crate) struct Queue {
    head: *const TaskLink,
    tail: *const TaskLink,
    len: usize,
}

// SAFETY: The queue only holds pointers to `Send + Sync` links.
unsafe impl Send for Queue {}

impl Queue {
    pub(crate) const fn new() -> Queue {
        Queue {
            head: ptr::null(),
            tail: ptr::null(),
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends `link`, stamped with `now_ns`.
    ///
    /// # Safety
    ///
    /// `link` is valid and in no queue until popped.
    pub(crate) unsafe fn push(&mut self, link: *const TaskLink, now_ns: i64) {
        // SAFETY: `link` is valid (caller), and no one else touches an
        // unqueued link's cells.
        unsafe {
            (*link).next.set(ptr::null());
            (*link).queued_ns.set(now_ns);
            if self.tail.is_null() {
                self.head = link;
            } else {
                (*self.tail).next.set(link);
            }
        }
        self.tail = link;
        self.len += 1;
    }

    /// Removes the oldest link, with the time it was queued.
    pub(crate) fn pop(&mut self) -> Option<(*const TaskLink, i64)> {
        if self.head.is_null() {
            return None;
        }
        let link = self.head;
        // SAFETY: Queued links are valid until popped (`push` contract).
        unsafe {
            self.head = (*link).next.get();
            if self.head.is_null() {
                self.tail = ptr::null();
            }
            self.len -= 1;
            Some((link, (*link).queued_ns.get()))
        }
    }

    /// When the oldest link was queued.
    pub(crate) fn oldest_ns(&self) -> Option<i64> {
        // SAFETY: As in `pop`.
        (!self.head.is_null()).then(|| unsafe { (*self.head).queued_ns.get() })
    }
}
