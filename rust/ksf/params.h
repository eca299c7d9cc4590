/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Module parameters for ksf modules. Linux 6.12 cannot declare module
 * parameters from Rust, so each module lists its own in a small C file
 * that includes this header (samples/krpc2/params.c):
 *
 *	KSF_SERVICE_PARAMS(60007);
 *	KSF_PARAM_INT(max_record, 4096, "largest record in bytes");
 *	KSF_PARAMS(KSF_SERVICE_P, KSF_P(max_record));
 *
 * They appear under /sys/module/<name>/parameters/ (read only) and in
 * modinfo; rust/ksf/params.rs reads them by name.
 */
#ifndef KSF_PARAMS_H
#define KSF_PARAMS_H

#include <linux/moduleparam.h>
#include <linux/stringify.h>

struct ksf_param {
	const char *name;
	const int *value;	/* an int parameter, or NULL */
	char *const *str;	/* a string (charp) parameter, or NULL */
	const unsigned long *ulong;	/* an unsigned long parameter, or NULL */
};

#define KSF_PARAM_INT(name, def, desc)		\
	static int name = def;			\
	module_param(name, int, 0444);		\
	MODULE_PARM_DESC(name, desc)

#define KSF_PARAM_ULONG(name, def, desc)	\
	static unsigned long name = def;	\
	module_param(name, ulong, 0444);	\
	MODULE_PARM_DESC(name, desc)

#define KSF_PARAM_STR(name, def, desc)		\
	static char *name = def;		\
	module_param(name, charp, 0444);	\
	MODULE_PARM_DESC(name, desc)

#define KSF_P(name) { #name, &(name), NULL, NULL }
#define KSF_PS(name) { #name, NULL, &(name), NULL }
#define KSF_PU(name) { #name, NULL, NULL, &(name) }

#define KSF_PARAMS(...)						\
	const struct ksf_param ksf_params[] = { __VA_ARGS__, { NULL, NULL, NULL, NULL } }

/*
 * The parameters every service has (read by ksf::config::ServiceParams):
 * its address, its port and how it runs. List them with KSF_SERVICE_P.
 */
#define KSF_SERVICE_PARAMS(default_port)					\
	KSF_PARAM_STR(addr, "::",						\
		"address served: an IPv4 or IPv6 address "			\
		"(default ::, every address, IPv4 too)");			\
	KSF_PARAM_INT(port, default_port,					\
		"TCP and UDP port (1-65535, default " __stringify(default_port) ")"); \
	KSF_PARAM_INT(threads_min, 1,						\
		"worker threads kept per CPU (1-64, default 1)");		\
	KSF_PARAM_INT(threads_max, 8,						\
		"most worker threads per CPU (threads_min-64, default 8)");	\
	KSF_PARAM_INT(sndbuf, 0,						\
		"SO_SNDBUF of connections in bytes "				\
		"(0 = system default, else 4096-67108864)");			\
	KSF_PARAM_INT(rcvbuf, 0,						\
		"SO_RCVBUF of connections in bytes "				\
		"(0 = system default, else 4096-67108864)");			\
	KSF_PARAM_INT(max_conns, 0,						\
		"most TCP connections at once "					\
		"(1-1048576; default 0: one per 128 KiB of RAM, 64-65536)");	\
	KSF_PARAM_ULONG(mem_max, 0,						\
		"most bytes held for connections, sockets aside "		\
		"(65536 up; default 0: a 32nd of RAM)");			\
	KSF_PARAM_INT(idle_timeout, 360,					\
		"seconds without a request before a connection is closed "	\
		"(0 = never, else 1-86400, default 360)");			\
	KSF_PARAM_INT(request_timeout, 30,					\
		"seconds one request may take, reading it or sending its reply, " \
		"before the connection is closed (0 = never, else 1-86400, default 30)"); \
	KSF_PARAM_STR(backend, "pool",						\
		"what runs the tasks: pool (ksf's per-CPU kthreads, default) "	\
		"or wq (a per-CPU workqueue)");					\
	KSF_PARAM_STR(affinity, "upcall",					\
		"where a connection's task runs: upcall (the CPU of the socket callback, " \
		"default) or conn (a home CPU per connection, given in turn)"); \
	KSF_PARAM_STR(transport, "tcp",						\
		"how stream clients connect: tcp (default), both (one SMC "	\
		"listener: SMC-D for SMC clients in this OS, TCP for the others) " \
		"or smc (SMC-D only: connections that fall back are closed)")

#define KSF_SERVICE_P							\
	KSF_PS(addr), KSF_P(port), KSF_P(threads_min), KSF_P(threads_max), KSF_P(sndbuf), \
	KSF_P(rcvbuf), KSF_P(max_conns), KSF_PU(mem_max), KSF_P(idle_timeout), \
	KSF_P(request_timeout), KSF_PS(backend), KSF_PS(affinity), KSF_PS(transport)

#endif /* KSF_PARAMS_H */
