/* SPDX-License-Identifier: GPL-2.0 */
/* Prototypes of tests/helpers.c, declared in Rust by rust/ksf/tests/mod.rs. */
#ifndef KSF_TESTS_HELPERS_H
#define KSF_TESTS_HELPERS_H

#include <linux/types.h>

void ksf_test_signal_self(void);
bool ksf_test_signal_pending(void);
void ksf_test_flush_signals(void);
u64 ksf_test_cpu_ns(void);
unsigned int ksf_test_policy(void);
struct socket;
void ksf_test_sock_no_linger(struct socket *sock);
void ksf_test_sock_offer_smc(struct socket *sock);

#endif /* KSF_TESTS_HELPERS_H */
