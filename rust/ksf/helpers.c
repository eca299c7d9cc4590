// SPDX-License-Identifier: GPL-2.0
/*
 * ksf C helpers: the inline functions and macros of Linux 6.12 that Rust
 * code cannot call, each wrapped as a plain function. No logic lives here;
 * rust/ksf/ffi.rs declares them. Each module that uses ksf links this file
 * in through a one-line ksf_helpers.c of its own.
 */

#include <linux/bug.h>
#include <linux/bvec.h>
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/mm.h>
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/socket.h>
#include <linux/sockptr.h>
#include <linux/uio.h>
#include <linux/spinlock.h>
#include <linux/udp.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <uapi/linux/sched/types.h>

#include "helpers.h"
#include "params.h"

/* A module without parameters of its own (see params.h) has none. */
__weak const struct ksf_param ksf_params[] = { { NULL, NULL, NULL } };

/* Layout shared with `ffi::SkCallbacks`. */
struct ksf_sk_callbacks {
	void (*data_ready)(struct sock *sk);
	void (*write_space)(struct sock *sk);
	void (*state_change)(struct sock *sk);
};

/*
 * Install @cb and @user_data on @sk, saving the previous callbacks in
 * @saved. SK_USER_DATA_NOCOPY keeps sockets accepted from a listener from
 * inheriting the listener's user data; they still inherit its callbacks
 * (ours) until ksf_sk_restore() puts the listener's saved ones on them
 * right after kernel_accept().
 */
void ksf_sk_install(struct sock *sk, void *user_data,
		    const struct ksf_sk_callbacks *cb,
		    struct ksf_sk_callbacks *saved)
{
	write_lock_bh(&sk->sk_callback_lock);
	saved->data_ready = sk->sk_data_ready;
	saved->write_space = sk->sk_write_space;
	saved->state_change = sk->sk_state_change;
	__rcu_assign_sk_user_data_with_flags(sk, user_data, SK_USER_DATA_NOCOPY);
	sk->sk_data_ready = cb->data_ready;
	sk->sk_write_space = cb->write_space;
	sk->sk_state_change = cb->state_change;
	write_unlock_bh(&sk->sk_callback_lock);
}

/*
 * Put back the callbacks saved by ksf_sk_install() and clear the user data;
 * also gives a socket accepted from a hooked listener the listener's
 * original callbacks (as svc_tcp_accept() does).
 */
void ksf_sk_restore(struct sock *sk, const struct ksf_sk_callbacks *saved)
{
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_data_ready = saved->data_ready;
	sk->sk_write_space = saved->write_space;
	sk->sk_state_change = saved->state_change;
	rcu_assign_pointer(__sk_user_data(sk), NULL);
	write_unlock_bh(&sk->sk_callback_lock);
}

/* The callbacks @sk has now (for tests). */
void ksf_sk_callbacks_get(struct sock *sk, struct ksf_sk_callbacks *out)
{
	read_lock_bh(&sk->sk_callback_lock);
	out->data_ready = sk->sk_data_ready;
	out->write_space = sk->sk_write_space;
	out->state_change = sk->sk_state_change;
	read_unlock_bh(&sk->sk_callback_lock);
}

/* Take the callback lock for reading and return the user data (or NULL). */
void *ksf_sk_read_lock(struct sock *sk)
{
	read_lock_bh(&sk->sk_callback_lock);
	return (void *)((uintptr_t)rcu_dereference_raw(__sk_user_data(sk)) &
			SK_USER_DATA_PTRMASK);
}

void ksf_sk_read_unlock(struct sock *sk)
{
	read_unlock_bh(&sk->sk_callback_lock);
}

unsigned char ksf_sk_state(const struct sock *sk)
{
	return READ_ONCE(sk->sk_state);
}

/* Connections waiting in a listener's accept queue. */
unsigned int ksf_sk_ack_backlog(const struct sock *sk)
{
	return READ_ONCE(sk->sk_ack_backlog);
}

/* Whether a send would make progress, as poll() tells EPOLLOUT. */
bool ksf_sk_writeable(const struct sock *sk)
{
	if (sk->sk_family == PF_SMC)
		return ksf_smc_writeable(sk);
	if (sk->sk_type == SOCK_STREAM)
		return __sk_stream_is_writeable(sk, 1);
	return sock_writeable(sk);
}

u64 ksf_totalram_bytes(void)
{
	return (u64)totalram_pages() << PAGE_SHIFT;
}

/*
 * The socket's poll mask without a file or a wait table. tcp_poll() never
 * looks at the file, but udp_poll() does (its checksum false-positive
 * check), so UDP takes datagram_poll() plus udp_poll()'s reader queue.
 */
unsigned int ksf_sock_poll(struct socket *sock)
{
	struct sock *sk = sock->sk;
	__poll_t mask;

	if (sk->sk_type == SOCK_DGRAM && sk->sk_protocol == IPPROTO_UDP) {
		mask = datagram_poll(NULL, sock, NULL);
		if (!skb_queue_empty_lockless(&udp_sk(sk)->reader_queue))
			mask |= EPOLLIN | EPOLLRDNORM;
		return (__force unsigned int)mask;
	}
	return (__force unsigned int)sock->ops->poll(NULL, sock, NULL);
}

int ksf_sock_setsockopt_int(struct socket *sock, int level, int optname,
			    int val)
{
	sockptr_t p = KERNEL_SOCKPTR(&val);

	if (level == SOL_SOCKET)
		return sock_setsockopt(sock, level, optname, p, sizeof(val));
	return sock->ops->setsockopt(sock, level, optname, p, sizeof(val));
}

/* Layout shared with `ffi::PageFrag`: part of one page. */
struct ksf_page_frag {
	struct page *page;
	unsigned int offset;
	unsigned int len;
};

/* Most fragments one ksf_sock_send_pages() call takes (`ffi::MAX_PAGE_FRAGS`). */
#define KSF_MAX_PAGE_FRAGS 32

/*
 * Send @n page fragments of @frags (@len bytes in all) without copying
 * them: MSG_SPLICE_PAGES makes TCP take its own reference on each page
 * (skb_splice_from_iter(), which wants sendpage_ok() pages: not slab, a
 * reference held) and send the data from it; a socket without
 * scatter-gather copies instead. @more: more data follows at once
 * (MSG_MORE), so TCP keeps a last partial segment for it. Never blocks:
 * the bytes queued (maybe fewer than @len), or -EAGAIN when none could be,
 * as kernel_sendmsg().
 */
int ksf_sock_send_pages(struct socket *sock, const struct ksf_page_frag *frags,
			unsigned int n, size_t len, bool more)
{
	struct bio_vec bvec[KSF_MAX_PAGE_FRAGS];
	struct msghdr msg = {
		.msg_flags = MSG_SPLICE_PAGES | MSG_DONTWAIT | MSG_NOSIGNAL |
			     (more ? MSG_MORE : 0),
	};
	unsigned int i;

	if (n > KSF_MAX_PAGE_FRAGS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (WARN_ON_ONCE(!sendpage_ok(frags[i].page)))
			return -EINVAL;
		bvec_set_page(&bvec[i], frags[i].page, frags[i].len, frags[i].offset);
	}
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bvec, n, len);
	return sock_sendmsg(sock, &msg);
}

struct net *ksf_init_net(void)
{
	return &init_net;
}

void ksf_spin_lock_bh(spinlock_t *lock)
{
	spin_lock_bh(lock);
}

void ksf_spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock_bh(lock);
}

unsigned int ksf_cpu(void)
{
	return raw_smp_processor_id();
}

/*
 * cond_resched() is a macro (and a static call with PREEMPT_DYNAMIC):
 * Rust reaches it through here.
 */
void ksf_cond_resched(void)
{
	cond_resched();
}

/*
 * Makes the calling thread SCHED_BATCH: a fair-class thread like any
 * other, whose wake-up does not preempt the thread running on its CPU
 * (check_preempt_wakeup_fair()).
 */
int ksf_sched_batch_current(void)
{
	struct sched_attr attr = { .sched_policy = SCHED_BATCH };

	return sched_setattr_nocheck(current, &attr);
}

unsigned int ksf_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

bool ksf_cpu_online(unsigned int cpu)
{
	return cpu < nr_cpu_ids && cpu_online(cpu);
}

/*
 * CPU hotplug for the pool (rust/ksf/pool/hotplug.rs): a dynamic,
 * multi-instance state in the CPUHP_AP_ONLINE_DYN range, whose callbacks
 * run on the CPU coming up or going down and get the instance's node.
 */
int ksf_cpuhp_setup(const char *name,
		    int (*online)(unsigned int cpu, struct hlist_node *node),
		    int (*offline)(unsigned int cpu, struct hlist_node *node))
{
	return cpuhp_setup_state_multi(CPUHP_AP_ONLINE_DYN, name, online, offline);
}

/* Adds an instance, calling its online callback for every online CPU. */
int ksf_cpuhp_add(int state, struct hlist_node *node)
{
	return cpuhp_state_add_instance(state, node);
}

/* Removes an instance without calling its callbacks. */
void ksf_cpuhp_remove(int state, struct hlist_node *node)
{
	cpuhp_state_remove_instance_nocalls(state, node);
}

void ksf_cpuhp_teardown(int state)
{
	cpuhp_remove_multi_state(state);
}

/* Binds @p to @cpu, or lets it run on any CPU if @cpu is negative. */
int ksf_task_bind(struct task_struct *p, int cpu)
{
	return set_cpus_allowed_ptr(p, cpu < 0 ? cpu_possible_mask : cpumask_of(cpu));
}

/* The one CPU @p may run on, or -1 if it may run on several. */
int ksf_task_bound_cpu(struct task_struct *p)
{
	return p->nr_cpus_allowed == 1 ? (int)cpumask_first(p->cpus_ptr) : -1;
}

/* WARN() with a message from Rust; true if @cond. */
bool ksf_warn(bool cond, const char *msg)
{
	return WARN(cond, "ksf: %s\n", msg);
}

/*
 * A read-only debugfs file whose contents Rust renders: @entry starts with
 * a struct ksf_debugfs_entry, whose show() gets the seq_file and @entry.
 */
struct ksf_debugfs_entry {
	void (*show)(struct seq_file *m, const void *entry);
};

static int ksf_debugfs_show(struct seq_file *m, void *v)
{
	const struct ksf_debugfs_entry *e = m->private;

	e->show(m, e);
	return 0;
}

static int ksf_debugfs_open(struct inode *inode, struct file *file)
{
	return single_open(file, ksf_debugfs_show, inode->i_private);
}

static const struct file_operations ksf_debugfs_fops = {
	.owner = THIS_MODULE,
	.open = ksf_debugfs_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

/* Create /sys/kernel/debug/@dir/@file; returns the directory or an ERR_PTR. */
struct dentry *ksf_debugfs_create(const char *dir, const char *file,
				  void *entry)
{
	struct dentry *d = debugfs_create_dir(dir, NULL);

	if (!IS_ERR(d))
		debugfs_create_file(file, 0444, d, entry, &ksf_debugfs_fops);
	return d;
}

/* Remove the directory; waits for readers of its files to finish. */
void ksf_debugfs_remove(struct dentry *d)
{
	debugfs_remove(d);
}

/*
 * The pool's workqueue backend (rust/ksf/pool/wq.rs): a per-CPU,
 * concurrency-managed workqueue, as the in-kernel servers use.
 */
struct workqueue_struct *ksf_wq_alloc(const char *name)
{
	return alloc_workqueue("%s", 0, 0, name);
}

void ksf_wq_destroy(struct workqueue_struct *wq)
{
	destroy_workqueue(wq);
}

void ksf_work_init(struct work_struct *work, work_func_t fn)
{
	INIT_WORK(work, fn);
}

bool ksf_queue_work_on(int cpu, struct workqueue_struct *wq, struct work_struct *work)
{
	return queue_work_on(cpu, wq, work);
}

#include "smc.c"
