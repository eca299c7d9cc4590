// SPDX-License-Identifier: GPL-2.0
/*
 * ksf's SMC helpers (rust/ksf/socket.rs, upcall.rs): what a kernel user of
 * AF_SMC sockets needs that Linux 6.12 has no API for. helpers.c includes
 * this file; Documentation/notes/smc.md says why each helper exists.
 *
 * The SMC state (fallback, link group type, send space) lives in the
 * private headers of net/smc, which the modules' Kbuild puts on the
 * include path (-I$(srctree)/net/smc): this file must be built against the
 * source tree of the kernel it runs on, as every module is.
 */

#include <linux/file.h>
#include <linux/delay.h>
#include <linux/jiffies.h>

#if IS_ENABLED(CONFIG_SMC)
#include "smc.h"
#include "smc_core.h"
#endif

/* How a socket carries its data (`socket::SmcMode`). */
#define KSF_SMC_NONE		0	/* not an SMC socket */
#define KSF_SMC_D		1	/* SMC-D: shared memory (loopback-ism) */
#define KSF_SMC_R		2	/* SMC-R: RDMA */
#define KSF_SMC_FALLBACK	3	/* SMC fell back to its TCP socket */
#define KSF_SMC_PENDING		4	/* SMC, not connected yet */

/* How long the release of an SMC listener waits for its handshakes. */
#define KSF_SMC_LISTEN_DRAIN_MS	15000

/*
 * Accept a connection on @lsock without waiting, as accept(2) does: the
 * new socket gets a file before ->accept() runs. kernel_accept() gives it
 * none, and SMC's accept then writes through the NULL file of every
 * connection that fell back (smc_accept_dequeue(), net/smc/af_smc.c). The
 * new socket must be released with ksf_sock_release(sock, file).
 */
int ksf_sock_accept_file(struct socket *lsock, struct socket **newsock,
			 struct file **newfile)
{
	const struct proto_ops *ops = READ_ONCE(lsock->ops);
	struct proto_accept_arg arg = { .flags = O_NONBLOCK, .kern = true };
	struct sock *lsk = lsock->sk;
	struct socket *sock;
	struct file *file;
	int err;

	err = sock_create_lite(lsk->sk_family, lsk->sk_type, lsk->sk_protocol, &sock);
	if (err)
		return err;
	sock->ops = ops;
	/* The listener holds the protocol's module (as in do_accept()). */
	__module_get(ops->owner);
	/* On failure this releases @sock. */
	file = sock_alloc_file(sock, 0, NULL);
	if (IS_ERR(file))
		return PTR_ERR(file);
	err = ops->accept(lsock, sock, &arg);
	if (err < 0) {
		__fput_sync(file);
		return err;
	}
	*newsock = sock;
	*newfile = file;
	return 0;
}

/*
 * The socket that carries @sock's traffic, and gets its events: @sock
 * itself, or the internal TCP socket an SMC socket accepted with a file
 * fell back to (smc_accept_dequeue() points the file there).
 */
struct socket *ksf_sock_traffic(struct socket *sock, struct file *file)
{
	return file ? file->private_data : sock;
}

/*
 * Release @sock (and its @file, if it has one) now, from any process
 * context: __fput_sync(), as fput() from a kthread would leave the release
 * to a later work item.
 *
 * An SMC listener's handshake workers hold a reference to its sock, and
 * the last one calls its sk_data_ready() without a lock after the release
 * (smc_listen_out()): the release waits until they are done (at most
 * KSF_SMC_LISTEN_DRAIN_MS; then it warns and leaves the sock), so that no
 * such call can run into a module that is gone.
 */
void ksf_sock_release(struct socket *sock, struct file *file)
{
	struct sock *sk = sock->sk;
	unsigned long end;

	if (file) {
		__fput_sync(file);
		return;
	}
	if (!sk || sk->sk_family != PF_SMC || READ_ONCE(sk->sk_state) != TCP_LISTEN) {
		sock_release(sock);
		return;
	}
	sock_hold(sk);
	sock_release(sock);
	end = jiffies + msecs_to_jiffies(KSF_SMC_LISTEN_DRAIN_MS);
	while (refcount_read(&sk->sk_refcnt) > 1) {
		if (time_after(jiffies, end)) {
			pr_warn("ksf: SMC listener handshakes still running after %d ms; leaving its sock\n",
				KSF_SMC_LISTEN_DRAIN_MS);
			return;
		}
		msleep(20);
	}
	sock_put(sk);
}

/*
 * Close an SMC connection at once on release, without waiting up to 2 s
 * for the peer to take what is still queued (smc_close_active()): for
 * connections closed by a timeout, eviction or shutdown. TCP sockets keep
 * their orderly close.
 */
void ksf_sock_close_now(struct socket *sock)
{
	if (sock->sk && sock->sk->sk_family == PF_SMC)
		sock_no_linger(sock->sk);
}

#if IS_ENABLED(CONFIG_SMC)

/* How @sk carries its data (KSF_SMC_*); @rsn: the fallback reason. */
int ksf_smc_mode(struct sock *sk, u32 *rsn)
{
	struct smc_sock *smc;
	struct smc_link_group *lgr;

	*rsn = 0;
	if (sk->sk_family != PF_SMC)
		return KSF_SMC_NONE;
	smc = smc_sk(sk);
	if (READ_ONCE(smc->use_fallback)) {
		*rsn = READ_ONCE(smc->fallback_rsn);
		return KSF_SMC_FALLBACK;
	}
	lgr = READ_ONCE(smc->conn.lgr);
	if (!lgr)
		return KSF_SMC_PENDING;
	return lgr->is_smcd ? KSF_SMC_D : KSF_SMC_R;
}

/*
 * Whether a send on SMC sock @sk would make progress. SMC keeps its send
 * space in the connection, not in sk_wmem_queued, so the generic stream
 * test is always true on it (as smc_poll() tells EPOLLOUT).
 */
bool ksf_smc_writeable(const struct sock *sk)
{
	const struct smc_sock *smc = smc_sk(sk);

	return atomic_read(&smc->conn.sndbuf_space) > 0 && !READ_ONCE(smc->conn.urg_tx_pend);
}

#else /* !CONFIG_SMC */

int ksf_smc_mode(struct sock *sk, u32 *rsn)
{
	*rsn = 0;
	return KSF_SMC_NONE;
}

bool ksf_smc_writeable(const struct sock *sk)
{
	return true;
}

#endif /* CONFIG_SMC */
