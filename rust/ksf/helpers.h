/* SPDX-License-Identifier: GPL-2.0 */
/* Prototypes of helpers.c, declared in Rust by rust/ksf/ffi.rs. */
#ifndef KSF_HELPERS_H
#define KSF_HELPERS_H

#include <linux/net.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/sock.h>

struct ksf_sk_callbacks;
struct ksf_page_frag;

void ksf_sk_install(struct sock *sk, void *user_data, const struct ksf_sk_callbacks *cb,
		    struct ksf_sk_callbacks *saved);
void ksf_sk_restore(struct sock *sk, const struct ksf_sk_callbacks *saved);
void ksf_sk_callbacks_get(struct sock *sk, struct ksf_sk_callbacks *out);
void *ksf_sk_read_lock(struct sock *sk);
void ksf_sk_read_unlock(struct sock *sk);
unsigned char ksf_sk_state(const struct sock *sk);
unsigned int ksf_sk_ack_backlog(const struct sock *sk);
bool ksf_sk_writeable(const struct sock *sk);
u64 ksf_totalram_bytes(void);
unsigned int ksf_sock_poll(struct socket *sock);
int ksf_sock_setsockopt_int(struct socket *sock, int level, int optname, int val);
int ksf_sock_send_pages(struct socket *sock, const struct ksf_page_frag *frags,
			unsigned int n, size_t len, bool more);
struct net *ksf_init_net(void);
void ksf_spin_lock_bh(spinlock_t *lock);
void ksf_spin_unlock_bh(spinlock_t *lock);
unsigned int ksf_cpu(void);
void ksf_cond_resched(void);
int ksf_sched_batch_current(void);
unsigned int ksf_nr_cpu_ids(void);
bool ksf_cpu_online(unsigned int cpu);
int ksf_cpuhp_setup(const char *name,
		    int (*online)(unsigned int cpu, struct hlist_node *node),
		    int (*offline)(unsigned int cpu, struct hlist_node *node));
int ksf_cpuhp_add(int state, struct hlist_node *node);
void ksf_cpuhp_remove(int state, struct hlist_node *node);
void ksf_cpuhp_teardown(int state);
int ksf_task_bind(struct task_struct *p, int cpu);
int ksf_task_bound_cpu(struct task_struct *p);
bool ksf_warn(bool cond, const char *msg);
struct dentry *ksf_debugfs_create(const char *dir, const char *file, void *entry);
void ksf_debugfs_remove(struct dentry *d);
struct workqueue_struct *ksf_wq_alloc(const char *name);
void ksf_wq_destroy(struct workqueue_struct *wq);
void ksf_work_init(struct work_struct *work, work_func_t fn);
bool ksf_queue_work_on(int cpu, struct workqueue_struct *wq, struct work_struct *work);

/* smc.c */
int ksf_sock_accept_file(struct socket *lsock, struct socket **newsock,
			 struct file **newfile);
struct socket *ksf_sock_traffic(struct socket *sock, struct file *file);
void ksf_sock_release(struct socket *sock, struct file *file);
void ksf_sock_close_now(struct socket *sock);
int ksf_smc_mode(struct sock *sk, u32 *rsn);
bool ksf_smc_writeable(const struct sock *sk);

#endif /* KSF_HELPERS_H */
