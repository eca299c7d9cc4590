// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers for the KUnit cases only (linked into ksf_test.ko, declared in
 * rust/ksf/tests/mod.rs): what a test needs of the calling thread.
 */

#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/net.h>
#include <linux/tcp.h>
#include <net/sock.h>

#include "helpers.h"

/* Make a signal pending on the calling kernel thread (as rmmod may have). */
void ksf_test_signal_self(void)
{
	allow_signal(SIGUSR1);
	send_sig(SIGUSR1, current, 1);
}

bool ksf_test_signal_pending(void)
{
	return signal_pending(current);
}

void ksf_test_flush_signals(void)
{
	flush_signals(current);
	disallow_signal(SIGUSR1);
}

/* CPU time of the calling thread in nanoseconds, up to its last tick or switch. */
u64 ksf_test_cpu_ns(void)
{
	return current->se.sum_exec_runtime;
}

/* Make a close of @sock reset the connection (SO_LINGER with 0 s). */
void ksf_test_sock_no_linger(struct socket *sock)
{
	sock_no_linger(sock->sk);
}

/*
 * Make @sock's SYN offer SMC (the TCP option SMC's own sockets send), as a
 * client that then never sends SMC's proposal: an SMC listener's handshake
 * worker waits for it.
 */
void ksf_test_sock_offer_smc(struct socket *sock)
{
#if IS_ENABLED(CONFIG_SMC)
	tcp_sk(sock->sk)->syn_smc = 1;
#endif
}

/* The calling thread's scheduling policy (SCHED_NORMAL, SCHED_BATCH...). */
unsigned int ksf_test_policy(void)
{
	return current->policy;
}
