/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Module parameters for ksf modules. Linux 6.12 cannot declare module
 * parameters from Rust, so each module lists its own in a small C file:
 *
 *	#include "../../rust/ksf/params.h"
 *	KSF_PARAM_INT(port, 60007, "TCP and UDP port (1-65535)");
 *	KSF_PARAMS(KSF_P(port));
 *
 * They appear under /sys/module/<name>/parameters/ (read only) and in
 * modinfo; rust/ksf/params.rs reads them by name.
 */
#ifndef KSF_PARAMS_H
#define KSF_PARAMS_H

#include <linux/moduleparam.h>

struct ksf_param {
	const char *name;
	const int *value;
};

#define KSF_PARAM_INT(name, def, desc)		\
	static int name = def;			\
	module_param(name, int, 0444);		\
	MODULE_PARM_DESC(name, desc)

#define KSF_P(name) { #name, &name }

#define KSF_PARAMS(...)						\
	const struct ksf_param ksf_params[] = { __VA_ARGS__, { NULL, NULL } }

#endif /* KSF_PARAMS_H */
